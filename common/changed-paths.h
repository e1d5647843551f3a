#ifndef CHANGED_PATHS_H
#define CHANGED_PATHS_H

#include "compat.h"
#include "repo.h"
#include "strvec.h"

/*
 * Which paths a change touches, and whether two sets of paths meet:
 * how git ws-merge tells whether a merge would overwrite uncommitted
 * changes in a worktree that has the base checked out.
 */

/*
 * The paths whose entry differs between `a` and `b` (each a tree, or a
 * commit whose tree is meant), without rename detection, so that a
 * rename gives both paths, as `git diff-tree -r --no-renames
 * --name-only`; appended to out in tree order. Returns 0, or -1 after
 * printing an error.
 */
int ws_tree_changed_paths(const struct ws_repo *r, const git_oid *a,
			  const git_oid *b, struct strvec *out);

/*
 * Append to `common` every string of `a` that is also in `b`, or that a
 * path of `b` is a directory of, or that is a directory of a path of
 * `b`. Returns how many were appended.
 */
int ws_paths_intersect(const struct strvec *a, const struct strvec *b,
		       struct strvec *common);

/*
 * Of the worktrees `wts` (paths, each with the base checked out), the
 * first whose uncommitted changes (ws_worktree_changed_paths(), as `git
 * status`) touch a path that differs between `a` and `b`: what moving
 * the base from a to b would overwrite there, as `git merge` refuses
 * to. Returns its index in `wts`, with the paths it shares appended to
 * `both`; -1 when no worktree has such changes; -2 after printing an
 * error.
 */
ssize_t ws_first_overwritten_worktree(const struct ws_repo *r,
				      const git_oid *a, const git_oid *b,
				      const struct strvec *wts,
				      struct strvec *both);

#endif
