#include "compat.h"
#include "pool.h"
#include "recover.h"
#include "run.h"
#include "setup.h"
#include "submodule.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

void ws_slot_name(int n, char *out)
{
	snprintf(out, 32, "slot-%d", n);
}

/* The slot named `name`, or -1. */
static ssize_t slot_index(const struct ws_pool *p, const char *name)
{
	size_t k;

	for (k = 0; name && k < p->nr; k++)
		if (!strcmp(p->slots[k].name, name))
			return (ssize_t)k;
	return -1;
}

void ws_pool_release(struct ws_pool *p)
{
	size_t k;

	for (k = 0; k < p->nr; k++)
		free(p->slots[k].path);
	FREE_AND_NULL(p->slots);
	p->nr = 0;
}

void ws_pool_read(struct ws_pool *p)
{
	size_t i, k;

	ws_pool_release(p);
	p->nr = p->plan->pool > 0 ? (size_t)p->plan->pool : 0;
	p->slots = xcalloc(p->nr + 1, sizeof(*p->slots));
	for (k = 0; k < p->nr; k++) {
		ws_slot_name((int)k + 1, p->slots[k].name);
		p->slots[k].path = ws_worktree_path(p->repo, p->slots[k].name);
		p->slots[k].state = WS_SLOT_ABSENT;
		p->slots[k].dirty = -2;
	}
	for (i = 0; i < p->plan->nr; i++) {
		const char *id = p->plan->ws[p->plan->order[i]].id;
		ssize_t s = slot_index(p, ws_state_get(p->st, id, WS_KEY_SLOT));
		enum ws_status status = ws_state_status(p->st, id);
		struct ws_slot *slot;

		if (s < 0 || status == WS_STATUS_NONE)
			continue;
		slot = &p->slots[s];
		if (slot->state == WS_SLOT_BUSY)
			continue;
		slot->holder = id;
		if (!ws_status_is_finished(status))
			slot->state = WS_SLOT_BUSY;
	}
	for (k = 0; k < p->nr; k++)
		if (p->slots[k].state != WS_SLOT_BUSY)
			p->slots[k].state = path_exists(p->slots[k].path) ?
					    WS_SLOT_FREE : WS_SLOT_ABSENT;
}

int ws_pool_waits(const struct plan *plan, const struct ws_state *st,
		  const char *id)
{
	return plan->pool > 0 &&
	       ws_state_status(st, id) == WS_STATUS_READY &&
	       !ws_state_get(st, id, WS_KEY_WORKTREE);
}

void ws_pool_full_reason(const struct ws_pool *p, struct strbuf *out)
{
	size_t k;
	int first = 1;

	strbuf_addf(out, "%s (pool of %zu full", WS_POOL_WAITING, p->nr);
	for (k = 0; k < p->nr; k++) {
		const struct ws_slot *s = &p->slots[k];

		strbuf_addstr(out, first ? ": " : ", ");
		first = 0;
		if (s->state == WS_SLOT_BUSY &&
		    ws_state_status(p->st, s->holder) == WS_STATUS_FAILED)
			strbuf_addf(out, "%s failed and holds %s", s->holder, s->name);
		else if (s->state == WS_SLOT_BUSY)
			strbuf_addf(out, "%s holds %s", s->holder, s->name);
		else if (s->state == WS_SLOT_FREE && s->dirty > 0)
			strbuf_addf(out, "%s has uncommitted or untracked files", s->name);
		else if (s->state == WS_SLOT_FREE)
			strbuf_addf(out, "%s is not a worktree that can be read", s->name);
		else
			strbuf_addf(out, "%s is free", s->name);
	}
	strbuf_addch(out, ')');
}

/* Run `git <args>` in the worktree `dir` to its end; 0, or -1. */
static int git_in(const char *dir, int hold_fd, const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, args);
	return ws_run_to_the_end(&cp, hold_fd) ? -1 : 0;
}

