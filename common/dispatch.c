#include "compat.h"
#include "dispatch.h"
#include "ws.h"
#include "base-update.h"
#include "cost.h"
#include "donefile.h"
#include "lockfile.h"
#include "reap.h"
#include "recover.h"
#include "run.h"
#include "sigchain.h"
#include "usage.h"
#include "wrapper.h"
#include <poll.h>

/* ---------------------------------------------------------------- signals */

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_signals;
static const int handled_signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };

/*
 * Wake the loop of ws_dispatch_run() through the pipe; a stop (SIGINT,
 * SIGTERM, SIGHUP) is counted, and the loop acts on it. It does not
 * pass the signal on down the chain: the loop ends the run itself.
 */
static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig != SIGCHLD)
		stop_signals++;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the loop wakes up anyway */
	}
	errno = saved;
}

/* A signal ignored by our parent (nohup) stays so: see sigchain_push(). */
static void install_signals(void)
{
	size_t i;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_errno("cannot create a pipe");
	stop_signals = 0;
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
		if (sigchain_push(handled_signals[i], on_signal) < 0)
			die_errno("cannot catch signal %d", handled_signals[i]);
}

static void restore_signals(void)
{
	size_t i = ARRAY_SIZE(handled_signals);

	while (i--)
		sigchain_pop(handled_signals[i]);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	sig_pipe[0] = sig_pipe[1] = -1;
}

static void drain_signal_pipe(void)
{
	char buf[64];

	while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* ------------------------------------------------------------ set-up */

void ws_dispatch_init(struct ws_dispatch *d, const struct ws_repo *r,
		      const struct plan *plan)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->repo = r;
	d->plan = plan;
	d->max_jobs = 1;
	d->retries = 1;
	d->grace_ms = 3000;
	d->owner = getpid();
	d->lock_timeout_ms = ws_lock_timeout_ms(r);
	d->supervisor = ws_supervisor_path();
	if (!d->supervisor)
		die("cannot find the supervisor of dispatched commands, '%s' from the directory of the git-ws binaries; install git-ws with 'make install'",
		    WS_SUPERVISOR_REL);
	d->rank = xcalloc(plan->nr + 1, sizeof(*d->rank));
	for (i = 0; i < plan->nr; i++)
		d->rank[plan->order[i]] = (int)i;
}

static void job_free(struct ws_job *job)
{
	if (job->log_fd >= 0)
		close(job->log_fd);
	free(job->worktree);
	free(job->branch);
	free(job->command);
	strvec_clear(&job->args);
	free(job->log_path);
	free(job->done_path);
	free(job->exit_path);
	free(job->report);
	free(job->prepare_note);
	free(job->result);
	free(job->reason);
	ws_runner_where_release(&job->where);
	free(job);
}

void ws_dispatch_release(struct ws_dispatch *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		job_free(d->jobs[i]);
	free(d->jobs);
	free(d->rank);
	FREE_AND_NULL(d->supervisor);
	free(d->pending);
	d->pending = NULL;
	d->jobs = NULL;
	d->rank = NULL;
	d->nr = d->alloc = 0;
}

struct ws_job *ws_dispatch_add(struct ws_dispatch *d, const struct ws_state *st,
			       size_t idx, const struct ws_job_opts *opts)
{
	const struct plan_workstream *w = &d->plan->ws[idx];
	const char *wt = ws_state_get(st, w->id, WS_KEY_WORKTREE);
	const char *branch = ws_state_get(st, w->id, WS_KEY_BRANCH);
	const char *command = opts->command ? opts->command : w->command;
	const struct ws_runner *runner;
	struct strbuf err = STRBUF_INIT;
	struct ws_job *job;
	size_t i, pos;

	if (!wt || !branch) {
		error("workstream '%s' has no worktree or branch in the state", w->id);
		advise("allocate it with 'git ws-alloc <plan>'");
		return NULL;
	}
	if (!command || !*command) {
		error("no command to run for '%s'", w->id);
		advise("set 'command' in the plan, or give one after '--'");
		return NULL;
	}
	/* a bad ws.runner: nothing can run; stop, unless commands run */
	if (!(runner = ws_runner_for(d->repo, d->plan, idx, 0, &err))) {
		if (!d->running)
			die("%s", err.buf);
		error("%s", err.buf);
		strbuf_release(&err);
		return NULL;
	}
	for (i = 0; i < d->nr; i++)
		if (d->jobs[i]->idx == idx && d->jobs[i]->phase != WS_JOB_ENDED)
			BUG("workstream '%s' queued twice", w->id);

	job = xcalloc(1, sizeof(*job));
	job->idx = idx;
	job->id = w->id;
	job->worktree = xstrdup(wt);
	job->branch = xstrdup(branch);
	strvec_init(&job->args);
	if (opts->args && opts->args[0]) {
		/* as git's prepare_shell_cmd(): words arrive as "$@" */
		job->command = xstrfmt("%s \"$@\"", command);
		strvec_push(&job->args, command);
		strvec_pushv(&job->args, opts->args);
	} else {
		job->command = xstrdup(command);
	}
	job->timeout = opts->timeout >= 0 ? opts->timeout : w->timeout;
	job->attempts = (int)ws_state_get_long(st, w->id, WS_KEY_ATTEMPTS, 0);
	job->iteration = (int)ws_state_get_long(st, w->id, WS_KEY_ITERATIONS, 0);
	job->first = !job->attempts && !job->iteration;
	job->rank = d->rank[idx];
	job->phase = WS_JOB_QUEUED;
	job->log_fd = -1;
	job->log_path = ws_path(d->repo, "logs/%s.log", w->id);
	job->done_path = ws_path(d->repo, "coordination/%s.done", w->id);
	job->exit_path = ws_path(d->repo, "coordination/%s.exit", w->id);
	job->report = xstrdup("");
	job->runner = runner;

	/* keep d->jobs in topological order */
	ALLOC_GROW(d->jobs, d->nr + 1, d->alloc);
	for (pos = d->nr; pos > 0 && d->jobs[pos - 1]->rank > job->rank; pos--)
		d->jobs[pos] = d->jobs[pos - 1];
	d->jobs[pos] = job;
	d->nr++;
	return job;
}

