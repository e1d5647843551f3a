/*
 * git ws-converge: check, in its worktree, that a workstream's work is
 * really there (the gates), and only then put it in the merge queue.
 *
 * The state lock is held only to read a workstream's inputs and to write
 * its results; the gates themselves (the tests may run for minutes) run
 * unlocked, so converges of several workstreams at once, each from its
 * own worktree, never wait for or overwrite each other.
 */
#include "compat.h"
#include "gates.h"
#include "lockfile.h"
#include "contracts.h"
#include "mergetree.h"
#include "parse-options.h"
#include "plan.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

static const char * const converge_usage[] = {
	"git ws-converge [--porcelain] [--max-iterations <n>] [--commit] [--no-tests] [<id>...]",
	NULL
};

static const char *const result_names[] = { "PASS", "FAIL", "SKIP" };


struct converge_ctx {
	struct ws_repo repo;
	struct plan plan;
	int porcelain;
	int commit;
	int no_tests;
	int max_iterations; /* -1: the plan's */
	int config_max_iterations; /* ws.maxIterations; 0 when unset */
	int from_worktree;  /* targets chosen by the current worktree */
	struct ws_gate_opts gates; /* for ws_run_gates() */
};



/* realpath(), or a copy of the path when it cannot be resolved. */
static char *real_or_copy(const char *path)
{
	char *r = realpath(path, NULL);

	return r ? r : xstrdup(path);
}

/* --- which workstreams ---------------------------------------------------- */

/*
 * Choose the workstreams to converge into sel[] (plan indices): the ids
 * given; else, from inside a workstream's worktree, the workstreams that
 * live there (but not those blocked, merged or cleaned); else every
 * `done` one. Returns how many were chosen.
 */
static size_t select_targets(struct converge_ctx *c, int argc, const char **argv,
			     char *sel)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t i, nr = 0;
	int k;

	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	for (k = 0; k < argc; k++) {
		ssize_t idx = plan_find(&c->plan, argv[k]);
		enum ws_status status;

		if (idx < 0)
			die("no workstream '%s' in plan '%s'", argv[k], c->plan.name);
		if (!ws_state_find(&st, argv[k]))
			die("workstream '%s' is not allocated", argv[k]);
		status = ws_state_status(&st, argv[k]);
		if (ws_status_is_finished(status))
			die("workstream '%s' is already %s; there is nothing to converge",
			    argv[k], ws_status_name(status));
		nr += !sel[idx];
		sel[idx] = 1;
	}
	if (argc)
		goto out;

	if (c->repo.workdir) {
		char *here = real_or_copy(c->repo.workdir);

		for (i = 0; i < c->plan.nr; i++) {
			const char *id = c->plan.ws[i].id;
			const char *wt = ws_state_get(&st, id, WS_KEY_WORKTREE);
			enum ws_status status = ws_state_status(&st, id);
			char *there;

			if (!wt)
				continue;
			there = real_or_copy(wt);
			if (!strcmp(here, there)) {
				c->from_worktree = 1;
				if (status != WS_STATUS_NONE &&
				    !ws_status_is_finished(status) &&
				    status != WS_STATUS_BLOCKED) {
					sel[i] = 1;
					nr++;
				}
			}
			free(there);
		}
		free(here);
		if (c->from_worktree)
			goto out;
	}

	for (i = 0; i < c->plan.nr; i++)
		if (ws_state_status(&st, c->plan.ws[i].id) == WS_STATUS_DONE) {
			sel[i] = 1;
			nr++;
		}
out:
	ws_state_release(&st);
	strbuf_release(&err);
	return nr;
}

/* --- inputs ---------------------------------------------------------------- */

/*
 * The failed convergences after which a workstream becomes `failed`:
 * --max-iterations, else the workstream's or the plan's max-iterations,
 * else ws.maxIterations, else 3.
 */
static int max_iterations(struct converge_ctx *c, const struct plan_workstream *w)
{
	if (c->max_iterations > 0)
		return c->max_iterations;
	if (((w->overrides | c->plan.given) & PLAN_KEY_MAX_ITERATIONS) &&
	    w->max_iterations > 0)
		return w->max_iterations;
	if (c->config_max_iterations > 0)
		return c->config_max_iterations;
	return PLAN_DEFAULT_MAX_ITERATIONS;
}

