/*
 * git ws-alloc: read and validate a plan, decide which workstreams share a
 * worktree, create the worktrees and branches, record the state.
 */
#include "compat.h"
#include "allocate.h"
#include "parse-options.h"
#include "plan.h"
#include "ports.h"
#include "setup.h"
#include "submodule.h"
#include "recover.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "lockfile.h"
#include "include.h"
#include "lost-worktree.h"
#include "ws.h"

static const char * const alloc_usage[] = {
	"git ws-alloc [-n | --dry-run] [--porcelain] [--base <branch>] [--pool <n>] <plan>",
	NULL
};

/* What this run does with each workstream. */
enum action {
	KEEP,   /* allocated before: nothing to do */
	CREATE, /* owner of a new worktree and branch */
	SHARE,  /* new, uses another workstream's worktree */
};

struct alloc_ctx {
	struct ws_repo repo;
	struct plan plan;
	struct ws_allocation alloc;
	struct ws_state st;
	char *base;
	git_oid base_oid;
	char base_hex[GIT_OID_HEXSZ + 1];
	enum action *action;
	char **worktree;  /* per workstream: the worktree path it uses */
	int dry_run, porcelain;
	int plan_changed;  /* the stored plan differs, in what may change */
	struct strvec lost;  /* ws_bring_back_worktrees()'s records */
	struct ws_include include; /* ignored files every new worktree gets */
};

static const char *wt_of(struct alloc_ctx *c, size_t i)
{
	return c->worktree[c->alloc.owner[i]];
}

static const char *branch_of(struct alloc_ctx *c, size_t i)
{
	return c->plan.ws[c->alloc.owner[i]].branch;
}

/*
 * Undo what an interrupted run left: allocations still recorded as
 * `allocating` (recover.h, WS_INTENT_ALLOCATE), whose worktree and branch
 * did not exist when they were recorded. With --dry-run only say so.
 */
static void recover(struct alloc_ctx *c)
{
	struct ws_recover rc = WS_RECOVER_INIT;

	rc.repo = &c->repo;
	rc.plan = &c->plan;
	rc.st = &c->st;
	rc.hold_fd = c->st.lock_fd;
	rc.dry_run = c->dry_run;
	rc.kinds = 1u << WS_INTENT_ALLOCATE;
	if (ws_recover(&rc) < 0)
		exit(WS_EXIT_FATAL);
}

