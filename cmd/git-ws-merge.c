/*
 * git ws-merge: the local merge queue. Each queued workstream, dependencies
 * first, is merged into the base branch as `git merge --no-ff` would
 * merge it, the exact result is tested in a scratch worktree, and only
 * then is the base moved, by compare-and-swap.
 */
#include "compat.h"
#include "archive.h"
#include "lockfile.h"
#include "changed-paths.h"
#include "contracts.h"
#include "merge-history.h"
#include "mergetree.h"
#include "parse-options.h"
#include "plan.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"

static const char * const merge_usage[] = {
	"git ws-merge [-n | --dry-run] [--no-verify] [--push[=<remote>]] [--porcelain] [<id>...]",
	NULL
};

/* How often a merge starts over because the base moved under it. */
#define MAX_TRIES 5

enum outcome {
	MERGED,
	CONFLICT,
	TESTS_FAILED,
	SKIPPED,   /* waiting for a dependency, or no longer queued */
	REFUSED,   /* the base's worktree has changes the merge would touch */
	FAILED,    /* an error; the workstream stays queued */
};

static const char *const outcome_name[] = {
	"merged", "conflict", "tests-failed", "skipped", "refused", "error",
};

struct merge_ctx {
	struct ws_repo repo;
	struct plan plan;
	struct ws_state st;
	const char *base;
	int dry_run, no_verify, porcelain;
	const char *push;
	int *done_in_run;   /* per plan index: 1 merged, -1 did not merge */
	struct strvec stop; /* base-oids the plan was allocated on */
	int lock_fd;        /* merge.lock, -1 when not held (-n) */
};

/* What one merge needs to know, read from the state under its lock. */
struct ws_merge_job {
	size_t i;
	char *branch;
	struct strvec ours_owns;   /* contracts of merged workstreams */
	struct strvec ours_owner;  /* ours_owner.v[k] owns ours_owns.v[k] */
	struct strvec next;        /* dependents this merge unblocks */
	struct strbuf deps;        /* "ws-1 (abc1234), ws-2 (...)" */
	git_oid base_tip, branch_tip, commit;
	struct ws_merge_result res;
	struct strvec owners_note; /* "path (owned by ws-1: kept from ...)" */
};
#define JOB_INIT(idx) { (idx), NULL, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, \
			STRBUF_INIT, { { 0 } }, { { 0 } }, { { 0 } }, \
			WS_MERGE_RESULT_INIT, STRVEC_INIT }

static void job_release(struct ws_merge_job *j)
{
	free(j->branch);
	strvec_clear(&j->ours_owns);
	strvec_clear(&j->ours_owner);
	strvec_clear(&j->next);
	strbuf_release(&j->deps);
	ws_merge_result_release(&j->res);
	strvec_clear(&j->owners_note);
}

static const char *id_of(struct merge_ctx *c, size_t i)
{
	return c->plan.ws[i].id;
}

/* Lock and re-read the state (the last read is dropped). */
static void state_lock(struct merge_ctx *c)
{
	ws_state_release(&c->st);
	ws_state_lock_repo(&c->st, &c->repo);
}

static void state_commit(struct merge_ctx *c)
{
	ws_state_commit_or_die(&c->st);
}

/* Read the state without locking (for -n and the ordering). */
static void state_read(struct merge_ctx *c)
{
	struct strbuf err = STRBUF_INIT;

	ws_state_release(&c->st);
	if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
}

/* The porcelain line of an outcome: "<outcome>\t<id>\t<oid>\t<detail>". */
static void porcelain_line(struct merge_ctx *c, enum outcome o, size_t i,
			   const char *hex, const char *detail,
			   struct strbuf *sb)
{
	strbuf_addf(sb, "%s\t%s\t%s\t", outcome_name[o], id_of(c, i), hex);
	strbuf_add_sanitized(sb, detail ? detail : "");
}

/* The human lines of an outcome, each sanitized; the newlines are ours. */
static void human_lines(const char *human, struct strbuf *sb)
{
	const char *p = human, *nl;

	while ((nl = strchr(p, '\n'))) {
		char *line = xstrndup(p, nl - p);

		strbuf_add_sanitized(sb, line);
		strbuf_addch(sb, '\n');
		free(line);
		p = nl + 1;
	}
	strbuf_add_sanitized(sb, p);
}

/*
 * Print what came of ws[i], on stdout as it happens: with --porcelain
 * its line (oid, when not NULL, and detail as the last fields), else the
 * human text, if any (none when an error said it already).
 */
