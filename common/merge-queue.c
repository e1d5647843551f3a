#include "compat.h"
#include "merge-queue.h"
#include "usage.h"
#include "wrapper.h"

void ws_strvec_join(struct strbuf *out, const struct strvec *sv,
		    const char *sep)
{
	size_t i;

	for (i = 0; i < sv->nr; i++) {
		if (i)
			strbuf_addstr(out, sep);
		strbuf_add_sanitized(out, sv->v[i]);
	}
}

void ws_merged_contracts(const struct plan *plan, const struct ws_state *st,
			 size_t i, struct strvec *ours_owns,
			 struct strvec *owners)
{
	size_t k, m;

	for (k = 0; k < plan->nr; k++) {
		const struct plan_workstream *o = &plan->ws[k];

		if (k == i || !ws_is_merged(st, o->id))
			continue;
		for (m = 0; m < o->contract.nr; m++) {
			strvec_push(ours_owns, o->contract.v[m]);
			if (owners)
				strvec_push(owners, o->id);
		}
	}
}

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

/* The directory part of a path ("" at top level), as a new string. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xstrndup(path, slash - path) : xstrdup("");
}

/*
 * The workstream id named by a merge commit's subject "Merge <id>: ...",
 * when it is a workstream of the plan; NULL otherwise. Caller frees.
 */
static char *merge_subject_id(const struct plan *plan, const char *msg)
{
	const char *colon;
	char *id;

	if (!msg || strncmp(msg, "Merge ", 6))
		return NULL;
	msg += 6;
	colon = strchr(msg, ':');
	if (!colon || memchr(msg, '\n', colon - msg))
		return NULL;
	id = xstrndup(msg, colon - msg);
	if (plan_find(plan, id) < 0)
		FREE_AND_NULL(id);
	return id;
}

int ws_merge_touched_by(const struct ws_repo *r, const struct plan *plan,
			const git_oid *tip, const struct strvec *stop,
			const struct strvec *paths, struct strvec *ids)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	char **owner = xcalloc(paths->nr + 1, sizeof(*owner));
	char **dir_owner = xcalloc(paths->nr + 1, sizeof(*dir_owner));
	size_t i, left = paths->nr, walked = 0;
	int ret = -1;

	if (git_revwalk_new(&walk, r->repo) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL) < 0 ||
	    git_revwalk_simplify_first_parent(walk) < 0 ||
	    git_revwalk_push(walk, tip) < 0) {
		error_git("cannot walk the history of the base");
		goto cleanup;
	}
	for (i = 0; stop && i < stop->nr; i++) {
		git_oid s;

		if (!git_oid_fromstr(&s, stop->v[i]))
			git_revwalk_hide(walk, &s);
	}
	while (left && walked++ < 100000 && !git_revwalk_next(&oid, walk)) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		struct strvec changed = STRVEC_INIT;
		char *id = NULL;

		if (git_commit_lookup(&c, r->repo, &oid) < 0)
			break;
		if (git_commit_parentcount(c) < 2 ||
		    !(id = merge_subject_id(plan, git_commit_message(c))))
			goto next;
		if (git_commit_parent(&parent, c, 0) < 0 ||
		    git_commit_tree(&t, c) < 0 || git_commit_tree(&pt, parent) < 0 ||
		    diff_trees(r, pt, t, &changed) < 0)
			goto next;
		for (i = 0; i < paths->nr; i++) {
			size_t k;
			char *dir;

			if (owner[i])
				continue;
			dir = dir_of(paths->v[i]);
			for (k = 0; k < changed.nr; k++) {
				char *cd;

				if (!strcmp(changed.v[k], paths->v[i])) {
					owner[i] = xstrdup(id);
					left--;
					break;
				}
				cd = dir_of(changed.v[k]);
				if (!dir_owner[i] && *dir && !strcmp(cd, dir))
					dir_owner[i] = xstrdup(id);
				free(cd);
			}
			free(dir);
		}
next:
		strvec_clear(&changed);
		free(id);
		git_tree_free(t);
		git_tree_free(pt);
		git_commit_free(parent);
		git_commit_free(c);
	}
	/* most recent first: in the order the walk found them */
	for (i = 0; i < paths->nr; i++) {
		const char *who = owner[i] ? owner[i] : dir_owner[i];

		if (who && strvec_find(ids, who) < 0)
			strvec_push(ids, who);
	}
	ret = 0;
cleanup:
	for (i = 0; i < paths->nr; i++) {
		free(owner[i]);
		free(dir_owner[i]);
	}
	free(owner);
	free(dir_owner);
	git_revwalk_free(walk);
	return ret;
}
