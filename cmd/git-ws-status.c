/*
 * git ws-status: show the plan: each workstream's state, why, where, how
 * far it got, and the overall progress.
 */
#include "compat.h"
#include "checkpoints.h"
#include "conflicts.h"
#include "cost.h"
#include "dispatch.h"
#include "dot.h"
#include "merge-undo.h"
#include "run.h"
#include "runner.h"
#include "parse-options.h"
#include "reap.h"
#include "recover.h"
#include "plan.h"
#include "pool.h"
#include "repo.h"
#include "state.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"
#include <inttypes.h>
#include <pthread.h>

static const char * const status_usage[] = {
	"git ws-status [--porcelain [-z]] [--graph] [<id>...]",
	"git ws-status [--porcelain [-z]] --checkpoints",
	"git ws-status --conflicts [--porcelain [-z]] [<id>...]",
	"git ws-status --dot",
	NULL
};

/*
 * Worktree cleanliness, computed once per worktree (shared ones repeat),
 * for all of them up front and several at once: each check opens its own
 * repository (libgit2 objects are per thread) and reads its files, so
 * with many worktrees this is where the time goes.
 */
struct wt_cache {
	const struct ws_repo *repo;
	char **path;
	const char **result;
	size_t nr, alloc;
	size_t next;          /* next index to check, under `mutex` */
	pthread_mutex_t mutex;
};

static void *check_worker(void *data)
{
	struct wt_cache *c = data;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&c->mutex);
		i = c->next++;
		pthread_mutex_unlock(&c->mutex);
		if (i >= c->nr)
			return NULL;
		c->result[i] = ws_worktree_state_name(
			ws_worktree_status(c->repo, c->path[i], NULL));
	}
}

static void cache_add(struct wt_cache *c, const char *path)
{
	ALLOC_GROW(c->path, c->nr + 1, c->alloc);
	c->path[c->nr++] = xstrdup(path);
}

static void check_all(struct wt_cache *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nthreads = ncpu > 1 ? (size_t)ncpu : 1, i, started = 0;
	pthread_t *threads;

	c->result = xcalloc(c->nr + 1, sizeof(*c->result));
	if (nthreads > c->nr)
		nthreads = c->nr;
	threads = xcalloc(nthreads + 1, sizeof(*threads));
	pthread_mutex_init(&c->mutex, NULL);
	for (i = 1; i < nthreads; i++)
		if (!pthread_create(&threads[i], NULL, check_worker, c))
			started = i;
	check_worker(c);
	for (i = 1; i <= started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&c->mutex);
	free(threads);
}

/* A worktree's path and a workstream that uses it, to sort by path. */
struct path_rec {
	const char *path;
	size_t i;
};

static int cmp_path_rec(const void *va, const void *vb)
{
	const struct path_rec *a = va, *b = vb;
	int cmp = strcmp(a->path, b->path);

	return cmp ? cmp : (a->i < b->i ? -1 : a->i > b->i);
}

static void cache_release(struct wt_cache *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		free(c->path[i]);
	free(c->path);
	free(c->result);
}

static long ahead_of_base(const struct ws_repo *r, const char *branch,
			  const git_oid *base_tip)
{
	git_oid tip;

	if (!branch || !base_tip || ws_branch_tip(r, branch, &tip) < 0)
		return -1;
	return ws_commits_ahead(r, &tip, base_tip);
}

/*
 * One workstream as shown: what the state records for it and what was
 * found in its worktree and branch. The strings are borrowed from the
 * plan and the state.
 */
struct status_record {
	const char *id;
	enum ws_status status;
	const char *branch;	/* NULL when not recorded */
	const char *worktree;	/* NULL when not recorded */
	const char *reason;	/* NULL when there is none */
	const char *wt_state;	/* clean, dirty, missing, broken or removed */
	long ahead;		/* -1 when it cannot be counted */
	struct ws_usage usage;	/* tokens and cost of all its runs (cost.h) */
	/* where its command runs or last ran (runner.h); NULL: local, none */
	const char *runner, *job_id, *host, *tmux_target;
	int shown;		/* chosen by the <id> arguments, or all */
};