/* A plan that would change what is allocated is refused, whole. */
static void check_against_state(struct alloc_ctx *c)
{
	char *path = ws_path(&c->repo, "plan");
	struct plan old = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	char *prefix = ws_branch_prefix(&c->repo);
	size_t i;

	if (path_exists(path)) {
		if (plan_read(&old, path, prefix, &err) < 0)
			die("%s", err.buf);
		if (strcmp(old.name, c->plan.name)) {
			size_t pos = 0;
			const char *id;
			int live = 0;

			while ((id = ws_state_next(&c->st, &pos))) {
				enum ws_status s = ws_state_status(&c->st, id);

				if (s != WS_STATUS_NONE && s != WS_STATUS_CLEANED)
					live = 1;
			}
			if (live) {
				error("plan '%s' is allocated in this repository; cannot allocate '%s' too",
				      old.name, c->plan.name);
				advise("finish it, or remove it with 'git ws-clean --all'");
				exit(WS_EXIT_FATAL);
			}
		} else if (old.base && strcmp(old.base, c->base)) {
			error("plan '%s' was allocated on base '%s', not '%s'",
			      old.name, old.base, c->base);
			advise("a workstream's base cannot change once it is allocated");
			exit(WS_EXIT_FATAL);
		} else if (old.pool != c->plan.pool) {
			error("%s:%d: plan '%s' was allocated with pool = %d, not %d",
			      c->plan.file, c->plan.pool_line ? c->plan.pool_line : 1,
			      old.name, old.pool, c->plan.pool);
			advise("whether workstreams have a worktree each or share a pool cannot change once they are allocated");
			exit(WS_EXIT_FATAL);
		} else if (old.ports != c->plan.ports) {
			error("%s:%d: plan '%s' was allocated with ports = %d, not %d",
			      c->plan.file, c->plan.ports_line ? c->plan.ports_line : 1,
			      old.name, old.ports, c->plan.ports);
			advise("the workstreams' port blocks cannot change once they are allocated");
			exit(WS_EXIT_FATAL);
		} else {
			for (i = 0; i < old.nr; i++) {
				const char *id = old.ws[i].id;
				enum ws_status s = ws_state_status(&c->st, id);

				if (plan_find(&c->plan, id) >= 0 || !ws_state_find(&c->st, id) ||
				    s == WS_STATUS_CLEANED)
					continue;
				error("%s: the plan drops workstream '%s', which is allocated",
				      c->plan.file, id);
				advise("keep it in the plan, or give it up first with 'git ws-clean --force %s'\n"
				       "(its commits stay reachable from refs/ws/backup/%s)", id, id);
				exit(WS_EXIT_FATAL);
			}
		}
	}
	for (i = 0; i < c->plan.nr; i++) {
		const struct plan_workstream *w = &c->plan.ws[i];
		const char *b, *wt;

		if (!ws_state_find(&c->st, w->id))
			continue;
		c->action[i] = KEEP;
		b = ws_state_get(&c->st, w->id, WS_KEY_BRANCH);
		wt = ws_state_get(&c->st, w->id, WS_KEY_WORKTREE);
		if (b && strcmp(b, branch_of(c, i))) {
			error("%s:%d: workstream '%s' is allocated on branch '%s'; the plan now makes it '%s'",
			      c->plan.file, w->lineno, w->id, b, branch_of(c, i));
			advise("keep its title and worktree as they were, or clean it first");
			exit(WS_EXIT_FATAL);
		}
		/* with a pool, the worktree is the slot it holds (pool.h) */
		if (wt && !c->plan.pool && strcmp(wt, wt_of(c, i))) {
			error("%s:%d: workstream '%s' is allocated in worktree '%s'; the plan now puts it in '%s'",
			      c->plan.file, w->lineno, w->id, wt, wt_of(c, i));
			advise("keep its worktree as it was, or clean it first");
			exit(WS_EXIT_FATAL);
		}
	}
	if (old.name) {
		/* what the stored plan says differently (max-cost, say) */
		struct strbuf was = STRBUF_INIT, now = STRBUF_INIT;

		plan_format(&old, &was);
		plan_format(&c->plan, &now);
		c->plan_changed = strcmp(was.buf, now.buf) != 0;
		strbuf_release(&was);
		strbuf_release(&now);
	}
	plan_release(&old);
	strbuf_release(&err);
	free(prefix);
	free(path);
}

/*
 * A workstream allocated before keeps the worktree the state records for
 * it: the plan's path, or where it was moved by hand from the plan's
 * path (lost-worktree.h, `moved-from`).
 */
static void use_recorded_paths(struct alloc_ctx *c)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;
		const char *wt = ws_state_get(&c->st, id, WS_KEY_WORKTREE);
		const char *from = ws_state_get(&c->st, id, WS_KEY_MOVED_FROM);

		if (c->alloc.owner[i] == i && wt && from &&
		    !strcmp(from, c->worktree[i])) {
			free(c->worktree[i]);
			c->worktree[i] = xstrdup(wt);
		}
	}
}

/*
 * Find again the worktrees moved by hand, and make again from their
 * branch those removed by hand (lost-worktree.h), saying so.
 */
static void bring_back_worktrees(struct alloc_ctx *c)
{
	struct ws_lost_worktrees lw = WS_LOST_WORKTREES_INIT;

	lw.repo = &c->repo;
	lw.st = &c->st;
	lw.hold_fd = c->st.lock_fd;
	lw.dry_run = c->dry_run;
	lw.include = &c->include;
	if (ws_bring_back_worktrees(&lw) < 0)
		exit(WS_EXIT_FATAL);
	if (lw.changed && !c->dry_run)
		ws_state_write_or_die(&c->st);
	c->lost = lw.records;
	use_recorded_paths(c);
}

