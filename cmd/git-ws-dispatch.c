/*
 * git ws-dispatch: run the plan's command in every ready workstream's
 * worktree, several at once, and record how each one ended.
 */
#include "compat.h"
#include "conflicts.h"
#include "cost.h"
#include "dispatch.h"
#include "dispatch-screen.h"
#include "final-test.h"
#include "lost-worktree.h"
#include "parse-options.h"
#include "plan.h"
#include "pool.h"
#include "reap.h"
#include "runner.h"
#include "recover.h"
#include "repo.h"
#include "run.h"
#include "setup.h"
#include "state.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"

static const char * const dispatch_usage[] = {
	"git ws-dispatch [-j <n> | --jobs <n>] [--retries <n>] [--timeout <duration>] [--detach] [-n | --dry-run] [--porcelain] [--retry] [--wait] [<id>...] [-- <command> [<args>...]]",
	"git ws-dispatch --loop [-j <n> | --jobs <n>] [--retries <n>] [--timeout <duration>] [--push[=<remote>]] [--porcelain] [--wait] [-- <command> [<args>...]]",
	NULL
};

struct dispatch_ctx {
	struct ws_repo repo;
	struct plan plan;
	struct ws_state st;
	struct ws_dispatch d;
	const char **ids;       /* named on the command line */
	size_t ids_nr;
	const char **command;   /* after "--", NULL-terminated; NULL if none */
	int jobs, retries, detach, dry_run, porcelain, retry, loop, wait;
	struct ws_job_opts *opts;
	enum ws_status *last_status; /* --loop: per workstream, as last reported */
	struct strvec adopted;  /* --loop: the ids whose command it adopted */
	long timeout;           /* -1: the plan's */
	struct ws_screen screen; /* progress redrawn on stderr */
	const char *push;       /* --loop --push[=<remote>]: NULL when not */
	struct ws_conflict_watch conflicts; /* --loop: conflicts.h */
};

/* ------------------------------------------------------------ output */

static void on_event(struct ws_dispatch *d, struct ws_job *job,
		     enum ws_dispatch_event ev)
{
	struct dispatch_ctx *c = d->data;

	ws_screen_event(&c->screen, d, job, ev);
}

/* ---------------------------------------------------------- selection */

static void explain_not_ready(struct dispatch_ctx *c, const char *id,
			      enum ws_status status)
{
	const char *reason = ws_state_get(&c->st, id, WS_KEY_REASON);

	if (status == WS_STATUS_NONE) {
		error("'%s' is not allocated", id);
		advise("allocate the plan again with 'git ws-alloc <plan>'");
	} else if (status == WS_STATUS_BLOCKED) {
		error("'%s' is not ready: it is blocked (%s)", id,
		      reason ? reason : "waiting for its dependencies");
		advise("merge its dependencies first ('git ws-merge')");
	} else if (status == WS_STATUS_IN_PROGRESS &&
		   ws_command_running(&c->st, id) && !ws_live_dispatcher(&c->st, id)) {
		error("'%s' is not ready: its command runs on (pid %s) after its dispatcher died",
		      id, ws_state_get(&c->st, id, WS_KEY_PID) ?: "unknown");
		advise("'git ws-dispatch --loop' waits for it and records how it ended");
	} else if (status == WS_STATUS_IN_PROGRESS) {
		error("'%s' is not ready: it is already in progress (pid %s)", id,
		      ws_state_get(&c->st, id, WS_KEY_PID) ?: "unknown");
		advise("wait for it; its output goes to '.git/ws/logs/%s.log'", id);
	} else if (status == WS_STATUS_FAILED) {
		error("'%s' is not ready: it failed (%s)", id,
		      reason ? reason : "no reason recorded");
		advise("run it again with 'git ws-dispatch --retry %s'", id);
	} else {
		error("'%s' is not ready: it is %s", id, ws_status_name(status));
		advise("only 'ready' workstreams are dispatched; see 'git ws-status'");
	}
}

/*
 * Another dispatch runs a workstream in the worktree of plan->ws[idx]:
 * return its id, else NULL.
 */
static const char *worktree_taken(struct dispatch_ctx *c, size_t idx)
{
	const char *wt = ws_state_get(&c->st, c->plan.ws[idx].id, WS_KEY_WORKTREE);
	size_t i;

	for (i = 0; wt && i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;
		enum ws_status s = ws_state_status(&c->st, id);
		const char *w = ws_state_get(&c->st, id, WS_KEY_WORKTREE);

		if (i != idx && s == WS_STATUS_IN_PROGRESS && w && !strcmp(w, wt))
			return id;
	}
	return NULL;
}

/* 1 when `id` is among the ids named on the command line. */
static int named(const struct dispatch_ctx *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->ids_nr; i++)
		if (!strcmp(c->ids[i], id))
			return 1;
	return 0;
}

static void open_state(struct dispatch_ctx *c);

/*
 * With the plan's pool (pool.h): give the ready workstreams (of `ids`,
 * when not NULL) that hold no worktree slot one, as far as slots are
 * free; the others keep a reason that says who holds the slots. With
 * --dry-run, only in the state in memory, to say where they would run.
 */
static void assign_slots(struct dispatch_ctx *c, const struct strvec *ids)
{
	struct ws_pool p = WS_POOL_INIT;
	struct ws_include inc = WS_INCLUDE_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i;

	if (c->plan.pool <= 0)
		return;
	for (i = 0; i < c->plan.nr; i++)
		if (ws_pool_waits(&c->plan, &c->st, c->plan.ws[i].id) &&
		    (!ids || strvec_find(ids, c->plan.ws[i].id) >= 0))
			break;
	if (i == c->plan.nr)
		return;
	if (ws_include_read(&inc, &c->repo, &c->plan.include, &err) < 0)
		die("%s", err.buf);
	p.repo = &c->repo;
	p.plan = &c->plan;
	p.st = &c->st;
	p.hold_fd = c->st.lock_fd;
	p.include = &inc;
	p.dry_run = c->dry_run;
	ws_pool_assign(&p, ids);
	ws_pool_release(&p);
	ws_include_release(&inc);
	strbuf_release(&err);
}

