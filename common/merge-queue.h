#ifndef MERGE_QUEUE_H
#define MERGE_QUEUE_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "run.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"
#include "worktree.h"

/*
 * The mechanics of `git ws-merge` that are not the merge itself
 * (mergetree.h): which paths a merge changes, and which merged
 * workstreams last touched a path.
 */

/*
 * ws_git_in(), ws_branch_worktrees() and ws_worktree_changed_paths(),
 * once here, are in worktree.h.
 */

/*
 * The paths whose entry differs between tree `a` and tree `b` (no rename
 * detection, so a rename gives both paths), appended to out in tree order.
 * Returns 0, or -1 after printing an error.
 */
int ws_tree_changed_paths(const struct ws_repo *r, const git_oid *a,
			  const git_oid *b, struct strvec *out);

/*
 * Append to `common` every string of `a` that is also in `b` (a path of
 * `b` that is a directory of a path of `a` counts too). Returns how many.
 */
int ws_paths_intersect(const struct strvec *a, const struct strvec *b,
		       struct strvec *common);

/*
 * Which merged workstreams last touched `paths`: walks the first-parent
 * history of `tip` (stopping at the commits in `stop`, e.g. the base the
 * plan was allocated on) for merge commits whose subject is "Merge
 * <id>: ..." with <id> a workstream of `plan`, and diffs each against
 * its first parent. A path no merge touched is attributed to the last
 * merge that touched its directory (a directory rename on one side, a
 * file added to it on the other). The ids found go to `ids`, in the order
 * of `paths`, unique. Returns 0, or -1 after printing an error.
 */
int ws_merge_touched_by(const struct ws_repo *r, const struct plan *plan,
			const git_oid *tip, const struct strvec *stop,
			const struct strvec *paths, struct strvec *ids);

/*
 * The contract ownership of a merge of ws[i] (DESIGN.md §1, the issue of
 * git ws-merge step 2), for ws_merge_compute(): the contract entries of
 * every other workstream whose work is in the base (ws_is_merged()) go to
 * `ours_owns`, and, when `owners` is not NULL, the id owning each entry
 * to `owners` (same index). theirs_owns is simply plan->ws[i].contract.
 * git ws-merge and the mergeable gate of git ws-converge both use this.
 */
void ws_merged_contracts(const struct plan *plan, const struct ws_state *st,
			 size_t i, struct strvec *ours_owns,
			 struct strvec *owners);

/* Append the items of sv, separated by `sep`, to out (sanitized). */
void ws_strvec_join(struct strbuf *out, const struct strvec *sv,
		    const char *sep);

#endif
