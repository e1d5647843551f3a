#ifndef MERGE_FORECAST_H
#define MERGE_FORECAST_H

#include "compat.h"
#include "merge-job.h"
#include "merge-outcome.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * git ws-merge -n: whether each queued workstream would merge, in queue
 * order and cumulatively, as the real run would merge them: each one is
 * merged into the base's current tip plus the merges of every queued
 * workstream before it that would merge (the "chain"), and what would
 * conflict with whom. Nothing is written but objects: the merged trees
 * that git merge-tree adds to the object store (as `git merge-tree
 * --write-tree` does), and the chain's merge commits, which no ref
 * points to (git gc prunes them).
 */
struct ws_forecast {
	const struct ws_repo *repo;
	const struct plan *plan;
	const struct ws_state *st;  /* read by the caller */
	const struct strvec *stop;  /* for ws_merge_job_conflict_reason() */
	const int *done;            /* per plan index: 1 would merge, -1 not */
	/* the chain, kept by ws_forecast_one(); zeroed by the caller */
	int chained;                /* 1 once some merge would be made */
	git_oid base_tip;           /* the base's tip, under the chain */
	git_oid chain;              /* the chain's top merge commit */
};

/*
 * Read the job of each of plan->ws[order[0..nr)] into jobs[] (each
 * initialised here; the caller releases them) and compute its merge
 * into the base's current tip, all in one git merge-tree run, or one by
 * one, naming the culprit, when that fails. ok[n] (zeroed by the
 * caller) is set to 1 when the merge of jobs[n] was computed.
 */
void ws_forecast_compute(const struct ws_forecast *f, const size_t *order,
			 size_t nr, struct ws_merge_job *jobs, int *ok);

/*
 * What would come of merging j (ok: its merge into the base's tip was
 * computed by ws_forecast_compute()), with why into detail: SKIPPED
 * with the dependencies that would not be merged before it ("ws-1
 * (done), ws-2 (would not merge)"; a dependency that f->done says would
 * merge counts as merged), FAILED, CONFLICT with the conflict's reason,
 * or MERGED with what it would resolve for the owner. Call it in queue
 * order: once an earlier workstream would merge, j's merge is computed
 * again on the chain's top (j->base_tip becomes that commit; the
 * contracts of the workstreams the chain merged count as merged ones,
 * as in the real run), and a MERGED one becomes the chain's new top,
 * a `--no-ff` merge commit "Merge <id>: <title>" as git ws-merge would
 * make it (signed by "git-ws forecast", so that no identity is needed).
 * A conflict with paths that merges on the chain touched reads
 * "conflict in <paths> with <ids> (merged before it)", and those ids go
 * to `with` (may be NULL); any other reads as
 * ws_merge_job_conflict_reason() says it.
 */
enum ws_merge_outcome ws_forecast_one(struct ws_forecast *f,
				      struct ws_merge_job *j, int ok,
				      struct strbuf *detail,
				      struct strvec *with);

#endif