/*
 * 0 when neither the workstream (its `sparse` cone), nor the main
 * worktree, nor the slot at `path` has sparse-checkout patterns (git
 * keeps them in info/sparse-checkout of each worktree's git directory,
 * and leaves the file when it is disabled), so that switching the slot
 * need not ask `git sparse-checkout` (two processes); else 1.
 */
static int may_be_sparse(const struct ws_pool *p,
			 const struct plan_workstream *w, const char *path)
{
	struct ws_worktree **list;
	struct ws_worktree *wt;
	char *file;
	int ret;

	if (w->sparse.nr)
		return 1;
	file = xstrfmt("%s/info/sparse-checkout", p->repo->commondir);
	ret = path_exists(file);
	free(file);
	if (ret)
		return 1;
	list = ws_worktrees_get(p->repo);
	wt = ws_worktree_find_path(list, path);
	if (wt) {
		file = xstrfmt("%s/info/sparse-checkout", wt->admin_dir);
		ret = path_exists(file);
		free(file);
	} else {
		ret = 1;
	}
	ws_worktrees_free(list);
	return ret;
}

/*
 * Make the slot at `path` a worktree of plan->ws[idx]'s `branch` (at
 * `to_hex`) with everything a new worktree gets but its setup. A slot
 * that does not exist is made as git ws-alloc makes a worktree (`git
 * worktree add --no-checkout`, the sparse cone and LFS choice, `git reset
 * --hard`). One that exists is switched with `git checkout`: git's
 * two-way merge from the index compares the stat data it keeps for every
 * file, so it writes only the files that differ between the two commits
 * and refuses to overwrite a changed one; libgit2's git_checkout_tree()
 * with the old tree as baseline would write as little, but it knows
 * neither the sparse checkout's skip-worktree entries nor the LFS filter
 * nor the hooks that git applies in a worktree. `force` (a repair)
 * passes --force: every changed file there was checked to hold the
 * branch's content or to be missing. Returns 0, or -1 after an error.
 */
static int make_slot(const struct ws_pool *p, size_t idx, const char *path,
		     const char *branch, const char *to_hex, int force)
{
	const struct plan_workstream *w = &p->plan->ws[idx];

	if (!path_exists(path)) {
		struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;
		struct ws_worktree **list = ws_worktrees_get(p->repo);
		int registered = !!ws_worktree_find_path(list, path);

		ws_worktrees_free(list);
		/* what `rm -rf` of a slot left in git's worktrees/ */
		if (registered && ws_worktree_prune(p->repo, p->hold_fd))
			return error("cannot prune the stale worktree '%s'", path);
		add.path = path;
		add.branch = branch;
		add.no_checkout = 1;
		add.hold_fd = p->hold_fd;
		if (ws_worktree_add(p->repo, &add))
			return error("cannot make worktree slot '%s' on branch '%s'",
				     path, branch);
		if ((w->sparse.nr && ws_worktree_sparse_set(path, &w->sparse) < 0) ||
		    (w->lfs_skip && ws_worktree_lfs_skip(path) < 0))
			return -1;
		if (git_in(path, p->hold_fd, (const char *[]){ "reset",
			   "--quiet", "--hard", NULL }) < 0)
			return error("cannot check out the worktree slot '%s'", path);
	} else {
		/* the LFS choice is the workstream's, not the slot's last one */
		int unskipped = w->lfs_skip ? 0 : ws_worktree_lfs_unskip(path);

		if (unskipped < 0 || (w->lfs_skip && ws_worktree_lfs_skip(path) < 0))
			return -1;
		if (git_in(path, p->hold_fd, force ?
			   (const char *[]){ "checkout", "--quiet", "--force",
					     branch, "--", NULL } :
			   (const char *[]){ "checkout", "--quiet", branch, "--",
					     NULL }) < 0)
			return error("cannot switch the worktree slot '%s' to branch '%s'",
				     path, branch);
		if (may_be_sparse(p, w, path) &&
		    ws_worktree_sparse_like(p->repo, path, &w->sparse) < 0)
			return -1;
		/* what the checkout did not write is still a pointer */
		if (unskipped && ws_worktree_lfs_fill(path) < 0)
			return -1;
	}
	if (ws_submodules_update(p->repo, path) < 0)
		return -1;
	if (p->include && ws_include_copy(p->include, path, NULL) < 0)
		return error("cannot copy the included files into '%s'", path);
	ws_worktree_post_checkout(path, to_hex);
	return 0;
}

