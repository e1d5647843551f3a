#include "compat.h"
#include "final-test.h"
#include "gates.h"
#include "scratch.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"

int ws_final_test_plan_done(const struct plan *plan, const struct ws_state *st)
{
	size_t i;

	for (i = 0; i < plan->nr; i++) {
		const char *id = plan->ws[i].id;

		if (!ws_is_merged(st, id) &&
		    !ws_status_is_finished(ws_state_status(st, id)))
			return 0;
	}
	return 1;
}

int ws_final_test_due(const struct plan *plan, const struct ws_state *st,
		      const git_oid *tip)
{
	const char *done = ws_state_plan_get(st, WS_PLAN_KEY_FINAL_TEST_OID);
	char hex[GIT_OID_HEXSZ + 1];

	if (!plan->final_test || !ws_final_test_plan_done(plan, st))
		return 0;
	return !done || strcmp(done, ws_oid_hex(tip, hex));
}

/* Record the result under the state lock. */
static void record(const struct ws_repo *r, const char *result,
		   const char *hex, const char *log)
{
	struct ws_state st = WS_STATE_INIT;

	ws_state_lock_repo(&st, r);
	ws_state_plan_set(&st, WS_PLAN_KEY_FINAL_TEST, result);
	ws_state_plan_set(&st, WS_PLAN_KEY_FINAL_TEST_OID, hex);
	ws_state_plan_set(&st, WS_PLAN_KEY_FINAL_TEST_LOG, log);
	ws_state_commit_or_die(&st);
	ws_state_release(&st);
}

int ws_final_test_run(const struct ws_repo *r, const struct plan *plan,
		      int hold_fd, int porcelain)
{
	struct strvec env = STRVEC_INIT;
	struct ws_gate_run run;
	char *scratch = NULL, *log = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid tip;
	int ret = -1, passed;

	if (!plan->final_test)
		return error("plan '%s' has no final-test", plan->name);
	if (ws_branch_tip(r, plan->base, &tip) < 0)
		return error("base branch '%s' does not exist", plan->base);
	ws_oid_hex(&tip, hex);
	if (ws_scratch_checkout(r, hex, 0, hold_fd) < 0)
		return -1;
	scratch = ws_scratch_path(r);
	log = ws_path(r, "logs/final-test.log");
	strvec_pushv(&env, (const char **)ws_local_git_env);
	strvec_pushf(&env, "WS_BASE=%s", plan->base);
	strvec_pushf(&env, "WS_PLAN=%s/plan", r->ws_dir);
	strvec_pushf(&env, "GIT_WS_DIR=%s", r->ws_dir);
	strvec_pushf(&env, "WS_WORKTREE=%s", scratch);
	strvec_pushf(&env, "WS_MERGE_OID=%s", hex);
	strvec_pushf(&env, "WS_LOG=%s", log);
	if (!porcelain && isatty(2))
		fprintf(stderr, "Running the final test on %s (%.7s)...\n",
			plan->base, hex);
	if (ws_gate_run_command(plan->final_test, scratch, &env, plan->timeout,
				log, &run) < 0)
		goto out;
	passed = !run.code && !run.timed_out;
	if (run.timed_out)
		warning("the final test timed out after %lds", plan->timeout);
	record(r, passed ? "passed" : "failed", hex, log);
	if (porcelain)
		printf("final-test\t%s\t%s\t%s\n", passed ? "passed" : "failed",
		       hex, log);
	else if (passed)
		printf("Final test passed on %s (%.7s): the plan is complete.\n",
		       plan->base, hex);
	if (!passed) {
		error("integration failed: the final test fails on '%s' (%.7s); see %s",
		      plan->base, hex, log);
		advise("fix it on '%s', then run 'git ws-merge --final-test' again",
		       plan->base);
	}
	ret = passed ? 0 : 1;
out:
	strvec_clear(&env);
	free(scratch);
	free(log);
	return ret;
}