static void report(struct merge_ctx *c, enum outcome o, size_t i,
		   const git_oid *oid, const char *detail, const char *human)
{
	char hex[GIT_OID_HEXSZ + 1] = "";
	struct strbuf sb = STRBUF_INIT;

	if (oid)
		ws_oid_hex(oid, hex);
	if (c->porcelain)
		porcelain_line(c, o, i, hex, detail, &sb);
	else if (human && *human)
		human_lines(human, &sb);
	else
		return;
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

/*
 * Mark in chosen[] the workstreams named on the command line; each must
 * be queued. Says why of each that is not, and sets *bad.
 */
static void check_named(struct merge_ctx *c, int argc, const char **argv,
			char *chosen, int *bad)
{
	int i;

	for (i = 0; i < argc; i++) {
		ssize_t x = plan_find(&c->plan, argv[i]);
		enum ws_status status;

		if (x < 0)
			die("'%s' is not a workstream of plan '%s'", argv[i],
			    c->plan.name);
		if (ws_queue_contains(&c->st, argv[i])) {
			chosen[x] = 1;
			continue;
		}
		status = ws_state_status(&c->st, argv[i]);
		error("'%s' is not in the merge queue (status: %s)", argv[i],
		      ws_status_name(status) ?: "none");
		if (!ws_status_is_finished(status))
			advise("a workstream enters the queue when 'git ws-converge %s' passes",
			       argv[i]);
		*bad = 1;
	}
}

/*
 * The plan indices of the queued workstreams (only those in chosen[]
 * when it is not NULL), in queue order, each once, into sel[]. Returns
 * how many.
 */
static size_t queued(struct merge_ctx *c, const char *chosen, size_t *sel)
{
	char *seen = xcalloc(c->plan.nr + 1, 1);
	size_t q, n = 0;

	for (q = 0; q < ws_queue_nr(&c->st); q++) {
		const char *id = ws_queue_item(&c->st, q);
		ssize_t x = plan_find(&c->plan, id);

		if (x < 0) {
			warning("queued workstream '%s' is not in plan '%s'; ignoring it",
				id, c->plan.name);
			continue;
		}
		if ((chosen && !chosen[x]) || seen[x])
			continue;
		seen[x] = 1;
		sel[n++] = x;
	}
	free(seen);
	return n;
}

/*
 * The workstreams to merge, in merge order: the queue (or the ids given,
 * which must be queued), dependencies first, then queue order (first
 * converged, first merged).
 */
static void merge_order(struct merge_ctx *c, int argc, const char **argv,
			size_t **order, size_t *nr, int *bad)
{
	char *chosen = xcalloc(c->plan.nr + 1, 1);
	size_t *sel = xcalloc(c->plan.nr + 1, sizeof(*sel));

	check_named(c, argc, argv, chosen, bad);
	*nr = queued(c, argc ? chosen : NULL, sel);
	*order = xcalloc(*nr + 1, sizeof(**order));
	if (graph_topo_order_subset(&c->plan.graph, sel, *nr, *order, NULL, NULL))
		BUG("the plan's graph has a cycle");
	free(sel);
	free(chosen);
}

/* The dependencies of ws[i] that are not merged, or NULL (caller frees). */
static char *unmerged_deps(struct merge_ctx *c, size_t i)
{
	const struct plan_workstream *w = &c->plan.ws[i];
	struct strbuf sb = STRBUF_INIT;
	size_t j;

	for (j = 0; j < w->dep_nr; j++) {
		size_t d = w->dep_idx[j];
		enum ws_status status = ws_state_status(&c->st, id_of(c, d));

		if (ws_is_merged(&c->st, id_of(c, d)) && c->done_in_run[d] >= 0)
			continue;
		strbuf_addf(&sb, "%s%s (%s)", sb.len ? ", " : "", id_of(c, d),
			    c->done_in_run[d] < 0 ? "did not merge in this run" :
			    ws_status_name(status) ?: "not started");
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* Fill the job from the state (the caller holds the state, locked or not). */
static void job_from_state(struct merge_ctx *c, struct ws_merge_job *j)
{
	const struct plan_workstream *w = &c->plan.ws[j->i];
	const char *branch = ws_state_get(&c->st, w->id, WS_KEY_BRANCH);
	size_t k, m;

	free(j->branch);
	j->branch = xstrdup(branch ? branch : w->branch);
	strvec_clear(&j->ours_owns);
	strvec_clear(&j->ours_owner);
	strvec_clear(&j->next);
	strbuf_reset(&j->deps);
	ws_merged_contracts(&c->plan, &c->st, j->i, &j->ours_owns, &j->ours_owner);
	for (k = 0; k < w->dep_nr; k++) {
		const char *d = id_of(c, w->dep_idx[k]);
		const char *oid = ws_state_get(&c->st, d, WS_KEY_MERGE_OID);

		strbuf_addf(&j->deps, "%s%s", k ? ", " : "", d);
		if (oid)
			strbuf_addf(&j->deps, " (merged as %.7s)", oid);
	}
	/* dependents whose other dependencies are all merged */
	for (k = 0; k < c->plan.nr; k++) {
		const struct plan_workstream *o = &c->plan.ws[k];
		int depends = 0, others = 1;

		for (m = 0; m < o->dep_nr; m++) {
			size_t d = o->dep_idx[m];

			if (d == j->i)
				depends = 1;
			else if (!ws_is_merged(&c->st, id_of(c, d)))
				others = 0;
		}
		if (depends && others)
			strvec_push(&j->next, o->id);
	}
}

/* Who owns each path the merge resolved by contract, for the message. */
static void note_owners(struct merge_ctx *c, struct ws_merge_job *j)
{
	const struct plan_workstream *w = &c->plan.ws[j->i];
	size_t k, m;

	strvec_clear(&j->owners_note);
	for (k = 0; k < j->res.resolved.nr; k++) {
		const char *path = j->res.resolved.v[k];
		const char *owner = NULL;

		if (ws_merge_owns(&w->contract, path)) {
			strvec_pushf(&j->owners_note, "%s (owned by %s: kept from %s)",
				     path, w->id, j->branch);
			continue;
		}
		for (m = 0; m < j->ours_owns.nr && !owner; m++) {
			struct strvec one = STRVEC_INIT;

			strvec_push(&one, j->ours_owns.v[m]);
			if (ws_merge_owns(&one, path))
				owner = j->ours_owner.v[m];
			strvec_clear(&one);
		}
		strvec_pushf(&j->owners_note, "%s (owned by %s: kept from %s)",
			     path, owner ? owner : "a merged workstream", c->base);
	}
}

/*
 * "Gates: ..." from the convergence report (git ws-converge writes one
 * "PASS|FAIL|SKIP  <gate>  <detail>" line per gate): "9 passed, 1 skipped
 * (todo)"; else its first line.
 */
static void gates_summary(struct merge_ctx *c, size_t i, struct strbuf *out)
{
	static const char *const word[] = { "PASS", "FAIL", "SKIP" };
	static const char *const said[] = { "passed", "failed", "skipped" };
	char *path = ws_path(&c->repo, "reports/%s", id_of(c, i));
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

static void merge_message(struct merge_ctx *c, struct ws_merge_job *j,
			  struct strbuf *msg)
{
	const struct plan_workstream *w = &c->plan.ws[j->i];

	strbuf_addf(msg, "Merge %s: ", w->id);
	strbuf_add_sanitized(msg, w->title);
	strbuf_addf(msg, "\n\nImplements %s of plan ", w->id);
	strbuf_add_sanitized(msg, c->plan.name);
	strbuf_addstr(msg, ".\nContracts: ");
	if (w->contract.nr)
		strvec_join(msg, &w->contract, ", ");
	else
		strbuf_addstr(msg, "none");
	if (j->owners_note.nr) {
		strbuf_addstr(msg, "; conflicts resolved for the owner: ");
		strvec_join(msg, &j->owners_note, ", ");
	}
	strbuf_addf(msg, "\nDependencies: %s\nGates: ",
		    j->deps.len ? j->deps.buf : "none");
	gates_summary(c, j->i, msg);
	if (c->no_verify)
		strbuf_addstr(msg, "; merge result not tested (--no-verify)");
	strbuf_addstr(msg, "\nNext: ");
	if (j->next.nr) {
		strvec_join(msg, &j->next, ", ");
		strbuf_addf(msg, " can now proceed\n");
	} else {
		strbuf_addstr(msg, "nothing waits for this\n");
	}
}

/* A signature from `git var GIT_<who>_IDENT`: config and environment, as git merge. */
static git_signature *ident(struct merge_ctx *c, const char *who)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	git_signature *sig = NULL;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(c->repo.repo));
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

static void create_merge_commit(struct merge_ctx *c, struct ws_merge_job *j)
{
	git_signature *author = ident(c, "AUTHOR"), *committer = ident(c, "COMMITTER");
	git_commit *p1 = NULL, *p2 = NULL;
	git_tree *tree = NULL;
	struct strbuf msg = STRBUF_INIT;

	note_owners(c, j);
	merge_message(c, j, &msg);
	if (git_commit_lookup(&p1, c->repo.repo, &j->base_tip) < 0 ||
	    git_commit_lookup(&p2, c->repo.repo, &j->branch_tip) < 0 ||
	    git_tree_lookup(&tree, c->repo.repo, &j->res.tree) < 0)
		die_git("cannot read the merge's commits");
	if (git_commit_create_v(&j->commit, c->repo.repo, NULL, author, committer,
				NULL, msg.buf, tree, 2, p1, p2) < 0)
		die_git("cannot create the merge commit of '%s'", id_of(c, j->i));
	git_tree_free(tree);
	git_commit_free(p1);
	git_commit_free(p2);
	git_signature_free(author);
	git_signature_free(committer);
	strbuf_release(&msg);
}

/*
 * Refuse when a worktree with the base checked out has uncommitted
 * changes in paths the merge changes. Returns 0 when it may go on.
 */
static int check_base_worktrees(struct merge_ctx *c, struct ws_merge_job *j,
				const struct strvec *wts)
{
	struct strvec touched = STRVEC_INIT;
	size_t k;
	int ret = 0;

	if (!wts->nr)
		return 0;
	if (ws_tree_changed_paths(&c->repo, &j->base_tip, &j->res.tree, &touched) < 0)
		return -1;
	for (k = 0; k < wts->nr && !ret; k++) {
		struct strvec dirty = STRVEC_INIT, both = STRVEC_INIT;
		struct strbuf list = STRBUF_INIT;

		if (ws_worktree_changed_paths(wts->v[k], &dirty) < 0) {
			ret = -1;
		} else if (ws_paths_intersect(&dirty, &touched, &both)) {
			strvec_join(&list, &both, ", ");
			error("'%s' is checked out in '%s', which has uncommitted changes that the merge of '%s' would overwrite: %s",
			      c->base, wts->v[k], id_of(c, j->i), list.buf);
			advise("commit or stash them there, then run 'git ws-merge' again");
			report(c, REFUSED, j->i, NULL, list.buf, "");
			ret = -1;
		}
		strvec_clear(&dirty);
		strvec_clear(&both);
		strbuf_release(&list);
	}
	strvec_clear(&touched);
	return ret;
}

/*
 * Run a git command that must not stop half way in a process group of
 * its own: git worktree add and git read-tree -u, stopped, leave a
 * worktree half made or half updated. A kill of git ws-merge's group
 * (Ctrl-C, a supervisor giving up) then lets git finish. A keeper process
 * holds merge.lock to the command's end (child_process.hold_fd), so that
 * a git ws-merge run meanwhile waits for it instead of finding its work
 * half done; git, its hooks and the daemons it may start never get the
 * lock. Returns what run_command() returns.
 */
static int run_to_the_end(struct merge_ctx *c, struct child_process *cp)
{
	cp->new_pgrp = 1;
	cp->hold_fd = c->lock_fd;
	return run_command(cp);
}

/*
 * Check out `commit` in the scratch worktree at `path`, under .git/ws/
 * (ws_path(..., "scratch")), making it when needed.
 */
static int prepare_scratch(struct merge_ctx *c, const char *path,
			   const char *hex)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *dotgit = xstrfmt("%s/.git", path);
	char *admin = ws_unfinished_worktree_admin(&c->repo, path);
	int ret;

	if (admin) {
		warning("the scratch worktree '%s' was left half-made by an interrupted 'git worktree add'; making it again",
			path);
		/* the worktree first: its admin directory is how we know it is ours */
		if (remove_dir_recursively(path) < 0) {
			ret = error_errno("cannot remove the half-made scratch worktree '%s'",
					  path);
			goto out;
		}
		if (remove_dir_recursively(admin) < 0) {
			ret = error_errno("cannot remove '%s', the admin directory of the half-made scratch worktree",
					  admin);
			goto out;
		}
	}
	if (path_exists(dotgit)) {
		ws_git_in(&cp, path);
		cp.no_stdin = 1;
		strvec_pushv(&cp.args, (const char *[]){ "checkout", "--quiet",
			     "--detach", "--force", hex, NULL });
		ret = run_command(&cp);
		if (!ret) {
			cp = (struct child_process)CHILD_PROCESS_INIT;
			ws_git_in(&cp, path);
			cp.no_stdin = 1;
			strvec_pushv(&cp.args, (const char *[]){ "clean", "-q",
				     "-fdx", NULL });
			ret = run_command(&cp);
		}
		if (!ret)
			goto out;
		warning("the scratch worktree '%s' is broken; making it again", path);
		cp = (struct child_process)CHILD_PROCESS_INIT;
		cp.git_cmd = 1;
		cp.no_stdin = 1;
		cp.no_stderr = 1;
		strvec_pushf(&cp.args, "--git-dir=%s", c->repo.commondir);
		strvec_pushv(&cp.args, (const char *[]){ "worktree", "remove",
			     "--force", "--force", path, NULL });
		run_command(&cp);
	}
	if (path_exists(path)) {
		ret = error("'%s' is in the way of git ws-merge's scratch worktree", path);
		advise("remove it; git ws-merge makes it again");
		goto out;
	}
	cp = (struct child_process)CHILD_PROCESS_INIT;
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", c->repo.commondir);
	strvec_pushv(&cp.args, (const char *[]){ "worktree", "prune", NULL });
	run_command(&cp);
	cp = (struct child_process)CHILD_PROCESS_INIT;
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", c->repo.commondir);
	strvec_pushv(&cp.args, (const char *[]){ "worktree", "add", "--quiet",
		     "--detach", path, hex, NULL });
	ret = run_to_the_end(c, &cp) ?
		error("cannot create the scratch worktree '%s'", path) : 0;
out:
	free(admin);
	free(dotgit);
	return ret;
}

/*
 * Run the test command on the merge commit in the scratch worktree.
 * Returns 0 when it passes, 1 when it fails, -1 on error.
 */
static int test_merge(struct merge_ctx *c, struct ws_merge_job *j,
		      const char *log)
{
	const struct plan_workstream *w = &c->plan.ws[j->i];
	struct child_process cp = CHILD_PROCESS_INIT;
	char *scratch = ws_path(&c->repo, "scratch");
	char hex[GIT_OID_HEXSZ + 1];
	int fd = -1, code, timed_out = 0, ret = -1;

	if (!w->test || !*w->test) {
		ret = 0;
		goto out;
	}
	if (prepare_scratch(c, scratch, ws_oid_hex(&j->commit, hex)) < 0)
		goto out;
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		error_errno("cannot open '%s'", log);
		goto out;
	}
	if (!c->porcelain && isatty(2))
		fprintf(stderr, "Testing the merge of %s into %s (%.7s)...\n",
			w->id, c->base, hex);
	strvec_push(&cp.args, w->test);
	cp.use_shell = 1;
	cp.dir = scratch;
	cp.no_stdin = 1;
	cp.out = fd;
	cp.err = fd;
	fd = -1; /* start_command() owns it now */
	cp.new_pgrp = 1;
	ws_push_env(&c->repo, &c->plan, j->i, j->branch, scratch, &cp.env);
	strvec_pushf(&cp.env, "WS_MERGE_OID=%s", hex);
	strvec_pushf(&cp.env, "WS_LOG=%s", log);
	if (start_command(&cp) < 0)
		goto out;
	code = finish_command_timeout(&cp, w->timeout * 1000, 5000, &timed_out);
	if (timed_out)
		warning("the tests of the merge of '%s' timed out after %lds",
			w->id, w->timeout);
	ret = code ? 1 : 0;
out:
	if (fd >= 0)
		close(fd);
	free(scratch);
	return ret;
}

/* `git read-tree -m -u <old> <new>` in the worktree `wt`, to its end. */
static int read_tree(struct merge_ctx *c, const char *wt, const char *old,
		     const char *new)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, wt);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "read-tree", "-m", "-u",
		     old, new, NULL });
	return run_to_the_end(c, &cp);
}

