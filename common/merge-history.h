#ifndef MERGE_HISTORY_H
#define MERGE_HISTORY_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "strvec.h"

/*
 * What the base's history says about the plan's merges: git ws-merge
 * writes one merge commit per workstream, whose subject is "Merge <id>:
 * <title>", so `git log --first-parent --merges` of the base lists them.
 */

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

#endif
