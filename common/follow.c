#include "compat.h"
#include "follow.h"
#include "changed-paths.h"
#include "run.h"
#include "usage.h"
#include "worktree.h"
#include "ws.h"

/* `git read-tree -m -u <old> <new>` in the worktree `wt`, to its end. */
static int read_tree(const char *wt, const char *old, const char *new,
		     int hold_fd)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, wt);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "read-tree", "-m", "-u",
		     old, new, NULL });
	return ws_run_to_the_end(&cp, hold_fd);
}

/* The hint after a worktree did not follow the base from old to new. */
static void advise_read_tree(const char *wt, const char *old, const char *new)
{
	advise("its index and files are those of %.7s, so that 'git status' there shows\n"
	       "the merge undone; to bring it along, run\n"
	       "  git -C '%s' read-tree -m -u %s %s\n"
	       "(it refuses to overwrite changes made there: put those aside first)",
	       old, wt, old, new);
}

int ws_follow(const struct ws_repo *r, const char *base, const char *wt,
	      const git_oid *old, const git_oid *new, int hold_fd)
{
	char o[GIT_OID_HEXSZ + 1], n[GIT_OID_HEXSZ + 1];

	if (!read_tree(wt, ws_oid_hex(old, o), ws_oid_hex(new, n), hold_fd))
		return 0;
	error("'%s' moved to %.7s, but its worktree '%s' could not follow",
	      base, n, wt);
	advise_read_tree(wt, o, n);
	return -1;
}

/* What one interrupted follow is about. */
struct follow {
	const struct ws_repo *repo;
	const char *base, *id, *wt;
	char from[GIT_OID_HEXSZ + 1], to[GIT_OID_HEXSZ + 1];
	git_oid f, t, tip;
	int moved_on; /* the base moved on from `to` since */
	int hold_fd;
};

/* 1 when the index of fl->wt differs from `hex` in a path of `touched`. */
static int staged_in(const struct follow *fl, const char *hex,
		     const struct strvec *touched, struct strvec *both)
{
	struct strvec staged = STRVEC_INIT;
	int ret;

	strvec_clear(both);
	ret = ws_worktree_staged_changes(fl->wt, hex, &staged);
	if (!ret)
		ret = touched ? !!ws_paths_intersect(&staged, touched, both) :
			!!staged.nr;
	strvec_clear(&staged);
	return ret;
}

/*
 * Whether fl->wt is to be brought along: 0 yes, 1 it followed already
 * (or the base never moved), -1 it is left behind (why in *both).
 */
static int needs_follow(struct follow *fl, struct strvec *both)
{
	struct strvec wts = STRVEC_INIT, touched = STRVEC_INIT;
	int ret = -1;

	/* killed before the base moved, or the compare-and-swap failed */
	if (ws_branch_tip(fl->repo, fl->base, &fl->tip) < 0 ||
	    (!git_oid_equal(&fl->tip, &fl->t) &&
	     git_graph_descendant_of(fl->repo->repo, &fl->tip, &fl->t) != 1))
		return 1;
	fl->moved_on = !git_oid_equal(&fl->tip, &fl->t);
	ws_branch_worktrees(fl->repo, fl->base, &wts);
	if (strvec_find(&wts, fl->wt) < 0) {
		warning("'%s' moved to %.7s (the merge of '%s'), but git ws-merge was interrupted before '%s' followed, and it no longer has '%s' checked out",
			fl->base, fl->to, fl->id, fl->wt, fl->base);
		advise("its index and files may still be those of %.7s; look at 'git status' there",
		       fl->from);
		ret = 1;
		goto out;
	}
	if (fl->moved_on) {
		char now[GIT_OID_HEXSZ + 1];

		/* its index is the base's tip: it followed, and more since */
		if (!staged_in(fl, ws_oid_hex(&fl->tip, now), NULL, both)) {
			ret = 1;
			goto out;
		}
	}
	if (ws_tree_changed_paths(fl->repo, &fl->f, &fl->t, &touched) < 0 ||
	    staged_in(fl, fl->to, &touched, both) < 0)
		goto out;
	if (!both->nr) {
		ret = 1; /* it followed before the kill */
		goto out;
	}
	if (!fl->moved_on && !staged_in(fl, fl->from, &touched, both))
		ret = 0;
out:
	strvec_clear(&wts);
	strvec_clear(&touched);
	return ret;
}

/* Finish the follow of fl->wt, or say why it is left behind. */
static void finish_follow(struct follow *fl)
{
	struct strvec both = STRVEC_INIT;
	int needs = needs_follow(fl, &both);

	if (needs > 0)
		goto out;
	if (!needs && !read_tree(fl->wt, fl->from, fl->to, fl->hold_fd)) {
		fprintf(stderr, "'%s' follows '%s' again: brought it from %.7s to %.7s (the merge of '%s', interrupted)\n",
			fl->wt, fl->base, fl->from, fl->to, fl->id);
		goto out;
	}
	warning("'%s' moved to %.7s (the merge of '%s'), but git ws-merge was interrupted before its worktree '%s' followed%s",
		fl->base, fl->to, fl->id, fl->wt,
		fl->moved_on ? ", and it moved on since" :
		both.nr ? ", which has changes since in the paths the merge changes" : "");
	advise_read_tree(fl->wt, fl->from, fl->to);
out:
	strvec_clear(&both);
}

int ws_follow_repair(struct ws_recover *rc, const struct ws_intent *in)
{
	struct follow fl = { rc->repo, rc->plan->base, in->id };
	size_t k;

	fl.hold_fd = rc->hold_fd;
	if (!in->from || !in->to || git_oid_fromstr(&fl.f, in->from) < 0 ||
	    git_oid_fromstr(&fl.t, in->to) < 0) {
		warning("ignoring the unreadable follow-from and follow-to of '%s' in '%s'",
			in->id, rc->st->state_path);
		return 1;
	}
	ws_oid_hex(&fl.f, fl.from);
	ws_oid_hex(&fl.t, fl.to);
	for (k = 0; k < in->worktrees.nr; k++) {
		fl.wt = in->worktrees.v[k];
		fl.moved_on = 0;
		finish_follow(&fl);
	}
	return 1;
}