/* Read what the gates need, under the state lock; the lock is let go at once. */
static int read_inputs(struct converge_ctx *c, struct ws_gate_target *t)
{
	struct ws_state st = WS_STATE_INIT;
	const char *id = t->w->id;
	size_t i;
	int ret = 0;

	ws_state_lock_repo(&st, &c->repo);
	t->status = ws_state_status(&st, id);
	t->worktree = xstrdup_or_null(ws_state_get(&st, id, WS_KEY_WORKTREE));
	t->branch = xstrdup_or_null(ws_state_get(&st, id, WS_KEY_BRANCH));
	t->tested_tree = xstrdup_or_null(ws_state_get(&st, id, WS_KEY_TESTED_TREE));
	t->tested_commands = xstrdup_or_null(ws_state_get(&st, id, WS_KEY_TESTED_COMMANDS));
	for (i = 0; i < t->w->dep_nr; i++) {
		const char *dep = c->plan.ws[t->w->dep_idx[i]].id;
		enum ws_status ds = ws_state_status(&st, dep);

		if (!ws_is_merged(&st, dep))
			strvec_pushf(&t->deps_waiting, "%s (%s)", dep,
				     ds == WS_STATUS_NONE ? "not allocated" :
				     ds == WS_STATUS_CLEANED ? "cleaned without a merge" :
				     ws_status_name(ds));
	}
	/* the same list git ws-merge resolves by, so both always agree */
	ws_merged_contracts(&c->plan, &st, t->w - c->plan.ws, &t->ours_owns, NULL);
	ws_state_release(&st);

	if (t->status == WS_STATUS_NONE || !t->branch || !t->worktree)
		ret = error("workstream '%s' has no complete record in the state", id);
	else if (ws_status_is_finished(t->status))
		ret = error("workstream '%s' became %s; not converging it", id,
			    ws_status_name(t->status));
	t->max_iterations = max_iterations(c, t->w);
	return ret;
}


static int run_git_in(struct converge_ctx *c, struct ws_gate_target *t,
		      const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.dir = t->worktree;
	cp.no_stdin = 1;
	cp.stdout_to_stderr = 1; /* keep stdout for the report */
	ws_gate_env(&c->gates, t, &cp.env, NULL);
	strvec_pushv(&cp.args, args);
	return run_command(&cp);
}

/*
 * `git add -A` and commit what the worktree holds, as "<id>: <title>"
 * with a body listing the gates, so that the gates see it. Only on the
 * workstream's own branch: a worktree elsewhere is left for the clean
 * gate to report.
 */
static void commit_worktree(struct converge_ctx *c, struct ws_gate_target *t)
{
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT;
	struct strvec cmds = STRVEC_INIT;
	char *head;
	long n;
	size_t i;
	int code, on_branch;

	if (!path_exists(t->worktree))
		return;
	n = ws_worktree_changes(t->worktree, NULL, 0);
	if (n <= 0)
		return;
	head = ws_worktree_branch_at(t->worktree);
	on_branch = head && !strcmp(head, t->branch);
	free(head);
	if (!on_branch) {
		t->committed = -1;
		t->commit_detail = xstrfmt("--commit did not commit: HEAD is not on '%s'",
					   t->branch);
		return;
	}

	strbuf_addf(&subject, "%s: ", t->w->id);
	strbuf_add_sanitized(&subject, t->w->title);
	strbuf_addstr(&body, "Committed by 'git ws-converge --commit' before its gates:\n"
		      "dispatch, clean, commits, deps, mergeable, markers, todo,\n"
		      "contracts");
	ws_gate_commands(t->w, &cmds);
	for (i = 0; i < cmds.nr; i++) {
		if (!*cmds.v[i])
			continue;
		if (i)
			strbuf_addf(&body, ",\ncheck-%zu (", i);
		else
			strbuf_addstr(&body, ",\ntests (");
		ws_gate_command_label(&body, cmds.v[i], WS_GATE_LABEL_MAX);
		strbuf_addch(&body, ')');
	}
	strbuf_addch(&body, '.');

	code = run_git_in(c, t, (const char *[]){ "add", "-A", NULL });
	if (code) {
		t->committed = -1;
		t->commit_detail = xstrfmt("--commit failed: 'git add -A' exited with %d",
					   code);
	} else if ((code = run_git_in(c, t, (const char *[]){ "commit", "-q",
				      "-m", subject.buf, "-m", body.buf, NULL }))) {
		t->committed = -1;
		t->commit_detail = xstrfmt("--commit failed: 'git commit' exited with %d",
					   code);
	} else {
		t->committed = n;
	}
	strvec_clear(&cmds);
	strbuf_release(&subject);
	strbuf_release(&body);
}


/* --- the outcome ---------------------------------------------------------------- */

/* "todo, tests" for the failed gates. */
static void failed_names(const struct ws_gate_target *t, struct strbuf *sb)
{
	size_t i;
	int first = 1;

	for (i = 0; i < t->gate_nr; i++)
		if (t->gates[i].result == WS_GATE_FAIL) {
			strbuf_addf(sb, "%s%s", first ? "" : ", ", t->gates[i].name);
			first = 0;
		}
}