/*
 * Run the `setup` that a worktree still needs (setup.h) before anything
 * runs there: the pending ones (git ws-alloc was killed before it ran
 * them) and, with --retry, the failed ones named. The state lock is let
 * go while they run and taken again to record them; a setup that fails
 * again leaves its workstream failed, and --retry then does not retry it.
 */
static void run_setups(struct dispatch_ctx *c)
{
	struct ws_setup_job *jobs;
	size_t i, nr = 0;

	if (c->dry_run)
		return;
	jobs = xcalloc(c->plan.nr + 1, sizeof(*jobs));
	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;
		const char *setup = ws_state_get(&c->st, id, WS_KEY_SETUP);
		enum ws_status s = ws_state_status(&c->st, id);

		if (!setup || !c->plan.ws[i].setup ||
		    s == WS_STATUS_MERGED || s == WS_STATUS_CLEANED ||
		    (!strcmp(setup, WS_SETUP_FAILED) && !(c->retry && named(c, id))))
			continue;
		jobs[nr].idx = i;
		jobs[nr].branch = xstrdup_or_null(ws_state_get(&c->st, id, WS_KEY_BRANCH));
		jobs[nr].worktree = xstrdup_or_null(ws_state_get(&c->st, id, WS_KEY_WORKTREE));
		if (!jobs[nr].worktree) {
			free((char *)jobs[nr].branch);
			continue;
		}
		fprintf(stderr, "%s: running its setup\n", id);
		nr++;
	}
	if (nr) {
		ws_state_commit_or_die(&c->st);
		ws_state_release(&c->st);
		ws_setup_run(&c->repo, &c->plan, jobs, nr);
		open_state(c);
	}
	for (i = 0; i < nr; i++) {
		const char *id = c->plan.ws[jobs[i].idx].id;
		char *log = ws_setup_log(&c->repo, id);

		if (!jobs[i].failed) {
			ws_state_set(&c->st, id, WS_KEY_SETUP, NULL);
		} else {
			char *reason = xstrfmt("setup failed: %s; see %s",
					       jobs[i].result, log);

			error("the setup of '%s' failed (%s); see %s", id,
			      jobs[i].result, log);
			ws_state_set(&c->st, id, WS_KEY_SETUP, WS_SETUP_FAILED);
			ws_state_set_status(&c->st, id, WS_STATUS_FAILED, reason);
			free(reason);
		}
		free(log);
		free(jobs[i].result);
		free((char *)jobs[i].branch);
		free((char *)jobs[i].worktree);
	}
	free(jobs);
}

/* Put the named failed workstreams back to ready (--retry). */
static void retry_failed(struct dispatch_ctx *c)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < c->ids_nr; i++) {
		const char *id = c->ids[i];
		enum ws_status s = ws_state_status(&c->st, id);

		if (plan_find(&c->plan, id) < 0)
			continue; /* select() says so */
		if (s == WS_STATUS_READY)
			continue;
		if (s != WS_STATUS_FAILED) {
			bad = error("cannot retry '%s': it has not failed (it is %s)",
				    id, ws_status_name(s) ?: "not allocated");
			continue;
		}
		if (ws_state_get(&c->st, id, WS_KEY_SETUP))
			continue; /* its setup failed again: run_setups() said so */
		ws_state_set_status(&c->st, id, WS_STATUS_READY, NULL);
	}
	if (bad) {
		advise("--retry only takes workstreams whose status is 'failed'");
		exit(WS_EXIT_FATAL);
	}
}

static void select_named(struct dispatch_ctx *c, struct ws_job_opts *opts)
{
	size_t i, k;
	int bad = 0;

	for (i = 0; i < c->ids_nr; i++) {
		const char *id = c->ids[i];
		ssize_t idx = plan_find(&c->plan, id);
		enum ws_status s;
		const char *other;

		for (k = 0; k < i; k++)
			if (!strcmp(c->ids[k], id))
				break;
		if (k < i)
			continue;
		if (idx < 0) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_add_sanitized(&sb, id);
			bad = error("no workstream '%s' in plan '%s'", sb.buf,
				    c->plan.name);
			strbuf_release(&sb);
			continue;
		}
		s = ws_state_status(&c->st, id);
		if (s != WS_STATUS_READY) {
			explain_not_ready(c, id, s);
			bad = -1;
			continue;
		}
		if (ws_pool_waits(&c->plan, &c->st, id)) {
			bad = error("'%s' is not ready: %s", id,
				    ws_state_get(&c->st, id, WS_KEY_REASON) ?:
				    "waiting for a worktree slot");
			continue;
		}
		if ((other = worktree_taken(c, idx))) {
			bad = error("'%s' shares its worktree with '%s', which is in progress",
				    id, other);
			advise("dispatch it when '%s' has ended", other);
			continue;
		}
		if (!ws_dispatch_add(&c->d, &c->st, idx, opts))
			bad = -1;
	}
	if (bad)
		exit(WS_EXIT_FATAL);
}

static void select_ready(struct dispatch_ctx *c, struct ws_job_opts *opts)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < c->plan.nr; i++) {
		size_t idx = c->plan.order[i];
		const char *id = c->plan.ws[idx].id;
		enum ws_status s = ws_state_status(&c->st, id);
		const char *other;

		if (s != WS_STATUS_READY)
			continue;
		if (ws_pool_waits(&c->plan, &c->st, id)) {
			warning("'%s' %s: %s", id, c->dry_run ? "would wait" : "waits",
				ws_state_get(&c->st, id, WS_KEY_REASON) ?:
				"waiting for a worktree slot");
			continue;
		}
		if ((other = worktree_taken(c, idx))) {
			warning("'%s' waits: it shares its worktree with '%s', which is in progress",
				id, other);
			continue;
		}
		if (!ws_dispatch_add(&c->d, &c->st, idx, opts))
			bad = -1;
	}
	if (bad)
		exit(WS_EXIT_FATAL);
}

