#ifndef LOST_WORKTREE_H
#define LOST_WORKTREE_H

#include "compat.h"
#include "repo.h"
#include "include.h"
#include "state.h"
#include "strvec.h"

/*
 * Worktrees of workstreams that were removed or moved by hand, brought
 * back: `rm -rf` of a worktree (or a reboot that empties /tmp) leaves
 * the workstream's branch, which holds its commits, and a stale entry
 * in git's worktrees/ that `git worktree prune` would drop.
 *
 * A workstream's worktree is lost when the path recorded in the state
 * (`worktree`) does not exist. It is then
 *
 *  - found again, when git has a linked worktree on the workstream's
 *    branch at an existing directory whose .git file names that
 *    worktree's admin directory (what `git worktree repair` checks, and
 *    what it leaves after a worktree was moved by hand and repaired):
 *    the state's `worktree` becomes that directory, for every
 *    workstream that shared the old one, and `moved-from` keeps the
 *    path it was allocated at (the first move's), which git ws-alloc
 *    still takes for the plan's;
 *
 *  - or made again from the branch (ws_worktree_recreate(): `git
 *    worktree prune`, then `git worktree add <path> <branch>`), once
 *    for all the workstreams that share it.
 *
 * Never for a workstream that is merged, cleaned, in progress, or being
 * removed by git ws-clean (WS_INTENT_REMOVE), nor over anything that
 * exists at the path, nor when the branch is gone or checked out in a
 * worktree that does not name it (then a warning says why).
 */
#define WS_KEY_MOVED_FROM "moved-from"

struct ws_lost_worktrees {
	const struct ws_repo *repo;
	struct ws_state *st;      /* locked by the caller; read only with dry_run */
	int hold_fd;              /* lock held while git runs (worktree.h); -1 */
	int dry_run;              /* say what would be done; make nothing */
	const struct strvec *ids; /* only their worktrees; NULL: every one */
	const struct ws_include *include; /* copied into a worktree made again; NULL: none */
	struct strvec records;    /* out: "recreate\t<id>\t<path>" or "moved\t<id>\t<path>" */
	int changed;              /* out: state records changed */
};
#define WS_LOST_WORKTREES_INIT { NULL, NULL, -1, 0, NULL, NULL, STRVEC_INIT, 0 }

/*
 * Find again or make again every lost worktree of lw->st's workstreams
 * (of lw->ids only, when not NULL), saying so on stderr, one line per
 * worktree: "<id>[, <id>...]: made the worktree '<path>' again from
 * branch '<branch>'" ("would make ..." with dry_run), or "<id>: the
 * worktree moved to '<path>'". A moved worktree's new path is set in
 * lw->st, which the caller writes; with dry_run only in memory. The
 * caller releases lw->records. Returns 0, or -1 when a worktree could
 * not be made again (after an error; the others are still done).
 */
int ws_bring_back_worktrees(struct ws_lost_worktrees *lw);

#endif