/* Everything that would stop the creation, checked before anything is made. */
static void check_new(struct alloc_ctx *c)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < c->plan.nr; i++) {
		git_oid oid;

		if (c->action[i] != CREATE)
			continue;
		if (!c->plan.pool && path_exists(c->worktree[i]))
			bad = error("worktree path '%s' for '%s' already exists",
				    c->worktree[i], c->plan.ws[i].id);
		if (!ws_branch_tip(&c->repo, c->plan.ws[i].branch, &oid))
			bad = error("branch '%s' for '%s' already exists",
				    c->plan.ws[i].branch, c->plan.ws[i].id);
	}
	if (bad) {
		advise("git ws-alloc never reuses a directory or branch it did not make:\n"
		       "move them away, or choose other names (ws.worktreeDir, ws.branchPrefix)");
		die("nothing was allocated");
	}
}

/*
 * Record the new workstreams, with the intent to allocate them
 * (WS_INTENT_ALLOCATE) until their worktree exists.
 */
static void record_new(struct alloc_ctx *c)
{
	size_t i;
	char now[32];

	iso8601_now(now);
	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;

		struct ws_intent in = WS_INTENT_INIT;

		if (c->action[i] == KEEP)
			continue;
		in.kind = WS_INTENT_ALLOCATE;
		in.id = id;
		in.role = c->action[i] == CREATE ? WS_ALLOCATING_OWNER :
			  WS_ALLOCATING_SHARE;
		ws_intent_record(&c->st, &in);
		/* a pool's workstream gets its worktree at dispatch (pool.h) */
		if (!c->plan.pool)
			ws_state_set(&c->st, id, WS_KEY_WORKTREE, wt_of(c, i));
		ws_state_set(&c->st, id, WS_KEY_BRANCH, branch_of(c, i));
		ws_state_set(&c->st, id, WS_KEY_BASE_OID, c->base_hex);
		ws_state_set(&c->st, id, WS_KEY_ITERATIONS, "0");
		ws_state_set(&c->st, id, WS_KEY_ATTEMPTS, "0");
		ws_state_set(&c->st, id, WS_KEY_CREATED, now);
		if (c->action[i] == CREATE && c->plan.ws[i].setup && !c->plan.pool)
			ws_state_set(&c->st, id, WS_KEY_SETUP, WS_SETUP_PENDING);
	}
	ws_state_write_or_die(&c->st);
}

/*
 * Create the new worktrees, one at a time and without a checkout (a
 * `git worktree add` reads every other worktree's admin files, so two at
 * once can see each other half-made), each checked out as soon as it is
 * made, up to one per CPU at a time, while the next ones are made
 * (struct ws_populate: `git reset --hard` there writes that worktree's
 * files and index and its branch, nothing `git worktree add` reads), which
 * is where the time goes, then run the post-checkout hook in each as `git
 * worktree add` would. Returns 0, or
 * -1 when any failed; created[i] says which worktrees exist.
 */