struct status_ctx {
	int porcelain;
	int nul;
	int graph;
	int checkpoints;	/* --checkpoints */
	int conflicts;		/* --conflicts */
	int dot;		/* --dot */
	struct ws_repo repo;
	struct plan plan;
	struct ws_state st;
	git_oid base_tip;
	int has_base;		/* base_tip is the base branch's tip */
	struct status_record *rec;	/* one per workstream, in plan order */
	size_t merged;		/* merged workstreams, of the whole plan */
	struct ws_usage total;	/* the plan's tokens and cost */
	int budget_spent;	/* the total cost reached max-cost */
	struct wt_cache cache;
	struct ws_pool pool;	/* the plan's worktree slots (pool.h); nr 0: none */
};

static const char *status_text(enum ws_status status)
{
	return ws_status_name(status) ?: "unallocated";
}

/*
 * 1 when some workstream is recorded `in_progress` by a process that is
 * gone (a cheap, lock-free look before ws_recover() reaps them).
 */
static int has_vanished(const struct plan *plan, const struct ws_state *st)
{
	size_t i;

	for (i = 0; i < plan->nr; i++) {
		enum ws_status s = ws_state_status(st, plan->ws[i].id);

		if (s == WS_STATUS_IN_PROGRESS &&
		    !ws_command_running(st, plan->ws[i].id))
			return 1;
	}
	return 0;
}

static void read_state(struct status_ctx *c)
{
	struct strbuf err = STRBUF_INIT;

	if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
}

/*
 * Open the repository, its plan and state. A dispatched command that is
 * gone is recorded as such first, as git ws-dispatch would, so that it is
 * not shown running.
 */
static void open_status(struct status_ctx *c)
{
	struct ws_recover rc = WS_RECOVER_INIT;

	ws_repo_open(&c->repo);
	ws_load_plan(&c->repo, &c->plan);
	read_state(c);
	if (!has_vanished(&c->plan, &c->st))
		return;
	ws_state_release(&c->st);
	ws_state_lock_repo(&c->st, &c->repo);
	rc.repo = &c->repo;
	rc.plan = &c->plan;
	rc.st = &c->st;
	rc.kinds = 1u << WS_INTENT_START;
	if (ws_recover(&rc) < 0)
		exit(WS_EXIT_FATAL);
	ws_state_commit_or_die(&c->st);
	ws_state_release(&c->st);
	read_state(c);
}

/*
 * The tokens and cost of a workstream; a value that is not as git-ws
 * writes it (a hand edit) is left out, with a warning.
 */
static void read_usage(struct status_ctx *c, struct status_record *r)
{
	const char *bad;

	if (ws_usage_get(&c->st, r->id, &r->usage, &bad) < 0)
		warning("%s: bad %s '%s' for '%s' (left out)", c->st.state_path,
			bad, ws_state_get(&c->st, r->id, bad), r->id);
}

/*
 * While the budget is spent, a ready workstream waits for it, whatever
 * reason it had (git ws-dispatch records that as it declines to start
 * it); once max-cost is raised, that recorded reason no longer holds.
 */
static const char *ready_reason(const struct status_ctx *c, const char *reason)
{
	if (c->budget_spent)
		return WS_REASON_BUDGET;
	if (reason && !strcmp(reason, WS_REASON_BUDGET))
		return NULL;
	return reason;
}

/* What the state says of each workstream; all are shown without <id>s. */
static void read_records(struct status_ctx *c, int argc, const char **argv)
{
	size_t i;
	int k;

	c->rec = xcalloc(c->plan.nr + 1, sizeof(*c->rec));
	ws_usage_plan_total(&c->st, &c->total);
	c->budget_spent = ws_budget_spent(&c->plan, &c->st, NULL);
	for (i = 0; i < c->plan.nr; i++) {
		struct status_record *r = &c->rec[i];

		r->id = c->plan.ws[i].id;
		r->status = ws_state_status(&c->st, r->id);
		r->branch = ws_state_get(&c->st, r->id, WS_KEY_BRANCH);
		r->worktree = ws_state_get(&c->st, r->id, WS_KEY_WORKTREE);
		r->reason = ws_state_get(&c->st, r->id, WS_KEY_REASON);
		if (r->status == WS_STATUS_READY)
			r->reason = ready_reason(c, r->reason);
		r->ahead = -1;
		r->runner = ws_state_get(&c->st, r->id, WS_KEY_RUNNER);
		r->job_id = ws_state_get(&c->st, r->id, WS_KEY_JOB_ID);
		r->host = ws_state_get(&c->st, r->id, WS_KEY_HOST);
		r->tmux_target = ws_state_get(&c->st, r->id, WS_KEY_TMUX_TARGET);
		r->shown = !argc;
		read_usage(c, r);
		c->merged += ws_is_merged(&c->st, r->id);
	}
	for (k = 0; k < argc; k++) {
		ssize_t idx = plan_find(&c->plan, argv[k]);

		if (idx < 0)
			die("no workstream '%s' in plan '%s'", argv[k], c->plan.name);
		c->rec[idx].shown = 1;
	}
}