/*
 * The state once plan->ws[idx] holds slot s: the finished workstreams
 * that held it before let go of it (their worktree is now this one's),
 * and this one records it.
 */
static void hand_over(struct ws_pool *p, size_t idx, struct ws_slot *s)
{
	const char *id = p->plan->ws[idx].id;
	size_t pos = 0;
	const char *other;
	const char *branch = ws_state_get(p->st, id, WS_KEY_BRANCH);
	char *mine = xstrdup_or_null(branch);

	while ((other = ws_state_next(p->st, &pos))) {
		const char *slot = ws_state_get(p->st, other, WS_KEY_SLOT);
		const char *b = ws_state_get(p->st, other, WS_KEY_BRANCH);

		if (!strcmp(other, id) || !slot || strcmp(slot, s->name) ||
		    (mine && b && !strcmp(b, mine)))
			continue;
		ws_state_set(p->st, other, WS_KEY_SLOT, NULL);
		ws_state_set(p->st, other, WS_KEY_WORKTREE, NULL);
	}
	ws_state_set(p->st, id, WS_KEY_SLOT, s->name);
	ws_state_set(p->st, id, WS_KEY_WORKTREE, s->path);
	free(mine);
}

/* Drop the reason that said plan->ws[idx] waited for a slot. */
static void stop_waiting(struct ws_pool *p, const char *id)
{
	const char *r = ws_state_get(p->st, id, WS_KEY_REASON);

	if (r && !strncmp(r, WS_POOL_WAITING, strlen(WS_POOL_WAITING)))
		ws_state_set(p->st, id, WS_KEY_REASON, NULL);
}

/* Run the `setup` of plan->ws[idx] in its new slot, and record how it went. */
static void run_setup(struct ws_pool *p, size_t idx, struct ws_slot *s)
{
	const char *id = p->plan->ws[idx].id;
	struct ws_setup_job job = { 0 };
	char *log;

	if (!p->plan->ws[idx].setup)
		return;
	ws_state_set(p->st, id, WS_KEY_SETUP, WS_SETUP_PENDING);
	ws_state_write_or_die(p->st);
	job.idx = idx;
	job.branch = ws_state_get(p->st, id, WS_KEY_BRANCH);
	job.worktree = s->path;
	fprintf(stderr, "%s: running its setup\n", id);
	if (!ws_setup_run_one(p->repo, p->plan, &job)) {
		ws_state_set(p->st, id, WS_KEY_SETUP, NULL);
	} else {
		char *reason;

		log = ws_setup_log(p->repo, id);
		reason = xstrfmt("setup failed: %s; see %s", job.result, log);
		error("the setup of '%s' failed (%s); see %s", id, job.result, log);
		ws_state_set(p->st, id, WS_KEY_SETUP, WS_SETUP_FAILED);
		ws_state_set_status(p->st, id, WS_STATUS_FAILED, reason);
		free(reason);
		free(log);
	}
	free(job.result);
}

/*
 * plan->ws[idx] takes slot s: shares it with a workstream of its branch
 * (`share`), or has it made or switched to its branch under a
 * WS_INTENT_SLOT record. Returns 0, or -1 after an error (the workstream
 * is then failed, the record kept for the next run to finish).
 */
