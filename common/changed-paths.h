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

#endif
