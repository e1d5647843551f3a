#include "compat.h"
#include "dispatch.h"
#include "ws.h"
#include "donefile.h"
#include "lockfile.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include <poll.h>

/* Variables of git's that must not leak from our repository into a worktree. */
/* ---------------------------------------------------------------- signals */

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t stop_signals;
static const int handled_signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP };
static struct sigaction saved_actions[ARRAY_SIZE(handled_signals)];

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

static void install_signals(void)
{
	size_t i;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_errno("cannot create a pipe");
	stop_signals = 0;
	for (i = 0; i < ARRAY_SIZE(handled_signals); i++) {
		struct sigaction sa;

		/* as git does: a signal ignored by our parent (nohup) stays so */
		sigaction(handled_signals[i], NULL, &saved_actions[i]);
		if (handled_signals[i] != SIGCHLD &&
		    saved_actions[i].sa_handler == SIG_IGN)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART | (handled_signals[i] == SIGCHLD ? SA_NOCLDSTOP : 0);
		sigemptyset(&sa.sa_mask);
		sigaction(handled_signals[i], &sa, NULL);
	}
}

static void restore_signals(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(handled_signals); i++)
		sigaction(handled_signals[i], &saved_actions[i], NULL);
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
	free(job->report);
	free(job->prepare_note);
	free(job->result);
	free(job->reason);
	free(job);
}

void ws_dispatch_release(struct ws_dispatch *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		job_free(d->jobs[i]);
	free(d->jobs);
	free(d->rank);
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
	const char *wt = ws_state_get(st, w->id, "worktree");
	const char *branch = ws_state_get(st, w->id, "branch");
	const char *command = opts->command ? opts->command : w->command;
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
	job->attempts = (int)ws_state_get_long(st, w->id, "attempts", 0);
	job->iteration = (int)ws_state_get_long(st, w->id, "iterations", 0);
	job->first = !job->attempts && !job->iteration;
	job->rank = d->rank[idx];
	job->phase = WS_JOB_QUEUED;
	job->log_fd = -1;
	job->log_path = ws_path(d->repo, "logs/%s.log", w->id);
	job->done_path = ws_path(d->repo, "coordination/%s.done", w->id);
	job->report = xstrdup("");

	/* keep d->jobs in topological order */
	ALLOC_GROW(d->jobs, d->nr + 1, d->alloc);
	for (pos = d->nr; pos > 0 && d->jobs[pos - 1]->rank > job->rank; pos--)
		d->jobs[pos] = d->jobs[pos - 1];
	d->jobs[pos] = job;
	d->nr++;
	return job;
}

void ws_dispatch_mark_queued(struct ws_dispatch *d, struct ws_state *st)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		/* a done file from an earlier iteration says nothing about this one */
		if (unlink(job->done_path) < 0 && errno != ENOENT)
			warning("cannot remove '%s': %s", job->done_path,
				strerror(errno));
		ws_state_set_status(st, job->id, WS_IN_PROGRESS, "queued");
		ws_state_setf(st, job->id, "pid", "%ld", (long)d->owner);
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

