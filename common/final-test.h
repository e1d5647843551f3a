#ifndef FINAL_TEST_H
#define FINAL_TEST_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"

/*
 * The plan's `final-test` (git-ws(7)): the integration test that runs
 * once on the base after the plan's last merge, whether git ws-merge or
 * git ws-dispatch --loop (through git ws-merge) made it. Its result is
 * recorded in the plan-level section of the state (WS_PLAN_KEY_FINAL_TEST,
 * _OID and _LOG), which git ws-status and git ws-dispatch --loop read.
 */

/*
 * 1 when every workstream of the plan is merged (or finished: cleaned),
 * so that the plan's last merge is behind it; `st` read by the caller.
 */
int ws_final_test_plan_done(const struct plan *plan, const struct ws_state *st);

/*
 * 1 when the final test is due: the plan has a `final-test`, it is all
 * merged (ws_final_test_plan_done()), and no result is recorded for
 * `tip`, the base's tip now.
 */
int ws_final_test_due(const struct plan *plan, const struct ws_state *st,
		      const git_oid *tip);

/*
 * Run the plan's final-test on the base's tip, in git ws-merge's scratch
 * worktree (ws_scratch_checkout(), holding `hold_fd`, the caller's
 * merge.lock) as `/bin/sh -c`, bounded by the plan's `timeout`, with the
 * environment of a merge test less the workstream's variables: git's
 * repository variables unset, WS_BASE, WS_PLAN, GIT_WS_DIR,
 * WS_WORKTREE (the scratch worktree), WS_MERGE_OID (the base's tip)
 * and WS_LOG. Its output goes to <ws dir>/logs/final-test.log. The
 * result is recorded under the state lock; says it on stdout
 * ("final-test TAB passed|failed TAB <oid> TAB <log>" with `porcelain`)
 * and, when it failed, as an error on stderr. Returns 0 when it passed,
 * 1 when it failed (or timed out), -1 after an error (the plan has no
 * final-test, the base or the scratch worktree cannot be had).
 */
int ws_final_test_run(const struct ws_repo *r, const struct plan *plan,
		      int hold_fd, int porcelain);

#endif