/* The hint after a worktree did not follow the base from old to new. */
static void advise_read_tree(const char *wt, const char *old, const char *new)
{
	advise("its index and files are those of %.7s, so that 'git status' there shows\n"
	       "the merge undone; to bring it along, run\n"
	       "  git -C '%s' read-tree -m -u %s %s\n"
	       "(it refuses to overwrite changes made there: put those aside first)",
	       old, wt, old, new);
}

/* Make a worktree that has the base checked out follow it from old to new. */
static void follow(struct merge_ctx *c, const char *wt, const git_oid *old,
		   const git_oid *new)
{
	char o[GIT_OID_HEXSZ + 1], n[GIT_OID_HEXSZ + 1];

	if (read_tree(c, wt, ws_oid_hex(old, o), ws_oid_hex(new, n))) {
		error("'%s' moved to %.7s, but its worktree '%s' could not follow",
		      c->base, n, wt);
		advise_read_tree(wt, o, n);
	}
}

/*
 * The base moves by compare-and-swap first, and the worktrees that have
 * it checked out follow after (follow()). Killed in between, such a
 * worktree keeps the index and files of the old tip: git status there
 * shows the merge undone, and a `git commit -a` would undo it. So the
 * move is recorded in the workstream's section before the base moves:
 * follow-from and follow-to (the old and the new tip), and one
 * follow-worktree per worktree; record_merged() clears it once they
 * followed, and finish_follows() finishes what a killed run left.
 */
