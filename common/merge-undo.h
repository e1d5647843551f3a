#ifndef MERGE_UNDO_H
#define MERGE_UNDO_H

#include "compat.h"
#include "plan.h"
#include "recover.h"
#include "repo.h"
#include "state.h"

/*
 * git ws-merge --undo <id>... and --rollback-to <checkpoint>: take
 * merges back out of the base (git-ws-merge(1), UNDO).
 *
 * A merge that is the base's tip is undone by moving the base back to
 * its first parent, a commit that was tested before; several merges
 * that are the top of the base's first-parent line move it back once,
 * to the first parent of the oldest. Any other is undone by a revert of
 * the merge against its first parent (`git revert -m 1`), committed on
 * the base, tested in the scratch worktree like a merge (scratch.h), and
 * only then put on the base. Every move is a compare-and-swap, recorded
 * first (WS_INTENT_UNDO, with a FOLLOW record when worktrees have the
 * base checked out: recover.h), so that a run killed at any instant
 * leaves a state the next git ws-merge finishes (ws_undo_repair()).
 *
 * After a revert, the workstream's branch, whose commits the base's
 * history still has, gets a commit that reverts the revert (a
 * fast-forward of the branch), so that merging it again brings its
 * changes back rather than nothing.
 *
 * The workstream then returns to `done` (ws_undo_back_to_done()), and
 * can converge and merge again. A merge the base no longer has (it was
 * reset by hand) is only recorded so: the base is left as it is.
 */
struct ws_undo_opts {
	const struct ws_repo *repo;
	const struct plan *plan;
	const char *base;
	int dry_run, no_verify, porcelain;
	int lock_fd;       /* merge.lock, held by the caller; -1 with dry_run */
};

/*
 * Undo the merges of the workstreams `ids[0..nr-1]`, newest first. Each
 * must be merged (or cleaned after its merge); a merged workstream that
 * depends on one of them and is not named refuses the whole undo, as
 * does a revert that conflicts or fails its test (the base is then
 * left at the last undo that succeeded). With opts->dry_run, says what
 * would be done and changes no ref and no state (a revert that would be
 * made is computed, adding only objects to the object store, as git
 * merge-tree does). Prints one line per workstream, or with porcelain
 * the records of git-ws-merge(1), PORCELAIN FORMAT. Returns 0 when all
 * are undone (or would be), 1 when it refused or something failed
 * (after saying why).
 */
int ws_merge_undo(const struct ws_undo_opts *opts, const char *const *ids,
		  size_t nr);

/*
 * Undo every merge of the plan that is on the base's first-parent line
 * after `checkpoint` (ws_checkpoint_resolve()), newest first, as
 * ws_merge_undo() of all of them does. Returns as ws_merge_undo(); 0
 * with "nothing to roll back" when the base is at the checkpoint.
 */
int ws_merge_rollback(const struct ws_undo_opts *opts, const char *checkpoint);

/*
 * Put workstream plan->ws[i], whose merge `merge` (hex, may be NULL)
 * was taken out of the base, back to `done` in `st` (locked by the
 * caller, who writes it): reason saying so; merge-oid, tested-tree,
 * tested-commands, sent-back, cleaned and archive dropped; its branch
 * made again when it is gone, from refs/ws/backup/<id>, else from the
 * merge's second parent; its done file copied back from the archive
 * when ws/coordination has none (the archive keeps its copy); a `ready`
 * dependent back to `blocked`. Returns 0, or -1 after an error (the
 * branch could not be made).
 */
int ws_undo_back_to_done(const struct ws_repo *r, const struct plan *plan,
			 struct ws_state *st, size_t i, const char *merge);

/*
 * The repair of an UNDO intent (ws_repair_fn; rc->plan names the base):
 * when the base is at undo-to, or has moved on from it, the undo
 * happened and the workstream goes back to done; when it is still at
 * undo-from, nothing happened (the workstream stays merged); otherwise
 * a warning says it is left as it is. Returns 1 (the record goes), or
 * 0 without a plan.
 */
int ws_undo_repair(struct ws_recover *rc, const struct ws_intent *in);

/*
 * Warn of each merged workstream of `plan` in `st` whose merge commit
 * the base no longer contains (the base was reset by hand past it):
 * git ws-merge --undo <id> takes it back to done. Returns how many.
 */
size_t ws_undo_warn_lost(const struct ws_repo *r, const struct plan *plan,
			 const struct ws_state *st, const char *base);

#endif
