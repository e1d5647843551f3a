#ifndef CONTRACTS_H
#define CONTRACTS_H

#include "compat.h"
#include "plan.h"
#include "state.h"
#include "strvec.h"

/*
 * Contract ownership: a workstream's `contract` paths are the files it
 * owns, and where a merge conflicts in one of them the owner's version
 * is kept (ws_merge_compute(), mergetree.h).
 */

/*
 * The contract ownership of a merge of plan->ws[i] into the base, for
 * ws_merge_compute(): the contract entries of every other workstream
 * whose work is in the base (ws_is_merged()) are appended to
 * `ours_owns`, and, when `owners` is not NULL, the id owning each entry
 * to `owners` (same index). The merged side's own is simply
 * plan->ws[i].contract. git ws-merge and the mergeable gate of git
 * ws-converge both use this, so that the gate forecasts the merge.
 */
void ws_merged_contracts(const struct plan *plan, const struct ws_state *st,
			 size_t i, struct strvec *ours_owns,
			 struct strvec *owners);

#endif