static int create_worktrees(struct alloc_ctx *c, char *created)
{
	const char **paths = xcalloc(c->plan.nr + 1, sizeof(*paths));
	size_t *which = xcalloc(c->plan.nr + 1, sizeof(*which));
	struct ws_populate pop = WS_POPULATE_INIT;
	size_t i, nr = 0;
	int ret = 0;

	for (i = 0; !ret && i < c->plan.nr; i++) {
		struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;

		if (c->action[i] != CREATE)
			continue;
		add.path = c->worktree[i];
		add.new_branch = c->plan.ws[i].branch;
		add.commit = c->base_hex;
		add.no_checkout = 1;
		add.hold_fd = c->st.lock_fd;
		if (ws_worktree_add(&c->repo, &add)) {
			ret = error("cannot create the worktree of '%s' at '%s'",
				    c->plan.ws[i].id, c->worktree[i]);
			break;
		}
		created[i] = 1;
		if ((c->plan.ws[i].sparse.nr &&
		     ws_worktree_sparse_set(c->worktree[i], &c->plan.ws[i].sparse) < 0) ||
		    (c->plan.ws[i].lfs_skip &&
		     ws_worktree_lfs_skip(c->worktree[i]) < 0)) {
			ret = -1;
			break;
		}
		which[nr] = i;
		paths[nr++] = c->worktree[i];
		/* checked out while the next ones are made */
		ws_populate_add(&pop, c->worktree[i]);
	}
	/* all checkouts end before anything, a roll-back too, goes on */
	if (ws_populate_finish(&pop) < 0) {
		for (i = 0; i < nr; i++)
			if (pop.failed[i])
				error("cannot check out the worktree of '%s' at '%s'",
				      c->plan.ws[which[i]].id, paths[i]);
		ret = -1;
	}
	for (i = 0; !ret && i < nr; i++)
		if (ws_submodules_update(&c->repo, paths[i]) < 0)
			ret = -1;
	for (i = 0; !ret && i < nr; i++)
		if (ws_include_copy(&c->include, paths[i], NULL) < 0)
			ret = error("cannot copy the included files into '%s'",
				    paths[i]);
	/* `git hook run` only where there is a hook to run: one process less */
	for (i = 0; !ret && i < nr; i++)
		if (ws_worktree_may_have_hook(&c->repo, paths[i], "post-checkout"))
			ws_worktree_post_checkout(paths[i], c->base_hex);
	ws_populate_release(&pop);
	free(paths);
	free(which);
	return ret;
}

/*
 * With a pool (pool.h) a workstream gets its worktree when it becomes
 * ready to run: make only the branches, at the base, as `git branch
 * --no-track <branch> <base>` would. Returns 0, or -1 after an error;
 * created[i] says which branches exist.
 */
static int create_branches(struct alloc_ctx *c, char *created)
{
	git_commit *base = NULL;
	size_t i;
	int ret = 0;

	if (git_commit_lookup(&base, c->repo.repo, &c->base_oid) < 0)
		return error("cannot read the base commit %s", c->base_hex);
	for (i = 0; !ret && i < c->plan.nr; i++) {
		git_reference *ref = NULL;

		if (c->action[i] != CREATE)
			continue;
		if (git_branch_create(&ref, c->repo.repo, c->plan.ws[i].branch,
				      base, 0) < 0) {
			const git_error *e = git_error_last();

			ret = error("cannot create branch '%s' for '%s': %s",
				    c->plan.ws[i].branch, c->plan.ws[i].id,
				    e && e->message ? e->message : "unknown error");
			break;
		}
		created[i] = 1;
		git_reference_free(ref);
	}
	git_commit_free(base);
	return ret;
}

/* Remove what this run made and its records; the state is as before. */
static void roll_back(struct alloc_ctx *c, const char *created)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		if (c->action[i] == KEEP)
			continue;
		if (c->action[i] == CREATE) {
			const char *wt = created[i] && !c->plan.pool ?
					 c->worktree[i] : NULL;

			if (ws_worktree_undo_add(&c->repo, wt, c->plan.ws[i].branch,
						 c->base_hex, c->st.lock_fd) == -1)
				error("cannot remove '%s'", wt);
		}
		ws_state_remove(&c->st, c->plan.ws[i].id);
	}
	ws_state_commit_or_die(&c->st);
}

