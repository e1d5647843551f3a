/*
 * git ws-alloc: read and validate a plan, decide which workstreams share a
 * worktree, create the worktrees and branches, record the state.
 */
#include "compat.h"
#include <dirent.h>
#include "allocate.h"
#include "parse-options.h"
#include "plan.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "usage.h"
#include "wrapper.h"
#include "lockfile.h"
#include "ws.h"

static const char * const alloc_usage[] = {
	"git ws-alloc [-n | --dry-run] [--porcelain] [--base <branch>] <plan>",
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
 * Delete refs/heads/<branch> when it still points at `expect` (so a branch
 * that gained commits, or that somebody else made, is never touched).
 * Returns 0 when deleted or absent, -1 when left alone.
 */
static int delete_branch_if_at(struct alloc_ctx *c, const char *branch,
			       const char *expect_hex)
{
	git_reference *ref = NULL;
	char *name = xstrfmt("refs/heads/%s", branch);
	char hex[GIT_OID_HEXSZ + 1];
	int ret = 0;

	if (git_reference_lookup(&ref, c->repo.repo, name) < 0)
		goto out; /* absent */
	if (!git_reference_target(ref) ||
	    strcmp(ws_oid_hex(git_reference_target(ref), hex), expect_hex))
		ret = error("branch '%s' has moved since git ws-alloc made it; leaving it alone",
			    branch);
	else if (git_reference_delete(ref) < 0)
		ret = error_git("cannot delete branch '%s'", branch);
out:
	git_reference_free(ref);
	free(name);
	return ret;
}

/*
 * Run `git <args>` in `dir` (NULL: here), stdin from /dev/null; 0 when it
 * succeeded.
 *
 * With OWN_GROUP, git runs in a process group of its own: `git worktree
 * add` and `git worktree remove` write git's admin files in several steps,
 * and a kill of our process group (a supervisor's `kill -9 -<pgid>`, a
 * timeout's) must not stop them half way; they finish, and the next git
 * ws-alloc finds what they made recorded as `allocating`. A keeper
 * process holds the state lock until git ends (child_process.hold_fd),
 * so that a git ws-alloc run meanwhile waits rather than repairs under
 * it. Ctrl-C does not reach them either, which is fine for these short
 * commands (not for the user's hooks: those stay in our group).
 */
#define OWN_GROUP 1 /* in a process group of its own */
#define QUIET 2     /* stderr to /dev/null */
static int run_git(struct alloc_ctx *c, const char *dir, const char **args,
		   unsigned flags)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = !!(flags & QUIET);
	cp.new_pgrp = !!(flags & OWN_GROUP);
	if (flags & OWN_GROUP)
		cp.hold_fd = c->st.lock_fd;
	cp.dir = dir;
	strvec_pushv(&cp.args, args);
	return run_command(&cp);
}

/*
 * Remove a worktree this command made, through git's own bookkeeping
 * (`git worktree remove --force --force` also takes one that a killed
 * `git worktree add` left locked "initializing"). Returns 0 when the
 * path is gone afterwards.
 */
static int remove_worktree(struct alloc_ctx *c, const char *path)
{
	run_git(c, NULL, (const char *[]){ "worktree", "remove", "--force",
					"--force", path, NULL }, OWN_GROUP | QUIET);
	if (path_exists(path))
		return -1;
	run_git(c, NULL, (const char *[]){ "worktree", "prune", NULL }, OWN_GROUP);
	return 0;
}

/* 1 when `dir` holds nothing, or nothing but a regular file named .git. */
static int holds_only_git_file(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int only = !!d;

	while (only && (e = readdir(d))) {
		struct stat st;
		char *path;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = xstrfmt("%s/%s", dir, e->d_name);
		only = !strcmp(e->d_name, ".git") && !lstat(path, &st) &&
		       S_ISREG(st.st_mode);
		free(path);
	}
	if (d)
		closedir(d);
	return only;
}

/*
 * Undo what an interrupted run left: records still marked `allocating`.
 * Their worktree path and branch did not exist when they were recorded,
 * so what is there now is ours to remove.
 *
 * A `git worktree add` killed part way leaves its admin directory locked
 * "initializing", maybe with files half written (an empty commondir makes
 * every `git worktree` command die), and a worktree directory holding at
 * most its .git file (git-ws-alloc checks out later, populate_worktrees()).
 * Those admin directories go first, so that git can remove the worktrees
 * that are whole; then a worktree git no longer knows is removed when it
 * holds nothing but that .git file.
 */
