#ifndef RUN_H
#define RUN_H

#include "compat.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * Child processes, as git's run-command.h: fill a child_process, start
 * it, finish it. Used to run git's own plumbing where git-ws needs it
 * (worktree creation, merge-tree, push) and the plan's commands.
 *
 *	struct child_process cp = CHILD_PROCESS_INIT;
 *	cp.git_cmd = 1;
 *	strvec_pushv(&cp.args, (const char *[]){ "worktree", "add", path, NULL });
 *	if (run_command(&cp)) ...
 */
struct child_process {
	struct strvec args;  /* argv; args.v[0] is the program */
	struct strvec env;   /* "NAME=value" to set, "NAME" to unset */
	const char *dir;     /* chdir() here first; borrowed */
	int git_cmd;         /* prepend "git" to args */
	int use_shell;       /* run args.v[0] as `/bin/sh -c <it>` (plus args) */
	int no_stdin;        /* stdin from /dev/null */
	int out;             /* >= 0: child's stdout goes to this fd (may equal err) */
	int err;             /* >= 0: child's stderr goes to this fd */
	int stdout_to_stderr;
	int no_stdout;       /* stdout to /dev/null */
	int no_stderr;       /* stderr to /dev/null */
	int new_pgrp;        /* the child leads a new process group (for kill -pgid) */
	int new_session;     /* setsid(): detached from our terminal and Ctrl-C */
	int gate[2];         /* a start gate, or -1 (see start_command()) */
	int hold_fd;         /* held until the program ends, or -1 (start_command()) */
	pid_t pid;
	/* with it, a supervisor program runs the program (start_command()) */
	const char *supervisor;      /* its path; borrowed */
	struct strvec supervisor_args; /* its arguments before "--" */
};
#define CHILD_PROCESS_INIT { STRVEC_INIT, STRVEC_INIT, NULL, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, { -1, -1 }, -1, 0, NULL, STRVEC_INIT }

/*
 * Start the child. `out` and `err` belong to start_command() from then
 * on: it closes them in this process, whether it succeeds or not.
 * Returns 0, or -1 after printing "error: cannot run <prog>: <strerror>"
 * (fork failure; an exec failure is reported by the child and shows as
 * exit 127 from finish_command()).
 *
 * With a start gate (gate[0] >= 0: a pipe the caller made with O_CLOEXEC
 * and keeps; only with a supervisor, below), the supervisor waits to read
 * one byte from it before it runs the program. At end of file, when every
 * write end was closed without a byte for it (the caller died, or called
 * the start off), it exits 127 without running anything. gate[1] is
 * closed by the exec, so that only the caller's copy keeps the gate shut.
 * Several children may share one gate: write one byte for each, while
 * still holding gate[0] (a write to a pipe without readers would be
 * SIGPIPE).
 *
 * With hold_fd (>= 0, a close-on-exec fd of the caller's, such as a flock
 * lock), the child stays behind as a keeper of that fd and runs the
 * program in a child of its own, ending as the program ends (same exit
 * code, same signal): cp->pid is the keeper's. So the fd, and a lock on
 * it, lives as long as the program does, even when the caller is killed
 * first, and yet the program (and the hooks or daemons it starts) never
 * sees it.
 *
 * With a supervisor (a program's path, such as ws_supervisor_path()'s),
 * the child is not forked but spawned (posix_spawn(3): no copy of our
 * address space, which matters to a caller that holds a large plan and
 * starts many short commands) and runs
 *
 *	<supervisor> [--gate] <supervisor_args>... -- <the program's argv>
 *
 * with the process group, session, fds, directory and environment set
 * as above; with a start gate, gate[0] is its stdin (the supervisor
 * waits at the gate, then gives the program /dev/null). It is the
 * program's supervisor: it leads the process group and runs the program
 * in it, and ends as the program ends (cmd/ws-supervise.c). hold_fd is
 * not supported with it. A spawn that fails (no such supervisor, no
 * such directory) returns -1 here, after "error: cannot run ...".
 */
int start_command(struct child_process *cp);

/*
 * Wait for the child. Returns its exit code; 128 + signal number when a
 * signal killed it (as git's wait_or_whine); -1 when waitpid() fails.
 * Frees args and env.
 */
int finish_command(struct child_process *cp);

/* start_command() and finish_command(). */
int run_command(struct child_process *cp);