static void print_result(struct alloc_ctx *c)
{
	size_t i, new_wt = 0, new_ws = 0;

	for (i = 0; i < c->plan.nr; i++) {
		new_wt += c->action[i] == CREATE;
		new_ws += c->action[i] != KEEP;
	}
	if (!c->porcelain) {
		if (!new_ws && c->plan_changed)
			printf("Plan '%s' is already allocated; its stored plan %s from %s.\n",
			       c->plan.name, c->dry_run ? "would be updated" : "is updated",
			       c->plan.file);
		else if (!new_ws)
			printf("Plan '%s' is already allocated; nothing to do.\n",
			       c->plan.name);
		else if (c->plan.pool)
			printf("%s plan '%s' on '%s' (%.7s): %zu new branch%s for %zu workstream%s, a pool of %d worktree%s made as they become ready\n",
			       c->dry_run ? "Would allocate" : "Allocated",
			       c->plan.name, c->base, c->base_hex, new_wt,
			       new_wt == 1 ? "" : "es", new_ws, new_ws == 1 ? "" : "s",
			       c->plan.pool, c->plan.pool == 1 ? "" : "s");
		else
			printf("%s plan '%s' on '%s' (%.7s): %zu new worktree%s for %zu workstream%s\n",
			       c->dry_run ? "Would allocate" : "Allocated",
			       c->plan.name, c->base, c->base_hex, new_wt,
			       new_wt == 1 ? "" : "s", new_ws, new_ws == 1 ? "" : "s");
	}
	for (i = 0; c->porcelain && i < c->lost.nr; i++)
		printf("%s\n", c->lost.v[i]);
	for (i = 0; i < c->plan.nr; i++) {
		size_t k = c->plan.order[i];
		const struct plan_workstream *w = &c->plan.ws[k];
		enum ws_status status = ws_state_status(&c->st, w->id);
		const char *reason = ws_state_get(&c->st, w->id, WS_KEY_REASON);
		size_t o = c->alloc.owner[k];
		static const char *const names[] = { "keep", "create", "share" };
		static const char *const why[] = { "", "worktree", "overlap" };

		/* a pool's workstream has the slot it holds, or none yet */
		const char *wt = !c->plan.pool ? wt_of(c, k) :
				 ws_state_get(&c->st, w->id, WS_KEY_WORKTREE);

		if (status == WS_STATUS_NONE)
			status = w->dep_nr ? WS_STATUS_BLOCKED : WS_STATUS_READY;
		if (c->porcelain) {
			printf("workstream\t%s\t%s\t%s\t%s\t%s\t%s\n", w->id,
			       names[c->action[k]], ws_status_name(status), branch_of(c, k),
			       wt ? wt : "", c->plan.ws[o].id);
			if (o != k)
				printf("share\t%s\t%s\t%s\n", w->id, c->plan.ws[o].id,
				       why[c->alloc.why[k]]);
			continue;
		}
		printf("  %-12s %-11s %s  %s", w->id, ws_status_name(status),
		       branch_of(c, k), wt ? wt : "(a worktree slot when ready)");
		if (o != k)
			printf("  (shares %s's worktree: %s)", c->plan.ws[o].id,
			       c->alloc.why[k] == SHARE_EXPLICIT ? "worktree =" :
			       "paths overlap a dependency");
		if (reason)
			printf("  %s", reason);
		putchar('\n');
	}
	for (i = 0; i < c->alloc.risk_nr; i++) {
		const char *a = c->plan.ws[c->alloc.risks[i].a].id;
		const char *b = c->plan.ws[c->alloc.risks[i].b].id;

		if (c->porcelain)
			printf("risk\t%s\t%s\n", a, b);
		else
			printf("conflict risk: '%s' and '%s' are independent but their paths overlap\n",
			       a, b);
	}
}

static void write_plan_file(struct alloc_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = ws_path(&c->repo, "plan");

	if (!c->plan.base)
		c->plan.base = xstrdup(c->base);
	plan_format(&c->plan, &sb);
	if (write_file_atomically(path, sb.buf, sb.len, LOCK_BREAK_STALE) < 0)
		die_errno("cannot write '%s'", path);
	strbuf_release(&sb);
	free(path);
}