/* The last attempt's exit record (reap.h), and a lock a kill left. */
static void remove_exit_record(struct ws_job *job)
{
	char *lock = xstrfmt("%s.lock", job->exit_path);

	if (unlink(job->exit_path) < 0 && errno != ENOENT)
		warning("cannot remove '%s': %s", job->exit_path, strerror(errno));
	unlink(lock);
	free(lock);
}

void ws_dispatch_mark_queued(struct ws_dispatch *d, struct ws_state *st)
{
	struct ws_intent in = WS_INTENT_INIT;
	size_t i;

	in.kind = WS_INTENT_START;
	in.pid = (long)d->owner;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		/* a done file from an earlier iteration says nothing about this one */
		if (unlink(job->done_path) < 0 && errno != ENOENT)
			warning("cannot remove '%s': %s", job->done_path,
				strerror(errno));
		remove_exit_record(job);
		in.id = job->id;
		ws_intent_record(st, &in);
	}
}

void ws_dispatch_counts(const struct ws_dispatch *d, size_t *done,
			size_t *failed, size_t *running, size_t *queued)
{
	size_t i;

	*done = *failed = *running = *queued = 0;
	for (i = 0; i < d->nr; i++) {
		const struct ws_job *job = d->jobs[i];

		if (job->phase == WS_JOB_QUEUED)
			(*queued)++;
		else if (job->phase == WS_JOB_RUNNING)
			(*running)++;
		else if (job->ok)
			(*done)++;
		else
			(*failed)++;
	}
}

char *ws_job_command_line(const struct ws_job *job)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	if (!job->args.nr)
		return xstrdup(job->command);
	for (i = 0; i < job->args.nr; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", job->args.v[i]);
	return strbuf_detach(&sb, NULL);
}

/* ------------------------------------------------------------ the log */

void ws_job_log(struct ws_job *job, const char *fmt, ...)
{
	struct strbuf raw = STRBUF_INIT, sb = STRBUF_INIT;
	va_list ap;

	if (job->log_fd < 0)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&raw, fmt, ap);
	va_end(ap);
	strbuf_addstr(&sb, "=== git ws-dispatch: ");
	strbuf_add_sanitized(&sb, raw.buf);
	strbuf_addch(&sb, '\n');
	if (write_in_full(job->log_fd, sb.buf, sb.len) < 0)
		warning("cannot write to '%s': %s", job->log_path, strerror(errno));
	strbuf_release(&raw);
	strbuf_release(&sb);
}