static int take(struct ws_pool *p, size_t idx, struct ws_slot *s, int share)
{
	const char *id = p->plan->ws[idx].id;
	const char *b = ws_state_get(p->st, id, WS_KEY_BRANCH);
	char *branch = xstrdup_or_null(b);
	struct ws_intent in = WS_INTENT_INIT;
	char to[GIT_OID_HEXSZ + 1], from[GIT_OID_HEXSZ + 1];
	git_oid oid;
	int ret = 0;

	if (share) {
		fprintf(stderr, "%s: %s worktree slot '%s' with %s\n", id,
			p->dry_run ? "would share" : "shares", s->name, s->holder);
		hand_over(p, idx, s);
		stop_waiting(p, id);
		goto out;
	}
	if (p->dry_run) {
		/* in memory only, for the caller to say what would run where */
		if (s->state == WS_SLOT_FREE && s->holder)
			fprintf(stderr, "%s: would take worktree slot '%s' (was %s's)\n",
				id, s->name, s->holder);
		else
			fprintf(stderr, "%s: would take worktree slot '%s'%s\n", id,
				s->name, s->state == WS_SLOT_ABSENT ? ", made for it" : "");
		hand_over(p, idx, s);
		stop_waiting(p, id);
		goto out;
	}
	if (!branch || ws_branch_tip(p->repo, branch, &oid) < 0) {
		ret = error("workstream '%s' has no branch to check out in a worktree slot",
			    id);
		goto failed;
	}
	ws_oid_hex(&oid, to);
	in.kind = WS_INTENT_SLOT;
	in.id = id;
	in.role = s->name;
	in.to = to;
	if (s->state == WS_SLOT_FREE && !ws_worktree_head_at(s->path, &oid))
		in.from = ws_oid_hex(&oid, from);
	ws_intent_record(p->st, &in);
	ws_state_write_or_die(p->st);
	if (s->state == WS_SLOT_FREE && s->holder)
		fprintf(stderr, "%s: takes worktree slot '%s' (was %s's)\n", id,
			s->name, s->holder);
	else
		fprintf(stderr, "%s: takes worktree slot '%s'\n", id, s->name);
	if (make_slot(p, idx, s->path, branch, to, 0) < 0) {
		ret = -1;
		goto failed;
	}
	hand_over(p, idx, s);
	stop_waiting(p, id);
	ws_intent_clear(p->st, id, WS_INTENT_SLOT);
	ws_state_write_or_die(p->st);
	run_setup(p, idx, s);
	goto out;
failed:
	{
		char *reason = xstrfmt("cannot take worktree slot '%s'; see 'git ws-dispatch' output",
				       s->name);

		ws_state_set_status(p->st, id, WS_STATUS_FAILED, reason);
		free(reason);
	}
out:
	s->state = WS_SLOT_BUSY;
	s->holder = id;
	if (!p->dry_run)
		ws_state_write_or_die(p->st);
	free(branch);
	return ret;
}

/*
 * The slot that a workstream on the branch of plan->ws[idx] holds (or
 * held last) and that exists, or -1.
 */
static ssize_t mate_slot(struct ws_pool *p, size_t idx)
{
	const char *branch = ws_state_get(p->st, p->plan->ws[idx].id, WS_KEY_BRANCH);
	size_t pos = 0;
	const char *other;

	while (branch && (other = ws_state_next(p->st, &pos))) {
		const char *b = ws_state_get(p->st, other, WS_KEY_BRANCH);
		ssize_t k = slot_index(p, ws_state_get(p->st, other, WS_KEY_SLOT));

		if (k >= 0 && b && !strcmp(b, branch) &&
		    p->slots[k].state != WS_SLOT_ABSENT && p->slots[k].holder &&
		    !strcmp(p->slots[k].holder, other))
			return k;
	}
	return -1;
}

