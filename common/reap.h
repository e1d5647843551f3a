#ifndef REAP_H
#define REAP_H

#include "compat.h"
#include "exit-record.h"
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
