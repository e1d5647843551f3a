#include "compat.h"
#include "merge-forecast.h"
#include "wrapper.h"

void ws_forecast_compute(const struct ws_forecast *f, const size_t *order,
			 size_t nr, struct ws_merge_job *jobs, int *ok)
{
	git_oid *ours = xcalloc(nr + 1, sizeof(*ours));
	git_oid *theirs = xcalloc(nr + 1, sizeof(*theirs));
	const struct strvec **t_owns = xcalloc(nr + 1, sizeof(*t_owns));
	const struct strvec **o_owns = xcalloc(nr + 1, sizeof(*o_owns));
	struct ws_merge_result *res = xcalloc(nr + 1, sizeof(*res));
	size_t n, k, batch = 0;

	for (n = 0; n < nr; n++) {
		struct ws_merge_job init = WS_MERGE_JOB_INIT(order[n]);
		struct ws_merge_result rinit = WS_MERGE_RESULT_INIT;

		jobs[n] = init;
		ws_merge_job_read(&jobs[n], f->plan, f->st);
		if (ws_merge_job_tips(&jobs[n], f->repo, f->plan) < 0)
			continue;
		ok[n] = 1;
		ours[batch] = jobs[n].base_tip;
		theirs[batch] = jobs[n].branch_tip;
		t_owns[batch] = &f->plan->ws[order[n]].contract;
		o_owns[batch] = &jobs[n].ours_owns;
		res[batch++] = rinit;
	}
	if (ws_merge_compute_many(f->repo, batch, ours, theirs, t_owns, o_owns,
				  res) < 0)
		batch = 0; /* compute them one by one below, naming the culprit */
	for (n = 0, k = 0; n < nr; n++) {
		if (!ok[n])
			continue;
		if (batch) {
			jobs[n].res = res[k++];
		} else if (ws_merge_job_compute(&jobs[n], f->repo,
						f->plan) < 0) {
			ok[n] = 0;
		}
	}
	free(ours);
	free(theirs);
	free(t_owns);
	free(o_owns);
	free(res);
}

/*
 * -n: the dependencies of ws[i] that would not be merged before it, as
 * "ws-1 (done), ws-2 (would not merge)", into out. A dependency queued
 * before it counts as merged if it would merge.
 */
static void would_wait_for(const struct ws_forecast *f, size_t i,
			   struct strbuf *out)
{
	const struct plan_workstream *w = &f->plan->ws[i];
	size_t k;

	for (k = 0; k < w->dep_nr; k++) {
		size_t d = w->dep_idx[k];
		enum ws_status ds = ws_state_status(f->st, f->plan->ws[d].id);

		if (ws_is_merged(f->st, f->plan->ws[d].id) || f->done[d] > 0)
			continue;
		strbuf_addf(out, "%s%s (%s)", out->len ? ", " : "",
			    f->plan->ws[d].id, f->done[d] < 0 ?
			    "would not merge" : ws_status_name(ds) ?: "not started");
	}
}

enum ws_merge_outcome ws_forecast_one(const struct ws_forecast *f,
				      struct ws_merge_job *j, int ok,
				      struct strbuf *detail)
{
	would_wait_for(f, j->i, detail);
	if (detail->len)
		return WS_OUTCOME_SKIPPED;
	if (!ok)
		return WS_OUTCOME_FAILED;
	if (!j->res.clean) {
		ws_merge_job_conflict_reason(j, f->repo, f->plan, f->stop,
					     detail);
		return WS_OUTCOME_CONFLICT;
	}
	ws_merge_job_note_owners(j, f->plan);
	strvec_join(detail, &j->owners_note, ", ");
	return WS_OUTCOME_MERGED;
}