static void repair_interrupted(struct alloc_ctx *c)
{
	size_t i;
	int changed = 0;

	for (i = 0; !c->dry_run && i < c->st.state.nr; i++) {
		struct cfg_section *s = &c->st.state.sections[i];
		const char *wt = cfg_get(s, WS_KEY_WORKTREE);
		char *admin;

		if (!cfg_get(s, "allocating") || strcmp(cfg_get(s, "allocating"), "owner") ||
		    !wt || !(admin = ws_unfinished_worktree_admin(&c->repo, wt)))
			continue;
		if (remove_dir_recursively(admin) < 0)
			die_errno("cannot remove '%s', left by an interrupted git worktree add",
				  admin);
		free(admin);
	}
	for (i = 0; i < c->st.state.nr; ) {
		struct cfg_section *s = &c->st.state.sections[i];
		const char *wt, *branch, *base;
		char *id;

		if (!cfg_get(s, "allocating")) {
			i++;
			continue;
		}
		id = xstrdup(s->sub);
		wt = cfg_get(s, WS_KEY_WORKTREE);
		branch = cfg_get(s, WS_KEY_BRANCH);
		base = cfg_get(s, WS_KEY_BASE_OID);
		if (c->dry_run) {
			warning("would undo the interrupted allocation of '%s'", id);
			ws_state_remove(&c->st, id);
			free(id);
			continue;
		}
		if (!strcmp(cfg_get(s, "allocating"), "owner")) {
			if (wt && path_exists(wt) && remove_worktree(c, wt) < 0 &&
			    (!holds_only_git_file(wt) || remove_dir_recursively(wt) < 0))
				die("'%s' was left half-made by an interrupted git ws-alloc and is not a worktree git knows; remove it by hand",
				    wt);
			if (branch && base && delete_branch_if_at(c, branch, base) < 0)
				die("cannot undo the interrupted allocation of '%s'", id);
		}
		warning("undid the interrupted allocation of '%s'", id);
		ws_state_remove(&c->st, id);
		free(id);
		changed = 1;
	}
	if (changed && ws_state_write(&c->st) < 0)
		die_errno("cannot write '%s'", c->st.state_path);
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
		if (wt && strcmp(wt, wt_of(c, i))) {
			error("%s:%d: workstream '%s' is allocated in worktree '%s'; the plan now puts it in '%s'",
			      c->plan.file, w->lineno, w->id, wt, wt_of(c, i));
			advise("keep its worktree as it was, or clean it first");
			exit(WS_EXIT_FATAL);
		}
	}
	plan_release(&old);
	strbuf_release(&err);
	free(prefix);
	free(path);
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
		if (path_exists(c->worktree[i]))
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

/* Record the new workstreams, marked `allocating` until their worktree exists. */
static void record_new(struct alloc_ctx *c)
{
	size_t i;
	char now[32];

	iso8601_now(now);
	for (i = 0; i < c->plan.nr; i++) {
		const char *id = c->plan.ws[i].id;

		if (c->action[i] == KEEP)
			continue;
		ws_state_set(&c->st, id, "allocating",
			     c->action[i] == CREATE ? "owner" : "share");
		ws_state_set(&c->st, id, WS_KEY_WORKTREE, wt_of(c, i));
		ws_state_set(&c->st, id, WS_KEY_BRANCH, branch_of(c, i));
		ws_state_set(&c->st, id, WS_KEY_BASE_OID, c->base_hex);
		ws_state_set(&c->st, id, WS_KEY_ITERATIONS, "0");
		ws_state_set(&c->st, id, WS_KEY_ATTEMPTS, "0");
		ws_state_set(&c->st, id, WS_KEY_CREATED, now);
	}
	ws_state_write_or_die(&c->st);
}

/*
 * Populate new worktrees (index and files), several at once: run
 * `git reset --hard` in up to ncpu of them at a time. Returns 0, or -1
 * when any failed.
 */
