#ifndef SCRATCH_H
#define SCRATCH_H

#include "compat.h"
#include "plan.h"
#include "repo.h"

/*
 * git ws-merge's scratch worktree, <common dir>/ws/scratch: a detached
 * worktree where the test command runs on a merge commit before the base
 * moves to it. It is made when a merge is first tested, checked out
 * again for each merge, and removed once the plan is all merged. Every
 * change to it goes through `git worktree` (worktree.h), which runs with
 * `hold_fd` (the caller's merge.lock; -1: none) held to its end.
 */

/* The scratch worktree's path (ws_path(r, "scratch")); caller frees. */
char *ws_scratch_path(const struct ws_repo *r);

/*
 * Check out `hex` (a commit) in the scratch worktree, detached, with
 * every untracked file removed, and the ignored ones too unless
 * `keep_ignored` (`git checkout --detach --force`, `git clean -fd[x]`),
 * making the worktree first when it is not there (`git worktree add
 * --detach`). What a killed `git worktree add`
 * left (ws_unfinished_worktree_admin()) is removed first, and a scratch
 * worktree git cannot check out in is removed and made again; both with
 * a warning. Returns 1 when it made the worktree, 0 when it was there,
 * or -1 after an error (something else is in the way, git failed).
 */
int ws_scratch_checkout(const struct ws_repo *r, const char *hex,
			int keep_ignored, int hold_fd);

/*
 * Remove the scratch worktree, if there is one (`git worktree remove
 * --force --force`: its files are only ever a checked-out commit and
 * what the tests made, and a killed `git worktree add` leaves it
 * locked), and what a killed `git worktree add` left of it. Prints
 * nothing when it is gone. Returns 0, or -1 after a warning saying what
 * is left.
 */
int ws_scratch_remove(const struct ws_repo *r, int hold_fd);

/*
 * Test `commit`, the merge of plan->ws[i] (whose branch is `branch`),
 * in the scratch worktree: ws_scratch_checkout() it, give it the
 * workstream's sparse checkout and included files, and run the
 * workstream's `setup` when the scratch worktree is new (with a `setup`,
 * the checkout keeps the ignored files it made: dependencies it
 * installed stay for the next test, as in a workstream's worktree); its
 * output goes to `log` too, and a failed setup fails the test. Then run
 * the workstream's `test` command there, as `/bin/sh -c`, in a process
 * group of its own, bounded by its `timeout`, with the environment of
 * ws_push_env() (WS_WORKTREE the scratch worktree) and WS_MERGE_OID
 * and WS_LOG. Its output goes to `log`, truncated first. With
 * `verbose`, says "Testing the merge of ..." on stderr. Returns 0 when
 * it passes (or there is no test command), 1 when it fails or times out
 * (with a warning), -1 after an error.
 */
int ws_scratch_test(const struct ws_repo *r, const struct plan *plan, size_t i,
		    const char *branch, const git_oid *commit, const char *log,
		    int hold_fd, int verbose);

#endif
