#ifndef REAP_H
#define REAP_H

#include "compat.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"

/*
 * State keys of a running command besides `pid` (state.h), written by
 * git ws-dispatch with its start and removed with `pid`:
 *   pid-start   the start time of `pid`, in clock ticks after boot
 *               (/proc/<pid>/stat, field 22), so that a pid reused by
 *               another process since is not taken for the command;
 *   dispatcher  the pid of the git ws-dispatch that started it.
 */
#define WS_KEY_PID_START "pid-start"
#define WS_KEY_DISPATCHER "dispatcher"

/*
 * Notice dispatched commands that are gone: every `in_progress`
 * workstream whose recorded pid no longer runs (ws_command_running()),
 * or that has no pid, is finalised. When its supervisor recorded how the
 * command ended (the exit record of this pid, below), it is credited
 * from that, as the dispatcher would have: `done` when its done file
 * says "success" (the supervisor wrote it from exit 0 when the command
 * did not write one), else `failed` with the reason the dispatcher gives
 * ("exit status 3; see <log>", "the command reported 'partial': ...");
 * a footer line goes to its log. Otherwise it is finalised from its done
 * file when there is a valid one (`done` for "success", else `failed`
 * with the done file's status and summary), and else marked `failed`
 * with reason "process vanished" (or "malformed done file: ...").
 * `finished` is set and `pid`, `pid-start` and `dispatcher` removed,
 * and the usage that the done file reports is added to its sums
 * (cost.h).
 * Queued workstreams carry the pid of the dispatch that queued them, so
 * they count as gone when it is.
 *
 * For git ws-dispatch (at its start) and git ws-status: the state
 * records a start before the command runs (dispatch.h), so this is the
 * repair of a dispatcher killed at any point. The caller holds
 * the state lock (ws_state_lock()) and commits. Returns the number of
 * workstreams changed. Without /proc (and its start times), a pid reused
 * by an unrelated process since hides the vanishing until that process
 * ends.
 */
int ws_reap_vanished(const struct ws_repo *r, struct ws_state *st);

/*
 * 1 when the command recorded for `id` in `st` (its `pid`, checked
 * against `pid-start` when both are known) still runs. A zombie counts
 * only while its parent is a git-ws-dispatch, which keeps its commands
 * unreaped until it has recorded their end.
 */
int ws_command_running(const struct ws_state *st, const char *id);

/*
 * The pid of the git ws-dispatch that runs the command of `id`, when it
 * is alive, else 0: its `dispatcher`, alive, and the parent of the
 * command's supervisor (/proc; without it, kill(2) alone decides). A
 * command that runs while this is 0 was left by a dispatcher that died
 * (kill -9, a crash): `git ws-dispatch --loop` adopts it.
 */
long ws_live_dispatcher(const struct ws_state *st, const char *id);

/*
 * The exit record: coordination/<id>.exit, JSON, written atomically by
 * the supervisor that git ws-dispatch runs each command under
 * (run.h, start_command() with on_end) when the command ends, after
 * the done file, whether or not the dispatcher still lives:
 *
 *	{"workstream_id":"ws-1","pid":123,"attempt":2,"exit_code":3,
 *	 "signal":0,"done_file":"command|supervisor","finished":"<ISO 8601>"}
 *
 * `pid` is the supervisor's (the state's `pid`), `exit_code` the
 * command's exit code (0 when a signal killed it), `signal` the signal
 * that killed it (0: none), `done_file` who wrote the done file:
 * "command" (it was there when the command ended) or "supervisor" (from
 * the exit status: "success" for exit 0, else "failed"). git ws-dispatch
 * removes it before each attempt.
 */
struct ws_exit_record {
	long pid;
	int attempt;
	int status;          /* as waitpid(2) */
	int done_by_command;
	char finished[32];
};

/*
 * Write `rec` for `id` at `path` (write_file_atomically(), without
 * fsync, as the done file). Safe in the supervisor (a forked child).
 * Returns 0, or -1 with errno set.
 */
int ws_exit_record_write(const char *path, const char *id,
			 const struct ws_exit_record *rec);

/*
 * Read the exit record at `path` and check that it is for `id`. Returns
 * 0; 1 when there is none; -1 when it is malformed (the reason in *err).
 */
int ws_exit_record_read(const char *path, const char *id,
			struct ws_exit_record *rec, struct strbuf *err);

/*
 * What a waitpid(2) status says, as git ws-dispatch writes it: "exit
 * status 3", "killed by signal 9 (Killed)". Returns a new string.
 */
char *ws_describe_wait_status(int status);

/*
 * The record of the `git ws-dispatch --loop` that runs the plan:
 * coordination/dispatcher, JSON {"pid":123,"pid_start":456,
 * "started":"<ISO 8601>"}, written atomically under the state lock when
 * the loop starts and removed when it ends. A record whose process is
 * gone (or whose pid now names another process: `pid_start`) is stale,
 * and ignored.
 */
int ws_dispatcher_record_write(const struct ws_repo *r);
void ws_dispatcher_record_remove(const struct ws_repo *r);

/*
 * The pid of the live `git ws-dispatch --loop` of that record, other
 * than us, else 0; its start time in *started (ISO 8601, may be NULL).
 */
long ws_dispatcher_record_live(const struct ws_repo *r, char started[32]);

/*
 * Wait until process `pid` (not our child) has ended (run.h,
 * wait_for_process()), its start time, when known, guarding against a
 * reused pid. Returns 1 when it has ended, 0 on timeout (< 0: none).
 */
int ws_wait_for_pid(long pid, long timeout_ms);

#endif
