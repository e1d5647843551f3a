#ifndef RECOVER_H
#define RECOVER_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strvec.h"

/*
 * One recovery protocol for the steps that change git's own files in
 * several moves (git-ws(7), FAULTS): record the intent in the workstream's
 * state section and write it (ws_state_write()), act, clear the record.
 * A command killed in between leaves the record, and the next writing
 * command calls ws_recover() as its first step, which finishes or rolls
 * back every recorded intent it may handle.
 *
 * The records, by kind, and the state keys they use. These names are
 * on disk, in the tests and in the man page: they never change.
 *
 *   WS_INTENT_ALLOCATE  git ws-alloc, before `git worktree add -b`:
 *       allocating = owner | share  (the new workstream's worktree and
 *       branch did not exist; `worktree`, `branch` and `base-oid` say
 *       which). Repair: undo (ws_worktree_recover_allocate()).
 *   WS_INTENT_FOLLOW    git ws-merge, before the base moves while
 *       worktrees have it checked out: follow-from, follow-to (old and
 *       new tip), one follow-worktree per worktree. Repair: the caller's
 *       (git ws-merge brings each worktree along from old to new).
 *   WS_INTENT_REMOVE    git ws-clean, before `git worktree remove`:
 *       removing (the worktree's path), removing-admin (<id> of its
 *       worktrees/<id>), removing-head (the commit it was checked clean
 *       at). Repair: finish when provably safe
 *       (ws_worktree_recover_remove()).
 *   WS_INTENT_START     git ws-dispatch, before starting a command:
 *       status in_progress, reason "queued", pid (the dispatch's).
 *       Repair: ws_reap_vanished() (back to ready once that pid is gone).
 *   WS_INTENT_UNDO      git ws-merge --undo / --rollback-to, before the
 *       base moves to take a workstream's merge out: undo-from (the
 *       base tip before), undo-to (the tip that no longer has the
 *       merge: its first parent, or a tested revert). Repair: the
 *       caller's (git ws-merge: ws_undo_repair(), merge-undo.h), which
 *       finishes the undo when the base moved, else drops the record.
 *   WS_INTENT_SLOT      git ws-dispatch, before a worktree slot of the
 *       plan's pool (pool.h) is made or switched to the workstream's
 *       branch: slot-taking (the slot's name), slot-to (the commit it is
 *       checked out at), slot-from (the commit it had; absent for a new
 *       slot). Repair: finish when nothing can be lost
 *       (ws_pool_recover()).
 */
#define WS_KEY_ALLOCATING "allocating"
#define WS_ALLOCATING_OWNER "owner" /* it makes the worktree and branch */
#define WS_ALLOCATING_SHARE "share" /* it uses another one's */
#define WS_KEY_FOLLOW_FROM "follow-from"
#define WS_KEY_FOLLOW_TO "follow-to"
#define WS_KEY_FOLLOW_WORKTREE "follow-worktree" /* one per worktree */
#define WS_KEY_REMOVING "removing"
#define WS_KEY_REMOVING_ADMIN "removing-admin"
#define WS_KEY_REMOVING_HEAD "removing-head"
#define WS_REASON_QUEUED "queued" /* the reason of a start not yet made */
#define WS_KEY_UNDO_FROM "undo-from"
#define WS_KEY_UNDO_TO "undo-to"
#define WS_KEY_SLOT_TAKING "slot-taking"
#define WS_KEY_SLOT_TO "slot-to"
#define WS_KEY_SLOT_FROM "slot-from"

enum ws_intent_kind {
	WS_INTENT_ALLOCATE,
	WS_INTENT_FOLLOW,
	WS_INTENT_REMOVE,
	WS_INTENT_START,
	WS_INTENT_UNDO,
	WS_INTENT_SLOT,
	WS_INTENT_NR
};
#define WS_INTENT_ALL ((1u << WS_INTENT_NR) - 1)

/*
 * One recorded intent. For ws_intent_record() its strings are the
 * caller's; ws_intents_get() makes copies that the intent owns, with
 * `worktrees` (ws_intents_free()), so that a repair may change or
 * remove the state record they came from.
 */