static void record_follow(struct merge_ctx *c, struct ws_merge_job *j,
			  const struct strvec *wts)
{
	const char *id = id_of(c, j->i);
	char hex[GIT_OID_HEXSZ + 1];
	struct cfg_section *s;
	size_t k;

	state_lock(c);
	ws_state_set(&c->st, id, "follow-from", ws_oid_hex(&j->base_tip, hex));
	ws_state_set(&c->st, id, "follow-to", ws_oid_hex(&j->commit, hex));
	ws_state_set(&c->st, id, "follow-worktree", NULL);
	s = ws_state_find(&c->st, id);
	for (k = 0; k < wts->nr; k++)
		cfg_add(s, "follow-worktree", wts->v[k]);
	state_commit(c);
}

/* Drop the record of record_follow() (the caller holds the state). */
static void clear_follow(struct merge_ctx *c, const char *id)
{
	if (!ws_state_get(&c->st, id, "follow-to") &&
	    !ws_state_get(&c->st, id, "follow-from") &&
	    !ws_state_get(&c->st, id, "follow-worktree"))
		return;
	ws_state_set(&c->st, id, "follow-from", NULL);
	ws_state_set(&c->st, id, "follow-to", NULL);
	ws_state_set(&c->st, id, "follow-worktree", NULL);
}

/* clear_follow() under the state lock, when the base did not move. */
static void drop_follow(struct merge_ctx *c, const char *id)
{
	state_lock(c);
	clear_follow(c, id);
	state_commit(c);
}

/*
 * The paths whose staged version in the worktree `wt` differs from the
 * one in `commit` (git diff-index --cached: the files themselves are not
 * looked at), appended to out. Returns 0, or -1 after printing an error.
 */
static int staged_changes(const char *wt, const char *commit,
			  struct strvec *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	size_t pos = 0;
	int ret = 0;

	ws_git_in(&cp, wt);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "diff-index", "--cached",
		     "--name-only", "--no-renames", "-z", commit, "--", NULL });
	if (capture_command(&cp, &buf, &err)) {
		strbuf_rtrim(&err);
		ret = error("cannot compare the index of '%s' with %.7s%s%s", wt,
			    commit, err.len ? ": " : "", err.buf);
	}
	while (!ret && pos < buf.len) {
		size_t n = strlen(buf.buf + pos);

		if (n)
			strvec_push(out, buf.buf + pos);
		pos += n + 1;
	}
	strbuf_release(&buf);
	strbuf_release(&err);
	return ret;
}

/*
 * Finish the follow of `wt` from `from` to `to` that a run killed while
 * merging `id` recorded. Only when the base did move to `to` and is
 * still there, `wt` still has it checked out, and its index still has
 * the version of `from` of every path the merge changes, does git
 * read-tree -m -u bring it along (it refuses, itself, to overwrite a
 * file changed since). A worktree that already followed is left alone;
 * any other is left alone with a warning that says what to run.
 */
static void finish_follow(struct merge_ctx *c, const char *id,
			  const git_oid *from, const git_oid *to, const char *wt)
{
	struct strvec wts = STRVEC_INIT, touched = STRVEC_INIT;
	struct strvec staged = STRVEC_INIT, both = STRVEC_INIT;
	char f[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1];
	git_oid tip;
	int moved_on;

	ws_oid_hex(from, f);
	ws_oid_hex(to, t);
	/* killed before the base moved, or the compare-and-swap failed */
	if (ws_branch_tip(&c->repo, c->base, &tip) < 0 ||
	    (!git_oid_equal(&tip, to) &&
	     git_graph_descendant_of(c->repo.repo, &tip, to) != 1))
		goto out;
	moved_on = !git_oid_equal(&tip, to);
	ws_branch_worktrees(&c->repo, c->base, &wts);
	if (strvec_find(&wts, wt) < 0) {
		warning("'%s' moved to %.7s (the merge of '%s'), but git ws-merge was interrupted before '%s' followed, and it no longer has '%s' checked out",
			c->base, t, id, wt, c->base);
		advise("its index and files may still be those of %.7s; look at 'git status' there",
		       f);
		goto out;
	}
	if (moved_on) {
		char now[GIT_OID_HEXSZ + 1];

		/* its index is the base's tip: it followed, and more since */
		if (!staged_changes(wt, ws_oid_hex(&tip, now), &staged) && !staged.nr)
			goto out;
		strvec_clear(&staged);
	}
	if (ws_tree_changed_paths(&c->repo, from, to, &touched) < 0 ||
	    staged_changes(wt, t, &staged) < 0)
		goto behind;
	if (!ws_paths_intersect(&staged, &touched, &both))
		goto out; /* it followed before the kill */
	strvec_clear(&staged);
	strvec_clear(&both);
	if (moved_on || staged_changes(wt, f, &staged) < 0 ||
	    ws_paths_intersect(&staged, &touched, &both))
		goto behind;
	if (!read_tree(c, wt, f, t)) {
		fprintf(stderr, "'%s' follows '%s' again: brought it from %.7s to %.7s (the merge of '%s', interrupted)\n",
			wt, c->base, f, t, id);
		goto out;
	}
behind:
	warning("'%s' moved to %.7s (the merge of '%s'), but git ws-merge was interrupted before its worktree '%s' followed%s",
		c->base, t, id, wt,
		moved_on ? ", and it moved on since" :
		both.nr ? ", which has changes since in the paths the merge changes" : "");
	advise_read_tree(wt, f, t);
out:
	strvec_clear(&wts);
	strvec_clear(&touched);
	strvec_clear(&staged);
	strvec_clear(&both);
}

