/*
 * git ws-status: show the plan: each workstream's state, why, where, how
 * far it got, and the overall progress.
 */
#include "compat.h"
#include "dispatch.h"
#include "run.h"
#include "parse-options.h"
#include "reap.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"
#include <pthread.h>

static const char * const status_usage[] = {
	"git ws-status [--porcelain [-z]] [--graph] [<id>...]",
	NULL
};

struct status_opts {
	int porcelain;
	int nul;
	int graph;
};

/*
 * Worktree cleanliness, computed once per worktree (shared ones repeat),
 * for all of them up front and several at once: each check opens its own
 * repository (libgit2 objects are per thread) and reads its files, so
 * with many worktrees this is where the time goes.
 */
struct wt_cache {
	char **path;
	const char **result;
	size_t nr, alloc;
	size_t next;          /* next index to check, under `mutex` */
	pthread_mutex_t mutex;
};

static const char *check_worktree(const char *path)
{
	int dirty;

	if (!path_exists(path))
		return "missing";
	if ((dirty = ws_worktree_is_dirty(path)) < 0)
		return "broken";
	return dirty ? "dirty" : "clean";
}

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
		c->result[i] = check_worktree(c->path[i]);
	}
}

static void cache_add(struct wt_cache *c, const char *path)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->path[i], path))
			return;
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