static int open_log(struct ws_job *job)
{
	if (job->log_fd >= 0)
		return 0;
	job->log_fd = open(job->log_path,
			   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (job->log_fd < 0)
		return error_errno("cannot open '%s'", job->log_path);
	return 0;
}

static void close_log(struct ws_job *job)
{
	if (job->log_fd >= 0)
		close(job->log_fd);
	job->log_fd = -1;
}

/* Write reports/<id> for the command to read as $WS_REPORT. */
static void write_report(struct ws_dispatch *d, struct ws_job *job,
			 const char *text)
{
	char *path = ws_path(d->repo, "reports/%s", job->id);

	if (write_file_atomically(path, text, strlen(text), LOCK_BREAK_STALE) < 0) {
		warning("cannot write '%s': %s", path, strerror(errno));
		free(path);
		return;
	}
	free(job->report);
	job->report = path;
}

/*
 * Before a workstream's first dispatch, bring its branch to the base tip
 * (base-update.h); what stops that goes to $WS_REPORT.
 */
static void bring_up_to_base(struct ws_dispatch *d, struct ws_job *job)
{
	struct strbuf why = STRBUF_INIT;
	char *report = ws_bring_up_to_base(d->repo, d->plan->base, job, &why);

	if (report) {
		write_report(d, job, report);
		free(job->prepare_note);
		job->prepare_note = xstrfmt("its branch was not brought up to '%s' (%s); see %s",
					    d->plan->base, why.buf, job->report);
		ws_job_log(job, "%s", job->prepare_note);
	}
	free(report);
	strbuf_release(&why);
}

/* Everything before the fork: the log header, the base, the done file. */
static void prepare_attempt(struct ws_dispatch *d, struct ws_job *job)
{
	char now[32], *cmdline = ws_job_command_line(job);

	iso8601_now(now);
	open_log(job);
	ws_job_log(job, "%s attempt %d (iteration %d) started %s in %s: %s",
		 job->id, job->attempts + 1, job->iteration, now,
		 job->worktree, cmdline);
	free(cmdline);
	/*
	 * ws_dispatch_mark_queued() removed it before the first attempt; the
	 * one the last attempt would have had is of no use any more
	 */
	job->done_unwritten = 0;
	if (job->tries && unlink(job->done_path) < 0 && errno != ENOENT)
		warning("cannot remove '%s': %s", job->done_path, strerror(errno));
	if (job->tries)
		remove_exit_record(job);
	if (!job->tries && job->iteration > 0) {
		char *path = ws_path(d->repo, "reports/%s", job->id);

		if (path_exists(path)) {
			free(job->report);
			job->report = path;
		} else {
			free(path);
		}
	}
	if (job->first && !job->tries)
		bring_up_to_base(d, job);
}

/* ------------------------------------------------------------ running */

static void job_env(struct ws_dispatch *d, struct ws_job *job,
		    struct strvec *env)
{
	ws_push_env(d->repo, d->plan, job->idx, job->branch, job->worktree, env);
	strvec_pushf(env, "WS_ATTEMPT=%d", job->attempts + 1);
	strvec_pushf(env, "WS_ITERATION=%d", job->iteration);
	strvec_pushf(env, "WS_LOG=%s", job->log_path);
	strvec_pushf(env, "WS_DONE_FILE=%s", job->done_path);
	strvec_pushf(env, "WS_REPORT=%s", job->report);
}

/*
 * Start the job's command under its supervisor (cmd/ws-supervise.c),
 * which writes the done file when the command writes none, then the exit
 * record (exit-record.h), so that the end is on disk whether or not we still
 * live. It waits behind `gate` (see transact()): the command runs once a
 * byte is written there.
 */
static int start_job(struct ws_dispatch *d, struct ws_job *job,
		     const int gate[2])
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct ws_runner_cmd rc = WS_RUNNER_CMD_INIT;
	struct strbuf err = STRBUF_INIT;
	uint64_t now = monotonic_ms();

	FREE_AND_NULL(job->result); /* a retry's last result */
	if (!path_exists(job->worktree)) {
		job->result = xstrfmt("worktree '%s' does not exist", job->worktree);
		return -1;
	}
	if (gate[0] < 0) {
		job->result = xstrdup("cannot create the pipe of its start gate");
		return -1;
	}
	strvec_push(&cp.args, job->command);
	strvec_pushv(&cp.args, (const char **)job->args.v);
	cp.use_shell = 1;
	cp.dir = job->worktree;
	cp.no_stdin = 1;
	cp.new_pgrp = 1;
	cp.supervisor = d->supervisor;
	strvec_push(&cp.supervisor_args, job->id);
	/* start_job() counts the attempt once it has started */
	strvec_pushf(&cp.supervisor_args, "%d", job->attempts + 1);
	strvec_push(&cp.supervisor_args, job->done_path);
	strvec_push(&cp.supervisor_args, job->exit_path);
	cp.gate[0] = gate[0];
	cp.gate[1] = gate[1];
	if (job->log_fd >= 0) {
		cp.out = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
		cp.err = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		cp.no_stdout = cp.no_stderr = 1;
	}
	job_env(d, job, &cp.env);
	rc.repo = d->repo;
	rc.plan = d->plan;
	rc.idx = job->idx;
	rc.log_path = job->log_path;
	rc.timeout = job->timeout;
	ws_runner_where_release(&job->where); /* the last attempt's */
	job->where_dirty = 0;
	if (ws_runner_start(job->runner, &rc, &cp, &job->where, &err) < 0) {
		job->result = strbuf_detach(&err, NULL);
		return -1;
	}
	child_process_clear(&cp);
	job->pid = cp.pid;
	if (process_start_time(job->pid, &job->pid_start) < 0)
		job->pid_start = 0;
	job->phase = WS_JOB_RUNNING;
	job->tries++;
	job->attempts++;
	job->started_ms = now;
	job->deadline_ms = job->timeout > 0 ? now + (uint64_t)job->timeout * 1000 : 0;
	job->kill_ms = 0;
	job->timed_out = job->interrupted = 0;
	job->wait_status = 0;
	FREE_AND_NULL(job->result);
	d->running++;
	return 0;
}