static void format_report(struct converge_ctx *c, struct ws_gate_target *t)
{
	struct strbuf *sb = &t->report;
	size_t i;

	strbuf_addf(sb, "%s '", t->w->id);
	strbuf_add_sanitized(sb, t->w->title);
	strbuf_addf(sb, "' on %s", t->branch);
	if (t->have_tip)
		strbuf_addf(sb, " (tree %.7s)", t->tree_hex);
	if (t->converged)
		strbuf_addstr(sb, ": converged\n");
	else if (t->new_status == WS_STATUS_FAILED)
		strbuf_addf(sb, ": failed after %ld of %d iterations\n",
			    t->iterations, t->max_iterations);
	else
		strbuf_addf(sb, ": not converged (iteration %ld of %d)\n",
			    t->iterations, t->max_iterations);
	for (i = 0; i < t->gate_nr; i++)
		strbuf_addf(sb, "%s  %-9s  %s\n", result_names[t->gates[i].result],
			    t->gates[i].name, t->gates[i].detail);

	if (!t->recorded) {
		strbuf_addstr(sb, "The result was not recorded (see the warning above).\n");
	} else if (t->converged) {
		strbuf_addf(sb, "Next: 'git ws-merge' merges it into '%s' (position %zu of %zu in the queue).\n",
			    c->plan.base, t->queue_pos, t->queue_nr);
	} else {
		if (t->new_status == WS_STATUS_FAILED)
			strbuf_addf(sb, "It needs a person now: fix it in '%s' and run 'git ws-converge %s',\n"
				    "or hand it back to its command with 'git ws-dispatch --retry %s'.\n",
				    t->worktree, t->w->id, t->w->id);
		else
			strbuf_addf(sb, "Next, in '%s':\n", t->worktree);
		for (i = 0; i < t->gate_nr; i++)
			if (t->gates[i].result == WS_GATE_FAIL && t->gates[i].hint)
				strbuf_addf(sb, "  - %s: %s\n", t->gates[i].name,
					    t->gates[i].hint);
		if (t->new_status != WS_STATUS_FAILED)
			strbuf_addf(sb, "then run 'git ws-converge%s%s' again (%ld of %d iterations used).\n",
				    c->from_worktree ? "" : " ",
				    c->from_worktree ? "" : t->w->id,
				    t->iterations, t->max_iterations);
	}
}

/*
 * Record the outcome under the lock, re-reading the state so that only
 * this workstream's keys change, and keep the report in reports/<id>.
 */
static void record_result(struct converge_ctx *c, struct ws_gate_target *t)
{
	struct ws_state st = WS_STATE_INIT;
	const char *id = t->w->id;
	const struct ws_gate *failed = ws_gate_first_failure(t);
	enum ws_status status;
	char *report_path = ws_path(&c->repo, "reports/%s", id);
	size_t i;

	ws_state_lock_repo(&st, &c->repo);
	status = ws_state_status(&st, id);
	t->iterations = ws_state_get_long(&st, id, WS_KEY_ITERATIONS, 0);
	if (status == WS_STATUS_NONE || ws_status_is_finished(status)) {
		warning("workstream '%s' became %s while its gates ran; its result is not recorded",
			id, ws_status_name(status) ?: "unallocated");
		t->new_status = status;
		goto report;
	}
	t->recorded = 1;
	/* a merge's send-back (git ws-merge) is answered by this result */
	ws_state_set(&st, id, WS_KEY_SENT_BACK, NULL);
	if (!failed) {
		t->converged = 1;
		t->new_status = WS_STATUS_CONVERGED;
		ws_state_set_status(&st, id, WS_STATUS_CONVERGED, NULL);
		ws_queue_push(&st, id);
		if (t->tested) {
			ws_state_set(&st, id, WS_KEY_TESTED_TREE, t->tree_hex);
			ws_state_set(&st, id, WS_KEY_TESTED_COMMANDS, t->commands_key);
		}
		{
			const char **items = ws_queue_items(&st, &t->queue_nr);

			for (i = 0; i < t->queue_nr; i++)
				if (!strcmp(items[i], id))
					t->queue_pos = i + 1;
			free(items);
		}
	} else {
		struct strbuf reason = STRBUF_INIT;

		t->iterations++;
		ws_state_setf(&st, id, WS_KEY_ITERATIONS, "%ld", t->iterations);
		if (t->iterations >= t->max_iterations) {
			strbuf_addf(&reason, "did not converge after %ld iteration%s: ",
				    t->iterations, t->iterations == 1 ? "" : "s");
			failed_names(t, &reason);
			t->new_status = WS_STATUS_FAILED;
		} else {
			strbuf_addf(&reason, "gate '%s' failed: %s", failed->name,
				    failed->detail);
			/* a converged workstream that fails again leaves the queue */
			t->new_status = status == WS_STATUS_CONVERGED ?
					WS_STATUS_DONE : status;
		}
		ws_state_set_status(&st, id, t->new_status, reason.buf);
		ws_queue_remove(&st, id);
		strbuf_release(&reason);
	}
report:
	format_report(c, t);
	/* we hold the flock, so a leftover reports/<id>.lock is stale */
	if (write_file_atomically(report_path, t->report.buf, t->report.len,
				  LOCK_BREAK_STALE) < 0)
		warning("cannot write '%s': %s", report_path, strerror(errno));
	ws_state_commit_or_die(&st);
	ws_state_release(&st);
	free(report_path);
}

