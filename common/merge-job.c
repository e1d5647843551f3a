#include "compat.h"
#include "merge-job.h"
#include "contracts.h"
#include "merge-history.h"
#include "usage.h"
#include "wrapper.h"

void ws_merge_job_release(struct ws_merge_job *j)
{
	free(j->branch);
	strvec_clear(&j->ours_owns);
	strvec_clear(&j->ours_owner);
	strvec_clear(&j->next);
	strbuf_release(&j->deps);
	ws_merge_result_release(&j->res);
	strvec_clear(&j->owners_note);
}

void ws_merge_job_read(struct ws_merge_job *j, const struct plan *plan,
		       const struct ws_state *st)
{
	const struct plan_workstream *w = &plan->ws[j->i];
	const char *branch = ws_state_get(st, w->id, WS_KEY_BRANCH);
	size_t k, m;

	free(j->branch);
	j->branch = xstrdup(branch ? branch : w->branch);
	strvec_clear(&j->ours_owns);
	strvec_clear(&j->ours_owner);
	strvec_clear(&j->next);
	strbuf_reset(&j->deps);
	ws_merged_contracts(plan, st, j->i, &j->ours_owns, &j->ours_owner);
	for (k = 0; k < w->dep_nr; k++) {
		const char *d = plan->ws[w->dep_idx[k]].id;
		const char *oid = ws_state_get(st, d, WS_KEY_MERGE_OID);

		strbuf_addf(&j->deps, "%s%s", k ? ", " : "", d);
		if (oid)
			strbuf_addf(&j->deps, " (merged as %.7s)", oid);
	}
	/* dependents whose other dependencies are all merged */
	for (k = 0; k < w->rdep_nr; k++) {
		const struct plan_workstream *o = &plan->ws[w->rdep_idx[k]];
		int depends = 0, others = 1;

		for (m = 0; m < o->dep_nr; m++) {
			size_t d = o->dep_idx[m];

			if (d == j->i)
				depends = 1;
			else if (!ws_is_merged(st, plan->ws[d].id))
				others = 0;
		}
		if (depends && others)
			strvec_push(&j->next, o->id);
	}
}

void ws_merge_job_note_owners(struct ws_merge_job *j, const struct plan *plan)
{
	const struct plan_workstream *w = &plan->ws[j->i];
	size_t k, m;

	strvec_clear(&j->owners_note);
	for (k = 0; k < j->res.resolved.nr; k++) {
		const char *path = j->res.resolved.v[k];
		const char *owner = NULL;

		if (ws_merge_owns(&w->contract, path)) {
			strvec_pushf(&j->owners_note, "%s (owned by %s: kept from %s)",
				     path, w->id, j->branch);
			continue;
		}
		for (m = 0; m < j->ours_owns.nr && !owner; m++) {
			struct strvec one = STRVEC_INIT;

			strvec_push(&one, j->ours_owns.v[m]);
			if (ws_merge_owns(&one, path))
				owner = j->ours_owner.v[m];
			strvec_clear(&one);
		}
		strvec_pushf(&j->owners_note, "%s (owned by %s: kept from %s)",
			     path, owner ? owner : "a merged workstream", plan->base);
	}
}

void ws_merge_job_conflict_reason(const struct ws_merge_job *j,
				  const struct ws_repo *r,
				  const struct plan *plan,
				  const struct strvec *stop,
				  struct strbuf *out)
{
	struct strvec who = STRVEC_INIT;

	strbuf_addstr(out, "conflict: ");
	strvec_join(out, &j->res.conflicts, ", ");
	if (!ws_merge_touched_by(r, plan, &j->base_tip, stop,
				 &j->res.conflicts, &who) && who.nr) {
		strbuf_addstr(out, " (touched by ");
		strvec_join(out, &who, ", ");
		strbuf_addch(out, ')');
	} else {
		strbuf_addf(out, " (changed on %s outside the plan)", plan->base);
	}
	strvec_clear(&who);
}

int ws_merge_job_tips(struct ws_merge_job *j, const struct ws_repo *r,
		      const struct plan *plan)
{
	if (ws_branch_tip(r, plan->base, &j->base_tip) < 0)
		return error("base branch '%s' does not exist", plan->base);
	if (ws_branch_tip(r, j->branch, &j->branch_tip) < 0)
		return error("branch '%s' of '%s' does not exist", j->branch,
			     plan->ws[j->i].id);
	return 0;
}

int ws_merge_job_compute(struct ws_merge_job *j, const struct ws_repo *r,
			 const struct plan *plan)
{
	ws_merge_result_release(&j->res);
	return ws_merge_compute(r, &j->base_tip, &j->branch_tip,
				&plan->ws[j->i].contract, &j->ours_owns,
				&j->res);
}