/* Read and validate the plan, and find the base it starts from. */
static void read_plan(struct alloc_ctx *c, const char *file, const char *base)
{
	struct strbuf err = STRBUF_INIT;
	char *prefix = ws_branch_prefix(&c->repo);

	if (plan_read(&c->plan, file, prefix, &err) < 0 ||
	    ws_include_read(&c->include, &c->repo, &c->plan.include, &err) < 0)
		die("%s", err.buf);
	free(prefix);
	strbuf_release(&err);

	if (base)
		c->base = xstrdup(base);
	else if (c->plan.base)
		c->base = xstrdup(c->plan.base);
	else if (!(c->base = ws_current_branch(&c->repo)))
		die("HEAD is not on a branch; say which base to use with --base or [plan] base");
	if (ws_branch_tip(&c->repo, c->base, &c->base_oid) < 0) {
		if (!ws_repo_has_no_commits(&c->repo))
			die("base branch '%s' does not exist", c->base);
		error("this repository has no commits yet; base branch '%s' needs one",
		      c->base);
		advise("every workstream starts from a commit of its base; make a first commit, e.g.\n"
		       "  git commit --allow-empty -m 'Initial commit'");
		exit(WS_EXIT_FATAL);
	}
	ws_oid_hex(&c->base_oid, c->base_hex);
	free(c->plan.base);
	c->plan.base = xstrdup(c->base);
}

/* Decide who shares which worktree, and where each worktree goes. */
static void plan_allocation(struct alloc_ctx *c)
{
	char *prefix = ws_worktree_path_prefix(&c->repo);
	size_t i;

	ws_allocate(&c->plan, &c->alloc);
	c->action = xcalloc(c->plan.nr + 1, sizeof(*c->action));
	c->worktree = xcalloc(c->plan.nr + 1, sizeof(*c->worktree));
	for (i = 0; i < c->plan.nr; i++) {
		c->worktree[i] = xstrfmt("%s%s", prefix, c->plan.ws[i].id);
		c->action[i] = c->alloc.owner[i] == i ? CREATE : SHARE;
	}
	free(prefix);
}

/* The state, locked; with --dry-run read only: no lock, no directories. */
static void open_state(struct alloc_ctx *c)
{
	struct strbuf err = STRBUF_INIT;

	if (c->dry_run) {
		if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
			die("%s", err.buf);
	} else {
		ws_repo_ensure_dirs(&c->repo);
		ws_state_lock_repo(&c->st, &c->repo);
	}
	strbuf_release(&err);
}

/*
 * Give each new workstream its block of ports (ports.h), in the state
 * in memory; record_new() writes it. With --dry-run only check that the
 * blocks fit.
 */
