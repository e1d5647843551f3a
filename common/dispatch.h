#ifndef DISPATCH_H
#define DISPATCH_H

#include "compat.h"
#include "donefile.h"
#include "plan.h"
#include "repo.h"
#include "runner.h"
#include "state.h"
#include "strvec.h"

/*
 * Running a command in workstreams' worktrees (git ws-dispatch; git-ws(7),
 * LIFE CYCLE and DISPATCH ENVIRONMENT): a scheduler that keeps at most
 * `max_jobs` commands running, never two in one worktree, retries
 * failures, enforces timeouts on whole process groups, and records every
 * start and end in the state.
 *
 *	struct ws_dispatch d;
 *	ws_dispatch_init(&d, &repo, &plan);
 *	d.max_jobs = 4;
 *	ws_state_lock(&st, ...);
 *	ws_dispatch_add(&d, &st, idx, &opts);     for each workstream
 *	ws_dispatch_mark_queued(&d, &st);
 *	ws_state_commit(&st);
 *	ws_dispatch_run(&d);
 *	ws_dispatch_release(&d);
 *
 * ws_dispatch_run() holds the state lock only for short transactions,
 * never while a command runs. It calls d->notify for every event; a
 * caller that dispatches in rounds (a later `--loop`) may call
 * ws_dispatch_add() and ws_dispatch_mark_queued() again (with its own
 * state transaction) from the notify callback of a WS_EV_DONE event,
 * and the new jobs run in the same call of ws_dispatch_run().
 *
 * State written (state.h): a queued job is `in_progress` with reason
 * "queued" and `pid` = d->owner (the process that will start it); a
 * running one `in_progress` with `pid` (its process group), `started`
 * and `attempts` + 1; at the end `done`, or `failed` with a reason naming
 * the exit status (or signal, or timeout, or the done file's complaint)
 * and the log, with `finished` set and `pid` removed. `iterations` is
 * never changed here. A command runs only once the state records its
 * start (the commands started together wait for one write that records
 * them all), so that no later dispatch takes it for a job that never
 * started. Ends are written in batches, at most 100 ms late (see
 * ws_dispatch_flush()); meanwhile an ended command is kept unreaped, so
 * that its recorded pid never looks vanished.
 *
 * Cost (cost.h): the "usage" of an attempt's done file is added to the
 * workstream's sums in the same write that records its end. No attempt
 * starts once the plan's budget (max-cost) is spent: a job about to start
 * goes back to `ready` with reason "budget spent" (WS_EV_SKIPPED).
 *
 * Files: the command's stdout and stderr are appended to
 * logs/<id>.log (the log file is the child's stdout and stderr itself,
 * so nothing is lost however much or fast it writes), after a header
 * line naming the attempt, the command and the time, and followed by a
 * footer line naming the result. coordination/<id>.done is removed
 * before each attempt and afterwards validated (donefile.h), or written
 * from the exit status when the command did not write it.
 *
 * Each command runs under a supervisor (run.h, start_command() with
 * on_end): the process whose pid the state records leads the command's
 * process group, runs the command in it and, when it ends, writes the
 * done file when the command did not, then the exit record
 * coordination/<id>.exit (reap.h), and ends as the command did. So the
 * end of a command is on disk even when its dispatcher died first, and
 * the next dispatch credits it (ws_reap_vanished()) rather than running
 * it again. The state also records the supervisor's start time
 * (`pid-start`) and the dispatcher's pid (`dispatcher`).
 */

enum ws_job_phase {
	WS_JOB_QUEUED,
	WS_JOB_RUNNING,
	WS_JOB_ENDED,
};

struct ws_job {
	size_t idx;          /* in plan->ws */
	const char *id;      /* borrowed from the plan */
	char *worktree;      /* from the state */
	char *branch;        /* from the state */
	char *command;       /* shell text, run as /bin/sh -c */
	struct strvec args;  /* "$0" and "$@" for the command, or empty */
	long timeout;        /* seconds; 0: none */
	int first;           /* never dispatched: bring the branch to base first */
	int attempts;        /* the state's attempts, counting ours */
	int iteration;       /* the state's iterations */
	int tries;           /* attempts started by this dispatch */
	int rank;            /* position in the plan's topological order */
	enum ws_job_phase phase;

	pid_t pid;           /* while running: the process group leader */
	uint64_t started_ms; /* monotonic_ms() at the start of this attempt */
	uint64_t ended_ms;
	uint64_t deadline_ms; /* 0: no timeout */
	uint64_t kill_ms;     /* SIGKILL the group at this time; 0: not asked */
	int timed_out, interrupted;
	int log_fd;
	char *log_path, *done_path;
	char *exit_path;     /* coordination/<id>.exit (reap.h) */
	unsigned long long pid_start; /* the start time of pid, or 0 */
	char *report;        /* $WS_REPORT; "" when none */
	char *prepare_note;  /* what bringing the branch to base did, or NULL */
	const struct ws_runner *runner; /* where its command runs (runner.h) */
	struct ws_runner_where where;   /* of the running attempt */
	int where_dirty;     /* runner->refresh() changed it: record it */