static int populate_worktrees(struct alloc_ctx *c, const char *created)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t jobs = ncpu > 1 ? (size_t)ncpu : 2, running = 0, next = 0, i;
	struct child_process *cps = xcalloc(c->plan.nr + 1, sizeof(*cps));
	int ret = 0;

	for (;;) {
		int status;
		pid_t pid;

		while (running < jobs && next < c->plan.nr) {
			struct child_process *cp = &cps[next];

			if (!created[next]) {
				next++;
				continue;
			}
			*cp = (struct child_process)CHILD_PROCESS_INIT;
			cp->git_cmd = 1;
			cp->no_stdin = 1;
			cp->dir = c->worktree[next];
			strvec_pushv(&cp->args, (const char *[]){
				"reset", "--quiet", "--hard", NULL });
			if (start_command(cp) < 0)
				ret = -1;
			else
				running++;
			next++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			die_errno("waitpid");
		}
		for (i = 0; i < c->plan.nr; i++) {
			if (!created[i] || cps[i].pid != pid)
				continue;
			cps[i].pid = 0;
			running--;
			child_process_clear(&cps[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				ret = error("cannot check out the worktree of '%s' at '%s'",
					    c->plan.ws[i].id, c->worktree[i]);
		}
	}
	free(cps);
	return ret;
}

/*
 * Create the new worktrees. This runs git's own `git worktree add`
 * rather than libgit2's git_worktree_add(): git's checkout is 1.3-3x
 * faster (bench/alloc.sh), and git's add cleans up after itself on
 * failure, where libgit2 1.5 leaves its admin directory and the target
 * directory behind.
 *
 * The worktrees and branches are made one at a time without a checkout
 * (a `git worktree add` reads every other worktree's admin files, so two
 * at once can see each other half-made), then populated in parallel,
 * which is where the time goes, then the post-checkout hook runs in each
 * as after `git worktree add`. Returns 0, or -1 when any failed;
 * created[i] says which worktrees exist.
 */
static int create_worktrees(struct alloc_ctx *c, char *created)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		if (c->action[i] != CREATE)
			continue;
		if (run_git(c, NULL, (const char *[]){ "worktree", "add", "--quiet",
				"--no-checkout", "--no-track", "-b",
				c->plan.ws[i].branch, c->worktree[i],
				c->base_hex, NULL }, OWN_GROUP)) {
			return error("cannot create the worktree of '%s' at '%s'",
				     c->plan.ws[i].id, c->worktree[i]);
		}
		created[i] = 1;
	}
	if (populate_worktrees(c, created) < 0)
		return -1;
	/* what `git worktree add` does after its checkout */
	for (i = 0; i < c->plan.nr; i++)
		if (created[i] &&
		    run_git(c, c->worktree[i], (const char *[]){ "hook", "run",
				"--ignore-missing", "post-checkout", "--",
				"0000000000000000000000000000000000000000",
				c->base_hex, "1", NULL }, 0))
			warning("the post-checkout hook failed in '%s'", c->worktree[i]);
	return 0;
}