/*
 * Before anything else: finish the follows that a killed run recorded
 * (record_follow()), then drop their records. Leaves the state read in
 * c->st (unlocked), as state_read() does: with no records, that one
 * read is all it costs.
 */
static void finish_follows(struct merge_ctx *c)
{
	struct strvec ids = STRVEC_INIT;
	size_t i, k;

	state_read(c);
	for (i = 0; i < c->st.state.nr; i++) {
		const struct cfg_section *s = &c->st.state.sections[i];

		if (s->sub && (cfg_get(s, "follow-to") || cfg_get(s, "follow-from") ||
			       cfg_get(s, "follow-worktree")))
			strvec_push(&ids, s->sub);
	}
	if (!ids.nr)
		goto out;
	for (i = 0; i < ids.nr; i++) {
		const struct cfg_section *s = ws_state_find(&c->st, ids.v[i]);
		const char *from = cfg_get(s, "follow-from");
		const char *to = cfg_get(s, "follow-to");
		git_oid f, t;

		if (!from || !to || git_oid_fromstr(&f, from) < 0 ||
		    git_oid_fromstr(&t, to) < 0) {
			warning("ignoring the unreadable follow-from and follow-to of '%s' in '%s'",
				ids.v[i], c->st.state_path);
			continue;
		}
		for (k = 0; k < s->nr; k++)
			if (!strcmp(s->entries[k].key, "follow-worktree"))
				finish_follow(c, ids.v[i], &f, &t, s->entries[k].value);
	}
	state_lock(c);
	for (i = 0; i < ids.nr; i++)
		clear_follow(c, ids.v[i]);
	state_commit(c);
out:
	strvec_clear(&ids);
}

/*
 * Move the done file, logs and report of a merged workstream to
 * .git/ws/archive/<plan>/ (the same layout and never-overwrite rules as
 * git ws-clean), and record where.
 */
static void archive(struct merge_ctx *c, size_t i)
{
	char *dir = ws_archive_dir(&c->repo, c->plan.name);

	if (!ws_archive_workstream(&c->repo, &c->st, c->plan.name, id_of(c, i), NULL))
		ws_state_set(&c->st, id_of(c, i), WS_KEY_ARCHIVE, dir);
	free(dir);
}

/*
 * Write .git/ws/reports/<id>, the last report of ws[i], so that its next
 * iteration reads (through WS_REPORT) why the merge sent it back: the
 * reason, what to do, and the end of the test log when there is one.
 */
static void write_merge_report(struct merge_ctx *c, size_t i,
			       const char *reason, const char *log)
{
	char *path = ws_path(&c->repo, "reports/%s", id_of(c, i));
	struct strbuf sb = STRBUF_INIT;
	char now[32];

	iso8601_now(now);
	strbuf_addf(&sb, "git ws-merge report for %s (%s)\n\n", id_of(c, i), now);
	strbuf_addf(&sb, "FAIL  merge  %s\n\n", reason);
	if (!log) {
		strbuf_addf(&sb, "What to do: bring '%s' into your branch (git merge %s),\n"
			    "resolve the conflicts in the files above, commit, and converge again.\n",
			    c->base, c->base);
	} else {
		char *text = NULL;
		size_t len = 0, start, lines = 0;

		strbuf_addf(&sb, "What to do: the tests pass on your branch but fail once it is merged\n"
			    "with '%s': bring '%s' into your branch, fix, commit, and converge again.\n",
			    c->base, c->base);
		if (!read_file(log, &text, &len)) {
			for (start = len; start > 0 && lines <= 40; start--)
				if (text[start - 1] == '\n')
					lines++;
			strbuf_addf(&sb, "\nThe end of %s:\n%s", log, text + start);
			free(text);
		}
	}
	if (write_file_atomically(path, sb.buf, sb.len, LOCK_BREAK_STALE) < 0)
		warning("cannot write '%s': %s", path, strerror(errno));
	strbuf_release(&sb);
	free(path);
}

/*
 * Take ws[i] out of the queue and back to `done` with `reason`: it must
 * converge again. `log` is the test log when the tests failed.
 */
static void send_back(struct merge_ctx *c, size_t i, const char *reason,
		      const char *log)
{
	write_merge_report(c, i, reason, log);
	state_lock(c);
	if (ws_queue_contains(&c->st, id_of(c, i)) ||
	    ws_state_status(&c->st, id_of(c, i)) == WS_STATUS_CONVERGED) {
		ws_state_set_status(&c->st, id_of(c, i), WS_STATUS_DONE, reason);
		/* for git ws-dispatch --loop, which counts it as an iteration */
		ws_state_set(&c->st, id_of(c, i), WS_KEY_SENT_BACK, "merge");
		ws_queue_remove(&c->st, id_of(c, i));
	}
	state_commit(c);
}

/* Read the state under its lock and check ws[i] may still merge. */
static int still_mergeable(struct merge_ctx *c, struct ws_merge_job *j)
{
	const char *id = id_of(c, j->i);
	enum ws_status status;
	char *waiting;
	struct strbuf sb = STRBUF_INIT;

	state_lock(c);
	status = ws_state_status(&c->st, id);
	if (!ws_queue_contains(&c->st, id) || status != WS_STATUS_CONVERGED) {
		strbuf_addf(&sb, "%s: no longer queued (status: %s)", id,
			    ws_status_name(status) ?: "none");
		report(c, SKIPPED, j->i, NULL, "no longer queued", sb.buf);
		goto no;
	}
	if ((waiting = unmerged_deps(c, j->i))) {
		strbuf_addf(&sb, "%s: skipped, waiting for %s; it stays queued",
			    id, waiting);
		report(c, SKIPPED, j->i, NULL, waiting, sb.buf);
		free(waiting);
		goto no;
	}
	job_from_state(c, j);
	ws_state_release(&c->st);
	strbuf_release(&sb);
	return 1;
no:
	ws_state_release(&c->st);
	strbuf_release(&sb);
	return 0;
}

/* The reason of a conflict: "conflict: a, b (touched by ws-1, ws-2)". */
static void conflict_reason(struct merge_ctx *c, struct ws_merge_job *j,
			    struct strbuf *out)
{
	struct strvec who = STRVEC_INIT;

