#ifndef STATE_H
#define STATE_H

#include "compat.h"
#include "cfgfile.h"
#include "repo.h"

/*
 * The .git/ws/ store (git-ws(7), STATE FILES): `state` holds one
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

/*
 * The life cycle of a workstream, as recorded under `status`:
 *
 *   blocked -> ready -> in_progress -> done -> converged -> merged
 *
 * with `failed` from in_progress (retries spent), done (iterations spent)
 * or a repair that cannot finish, and `cleaned` once git ws-clean has
 * removed its worktree and branch. WS_STATUS_NONE stands for "no
 * record": not allocated yet, or being allocated.
 */
enum ws_status {
	WS_STATUS_NONE = 0,
	WS_STATUS_BLOCKED,
	WS_STATUS_READY,
	WS_STATUS_IN_PROGRESS,
	WS_STATUS_DONE,
	WS_STATUS_CONVERGED,
	WS_STATUS_MERGED,
	WS_STATUS_FAILED,
	WS_STATUS_CLEANED,
};

/*
 * The text of `status` as the state file spells it ("in_progress"), a
 * static string; NULL for WS_STATUS_NONE.
 */
const char *ws_status_name(enum ws_status status);

/*
 * Parse the text of a status. Returns 0 and sets *out, or -1 when `text`
 * is NULL or no status (the state reader refuses such a file, so
 * ws_state_status() never meets one).
 */
int ws_status_parse(const char *text, enum ws_status *out);

/*
 * 1 when `status` ends the life cycle: merged or cleaned. Nothing is
 * dispatched, converged or merged any more.
 */
int ws_status_is_finished(enum ws_status status);

/*
 * The state keys of a workstream's section. Each command's own
 * recovery records are named in recover.h.
 */
#define WS_KEY_STATUS "status"
#define WS_KEY_REASON "reason"
#define WS_KEY_WORKTREE "worktree"
#define WS_KEY_BRANCH "branch"
#define WS_KEY_BASE_OID "base-oid"     /* the base tip the branch was made at */
#define WS_KEY_CREATED "created"       /* ISO 8601 UTC, when alloc made it */
#define WS_KEY_PORT "port"             /* the first of its block of TCP ports */
#define WS_KEY_ITERATIONS "iterations" /* convergences that failed */
#define WS_KEY_ATTEMPTS "attempts"     /* dispatched command runs */
#define WS_KEY_PID "pid"               /* the running command's group */
#define WS_KEY_STARTED "started"       /* ISO 8601 UTC */
#define WS_KEY_FINISHED "finished"     /* ISO 8601 UTC */
#define WS_KEY_MERGE_OID "merge-oid"   /* its merge commit on the base */
#define WS_KEY_TESTED_TREE "tested-tree"
#define WS_KEY_TESTED_COMMANDS "tested-commands"
#define WS_KEY_SENT_BACK "sent-back"   /* "merge": git ws-merge sent it back */
#define WS_KEY_TEST_RUNS "test-runs"   /* git ws-merge's test runs on its merge */
#define WS_KEY_CLEANED "cleaned"       /* ISO 8601 UTC */
#define WS_KEY_ARCHIVE "archive"
/* sums over every run whose done file reported them (cost.h) */
#define WS_KEY_TOKENS_IN "tokens-in"   /* a count */
#define WS_KEY_TOKENS_OUT "tokens-out" /* a count */
#define WS_KEY_COST_USD "cost-usd"     /* US dollars, 6 decimals: "0.012300" */
/* where its command runs or ran (runner.h): the runner, and its record */
#define WS_KEY_RUNNER "runner"
#define WS_KEY_JOB_ID "job-id"           /* srun: the Slurm job */
#define WS_KEY_HOST "host"               /* ssh */
#define WS_KEY_TMUX_TARGET "tmux-target" /* tmux: <session>:<window> */

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

/*
 * The transaction as most callers write it: ws_state_lock() on the
 * repository's ws/ with its lock timeout (ws_lock_timeout_ms()), and a
 * commit or write that dies "cannot write '<state file>'" on failure.
 */
void ws_state_lock_repo(struct ws_state *st, const struct ws_repo *r);
void ws_state_commit_or_die(struct ws_state *st);
void ws_state_write_or_die(struct ws_state *st);

/* Unlock without writing (if locked), and free everything. */
void ws_state_release(struct ws_state *st);

/*
 * Lifetimes: a section, id or value that the functions below return
 * points into `st` and stays valid until `st` changes the same thing:
 * a value until the next ws_state_set() of that key for that workstream
 * (ws_state_set_status() sets two), a section or id until a workstream
 * is added or removed, and everything until ws_state_release(). Copy a
 * value before changing the key it came from.
 */

/* The section of workstream `id`, or NULL. */
struct cfg_section *ws_state_find(const struct ws_state *st, const char *id);
/* The value of `key` for `id`, or NULL. */
const char *ws_state_get(const struct ws_state *st, const char *id,
			 const char *key);
/* The status of `id`; WS_STATUS_NONE when it has no record or status. */
enum ws_status ws_state_status(const struct ws_state *st, const char *id);

/*
 * The workstreams that have a record, in file order:
 *
 *	size_t pos = 0;
 *	const char *id;
 *	while ((id = ws_state_next(st, &pos)))
 *		...
 *
 * `pos` starts at 0. The ids are borrowed (see the lifetimes above);
 * add or remove no workstream during the walk.
 */
const char *ws_state_next(const struct ws_state *st, size_t *pos);
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
/*
 * ws_state_set() of status, and of reason (NULL removes the reason).
 * WS_STATUS_NONE removes the status.
 */
void ws_state_set_status(struct ws_state *st, const char *id,
			 enum ws_status status, const char *reason);
/* Remove the workstream's record entirely. */
void ws_state_remove(struct ws_state *st, const char *id);

/*
 * The plan-level section of `state`, [plan] (no subsection), for what
 * belongs to the plan as a whole (WS_PLAN_KEY_*): get a key's value
 * (NULL: not set; lifetime as above), or set it (NULL removes it).
 */
#define WS_PLAN_KEY_FINAL_TEST "final-test"          /* "passed" or "failed" */
#define WS_PLAN_KEY_FINAL_TEST_OID "final-test-oid"  /* the base commit tested */
#define WS_PLAN_KEY_FINAL_TEST_LOG "final-test-log"  /* its log */
const char *ws_state_plan_get(const struct ws_state *st, const char *key);
void ws_state_plan_set(struct ws_state *st, const char *key,
		       const char *value);

/* The queue, in order: number of items and the i-th id. */
size_t ws_queue_nr(const struct ws_state *st);
const char *ws_queue_item(const struct ws_state *st, size_t i);
/*
 * All the queue's ids, in order, in one pass (O(n), where a loop over
 * ws_queue_item() may be O(n^2)): a new array (the caller frees it, not
 * the strings, which belong to st and last until it changes) of *nr.
 */
const char **ws_queue_items(const struct ws_state *st, size_t *nr);
/* 1 when id is in the queue. */
int ws_queue_contains(const struct ws_state *st, const char *id);
/* Append id (no-op when present) / remove it (no-op when absent). */
void ws_queue_push(struct ws_state *st, const char *id);
void ws_queue_remove(struct ws_state *st, const char *id);

#endif