/* Remove what this run made and its records; the state is as before. */
static void roll_back(struct alloc_ctx *c, const char *created)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		if (c->action[i] == KEEP)
			continue;
		if (c->action[i] == CREATE) {
			if (created[i] && remove_worktree(c, c->worktree[i]) < 0)
				error("cannot remove '%s'", c->worktree[i]);
			delete_branch_if_at(c, c->plan.ws[i].branch, c->base_hex);
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
		if (!new_ws)
			printf("Plan '%s' is already allocated; nothing to do.\n",
			       c->plan.name);
		else
			printf("%s plan '%s' on '%s' (%.7s): %zu new worktree%s for %zu workstream%s\n",
			       c->dry_run ? "Would allocate" : "Allocated",
			       c->plan.name, c->base, c->base_hex, new_wt,
			       new_wt == 1 ? "" : "s", new_ws, new_ws == 1 ? "" : "s");
	}
	for (i = 0; i < c->plan.nr; i++) {
		size_t k = c->plan.order[i];
		const struct plan_workstream *w = &c->plan.ws[k];
		enum ws_status status = ws_state_status(&c->st, w->id);
		const char *reason = ws_state_get(&c->st, w->id, WS_KEY_REASON);
		size_t o = c->alloc.owner[k];
		static const char *const names[] = { "keep", "create", "share" };
		static const char *const why[] = { "", "worktree", "overlap" };

		if (status == WS_STATUS_NONE)
			status = w->dep_nr ? WS_STATUS_BLOCKED : WS_STATUS_READY;
		if (c->porcelain) {
			printf("workstream\t%s\t%s\t%s\t%s\t%s\t%s\n", w->id,
			       names[c->action[k]], ws_status_name(status), branch_of(c, k),
			       wt_of(c, k), c->plan.ws[o].id);
			if (o != k)
				printf("share\t%s\t%s\t%s\n", w->id, c->plan.ws[o].id,
				       why[c->alloc.why[k]]);
			continue;
		}
		printf("  %-12s %-11s %s  %s", w->id, ws_status_name(status),
		       branch_of(c, k), wt_of(c, k));
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

int cmd_main(int argc, const char **argv)
{
	struct alloc_ctx c;
	const char *base = NULL;
	struct option options[] = {
		OPT__DRY_RUN(&c.dry_run),
		OPT__PORCELAIN(&c.porcelain),
		OPT_STRING(0, "base", &base, "branch",
			   "branch to start from and merge into (default: the plan's, else the current branch)"),
		OPT_END()
	};
	struct strbuf err = STRBUF_INIT;
	char *prefix, *created;
	size_t i;

	memset(&c, 0, sizeof(c));
	argc = parse_options(argc, argv, options, alloc_usage);
	if (argc != 1)
		usage_msg_opt(argc ? "too many arguments" : "no plan given",
			      alloc_usage, options);

	ws_repo_open(&c.repo);
	prefix = ws_branch_prefix(&c.repo);
	if (plan_read(&c.plan, argv[0], prefix, &err) < 0)
		die("%s", err.buf);
	free(prefix);

	if (base)
		c.base = xstrdup(base);
	else if (c.plan.base)
		c.base = xstrdup(c.plan.base);
	else if (!(c.base = ws_current_branch(&c.repo)))
		die("HEAD is not on a branch; say which base to use with --base or [plan] base");
	if (ws_branch_tip(&c.repo, c.base, &c.base_oid) < 0)
		die("base branch '%s' does not exist", c.base);
	ws_oid_hex(&c.base_oid, c.base_hex);
	free(c.plan.base);
	c.plan.base = xstrdup(c.base);

	ws_allocate(&c.plan, &c.alloc);
	c.action = xcalloc(c.plan.nr + 1, sizeof(*c.action));
	c.worktree = xcalloc(c.plan.nr + 1, sizeof(*c.worktree));
	for (i = 0; i < c.plan.nr; i++) {
		c.worktree[i] = ws_worktree_path(&c.repo, c.plan.ws[i].id);
		c.action[i] = c.alloc.owner[i] == i ? CREATE : SHARE;
	}

	if (c.dry_run) {
		/* read only: no lock, no directories, nothing repaired */
		if (ws_state_read(&c.st, c.repo.ws_dir, &err) < 0)
			die("%s", err.buf);
	} else {
		ws_repo_ensure_dirs(&c.repo);
		ws_state_lock_repo(&c.st, &c.repo);
	}
	repair_interrupted(&c);
	check_against_state(&c);
	check_new(&c);

	if (c.dry_run) {
		print_result(&c);
		ws_state_release(&c.st);
		goto out;
	}

	record_new(&c);
	created = xcalloc(c.plan.nr + 1, 1);
	if (create_worktrees(&c, created) < 0) {
		roll_back(&c, created);
		die("nothing was allocated");
	}
	free(created);
	for (i = 0; i < c.plan.nr; i++)
		ws_state_set(&c.st, c.plan.ws[i].id, "allocating", NULL);
	ws_update_blocked(&c.plan, &c.st);
	write_plan_file(&c);
	ws_state_commit_or_die(&c.st);
	print_result(&c);
	ws_state_release(&c.st);
out:
	for (i = 0; i < c.plan.nr; i++)
		free(c.worktree[i]);
	free(c.worktree);
	free(c.action);
	free(c.base);
	ws_allocation_release(&c.alloc);
	plan_release(&c.plan);
	ws_repo_close(&c.repo);
	strbuf_release(&err);
	return 0;
}