static void assign_ports(struct alloc_ctx *c)
{
	const char **ids = xcalloc(c->plan.nr + 1, sizeof(*ids));
	struct strbuf err = STRBUF_INIT;
	size_t i, nr = 0;

	for (i = 0; i < c->plan.nr; i++)
		if (c->action[i] != KEEP)
			ids[nr++] = c->plan.ws[i].id;
	if (ws_ports_assign(&c->plan, &c->st, ws_port_base(&c->repo),
			    ids, nr, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
	free(ids);
}

/* Make what is new, and record it; on a failure, undo all of it. */
static void allocate_new(struct alloc_ctx *c)
{
	char *created = xcalloc(c->plan.nr + 1, 1);
	size_t i;

	record_new(c);
	if ((c->plan.pool ? create_branches(c, created) :
	     create_worktrees(c, created)) < 0) {
		roll_back(c, created);
		die("nothing was allocated");
	}
	free(created);
	for (i = 0; i < c->plan.nr; i++)
		ws_intent_clear(&c->st, c->plan.ws[i].id, WS_INTENT_ALLOCATE);
	ws_update_blocked(&c->plan, &c->st);
	write_plan_file(c);
	ws_state_commit_or_die(&c->st);
}

/*
 * Run the `setup` of each new worktree, the state unlocked meanwhile (a
 * setup may take minutes), then record what passed (the worktree's
 * `setup` record goes) and what failed (the workstream `failed`, with
 * the reason and the log). Returns how many failed.
 */
static size_t run_setups(struct alloc_ctx *c)
{
	struct ws_setup_job *jobs = xcalloc(c->plan.nr + 1, sizeof(*jobs));
	size_t i, nr = 0, failed;

	for (i = 0; i < c->plan.nr; i++) {
		if (c->action[i] != CREATE || !c->plan.ws[i].setup || c->plan.pool)
			continue;
		jobs[nr].idx = i;
		jobs[nr].branch = c->plan.ws[i].branch;
		jobs[nr].worktree = c->worktree[i];
		nr++;
	}
	if (!nr) {
		free(jobs);
		return 0;
	}
	failed = ws_setup_run(&c->repo, &c->plan, jobs, nr);
	{
		struct ws_state fresh = WS_STATE_INIT;

		ws_state_release(&c->st);
		c->st = fresh;
	}
	ws_state_lock_repo(&c->st, &c->repo);
	for (i = 0; i < nr; i++) {
		const struct plan_workstream *w = &c->plan.ws[jobs[i].idx];
		char *log = ws_setup_log(&c->repo, w->id);
		char *reason = xstrfmt("setup failed: %s; see %s",
				       jobs[i].result, log);
		size_t j;

		if (jobs[i].failed)
			error("the setup of '%s' failed (%s); see %s", w->id,
			      jobs[i].result, log);
		/* the workstreams that share the worktree wait on its setup */
		for (j = 0; j < c->plan.nr; j++) {
			const char *id = c->plan.ws[j].id;

			if (c->alloc.owner[j] != jobs[i].idx || c->action[j] == KEEP)
				continue;
			if (!jobs[i].failed) {
				ws_state_set(&c->st, id, WS_KEY_SETUP, NULL);
				continue;
			}
			ws_state_set(&c->st, id, WS_KEY_SETUP, WS_SETUP_FAILED);
			ws_state_set_status(&c->st, id, WS_STATUS_FAILED, reason);
		}
		free(reason);
		free(log);
		free(jobs[i].result);
	}
	ws_state_commit_or_die(&c->st);
	free(jobs);
	return failed;
}

static void alloc_release(struct alloc_ctx *c)
{
	size_t i;

	ws_state_release(&c->st);
	for (i = 0; i < c->plan.nr; i++)
		free(c->worktree[i]);
	free(c->worktree);
	free(c->action);
	strvec_clear(&c->lost);
	ws_include_release(&c->include);
	free(c->base);
	ws_allocation_release(&c->alloc);
	plan_release(&c->plan);
	ws_repo_close(&c->repo);
}

int cmd_main(int argc, const char **argv)
{
	struct alloc_ctx c;
	const char *base = NULL;
	int pool = -1;
	size_t failed;
	struct option options[] = {
		OPT__DRY_RUN(&c.dry_run),
		OPT__PORCELAIN(&c.porcelain),
		OPT_STRING(0, "base", &base, "branch",
			   "branch to start from and merge into (default: the plan's, else the current branch)"),
		OPT_INTEGER(0, "pool", &pool, "n",
			    "at most <n> worktrees, taken by workstreams as they become ready (the plan's pool)"),
		OPT_END()
	};
	struct ws_state st_init = WS_STATE_INIT;

	memset(&c, 0, sizeof(c));
	c.st = st_init;
	argc = parse_options(argc, argv, options, alloc_usage);
	if (argc != 1)
		usage_msg_opt(argc ? "too many arguments" : "no plan given",
			      alloc_usage, options);

	if (pool == 0 || pool > PLAN_POOL_MAX || pool < -1)
		usage_msg_opt("--pool needs a number of worktrees from 1 to 1000",
			      alloc_usage, options);

	ws_repo_open(&c.repo);
	read_plan(&c, argv[0], base);
	if (pool > 0) {
		c.plan.pool = pool;
		c.plan.pool_line = 0;
	}
	plan_allocation(&c);
	open_state(&c);
	recover(&c);
	use_recorded_paths(&c);
	check_against_state(&c);
	bring_back_worktrees(&c);
	check_new(&c);
	assign_ports(&c);
	if (!c.dry_run)
		allocate_new(&c);
	failed = c.dry_run ? 0 : run_setups(&c);
	print_result(&c);
	if (failed)
		advise("the worktree%s kept as %s; 'git ws-dispatch --retry <id>' runs the setup again",
		       failed > 1 ? "s are" : " is", failed > 1 ? "they are" : "it is");
	alloc_release(&c);
	return failed ? 1 : 0;
}
