#include "compat.h"
#include "lost-worktree.h"
#include "submodule.h"
#include "recover.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"

/* Whether the worktree of `id` may be brought back at all. */
static int may_bring_back(const struct ws_state *st, const char *id)
{
	enum ws_status s = ws_state_status(st, id);

	return s != WS_STATUS_NONE && s != WS_STATUS_MERGED &&
	       s != WS_STATUS_CLEANED && s != WS_STATUS_IN_PROGRESS &&
	       !ws_intent_exists(st, id, WS_INTENT_ALLOCATE) &&
	       !ws_intent_exists(st, id, WS_INTENT_REMOVE) &&
	       ws_state_get(st, id, WS_KEY_BRANCH);
}

/* The path recorded for `id` when it is lost and may come back, else NULL. */
static const char *lost_path(const struct ws_lost_worktrees *lw,
			     const char *id)
{
	const char *wt = ws_state_get(lw->st, id, WS_KEY_WORKTREE);
	struct stat sb;

	if (!wt || !may_bring_back(lw->st, id) || !lstat(wt, &sb))
		return NULL;
	if (lw->ids && strvec_find(lw->ids, id) < 0)
		return NULL;
	return wt;
}

/* Every workstream that may come back whose worktree is `path`. */
static void sharers(const struct ws_state *st, const char *path,
		    struct strvec *out)
{
	size_t pos = 0;
	const char *id, *wt;

	while ((id = ws_state_next(st, &pos)))
		if ((wt = ws_state_get(st, id, WS_KEY_WORKTREE)) &&
		    !strcmp(wt, path) && may_bring_back(st, id))
			strvec_push(out, id);
}

/*
 * Where git has `branch` checked out in an existing directory. *moved is
 * set when that is a linked worktree whose .git file names its admin
 * directory, as `git worktree repair` leaves a worktree moved by hand.
 * Returns a new string, or NULL when the branch is checked out nowhere.
 */
static char *checked_out_at(struct ws_worktree **list, const char *branch,
			    int *moved)
{
	struct ws_worktree *wt;
	size_t pos = 0;

	*moved = 0;
	while ((wt = ws_worktree_find_branch(list, branch, &pos))) {
		if (!wt->path || !path_exists(wt->path))
			continue;
		*moved = !wt->is_main &&
			 ws_worktree_find_by_dotgit(list, wt->path) == wt;
		return xstrdup(wt->path);
	}
	return NULL;
}

static void add_records(struct ws_lost_worktrees *lw, const char *what,
			const struct strvec *ids, const char *path)
{
	size_t i;

	for (i = 0; i < ids->nr; i++)
		strvec_pushf(&lw->records, "%s\t%s\t%s", what, ids->v[i], path);
}

static void join_ids(struct strbuf *sb, const struct strvec *ids)
{
	size_t i;

	for (i = 0; i < ids->nr; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", ids->v[i]);
}

/*
 * Record the new path of a worktree moved by hand from `from`, for all
 * that share it.
 */
static void follow_move(struct ws_lost_worktrees *lw, const struct strvec *ids,
			const char *from, const char *to)
{
	struct strbuf who = STRBUF_INIT;
	size_t i;

	join_ids(&who, ids);
	fprintf(stderr, "%s: the worktree moved to '%s'%s\n", who.buf, to,
		lw->dry_run ? " (not recorded: dry run)" : "");
	for (i = 0; i < ids->nr; i++) {
		if (!ws_state_get(lw->st, ids->v[i], WS_KEY_MOVED_FROM))
			ws_state_set(lw->st, ids->v[i], WS_KEY_MOVED_FROM, from);
		ws_state_set(lw->st, ids->v[i], WS_KEY_WORKTREE, to);
	}
	lw->changed += ids->nr;
	add_records(lw, "moved", ids, to);
	strbuf_release(&who);
}

/* Make the worktree at `path` again from `branch`; 0, or -1 after an error. */
static int make_again(struct ws_lost_worktrees *lw, const struct strvec *ids,
		      const char *path, const char *branch)
{
	struct strbuf who = STRBUF_INIT;
	git_oid tip;
	int ret = 0;

	join_ids(&who, ids);
	if (ws_branch_tip(lw->repo, branch, &tip) < 0) {
		warning("%s: cannot make the worktree '%s' again: branch '%s' is gone",
			who.buf, path, branch);
	} else if (!lw->dry_run &&
		   ws_worktree_recreate(lw->repo, path, branch, lw->hold_fd) < 0) {
		ret = error("%s: the worktree '%s' is gone and could not be made again",
			    who.buf, path);
	} else {
		if (!lw->dry_run && ws_submodules_update(lw->repo, path) < 0)
			warning("%s: the worktree '%s' lacks some of its submodules",
				who.buf, path);
		if (!lw->dry_run && lw->include &&
		    ws_include_copy(lw->include, path, NULL) < 0)
			warning("%s: the worktree '%s' lacks some of its included files",
				who.buf, path);
		fprintf(stderr, "%s: %s the worktree '%s' again from branch '%s'\n",
			who.buf, lw->dry_run ? "would make" : "made", path, branch);
		add_records(lw, "recreate", ids, path);
	}
	strbuf_release(&who);
	return ret;
}

/* Bring back the lost worktree `path`, which `id` uses. */
static int bring_back(struct ws_lost_worktrees *lw, struct ws_worktree **list,
		      const char *id, const char *path)
{
	char *branch = xstrdup(ws_state_get(lw->st, id, WS_KEY_BRANCH));
	char *from = xstrdup(path); /* borrowed from the state we change */
	struct strvec ids = STRVEC_INIT;
	char *at;
	int moved, ret = 0;

	sharers(lw->st, from, &ids);
	at = checked_out_at(list, branch, &moved);
	if (at && moved)
		follow_move(lw, &ids, from, at);
	else if (at)
		warning("%s: cannot make the worktree '%s' again: branch '%s' is checked out in '%s'",
			id, from, branch, at);
	else
		ret = make_again(lw, &ids, from, branch);
	free(at);
	free(from);
	free(branch);
	strvec_clear(&ids);
	return ret;
}

int ws_bring_back_worktrees(struct ws_lost_worktrees *lw)
{
	struct ws_worktree **list = NULL;
	struct strvec done = STRVEC_INIT;
	size_t pos = 0;
	const char *id, *path;
	int ret = 0;

	while ((id = ws_state_next(lw->st, &pos))) {
		if (!(path = lost_path(lw, id)) || strvec_find(&done, path) >= 0)
			continue;
		strvec_push(&done, path);
		if (!list)
			list = ws_worktrees_get(lw->repo);
		if (bring_back(lw, list, id, path) < 0)
			ret = -1;
	}
	if (list)
		ws_worktrees_free(list);
	strvec_clear(&done);
	return ret;
}
