#include "compat.h"
#include "merge-commit.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"

/*
 * "Gates: ..." from the convergence report (git ws-converge writes one
 * "PASS|FAIL|SKIP  <gate>  <detail>" line per gate): "9 passed, 1 skipped
 * (todo)"; else its first line.
 */
static void gates_summary(const struct ws_repo *r, const char *id,
			  struct strbuf *out)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	static const char *const said[] = { "passed", "failed", "skipped" };
	char *path = ws_path(r, "reports/%s", id);
	char *buf = NULL, *line, *save = NULL;
	struct strvec names[3] = { STRVEC_INIT, STRVEC_INIT, STRVEC_INIT };
	const char *first = NULL;
	size_t k;
	int any = 0;

	if (read_file(path, &buf, NULL) < 0) {
		strbuf_addstr(out, "no convergence report");
		free(path);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!first)
			first = line;
		for (k = 0; k < 3; k++) {
			const char *p = line + 4;
			size_t n;

			if (strncmp(line, word[k], 4) || (*p != ' ' && *p != '\t'))
				continue;
			p += strspn(p, " \t");
			n = strcspn(p, " \t");
			if (n)
				strvec_pushf(&names[k], "%.*s", (int)n, p);
		}
	}
	for (k = 0; k < 3; k++) {
		if (!names[k].nr)
			continue;
		strbuf_addf(out, "%s%zu %s", any++ ? ", " : "", names[k].nr, said[k]);
		if (k) {
			strbuf_addstr(out, " (");
			strvec_join(out, &names[k], ", ");
			strbuf_addch(out, ')');
		}
	}
	if (!any && first)
		strbuf_add_sanitized(out, first);
	else if (!any)
		strbuf_addstr(out, "empty convergence report");
	for (k = 0; k < 3; k++)
		strvec_clear(&names[k]);
	free(buf);
	free(path);
}

void ws_merge_commit_message(const struct ws_repo *r,
			     const struct ws_merge_commit *mc,
			     struct strbuf *msg)
{
	const struct plan_workstream *w = &mc->plan->ws[mc->i];

	strbuf_addf(msg, "Merge %s: ", w->id);
	strbuf_add_sanitized(msg, w->title);
	strbuf_addf(msg, "\n\nImplements %s of plan ", w->id);
	strbuf_add_sanitized(msg, mc->plan->name);
	strbuf_addstr(msg, ".\nContracts: ");
	if (w->contract.nr)
		strvec_join(msg, &w->contract, ", ");
	else
		strbuf_addstr(msg, "none");
	if (mc->owners->nr) {
		strbuf_addstr(msg, "; conflicts resolved for the owner: ");
		strvec_join(msg, mc->owners, ", ");
	}
	strbuf_addf(msg, "\nDependencies: %s\nGates: ",
		    *mc->deps ? mc->deps : "none");
	gates_summary(r, w->id, msg);
	if (mc->untested)
		strbuf_addstr(msg, "; merge result not tested (--no-verify)");
	strbuf_addstr(msg, "\nNext: ");
	if (mc->next->nr) {
		strvec_join(msg, mc->next, ", ");
		strbuf_addf(msg, " can now proceed\n");
	} else {
		strbuf_addstr(msg, "nothing waits for this\n");
	}
}

/* A signature from `git var GIT_<who>_IDENT`: config and environment, as git merge. */
static git_signature *ident(const struct ws_repo *r, const char *who)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	git_signature *sig = NULL;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(r->repo));
	strvec_push(&cp.args, "var");
	strvec_pushf(&cp.args, "GIT_%s_IDENT", who);
	if (capture_command(&cp, &out, &err)) {
		strbuf_rtrim(&err);
		error("cannot tell who you are: %s", err.buf);
		advise("set your name and email with 'git config --global user.name ...' and\n"
		       "'git config --global user.email ...'");
		exit(WS_EXIT_FATAL);
	}
	strbuf_rtrim(&out);
	if (git_signature_from_buffer(&sig, out.buf) < 0)
		die_git("cannot parse the identity '%s'", out.buf);
	strbuf_release(&out);
	strbuf_release(&err);
	return sig;
}

void ws_merge_commit_create(const struct ws_repo *r,
			    const struct ws_merge_commit *mc, git_oid *out)
{
	git_signature *author = ident(r, "AUTHOR"), *committer = ident(r, "COMMITTER");
	git_commit *p1 = NULL, *p2 = NULL;
	git_tree *tree = NULL;
	struct strbuf msg = STRBUF_INIT;

	ws_merge_commit_message(r, mc, &msg);
	if (git_commit_lookup(&p1, r->repo, &mc->base_tip) < 0 ||
	    git_commit_lookup(&p2, r->repo, &mc->branch_tip) < 0 ||
	    git_tree_lookup(&tree, r->repo, &mc->tree) < 0)
		die_git("cannot read the merge's commits");
	if (git_commit_create_v(out, r->repo, NULL, author, committer,
				NULL, msg.buf, tree, 2, p1, p2) < 0)
		die_git("cannot create the merge commit of '%s'",
			mc->plan->ws[mc->i].id);
	git_tree_free(tree);
	git_commit_free(p1);
	git_commit_free(p2);
	git_signature_free(author);
	git_signature_free(committer);
	strbuf_release(&msg);
}

git_signature *ws_merge_ident(const struct ws_repo *r, const char *who)
{
	return ident(r, who);
}
