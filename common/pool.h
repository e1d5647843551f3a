#ifndef POOL_H
#define POOL_H

#include "compat.h"
#include "include.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The worktree pool (git-ws(7), POOL): with the plan's `pool = N`, the
 * plan never has more than N worktrees, its slots. git ws-alloc then
 * makes branches only; a workstream takes a slot when it becomes ready
 * to run (git ws-dispatch), and its slot is free again once every
 * workstream holding it is merged or cleaned (looked at lazily, on the
 * next dispatch). The next ready workstream reuses a free slot: the
 * worktree is switched to its branch with `git checkout`, which writes
 * only the files that differ, then gets what a new worktree gets (the
 * sparse cone, submodules, `.worktreeinclude`, the post-checkout hook,
 * the plan's `setup`).
 *
 * Slot n is named "slot-<n>" and lives where a workstream of that id
 * would (ws_worktree_path(): <repo>-slot-<n> beside the main worktree,
 * or under ws.worktreeDir). The state records which slot a workstream
 * holds (WS_KEY_SLOT) beside its `worktree`; when a slot passes to the
 * next workstream, the finished holders lose both keys, so that a
 * worktree always belongs to the workstreams that hold it now (and git
 * ws-clean removes it with the last of them). Workstreams that share a
 * branch (`worktree = ID`) share a slot.
 *
 * Nothing is lost: a slot is reused only when it is clean (no changed or
 * untracked file, as the clean-tree gate checks); a failed workstream
 * keeps its slot until it is retried and merged, or cleaned; a ready
 * workstream that finds no slot stays `ready` with the reason
 * "waiting for a worktree slot (pool of N full: ...)", naming who holds
 * each slot.
 *
 * Taking a slot is recorded first (recover.h, WS_INTENT_SLOT) and the
 * record cleared last, so that a kill at any moment is finished by the
 * next git ws-dispatch (ws_pool_recover()).
 */

#define WS_KEY_SLOT "slot" /* state: the slot a workstream holds, "slot-2" */
/* how the reason of a ready workstream that waits for a slot starts */
#define WS_POOL_WAITING "waiting for a worktree slot"

enum ws_slot_state {
	WS_SLOT_ABSENT, /* not made yet, or removed by git ws-clean */
	WS_SLOT_FREE,   /* there, and no unfinished workstream holds it */
	WS_SLOT_BUSY,   /* held by a workstream that is not merged or cleaned */
};

struct ws_slot {
	char name[32];       /* "slot-<n>" */
	char *path;          /* its worktree's top */
	enum ws_slot_state state;
	const char *holder;  /* BUSY: the first unfinished holder in plan
				order; FREE: the last holder, or NULL.
				Borrowed from the state. */
	int dirty;           /* FREE: 1 dirty, 0 clean, -1 unreadable; -2
				not looked at yet */
};

struct ws_pool {
	const struct ws_repo *repo;
	const struct plan *plan;
	struct ws_state *st;   /* locked by the caller, who writes it */
	int hold_fd;           /* lock held while git runs (worktree.h); -1 */
	const struct ws_include *include; /* copied into a slot; NULL: none */
	struct ws_slot *slots; /* plan->pool of them, read by ws_pool_read() */
	size_t nr;
	int dry_run;           /* ws_pool_assign(): in p->st only, no git */
};
#define WS_POOL_INIT { NULL, NULL, NULL, -1, NULL, NULL, 0, 0 }

/* "slot-<n>" for n >= 1, into out (at least 32 bytes). */
void ws_slot_name(int n, char *out);

/*
 * Read the slots of p->plan's pool from p->st and the disk (which exist,
 * who holds them). p->repo, p->plan and p->st must be set. Call it again
 * after the state changed. Nothing is written.
 */
void ws_pool_read(struct ws_pool *p);
void ws_pool_release(struct ws_pool *p);

/*
 * Give a slot to every `ready` workstream that has no worktree, in the
 * plan's dependency order (only those in `ids`, when not NULL), while
 * slots are free: the slot of a workstream on the same branch when it has
 * one, else a free clean slot, else a slot not made yet. Each is recorded
 * (WS_INTENT_SLOT) and the state written before git runs, and written
 * again when done. One whose setup fails becomes `failed` ("setup
 * failed: ..."), keeping its slot. The others stay ready with the reason
 * that the pool is full (ws_pool_full_reason()). Prints what it does on
 * stderr ("<id>: takes worktree slot 'slot-1' (was <id>)"). Returns how
 * many got a slot; -1 after an error taking one (that workstream is
 * `failed` with the reason, the state written). With p->dry_run it
 * decides the same, and says "would take", but only changes p->st in
 * memory (the slot and worktree each would hold): nothing is written
 * and no git runs.
 */
int ws_pool_assign(struct ws_pool *p, const struct strvec *ids);

/*
 * 1 when `id` is a ready workstream of a pooled plan that holds no slot
 * yet: it cannot run (its reason says why).
 */
int ws_pool_waits(const struct plan *plan, const struct ws_state *st,
		  const char *id);

/*
 * "waiting for a worktree slot (pool of 2 full: b failed and holds
 * slot-1, c holds slot-2)" into `out`, from p's slots as last read.
 */
void ws_pool_full_reason(const struct ws_pool *p, struct strbuf *out);

struct ws_recover;
struct ws_intent;

/*
 * Finish a recorded taking of a slot (WS_INTENT_SLOT) that was killed.
 * When git never made the slot's worktree (or dropped a half-made one,
 * ws_worktree_drop_unfinished()), the record goes and the workstream
 * waits for a slot again. Otherwise every changed or untracked file in
 * the slot must be absent or hold what the branch's commit `slot-to`
 * holds (what a killed `git checkout` or `git reset --hard` leaves):
 * then `git checkout --force` of the branch finishes the switch and the
 * slot gets the rest of what a new worktree gets (its `setup` is left
 * pending, for git ws-dispatch to run). A file of anybody else's makes it
 * leave the slot alone, with a warning that names it (returns 0), as does
 * a git command that fails (a slot left half switched is dirty, so it is
 * never reused meanwhile). A record that is no longer wanted (the
 * workstream finished or holds a worktree, another one holds the slot,
 * no such slot) is dropped with a warning. With rc->dry_run only say
 * what would be done. Returns 1 when finished or dropped, 0 when kept,
 * -1 after an error removing what a killed `git worktree add` left.
 */
int ws_pool_recover(struct ws_recover *rc, const struct ws_intent *in);

#endif
