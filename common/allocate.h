#ifndef ALLOCATE_H
#define ALLOCATE_H

#include "compat.h"
#include "plan.h"

/*
 * Which workstreams share a worktree (git-ws(7), ALLOCATION), decided from the
 * plan alone:
 *  - `worktree = ID` puts a workstream in ID's worktree (SHARE_EXPLICIT);
 *  - a workstream whose `paths` overlap those of a workstream it depends
 *    on directly joins that one's worktree (SHARE_OVERLAP): it would
 *    edit the same files right after it;
 *  - independent workstreams (neither depends on the other, directly or
 *    not) whose `paths` overlap stay apart and are reported as a conflict
 *    risk.
 * Sharing is transitive; a group's owner (whose id names the worktree and
 * whose branch all members use) is the `worktree =` target when there is
 * one, else the member that comes first in dependency order.
 */
enum ws_share {
	SHARE_NONE = 0,
	SHARE_EXPLICIT,
	SHARE_OVERLAP,
};

struct ws_conflict_risk {
	size_t a, b; /* workstream indices, a < b */
};

struct ws_allocation {
	size_t *owner;         /* owner[i]: whose worktree ws[i] uses (i: its own) */
	enum ws_share *why;    /* why[i]: how ws[i] came to share (NONE for owners) */
	struct ws_conflict_risk *risks;
	size_t risk_nr, risk_alloc;
};
#define WS_ALLOCATION_INIT { NULL, NULL, NULL, 0, 0 }

/* Decide the allocation of a validated plan. */
void ws_allocate(const struct plan *plan, struct ws_allocation *out);
void ws_allocation_release(struct ws_allocation *a);

#endif
