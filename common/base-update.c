#include "compat.h"
#include "base-update.h"
#include "run.h"
#include "strvec.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

/*
 * Run git in `dir`; its output goes to the job's log, or into `out`.
 * Without `out` it is one of the merges that update the worktree
 * (ws_bring_up_to_base()): those run in a process group of their own, so
 * that a kill of ours (Ctrl-C, a supervisor) does not stop git half way
 * through writing the worktree's files, which the agent would then find,
 * and commit, half written.
 */
static int run_git(struct ws_job *job, const char *dir, struct strbuf *out,
		   const char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, argv);
	if (out)
		return capture_command(&cp, out, NULL);
	if (job->log_fd >= 0) {
		cp.out = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
		cp.err = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		cp.no_stdout = cp.no_stderr = 1;
	}
	return ws_run_to_the_end(&cp, -1);
}

/*
 * The branch has commits of its own: merge the base in when that is
 * clean. Returns what stops it in `report` and `why`, or sets
 * job->prepare_note.
 */
static void merge_base_in(struct ws_job *job, const char *base,
			  const char *base_ref, const char *hex,
			  struct strbuf *report, struct strbuf *why)
{
	struct strbuf out = STRBUF_INIT;
	int rc = run_git(job, job->worktree, &out, (const char *[]){
			"merge-tree", "--write-tree", "--name-only",
			"--no-messages", job->branch, base_ref, NULL });

	if (rc == 1) {
		struct strvec files = STRVEC_INIT;
		char *line, *save = NULL;
		size_t i;

		/* first line: the tree; then the conflicted paths */
		line = strtok_r(out.buf, "\n", &save);
		while ((line = strtok_r(NULL, "\n", &save)))
			if (strvec_find(&files, line) < 0)
				strvec_push(&files, line);
		strbuf_addf(report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): merging it\n"
			    "conflicts in these files:\n", job->branch, base, hex);
		for (i = 0; i < files.nr; i++)
			strbuf_addf(report, "\t%s\n", files.v[i]);
		strbuf_addf(report, "Merge '%s' into the branch and resolve them.\n", base);
		strbuf_addf(why, "merging it conflicts in %zu file%s",
			    files.nr, files.nr == 1 ? "" : "s");
		strvec_clear(&files);
	} else if (rc) {
		strbuf_addf(report, "git ws-dispatch could not check whether '%s' merges cleanly into\n"
			    "'%s' (git merge-tree exited with %d).\n", base, job->branch, rc);
		strbuf_addstr(why, "git merge-tree failed");
	} else {
		ws_job_log(job, "merging '%s' (%.7s) into '%s'", base, hex, job->branch);
		if (run_git(job, job->worktree, NULL, (const char *[]){
				"merge", "--no-edit", "-q", base_ref, NULL })) {
			run_git(job, job->worktree, NULL, (const char *[]){
					"merge", "--abort", NULL });
			strbuf_addf(report, "git ws-dispatch could not merge '%s' into '%s';\n"
				    "see the log for git's message.\n", base, job->branch);
			strbuf_addstr(why, "the merge failed");
		} else {
			job->prepare_note = xstrfmt("merged %s", base);
		}
	}
	strbuf_release(&out);
}

char *ws_bring_up_to_base(const struct ws_repo *r, const char *base,
			  struct ws_job *job, struct strbuf *why)
{
	git_oid base_oid, tip;
	char hex[GIT_OID_HEXSZ + 1], *head = NULL, *base_ref = NULL;
	struct strbuf report = STRBUF_INIT;

	if (!base || ws_branch_tip(r, base, &base_oid) < 0 ||
	    ws_branch_tip(r, job->branch, &tip) < 0) {
		ws_job_log(job, "cannot resolve base '%s' or branch '%s'; left as it is",
			   base ? base : "(none)", job->branch);
		return NULL;
	}
	if (git_oid_equal(&base_oid, &tip) ||
	    git_graph_descendant_of(r->repo, &tip, &base_oid) == 1)
		return NULL; /* already has everything of the base */

	ws_oid_hex(&base_oid, hex);
	base_ref = xstrfmt("refs/heads/%s", base);
	head = ws_worktree_branch_at(job->worktree);
	if (!head || strcmp(head, job->branch)) {
		strbuf_addf(&report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): the worktree\n"
			    "%s is not on that branch.\n",
			    job->branch, base, hex, job->worktree);
		strbuf_addstr(why, "the worktree is on another branch");
	} else if (ws_worktree_is_dirty(job->worktree)) {
		strbuf_addf(&report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): the worktree\n"
			    "%s has uncommitted changes.\n"
			    "Commit them, then merge '%s' into the branch.\n",
			    job->branch, base, hex, job->worktree, base);
		strbuf_addstr(why, "uncommitted changes in the worktree");
	} else if (!ws_commits_ahead(r, &tip, &base_oid)) {
		ws_job_log(job, "fast-forwarding '%s' to '%s' (%.7s)", job->branch, base, hex);
		if (run_git(job, job->worktree, NULL, (const char *[]){
				"merge", "--ff-only", "-q", base_ref, NULL })) {
			strbuf_addf(&report, "git ws-dispatch could not fast-forward '%s' to '%s' (%.7s);\n"
				    "see the log for git's message.\n",
				    job->branch, base, hex);
			strbuf_addstr(why, "the fast-forward failed");
		} else {
			job->prepare_note = xstrfmt("fast-forwarded to %s", base);
		}
	} else {
		merge_base_in(job, base, base_ref, hex, &report, why);
	}
	free(head);
	free(base_ref);
	if (!report.len) {
		strbuf_release(&report);
		return NULL;
	}
	return strbuf_detach(&report, NULL);
}
