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
 * git ws-merge -n: whether each queued workstream would merge into the
 * base's current tip, and what would conflict with whom. Nothing is
 * written but the merged objects that git merge-tree adds to the object
 * store (as `git merge-tree --write-tree` does).
 */
struct ws_forecast {
	const struct ws_repo *repo;
	const struct plan *plan;
	const struct ws_state *st;  /* read by the caller */
	const struct strvec *stop;  /* for ws_merge_job_conflict_reason() */
	const int *done;            /* per plan index: 1 would merge, -1 not */
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
 * What would come of merging j (ok: its merge was computed), with why
 * into detail: SKIPPED with the dependencies that would not be merged
 * before it ("ws-1 (done), ws-2 (would not merge)"; a dependency that
 * f->done says would merge counts as merged), FAILED, CONFLICT with the
 * conflict's reason, or MERGED with what it would resolve for the
 * owner.
 */
enum ws_merge_outcome ws_forecast_one(const struct ws_forecast *f,
				      struct ws_merge_job *j, int ok,
				      struct strbuf *detail);

#endif