	strbuf_addstr(out, "conflict: ");
	strvec_join(out, &j->res.conflicts, ", ");
	if (!ws_merge_touched_by(&c->repo, &c->plan, &j->base_tip, &c->stop,
				 &j->res.conflicts, &who) && who.nr) {
		strbuf_addstr(out, " (touched by ");
		strvec_join(out, &who, ", ");
		strbuf_addch(out, ')');
	} else {
		strbuf_addf(out, " (changed on %s outside the plan)", c->base);
	}
	strvec_clear(&who);
}

/* 1 when the base is at `oid`. */
static int base_is(struct merge_ctx *c, const git_oid *oid)
{
	git_oid tip;

	return !ws_branch_tip(&c->repo, c->base, &tip) && git_oid_equal(&tip, oid);
}

/* Tips of the base and the branch; -1 after an error. */
static int read_tips(struct merge_ctx *c, struct ws_merge_job *j)
{
	if (ws_branch_tip(&c->repo, c->base, &j->base_tip) < 0)
		return error("base branch '%s' does not exist", c->base);
	if (ws_branch_tip(&c->repo, j->branch, &j->branch_tip) < 0)
		return error("branch '%s' of '%s' does not exist", j->branch,
			     id_of(c, j->i));
	return 0;
}

static int compute(struct merge_ctx *c, struct ws_merge_job *j)
{
	ws_merge_result_release(&j->res);
	return ws_merge_compute(&c->repo, &j->base_tip, &j->branch_tip,
				&c->plan.ws[j->i].contract, &j->ours_owns,
				&j->res);
}

/*
 * Say that ws[j->i] merged at `oid` (already: the base had everything),
 * what was resolved for the owner and what it unblocks.
 */
static void say_merged(struct merge_ctx *c, struct ws_merge_job *j,
		       const git_oid *oid, int already)
{
	const char *id = id_of(c, j->i);
	char hex[GIT_OID_HEXSZ + 1];
	struct strbuf sb = STRBUF_INIT, detail = STRBUF_INIT;

	ws_oid_hex(oid, hex);
	if (already)
		strbuf_addf(&sb, "%s: already in %s at %.7s, nothing to merge (",
			    id, c->base, hex);
	else
		strbuf_addf(&sb, "%s: merged into %s as %.7s (", id, c->base, hex);
	strbuf_add_sanitized(&sb, c->plan.ws[j->i].title);
	strbuf_addch(&sb, ')');
	if (j->owners_note.nr) {
		strbuf_addstr(&sb, "\n  resolved for the owner: ");
		strvec_join(&sb, &j->owners_note, ", ");
	}
	if (j->next.nr) {
		strbuf_addstr(&sb, "\n  Next: ");
		strvec_join(&sb, &j->next, ", ");
		strbuf_addstr(&sb, " can now proceed");
	}
	strvec_join(&detail, &j->next, " ");
	report(c, MERGED, j->i, oid, detail.buf, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&detail);
}

/*
 * Record ws[j->i] as merged at `oid` (its merge commit, or the base tip
 * when the base already had everything), archive its files, unblock its
 * dependents, and say so.
 */
static void record_merged(struct merge_ctx *c, struct ws_merge_job *j,
			  const git_oid *oid, int already)
{
	const char *id = id_of(c, j->i);
	char hex[GIT_OID_HEXSZ + 1];

	ws_oid_hex(oid, hex);
	state_lock(c);
	clear_follow(c, id);
	ws_state_set_status(&c->st, id, WS_STATUS_MERGED, NULL);
	ws_state_set(&c->st, id, WS_KEY_MERGE_OID, hex);
	ws_queue_remove(&c->st, id);
	archive(c, j->i);
	ws_update_blocked(&c->plan, &c->st);
	state_commit(c);
	c->done_in_run[j->i] = 1;
	say_merged(c, j, oid, already);
}

/*
 * Say that ws[j->i] went back to done because of `reason` (the conflict,
 * or the failed tests: then oid is the merge commit and log their log).
 */
static void say_sent_back(struct merge_ctx *c, struct ws_merge_job *j,
			  enum outcome o, const git_oid *oid,
			  const char *reason, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s: %s; back to done, it must converge again",
		    id_of(c, j->i), reason);
	report(c, o, j->i, oid, detail, sb.buf);
	strbuf_release(&sb);
}

/* The merge of ws[j->i] conflicts: back to done. */
static enum outcome send_back_conflict(struct merge_ctx *c,
				       struct ws_merge_job *j)
{
	struct strbuf reason = STRBUF_INIT;

	conflict_reason(c, j, &reason);
	send_back(c, j->i, reason.buf, NULL);
	say_sent_back(c, j, CONFLICT, NULL, reason.buf, reason.buf);
	strbuf_release(&reason);
	return CONFLICT;
}

/* The tests fail on the merge of ws[j->i] (their output in log): back to done. */
static enum outcome send_back_failed_tests(struct merge_ctx *c,
					   struct ws_merge_job *j,
					   const char *log)
{
	struct strbuf reason = STRBUF_INIT;

	strbuf_addf(&reason, "tests failed on the merge result: see %s", log);
	send_back(c, j->i, reason.buf, log);
	say_sent_back(c, j, TESTS_FAILED, &j->commit, reason.buf, log);
	strbuf_release(&reason);
	return TESTS_FAILED;
}

/*
 * Before the base moves: the worktrees in wts that have it checked out
 * must not lose changes, and the merge commit must pass the tests (unless
 * --no-verify). Returns 0 when the merge may go on, else -1 with *o set.
 */
static int vet_merge(struct merge_ctx *c, struct ws_merge_job *j,
		     const struct strvec *wts, const char *log,
		     enum outcome *o)
{
	if (check_base_worktrees(c, j, wts) < 0) {
		*o = REFUSED;
		return -1;
	}
	if (!c->no_verify) {
		int t = test_merge(c, j, log);

		if (t < 0) {
			*o = FAILED;
			return -1;
		}
		if (t > 0) {
			*o = send_back_failed_tests(c, j, log);
			return -1;
		}
	}
	/* the worktree may have changed while the tests ran */
	if (check_base_worktrees(c, j, wts) < 0) {
		*o = REFUSED;
		return -1;
	}
	return 0;
}

/*
 * Move the base from j->base_tip to j->commit by compare-and-swap, and
 * the worktrees in wts, which have it checked out, along. Returns 0 when
 * it moved, 1 when the base moved under the merge (it must start over),
 * -1 after an error.
 */
static int move_base(struct merge_ctx *c, struct ws_merge_job *j,
		     const struct strvec *wts)
{
	const char *id = id_of(c, j->i);
	char *ref = xstrfmt("refs/heads/%s", c->base);
	char *reflog = xstrfmt("ws-merge: merge %s", id);
	git_reference *new_ref = NULL;
	size_t k;
	int err, ret = 0;

	if (wts->nr)
		record_follow(c, j, wts);
	err = git_reference_create_matching(&new_ref, c->repo.repo, ref,
					    &j->commit, 1, &j->base_tip, reflog);
	git_reference_free(new_ref);
	if (err < 0 && wts->nr && !base_is(c, &j->commit))
		drop_follow(c, id);
	if (err == GIT_EMODIFIED) {
		fprintf(stderr, "'%s' moved while '%s' was being merged; starting over\n",
			c->base, id);
		ret = 1;
	} else if (err < 0) {
		ret = error_git("cannot update '%s'", c->base);
	} else {
		for (k = 0; k < wts->nr; k++)
			follow(c, wts->v[k], &j->base_tip, &j->commit);
	}
	free(reflog);
	free(ref);
	return ret;
}