/*
 * Run the child with stdout (and stderr, when err is not NULL) captured
 * into the strbufs, read concurrently so neither pipe can fill and block.
 * Returns what finish_command() returns, or -1 if it could not start.
 */
int capture_command(struct child_process *cp, struct strbuf *out,
		    struct strbuf *err);

/*
 * Wait up to timeout_ms for a started child (timeout_ms <= 0: forever).
 * On timeout, kill its process group (the child must have new_pgrp or
 * new_session) with SIGTERM, then SIGKILL after `grace_ms`, reap it, set
 * *timed_out = 1 and return 128 + SIGTERM/SIGKILL. Otherwise as
 * finish_command(). Meanwhile a fatal signal that we catch (Ctrl-C, which
 * does not reach a group of its own) is passed on to the child's group
 * (forward_signals_to_group()), so that it does not run on after us.
 */
int finish_command_timeout(struct child_process *cp, long timeout_ms,
			   long grace_ms, int *timed_out);

/*
 * Push, once (later calls do nothing), the handler that passes SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT on to the process groups registered with
 * forward_signals_to_group(), then on down the chain (sigchain_pop(),
 * raise()): a group of its own is out of reach of the terminal's Ctrl-C
 * and of a kill of our group. It plays the part of the handler that
 * git's run-command.c pushes for child_process.clean_on_exit, for whole
 * groups and on signals only. main() calls it at start-up, after
 * lockfile_install_cleanup(), so that it runs first and stays below any
 * handler pushed for a while (ws_dispatch_run()'s); otherwise the first
 * forward_signals_to_group() calls it.
 */
void install_signal_forwarding(void);

/*
 * While registered, a signal that the handler above catches is also
 * sent to the process group `pgid` (a child started with new_pgrp or
 * new_session: kill(-pgid, sig)), followed by SIGTERM when it was
 * another signal, so that a command that catches Ctrl-C still stops.
 * Not async-signal-safe (it may push the
 * handler); the handler itself only reads the registry. At most 8
 * groups at once: returns 0, or -1 when they are all taken.
 */
int forward_signals_to_group(pid_t pgid);
/* Take `pgid` out of that registry; a group not in it is left alone. */
void stop_forwarding_signals_to_group(pid_t pgid);

/*
 * The supervisor program git ws-dispatch runs its commands under
 * (cmd/ws-supervise.c): <the directory of our executable>/
 * WS_SUPERVISOR_REL, where the build and `make install` put it, as
 * git finds its helpers in its exec path. Returns a new string, or NULL
 * when it is not there (or not executable).
 */
#define WS_SUPERVISOR_REL "../libexec/git-ws/ws-supervise"
char *ws_supervisor_path(void);

/* Free args, env and supervisor_args without waiting. */
void child_process_clear(struct child_process *cp);

/* Kill the process group of a child started with new_pgrp/new_session. */
void kill_process_group(pid_t pgid, int sig);

/* 1 when a process with this pid exists (kill(pid, 0)), else 0. */
int process_is_alive(pid_t pid);

/*
 * The start time of process `pid`, in clock ticks after boot (field 22
 * of /proc/<pid>/stat): with the pid, it names one process even once
 * the pid is reused. Returns 0, or -1 (no such process, or no /proc).
 */
int process_start_time(pid_t pid, unsigned long long *start);

/*
 * The parent pid and state letter of `pid` (fields 4 and 3 of
 * /proc/<pid>/stat; `state` may be NULL). Returns 0, or -1.
 */
int process_parent(pid_t pid, pid_t *ppid, char *state);

/*
 * Wait until `pid`, which need not be our child, has ended, or for
 * `timeout_ms` (< 0: no limit). With pidfd_open(2) (Linux 5.3) the
 * wait is a poll(2) of its pidfd, which wakes when it exits (it may stay
 * a zombie); otherwise kill(pid, 0) is tried every 50 ms, which sees a
 * zombie as alive. `is_running`, when not NULL, decides instead whether
 * it still runs (for a zombie, or a reused pid); it is asked at least
 * once a second. Returns 1 when it has ended, 0 on timeout, -1 when a
 * signal interrupted the wait (EINTR).
 */
int wait_for_process(pid_t pid, long timeout_ms,
		     int (*is_running)(pid_t pid, void *data), void *data);

#endif
