#ifndef FOLLOW_H
#define FOLLOW_H

#include "compat.h"
#include "recover.h"
#include "repo.h"

/*
 * The worktrees that have the base checked out follow it when git
 * ws-merge moves it, as `git merge` run there would update them: `git
 * read-tree -m -u <old> <new>` in each, which refuses by itself to
 * overwrite a change made there since. The base moves by
 * compare-and-swap first and the worktrees follow after; killed in
 * between, such a worktree keeps the index and files of the old tip, so
 * that `git status` there shows the merge undone and `git commit -a`
 * would undo it. So git ws-merge records the move first (a FOLLOW
 * intent, recover.h), and ws_follow_repair() finishes it on the next
 * run.
 */

/*
 * Bring the worktree `wt`, which has `base` checked out, from `old` to
 * `new` (commits), `git read-tree` running in a process group of its
 * own with `hold_fd` held to its end (ws_run_to_the_end()). When it
 * fails, says that `base` moved but `wt` could not follow, and the
 * command that brings it along. Returns 0, or -1 after that error.
 */
int ws_follow(const struct ws_repo *r, const char *base, const char *wt,
	      const git_oid *old, const git_oid *new, int hold_fd);

/*
 * The repair of a FOLLOW intent (ws_repair_fn; rc->plan names the base,
 * rc->hold_fd is held while git runs): for each recorded worktree,
 * only when the base did move to follow-to and is still there, the
 * worktree still has it checked out, and its index still has the
 * version of follow-from of every path the merge changes, does `git
 * read-tree -m -u` bring it along (saying so on stderr). A worktree that
 * already followed is left alone quietly; any other is left alone with a
 * warning that says what to run. Always returns 1: the record goes.
 */
int ws_follow_repair(struct ws_recover *rc, const struct ws_intent *in);

#endif
