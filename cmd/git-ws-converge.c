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
#include "donefile.h"
#include "gates.h"
#include "lockfile.h"
#include "merge-queue.h"
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

/* How long a command shows in a one-line gate detail. */
#define LABEL_MAX 60
/* How many paths a one-line gate detail lists. */
#define LIST_MAX 5

enum gate_result { GATE_PASS, GATE_FAIL, GATE_SKIP };
static const char *const result_names[] = { "PASS", "FAIL", "SKIP" };

struct gate {
	char *name;
	enum gate_result result;
	char *detail;
	char *hint; /* what to do about a failure; NULL when nothing to say */
};

/* One workstream being converged. */
struct target {
	const struct plan_workstream *w;

	/* inputs, read from the state under the lock */
	enum ws_status status;
	char *worktree;
	char *branch;
	char *tested_tree;
	char *tested_commands;
	struct strvec deps_waiting; /* "ws-1 (done)" for each unmerged dependency */
	struct strvec ours_owns;    /* contracts of merged workstreams */
	int max_iterations;

	/* what --commit did */
	long committed;             /* files committed; 0 none; -1 failed */
	char *commit_detail;

	/* found by the gates */
	git_oid base_tip;
	git_oid tip, tree;
	int have_tip;
	char tree_hex[GIT_OID_HEXSZ + 1];
	char *commands_key;         /* hash of the gate commands, for the cache */
	int tested;                 /* tests and checks ran now and passed */
	struct gate *gates;
	size_t gate_nr, gate_alloc;

	/* the outcome, decided under the lock */
	int converged;
	int recorded;
	enum ws_status new_status;
	long iterations;
	size_t queue_pos, queue_nr;
	struct strbuf report;
};

struct converge_ctx {
	struct ws_repo repo;
	struct plan plan;
	int porcelain;
	int commit;
	int no_tests;
	int max_iterations; /* -1: the plan's */
	int config_max_iterations; /* ws.maxIterations; 0 when unset */
	int from_worktree;  /* targets chosen by the current worktree */
};