static void log_line(struct ws_job *job, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line into the job's log (control characters made harmless). */
static void log_line(struct ws_job *job, const char *fmt, ...)
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

/* ------------------------------------- first dispatch: start from base */

static void push_git_env(struct strvec *env)
{
	size_t i;

	for (i = 0; ws_local_git_env[i]; i++)
		strvec_push(env, ws_local_git_env[i]);
}

/*
 * Run git in `dir`; its output goes to the job's log, or into `out`.
 * Without `out` it is one of the merges that update the worktree
 * (bring_up_to_base()): those run in a process group of their own, so
 * that a kill of ours (Ctrl-C, a supervisor) does not stop git half way
 * through writing the worktree's files, which the agent would then find,
 * and commit, half written.
 */
static int run_git(struct ws_job *job, const char *dir, struct strbuf *out,
		   const char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.new_pgrp = !out;
	cp.dir = dir;
	cp.no_stdin = 1;
	push_git_env(&cp.env);
	strvec_pushv(&cp.args, argv);
	if (out)
		return capture_command(&cp, out, NULL);
	if (job->log_fd >= 0) {
		cp.out = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
		cp.err = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		cp.no_stdout = cp.no_stderr = 1;
	}
	return run_command(&cp);
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
 * Bring a workstream's branch to the current base tip before its first
 * dispatch (DESIGN.md §4), so that it starts from its merged
 * dependencies' work: a fast-forward when it has no commits of its own,
 * else a merge of the base when that is clean. A conflict, a dirty
 * worktree or a worktree on another branch leaves everything as it is:
 * the command starts anyway, and $WS_REPORT says why and which files.
 */
static void bring_up_to_base(struct ws_dispatch *d, struct ws_job *job)
{
	const char *base = d->plan->base;
	git_oid base_oid, tip;
	char hex[GIT_OID_HEXSZ + 1], *head = NULL, *base_ref = NULL;
	struct strbuf report = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT;
	long ahead;
	int dirty;

	if (!base || ws_branch_tip(d->repo, base, &base_oid) < 0 ||
	    ws_branch_tip(d->repo, job->branch, &tip) < 0) {
		log_line(job, "cannot resolve base '%s' or branch '%s'; left as it is",
			 base ? base : "(none)", job->branch);
		return;
	}
	if (git_oid_equal(&base_oid, &tip) ||
	    git_graph_descendant_of(d->repo->repo, &tip, &base_oid) == 1)
		return; /* already has everything of the base */

	ws_oid_hex(&base_oid, hex);
	base_ref = xstrfmt("refs/heads/%s", base);
	head = ws_worktree_branch_at(job->worktree);
	dirty = ws_worktree_is_dirty(job->worktree);
	ahead = ws_commits_ahead(d->repo, &tip, &base_oid);
	if (!head || strcmp(head, job->branch)) {
		strbuf_addf(&report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): the worktree\n"
			    "%s is not on that branch.\n",
			    job->branch, base, hex, job->worktree);
		strbuf_addstr(&why, "the worktree is on another branch");
	} else if (dirty) {
		strbuf_addf(&report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): the worktree\n"
			    "%s has uncommitted changes.\n"
			    "Commit them, then merge '%s' into the branch.\n",
			    job->branch, base, hex, job->worktree, base);
		strbuf_addstr(&why, "uncommitted changes in the worktree");
	} else if (!ahead) {
		log_line(job, "fast-forwarding '%s' to '%s' (%.7s)", job->branch, base, hex);
		if (run_git(job, job->worktree, NULL, (const char *[]){
				"merge", "--ff-only", "-q", base_ref, NULL })) {
			strbuf_addf(&report, "git ws-dispatch could not fast-forward '%s' to '%s' (%.7s);\n"
				    "see the log for git's message.\n",
				    job->branch, base, hex);
			strbuf_addstr(&why, "the fast-forward failed");
		} else {
			job->prepare_note = xstrfmt("fast-forwarded to %s", base);
		}
	} else {
		int rc = run_git(job, job->worktree, &out, (const char *[]){
				"merge-tree", "--write-tree", "--name-only",
				"--no-messages", job->branch, base_ref, NULL });

		if (rc == 1) {
			struct strvec files = STRVEC_INIT;
			char *line, *save = NULL;
			size_t i;

			/* first line: the tree; then the conflicted paths */
			line = strtok_r(out.buf, "\n", &save);
			while ((line = strtok_r(NULL, "\n", &save)))
				if (strvec_find(&files, line) < 0)
					strvec_push(&files, line);
			strbuf_addf(&report, "git ws-dispatch did not bring '%s' up to '%s' (%.7s): merging it\n"
				    "conflicts in these files:\n", job->branch, base, hex);
			for (i = 0; i < files.nr; i++)
				strbuf_addf(&report, "\t%s\n", files.v[i]);
			strbuf_addf(&report, "Merge '%s' into the branch and resolve them.\n", base);
			strbuf_addf(&why, "merging it conflicts in %zu file%s",
				    files.nr, files.nr == 1 ? "" : "s");
			strvec_clear(&files);
		} else if (rc) {
			strbuf_addf(&report, "git ws-dispatch could not check whether '%s' merges cleanly into\n"
				    "'%s' (git merge-tree exited with %d).\n", base, job->branch, rc);
			strbuf_addstr(&why, "git merge-tree failed");
		} else {
			log_line(job, "merging '%s' (%.7s) into '%s'", base, hex, job->branch);
			if (run_git(job, job->worktree, NULL, (const char *[]){
					"merge", "--no-edit", "-q", base_ref, NULL })) {
				run_git(job, job->worktree, NULL, (const char *[]){
						"merge", "--abort", NULL });
				strbuf_addf(&report, "git ws-dispatch could not merge '%s' into '%s';\n"
					    "see the log for git's message.\n", base, job->branch);
				strbuf_addstr(&why, "the merge failed");
			} else {
				job->prepare_note = xstrfmt("merged %s", base);
			}
		}
	}
	if (report.len) {
		write_report(d, job, report.buf);
		free(job->prepare_note);
		job->prepare_note = xstrfmt("its branch was not brought up to '%s' (%s); see %s",
					    base, why.buf, job->report);
		log_line(job, "%s", job->prepare_note);
	}
	strbuf_release(&report);
	strbuf_release(&out);
	strbuf_release(&why);
	free(head);
	free(base_ref);
}