/* 1 when the job's process has ended (it stays a zombie until reaped). */
static int job_has_ended(struct ws_job *job)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, job->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD ? -1 : 0;
	if (!si.si_pid)
		return 0;
	if (si.si_code == CLD_EXITED)
		job->wait_status = (si.si_status & 0xff) << 8;
	else
		job->wait_status = si.si_status & 0x7f; /* as WTERMSIG() */
	return 1;
}

static char *describe_exit(struct ws_job *job)
{
	int st = job->wait_status;
	struct strbuf why = STRBUF_INIT;
	char *job_id = job->where.job_id;
	/* the runner's word on how it ended (runner.h: end), once */
	int said = ws_runner_end(job->runner, &job->where, st, &why);

	if (job->where.job_id != job_id)
		job->where_dirty = 1;
	if (job->interrupted || job->timed_out || !said)
		strbuf_release(&why);
	if (job->interrupted)
		return xstrdup("interrupted");
	if (job->timed_out)
		return xstrfmt("timed out after %lds", job->timeout);
	if (said)
		return strbuf_detach(&why, NULL);
	if (WIFSIGNALED(st))
		return xstrfmt("killed by signal %d (%s)", WTERMSIG(st),
			       strsignal(WTERMSIG(st)));
	return xstrfmt("exit status %d", WEXITSTATUS(st));
}

/*
 * 0 when the done file is the supervisor's, written from the exit status
 * (its exit record says so): we decide from the exit status ourselves,
 * and write it again, with our words. Else 1.
 */
static int done_by_command(struct ws_job *job)
{
	struct ws_exit_record rec;
	struct strbuf err = STRBUF_INIT;
	int rc = ws_exit_record_read(job->exit_path, job->id, &rec, &err);

	strbuf_release(&err);
	return rc || rec.pid != (long)job->pid || rec.done_by_command;
}

/*
 * Decide the outcome of an attempt that ended: the done file when the
 * command wrote one (validated), else the exit status, which is then
 * written as the done file. A signal, a timeout or an interruption is
 * a failure whatever the done file says.
 */
static void finish_attempt(struct ws_dispatch *d, struct ws_job *job)
{
	struct ws_done done = WS_DONE_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	char *exit_desc = describe_exit(job), now[32];
	int killed = job->interrupted || job->timed_out ||
		     WIFSIGNALED(job->wait_status);
	int rc = killed || !done_by_command(job) ? 1 :
		 ws_done_read(&done, job->done_path, job->id, &err);

	job->ended_ms = monotonic_ms();
	free(job->result);
	/* what a stopped command spent counts too, though not its verdict */
	if (rc == 0 || (killed && !ws_done_read(&done, job->done_path, job->id, &err)))
		job->usage = done.usage;
	if (rc == 0) {
		job->ok = done.status == WS_DONE_SUCCESS;
		if (job->ok) {
			job->result = xstrdup(exit_desc);
		} else {
			strbuf_addf(&sb, "the command reported '%s'",
				    ws_done_status_name(done.status));
			if (*done.summary) {
				strbuf_addstr(&sb, ": ");
				strbuf_add_sanitized(&sb, done.summary);
			}
			if (sb.len > 300) {
				strbuf_setlen(&sb, 297);
				strbuf_addstr(&sb, "...");
			}
			strbuf_addf(&sb, " (%s)", exit_desc);
			job->result = strbuf_detach(&sb, NULL);
		}
	} else {
		if (rc < 0) {
			job->ok = 0;
			job->result = xstrfmt("malformed done file: %s (%s)",
					      err.buf, exit_desc);
		} else {
			job->ok = !killed && WIFEXITED(job->wait_status) &&
				  !WEXITSTATUS(job->wait_status);
			job->result = xstrdup(exit_desc);
		}
		/* written by write_done_files(), after the next start */
		job->done_unwritten = 1;
	}
	iso8601_now(now);
	ws_job_log(job, "%s attempt %d ended %s after %.1fs: %s%s", job->id,
		 job->attempts, now,
		 (double)(job->ended_ms - job->started_ms) / 1000.0,
		 job->result, job->ok ? " (done)" : "");
	ws_done_release(&done);
	strbuf_release(&err);
	strbuf_release(&sb);
	free(exit_desc);
}

static int will_retry(struct ws_dispatch *d, struct ws_job *job)
{
	return !job->ok && !job->interrupted && !d->interrupted &&
	       job->tries <= d->retries;
}