/*
 * One try at merging ws[j->i] against the base's tip of now: check it
 * may still merge, compute the merge, make the commit, vet it, move the
 * base. *o is what came of it. Returns 1 when the base moved meanwhile
 * and the merge must start over, else 0.
 */
static int try_merge(struct merge_ctx *c, struct ws_merge_job *j,
		     const char *log, enum outcome *o)
{
	struct strvec wts = STRVEC_INIT;
	int again = 0;

	*o = FAILED;
	if (!still_mergeable(c, j)) {
		*o = SKIPPED;
		return 0;
	}
	if (read_tips(c, j) < 0)
		return 0;
	if (git_oid_equal(&j->branch_tip, &j->base_tip) ||
	    git_graph_descendant_of(c->repo.repo, &j->base_tip,
				    &j->branch_tip) == 1) {
		/* git merge: "Already up to date"; no empty merge commit */
		record_merged(c, j, &j->base_tip, 1);
		*o = MERGED;
		return 0;
	}
	if (compute(c, j) < 0)
		return 0;
	if (!j->res.clean) {
		*o = send_back_conflict(c, j);
		return 0;
	}

	create_merge_commit(c, j);
	ws_branch_worktrees(&c->repo, c->base, &wts);
	if (!vet_merge(c, j, &wts, log, o)) {
		switch (move_base(c, j, &wts)) {
		case 0:
			record_merged(c, j, &j->commit, 0);
			*o = MERGED;
			break;
		case 1:
			again = 1;
			break;
		}
	}
	strvec_clear(&wts);
	return again;
}

/*
 * Merge ws[i] into the base, starting over while the base moves under
 * the merge (at most MAX_TRIES times), and say what came of it.
 */
static enum outcome merge_one(struct merge_ctx *c, size_t i)
{
	struct ws_merge_job j = JOB_INIT(i);
	const char *id = id_of(c, i);
	char *log = ws_path(&c->repo, "logs/%s.merge.log", id);
	enum outcome o = FAILED;
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++)
		if (!try_merge(c, &j, log, &o))
			break;
	if (tries == MAX_TRIES) {
		error("'%s' kept moving; gave up merging '%s' after %d tries",
		      c->base, id, MAX_TRIES);
		advise("run 'git ws-merge' again when nobody is committing to it");
	}
	if (o == FAILED)
		report(c, FAILED, i, NULL, "see the error above", "");
	job_release(&j);
	free(log);
	return o;
}

/*
 * -n: read the job of each of order[0..nr-1] into jobs[] and compute its
 * merge into the current base tip, all in one merge-tree run (or one by
 * one, naming the culprit, when that fails). ok[n] is 1 when the merge
 * of jobs[n] was computed.
 */
static void compute_all(struct merge_ctx *c, const size_t *order, size_t nr,
			struct ws_merge_job *jobs, int *ok)
{
	git_oid *ours = xcalloc(nr + 1, sizeof(*ours));
	git_oid *theirs = xcalloc(nr + 1, sizeof(*theirs));
	const struct strvec **t_owns = xcalloc(nr + 1, sizeof(*t_owns));
	const struct strvec **o_owns = xcalloc(nr + 1, sizeof(*o_owns));
	struct ws_merge_result *res = xcalloc(nr + 1, sizeof(*res));
	size_t n, k, batch = 0;

	for (n = 0; n < nr; n++) {
		struct ws_merge_job init = JOB_INIT(order[n]);
		struct ws_merge_result rinit = WS_MERGE_RESULT_INIT;

		jobs[n] = init;
		job_from_state(c, &jobs[n]);
		if (read_tips(c, &jobs[n]) < 0)
			continue;
		ok[n] = 1;
		ours[batch] = jobs[n].base_tip;
		theirs[batch] = jobs[n].branch_tip;
		t_owns[batch] = &c->plan.ws[order[n]].contract;
		o_owns[batch] = &jobs[n].ours_owns;
		res[batch++] = rinit;
	}
	if (ws_merge_compute_many(&c->repo, batch, ours, theirs, t_owns, o_owns,
				  res) < 0)
		batch = 0; /* compute them one by one below, naming the culprit */
	for (n = 0, k = 0; n < nr; n++) {
		if (!ok[n])
			continue;
		if (batch) {
			jobs[n].res = res[k++];
		} else if (compute(c, &jobs[n]) < 0) {
			ok[n] = 0;
		}
	}
	free(ours);
	free(theirs);
	free(t_owns);
	free(o_owns);
	free(res);
}

/*
 * -n: the dependencies of ws[i] that would not be merged before it, as
 * "ws-1 (done), ws-2 (would not merge)", into out. A dependency queued
 * before it counts as merged if it would merge.
 */
static void would_wait_for(struct merge_ctx *c, size_t i, struct strbuf *out)
{
	const struct plan_workstream *w = &c->plan.ws[i];
	size_t k;

	for (k = 0; k < w->dep_nr; k++) {
		size_t d = w->dep_idx[k];
		enum ws_status ds = ws_state_status(&c->st, id_of(c, d));

		if (ws_is_merged(&c->st, id_of(c, d)) || c->done_in_run[d] > 0)
			continue;
		strbuf_addf(out, "%s%s (%s)", out->len ? ", " : "",
			    id_of(c, d), c->done_in_run[d] < 0 ?
			    "would not merge" : ws_status_name(ds) ?: "not started");
	}
}

/*
 * -n: what would come of merging j (ok: its merge was computed), with
 * why into detail: what it waits for, the conflict, or what it would
 * resolve for the owner.
 */
static enum outcome would_merge(struct merge_ctx *c, struct ws_merge_job *j,
				int ok, struct strbuf *detail)
{
	would_wait_for(c, j->i, detail);
	if (detail->len)
		return SKIPPED;
	if (!ok)
		return FAILED;
	if (!j->res.clean) {
		conflict_reason(c, j, detail);
		return CONFLICT;
	}
	note_owners(c, j);
	strvec_join(detail, &j->owners_note, ", ");
	return MERGED;
}

/* -n: say what would come of merging j, as would_merge() found it. */
static void say_would(struct merge_ctx *c, struct ws_merge_job *j,
		      enum outcome o, const char *detail)
{
	const char *id = id_of(c, j->i);
	struct strbuf sb = STRBUF_INIT;