/* Everything before the fork: the log header, the base, the done file. */
static void prepare_attempt(struct ws_dispatch *d, struct ws_job *job)
{
	char now[32], *cmdline = ws_job_command_line(job);

	iso8601_now(now);
	open_log(job);
	log_line(job, "%s attempt %d (iteration %d) started %s in %s: %s",
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
 * Fork the job's command behind `gate` (see transact()): it runs once a
 * byte is written there.
 */
static int start_job(struct ws_dispatch *d, struct ws_job *job,
		     const int gate[2])
{
	struct child_process cp = CHILD_PROCESS_INIT;
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
	cp.gate[0] = gate[0];
	cp.gate[1] = gate[1];
	if (job->log_fd >= 0) {
		cp.out = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
		cp.err = fcntl(job->log_fd, F_DUPFD_CLOEXEC, 3);
	} else {
		cp.no_stdout = cp.no_stderr = 1;
	}
	job_env(d, job, &cp.env);
	if (start_command(&cp) < 0) {
		child_process_clear(&cp);
		job->result = xstrfmt("cannot start '/bin/sh': %s", strerror(errno));
		return -1;
	}
	child_process_clear(&cp);
	job->pid = cp.pid;
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

	if (job->interrupted)
		return xstrdup("interrupted");
	if (job->timed_out)
		return xstrfmt("timed out after %lds", job->timeout);
	if (WIFSIGNALED(st))
		return xstrfmt("killed by signal %d (%s)", WTERMSIG(st),
			       strsignal(WTERMSIG(st)));
	return xstrfmt("exit status %d", WEXITSTATUS(st));
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
	int rc = killed ? 1 : ws_done_read(&done, job->done_path, job->id, &err);

	job->ended_ms = monotonic_ms();
	free(job->result);
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
	log_line(job, "%s attempt %d ended %s after %.1fs: %s%s", job->id,
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
	char *status, *reason;
	int attempts;
	char when[32];
};

#define FLUSH_MS 100

static void pending_add(struct ws_dispatch *d, struct ws_job *job,
			pid_t pid, const char *status, const char *reason)
{
	struct ws_pending *p;

	ALLOC_GROW(d->pending, d->pending_nr + 1, d->pending_alloc);
	p = &d->pending[d->pending_nr++];
	memset(p, 0, sizeof(*p));
	p->job = job;
	p->pid = pid;
	p->status = xstrdup_or_null(status);
	p->reason = xstrdup_or_null(reason);
	p->attempts = job->attempts;
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
		const char *now = ws_state_get(st, id, "status");

		/*
		 * An agent that ran `git ws-converge` (or more) itself before
		 * it exited got further than `done`: keep that.
		 */
		int further = !strcmp(p->status, WS_DONE) && now &&
			      (!strcmp(now, WS_CONVERGED) || !strcmp(now, WS_MERGED));

		if (!further)
			ws_state_set_status(st, id, p->status, p->reason);
		ws_state_setf(st, id, "attempts", "%d", p->attempts);
		if (!strcmp(p->status, WS_IN_PROGRESS)) {
			/* to be retried: queued under our pid again */
			ws_state_setf(st, id, "pid", "%ld", (long)d->owner);
		} else {
			ws_state_set(st, id, "pid", NULL);
			ws_state_set(st, id, "finished", p->when);
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
		free(p->status);
		free(p->reason);
	}
	d->pending_nr = 0;
}

/* Still ours to start: queued by this dispatch, not touched since. */
static int still_ours(struct ws_dispatch *d, struct ws_job *job,
		      const struct ws_state *st)
{
	const char *status = ws_state_get(st, job->id, "status");

	return status && !strcmp(status, WS_IN_PROGRESS) &&
	       ws_state_get_long(st, job->id, "pid", 0) == (long)d->owner;
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
	log_line(job, "%s", job->result);
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
	log_line(job, "%s", job->result);
	close_log(job);
	pending_add(d, job, 0, WS_READY, NULL);
}

/*
 * One locked transaction: write the pending records, then (when asked)
 * put the queued jobs back to ready, then start `starting` (each one
 * checked to be still ours).
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
static void transact(struct ws_dispatch *d, struct ws_job **starting,
		     size_t nr, int unqueue)
{
	struct ws_state st = WS_STATE_INIT;
	int gate[2] = { -1, -1 };
	size_t i, started = 0;
	int recorded = 1;

	if (nr && pipe2(gate, O_CLOEXEC) < 0)
		error_errno("cannot create a pipe");
	write_done_files(d);
	ws_state_lock(&st, d->repo->ws_dir, d->lock_timeout_ms);
	apply_pending(d, &st);
	for (i = 0; unqueue && i < d->nr; i++) {
		struct ws_job *job = d->jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		job->phase = WS_JOB_ENDED;
		job->skipped = 1;
		free(job->result);
		job->result = xstrdup("not started: interrupted");
		if (still_ours(d, job, &st)) {
			ws_state_set_status(&st, job->id, WS_READY, NULL);
			ws_state_set(&st, job->id, "pid", NULL);
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
			log_line(job, "%s", job->result);
			close_log(job);
			continue;
		}
		if (start_job(d, job, gate) < 0) {
			start_failed(d, job);
			ws_state_setf(&st, job->id, "attempts", "%d", job->attempts);
			ws_state_set_status(&st, job->id, WS_FAILED, job->reason);
			ws_state_set(&st, job->id, "pid", NULL);
			continue;
		}
		started++;
		iso8601_now(now);
		ws_state_set_status(&st, job->id, WS_IN_PROGRESS, NULL);
		ws_state_setf(&st, job->id, "pid", "%ld", (long)job->pid);
		ws_state_set(&st, job->id, "started", now);
		ws_state_set(&st, job->id, "finished", NULL);
		ws_state_setf(&st, job->id, "attempts", "%d", job->attempts);
	}
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

		if (job->phase == WS_JOB_RUNNING)
			notify(d, job, WS_EV_START);
		else
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
		pending_add(d, job, zombie, WS_DONE, NULL);
		notify(d, job, WS_EV_DONE);
	} else if (will_retry(d, job)) {
		char *reason = xstrfmt("retrying after %s", job->result);

		job->phase = WS_JOB_QUEUED;
		pending_add(d, job, zombie, WS_IN_PROGRESS, reason);
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
		pending_add(d, job, zombie, WS_FAILED, job->reason);
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
			job->kill_ms = now + d->grace_ms;
		}
		if (job->kill_ms && now >= job->kill_ms) {
			kill_process_group(job->pid, SIGKILL);
			job->kill_ms = 0;
		}
	}
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
			if (job->timed_out || job->interrupted)
				kill_process_group(job->pid, SIGKILL); /* stragglers */
			handle_end(d, job);
			ended_nr++;
		}
		now = monotonic_ms();
		check_timeouts(d, now);

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

/* ------------------------------------------------- vanished processes */

/*
 * 1 when `pid` runs. A zombie counts only while its parent is a
 * git-ws-dispatch, which keeps its commands unreaped until it has
 * recorded their end; a zombie left to an init that never reaps (a
 * container without one) has ended.
 */
static int pid_is_running(pid_t pid)
{
	char path[64], *buf = NULL, *p;
	long ppid = 0;
	char state = 0;
	int ret = 1;

	if (!process_is_alive(pid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_file(path, &buf, NULL) < 0)
		return 1; /* no /proc: trust kill(2) */
	if ((p = strrchr(buf, ')')) && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 &&
	    state == 'Z') {
		char *comm = NULL;

		snprintf(path, sizeof(path), "/proc/%ld/comm", ppid);
		ret = !read_file(path, &comm, NULL) &&
		      !strncmp(comm, "git-ws-dispatch", 15);
		free(comm);
	}
	free(buf);
	return ret;
}

int ws_reap_vanished(const struct ws_repo *r, struct ws_state *st)
{
	size_t i;
	int changed = 0;
	char now[32];

	iso8601_now(now);
	for (i = 0; i < st->state.nr; i++) {
		struct cfg_section *s = &st->state.sections[i];
		const char *status = cfg_get(s, "status");
		const char *reason = cfg_get(s, "reason");
		const char *id = s->sub;
		long pid = ws_state_get_long(st, id, "pid", 0);
		struct ws_done done = WS_DONE_INIT;
		struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
		char *path;
		int rc;

		if (!status || strcmp(status, WS_IN_PROGRESS))
			continue;
		if (pid > 0 && pid_is_running((pid_t)pid))
			continue;
		changed++;
		if (reason && !strcmp(reason, "queued")) {
			/* its dispatch went away before starting it */
			ws_state_set_status(st, id, WS_READY, NULL);
			ws_state_set(st, id, "pid", NULL);
			continue;
		}
		path = ws_path(r, "coordination/%s.done", id);
		rc = ws_done_read(&done, path, id, &err);
		if (!rc && done.status == WS_DONE_SUCCESS) {
			ws_state_set_status(st, id, WS_DONE, NULL);
		} else {
			if (!rc) {
				strbuf_addf(&why, "the command reported '%s'",
					    ws_done_status_name(done.status));
				if (*done.summary) {
					strbuf_addstr(&why, ": ");
					strbuf_add_sanitized(&why, done.summary);
				}
				strbuf_addstr(&why, " (its process is gone)");
			} else if (rc < 0) {
				strbuf_addf(&why, "process vanished; malformed done file: %s",
					    err.buf);
			} else {
				strbuf_addstr(&why, "process vanished");
			}
			if (pid > 0)
				strbuf_addf(&why, " (pid %ld)", pid);
			ws_state_set_status(st, id, WS_FAILED, why.buf);
		}
		ws_state_set(st, id, "pid", NULL);
		ws_state_set(st, id, "finished", now);
		ws_done_release(&done);
		strbuf_release(&err);
		strbuf_release(&why);
		free(path);
	}
	return changed;
}
