#ifndef MERGE_JOB_H
#define MERGE_JOB_H

#include "compat.h"
#include "mergetree.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * One merge of git ws-merge: what the merge of plan->ws[i] into the base
 * (plan->base) needs to know, read from the state, and what came of it.
 * git ws-merge fills one per try under the state lock, and one per
 * workstream for its forecast (-n).
 */
struct ws_merge_job {
	size_t i;                  /* plan->ws[i] is merged */
	char *branch;              /* the state's branch, else the plan's */
	struct strvec ours_owns;   /* contracts of merged workstreams */
	struct strvec ours_owner;  /* ours_owner.v[k] owns ours_owns.v[k] */
	struct strvec next;        /* dependents this merge unblocks */
	struct strbuf deps;        /* "ws-1 (merged as abc1234), ws-2" */
	git_oid base_tip, branch_tip, commit;
	struct ws_merge_result res;
	struct strvec owners_note; /* "path (owned by ws-1: kept from ...)" */
};
#define WS_MERGE_JOB_INIT(idx) { (idx), NULL, STRVEC_INIT, STRVEC_INIT, \
				 STRVEC_INIT, STRBUF_INIT, { { 0 } }, \
				 { { 0 } }, { { 0 } }, WS_MERGE_RESULT_INIT, \
				 STRVEC_INIT }

/* Free what the job holds; it may be filled again after. */
void ws_merge_job_release(struct ws_merge_job *j);

/*
 * Fill branch, ours_owns and ours_owner (ws_merged_contracts()), deps
 * and next from `st` (read by the caller, locked or not), dropping what
 * an earlier read put there. `next` is the dependents whose other
 * dependencies are all merged.
 */
void ws_merge_job_read(struct ws_merge_job *j, const struct plan *plan,
		       const struct ws_state *st);

/*
 * The tips of the base and of the job's branch into base_tip and
 * branch_tip. Returns 0, or -1 after an error naming the missing branch.
 */
int ws_merge_job_tips(struct ws_merge_job *j, const struct ws_repo *r,
		      const struct plan *plan);

/*
 * Compute the merge of branch_tip into base_tip into res
 * (ws_merge_compute(), with the contracts as read). Returns what
 * ws_merge_compute() returns.
 */
int ws_merge_job_compute(struct ws_merge_job *j, const struct ws_repo *r,
			 const struct plan *plan);

/*
 * Fill owners_note: for each path the merge resolved by contract
 * (res.resolved), "<path> (owned by <id>: kept from <branch or base>)",
 * for the merge commit's message and git ws-merge's output.
 */
void ws_merge_job_note_owners(struct ws_merge_job *j, const struct plan *plan);

/*
 * The reason a conflicted merge is sent back, into out: "conflict: a, b
 * (touched by ws-1, ws-2)", naming the merged workstreams that last
 * touched the conflicted paths (ws_merge_touched_by(), history up to
 * `stop`), else "(changed on <base> outside the plan)".
 */
void ws_merge_job_conflict_reason(const struct ws_merge_job *j,
				  const struct ws_repo *r,
				  const struct plan *plan,
				  const struct strvec *stop,
				  struct strbuf *out);

#endif