	/* the last attempt's outcome */
	int wait_status;     /* as waitpid() */
	int ok;              /* 1: the workstream is done */
	int skipped;         /* never started: its state changed under us */
	int done_unwritten;  /* dispatch owes the done file of this attempt */
	char *result;        /* "exit status 3", "killed by signal 9", ... */
	char *reason;        /* the state's reason when failed */
	struct ws_usage usage; /* its done file's "usage", until its end is recorded */
};

enum ws_dispatch_event {
	WS_EV_START,   /* an attempt started (job->tries, job->pid) */
	WS_EV_RETRY,   /* an attempt failed (job->result); it runs again */
	WS_EV_DONE,    /* the workstream is done */
	WS_EV_FAILED,  /* the workstream failed for good (job->reason) */
	WS_EV_SKIPPED, /* not started: another command changed its state */
	WS_EV_TICK,    /* time passed (job is NULL): redraw progress */
};

struct ws_pending;

struct ws_dispatch {
	const struct ws_repo *repo;
	const struct plan *plan;
	int max_jobs;        /* default 1 */
	int retries;         /* extra attempts after a failure; default 1 */
	long grace_ms;       /* SIGTERM to SIGKILL; default 3000 */
	long tick_ms;        /* WS_EV_TICK interval; 0: none */
	pid_t owner;         /* recorded as pid of queued jobs; default getpid() */
	struct ws_job **jobs; /* in topological order */
	size_t nr, alloc;
	size_t running;
	int interrupted;     /* a SIGINT, SIGTERM or SIGHUP arrived */
	void (*notify)(struct ws_dispatch *d, struct ws_job *job,
		       enum ws_dispatch_event ev);
	void *data;          /* for notify */
	int *rank;           /* rank[i]: position of ws[i] in plan->order */

	/* private: state records not yet written (ws_dispatch_flush()) */
	struct ws_pending *pending;
	size_t pending_nr, pending_alloc;
	uint64_t pending_since;
	long lock_timeout_ms;
	char *supervisor;    /* ws_supervisor_path() */
};

/* Options of one job for ws_dispatch_add(). */
struct ws_job_opts {
	const char *command;  /* NULL: the workstream's (or the plan's) command */
	const char **args;    /* NULL-terminated words after the command, or NULL */
	long timeout;         /* seconds; < 0: the workstream's, 0: none */
};
#define WS_JOB_OPTS_INIT { NULL, NULL, -1 }

void ws_dispatch_init(struct ws_dispatch *d, const struct ws_repo *r,
		      const struct plan *plan);
void ws_dispatch_release(struct ws_dispatch *d);

/*
 * Queue workstream plan->ws[idx], reading its worktree, branch, attempts
 * and iterations from `st` (read or locked). Does not change the state
 * (see ws_dispatch_mark_queued()). Returns the job (owned by d), or NULL
 * after printing an error when it cannot run: not allocated, no
 * command, or git config ws.runner names no runner (runner.h), which
 * dies instead while no command of d runs.
 */
struct ws_job *ws_dispatch_add(struct ws_dispatch *d, const struct ws_state *st,
			       size_t idx, const struct ws_job_opts *opts);

/*
 * Record every queued job of d in `st` (held by the caller, who commits):
 * `in_progress`, reason "queued", pid d->owner.
 */
void ws_dispatch_mark_queued(struct ws_dispatch *d, struct ws_state *st);

/*
 * Run until no job is queued or running. Pushes handlers for SIGCHLD,
 * SIGINT, SIGTERM and SIGHUP (sigchain_push(); a signal ignored when it
 * starts stays ignored, SIGCHLD aside) and pops them before it returns,
 * so that the lock cleanup below them is back: on SIGINT, SIGTERM or
 * SIGHUP it sends SIGTERM to every process group it started (SIGKILL after
 * grace_ms, at once on a second signal), records them `failed`
 * ("interrupted"), puts queued jobs back to `ready`, sets d->interrupted
 * and returns. Returns the number of jobs that failed.
 */
int ws_dispatch_run(struct ws_dispatch *d);

/*
 * Write the ends that ws_dispatch_run() has not recorded yet (it records
 * them in batches, at most FLUSH_MS = 100 ms late, and all before it
 * returns; starts are never late). A caller that changes the state from
 * its notify callback calls this first, so that the state it reads is
 * current.
 */
void ws_dispatch_flush(struct ws_dispatch *d);

/* Counts of d's jobs: done, failed (including skipped), running, queued. */
void ws_dispatch_counts(const struct ws_dispatch *d, size_t *done,
			size_t *failed, size_t *running, size_t *queued);

/*
 * The command line a job runs, for messages: the command and its words.
 * Returns a new string (caller frees).
 */
char *ws_job_command_line(const struct ws_job *job);

/*
 * Append one line, "=== git ws-dispatch: <text>", to the job's log
 * (control characters made harmless); nothing when the log is not open.
 * A failed write is a warning.
 */
void ws_job_log(struct ws_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
