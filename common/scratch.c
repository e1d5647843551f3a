#include "compat.h"
#include "scratch.h"
#include "include.h"
#include "setup.h"
#include "submodule.h"
#include "run.h"
#include "runner.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

char *ws_scratch_path(const struct ws_repo *r)
{
	return ws_path(r, "scratch");
}

/*
 * Remove what a `git worktree add` killed while making the scratch
 * worktree at `path` left: the directory first, since its admin
 * directory (still locked "initializing") is how we know it is ours,
 * then the admin directory. git cannot do it: every `git worktree`
 * command may die on a half-written admin directory. Returns 0 (also
 * when there is nothing to remove), or -1 after an error.
 */
static int drop_half_made(const struct ws_repo *r, const char *path)
{
	char *admin = ws_unfinished_worktree_admin(r, path);
	int ret = 0;

	if (!admin)
		return 0;
	warning("the scratch worktree '%s' was left half-made by an interrupted 'git worktree add'; making it again",
		path);
	if (remove_dir_recursively(path) < 0)
		ret = error_errno("cannot remove the half-made scratch worktree '%s'",
				  path);
	else if (remove_dir_recursively(admin) < 0)
		ret = error_errno("cannot remove '%s', the admin directory of the half-made scratch worktree",
				  admin);
	free(admin);
	return ret;
}

/* `git <args>` in the worktree `dir`; git's exit code. */
static int git_in(const char *dir, const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, args);
	return run_command(&cp);
}

/* Check out hex in the scratch worktree at path, which exists; git's code. */
static int checkout(const char *path, const char *hex, int keep_ignored)
{
	int ret = git_in(path, (const char *[]){ "checkout", "--quiet",
			 "--detach", "--force", hex, NULL });

	if (!ret)
		ret = git_in(path, (const char *[]){ "clean", "-q",
			     keep_ignored ? "-fd" : "-fdx", NULL });
	return ret;
}

int ws_scratch_checkout(const struct ws_repo *r, const char *hex,
			int keep_ignored, int hold_fd)
{
	struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;
	char *path = ws_scratch_path(r);
	char *dotgit = xstrfmt("%s/.git", path);
	int ret = -1;

	if (drop_half_made(r, path) < 0)
		goto out;
	if (path_exists(dotgit)) {
		if (!checkout(path, hex, keep_ignored)) {
			ret = 0;
			goto out;
		}
		warning("the scratch worktree '%s' is broken; making it again", path);
		ws_worktree_remove(r, path, 2, hold_fd, NULL);
	}
	if (path_exists(path)) {
		error("'%s' is in the way of git ws-merge's scratch worktree", path);
		advise("remove it; git ws-merge makes it again");
		goto out;
	}
	ws_worktree_prune(r, hold_fd);
	add.path = path;
	add.commit = hex;
	add.hold_fd = hold_fd;
	if (ws_worktree_add(r, &add))
		error("cannot create the scratch worktree '%s'", path);
	else
		ret = 1;
out:
	free(dotgit);
	free(path);
	return ret;
}

int ws_scratch_remove(const struct ws_repo *r, int hold_fd)
{
	struct strbuf err = STRBUF_INIT;
	char *path = ws_scratch_path(r);
	char *admin = ws_unfinished_worktree_admin(r, path);
	int ret = 0;

	if (admin) {
		if (remove_dir_recursively(path) < 0 ||
		    remove_dir_recursively(admin) < 0)
			ret = -1;
	} else if (path_exists(path) &&
		   ws_worktree_remove(r, path, 2, hold_fd, &err)) {
		ret = -1;
	}
	if (ret < 0)
		warning("cannot remove the scratch worktree '%s'%s%s", path,
			err.len ? ": " : "", err.buf);
	free(admin);
	free(path);
	strbuf_release(&err);
	return ret;
}

/*
 * Give the scratch worktree the main worktree's included files, as every
 * workstream's worktree has them: its checkout cleaned them away.
 */
static int include_files(const struct ws_repo *r, const struct plan *plan,
			 const char *scratch)
{
	struct ws_include inc = WS_INCLUDE_INIT;
	struct strbuf err = STRBUF_INIT;
	int ret = ws_include_read(&inc, r, &plan->include, &err);

	if (ret < 0)
		error("%s", err.buf);
	else
		ret = ws_include_copy(&inc, scratch, NULL);
	ws_include_release(&inc);
	strbuf_release(&err);
	return ret;
}