	switch (o) {
	case SKIPPED:
		strbuf_addf(&sb, "%s: would wait for %s", id, detail);
		report(c, SKIPPED, j->i, NULL, detail, sb.buf);
		break;
	case CONFLICT:
		/* the merge's own messages only for humans */
		strbuf_addf(&sb, "%s: would not merge: %s\n", id, detail);
		strbuf_addbuf(&sb, &j->res.messages);
		strbuf_rtrim(&sb);
		report(c, CONFLICT, j->i, NULL, detail, sb.buf);
		break;
	case MERGED:
		strbuf_addf(&sb, "%s: would merge cleanly into %s", id, c->base);
		if (*detail)
			strbuf_addf(&sb, " (resolved for the owner: %s)", detail);
		report(c, MERGED, j->i, &j->res.tree, detail, sb.buf);
		break;
	default:
		report(c, FAILED, j->i, NULL, "see the error above", "");
		break;
	}
	strbuf_release(&sb);
}

/*
 * -n: whether each workstream would merge into the current base tip, and
 * what would conflict with whom; nothing is written (git merge-tree only
 * adds the merged objects to the object store, as git merge-tree does).
 * Returns 1 when any would not merge.
 */
static int dry_run(struct merge_ctx *c, const size_t *order, size_t nr)
{
	struct ws_merge_job *jobs = xcalloc(nr + 1, sizeof(*jobs));
	int *ok = xcalloc(nr + 1, sizeof(*ok));
	size_t n;
	int ret = 0;

	compute_all(c, order, nr, jobs, ok);
	for (n = 0; n < nr; n++) {
		struct strbuf detail = STRBUF_INIT;
		enum outcome o = would_merge(c, &jobs[n], ok[n], &detail);

		say_would(c, &jobs[n], o, detail.buf);
		c->done_in_run[order[n]] = o == MERGED ? 1 : -1;
		if (o != MERGED)
			ret = 1;
		strbuf_release(&detail);
	}
	for (n = 0; n < nr; n++)
		job_release(&jobs[n]);
	free(jobs);
	free(ok);
	return ret;
}

/* --push: `git push <remote> <base>`, as the user would run it. */
static int push(struct merge_ctx *c)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *remote = NULL;
	int code;

	if (c->push && *c->push) {
		remote = xstrdup(c->push);
	} else {
		char *key = xstrfmt("branch.%s.remote", c->base);

		remote = ws_config_get(&c->repo, key);
		if (!remote)
			remote = xstrdup("origin");
		free(key);
	}
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.stdout_to_stderr = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(c->repo.repo));
	strvec_pushv(&cp.args, (const char *[]){ "push", remote, c->base, NULL });
	code = run_command(&cp);
	if (c->porcelain)
		printf("push\t%s\t%s\t%s\n", remote, c->base, code ? "rejected" : "ok");
	else if (!code)
		printf("Pushed '%s' to '%s'.\n", c->base, remote);
	if (code) {
		error("'git push %s %s' failed; '%s' stays merged here", remote,
		      c->base, c->base);
		advise("see git push's message above; run it yourself once the remote accepts it");
	}
	free(remote);
	return code ? -1 : 0;
}

/* Serialise whole runs: a second git ws-merge waits (bounded), then gives up. */
static int merge_lock(struct merge_ctx *c)
{
	char *path = ws_path(&c->repo, "merge.lock");
	long timeout = ws_lock_timeout_ms(&c->repo);
	int fd = hold_flock(path, 0);

	if (fd < 0 && errno == EWOULDBLOCK) {
		fprintf(stderr, "Waiting for another git ws-merge to finish (at most %ld ms)...\n",
			timeout);
		fd = hold_flock(path, timeout);
	}
	if (fd < 0) {
		if (errno == EWOULDBLOCK) {
			error("another git ws-merge is running in this repository");
			advise("wait for it to finish; it merges the whole queue\n"
			       "(the wait is bounded by ws.lockTimeout, in milliseconds)");
			exit(WS_EXIT_FATAL);
		}
		die_errno("cannot lock '%s'", path);
	}
	free(path);
	return fd;
}

/*
 * Open the repository and the plan, and read the state: under merge.lock,
 * after finishing what a killed run left, unless -n. Note the base-oids
 * the plan was allocated on, where the base's own changes start.
 */
static void start_run(struct merge_ctx *c)
{
	size_t i;

	ws_repo_open(&c->repo);
	ws_load_plan(&c->repo, &c->plan);
	c->base = c->plan.base;
	if (!c->base)
		die("plan '%s' names no base branch", c->plan.name);
	c->done_in_run = xcalloc(c->plan.nr + 1, sizeof(*c->done_in_run));
	if (!c->dry_run) {
		ws_repo_ensure_dirs(&c->repo);
		c->lock_fd = merge_lock(c);
		finish_follows(c);
	} else {
		state_read(c);
	}
	for (i = 0; i < c->plan.nr; i++) {
		const char *b = ws_state_get(&c->st, id_of(c, i), WS_KEY_BASE_OID);

		if (b && strvec_find(&c->stop, b) < 0)
			strvec_push(&c->stop, b);
	}
}

/* Merge order[0..nr-1], one after the other. Returns 1 when any did not merge. */
static int merge_all(struct merge_ctx *c, const size_t *order, size_t nr)
{
	size_t n;
	int bad = 0;

	for (n = 0; n < nr; n++) {
		size_t k = order[n];

		if (merge_one(c, k) != MERGED) {
			c->done_in_run[k] = -1;
			bad = 1;
		}
	}
	return bad;
}

/* Release merge.lock and what start_run() read. */
static void end_run(struct merge_ctx *c)
{
	if (c->lock_fd >= 0)
		release_flock(c->lock_fd);
	ws_state_release(&c->st);
	strvec_clear(&c->stop);
	free(c->done_in_run);
	plan_release(&c->plan);
	ws_repo_close(&c->repo);
}

int cmd_main(int argc, const char **argv)
{
	struct merge_ctx c;
	struct option options[] = {
		OPT__DRY_RUN(&c.dry_run),
		OPT_BOOL(0, "no-verify", &c.no_verify,
			 "do not run the test command on the merge result"),
		OPT_STRING_OPTARG(0, "push", &c.push, "remote",
				  "push the base branch afterwards (default: its remote, else origin)",
				  ""),
		OPT__PORCELAIN(&c.porcelain),
		OPT_END()
	};
	size_t *order = NULL, nr = 0;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	c.lock_fd = -1;
	argc = parse_options(argc, argv, options, merge_usage);

	start_run(&c);
	merge_order(&c, argc, argv, &order, &nr, &bad);
	if (!nr && !bad && !c.porcelain)
		printf("Nothing to merge: the merge queue is empty.\n");

	if (c.dry_run) {
		bad |= dry_run(&c, order, nr);
		if (c.push && !c.porcelain)
			printf("Would push '%s' afterwards.\n", c.base);
	} else {
		bad |= merge_all(&c, order, nr);
		if (c.push && push(&c) < 0)
			bad = 1;
	}

	free(order);
	end_run(&c);
	return bad ? WS_EXIT_NO : WS_EXIT_OK;
}