static void print_result(struct converge_ctx *c, struct ws_gate_target *t, int first)
{
	size_t i;

	if (!c->porcelain) {
		if (!first)
			putchar('\n');
		fputs(t->report.buf, stdout);
		return;
	}
	for (i = 0; i < t->gate_nr; i++) {
		struct strbuf d = STRBUF_INIT;
		char *p;

		strbuf_add_sanitized(&d, t->gates[i].detail);
		for (p = d.buf; *p; p++)
			if (*p == '\t')
				*p = ' ';
		printf("%s\t%s\t%s\t%s\n", t->w->id, t->gates[i].name,
		       result_names[t->gates[i].result], d.buf);
		strbuf_release(&d);
	}
}

static void target_release(struct ws_gate_target *t)
{
	size_t i;

	free(t->worktree);
	free(t->branch);
	free(t->tested_tree);
	free(t->tested_commands);
	strvec_clear(&t->deps_waiting);
	strvec_clear(&t->ours_owns);
	free(t->commit_detail);
	free(t->commands_key);
	for (i = 0; i < t->gate_nr; i++) {
		free(t->gates[i].name);
		free(t->gates[i].detail);
		free(t->gates[i].hint);
	}
	free(t->gates);
	strbuf_release(&t->report);
}

/* Converge one workstream; 1 when it converged. */
static int converge_one(struct converge_ctx *c, const struct plan_workstream *w,
			int first)
{
	struct ws_gate_target t;
	int ret = 0;

	memset(&t, 0, sizeof(t));
	t.w = w;
	strvec_init(&t.deps_waiting);
	strvec_init(&t.ours_owns);
	strbuf_init(&t.report, 0);

	if (read_inputs(c, &t) < 0)
		goto out;
	if (c->commit)
		commit_worktree(c, &t);
	ws_run_gates(&c->gates, &t);
	record_result(c, &t);
	print_result(c, &t, first);
	ret = t.converged;
out:
	target_release(&t);
	return ret;
}

int cmd_main(int argc, const char **argv)
{
	struct converge_ctx c;
	struct option options[] = {
		OPT__PORCELAIN(&c.porcelain),
		OPT_INTEGER(0, "max-iterations", &c.max_iterations, "n",
			    "failed convergences before a workstream becomes 'failed' (default: the plan's)"),
		OPT_BOOL(0, "commit", &c.commit,
			 "first commit everything in the worktree (git add -A)"),
		OPT_BOOL(0, "no-tests", &c.no_tests,
			 "do not run the test and check commands"),
		OPT_END()
	};
	char *sel;
	size_t i, nr;
	int first = 1, all = 1;

	memset(&c, 0, sizeof(c));
	c.max_iterations = -1;
	argc = parse_options(argc, argv, options, converge_usage);
	if (!c.max_iterations)
		usage_msg_opt("--max-iterations must be at least 1", converge_usage,
			      options);

	ws_repo_open(&c.repo);
	ws_load_plan(&c.repo, &c.plan);
	if (!c.plan.base)
		die("the allocated plan names no base branch");
	c.config_max_iterations = ws_config_get_int(&c.repo, "ws.maxiterations", 0);
	ws_repo_ensure_dirs(&c.repo);
	c.gates.repo = &c.repo;
	c.gates.plan = &c.plan;
	c.gates.no_tests = c.no_tests;
	c.gates.quiet = c.porcelain;

	sel = xcalloc(c.plan.nr + 1, 1);
	nr = select_targets(&c, argc, argv, sel);
	if (!nr) {
		if (c.from_worktree) {
			error("no workstream of this worktree is ready to converge");
			advise("'git ws-status' shows where each workstream stands");
			all = 0;
		} else if (!c.porcelain) {
			printf("Nothing to converge: no workstream is '%s'.\n",
			       ws_status_name(WS_STATUS_DONE));
		}
	}
	for (i = 0; i < c.plan.nr; i++) {
		size_t k = c.plan.order[i];

		if (!sel[k])
			continue;
		if (!converge_one(&c, &c.plan.ws[k], first))
			all = 0;
		first = 0;
	}

	free(sel);
	plan_release(&c.plan);
	ws_repo_close(&c.repo);
	return all ? WS_EXIT_OK : WS_EXIT_NO;
}