/* A free slot that may be reused (clean), else one not made yet, or -1. */
static ssize_t free_slot(struct ws_pool *p)
{
	struct ws_worktree **list = NULL;
	size_t k;
	ssize_t ret = -1;

	for (k = 0; ret < 0 && k < p->nr; k++) {
		struct ws_slot *s = &p->slots[k];

		if (s->state != WS_SLOT_FREE)
			continue;
		if (s->dirty == -2) {
			if (!list)
				list = ws_worktrees_get(p->repo);
			/* only a worktree of this repository is a slot */
			s->dirty = ws_worktree_find_path(list, s->path) ?
				   ws_worktree_is_dirty(s->path) : -1;
		}
		if (!s->dirty)
			ret = (ssize_t)k;
	}
	for (k = 0; ret < 0 && k < p->nr; k++)
		if (p->slots[k].state == WS_SLOT_ABSENT)
			ret = (ssize_t)k;
	ws_worktrees_free(list);
	return ret;
}

int ws_pool_assign(struct ws_pool *p, const struct strvec *ids)
{
	struct strbuf reason = STRBUF_INIT;
	size_t i;
	int pass, got = 0, ret = 0;

	if (p->plan->pool <= 0)
		return 0;
	ws_pool_read(p);
	/* first those whose branch has a slot already, then the others */
	for (pass = 0; !ret && pass < 2; pass++) {
		for (i = 0; !ret && i < p->plan->nr; i++) {
			size_t idx = p->plan->order[i];
			const char *id = p->plan->ws[idx].id;
			ssize_t k;

			if ((ids && strvec_find(ids, id) < 0) ||
			    !ws_pool_waits(p->plan, p->st, id))
				continue;
			k = mate_slot(p, idx);
			if (k >= 0) {
				ret = take(p, idx, &p->slots[k], 1);
				got++;
				continue;
			}
			if (!pass)
				continue;
			k = free_slot(p);
			if (k >= 0) {
				ret = take(p, idx, &p->slots[k], 0);
				got++;
				continue;
			}
			strbuf_reset(&reason);
			ws_pool_full_reason(p, &reason);
			if (!ws_state_get(p->st, id, WS_KEY_REASON) ||
			    strcmp(ws_state_get(p->st, id, WS_KEY_REASON), reason.buf))
				ws_state_set(p->st, id, WS_KEY_REASON, reason.buf);
		}
	}
	strbuf_release(&reason);
	return ret < 0 ? -1 : got;
}

/* --- the repair -------------------------------------------------------- */

/*
 * 1 when every changed or untracked file of the worktree at `path` is
 * missing or holds what commit `to_hex` holds at that path; 0 with the
 * first other one in *bad (caller frees); -1 when it cannot be read.
 */
static int only_target_changes(const char *path, const char *to_hex, char **bad)
{
	git_repository *wt = NULL;
	git_status_list *list = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	git_oid oid;
	size_t i, n;
	int ret = -1;

	*bad = NULL;
	if (git_repository_open_ext(&wt, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    git_oid_fromstr(&oid, to_hex) < 0 ||
	    git_commit_lookup(&commit, wt, &oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0)
		goto cleanup;
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		     GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		     GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, wt, &opts) < 0)
		goto cleanup;
	n = git_status_list_entrycount(list);
	ret = 1;
	for (i = 0; ret == 1 && i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir :
					  e->head_to_index;
		const char *rel = d->new_file.path ? d->new_file.path : d->old_file.path;
		char *full = xstrfmt("%s/%s", path, rel);
		git_tree_entry *te = NULL;
		git_oid have;
		struct stat st;

		if (lstat(full, &st) < 0) {
			free(full);
			continue; /* missing: nothing of anybody's is there */
		}
		if (!S_ISREG(st.st_mode) ||
		    git_tree_entry_bypath(&te, tree, rel) < 0 ||
		    git_repository_hashfile(&have, wt, full, GIT_OBJECT_BLOB, rel) < 0 ||
		    !git_oid_equal(&have, git_tree_entry_id(te))) {
			*bad = xstrdup(rel);
			ret = 0;
		}
		git_tree_entry_free(te);
		free(full);
	}
cleanup:
	git_status_list_free(list);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(wt);
	return ret;
}

