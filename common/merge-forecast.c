#include "compat.h"
#include "merge-forecast.h"
#include "merge-history.h"
#include "usage.h"
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

/*
 * The contracts of the workstreams the chain merged (f->done), as owned
 * by merged workstreams in j's merge: the real run reads them from the
 * state once those are merged.
 */
static void add_chain_contracts(const struct ws_forecast *f,
				struct ws_merge_job *j)
{
	size_t k, m;

	for (k = 0; k < f->plan->nr; k++) {
		const struct plan_workstream *o = &f->plan->ws[k];

		if (k == j->i || f->done[k] <= 0 ||
		    ws_is_merged(f->st, o->id))
			continue;
		for (m = 0; m < o->contract.nr; m++) {
			strvec_push(&j->ours_owns, o->contract.v[m]);
			strvec_push(&j->ours_owner, o->id);
		}
	}
}

/*
 * Compute j's merge again on the chain's top. Returns 1 when the branch
 * is already in the chain (nothing to merge), 0 when computed, -1 after
 * an error.
 */
static int compute_on_chain(struct ws_forecast *f, struct ws_merge_job *j)
{
	j->base_tip = f->chain;
	if (git_oid_equal(&j->branch_tip, &f->chain) ||
	    git_graph_descendant_of(f->repo->repo, &f->chain,
				    &j->branch_tip) == 1)
		return 1;
	add_chain_contracts(f, j);
	return ws_merge_job_compute(j, f->repo, f->plan);
}

/* Put the merge commit of j on the chain (objects only, no ref). */
static int extend_chain(struct ws_forecast *f, struct ws_merge_job *j)
{
	const struct plan_workstream *w = &f->plan->ws[j->i];
	git_signature *sig = NULL;
	git_commit *parents[2] = { NULL, NULL };
	git_tree *tree = NULL;
	char *msg = xstrfmt("Merge %s: %s\n", w->id, w->title ? w->title : "");
	git_oid out;
	int ret = -1;

	if (git_signature_new(&sig, "git-ws forecast", "git-ws@forecast",
			      0, 0) < 0 ||
	    git_commit_lookup(&parents[0], f->repo->repo, &j->base_tip) < 0 ||
	    git_commit_lookup(&parents[1], f->repo->repo, &j->branch_tip) < 0 ||
	    git_tree_lookup(&tree, f->repo->repo, &j->res.tree) < 0 ||
	    git_commit_create(&out, f->repo->repo, NULL, sig, sig, NULL, msg,
			      tree, 2, (const git_commit **)parents) < 0) {
		error_git("cannot write the forecast's merge of '%s'", w->id);
		goto cleanup;
	}
	if (!f->chained)
		f->base_tip = j->base_tip;
	f->chain = out;
	f->chained = 1;
	ret = 0;
cleanup:
	git_signature_free(sig);
	git_commit_free(parents[0]);
	git_commit_free(parents[1]);
	git_tree_free(tree);
	free(msg);
	return ret;
}

/*
 * The reason j's merge on the chain conflicts, when merges on the chain
 * touched the conflicted paths: "conflict in <paths> with <ids> (merged
 * before it)", the ids also into `with`. Returns 0 when it said so, -1
 * when no merge on the chain touched them.
 */
static int chain_conflict_reason(const struct ws_forecast *f,
				 const struct ws_merge_job *j,
				 struct strbuf *out, struct strvec *with)
{
	struct strvec stop = STRVEC_INIT, who = STRVEC_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	size_t k;
	int ret = -1;

	for (k = 0; f->stop && k < f->stop->nr; k++)
		strvec_push(&stop, f->stop->v[k]);
	strvec_push(&stop, ws_oid_hex(&f->base_tip, hex));
	if (!ws_merge_touched_by(f->repo, f->plan, &f->chain, &stop,
				 &j->res.conflicts, &who) && who.nr) {
		strbuf_addstr(out, "conflict in ");
		strvec_join(out, &j->res.conflicts, ", ");
		strbuf_addstr(out, " with ");
		strvec_join(out, &who, ", ");
		strbuf_addstr(out, " (merged before it)");
		for (k = 0; with && k < who.nr; k++)
			strvec_push(with, who.v[k]);
		ret = 0;
	}
	strvec_clear(&stop);
	strvec_clear(&who);
	return ret;
}

enum ws_merge_outcome ws_forecast_one(struct ws_forecast *f,
				      struct ws_merge_job *j, int ok,
				      struct strbuf *detail,
				      struct strvec *with)
{
	int on_chain;

	would_wait_for(f, j->i, detail);
	if (detail->len)
		return WS_OUTCOME_SKIPPED;
	if (!ok)
		return WS_OUTCOME_FAILED;
	on_chain = f->chained;
	if (on_chain) {
		int c = compute_on_chain(f, j);

		if (c < 0)
			return WS_OUTCOME_FAILED;
		if (c > 0)
			return WS_OUTCOME_MERGED; /* already in: nothing to do */
	}
	if (!j->res.clean) {
		if (!on_chain ||
		    chain_conflict_reason(f, j, detail, with) < 0)
			ws_merge_job_conflict_reason(j, f->repo, f->plan,
						     f->stop, detail);
		return WS_OUTCOME_CONFLICT;
	}
	if (!on_chain && (git_oid_equal(&j->branch_tip, &j->base_tip) ||
			  git_graph_descendant_of(f->repo->repo, &j->base_tip,
						  &j->branch_tip) == 1))
		return WS_OUTCOME_MERGED; /* already in: nothing to do */
	if (extend_chain(f, j) < 0)
		return WS_OUTCOME_FAILED;
	ws_merge_job_note_owners(j, f->plan);
	strvec_join(detail, &j->owners_note, ", ");
	return WS_OUTCOME_MERGED;
}