/*
 * The first step, with the state open: repair what a killed dispatch left
 * (recover.h, WS_INTENT_START: ws_reap_vanished() finalises every
 * workstream whose command or dispatcher is gone), and say which ones.
 */
static void recover(struct dispatch_ctx *c)
{
	struct ws_recover rc = WS_RECOVER_INIT;
	struct strvec before = STRVEC_INIT;
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		enum ws_status s = ws_state_status(&c->st, c->plan.ws[i].id);

		if (s == WS_STATUS_IN_PROGRESS)
			strvec_push(&before, c->plan.ws[i].id);
	}
	rc.repo = &c->repo;
	rc.plan = &c->plan;
	rc.st = &c->st;
	rc.hold_fd = c->st.lock_fd;
	/*
	 * With --dry-run the state is not locked (open_state()): the repair
	 * then shows what would be dispatched, in memory only.
	 */
	rc.kinds = 1u << WS_INTENT_START | 1u << WS_INTENT_SLOT;
	if (ws_recover(&rc) < 0)
		exit(WS_EXIT_FATAL);
	for (i = 0; rc.changed && i < before.nr; i++) {
		enum ws_status s = ws_state_status(&c->st, before.v[i]);
		const char *r = ws_state_get(&c->st, before.v[i], WS_KEY_REASON);

		if (s == WS_STATUS_IN_PROGRESS)
			continue;
		if (s == WS_STATUS_DONE && !r)
			fprintf(stderr, "%s: done (its command ended after its dispatcher was gone)\n",
				before.v[i]);
		else
			warning("'%s' was in progress but its process is gone: now %s%s%s",
				before.v[i], ws_status_name(s), r ? ": " : "", r ? r : "");
	}
	strvec_clear(&before);
}

/*
 * Before anything starts in them: find again the worktrees of the queued
 * workstreams that were moved by hand, and make again those removed by
 * hand (lost-worktree.h). One that cannot be made again fails its job
 * when it would start, the worktree missing.
 */
static void bring_back_worktrees(struct dispatch_ctx *c)
{
	struct ws_lost_worktrees lw = WS_LOST_WORKTREES_INIT;
	struct strvec ids = STRVEC_INIT;
	size_t i;

	for (i = 0; i < c->d.nr; i++) {
		const struct ws_job *job = c->d.jobs[i];

		if (job->phase != WS_JOB_QUEUED)
			continue;
		/* a slot --dry-run only gave it, not made yet: not lost */
		if (c->dry_run && ws_state_get(&c->st, job->id, WS_KEY_SLOT) &&
		    !path_exists(job->worktree))
			continue;
		strvec_push(&ids, job->id);
	}
	lw.repo = &c->repo;
	lw.st = &c->st;
	lw.hold_fd = c->st.lock_fd;
	lw.dry_run = c->dry_run;
	lw.ids = &ids;
	if (ids.nr)
		ws_bring_back_worktrees(&lw);
	for (i = 0; lw.changed && i < c->d.nr; i++) {
		struct ws_job *job = c->d.jobs[i];
		const char *wt = ws_state_get(&c->st, job->id, WS_KEY_WORKTREE);

		if (wt && strcmp(wt, job->worktree)) {
			free(job->worktree);
			job->worktree = xstrdup(wt);
		}
	}
	strvec_clear(&lw.records);
	strvec_clear(&ids);
}

/* 1 when the first dispatch of `job` would change its branch. */
static int would_bring_up(struct dispatch_ctx *c, const struct ws_job *job)
{
	git_oid base, tip;

	if (!job->first || !c->plan.base ||
	    ws_branch_tip(&c->repo, c->plan.base, &base) < 0 ||
	    ws_branch_tip(&c->repo, job->branch, &tip) < 0)
		return 0;
	return !git_oid_equal(&base, &tip) &&
	       git_graph_descendant_of(c->repo.repo, &tip, &base) != 1;
}

static void print_dry_run(struct dispatch_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < c->d.nr; i++) {
		const struct ws_job *job = c->d.jobs[i];
		char *cmd = ws_job_command_line(job);

		strbuf_reset(&sb);
		if (c->porcelain) {
			strbuf_addf(&sb, "would-start\t%s\t", job->id);
			ws_add_field(&sb, job->worktree);
			strbuf_addch(&sb, '\t');
			ws_add_field(&sb, cmd);
		} else {
			strbuf_addf(&sb, "would start %s in ", job->id);
			strbuf_add_sanitized(&sb, job->worktree);
			strbuf_addstr(&sb, ": ");
			strbuf_add_sanitized(&sb, cmd);
			if (would_bring_up(c, job))
				strbuf_addf(&sb, " (after bringing '%s' up to '%s')",
					    job->branch, c->plan.base);
		}
		printf("%s\n", sb.buf);
		free(cmd);
	}
	strbuf_release(&sb);
}

/* ------------------------------------------------- another dispatcher */

/*
 * Another live git ws-dispatch that runs what we are asked to run: with
 * --loop, the plan (the loop of coordination/dispatcher, or the
 * dispatcher of any running command); with <id>s, the dispatcher of one
 * of them that is in progress (reap.h). Returns its pid, else 0; the
 * workstream it runs in *what, or NULL for the plan.
 */
static long other_dispatcher(struct dispatch_ctx *c, const char **what)
{
	long pid;
	size_t i;

	*what = NULL;
	if (c->loop || !c->ids_nr) {
		if ((pid = ws_dispatcher_record_live(&c->repo, NULL)))
			return c->loop ? pid : 0;
		for (i = 0; c->loop && i < c->plan.nr; i++)
			if ((pid = ws_live_dispatcher(&c->st, c->plan.ws[i].id)) &&
			    pid != (long)getpid())
				return pid;
		return 0;
	}
	for (i = 0; i < c->ids_nr; i++)
		if (plan_find(&c->plan, c->ids[i]) >= 0 &&
		    (pid = ws_live_dispatcher(&c->st, c->ids[i])) &&
		    pid != (long)getpid()) {
			*what = c->ids[i];
			return pid;
		}
	return 0;
}

