#ifndef MERGED_H
#define MERGED_H

#include "compat.h"
#include "repo.h"

/*
 * Whether the work of a branch is already in its base: the check `git
 * ws-clean` makes before it deletes a branch (it never deletes a branch
 * that is not merged into its base without --force).
 *
 * Ancestry alone is not enough: a branch that was squash-merged or
 * cherry-picked by hand has commits the base does not contain, yet its
 * work is there. So the answer is "merged" when the first of these holds:
 *
 *  WS_MERGED_ANCESTRY  the tip is the base tip or one of its ancestors;
 *  WS_MERGED_TREE      the tip's tree is the tree of a commit on the base's
 *                      first-parent line since their merge base (a squash
 *                      merge of the branch as it is now);
 *  WS_MERGED_PATHS     every path the branch changed since the merge base
 *                      is, in the base tip, exactly as on the branch (mode
 *                      and content; deleted paths absent);
 *  WS_MERGED_MERGE     `git merge-tree --write-tree base tip` (merge-ort,
 *                      as `git merge`) merges cleanly into the base tip's
 *                      own tree: merging the branch would change nothing.
 *
 * The first three only read; the last runs git with a temporary object
 * directory (GIT_OBJECT_DIRECTORY, the repository's as an alternate), so
 * the objects it writes never reach the repository. (git may refresh the
 * mtime of objects it finds already present, as any git command writing
 * them would.)
 */
enum ws_merged {
	WS_NOT_MERGED = 0,
	WS_MERGED_ANCESTRY,
	WS_MERGED_TREE,
	WS_MERGED_PATHS,
	WS_MERGED_MERGE,
};

/*
 * Whether `tip` is merged into `base` (both commits). Returns one of
 * enum ws_merged, or -1 after error() when it cannot tell (a missing
 * object, git merge-tree could not run).
 */
int ws_commit_is_merged(const struct ws_repo *r, const git_oid *base,
			const git_oid *tip);

/* The answer in a few words ("merged by ancestry", ..., "not merged"). */
const char *ws_merged_how(int how);

#endif