static void read_base(struct status_ctx *c)
{
	if (!c->plan.base)
		die("%s/plan names no base branch", c->repo.ws_dir);
	if (!ws_branch_tip(&c->repo, c->plan.base, &c->base_tip))
		c->has_base = 1;
	else if (!c->porcelain)
		warning("base branch '%s' does not exist", c->plan.base);
}

/*
 * The state of each shown workstream's worktree (all checked at once, see
 * struct wt_cache) and how far its branch is ahead of the base.
 */
static void examine_records(struct status_ctx *c)
{
	struct path_rec *pr = xcalloc(c->plan.nr + 1, sizeof(*pr));
	size_t *slot = xmalloc((c->plan.nr + 1) * sizeof(*slot));
	size_t i, nr = 0;

	for (i = 0; i < c->plan.nr; i++) {
		struct status_record *r = &c->rec[i];

		slot[i] = SIZE_MAX;
		if (r->shown && r->worktree && r->status != WS_STATUS_CLEANED) {
			pr[nr].path = r->worktree;
			pr[nr++].i = i;
		}
	}
	/*
	 * Each worktree is checked once, however many workstreams share it:
	 * sorted by path, so that finding the sharers is O(n log n).
	 */
	qsort(pr, nr, sizeof(*pr), cmp_path_rec);
	for (i = 0; i < nr; i++) {
		if (!i || strcmp(pr[i].path, pr[i - 1].path))
			cache_add(&c->cache, pr[i].path);
		slot[pr[i].i] = c->cache.nr - 1;
	}
	c->cache.repo = &c->repo;
	check_all(&c->cache);
	for (i = 0; i < c->plan.nr; i++) {
		struct status_record *r = &c->rec[i];

		if (!r->shown)
			continue;
		if (r->status == WS_STATUS_CLEANED)
			r->wt_state = "removed";
		else if (!r->worktree && c->plan.pool)
			r->wt_state = "none";
		else
			r->wt_state = slot[i] != SIZE_MAX ?
				c->cache.result[slot[i]] : "missing";
		r->ahead = ahead_of_base(&c->repo, r->branch,
					 c->has_base ? &c->base_tip : NULL);
	}
	free(slot);
	free(pr);
}

/*
 * Append a state value (or `missing` when NULL) for display, with control
 * characters (tabs too) made harmless: values come from a file anyone can
 * edit.
 */
static void add_value(struct strbuf *sb, const char *value, const char *missing)
{
	size_t start = sb->len, i;

	strbuf_add_sanitized(sb, value ? value : missing);
	for (i = start; i < sb->len; i++)
		if (sb->buf[i] == '\t')
			sb->buf[i] = ' ';
}

/* The same, then a tab: one field of a porcelain record. */
static void add_field(struct strbuf *sb, const char *value, const char *missing)
{
	add_value(sb, value, missing);
	strbuf_addch(sb, '\t');
}

/*
 * <tokens-in> TAB <tokens-out> TAB <cost-usd>, each empty when no run
 * reported it; the cost as the state keeps it, with 6 decimals.
 */
static void add_usage_fields(struct strbuf *sb, const struct ws_usage *u)
{
	if (u->present & WS_USAGE_TOKENS_IN)
		strbuf_addf(sb, "%" PRIu64, u->tokens_in);
	strbuf_addch(sb, '\t');
	if (u->present & WS_USAGE_TOKENS_OUT)
		strbuf_addf(sb, "%" PRIu64, u->tokens_out);
	strbuf_addch(sb, '\t');
	if (u->present & WS_USAGE_COST)
		ws_cost_format(sb, u->cost_micro, 1);
}

/* The PORCELAIN FORMAT of git-ws-status(1); scripts rely on it. */
static const char *const slot_state_name[] = { "absent", "free", "busy" };

