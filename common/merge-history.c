#include "compat.h"
#include "merge-history.h"
#include "changed-paths.h"
#include "usage.h"
#include "wrapper.h"

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

/*
 * The merge of `id` changed the paths in `changed`: it is the owner of
 * each of `paths` it changed that has none yet, and the dir_owner of
 * each it did not change but whose directory it changed, if that has
 * none yet. Returns how many owners it became.
 */
static size_t attribute(const struct strvec *paths,
			const struct strvec *changed, const char *id,
			char **owner, char **dir_owner)
{
	size_t i, k, n = 0;

	for (i = 0; i < paths->nr; i++) {
		char *dir;

		if (owner[i])
			continue;
		dir = dir_of(paths->v[i]);
		for (k = 0; k < changed->nr; k++) {
			char *cd;

			if (!strcmp(changed->v[k], paths->v[i])) {
				owner[i] = xstrdup(id);
				n++;
				break;
			}
			cd = dir_of(changed->v[k]);
			if (!dir_owner[i] && *dir && !strcmp(cd, dir))
				dir_owner[i] = xstrdup(id);
			free(cd);
		}
		free(dir);
	}
	return n;
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
		git_commit *c = NULL;
		struct strvec changed = STRVEC_INIT;
		char *id = NULL;

		if (git_commit_lookup(&c, r->repo, &oid) < 0)
			break;
		if (git_commit_parentcount(c) < 2 ||
		    !(id = merge_subject_id(plan, git_commit_message(c))))
			goto next;
		if (ws_tree_changed_paths(r, git_commit_parent_id(c, 0), &oid,
					  &changed) < 0)
			goto next;
		left -= attribute(paths, &changed, id, owner, dir_owner);
next:
		strvec_clear(&changed);
		free(id);
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
