#ifndef STATE_H
#define STATE_H

#include "compat.h"
#include "cfgfile.h"
#include "repo.h"

/*
 * The .git/ws/ store (DESIGN.md §3): `state` holds one
 * [workstream "ID"] section per workstream, `queue` the merge queue
 * ([queue] item = ID, in order). Both are git-config syntax:
 * `git config -f .git/ws/state workstream.ws-1.status` reads them.
 *
 * Updates are transactions: ws_state_lock() takes flock(2) on ws/lock
 * (bounded wait; the lock dies with its process, so kill -9 never leaves
 * it held), then reads both files; the caller changes records in memory;
 * ws_state_commit() writes each changed file through FILE.lock, fsync
 * and rename, then releases. Several processes updating different
 * workstreams therefore never lose each other's updates. Readers that do
 * not change anything use ws_state_read() and take no lock.
 *
 * The queue always holds exactly the `converged` workstreams: both
 * readers repair it in memory when the two files disagree (a command
 * killed between their two renames), and the next commit writes it.
 */

/* Workstream statuses (DESIGN.md §4), as written in the state file. */
#define WS_BLOCKED "blocked"
#define WS_READY "ready"
#define WS_IN_PROGRESS "in_progress"
#define WS_DONE "done"
#define WS_CONVERGED "converged"
#define WS_MERGED "merged"
#define WS_FAILED "failed"
#define WS_CLEANED "cleaned"

/* 1 when `status` is one of the statuses above. */
int ws_status_is_valid(const char *status);

/*
 * 1 when `status` (NULL: not allocated) ends the life cycle: merged or
 * cleaned. Nothing is dispatched, converged or merged any more.
 */
int ws_status_is_finished(const char *status);

struct ws_state {
	char *dir;          /* .git/ws */
	char *state_path;
	char *queue_path;
	struct cfg_file state;
	struct cfg_file queue;
	int lock_fd;        /* -1 when not locked */
	int state_dirty, queue_dirty;
};
#define WS_STATE_INIT { NULL, NULL, NULL, CFG_FILE_INIT, CFG_FILE_INIT, -1, 0, 0 }

/*
 * 1 when the work of workstream `id` is in its base: it is merged, or it
 * was cleaned after its merge (a `merge-oid` is recorded). One cleaned by
 * `git ws-clean --force` without a merge is not: it unblocks no dependent
 * and satisfies no "deps merged" gate.
 */
int ws_is_merged(const struct ws_state *st, const char *id);

/*
 * Read state and queue without locking (missing files read as empty).
 * Returns 0, or -1 with "<file>:<line>: <what>" in *err.
 */
int ws_state_read(struct ws_state *st, const char *ws_dir, struct strbuf *err);

/*
 * Lock ws/lock (waiting at most timeout_ms) and read. Dies with a clear
 * message when the lock stays busy ("another git-ws command is updating
 * ...") or a file does not parse; creates ws_dir if needed.
 */
void ws_state_lock(struct ws_state *st, const char *ws_dir, long timeout_ms);

/*
 * Write what changed (atomically) and unlock. Returns 0, or -1 with errno
 * (nothing of the failed file changed; the lock is released either way).
 */
int ws_state_commit(struct ws_state *st);

/*
 * Write what changed (atomically) and keep the lock, for a command that
 * records progress step by step. Returns 0, or -1 with errno.
 */
int ws_state_write(struct ws_state *st);

/* Unlock without writing (if locked), and free everything. */
void ws_state_release(struct ws_state *st);

/* The section of workstream `id`, or NULL. */
struct cfg_section *ws_state_find(const struct ws_state *st, const char *id);
/* The value of `key` for `id`, or NULL. */
const char *ws_state_get(const struct ws_state *st, const char *id,
			 const char *key);
/*
 * The integer value of `key` for `id` (a count or a pid), or `def` when
 * it is unset or not a number from 0 to WS_STATE_LONG_MAX: a hand-edited
 * or corrupt state can then make no counter overflow (an int, plus one)
 * and no pid negative (kill(-1, 0) asks about every process).
 */
#define WS_STATE_LONG_MAX (INT_MAX / 2)
long ws_state_get_long(const struct ws_state *st, const char *id,
		       const char *key, long def);
/*
 * Set (value copied) or, with value NULL, remove `key` for `id`, creating
 * the workstream's section when needed. Marks the state changed.
 */
void ws_state_set(struct ws_state *st, const char *id, const char *key,
		  const char *value);
void ws_state_setf(struct ws_state *st, const char *id, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* ws_state_set() of status, and of reason (NULL removes the reason). */
void ws_state_set_status(struct ws_state *st, const char *id,
			 const char *status, const char *reason);
/* Remove the workstream's record entirely. */
void ws_state_remove(struct ws_state *st, const char *id);

/* The queue, in order: number of items and the i-th id. */
size_t ws_queue_nr(const struct ws_state *st);
const char *ws_queue_item(const struct ws_state *st, size_t i);
/* 1 when id is in the queue. */
int ws_queue_contains(const struct ws_state *st, const char *id);
/* Append id (no-op when present) / remove it (no-op when absent). */
void ws_queue_push(struct ws_state *st, const char *id);
void ws_queue_remove(struct ws_state *st, const char *id);

#endif