/* ------------------------------------------- recording in the state */

/*
 * Ends are recorded in the state in batches: a transaction per event
 * would cost a locked, fsynced rewrite of the state per command. Until a
 * batch is written the state lags but never lies: an ended command stays
 * a zombie (unreaped), so its recorded pid still exists and nobody takes
 * it for vanished.
 *
 * Starts cannot wait for a batch: a job that shows as queued under our
 * pid is taken, once we are gone, for one we never started, and made
 * ready again, so a command that ran meanwhile would get a second one
 * beside it in its worktree. So the commands a round starts wait at a
 * start gate (transact()) until one state write has recorded all their
 * pids. A round's own write also carries the batch so far; a retry goes
 * back to queued in a batch, which is true while it waits.
 */
struct ws_pending {
	struct ws_job *job;
	pid_t pid;          /* the zombie to reap, or 0 */
	enum ws_status status;
	char *reason;
	int attempts;
	struct ws_usage usage; /* of the attempt that ended, moved from its job */
	char when[32];
};

#define FLUSH_MS 100

static void pending_add(struct ws_dispatch *d, struct ws_job *job,
			pid_t pid, enum ws_status status, const char *reason)
{
	struct ws_pending *p;

	ALLOC_GROW(d->pending, d->pending_nr + 1, d->pending_alloc);
	p = &d->pending[d->pending_nr++];
	memset(p, 0, sizeof(*p));
	p->job = job;
	p->pid = pid;
	p->status = status;
	p->reason = xstrdup_or_null(reason);
	p->attempts = job->attempts;
	/* moved, so that no attempt's usage is ever recorded twice */
	p->usage = job->usage;
	memset(&job->usage, 0, sizeof(job->usage));
	iso8601_now(p->when);
	if (d->pending_nr == 1)
		d->pending_since = monotonic_ms();
}

static void apply_pending(struct ws_dispatch *d, struct ws_state *st)
{
	size_t i;

	for (i = 0; i < d->pending_nr; i++) {
		struct ws_pending *p = &d->pending[i];
		const char *id = p->job->id;
		enum ws_status now = ws_state_status(st, id);

		/*
		 * An agent that ran `git ws-converge` (or more) itself before
		 * it exited got further than `done`: keep that.
		 */
		int further = p->status == WS_STATUS_DONE &&
			      (now == WS_STATUS_CONVERGED || now == WS_STATUS_MERGED);

		if (!further)
			ws_state_set_status(st, id, p->status, p->reason);
		ws_state_setf(st, id, WS_KEY_ATTEMPTS, "%d", p->attempts);
		ws_state_set(st, id, WS_KEY_PID_START, NULL);
		ws_state_set(st, id, WS_KEY_DISPATCHER, NULL);
		ws_usage_add(st, id, &p->usage);
		if (p->status == WS_STATUS_IN_PROGRESS) {
			/* to be retried: queued under our pid again */
			ws_state_setf(st, id, WS_KEY_PID, "%ld", (long)d->owner);
		} else {
			ws_state_set(st, id, WS_KEY_PID, NULL);
			ws_state_set(st, id, WS_KEY_FINISHED, p->when);
		}
	}
}

/* After the batch is written: let the ended commands go. */
static void reap_pending(struct ws_dispatch *d)
{
	size_t i;

	for (i = 0; i < d->pending_nr; i++) {
		struct ws_pending *p = &d->pending[i];

		if (p->pid > 0)
			while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
				;
		free(p->reason);
	}
	d->pending_nr = 0;
}

/* Still ours to start: queued by this dispatch, not touched since. */
static int still_ours(struct ws_dispatch *d, struct ws_job *job,
		      const struct ws_state *st)
{
	return ws_state_status(st, job->id) == WS_STATUS_IN_PROGRESS &&
	       ws_state_get_long(st, job->id, WS_KEY_PID, 0) == (long)d->owner;
}

static void notify(struct ws_dispatch *d, struct ws_job *job,
		   enum ws_dispatch_event ev)
{
	if (d->notify)
		d->notify(d, job, ev);
}

static void start_failed(struct ws_dispatch *d, struct ws_job *job)
{
	job->phase = WS_JOB_ENDED;
	job->tries++;
	job->attempts++;
	ws_job_log(job, "%s", job->result);
	close_log(job);
	free(job->reason);
	job->reason = xstrfmt("%s; see %s", job->result, job->log_path);
}

/*
 * Write the done files that dispatch owes (the command wrote none, or a
 * bad one), always before the state records the end.
 */
static void write_done_files(struct ws_dispatch *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (!job->done_unwritten)
			continue;
		job->done_unwritten = 0;
		if (ws_done_write(job->done_path, job->id,
				  job->ok ? WS_DONE_SUCCESS : WS_DONE_FAILED,
				  job->result) < 0)
			warning("cannot write '%s': %s", job->done_path,
				strerror(errno));
	}
}