/*
 * The submodule commits that the merge `hex` records and that only the
 * worktree of `branch` has go to the main worktree's submodule
 * repositories, where the scratch worktree's submodules find them.
 */
static int bring_submodule_commits(const struct ws_repo *r, const char *branch,
				   const char *hex)
{
	struct ws_worktree **list = ws_worktrees_get(r);
	size_t pos = 0;
	struct ws_worktree *wt = ws_worktree_find_branch(list, branch, &pos);
	int ret = 0;

	if (wt)
		ret = ws_submodules_bring_commits(r, hex, wt->path);
	ws_worktrees_free(list);
	return ret;
}

int ws_scratch_test(const struct ws_repo *r, const struct plan *plan, size_t i,
		    const char *branch, const git_oid *commit, const char *log,
		    int hold_fd, int verbose)
{
	const struct plan_workstream *w = &plan->ws[i];
	struct child_process cp = CHILD_PROCESS_INIT;
	struct ws_runner_cmd rc = WS_RUNNER_CMD_INIT;
	struct ws_runner_where where = WS_RUNNER_WHERE_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct ws_runner *runner;
	char *scratch = ws_scratch_path(r);
	char hex[GIT_OID_HEXSZ + 1];
	int fd = -1, code, timed_out = 0, ret = -1, made;

	if (!w->test || !*w->test) {
		ret = 0;
		goto out;
	}
	ws_oid_hex(commit, hex);
	if (bring_submodule_commits(r, branch, hex) < 0)
		goto out;
	made = ws_scratch_checkout(r, hex, !!w->setup, hold_fd);
	if (made < 0 || ws_submodules_update(r, scratch) < 0 ||
	    ws_worktree_sparse_like(r, scratch, &w->sparse) < 0 ||
	    include_files(r, plan, scratch) < 0)
		goto out;
	if (made && w->setup) {
		struct ws_setup_job job = { 0 };
		char *setup_log = ws_path(r, "logs/%s.merge-setup.log", w->id);

		job.idx = i;
		job.branch = branch;
		job.worktree = scratch;
		job.log = setup_log;
		if (ws_setup_run(r, plan, &job, 1)) {
			warning("the setup of the scratch worktree failed (%s); see %s",
				job.result, setup_log);
			/* made again, and set up again, for the next test */
			ws_scratch_remove(r, hold_fd);
			ret = 1;
		}
		free(job.result);
		free(setup_log);
		if (ret == 1)
			goto out;
	}
	/* the test of the merge is a gate: it runs on the gate-runner */
	if (!(runner = ws_runner_for(r, plan, i, 1, &err))) {
		error("%s", err.buf);
		goto out;
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		error_errno("cannot open '%s'", log);
		goto out;
	}
	if (verbose)
		fprintf(stderr, "Testing the merge of %s into %s (%.7s)...\n",
			w->id, plan->base, hex);
	strvec_push(&cp.args, w->test);
	cp.use_shell = 1;
	cp.dir = scratch;
	cp.no_stdin = 1;
	cp.out = fd;
	cp.err = fd;
	fd = -1; /* start_command() owns it now */
	cp.new_pgrp = 1;
	ws_push_env(r, plan, i, branch, scratch, &cp.env);
	strvec_pushf(&cp.env, "WS_MERGE_OID=%s", hex);
	strvec_pushf(&cp.env, "WS_LOG=%s", log);
	rc.repo = r;
	rc.plan = plan;
	rc.idx = i;
	rc.what = "merge-test";
	rc.log_path = log;
	rc.timeout = w->timeout;
	if (!runner->prepare) {
		if (start_command(&cp) < 0)
			goto out;
	} else if (ws_runner_start(runner, &rc, &cp, &where, &err) < 0) {
		error("%s", err.buf);
		goto out;
	}
	code = ws_runner_finish_timeout(runner, &where, &cp, w->timeout * 1000,
					5000, &timed_out);
	if (timed_out)
		warning("the tests of the merge of '%s' timed out after %lds",
			w->id, w->timeout);
	ret = code ? 1 : 0;
out:
	if (fd >= 0)
		close(fd);
	ws_runner_where_release(&where);
	strbuf_release(&err);
	free(scratch);
	return ret;
}
