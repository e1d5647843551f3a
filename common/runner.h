#ifndef RUNNER_H
#define RUNNER_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "strbuf.h"

/*
 * Runners: where a plan's commands run (git-ws(7), RUNNERS). Every
 * command git-ws runs for a workstream (the dispatched command, the
 * gates, the test of a merge, setup and teardown) is a child_process
 * (run.h) with use_shell, its directory, environment and log; a runner
 * turns it into a *local proxy*: a child that start_command() starts
 * and the callers supervise as before (its process group, its exit
 * status, its timeout), and that runs the command where the runner
 * runs it:
 *
 *	local   /bin/sh -c <command>, as ever (the proxy is the command)
 *	tmux    a client that runs the command in a window of the tmux
 *	        session ws-<plan> and waits for it (runner-tmux.c)
 *	srun    srun ... (runner-srun.c)
 *	ssh     ssh ... (runner-ssh.c)
 *
 * The proxy ends as the command ends: exit code N when it exited N,
 * killed by signal S (or exit 128 + S) when it was. A SIGTERM, SIGINT
 * or SIGHUP to the proxy's process group stops the command wherever it
 * runs; what a SIGKILL of the proxy cannot reach, the runner's stop
 * hook does (the caller calls ws_runner_stop() wherever it signals the
 * group). So exit status, `timeout`, `--retries` and stopping the
 * dispatcher mean the same on every runner.
 *
 * A new runner is a file that defines a `const struct ws_runner` and a
 * row in the table of runner.c.
 *
 *	struct ws_runner_cmd rc = WS_RUNNER_CMD_INIT;
 *	struct ws_runner_where where = WS_RUNNER_WHERE_INIT;
 *	... fill cp as for a local command, rc.repo/plan/idx/what/log_path ...
 *	if (ws_runner_start(runner, &rc, &cp, &where, &err) < 0) ...
 *	... on timeout or stop: kill_process_group(cp.pid, sig);
 *	...                     ws_runner_stop(runner, &where, sig);
 *	ws_runner_where_release(&where);
 */

/* What the caller runs, beside the child_process itself. */
struct ws_runner_cmd {
	const struct ws_repo *repo;
	const struct plan *plan;
	size_t idx;            /* plan->ws[idx] is the workstream */
	/*
	 * What it is, one word that names its private directory and, for
	 * tmux, its window: "command" (the dispatched command; its window
	 * is the bare id), "test", "check-1", "merge-test", "setup",
	 * "teardown", ...
	 */
	const char *what;
	const char *log_path;  /* where cp's stdout and stderr go, or NULL */
	long timeout;          /* seconds, 0: none; the caller enforces it */
};
#define WS_RUNNER_CMD_INIT { NULL, NULL, 0, "command", NULL, 0 }

/*
 * Where a command runs: the state keys `runner`, `job-id`, `host` and
 * `tmux-target` of the workstream (ws_runner_where_record()). The
 * strings are the record's own (ws_runner_where_release() frees them);
 * NULL when the runner has none.
 */
struct ws_runner_where {
	const char *runner;    /* the runner's name (static) */
	char *job_id;          /* srun: the Slurm job id */
	char *host;            /* ssh: the host */
	char *tmux_target;     /* tmux: <session>:<window> */
	/*
	 * A directory of this run's own (<ws dir>/runner/<id>.<what>),
	 * created by ws_runner_start() before prepare, for the files a
	 * runner keeps while the command runs (tmux: the window's status
	 * and pane pid). NULL for local, which needs none.
	 */
	char *run_dir;
};
#define WS_RUNNER_WHERE_INIT { NULL, NULL, NULL, NULL, NULL }

struct ws_runner {
	const char *name;
	/*
	 * Turn `cp`, filled for a local run (args with use_shell: args.v[0]
	 * the command, the rest its "$@"; dir; env; out/err; new_pgrp),
	 * into its proxy: rewrite cp->args (and cp->use_shell, cp->env)
	 * as needed; the environment the proxy gets (ours plus cp->env)
	 * must reach the command unchanged. Fill `where` (runner is set
	 * already). NULL: run cp as it is (local). Returns 0, or -1 with
	 * the reason in `err` (one line, no "error: ").
	 */
	int (*prepare)(const struct ws_runner_cmd *cmd, struct child_process *cp,
		       struct ws_runner_where *where, struct strbuf *err);
	/*
	 * Stop what the command runs out of reach of the proxy's process
	 * group, with `sig` (SIGTERM, then SIGKILL after the grace): the
	 * tmux pane's group, the Slurm job, the remote group. Called after
	 * the proxy's group got `sig`; must be cheap and safe to call
	 * again, and after the command ended. NULL: nothing to do.
	 */
	void (*stop)(const struct ws_runner_where *where, int sig);
	/*
	 * Learn more of `where` while the command runs (a Slurm job id that
	 * srun prints once it is allocated, say). Returns 1 when `where`
	 * changed (the dispatcher then records it in the state), else 0.
	 * The dispatcher calls it for each running command whenever its
	 * loop wakes (at least once a second), so it must be cheap (read a
	 * file in where->run_dir). NULL: `where` is complete once prepared.
	 */
	int (*refresh)(struct ws_runner_where *where);
	/*
	 * The command ended, with the proxy's waitpid(2) `status` (-1: it
	 * was prepared but could not start): called once per prepared
	 * command, before `where` is recorded for the end or released.
	 * It may complete `where` (a job id learnt too late for refresh),
	 * free what the runner holds for the command (an ssh host's slot),
	 * and, when the runner knows better than the exit status why it
	 * ended (Slurm cancelled the job, ssh could not reach the host),
	 * put that in `why` (one line) and return 1; else return 0.
	 * NULL: nothing to add.
	 */
	int (*end)(struct ws_runner_where *where, int status, struct strbuf *why);
};