/*
 * A start the state could not record: the command never ran (it exited
 * at the gate). The job is not started, its attempt not counted, and the
 * workstream goes back to ready with the next batch (were that write to
 * fail too, ws_reap_vanished() finds it queued under our pid, once we
 * are gone, and makes it ready: the same).
 */
static void call_off(struct ws_dispatch *d, struct ws_job *job)
{
	while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
		;
	d->running--;
	job->pid = 0;
	job->tries--;
	job->attempts--;
	job->phase = WS_JOB_ENDED;
	job->skipped = 1;
	free(job->result);
	job->result = xstrdup("not started: cannot record its start in the state");
	ws_job_log(job, "%s", job->result);
	close_log(job);
	pending_add(d, job, 0, WS_STATUS_READY, NULL);
}

/*
 * The plan's budget is spent (cost.h): `job` does not start, and goes
 * back to ready with the reason, until max-cost is raised.
 */
static void hold_for_budget(struct ws_job *job, struct ws_state *st)
{
	job->phase = WS_JOB_ENDED;
	job->skipped = 1;
	free(job->result);
	job->result = xstrdup("not started: " WS_REASON_BUDGET);
	ws_job_log(job, "%s", job->result);
	close_log(job);
	ws_state_set_status(st, job->id, WS_STATUS_READY, WS_REASON_BUDGET);
	ws_state_set(st, job->id, WS_KEY_PID, NULL);
}

/*
 * One locked transaction: write the pending records, then (when asked)
 * put the queued jobs back to ready, then start `starting` (each one
 * checked to be still ours, and held while the budget is spent).
 *
 * The start gate: the commands are forked here, but each waits (in
 * start_command()) for a byte on `gate`, which it gets only once the
 * state that records its pid is written. Should we die first (SIGKILL, a
 * crash), the write end closes with us and the waiting children exit
 * without running anything; the state says either "queued" under our
 * dead pid (ws_reap_vanished() makes it ready: right, nothing ran) or
 * names a child that is gone ("process vanished", which `git ws-dispatch
 * --loop` dispatches again). So no command runs that a later dispatch
 * could take for one never started. One gate serves the whole round: the
 * children share it, each closing its inherited copy of the write end at
 * once, where a gate per child would stay open in its later siblings.
 */
/*
 * Where the job's command runs, in the state. A local run records
 * nothing (and removes what an earlier run elsewhere recorded), so that
 * the state of a plan without runners is as it has always been.
 */
static void record_where(struct ws_state *st, struct ws_job *job)
{
	job->where_dirty = 0;
	ws_runner_where_record(st, job->id,
			       job->runner == &ws_runner_local ? NULL : &job->where);
}

