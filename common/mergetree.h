#ifndef MERGETREE_H
#define MERGETREE_H

#include "compat.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The one merge computation of git-ws, shared by `git ws-converge` (the
 * mergeable gate) and `git ws-merge` (the real merge), so that both
 * always agree.
 *
 * It merges `theirs` (a workstream's branch tip) into `ours` (the base
 * tip) exactly as `git merge --no-ff` would, without touching any
 * worktree or index: it runs git's own `git merge-tree --write-tree`
 * (merge-ort, so that the result is the one `git merge` makes: libgit2
 * 1.5's merge has no directory-rename detection, and it records rename
 * conflicts differently).
 *
 * Contract ownership (a workstream's `contract` paths, git-ws-merge(1)): a
 * conflicted path listed in `theirs_owns` is resolved to theirs' version,
 * one listed in `ours_owns` (owned by an already merged workstream) to
 * ours'; such paths are reported in `resolved`, not in `conflicts`.
 * Entries of both lists are paths or globs (fnmatch).
 */
struct ws_merge_result {
	int clean;               /* 1: the merge has no conflict left */
	git_oid tree;            /* the merged tree; valid when clean */
	struct strvec conflicts; /* conflicted paths, sorted, unique */
	struct strvec resolved;  /* contract paths resolved by ownership */
	struct strbuf messages;  /* git merge-tree's informational messages */
};
#define WS_MERGE_RESULT_INIT { 0, { { 0 } }, STRVEC_INIT, STRVEC_INIT, STRBUF_INIT }

/*
 * Compute the merge. `theirs_owns` and `ours_owns` may be NULL. Returns 0
 * with `res` filled (clean or not), or -1 after printing an error (git
 * could not run, unrelated histories, an object is missing).
 */
int ws_merge_compute(const struct ws_repo *r, const git_oid *ours,
		     const git_oid *theirs, const struct strvec *theirs_owns,
		     const struct strvec *ours_owns, struct ws_merge_result *res);

/*
 * Compute nr merges (theirs[k] into ours[k]) in one `git merge-tree
 * --stdin` process (git >= 2.39; the same merge-ort machinery, several
 * times faster than a process per merge): res[k] (each initialised with
 * WS_MERGE_RESULT_INIT) is filled as ws_merge_compute() would fill it.
 * `theirs_owns` and `ours_owns` are arrays of nr entries, or NULL; an
 * entry may be NULL. Returns 0; or -1 after printing an error, with every
 * res[k] released: git stops at the first merge it cannot do (unrelated
 * histories, a missing object), so a caller falls back to
 * ws_merge_compute() one by one to learn which.
 */
int ws_merge_compute_many(const struct ws_repo *r, size_t nr,
			  const git_oid *ours, const git_oid *theirs,
			  const struct strvec *const *theirs_owns,
			  const struct strvec *const *ours_owns,
			  struct ws_merge_result *res);

void ws_merge_result_release(struct ws_merge_result *res);

/*
 * 1 when `path` is named by an entry of `owns` (NULL: none): a glob that
 * matches it (fnmatch without FNM_PATHNAME, as plan_globs_overlap()), or
 * a directory that contains it. The ownership rule of ws_merge_compute().
 */
int ws_merge_owns(const struct strvec *owns, const char *path);

#endif