/* The worktree slots of the plan's pool (pool.h), when it has one. */
static void read_pool(struct status_ctx *c)
{
	if (c->plan.pool <= 0)
		return;
	c->pool.repo = &c->repo;
	c->pool.plan = &c->plan;
	c->pool.st = &c->st;
	ws_pool_read(&c->pool);
}

/* One "# slot" record per slot, after the workstreams' records. */
static void print_pool_porcelain(const struct status_ctx *c)
{
	struct strbuf line = STRBUF_INIT;
	size_t k;

	for (k = 0; k < c->pool.nr; k++) {
		const struct ws_slot *s = &c->pool.slots[k];

		strbuf_reset(&line);
		strbuf_addf(&line, "# slot\t%s\t%s\t", s->name,
			    slot_state_name[s->state]);
		add_field(&line, s->state == WS_SLOT_BUSY ? s->holder : NULL, "");
		add_value(&line, s->path, "");
		fwrite(line.buf, 1, line.len, stdout);
		putchar(c->nul ? '\0' : '\n');
	}
	strbuf_release(&line);
}

/* "Pool of 2 worktree slots:", then "  slot-1  busy  ws-3  <path>" each. */
static void print_pool_human(const struct status_ctx *c)
{
	struct strbuf line = STRBUF_INIT;
	size_t k;

	if (!c->pool.nr)
		return;
	printf("Pool of %zu worktree slot%s:\n", c->pool.nr,
	       c->pool.nr == 1 ? "" : "s");
	for (k = 0; k < c->pool.nr; k++) {
		const struct ws_slot *s = &c->pool.slots[k];

		strbuf_reset(&line);
		strbuf_addf(&line, "  %s  %s  ", s->name, slot_state_name[s->state]);
		if (s->state == WS_SLOT_BUSY) {
			add_value(&line, s->holder, "");
			strbuf_addstr(&line, "  ");
		}
		add_value(&line, s->path, "");
		printf("%s\n", line.buf);
	}
	strbuf_release(&line);
}

static void print_porcelain(const struct status_ctx *c)
{
	struct strbuf line = STRBUF_INIT;
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const struct status_record *r = &c->rec[i];

		if (!r->shown)
			continue;
		strbuf_reset(&line);
		strbuf_addf(&line, "%s\t", r->id);
		add_field(&line, status_text(r->status), "");
		add_field(&line, r->branch, "");
		add_field(&line, r->worktree, "");
		strbuf_addf(&line, "%ld\t%s\t", r->ahead, r->wt_state);
		add_field(&line, r->reason, "");
		add_usage_fields(&line, &r->usage);
		/* runner, job-id, host, tmux-target: empty when not recorded */
		strbuf_addch(&line, '\t');
		add_field(&line, r->runner, "");
		add_field(&line, r->job_id, "");
		add_field(&line, r->host, "");
		add_value(&line, r->tmux_target, "");
		fwrite(line.buf, 1, line.len, stdout);
		putchar(c->nul ? '\0' : '\n');
	}
	strbuf_release(&line);
}

/* The columns of the human table, left to right. */
enum status_column {
	COL_ID,
	COL_STATUS,
	COL_BRANCH,
	COL_WORKTREE,
	COL_AHEAD,
	COL_WT_STATE,
	COL_TOKENS,
	COL_COST,
	COL_REASON,
	COL_NR
};

/*
 * The width of sanitized text on a terminal, counted as one column per
 * UTF-8 character (the bytes that do not continue a sequence): right for
 * the paths and branch names seen in practice, not for double-width or
 * combining characters.
 */
static size_t display_width(const struct strbuf *sb)
{
	size_t i, n = 0;

	for (i = 0; i < sb->len; i++)
		n += ((unsigned char)sb->buf[i] & 0xc0) != 0x80;
	return n;
}

/* "1200 in/340 out", or the one of them that some run reported. */
static void add_tokens(struct strbuf *sb, const struct ws_usage *u)
{
	if (u->present & WS_USAGE_TOKENS_IN)
		strbuf_addf(sb, "%" PRIu64 " in", u->tokens_in);
	if ((u->present & WS_USAGE_TOKENS_IN) && (u->present & WS_USAGE_TOKENS_OUT))
		strbuf_addch(sb, '/');
	if (u->present & WS_USAGE_TOKENS_OUT)
		strbuf_addf(sb, "%" PRIu64 " out", u->tokens_out);
}

