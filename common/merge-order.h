#ifndef MERGE_ORDER_H
#define MERGE_ORDER_H

#include "compat.h"
#include "plan.h"
#include "state.h"

/*
 * The workstreams git ws-merge merges, in the order it merges them: the
 * merge queue (<ws dir>/queue, or the ids given, argv[0..argc), each of
 * which must be queued), dependencies first, then queue order (first
 * converged, first merged), as plan indices into a new array *order
 * (caller frees) of *nr. Queued ids that are not in the plan are skipped
 * with a warning. Dies when an id given is not a workstream of the plan;
 * for each given id that is not queued, says why (with a hint when it
 * may still converge) and sets *bad.
 */
void ws_merge_order(const struct plan *plan, const struct ws_state *st,
		    int argc, const char **argv, size_t **order, size_t *nr,
		    int *bad);

#endif