/*
 * With the state open, before anything is repaired or run: when another
 * git ws-dispatch runs what we are asked to run, say so and exit 1; with
 * --wait, wait for it to end (reap.h, ws_wait_for_pid()), then look
 * again as if started afresh. A dispatcher that died is no such thing:
 * the commands it left running are adopted (adopt()).
 */
static void check_other_dispatcher(struct dispatch_ctx *c)
{
	const char *what;
	long pid;

	while ((pid = other_dispatcher(c, &what))) {
		ws_state_release(&c->st);
		if (!c->wait) {
			if (what)
				error("another git ws-dispatch (pid %ld) is running '%s'; watch it with 'git ws-status', or wait for it with --wait",
				      pid, what);
			else
				error("another git ws-dispatch (pid %ld) is running this plan; watch it with 'git ws-status', or wait for it with --wait",
				      pid);
			exit(WS_EXIT_NO);
		}
		fprintf(stderr, "Waiting for git ws-dispatch (pid %ld) to finish...\n", pid);
		ws_wait_for_pid(pid, -1);
		open_state(c);
	}
}

/* ------------------------------------------------------------ detach */

/*
 * Fork the dispatcher that runs in the background, in its own session,
 * with its chatter in logs/_dispatch.log (no id can start with '_').
 * Returns its pid in the parent and 0 in it.
 */
static pid_t detach_dispatcher(struct dispatch_ctx *c)
{
	char *log = ws_path(&c->repo, "logs/_dispatch.log");
	pid_t pid;
	int fd;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno("cannot fork the background dispatcher");
	if (pid) {
		free(log);
		return pid;
	}
	/* the flock belongs to the parent until it commits: do not unlock it */
	close(c->st.lock_fd);
	c->st.lock_fd = -1;
	setsid();
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	free(log);
	return 0;
}

/* ------------------------------------------------------------ budget */

/*
 * When the plan's budget is spent (cost.h), say so, as of the state now:
 * "budget spent: $X of $Y max-cost; ..." (an error when `refusal`, else a
 * plain line on stderr). Returns 1 when spent.
 */
static int say_budget_spent(struct dispatch_ctx *c, const struct ws_state *st,
			    int refusal)
{
	struct strbuf msg = STRBUF_INIT;
	int spent = ws_budget_spent(&c->plan, st, &msg);

	if (spent && refusal)
		error("%s", msg.buf);
	else if (spent)
		fprintf(stderr, "%s\n", msg.buf);
	strbuf_release(&msg);
	return spent;
}

/* say_budget_spent() of the state as it is on disk. */
static int say_budget_spent_now(struct dispatch_ctx *c, int refusal)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	int spent;

	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	spent = say_budget_spent(c, &st, refusal);
	ws_state_release(&st);
	strbuf_release(&err);
	return spent;
}

/* ------------------------------------------------------------ loop */

/*
 * --loop: dispatch every ready workstream; as each
 * command ends, run `git ws-converge` on it and, when it converged,
 * `git ws-merge`, which unblocks its dependents; dispatch those, and again
 * what converge or merge sent back (its next iteration reads why in
 * $WS_REPORT), until max-iterations. The steps run as git would run them,
 * so each stays usable alone; their output goes to logs/<id>.loop.log.
 */

/* Run `git ws-<step> [<ids>...]`, its output appended to `log`. */
static int run_step(struct dispatch_ctx *c, const char *step,
		    const struct strvec *ids, const char *log_name)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *log = ws_path(&c->repo, "logs/%s.loop.log", log_name);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	size_t i;
	int ret;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_push(&cp.args, step);
	for (i = 0; ids && i < ids->nr; i++)
		strvec_push(&cp.args, ids->v[i]);
	if (fd >= 0) {
		cp.out = fd;
		cp.err = dup(fd);
	} else {
		cp.no_stdout = 1;
	}
	ret = run_command(&cp);
	if (ret < 0 || ret > WS_EXIT_NO)
		warning("'git %s' failed (exit %d); see '%s'", step, ret, log);
	free(log);
	return ret;
}

/*
 * Run `git ws-merge`, with --push[=<remote>] when the loop was given it:
 * the base is pushed after each merge, as git ws-merge --push does.
 */
static void run_merge(struct dispatch_ctx *c)
{
	struct strvec args = STRVEC_INIT;

	if (c->push && *c->push)
		strvec_pushf(&args, "--push=%s", c->push);
	else if (c->push)
		strvec_push(&args, "--push");
	run_step(c, "ws-merge", &args, "_merge");
	strvec_clear(&args);
}

/* 1 when plan->ws[idx] is queued or running in this dispatch. */
static int active(struct dispatch_ctx *c, size_t idx)
{
	size_t i;

	for (i = 0; i < c->d.nr; i++)
		if (c->d.jobs[i]->idx == idx && c->d.jobs[i]->phase != WS_JOB_ENDED)
			return 1;
	return 0;
}