/* The cells of one record's row, sanitized as they will be printed. */
static void fill_row(struct strbuf *cell, const struct status_record *r)
{
	add_value(&cell[COL_ID], r->id, "");
	add_value(&cell[COL_STATUS], status_text(r->status), "");
	add_value(&cell[COL_BRANCH], r->branch, "-");
	add_value(&cell[COL_WORKTREE], r->worktree, "-");
	if (r->ahead >= 0)
		strbuf_addf(&cell[COL_AHEAD], "+%ld", r->ahead);
	strbuf_addstr(&cell[COL_WT_STATE], r->wt_state);
	add_tokens(&cell[COL_TOKENS], &r->usage);
	if (r->usage.present & WS_USAGE_COST) {
		strbuf_addch(&cell[COL_COST], '$');
		ws_cost_format(&cell[COL_COST], r->usage.cost_micro, 0);
	}
	if (r->reason) {
		strbuf_addch(&cell[COL_REASON], '(');
		strbuf_add_sanitized(&cell[COL_REASON], r->reason);
		strbuf_addch(&cell[COL_REASON], ')');
	}
}

/*
 * Print one row: each cell after its separator, padded to its column's
 * width when another cell follows. A column empty in every row (no commit
 * count when the base is missing) is left out, separator and all.
 */
static void print_row(const struct strbuf *cell, const size_t *width)
{
	static const char * const sep[COL_NR] = {
		"  ", " ", " ", "  ", "  ", "  ", "  ", "  ", "  "
	};
	struct strbuf line = STRBUF_INIT;
	int last = COL_NR - 1, col;

	while (last > 0 && !cell[last].len)
		last--;
	for (col = 0; col <= last; col++) {
		if (!width[col])
			continue;
		strbuf_addstr(&line, sep[col]);
		strbuf_addbuf(&line, &cell[col]);
		if (col < last)
			strbuf_addf(&line, "%*s",
				    (int)(width[col] - display_width(&cell[col])), "");
	}
	puts(line.buf);
	strbuf_release(&line);
}

/*
 * The plan's tokens and cost, when some run reported any or there is a
 * budget ("Total: 2400 in/680 out, $1.50 of $5.00 max-cost"), and a line
 * more once the budget is spent.
 */
static void print_total(const struct status_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;
	const struct ws_usage *t = &c->total;

	if (!t->present && !c->plan.max_cost)
		return;
	strbuf_addstr(&sb, "Total:");
	if (t->present & (WS_USAGE_TOKENS_IN | WS_USAGE_TOKENS_OUT)) {
		strbuf_addch(&sb, ' ');
		add_tokens(&sb, t);
		strbuf_addch(&sb, ',');
	}
	strbuf_addstr(&sb, " $");
	ws_cost_format(&sb, t->cost_micro, 0);
	if (c->plan.max_cost) {
		strbuf_addstr(&sb, " of $");
		ws_cost_format(&sb, c->plan.max_cost, 0);
		strbuf_addstr(&sb, " max-cost");
	}
	puts(sb.buf);
	strbuf_reset(&sb);
	if (ws_budget_spent(&c->plan, &c->st, &sb))
		puts(sb.buf);
	strbuf_release(&sb);
}

/*
 * The plan line, one row per shown record and the progress line. Each
 * column is as wide as its widest cell, so that a long id, branch or path
 * moves the columns after it in every row alike; ids and statuses take at
 * least 10 and 12 characters, which lines the usual ones up as before.
 */
/*
 * The git ws-dispatch running the plan, when one is, on one line: the
 * --loop of coordination/dispatcher, else the dispatcher of a running
 * command (reap.h). Only in the human output: porcelain is unchanged.
 */
static void print_dispatcher(const struct status_ctx *c)
{
	char started[32];
	long pid = ws_dispatcher_record_live(&c->repo, started);
	size_t i;

	if (pid) {
		printf("Dispatched by git ws-dispatch --loop (pid %ld) since %s\n",
		       pid, started);
		return;
	}
	for (i = 0; i < c->plan.nr; i++)
		if ((pid = ws_live_dispatcher(&c->st, c->plan.ws[i].id))) {
			printf("Dispatched by git ws-dispatch (pid %ld)\n", pid);
			return;
		}
}

/*
 * Where the shown in-progress commands run, when not locally: one line
 * each, "<id>: running on tmux: tmux attach -t ws-plan:id" (runner.h).
 */