static void transact(struct ws_dispatch *d, struct ws_job **starting,
		     size_t nr, int unqueue)
{
	struct ws_state st = WS_STATE_INIT;
	int gate[2] = { -1, -1 };
	size_t i, started = 0;
	int recorded = 1, spent;

	if (nr && pipe2(gate, O_CLOEXEC) < 0)
		error_errno("cannot create a pipe");
	write_done_files(d);
	ws_state_lock(&st, d->repo->ws_dir, d->lock_timeout_ms);
	apply_pending(d, &st);
	/* the totals as of now, the ends just applied included */
	spent = nr && ws_budget_spent(d->plan, &st, NULL);
	for (i = 0; unqueue && i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		job->phase = WS_JOB_ENDED;
		job->skipped = 1;
		free(job->result);
		job->result = xstrdup("not started: interrupted");
		if (still_ours(d, job, &st)) {
			ws_state_set_status(&st, job->id, WS_STATUS_READY, NULL);
			ws_state_set(&st, job->id, WS_KEY_PID, NULL);
		}
		close_log(job);
	}
	for (i = 0; i < nr; i++) {
		struct ws_job *job = starting[i];
		char now[32];

		if (!still_ours(d, job, &st)) {
			job->phase = WS_JOB_ENDED;
			job->skipped = 1;
			free(job->result);
			job->result = xstrdup("not started: another command changed its state");
			ws_job_log(job, "%s", job->result);
			close_log(job);
			continue;
		}
		if (spent) {
			hold_for_budget(job, &st);
			continue;
		}
		if (start_job(d, job, gate) < 0) {
			start_failed(d, job);
			ws_state_setf(&st, job->id, WS_KEY_ATTEMPTS, "%d", job->attempts);
			ws_state_set_status(&st, job->id, WS_STATUS_FAILED, job->reason);
			ws_state_set(&st, job->id, WS_KEY_PID, NULL);
			continue;
		}
		started++;
		iso8601_now(now);
		ws_state_set_status(&st, job->id, WS_STATUS_IN_PROGRESS, NULL);
		ws_state_setf(&st, job->id, WS_KEY_PID, "%ld", (long)job->pid);
		if (job->pid_start)
			ws_state_setf(&st, job->id, WS_KEY_PID_START, "%llu",
				      job->pid_start);
		ws_state_setf(&st, job->id, WS_KEY_DISPATCHER, "%ld", (long)getpid());
		ws_state_set(&st, job->id, WS_KEY_STARTED, now);
		ws_state_set(&st, job->id, WS_KEY_FINISHED, NULL);
		ws_state_setf(&st, job->id, WS_KEY_ATTEMPTS, "%d", job->attempts);
		record_where(&st, job);
	}
	for (i = 0; i < d->nr; i++)
		if (d->jobs[i]->where_dirty && d->jobs[i]->phase != WS_JOB_QUEUED)
			record_where(&st, d->jobs[i]);
	if (ws_state_commit(&st) < 0) {
		error_errno("cannot write '%s'", st.state_path);
		recorded = 0;
	}
	if (gate[0] >= 0) {
		/* open the gate: a byte for each child (we still read, so no SIGPIPE) */
		for (i = 0; recorded && i < started; i++)
			if (write_in_full(gate[1], "g", 1) < 0)
				die_errno("cannot start the commands");
		close(gate[1]);
		close(gate[0]);
	}
	ws_state_release(&st);
	reap_pending(d);
	for (i = 0; !recorded && i < nr; i++)
		if (starting[i]->phase == WS_JOB_RUNNING)
			call_off(d, starting[i]);
	for (i = 0; i < nr; i++) {
		struct ws_job *job = starting[i];

		if (job->phase == WS_JOB_RUNNING) {
			notify(d, job, WS_EV_START);
			continue;
		}
		if (job->skipped) {
			/* it exits at the gate: what the runner holds goes */
			struct strbuf ignored = STRBUF_INIT;

			ws_runner_end(job->runner, &job->where, -1, &ignored);
			strbuf_release(&ignored);
		}
		notify(d, job, job->skipped ? WS_EV_SKIPPED : WS_EV_FAILED);
	}
}

void ws_dispatch_flush(struct ws_dispatch *d)
{
	if (d->pending_nr)
		transact(d, NULL, 0, 0);
}

/* An attempt ended: decide, write the done file, queue the record. */
static void handle_end(struct ws_dispatch *d, struct ws_job *job)
{
	pid_t zombie = job->pid;

	finish_attempt(d, job);
	close_log(job);
	d->running--;
	job->pid = 0;
	if (job->ok) {
		job->phase = WS_JOB_ENDED;
		pending_add(d, job, zombie, WS_STATUS_DONE, NULL);
		notify(d, job, WS_EV_DONE);
	} else if (will_retry(d, job)) {
		char *reason = xstrfmt("retrying after %s", job->result);

		job->phase = WS_JOB_QUEUED;
		pending_add(d, job, zombie, WS_STATUS_IN_PROGRESS, reason);
		free(reason);
		notify(d, job, WS_EV_RETRY);
	} else {
		free(job->reason);
		if (job->tries > 1)
			job->reason = xstrfmt("%s after %d attempts; see %s",
					      job->result, job->tries, job->log_path);
		else
			job->reason = xstrfmt("%s; see %s", job->result, job->log_path);
		job->phase = WS_JOB_ENDED;
		pending_add(d, job, zombie, WS_STATUS_FAILED, job->reason);
		notify(d, job, WS_EV_FAILED);
	}
}

/* ------------------------------------------------------------ the loop */

/* SIGTERM (or SIGKILL) to every running group; queued jobs go back to ready. */
static void interrupt_all(struct ws_dispatch *d, int sig)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_RUNNING)
			continue;
		job->interrupted = 1;
		kill_process_group(job->pid, sig);
		ws_runner_stop(job->runner, &job->where, sig);
		job->kill_ms = sig == SIGKILL ? 0 : monotonic_ms() + d->grace_ms;
	}
	transact(d, NULL, 0, 1);
}

static void check_timeouts(struct ws_dispatch *d, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_RUNNING)
			continue;
		if (job->deadline_ms && now >= job->deadline_ms &&
		    !job->timed_out && !job->interrupted) {
			job->timed_out = 1;
			kill_process_group(job->pid, SIGTERM);
			ws_runner_stop(job->runner, &job->where, SIGTERM);
			job->kill_ms = now + d->grace_ms;
		}
		if (job->kill_ms && now >= job->kill_ms) {
			kill_process_group(job->pid, SIGKILL);
			ws_runner_stop(job->runner, &job->where, SIGKILL);
			job->kill_ms = 0;
		}
	}
}

/*
 * Ask the runners of the running jobs what more they know of where the
 * commands run (runner.h: refresh). Returns how many jobs have news.
 */