static const char *worktree_state(struct wt_cache *c, const char *path)
{
	size_t i;

	for (i = 0; path && i < c->nr; i++)
		if (!strcmp(c->path[i], path))
			return c->result[i];
	return "missing";
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
 * Append a state value (or `missing` when NULL) for display, with control
 * characters (tabs too) made harmless, then a tab: values come from a file
 * anyone can edit.
 */
static void add_field(struct strbuf *sb, const char *value, const char *missing)
{
	size_t start = sb->len, i;

	strbuf_add_sanitized(sb, value ? value : missing);
	for (i = start; i < sb->len; i++)
		if (sb->buf[i] == '\t')
			sb->buf[i] = ' ';
	strbuf_addch(sb, '\t');
}

/*
 * 1 when some workstream is recorded `in_progress` by a process that is
 * gone (a cheap, lock-free look before ws_reap_vanished()).
 */
static int has_vanished(const struct plan *plan, const struct ws_state *st)
{
	size_t i;

	for (i = 0; i < plan->nr; i++) {
		enum ws_status s = ws_state_status(st, plan->ws[i].id);

		if (s == WS_STATUS_IN_PROGRESS &&
		    !process_is_alive(ws_state_get_long(st, plan->ws[i].id, WS_KEY_PID, 0)))
			return 1;
	}
	return 0;
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

static void print_graph(const struct plan *plan, const struct ws_state *st)
{
	size_t *d = depths(plan);
	size_t i, j;

	for (i = 0; i < plan->nr; i++) {
		size_t k = plan->order[i];
		const struct plan_workstream *w = &plan->ws[k];
		enum ws_status status = ws_state_status(st, w->id);
		struct strbuf sb = STRBUF_INIT;

		for (j = 0; j < d[k]; j++)
			strbuf_addstr(&sb, "    ");
		strbuf_addf(&sb, "%s [%s] ", w->id,
			    ws_status_name(status) ?: "unallocated");
		strbuf_add_sanitized(&sb, w->title);
		for (j = 0; j < w->dep_nr; j++)
			strbuf_addf(&sb, "%s%s", j ? ", " : "  <- ",
				    plan->ws[w->dep_idx[j]].id);
		puts(sb.buf);
		strbuf_release(&sb);
	}
	free(d);
}

int cmd_main(int argc, const char **argv)
{
	struct status_opts opts = { 0 };
	struct option options[] = {
		OPT__PORCELAIN(&opts.porcelain),
		OPT_BOOL('z', NULL, &opts.nul,
			 "with --porcelain, end records with NUL instead of newline"),
		OPT_BOOL(0, "graph", &opts.graph, "show the dependency graph"),
		OPT_END()
	};
	struct ws_repo repo;
	struct plan plan = PLAN_INIT;
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	struct wt_cache cache = { 0 };
	git_oid base_tip, *base = NULL;
	char *selected;
	size_t i, merged = 0, shown = 0;
	int k;

	argc = parse_options(argc, argv, options, status_usage);
	if (opts.nul && !opts.porcelain)
		usage_msg_opt("-z needs --porcelain", status_usage, options);

	ws_repo_open(&repo);
	ws_load_plan(&repo, &plan);
	if (ws_state_read(&st, repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	if (has_vanished(&plan, &st)) {
		/* a dispatched command is gone: record it, as dispatch would */
		ws_state_release(&st);
		ws_state_lock_repo(&st, &repo);
		if (ws_reap_vanished(&repo, &st) && ws_state_commit(&st) < 0)
			die_errno("cannot write '%s'", st.state_path);
		ws_state_release(&st);
		if (ws_state_read(&st, repo.ws_dir, &err) < 0)
			die("%s", err.buf);
	}
	selected = xcalloc(plan.nr + 1, 1);
	for (k = 0; k < argc; k++) {
		ssize_t idx = plan_find(&plan, argv[k]);

		if (idx < 0)
			die("no workstream '%s' in plan '%s'", argv[k], plan.name);
		selected[idx] = 1;
	}
	if (!plan.base)
		die("%s/plan names no base branch", repo.ws_dir);
	if (!ws_branch_tip(&repo, plan.base, &base_tip))
		base = &base_tip;
	else if (!opts.porcelain)
		warning("base branch '%s' does not exist", plan.base);

	if (opts.graph && !opts.porcelain) {
		print_graph(&plan, &st);
		goto out;
	}
	for (i = 0; i < plan.nr; i++) {
		const char *id = plan.ws[i].id;
		enum ws_status status = ws_state_status(&st, id);
		const char *wt = ws_state_get(&st, id, WS_KEY_WORKTREE);

		if (wt && (!argc || selected[i]) &&
		    status != WS_STATUS_CLEANED)
			cache_add(&cache, wt);
	}
	check_all(&cache);
	if (!opts.porcelain)
		printf("Plan '%s' on '%s'\n", plan.name, plan.base);
	for (i = 0; i < plan.nr; i++) {
		const struct plan_workstream *w = &plan.ws[i];
		enum ws_status status = ws_state_status(&st, w->id);
		const char *reason = ws_state_get(&st, w->id, WS_KEY_REASON);
		const char *branch = ws_state_get(&st, w->id, WS_KEY_BRANCH);
		const char *wt = ws_state_get(&st, w->id, WS_KEY_WORKTREE);
		const char *status_text = ws_status_name(status) ?: "unallocated";
		const char *wt_state;
		long ahead;
		struct strbuf line = STRBUF_INIT;

		merged += ws_is_merged(&st, w->id);
		if (argc && !selected[i])
			continue;
		shown++;
		wt_state = status != WS_STATUS_CLEANED ? worktree_state(&cache, wt) : "removed";
		ahead = ahead_of_base(&repo, branch, base);
		if (opts.porcelain) {
			strbuf_addf(&line, "%s\t", w->id);
			add_field(&line, status_text, "");
			add_field(&line, branch, "");
			add_field(&line, wt, "");
			strbuf_addf(&line, "%ld\t%s\t", ahead, wt_state);
			if (reason)
				strbuf_add_sanitized(&line, reason);
			fwrite(line.buf, 1, line.len, stdout);
			putchar(opts.nul ? '\0' : '\n');
		} else {
			strbuf_addf(&line, "  %-10s ", w->id);
			strbuf_add_sanitized(&line, status_text);
			strbuf_addf(&line, "%*s", (int)(strlen(status_text) < 12 ?
							12 - strlen(status_text) : 0), "");
			strbuf_addch(&line, ' ');
			add_field(&line, branch, "-");
			strbuf_setlen(&line, line.len - 1);
			strbuf_addstr(&line, "  ");
			add_field(&line, wt, "-");
			strbuf_setlen(&line, line.len - 1);
			if (ahead >= 0)
				strbuf_addf(&line, "  +%ld", ahead);
			strbuf_addf(&line, "  %s", wt_state);
			if (reason) {
				strbuf_addstr(&line, "  (");
				strbuf_add_sanitized(&line, reason);
				strbuf_addch(&line, ')');
			}
			puts(line.buf);
		}
		strbuf_release(&line);
	}
	if (!opts.porcelain)
		printf("%zu/%zu merged\n", merged, plan.nr);
out:
	for (i = 0; i < cache.nr; i++)
		free(cache.path[i]);
	free(cache.path);
	free(cache.result);
	free(selected);
	ws_state_release(&st);
	plan_release(&plan);
	ws_repo_close(&repo);
	strbuf_release(&err);
	(void)shown;
	return 0;
}