static struct gate *add_gate(struct target *t, const char *name,
			     enum gate_result result, const char *hint,
			     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct gate *add_gate(struct target *t, const char *name,
			     enum gate_result result, const char *hint,
			     const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct gate *g;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(t->gates, t->gate_nr + 1, t->gate_alloc);
	g = &t->gates[t->gate_nr++];
	g->name = xstrdup(name);
	g->result = result;
	g->detail = strbuf_detach(&sb, NULL);
	g->hint = xstrdup_or_null(hint);
	return g;
}

/* The first failed gate, or NULL. */
static const struct gate *first_failure(const struct target *t)
{
	size_t i;

	for (i = 0; i < t->gate_nr; i++)
		if (t->gates[i].result == GATE_FAIL)
			return &t->gates[i];
	return NULL;
}

/* "a, b, c and 4 more" for a one-line detail (sanitized). */
static void add_list(struct strbuf *sb, const struct strvec *items, size_t total)
{
	size_t i;

	for (i = 0; i < items->nr && i < LIST_MAX; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		strbuf_add_sanitized(sb, items->v[i]);
	}
	if (total > i)
		strbuf_addf(sb, " and %zu more", total - i);
}


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
static int read_inputs(struct converge_ctx *c, struct target *t)
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

/* The environment of commands run in a workstream's worktree. */
static void gate_env(struct converge_ctx *c, struct target *t,
		     struct strvec *env, const char *gate)
{
	ws_push_env(&c->repo, &c->plan, t->w - c->plan.ws, t->branch,
		    t->worktree, env);
	if (gate)
		strvec_pushf(env, "WS_GATE=%s", gate);
}

/* --- --commit ---------------------------------------------------------------- */

/* The commands of the test and check gates, in order ("" for no test). */
static void gate_commands(const struct plan_workstream *w, struct strvec *out)
{
	size_t i;

	strvec_push(out, w->test ? w->test : "");
	for (i = 0; i < w->check.nr; i++)
		strvec_push(out, w->check.v[i]);
}

static int run_git_in(struct converge_ctx *c, struct target *t,
		      const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.dir = t->worktree;
	cp.no_stdin = 1;
	cp.stdout_to_stderr = 1; /* keep stdout for the report */
	gate_env(c, t, &cp.env, NULL);
	strvec_pushv(&cp.args, args);
	return run_command(&cp);
}

/*
 * `git add -A` and commit what the worktree holds, as "<id>: <title>"
 * with a body listing the gates, so that the gates see it. Only on the
 * workstream's own branch: a worktree elsewhere is left for the clean
 * gate to report.
 */
static void commit_worktree(struct converge_ctx *c, struct target *t)
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
	gate_commands(t->w, &cmds);
	for (i = 0; i < cmds.nr; i++) {
		if (!*cmds.v[i])
			continue;
		if (i)
			strbuf_addf(&body, ",\ncheck-%zu (", i);
		else
			strbuf_addstr(&body, ",\ntests (");
		ws_gate_command_label(&body, cmds.v[i], LABEL_MAX);
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

/* --- the gates ---------------------------------------------------------------- */

static void gate_dispatch(struct converge_ctx *c, struct target *t)
{
	char *path = ws_path(&c->repo, "coordination/%s.done", t->w->id);
	struct ws_done done = WS_DONE_INIT;
	struct strbuf err = STRBUF_INIT, what = STRBUF_INIT;
	/* a dispatch ended with `done` (or later): its done file must say so */
	int strict = t->status == WS_STATUS_DONE ||
		     t->status == WS_STATUS_CONVERGED;
	char *hint = xstrfmt("read the command's log '%s/logs/%s.log' and finish the work",
			     c->repo.ws_dir, t->w->id);
	int rc = ws_done_read(&done, path, t->w->id, &err);

	if (rc == 0) {
		strbuf_addf(&what, "done file says '%s'",
			    ws_done_status_name(done.status));
		if (done.summary && *done.summary) {
			strbuf_addstr(&what, ": ");
			ws_gate_command_label(&what, done.summary, LABEL_MAX);
		}
	}
	if (rc == 1 && strict)
		add_gate(t, "dispatch", GATE_FAIL, hint,
			 "status is '%s' but there is no done file '%s'",
			 ws_status_name(t->status), path);
	else if (rc == 1)
		add_gate(t, "dispatch", GATE_SKIP, NULL,
			 "status '%s', no done file: work done by hand",
			 ws_status_name(t->status));
	else if (rc < 0)
		add_gate(t, "dispatch", GATE_FAIL, hint, "done file '%s': %s",
			 path, err.buf);
	else if (done.status == WS_DONE_SUCCESS)
		add_gate(t, "dispatch", GATE_PASS, NULL, "%s", what.buf);
	else if (strict)
		add_gate(t, "dispatch", GATE_FAIL, hint, "%s", what.buf);
	else
		add_gate(t, "dispatch", GATE_SKIP, NULL,
			 "status '%s', %s: work done by hand",
			 ws_status_name(t->status), what.buf);
	ws_done_release(&done);
	strbuf_release(&err);
	strbuf_release(&what);
	free(hint);
	free(path);
}

static void gate_clean(struct converge_ctx *c, struct target *t)
{
	struct strvec paths = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *hint = NULL;
	git_oid head;
	long n;

	if (!path_exists(t->worktree)) {
		add_gate(t, "clean", GATE_FAIL,
			 "the worktree is gone: 'git worktree list' shows what git knows",
			 "worktree '%s' does not exist", t->worktree);
		return;
	}
	if (t->committed < 0) {
		hint = xstrfmt("commit the work in '%s' by hand", t->worktree);
		add_gate(t, "clean", GATE_FAIL, hint, "%s", t->commit_detail);
		goto out;
	}
	n = ws_worktree_changes(t->worktree, &paths, LIST_MAX);
	if (n < 0) {
		add_gate(t, "clean", GATE_FAIL, NULL, "cannot read the status of '%s': %s",
			 t->worktree, git_last_message());
		goto out;
	}
	if (n > 0) {
		add_list(&sb, &paths, (size_t)n);
		hint = xstrfmt("commit (or remove) the changes in '%s'; --commit commits them all",
			       t->worktree);
		add_gate(t, "clean", GATE_FAIL, hint,
			 "%ld uncommitted or untracked file%s: %s", n,
			 n == 1 ? "" : "s", sb.buf);
		goto out;
	}
	if (t->have_tip && (ws_worktree_head_at(t->worktree, &head) < 0 ||
			    !git_oid_equal(&head, &t->tip))) {
		hint = xstrfmt("check out '%s' in '%s' again", t->branch, t->worktree);
		add_gate(t, "clean", GATE_FAIL, hint,
			 "the worktree is not at the tip of '%s', so its tests would not test the branch",
			 t->branch);
		goto out;
	}
	if (t->committed > 0)
		add_gate(t, "clean", GATE_PASS, NULL,
			 "no uncommitted or untracked changes (--commit committed %ld file%s as %.7s)",
			 t->committed, t->committed == 1 ? "" : "s",
			 t->have_tip ? git_oid_tostr_s(&t->tip) : "?");
	else
		add_gate(t, "clean", GATE_PASS, NULL, "no uncommitted or untracked changes");
out:
	free(hint);
	strvec_clear(&paths);
	strbuf_release(&sb);
}

static void gate_commits(struct converge_ctx *c, struct target *t)
{
	const char *base = c->plan.base;
	char *hint = NULL;
	long ahead;

	if (!t->have_tip) {
		add_gate(t, "commits", GATE_FAIL, NULL, "branch '%s' does not exist",
			 t->branch);
		return;
	}
	ahead = ws_commits_ahead(&c->repo, &t->tip, &t->base_tip);
	if (ahead < 0) {
		add_gate(t, "commits", GATE_FAIL, NULL,
			 "cannot compare '%s' with '%s': %s", t->branch, base,
			 git_last_message());
	} else if (!ahead) {
		hint = xstrfmt("commit the work on '%s' in '%s'", t->branch, t->worktree);
		add_gate(t, "commits", GATE_FAIL, hint,
			 "'%s' has no commit that '%s' does not have", t->branch, base);
	} else {
		add_gate(t, "commits", GATE_PASS, NULL, "%ld commit%s not on '%s'",
			 ahead, ahead == 1 ? "" : "s", base);
	}
	free(hint);
}

static void gate_deps(struct converge_ctx *c, struct target *t)
{
	struct strbuf sb = STRBUF_INIT;

	if (!t->w->dep_nr) {
		add_gate(t, "deps", GATE_PASS, NULL, "no dependencies");
	} else if (!t->deps_waiting.nr) {
		size_t i;

		for (i = 0; i < t->w->dep_nr; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "",
				    c->plan.ws[t->w->dep_idx[i]].id);
		add_gate(t, "deps", GATE_PASS, NULL, "merged: %s", sb.buf);
	} else {
		add_list(&sb, &t->deps_waiting, t->deps_waiting.nr);
		add_gate(t, "deps", GATE_FAIL,
			 "converge and merge the dependencies first ('git ws-merge')",
			 "not merged yet: %s", sb.buf);
	}
	strbuf_release(&sb);
}

static void gate_mergeable(struct converge_ctx *c, struct target *t)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	const char *base = c->plan.base;
	struct strbuf sb = STRBUF_INIT;
	char *hint = NULL;

	if (!t->have_tip) {
		add_gate(t, "mergeable", GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (ws_merge_compute(&c->repo, &t->base_tip, &t->tip, &t->w->contract,
			     &t->ours_owns, &res) < 0) {
		add_gate(t, "mergeable", GATE_FAIL, NULL,
			 "cannot compute the merge into '%s' (see the error above)", base);
	} else if (!res.clean) {
		add_list(&sb, &res.conflicts, res.conflicts.nr);
		hint = xstrfmt("merge '%s' into '%s' in '%s' and resolve the conflicts",
			       base, t->branch, t->worktree);
		add_gate(t, "mergeable", GATE_FAIL, hint, "conflicts with '%s' in %s",
			 base, sb.buf);
	} else {
		if (res.resolved.nr) {
			strbuf_addstr(&sb, "; by contract: ");
			add_list(&sb, &res.resolved, res.resolved.nr);
		}
		add_gate(t, "mergeable", GATE_PASS, NULL, "merges cleanly into '%s' (%.7s)%s",
			 base, git_oid_tostr_s(&t->base_tip), sb.buf);
	}
	free(hint);
	strbuf_release(&sb);
	ws_merge_result_release(&res);
}

static void describe_hit(struct strbuf *sb, const struct ws_added_hit *h)
{
	strbuf_add_sanitized(sb, h->path);
	strbuf_addf(sb, ":%zu (%zu added line%s)", h->line, h->count,
		    h->count == 1 ? "" : "s");
}

static void gate_markers_todo(struct converge_ctx *c, struct target *t)
{
	struct ws_added_scan scan = WS_ADDED_SCAN_INIT;
	struct strbuf sb = STRBUF_INIT;

	if (!t->have_tip) {
		add_gate(t, "markers", GATE_SKIP, NULL, "not run: no branch");
		add_gate(t, "todo", GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (ws_scan_added_lines(&c->repo, &t->base_tip, &t->tip, &scan) < 0) {
		add_gate(t, "markers", GATE_FAIL, NULL,
			 "cannot read the lines the branch adds (see the error above)");
		add_gate(t, "todo", GATE_FAIL, NULL,
			 "cannot read the lines the branch adds (see the error above)");
		goto out;
	}
	if (scan.marker.count) {
		describe_hit(&sb, &scan.marker);
		add_gate(t, "markers", GATE_FAIL,
			 "finish the merge: resolve the conflicts and remove the markers",
			 "conflict marker at %s", sb.buf);
	} else {
		add_gate(t, "markers", GATE_PASS, NULL, "no added conflict markers");
	}
	strbuf_reset(&sb);
	if (t->w->todo_allow) {
		add_gate(t, "todo", GATE_SKIP, NULL, "allowed by the plan (todo = allow)");
	} else if (scan.todo.count) {
		describe_hit(&sb, &scan.todo);
		add_gate(t, "todo", GATE_FAIL,
			 "finish what the TODO and FIXME lines the branch adds leave open",
			 "TODO or FIXME at %s", sb.buf);
	} else {
		add_gate(t, "todo", GATE_PASS, NULL, "no added TODO or FIXME");
	}
out:
	ws_added_scan_release(&scan);
	strbuf_release(&sb);
}

static void gate_contracts(struct converge_ctx *c, struct target *t)
{
	const struct strvec *contract = &t->w->contract;
	struct strvec missing = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int broken = 0;

	if (!t->have_tip) {
		add_gate(t, "contracts", GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (!contract->nr) {
		add_gate(t, "contracts", GATE_SKIP, NULL, "no contract paths in the plan");
		return;
	}
	for (i = 0; i < contract->nr; i++) {
		int has = ws_tree_has_contract(&c->repo, &t->tip, contract->v[i]);

		if (has < 0)
			broken = 1;
		else if (!has)
			strvec_push(&missing, contract->v[i]);
	}
	if (broken) {
		add_gate(t, "contracts", GATE_FAIL, NULL,
			 "cannot read the tree of '%s' (see the error above)", t->branch);
	} else if (missing.nr) {
		add_list(&sb, &missing, missing.nr);
		add_gate(t, "contracts", GATE_FAIL,
			 "commit the files the plan's `contract` promises",
			 "missing on '%s': %s", t->branch, sb.buf);
	} else {
		add_list(&sb, contract, contract->nr);
		add_gate(t, "contracts", GATE_PASS, NULL, "present: %s", sb.buf);
	}
	strvec_clear(&missing);
	strbuf_release(&sb);
}

/* A hash of what the test and check gates run, for the cache. */
static char *commands_key(const struct plan_workstream *w)
{
	struct strvec cmds = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;
	size_t i;

	gate_commands(w, &cmds);
	strbuf_addf(&sb, "timeout %ld", w->timeout);
	for (i = 0; i < cmds.nr; i++) {
		strbuf_addch(&sb, '\0');
		strbuf_addstr(&sb, cmds.v[i]);
	}
	if (git_odb_hash(&oid, sb.buf, sb.len, GIT_OBJECT_BLOB) < 0)
		die_git("cannot hash the gate commands");
	strvec_clear(&cmds);
	strbuf_release(&sb);
	return xstrdup(ws_oid_hex(&oid, hex));
}

/*
 * The tests gate, then each check, in the worktree: skipped with
 * --no-tests or after a failed gate, not run again when the tree and the
 * commands are those of the last passing run.
 */
static void gate_tests(struct converge_ctx *c, struct target *t)
{
	struct strvec cmds = STRVEC_INIT;
	const struct gate *failed = first_failure(t);
	const char *skip_why = NULL;
	char *skip_buf = NULL;
	size_t i;
	int cached, any = 0, all_ok = 1;

	gate_commands(t->w, &cmds);
	t->commands_key = commands_key(t->w);
	cached = t->have_tip && t->tested_tree && t->tested_commands &&
		 !strcmp(t->tested_tree, t->tree_hex) &&
		 !strcmp(t->tested_commands, t->commands_key);
	if (c->no_tests)
		skip_why = "not run: --no-tests";
	else if (failed)
		skip_why = skip_buf = xstrfmt("not run: %s failed", failed->name);

	for (i = 0; i < cmds.nr; i++) {
		const char *cmd = cmds.v[i];
		char *name = i ? xstrfmt("check-%zu", i) : xstrdup("tests");
		struct strbuf label = STRBUF_INIT;
		struct strvec env = STRVEC_INIT;
		struct ws_gate_run run;
		char *log = NULL, *hint = NULL;

		if (!i && !*cmd) {
			add_gate(t, name, GATE_SKIP, NULL, "no test command in the plan");
			free(name);
			continue;
		}
		any = 1;
		ws_gate_command_label(&label, cmd, LABEL_MAX);
		if (skip_why) {
			add_gate(t, name, GATE_SKIP, NULL, "%s", skip_why);
			goto next;
		}
		if (cached) {
			add_gate(t, name, GATE_PASS, NULL, "cached: tree %.7s unchanged",
				 t->tree_hex);
			goto next;
		}
		log = i ? ws_path(&c->repo, "logs/%s.check-%zu.log", t->w->id, i) :
			  ws_path(&c->repo, "logs/%s.test.log", t->w->id);
		gate_env(c, t, &env, name);
		if (!c->porcelain && isatty(2))
			fprintf(stderr, "%s: running %s: %s\n", t->w->id, name, label.buf);
		if (ws_gate_run_command(cmd, t->worktree, &env, t->w->timeout, log,
					&run) < 0) {
			add_gate(t, name, GATE_FAIL, NULL, "%s: cannot run it", label.buf);
			all_ok = 0;
		} else if (run.timed_out) {
			hint = xstrfmt("see why it hangs in '%s'", log);
			add_gate(t, name, GATE_FAIL, hint, "%s: timed out after %ld s",
				 label.buf, t->w->timeout);
			all_ok = 0;
		} else if (run.code) {
			hint = xstrfmt("see the output in '%s'", log);
			add_gate(t, name, GATE_FAIL, hint, "%s: exit %d (%.1f s)",
				 label.buf, run.code, run.elapsed_ms / 1000.0);
			all_ok = 0;
		} else {
			add_gate(t, name, GATE_PASS, NULL, "%s (%.1f s)", label.buf,
				 run.elapsed_ms / 1000.0);
		}
		if (!all_ok && !skip_why)
			skip_why = skip_buf = xstrfmt("not run: %s failed", name);
	next:
		free(log);
		free(hint);
		free(name);
		strvec_clear(&env);
		strbuf_release(&label);
	}
	t->tested = any && all_ok && !skip_why && !cached;
	free(skip_buf);
	strvec_clear(&cmds);
}

/* Resolve the base and branch tips the gates look at. */
static void find_tips(struct converge_ctx *c, struct target *t)
{
	git_commit *commit = NULL;

	if (ws_branch_tip(&c->repo, c->plan.base, &t->base_tip) < 0)
		die("base branch '%s' does not exist", c->plan.base);
	t->have_tip = !ws_branch_tip(&c->repo, t->branch, &t->tip);
	if (!t->have_tip)
		return;
	if (git_commit_lookup(&commit, c->repo.repo, &t->tip) < 0)
		die_git("cannot read the tip of '%s'", t->branch);
	git_oid_cpy(&t->tree, git_commit_tree_id(commit));
	ws_oid_hex(&t->tree, t->tree_hex);
	git_commit_free(commit);
}

static void run_gates(struct converge_ctx *c, struct target *t)
{
	find_tips(c, t);
	gate_dispatch(c, t);
	gate_clean(c, t);
	gate_commits(c, t);
	gate_deps(c, t);
	gate_mergeable(c, t);
	gate_markers_todo(c, t);
	gate_contracts(c, t);
	gate_tests(c, t);
}

/* --- the outcome ---------------------------------------------------------------- */

/* "todo, tests" for the failed gates. */
static void failed_names(const struct target *t, struct strbuf *sb)
{
	size_t i;
	int first = 1;

	for (i = 0; i < t->gate_nr; i++)
		if (t->gates[i].result == GATE_FAIL) {
			strbuf_addf(sb, "%s%s", first ? "" : ", ", t->gates[i].name);
			first = 0;
		}
}

static void format_report(struct converge_ctx *c, struct target *t)
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
			if (t->gates[i].result == GATE_FAIL && t->gates[i].hint)
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
static void record_result(struct converge_ctx *c, struct target *t)
{
	struct ws_state st = WS_STATE_INIT;
	const char *id = t->w->id;
	const struct gate *failed = first_failure(t);
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
		t->queue_nr = ws_queue_nr(&st);
		for (i = 0; i < t->queue_nr; i++)
			if (!strcmp(ws_queue_item(&st, i), id))
				t->queue_pos = i + 1;
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

static void print_result(struct converge_ctx *c, struct target *t, int first)
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

static void target_release(struct target *t)
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
	struct target t;
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
	run_gates(c, &t);
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