static size_t refresh_where(struct ws_dispatch *d)
{
	size_t i, nr = 0;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_RUNNING || !job->runner->refresh)
			continue;
		if (job->runner->refresh(&job->where)) {
			job->where_dirty = 1;
			nr++;
		}
	}
	return nr;
}

/* How long to sleep before something needs doing (ms, at most 1000). */
static int next_wakeup(struct ws_dispatch *d, uint64_t now, uint64_t next_tick)
{
	uint64_t when = now + 1000;
	size_t i;

	if (d->tick_ms && next_tick < when)
		when = next_tick;
	if (d->pending_nr && d->pending_since + FLUSH_MS < when)
		when = d->pending_since + FLUSH_MS;
	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_RUNNING)
			continue;
		if (job->deadline_ms && !job->timed_out && job->deadline_ms < when)
			when = job->deadline_ms;
		if (job->kill_ms && job->kill_ms < when)
			when = job->kill_ms;
	}
	return when > now ? (int)(when - now) : 0;
}

/*
 * The queued jobs to start now: in topological order, while there are
 * free slots, never two in one worktree. Returns how many (in *out).
 */
static size_t choose_starts(struct ws_dispatch *d, struct ws_job ***out,
			    size_t *alloc, size_t *queued)
{
	const char **busy = NULL;
	size_t busy_nr = 0, busy_alloc = 0, nr = 0, i, k;

	*queued = 0;
	for (i = 0; i < d->nr; i++)
		if (d->jobs[i]->phase == WS_JOB_RUNNING) {
			ALLOC_GROW(busy, busy_nr + 1, busy_alloc);
			busy[busy_nr++] = d->jobs[i]->worktree;
		}
	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		(*queued)++;
		if (d->interrupted || d->running + nr >= (size_t)d->max_jobs)
			continue;
		for (k = 0; k < busy_nr; k++)
			if (!strcmp(busy[k], job->worktree))
				break;
		if (k < busy_nr)
			continue;
		ALLOC_GROW(*out, nr + 1, *alloc);
		(*out)[nr++] = job;
		ALLOC_GROW(busy, busy_nr + 1, busy_alloc);
		busy[busy_nr++] = job->worktree;
	}
	free(busy);
	return nr;
}

int ws_dispatch_run(struct ws_dispatch *d)
{
	struct ws_job **starting = NULL;
	size_t starting_alloc = 0, i, failed = 0;
	uint64_t next_tick = monotonic_ms() + d->tick_ms;
	int stops_seen = 0;

	install_signals();
	for (;;) {
		size_t ended_nr = 0, starting_nr, queued;
		uint64_t now;

		if (stop_signals > stops_seen) {
			int first = !stops_seen;

			stops_seen = stop_signals;
			d->interrupted = 1;
			interrupt_all(d, first ? SIGTERM : SIGKILL);
		}

		for (i = 0; i < d->nr; i++) {
			struct ws_job *job = d->jobs[i];
			int r;

			if (job->phase != WS_JOB_RUNNING || !(r = job_has_ended(job)))
				continue;
			if (r < 0) /* somebody else reaped it */
				job->wait_status = 0xff << 8;
			if (job->timed_out || job->interrupted) {
				kill_process_group(job->pid, SIGKILL); /* stragglers */
				ws_runner_stop(job->runner, &job->where, SIGKILL);
			}
			handle_end(d, job);
			ended_nr++;
		}
		now = monotonic_ms();
		check_timeouts(d, now);
		if (refresh_where(d))
			transact(d, NULL, 0, 0);

		starting_nr = choose_starts(d, &starting, &starting_alloc, &queued);
		for (i = 0; i < starting_nr; i++)
			prepare_attempt(d, starting[i]);
		if (starting_nr)
			transact(d, starting, starting_nr, 0);
		/* the new commands run meanwhile */
		write_done_files(d);

		now = monotonic_ms();
		if (d->pending_nr &&
		    (!d->running || now >= d->pending_since + FLUSH_MS))
			ws_dispatch_flush(d);
		if (ended_nr || starting_nr)
			continue;
		if (!d->running && !queued)
			break;
		if (d->tick_ms && now >= next_tick) {
			notify(d, NULL, WS_EV_TICK);
			next_tick = now + d->tick_ms;
		}
		{
			struct pollfd pfd;

			pfd.fd = sig_pipe[0];
			pfd.events = POLLIN;
			if (poll(&pfd, 1, next_wakeup(d, now, next_tick)) > 0)
				drain_signal_pipe();
		}
	}
	ws_dispatch_flush(d);
	restore_signals();
	for (i = 0; i < d->nr; i++)
		if (d->jobs[i]->phase == WS_JOB_ENDED && !d->jobs[i]->ok)
			failed++;
	free(starting);
	return (int)failed;
}