static void print_runners(const struct status_ctx *c)
{
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const struct status_record *r = &c->rec[i];

		if (!r->shown || !r->runner || r->status != WS_STATUS_IN_PROGRESS)
			continue;
		strbuf_reset(&sb);
		strbuf_reset(&line);
		ws_runner_describe(&c->repo, r->runner, r->job_id, r->host,
				   r->tmux_target, &sb);
		strbuf_addf(&line, "%s: ", r->id);
		strbuf_add_sanitized(&line, sb.buf);
		puts(line.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&line);
}

/*
 * The plan's final-test, as git ws-merge recorded it (final-test.h):
 * "integration failed: ... see <log>", or that it passed, and on which
 * base commit.
 */
static void print_final_test(const struct status_ctx *c)
{
	const char *result = ws_state_plan_get(&c->st, WS_PLAN_KEY_FINAL_TEST);
	const char *oid = ws_state_plan_get(&c->st, WS_PLAN_KEY_FINAL_TEST_OID);
	const char *log = ws_state_plan_get(&c->st, WS_PLAN_KEY_FINAL_TEST_LOG);
	struct strbuf sb = STRBUF_INIT;

	if (!c->plan.final_test || !result)
		return;
	if (!strcmp(result, "failed")) {
		strbuf_addf(&sb, "integration failed: the final test fails on '%s' (%.7s); see ",
			    c->plan.base, oid ? oid : "");
		strbuf_add_sanitized(&sb, log ? log : "");
	} else {
		strbuf_addf(&sb, "final test %s on '%s' (%.7s)", result,
			    c->plan.base, oid ? oid : "");
	}
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

static void print_human(const struct status_ctx *c)
{
	static const size_t min_width[COL_NR] = { 10, 12 };
	size_t width[COL_NR], rows = 0, i, j;
	struct strbuf *cell = xcalloc(c->plan.nr * COL_NR + 1, sizeof(*cell));

	memcpy(width, min_width, sizeof(width));
	for (i = 0; i < c->plan.nr; i++) {
		struct strbuf *row = &cell[rows * COL_NR];

		if (!c->rec[i].shown)
			continue;
		for (j = 0; j < COL_NR; j++)
			strbuf_init(&row[j], 0);
		fill_row(row, &c->rec[i]);
		for (j = 0; j < COL_NR; j++)
			if (display_width(&row[j]) > width[j])
				width[j] = display_width(&row[j]);
		rows++;
	}

	printf("Plan '%s' on '%s'\n", c->plan.name, c->plan.base);
	print_dispatcher(c);
	for (i = 0; i < rows; i++)
		print_row(&cell[i * COL_NR], width);
	printf("%zu/%zu merged\n", c->merged, c->plan.nr);
	print_final_test(c);
	print_total(c);
	print_runners(c);
	print_pool_human(c);

	for (i = 0; i < rows * COL_NR; i++)
		strbuf_release(&cell[i]);
	free(cell);
}

/* Depth of each workstream: 0 for roots, else 1 + its deepest dependency. */
static size_t *depths(const struct plan *plan)
{
	size_t *d = xcalloc(plan->nr + 1, sizeof(*d));
	size_t i, j;

	for (i = 0; i < plan->nr; i++) {
		size_t k = plan->order[i];

		for (j = 0; j < plan->ws[k].dep_nr; j++)
			if (d[plan->ws[k].dep_idx[j]] + 1 > d[k])
				d[k] = d[plan->ws[k].dep_idx[j]] + 1;
	}
	return d;
}

/* The whole plan, in dependency order; <id> arguments do not narrow it. */
static void print_graph(const struct status_ctx *c)
{
	const struct plan *plan = &c->plan;
	size_t *d = depths(plan);
	size_t i, j;

	for (i = 0; i < plan->nr; i++) {
		size_t k = plan->order[i];
		const struct plan_workstream *w = &plan->ws[k];
		struct strbuf sb = STRBUF_INIT;

		for (j = 0; j < d[k]; j++)
			strbuf_addstr(&sb, "    ");
		strbuf_addf(&sb, "%s [%s] ", w->id, status_text(c->rec[k].status));
		strbuf_add_sanitized(&sb, w->title);
		for (j = 0; j < w->dep_nr; j++)
			strbuf_addf(&sb, "%s%s", j ? ", " : "  <- ",
				    plan->ws[w->dep_idx[j]].id);
		puts(sb.buf);
		strbuf_release(&sb);
	}
	free(d);
}

/*
 * --conflicts (conflicts.h): the pairs of active workstreams, and each
 * one with the base, that would conflict, of those the <id>s name (all
 * without). Returns 1 when some would, as git diff --exit-code.
 */
static int show_conflicts(struct status_ctx *c, int argc)
{
	struct ws_conflicts res = WS_CONFLICTS_INIT;
	int *want = NULL;
	size_t i;
	int ret;

	if (argc) {
		want = xcalloc(c->plan.nr + 1, sizeof(*want));
		for (i = 0; i < c->plan.nr; i++)
			want[i] = c->rec[i].shown;
	}
	if (ws_conflicts_compute(&c->repo, &c->plan, &c->st, want, &res) < 0)
		exit(WS_EXIT_FATAL);
	ws_conflicts_print(&res, &c->plan, c->porcelain, c->nul);
	ret = res.nr ? WS_EXIT_NO : 0;
	ws_conflicts_release(&res);
	free(want);
	return ret;
}

/* --dot (dot.h): the whole plan, as --graph shows it. */
static void print_dot(const struct status_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;

	ws_dot_write(&sb, &c->plan, &c->st);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
}

static void status_release(struct status_ctx *c)
{
	cache_release(&c->cache);
	ws_pool_release(&c->pool);
	free(c->rec);
	ws_state_release(&c->st);
	plan_release(&c->plan);
	ws_repo_close(&c->repo);
}

/* --checkpoints (checkpoints.h). */
static int print_checkpoints(struct status_ctx *c)
{
	struct ws_checkpoints cps = WS_CHECKPOINTS_INIT;
	int ret = 0;

	if (ws_checkpoints_get(&c->repo, &c->plan, &c->st, c->plan.base,
			       &cps) < 0)
		ret = WS_EXIT_FATAL;
	else
		ws_checkpoints_print(&cps, &c->plan, c->plan.base, c->porcelain,
				     c->nul);
	ws_checkpoints_release(&cps);
	status_release(c);
	return ret;
}

int cmd_main(int argc, const char **argv)
{
	struct status_ctx c = {
		.plan = PLAN_INIT,
		.st = WS_STATE_INIT,
		.pool = WS_POOL_INIT,
	};
	struct option options[] = {
		OPT__PORCELAIN(&c.porcelain),
		OPT_BOOL('z', NULL, &c.nul,
			 "with --porcelain, end records with NUL instead of newline"),
		OPT_BOOL(0, "graph", &c.graph, "show the dependency graph"),
		OPT_BOOL(0, "checkpoints", &c.checkpoints,
			 "list the base tip after each merge of the plan"),
		OPT_BOOL(0, "conflicts", &c.conflicts,
			 "show which active workstreams would conflict, and in which files"),
		OPT_BOOL(0, "dot", &c.dot,
			 "print the dependency graph in Graphviz DOT"),
		OPT_END()
	};

	argc = parse_options(argc, argv, options, status_usage);
	if (c.nul && !c.porcelain)
		usage_msg_opt("-z needs --porcelain", status_usage, options);
	if (c.checkpoints && (argc || c.graph))
		usage_msg_opt("--checkpoints takes no ids and no --graph",
			      status_usage, options);
	if (c.graph + c.conflicts + c.dot + c.checkpoints > 1)
		usage_msg_opt("--graph, --conflicts, --dot and --checkpoints cannot be combined",
			      status_usage, options);
	if (c.dot && (c.porcelain || argc))
		usage_msg_opt("--dot shows the whole plan: no --porcelain, no <id>",
			      status_usage, options);

	open_status(&c);
	read_records(&c, argc, argv);
	read_base(&c);
	if (c.checkpoints)
		return print_checkpoints(&c);
	if (!c.porcelain && c.has_base)
		ws_undo_warn_lost(&c.repo, &c.plan, &c.st, c.plan.base);

	if (c.conflicts || c.dot) {
		int ret = 0;

		if (c.dot)
			print_dot(&c);
		else
			ret = show_conflicts(&c, argc);
		status_release(&c);
		return ret;
	}
	if (c.porcelain || !c.graph)
		examine_records(&c);
	read_pool(&c);
	if (c.porcelain) {
		print_porcelain(&c);
		print_pool_porcelain(&c);
	}
	else if (c.graph)
		print_graph(&c);
	else
		print_human(&c);

	status_release(&c);
	return 0;
}