/* Print what changed in the state since the last look, one line each. */
static void report_changes(struct dispatch_ctx *c, const struct ws_state *st)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;
		enum ws_status s = ws_state_status(st, id);
		const char *r = ws_state_get(st, id, WS_KEY_REASON);
		struct strbuf sb = STRBUF_INIT;

		if (s == WS_STATUS_NONE || c->last_status[i] == s)
			continue;
		c->last_status[i] = s;
		if (s == WS_STATUS_IN_PROGRESS || s == WS_STATUS_DONE)
			continue; /* the dispatch events say these */
		strbuf_addf(&sb, "%s: %s", id, ws_status_name(s));
		if (s == WS_STATUS_MERGED && ws_state_get(st, id, WS_KEY_MERGE_OID))
			strbuf_addf(&sb, " (%.7s)", ws_state_get(st, id, WS_KEY_MERGE_OID));
		else if (r) {
			strbuf_addstr(&sb, ": ");
			strbuf_add_sanitized(&sb, r);
		}
		if (c->porcelain) {
			fprintf(stderr, "%s\n", sb.buf);
		} else {
			ws_screen_clear(&c->screen);
			fprintf(stderr, "%s\n", sb.buf);
		}
		strbuf_release(&sb);
	}
}

/*
 * Under the state lock: what converge or merge sent back goes back to
 * ready (or to failed at max-iterations); every ready workstream that is
 * not running is queued in this dispatch. Returns how many were queued.
 */
static size_t feed(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	size_t i, before = c->d.nr;
	int spent;

	ws_state_lock_repo(&st, &c->repo);
	c->st = st;
	ws_update_blocked(&c->plan, &c->st);
	spent = ws_budget_spent(&c->plan, &c->st, NULL);
	if (!spent)
		assign_slots(c, NULL);
	for (i = 0; i < c->plan.nr; i++) {
		size_t idx = c->plan.order[i];
		const struct plan_workstream *w = &c->plan.ws[idx];
		enum ws_status s = ws_state_status(&c->st, w->id);
		const char *r = ws_state_get(&c->st, w->id, WS_KEY_REASON);

		if (!s || active(c, idx))
			continue;
		if (s == WS_STATUS_DONE && r) {
			long it = ws_state_get_long(&c->st, w->id, WS_KEY_ITERATIONS, 0);
			char *reason = xstrdup(r);

			/* a merge sent it back: converge did not count that iteration */
			if (ws_state_get(&c->st, w->id, WS_KEY_SENT_BACK)) {
				ws_state_setf(&c->st, w->id, WS_KEY_ITERATIONS, "%ld", ++it);
				ws_state_set(&c->st, w->id, WS_KEY_SENT_BACK, NULL);
			}
			if (it >= w->max_iterations) {
				char *why = xstrfmt("did not converge after %ld iterations: %s",
						    it, reason);
				ws_state_set_status(&c->st, w->id, WS_STATUS_FAILED, why);
				free(why);
				s = WS_STATUS_FAILED;
			} else {
				char *why = xstrfmt("sent back (iteration %ld): %s", it, reason);
				struct strbuf msg = STRBUF_INIT;

				ws_state_set_status(&c->st, w->id, WS_STATUS_READY, why);
				strbuf_addf(&msg, "%s: ", w->id);
				strbuf_add_sanitized(&msg, why);
				fprintf(stderr, "%s\n", msg.buf);
				strbuf_release(&msg);
				free(why);
				s = WS_STATUS_READY;
			}
			free(reason);
		}
		if (s != WS_STATUS_READY || worktree_taken(c, idx) ||
		    ws_pool_waits(&c->plan, &c->st, w->id))
			continue;
		if (!spent)
			ws_dispatch_add(&c->d, &c->st, idx, c->opts);
	}
	/* what waits for more budget says so; nothing new starts */
	ws_budget_hold(&c->plan, &c->st);
	bring_back_worktrees(c);
	ws_dispatch_mark_queued(&c->d, &c->st);
	ws_state_commit_or_die(&c->st);
	report_changes(c, &c->st);
	ws_state_release(&c->st);
	return c->d.nr - before;
}

/*
 * Converge the workstreams whose command ended (`done` with no reason),
 * then merge the queue. Returns 1 when anything converged or is queued.
 */
static void settle(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	struct strvec ids = STRVEC_INIT;
	size_t i;
	int queued;

	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	for (i = 0; i < c->plan.nr; i++) {
		size_t idx = c->plan.order[i];
		const char *id = c->plan.ws[idx].id;
		enum ws_status s = ws_state_status(&st, id);

		if (s == WS_STATUS_DONE && !ws_state_get(&st, id, WS_KEY_REASON) &&
		    !active(c, idx))
			strvec_push(&ids, id);
	}
	ws_state_release(&st);
	if (ids.nr)
		run_step(c, "ws-converge", &ids, ids.nr == 1 ? ids.v[0] : "_converge");
	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	queued = ws_queue_nr(&st) > 0;
	report_changes(c, &st);
	ws_state_release(&st);
	if (queued)
		run_merge(c);
	strvec_clear(&ids);
	strbuf_release(&err);
}

/*
 * When a branch tip moved, compute again which active workstreams would
 * conflict (conflicts.h): each new conflict is an event line, and the
 * board shows their count.
 */