int ws_pool_recover(struct ws_recover *rc, const struct ws_intent *in)
{
	struct ws_pool p = WS_POOL_INIT;
	struct ws_include inc = WS_INCLUDE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *path = NULL, *bad = NULL, *admin = NULL;
	ssize_t idx = rc->plan && in->id ? plan_find(rc->plan, in->id) : -1;
	int ok, ret = 1;

	if (!in->role || !in->to || !in->branch || idx < 0) {
		warning("dropping the record of an interrupted taking of a worktree slot by '%s': it names no slot, commit, branch or workstream of the plan",
			in->id);
		return 1;
	}
	path = ws_worktree_path(rc->repo, in->role);
	p.repo = rc->repo;
	p.plan = rc->plan;
	p.st = rc->st;
	p.hold_fd = rc->hold_fd;
	ws_pool_read(&p);
	{
		ssize_t k = slot_index(&p, in->role);
		enum ws_status status = ws_state_status(rc->st, in->id);
		const char *holder = k >= 0 ? p.slots[k].holder : NULL;

		/* nothing to finish: the switch is no longer wanted */
		if (k < 0 || ws_status_is_finished(status) ||
		    ws_state_get(rc->st, in->id, WS_KEY_WORKTREE) ||
		    (p.slots[k].state == WS_SLOT_BUSY && holder &&
		     strcmp(holder, in->id))) {
			warning("dropping the record of an interrupted taking of worktree slot '%s' by '%s': %s",
				in->role, in->id,
				k < 0 ? "the pool has no such slot" :
				ws_status_is_finished(status) ? "it is finished" :
				ws_state_get(rc->st, in->id, WS_KEY_WORKTREE) ?
				"it has a worktree" : "another workstream holds the slot");
			goto out;
		}
	}
	if (rc->dry_run) {
		warning("would finish switching worktree slot '%s' to '%s'",
			in->role, in->id);
		goto out;
	}
	if (ws_worktree_drop_unfinished(rc->repo, path, &admin) < 0) {
		ret = error_errno("cannot remove '%s', left by an interrupted git worktree add",
				  admin);
		goto out;
	}
	if (!path_exists(path) || ws_worktree_holds_only_git_file(path)) {
		if (path_exists(path) && remove_dir_recursively(path) < 0) {
			ret = error_errno("cannot remove '%s'", path);
			goto out;
		}
		warning("'%s' was interrupted before its worktree slot '%s' was made: it waits for a slot again",
			in->id, in->role);
		goto out;
	}
	ok = only_target_changes(path, in->to, &bad);
	if (ok <= 0) {
		if (ok < 0)
			warning("cannot read worktree slot '%s' that '%s' was taking; left alone",
				path, in->id);
		else
			warning("worktree slot '%s' that '%s' was taking has changes of its own ('%s'); left alone",
				path, in->id, bad);
		advise("commit or remove them, then run the command again");
		ret = 0;
		goto out;
	}
	if (ws_include_read(&inc, rc->repo, &rc->plan->include, &err) < 0)
		warning("%s", err.buf);
	else
		p.include = &inc;
	if (make_slot(&p, idx, path, in->branch, in->to, 1) < 0) {
		/* kept: a slot left half switched is dirty, so never reused */
		warning("cannot finish switching worktree slot '%s' to '%s'; the record is kept",
			path, in->id);
		ret = 0;
		goto out;
	}
	{
		ssize_t k = slot_index(&p, in->role);

		if (k >= 0) {
			hand_over(&p, idx, &p.slots[k]);
		} else {
			ws_state_set(rc->st, in->id, WS_KEY_SLOT, in->role);
			ws_state_set(rc->st, in->id, WS_KEY_WORKTREE, path);
		}
	}
	stop_waiting(&p, in->id);
	if (rc->plan->ws[idx].setup)
		ws_state_set(rc->st, in->id, WS_KEY_SETUP, WS_SETUP_PENDING);
	warning("finished switching worktree slot '%s' to '%s', which was interrupted",
		in->role, in->id);
out:
	ws_pool_release(&p);
	ws_include_release(&inc);
	strbuf_release(&err);
	free(admin);
	free(bad);
	free(path);
	return ret;
}