struct ws_intent {
	enum ws_intent_kind kind;
	const char *id;
	const char *role;      /* ALLOCATE: WS_ALLOCATING_OWNER or _SHARE;
				  SLOT: the slot's name (slot-taking) */
	const char *worktree;  /* ALLOCATE: `worktree`; REMOVE: `removing` */
	const char *branch;    /* ALLOCATE: `branch` */
	const char *base_oid;  /* ALLOCATE: `base-oid` */
	const char *from, *to; /* FOLLOW, UNDO, SLOT: hex (SLOT's from may be NULL) */
	struct strvec worktrees; /* FOLLOW: the follow-worktree values */
	const char *admin;     /* REMOVE: <id> of worktrees/<id> */
	const char *head;      /* REMOVE: hex, or NULL */
	long pid;              /* START */
	struct strvec owned;   /* private: ws_intents_get()'s copies */
};
#define WS_INTENT_INIT { WS_INTENT_ALLOCATE, NULL, NULL, NULL, NULL, NULL, \
			 NULL, NULL, STRVEC_INIT, NULL, NULL, 0, STRVEC_INIT }

/*
 * Record `in` in the section of in->id (created when needed) of `st`,
 * which the caller holds locked and writes (ws_state_write()) before it
 * acts. ALLOCATE writes `allocating` only (the caller sets `worktree`,
 * `branch` and `base-oid`, which outlive it); FOLLOW replaces any earlier
 * follow record; START sets status, reason and pid; UNDO sets undo-from
 * and undo-to.
 */
void ws_intent_record(struct ws_state *st, const struct ws_intent *in);

/*
 * Drop the record of `kind` for `id` (nothing when there is none); START
 * drops reason "queued" only. The caller writes the state.
 */
void ws_intent_clear(struct ws_state *st, const char *id,
		     enum ws_intent_kind kind);

/* 1 when `id` has a record of `kind` in `st`. */
int ws_intent_exists(const struct ws_state *st, const char *id,
		     enum ws_intent_kind kind);

/*
 * Every intent recorded in `st`, in the order of the state file, kinds of
 * one workstream in enum order. Returns how many, the array in *out
 * (free with ws_intents_free(), which frees the strings too).
 * A FOLLOW record without a readable follow-from and follow-to is listed
 * with from or to NULL.
 */
size_t ws_intents_get(const struct ws_state *st, struct ws_intent **out);
void ws_intents_free(struct ws_intent *list, size_t nr);

struct ws_recover;

/*
 * A repair function: finish or undo `in`. Returns 1 when the record is to
 * be cleared (done, or nothing left to do), 0 to keep it (left alone for
 * now, after saying why), -1 after an error (ws_recover() stops).
 */
typedef int (*ws_repair_fn)(struct ws_recover *rc, const struct ws_intent *in);

struct ws_recover {
	const struct ws_repo *repo;
	const struct plan *plan; /* may be NULL */
	struct ws_state *st;     /* locked by the caller (read only with dry_run) */
	int hold_fd;             /* lock held for git worktree (worktree.h); -1 */
	int dry_run;             /* say what would be done; change nothing on disk */
	unsigned kinds;          /* 1 << kind for each kind this command repairs */
	ws_repair_fn repair[WS_INTENT_NR]; /* NULL: the default, if any */
	void *data;              /* for the caller's repair functions */
	int changed;             /* out: records cleared or changed */
};
#define WS_RECOVER_INIT { NULL, NULL, NULL, -1, 0, 0, { NULL }, NULL, 0 }

/*
 * The first step of every writing command: repair the intents of
 * rc->kinds recorded in rc->st. The defaults: ALLOCATE
 * ws_worktree_recover_allocate() (after ws_worktree_drop_unfinished() of
 * every owner first, since a half-written admin directory makes every
 * `git worktree` command die), REMOVE ws_worktree_recover_remove(),
 * START ws_reap_vanished() (which also finalises vanished running
 * commands, as git ws-dispatch and git ws-status do today), SLOT
 * ws_pool_recover(); FOLLOW has none, nor has UNDO (git ws-merge
 * supplies them; their records are kept without one).
 * The records a repair clears are cleared in rc->st, which is written
 * (ws_state_write(), lock kept) when anything changed and it is locked,
 * unless dry_run. Returns 0, or -1 after an error (what was repaired
 * before it is written).
 */
int ws_recover(struct ws_recover *rc);

#endif