static void watch_conflicts(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	struct strvec lines = STRVEC_INIT;
	size_t i;

	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	if (ws_conflict_watch_update(&c->conflicts, &c->repo, &c->plan, &st,
				     &lines) > 0) {
		c->screen.conflicts = c->conflicts.count;
		if (lines.nr)
			ws_screen_clear(&c->screen);
		for (i = 0; i < lines.nr; i++) {
			strbuf_reset(&sb);
			strbuf_add_sanitized(&sb, lines.v[i]);
			fprintf(stderr, "%s\n", sb.buf);
		}
	}
	ws_state_release(&st);
	strvec_clear(&lines);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static void loop_on_event(struct ws_dispatch *d, struct ws_job *job,
			  enum ws_dispatch_event ev)
{
	struct dispatch_ctx *c = d->data;

	on_event(d, job, ev);
	if (ev != WS_EV_DONE || d->interrupted)
		return;
	ws_dispatch_flush(d);
	settle(c);
	if (!d->interrupted) {
		watch_conflicts(c);
		feed(c);
	}
}

/*
 * Adopt the commands that run on after their dispatcher died (its
 * kill -9, a crash): their supervisors record how they end (reap.h).
 * Under the state lock, credit every one that has ended
 * (ws_reap_vanished()); when none had, wait until one of those still
 * running ends, passing a stop signal on to their process groups
 * meanwhile, so that stopping us leaves nothing running. Nothing else
 * starts in their worktrees meanwhile: they are in progress. Returns 1
 * when the loop is to look again, 0 when no command was left to adopt.
 */
static int adopt(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	long *pids = NULL;
	size_t nr = 0, alloc = 0, i, k;
	int credited;

	ws_state_lock_repo(&st, &c->repo);
	credited = ws_reap_vanished(&c->repo, &st) > 0;
	for (k = 0; credited && k < c->adopted.nr; k++) {
		const char *id = c->adopted.v[k];
		ssize_t idx = plan_find(&c->plan, id);
		enum ws_status s = ws_state_status(&st, id);
		const char *r = ws_state_get(&st, id, WS_KEY_REASON);

		if (idx < 0 || s == WS_STATUS_IN_PROGRESS || c->last_status[idx] == s)
			continue;
		/* said here, not again by report_changes() */
		c->last_status[idx] = s;
		fprintf(stderr, "%s: %s%s%s (the adopted command ended)\n", id,
			ws_status_name(s), r ? ": " : "", r ? r : "");
	}
	for (i = 0; !credited && i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;

		if (ws_state_status(&st, id) != WS_STATUS_IN_PROGRESS ||
		    active(c, i) || !ws_command_running(&st, id) ||
		    ws_live_dispatcher(&st, id))
			continue;
		ALLOC_GROW(pids, nr + 1, alloc);
		pids[nr++] = ws_state_get_long(&st, id, WS_KEY_PID, 0);
		for (k = 0; k < c->adopted.nr; k++)
			if (!strcmp(c->adopted.v[k], id))
				break;
		if (k == c->adopted.nr) {
			strvec_push(&c->adopted, id);
			ws_screen_clear(&c->screen);
			fprintf(stderr, "%s: its command runs on (pid %ld) after its dispatcher died: waiting for it\n",
				id, pids[nr - 1]);
		}
	}
	ws_state_commit_or_die(&st);
	if (credited)
		report_changes(c, &st);
	ws_state_release(&st);
	if (credited || !nr) {
		free(pids);
		return credited;
	}
	for (i = 0; i < nr; i++)
		forward_signals_to_group((pid_t)pids[i]);
	for (i = 0; !ws_wait_for_pid(pids[i], 200); i = (i + 1) % nr)
		;
	for (i = 0; i < nr; i++)
		stop_forwarding_signals_to_group((pid_t)pids[i]);
	free(pids);
	return 1;
}

/*
 * Resume what an interrupted loop left: workstreams it stopped
 * ("interrupted") or whose process vanished go back to ready.
 */
static void resume(struct dispatch_ctx *c)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;
		enum ws_status s = ws_state_status(&c->st, id);
		const char *r = ws_state_get(&c->st, id, WS_KEY_REASON);

		if (s == WS_STATUS_FAILED && r &&
		    (!strncmp(r, "interrupted", 11) || !strncmp(r, "process vanished", 16)))
			ws_state_set_status(&c->st, id, WS_STATUS_READY, NULL);
	}
}

/*
 * The plan's final-test (final-test.h), as git ws-merge recorded it:
 * "final-test TAB passed|failed TAB <oid> TAB <log>" with --porcelain,
 * else a line when it failed. Returns 1 when it failed.
 */
static int say_final_test(struct dispatch_ctx *c, const struct ws_state *st)
{
	const char *result = ws_state_plan_get(st, WS_PLAN_KEY_FINAL_TEST);
	const char *oid = ws_state_plan_get(st, WS_PLAN_KEY_FINAL_TEST_OID);
	const char *log = ws_state_plan_get(st, WS_PLAN_KEY_FINAL_TEST_LOG);
	struct strbuf sb = STRBUF_INIT;
	int failed;

	if (!c->plan.final_test || !result)
		return 0;
	failed = !strcmp(result, "failed");
	if (c->porcelain) {
		strbuf_addf(&sb, "final-test\t%s\t", result);
		ws_add_field(&sb, oid ? oid : "");
		strbuf_addch(&sb, '\t');
		ws_add_field(&sb, log ? log : "");
		printf("%s\n", sb.buf);
	} else if (failed) {
		strbuf_addf(&sb, "integration failed: the final test fails on '%s'; see ",
			    c->plan.base);
		strbuf_add_sanitized(&sb, log ? log : "");
		printf("%s\n", sb.buf);
	}
	strbuf_release(&sb);
	return failed;
}

/*
 * After the loop: when the plan is all merged and its final-test has not
 * run on the base's tip (the git ws-merge that made the last merge was
 * stopped before it), one more `git ws-merge` runs it.
 */
static void final_test_if_due(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	git_oid tip;

	if (!c->plan.final_test)
		return;
	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	if (!ws_branch_tip(&c->repo, c->plan.base, &tip) &&
	    ws_final_test_due(&c->plan, &st, &tip))
		run_merge(c);
	ws_state_release(&st);
	strbuf_release(&err);
}

