#include "compat.h"
#include "changed-paths.h"
#include "usage.h"
#include "worktree.h"

/* The tree of a commit or a tree id; NULL after printing an error. */
static git_tree *tree_of(const struct ws_repo *r, const git_oid *oid)
{
	git_object *obj = NULL;
	git_object *peeled = NULL;

	if (git_object_lookup(&obj, r->repo, oid, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_TREE) < 0) {
		char hex[GIT_OID_HEXSZ + 1];
		error_git("cannot read tree of '%s'", ws_oid_hex(oid, hex));
	}
	git_object_free(obj);
	return (git_tree *)peeled;
}

static int diff_trees(const struct ws_repo *r, git_tree *a, git_tree *b,
		      struct strvec *out)
{
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	size_t i, n;

	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	if (git_diff_tree_to_tree(&diff, r->repo, a, b, &opts) < 0)
		return error_git("cannot compare trees");
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);

		if (d->old_file.path)
			strvec_push(out, d->old_file.path);
		if (d->new_file.path && (!d->old_file.path ||
		    strcmp(d->new_file.path, d->old_file.path)))
			strvec_push(out, d->new_file.path);
	}
	git_diff_free(diff);
	return 0;
}

int ws_tree_changed_paths(const struct ws_repo *r, const git_oid *a,
			  const git_oid *b, struct strvec *out)
{
	git_tree *ta = tree_of(r, a), *tb = ta ? tree_of(r, b) : NULL;
	int ret = -1;

	if (ta && tb)
		ret = diff_trees(r, ta, tb, out);
	git_tree_free(ta);
	git_tree_free(tb);
	return ret;
}

/* 1 when one path is the other, or a directory that contains it. */
static int path_covers(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == lb)
		return !strcmp(a, b);
	if (la < lb)
		return !strncmp(a, b, la) && b[la] == '/';
	return !strncmp(a, b, lb) && a[lb] == '/';
}

int ws_paths_intersect(const struct strvec *a, const struct strvec *b,
		       struct strvec *common)
{
	size_t i, j;
	int n = 0;

	for (i = 0; i < a->nr; i++)
		for (j = 0; j < b->nr; j++)
			if (path_covers(a->v[i], b->v[j])) {
				strvec_push(common, a->v[i]);
				n++;
				break;
			}
	return n;
}

ssize_t ws_first_overwritten_worktree(const struct ws_repo *r,
				      const git_oid *a, const git_oid *b,
				      const struct strvec *wts,
				      struct strvec *both)
{
	struct strvec touched = STRVEC_INIT;
	ssize_t ret = -1;
	size_t k;

	if (!wts->nr)
		return -1;
	if (ws_tree_changed_paths(r, a, b, &touched) < 0)
		return -2;
	for (k = 0; k < wts->nr && ret == -1; k++) {
		struct strvec dirty = STRVEC_INIT;

		if (ws_worktree_changed_paths(wts->v[k], &dirty) < 0)
			ret = -2;
		else if (ws_paths_intersect(&dirty, &touched, both))
			ret = (ssize_t)k;
		strvec_clear(&dirty);
	}
	strvec_clear(&touched);
	return ret;
}
