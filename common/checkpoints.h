#ifndef CHECKPOINTS_H
#define CHECKPOINTS_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"

/*
 * The checkpoints of a plan (git-ws-status(1), --checkpoints): the base
 * tip after each merge git ws-merge made, that is each workstream's
 * `merge-oid` that is a merge commit (a workstream whose work was in the
 * base already records the tip it found, which is no checkpoint of its
 * own). They come from the state and, for workstreams no longer in it,
 * from the plan's archive (archive/<plan>/state, the last copy of each).
 * The time of a checkpoint is its merge commit's committer time.
 *
 * Where a checkpoint stands is read from the base's first-parent
 * history, as `git log --first-parent <base>` shows it: position 0 is
 * the tip. A merge git ws-merge made is always on that line; one that is
 * not (the base was reset by hand, or the merge was undone) is "gone".
 */
struct ws_checkpoint {
	char *id;            /* the workstream whose merge made it */
	git_oid oid;         /* the merge commit: the base tip after it */
	git_time_t time;     /* its committer time, seconds since the epoch */
	int archived;        /* 1: read from the archive, not the state */
	long pos;            /* on the base's first-parent line; -1: gone */
};

struct ws_checkpoints {
	struct ws_checkpoint *v;
	size_t nr, alloc;
	git_oid tip;         /* the base tip they were placed against */
};
#define WS_CHECKPOINTS_INIT { NULL, 0, 0, { { 0 } } }

/*
 * Collect the checkpoints of `plan` from `st` (read by the caller) and
 * the plan's archive, place them on the first-parent line of `base`
 * (its tip in out->tip), and sort them newest first: those on the line
 * by position, then the gone ones by time. Returns 0, or -1 after an
 * error (the base cannot be read). Release with ws_checkpoints_release().
 */
int ws_checkpoints_get(const struct ws_repo *r, const struct plan *plan,
		       const struct ws_state *st, const char *base,
		       struct ws_checkpoints *out);
void ws_checkpoints_release(struct ws_checkpoints *cps);

/*
 * The positions of `oids[0..nr-1]` on the first-parent line from `tip`
 * (0: the tip itself) into pos[], -1 for those not on it. The walk stops
 * once every one is found (else at the root). Returns 0, or -1 after an
 * error naming what could not be read.
 */
int ws_first_parent_positions(const struct ws_repo *r, const git_oid *tip,
			      const git_oid *oids, size_t nr, long *pos);

/*
 * Resolve the argument of git ws-merge --rollback-to: the id of a
 * workstream whose merge made a checkpoint, or a commit (an oid, an
 * abbreviation, any revision git_revparse_single() takes) on the base's
 * first-parent line, into *out. Returns 0, or -1 after an error that
 * says why (unknown, or not on the base's first-parent line).
 */
int ws_checkpoint_resolve(const struct ws_repo *r,
			  const struct ws_checkpoints *cps, const char *base,
			  const char *arg, git_oid *out);

/*
 * Print the checkpoints on stdout, newest first. With `porcelain`, one
 * record each, ended by a newline (NUL with `nul`):
 * "checkpoint TAB <oid> TAB <time> TAB <id> TAB <where>", time in ISO
 * 8601 UTC, where "tip" (the base is at it), "base" (the base has it
 * on its first-parent line) or "gone" (undone, or reset away). Else a
 * line each for humans, with the workstream's title from `plan`, or a
 * line saying there are none.
 */
void ws_checkpoints_print(const struct ws_checkpoints *cps,
			  const struct plan *plan, const char *base,
			  int porcelain, int nul);

#endif