static int print_loop_summary(struct dispatch_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	size_t i, merged = 0;
	int final;

	ws_screen_clear(&c->screen);
	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	for (i = 0; i < c->plan.nr; i++) {
		size_t idx = c->plan.order[i];
		const char *id = c->plan.ws[idx].id;
		enum ws_status s = ws_state_status(&st, id);
		const char *r = ws_state_get(&st, id, WS_KEY_REASON);
		long it = ws_state_get_long(&st, id, WS_KEY_ITERATIONS, 0);
		char *log = ws_path(&c->repo, "logs/%s.log", id);
		int ok = ws_is_merged(&st, id);

		merged += ok;
		strbuf_reset(&sb);
		if (c->porcelain) {
			strbuf_addf(&sb, "loop\t%s\t%s\t%ld\t", id,
				    ws_status_name(s) ?: "", it);
			ws_add_field(&sb, ok ? (ws_state_get(&st, id, WS_KEY_MERGE_OID) ?: "") : (r ? r : ""));
			strbuf_addch(&sb, '\t');
			ws_add_field(&sb, log);
		} else {
			strbuf_addf(&sb, "  %-14s %-11s ", id,
				    ws_status_name(s) ?: "-");
			if (ok && ws_state_get(&st, id, WS_KEY_MERGE_OID))
				strbuf_addf(&sb, "%.7s", ws_state_get(&st, id, WS_KEY_MERGE_OID));
			else if (r)
				strbuf_add_sanitized(&sb, r);
			if (!ok)
				strbuf_addf(&sb, "  (log: %s)", log);
		}
		printf("%s\n", sb.buf);
		free(log);
	}
	if (!c->porcelain)
		printf("%zu/%zu merged%s\n", merged, c->plan.nr,
		       c->d.interrupted ? " (interrupted: run 'git ws-dispatch --loop' again to resume)" : "");
	final = say_final_test(c, &st);
	ws_state_release(&st);
	strbuf_release(&sb);
	strbuf_release(&err);
	return merged == c->plan.nr && !final ? 0 : WS_EXIT_NO;
}

static int run_loop(struct dispatch_ctx *c)
{
	int ret;

	c->last_status = xcalloc(c->plan.nr + 1, sizeof(*c->last_status));
	c->d.notify = loop_on_event;
	c->screen.tty = isatty(2);
	c->screen.show_conflicts = 1;
	if (c->screen.tty)
		c->d.tick_ms = 1000;

	resume(c);
	ws_dispatcher_record_write(&c->repo);
	/* a raised max-cost lets go what the budget held */
	ws_budget_hold(&c->plan, &c->st);
	ws_state_commit_or_die(&c->st);
	ws_state_release(&c->st);

	for (;;) {
		settle(c);
		watch_conflicts(c);
		if (!feed(c)) {
			if (adopt(c))
				continue;
			break;
		}
		ws_dispatch_run(&c->d);
		if (c->d.interrupted)
			break;
	}
	if (!c->d.interrupted)
		final_test_if_due(c);
	ret = print_loop_summary(c);
	if (ret && !c->d.interrupted)
		say_budget_spent_now(c, 0);
	ws_dispatcher_record_remove(&c->repo);
	ws_conflict_watch_release(&c->conflicts);
	strvec_clear(&c->adopted);
	free(c->last_status);
	return c->d.interrupted ? 130 : ret;
}

/* ------------------------------------------------------------ main */

static void parse_args(struct dispatch_ctx *c, int argc, const char **argv)
{
	const char *timeout = NULL;
	struct option options[] = {
		OPT_INTEGER('j', "jobs", &c->jobs, "n",
			    "run at most <n> commands at once (default: the plan's jobs, else ws.jobs, else the number of CPUs)"),
		OPT_INTEGER(0, "retries", &c->retries, "n",
			    "run a failed command up to <n> more times (default 1)"),
		OPT_STRING(0, "timeout", &timeout, "duration",
			   "kill a command (its whole process group) after <duration>, e.g. 30m"),
		OPT_BOOL(0, "detach", &c->detach,
			 "run in the background and return at once"),
		OPT__DRY_RUN(&c->dry_run),
		OPT__PORCELAIN(&c->porcelain),
		OPT_BOOL(0, "retry", &c->retry,
			 "put the named failed workstreams back to ready and dispatch them"),
		OPT_BOOL(0, "loop", &c->loop,
			 "run the whole plan: dispatch, converge, merge, dispatch what that unblocks, until done"),
		OPT_STRING_OPTARG(0, "push", &c->push, "remote",
				  "--loop: push the base after each merge, as git ws-merge --push",
				  ""),
		OPT_BOOL(0, "wait", &c->wait,
			 "when another git ws-dispatch runs the plan (or the named workstreams), wait for it to finish first"),
		OPT_END()
	};
	int i;

	c->jobs = -1;
	c->retries = 1;
	c->timeout = -1;
	argc = parse_options_keep_dashdash(argc, argv, options, dispatch_usage);
	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		;
	c->ids = argv;
	c->ids_nr = i;
	if (i < argc) {
		if (i + 1 == argc)
			usage_msg_opt("no command after '--'", dispatch_usage, options);
		c->command = argv + i + 1;
	}
	if (!c->jobs)
		usage_msg_opt("--jobs must be at least 1", dispatch_usage, options);
	if (timeout && parse_duration(timeout, &c->timeout) < 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "invalid --timeout '");
		strbuf_add_sanitized(&sb, timeout);
		strbuf_addstr(&sb, "': expected a duration like 90s, 30m or 2h");
		usage_msg_opt(sb.buf, dispatch_usage, options);
	}
	if (c->retry && !c->ids_nr)
		usage_msg_opt("--retry needs the ids of the failed workstreams to retry",
			      dispatch_usage, options);
	if (c->detach && c->dry_run)
		usage_msg_opt("--detach and --dry-run cannot be used together",
			      dispatch_usage, options);
	if (c->push && !c->loop)
		usage_msg_opt("--push pushes the base after the merges of --loop: use it with --loop",
			      dispatch_usage, options);
	if (c->loop && (c->ids_nr || c->detach || c->dry_run || c->retry))
		usage_msg_opt("--loop runs the whole plan: it takes no ids, --detach, --dry-run or --retry",
			      dispatch_usage, options);
}

/* The plan's jobs (ws_load_plan() puts ws.jobs there), else the CPUs. */
static int default_jobs(const struct plan *plan)
{
	long ncpu;

	if (plan->jobs > 0)
		return plan->jobs;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	return ncpu > 0 ? (int)ncpu : 1;
}

/*
 * `ssh-jobs`: when every workstream runs on the plan's ssh-hosts, no
 * more commands at once than they take (hosts x ssh-jobs), so that each
 * start finds a host with room (runner-ssh.c).
 */