extern const struct ws_runner ws_runner_local, ws_runner_tmux;
/* defined in runner-srun.c and runner-ssh.c */
extern const struct ws_runner ws_runner_srun, ws_runner_ssh;

/* The runner called `name`, or NULL. */
const struct ws_runner *ws_runner_find(const char *name);

/* The runners' names, ", "-separated, for messages ("local, tmux, ..."). */
void ws_runner_names(struct strbuf *out);

/*
 * The runner of plan->ws[idx]: its `runner` (the workstream's, else the
 * plan's), else git config ws.runner, else local; with `gate`, its
 * `gate-runner` (the same way) first. plan_read() checked the plan's
 * names; a bad ws.runner is an error: NULL, with "bad ws.runner '<x>'
 * in git config (expected one of ...)" in `err`.
 */
const struct ws_runner *ws_runner_for(const struct ws_repo *r,
				      const struct plan *plan, size_t idx,
				      int gate, struct strbuf *err);

/*
 * Prepare `cp` through `runner` (see struct ws_runner), then
 * start_command() it. On success returns 0 with `where` filled (the
 * caller releases it). Returns -1 with the reason in `err` when the
 * runner cannot prepare it (cp cleared, its out/err closed) or
 * start_command() fails (cp cleared).
 */
int ws_runner_start(const struct ws_runner *runner,
		    const struct ws_runner_cmd *cmd, struct child_process *cp,
		    struct ws_runner_where *where, struct strbuf *err);

/*
 * runner->end(where, status, why) when there is one (see struct
 * ws_runner); 0 when there is none.
 */
int ws_runner_end(const struct ws_runner *runner, struct ws_runner_where *where,
		  int status, struct strbuf *why);

/* runner->stop(where, sig) when there is one. */
void ws_runner_stop(const struct ws_runner *runner,
		    const struct ws_runner_where *where, int sig);

/*
 * finish_command_timeout() (run.h) for a child started through
 * ws_runner_start(), which calls the runner's stop hook too: with
 * SIGTERM when the timeout ran out, then SIGKILL, and with SIGTERM once
 * the command ended (what it left running goes too).
 */
int ws_runner_finish_timeout(const struct ws_runner *runner,
			     const struct ws_runner_where *where,
			     struct child_process *cp, long timeout_ms,
			     long grace_ms, int *timed_out);

/*
 * Write `where` into the workstream's section of the state (caller holds
 * the lock): runner, job-id, host, tmux-target; a NULL field removes its
 * key. With where == NULL, remove all four.
 */
void ws_runner_where_record(struct ws_state *st, const char *id,
			    const struct ws_runner_where *where);

void ws_runner_where_release(struct ws_runner_where *where);

/*
 * One line for people on where a command runs, from the state's record
 * (any of the strings may be NULL), appended to out: "running on tmux:
 * tmux attach -t ws-plan:id" (with "-S <socket>" when a socket is set,
 * see ws_runner_tmux_socket()), "running on srun: job 1234", "running
 * on ssh: host h1", "running on <runner>".
 */
void ws_runner_describe(const struct ws_repo *r, const char *runner,
			const char *job_id, const char *host,
			const char *tmux_target, struct strbuf *out);

/*
 * `s` as one word for /bin/sh, appended to out: as it is when it has
 * only characters the shell takes literally, else in single quotes
 * (each ' as '\'').
 */
void ws_runner_sq_quote(struct strbuf *out, const char *s);

/*
 * The tmux server the tmux runner uses: the socket path in the
 * environment's GIT_WS_TMUX_SOCKET, else git config ws.tmuxSocket, else
 * NULL: tmux's default server (which honours TMUX_TMPDIR). Caller frees.
 */
char *ws_runner_tmux_socket(const struct ws_repo *r);

#endif