static void cap_for_ssh_hosts(struct dispatch_ctx *c)
{
	const struct plan *p = &c->plan;
	struct strbuf err = STRBUF_INIT;
	size_t i;
	int cap;

	if (!p->ssh_jobs || !p->ssh_hosts.nr)
		return;
	for (i = 0; i < p->nr; i++)
		if (ws_runner_for(&c->repo, p, i, 0, &err) != &ws_runner_ssh) {
			strbuf_release(&err);
			return;
		}
	cap = p->ssh_jobs * (int)p->ssh_hosts.nr;
	if (c->d.max_jobs > cap)
		c->d.max_jobs = cap;
}

/* The dispatcher as the options say: jobs, retries, the command. */
static void init_dispatcher(struct dispatch_ctx *c, struct ws_job_opts *opts)
{
	ws_dispatch_init(&c->d, &c->repo, &c->plan);
	c->d.max_jobs = c->jobs > 0 ? c->jobs : default_jobs(&c->plan);
	cap_for_ssh_hosts(c);
	c->d.retries = c->retries;
	c->d.notify = on_event;
	c->d.data = c;
	if (c->command) {
		opts->command = c->command[0];
		opts->args = c->command + 1;
	}
	opts->timeout = c->timeout;
	c->opts = opts;
}

static void print_detached(struct dispatch_ctx *c, pid_t bg)
{
	size_t i;

	for (i = 0; i < c->d.nr; i++)
		if (c->porcelain)
			printf("detached\t%s\t%ld\n", c->d.jobs[i]->id, (long)bg);
	if (!c->porcelain)
		printf("Dispatched %zu workstream%s in the background (pid %ld); see 'git ws-status'\n",
		       c->d.nr, c->d.nr == 1 ? "" : "s", (long)bg);
}

/*
 * The state, locked; with --dry-run read without the lock, so that
 * nothing (the repair of recover() included) is written.
 */
static void open_state(struct dispatch_ctx *c)
{
	struct strbuf err = STRBUF_INIT;
	struct ws_state init = WS_STATE_INIT;

	c->st = init;
	if (!c->dry_run)
		ws_state_lock_repo(&c->st, &c->repo);
	else if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
}

/*
 * Choose the workstreams to run, with the state open: the named ones,
 * or every ready one. Returns 1 when there is something to run (the
 * lock is still held), else 0 with the lock released; -1 so too when
 * the plan's budget is spent, which refuses every start.
 */
static int choose(struct dispatch_ctx *c, struct ws_job_opts *opts)
{
	ws_update_blocked(&c->plan, &c->st);
	if (ws_budget_hold(&c->plan, &c->st)) {
		if (!c->dry_run)
			ws_state_commit_or_die(&c->st);
		say_budget_spent(c, &c->st, 1);
		ws_state_release(&c->st);
		return -1;
	}
	if (c->retry)
		retry_failed(c);
	if (c->ids_nr) {
		struct strvec ids = STRVEC_INIT;
		size_t i;

		for (i = 0; i < c->ids_nr; i++)
			strvec_push(&ids, c->ids[i]);
		assign_slots(c, &ids);
		strvec_clear(&ids);
	} else {
		assign_slots(c, NULL);
	}
	if (c->ids_nr)
		select_named(c, opts);
	else
		select_ready(c, opts);
	bring_back_worktrees(c);
	if (c->dry_run) {
		print_dry_run(c);
		ws_state_release(&c->st);
		return 0;
	}
	if (!c->d.nr) {
		ws_state_commit_or_die(&c->st);
		ws_state_release(&c->st);
		error("no workstream is ready to dispatch");
		advise("see which are blocked, in progress or failed with 'git ws-status'");
		return 0;
	}
	return 1;
}

/* One round: what choose() chose, in the foreground or detached. */
static int run_once(struct dispatch_ctx *c, struct ws_job_opts *opts)
{
	pid_t bg = 0;
	int failed, chosen = choose(c, opts);

	if (chosen < 0)
		return WS_EXIT_NO;
	if (!chosen)
		return c->dry_run ? 0 : WS_EXIT_NO;
	if (c->detach)
		c->d.owner = (bg = detach_dispatcher(c)) ? bg : getpid();
	if (!c->detach || bg) {
		/* the parent (or the only process) records the queue */
		ws_dispatch_mark_queued(&c->d, &c->st);
		ws_state_commit_or_die(&c->st);
	}
	ws_state_release(&c->st);
	if (bg) {
		print_detached(c, bg);
		return 0;
	}

	c->screen.tty = !c->detach && isatty(2);
	if (c->screen.tty)
		c->d.tick_ms = 1000;
	failed = ws_dispatch_run(&c->d);
	ws_screen_summary(&c->screen, &c->d, c->porcelain);
	if (c->d.interrupted)
		return 130;
	if (failed)
		say_budget_spent_now(c, 0);
	return failed ? WS_EXIT_NO : 0;
}

int cmd_main(int argc, const char **argv)
{
	struct dispatch_ctx c;
	struct ws_job_opts opts = WS_JOB_OPTS_INIT;
	int ret;

	memset(&c, 0, sizeof(c));
	strvec_init(&c.adopted);
	strbuf_init(&c.conflicts.tips, 0);
	strvec_init(&c.conflicts.known);
	parse_args(&c, argc, argv);
	ws_repo_open(&c.repo);
	ws_load_plan(&c.repo, &c.plan);
	ws_repo_ensure_dirs(&c.repo);
	init_dispatcher(&c, &opts);
	open_state(&c);
	check_other_dispatcher(&c);
	recover(&c);
	run_setups(&c);
	ret = c.loop ? run_loop(&c) : run_once(&c, &opts);

	ws_dispatch_release(&c.d);
	plan_release(&c.plan);
	ws_repo_close(&c.repo);
	return ret;
}
