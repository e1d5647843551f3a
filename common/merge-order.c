#include "compat.h"
#include "merge-order.h"
#include "usage.h"
#include "wrapper.h"

/*
 * Mark in chosen[] the workstreams named on the command line; each must
 * be queued. Says why of each that is not, and sets *bad.
 */
static void check_named(const struct plan *plan, const struct ws_state *st,
			int argc, const char **argv, char *chosen, int *bad)
{
	int i;

	for (i = 0; i < argc; i++) {
		ssize_t x = plan_find(plan, argv[i]);
		enum ws_status status;

		if (x < 0)
			die("'%s' is not a workstream of plan '%s'", argv[i],
			    plan->name);
		if (ws_queue_contains(st, argv[i])) {
			chosen[x] = 1;
			continue;
		}
		status = ws_state_status(st, argv[i]);
		error("'%s' is not in the merge queue (status: %s)", argv[i],
		      ws_status_name(status) ?: "none");
		if (!ws_status_is_finished(status))
			advise("a workstream enters the queue when 'git ws-converge %s' passes",
			       argv[i]);
		*bad = 1;
	}
}

/*
 * The plan indices of the queued workstreams (only those in chosen[]
 * when it is not NULL), in queue order, each once, into sel[]. Returns
 * how many.
 */
static size_t queued(const struct plan *plan, const struct ws_state *st,
		     const char *chosen, size_t *sel)
{
	char *seen = xcalloc(plan->nr + 1, 1);
	size_t q, n = 0, items_nr;
	const char **items = ws_queue_items(st, &items_nr);

	for (q = 0; q < items_nr; q++) {
		const char *id = items[q];
		ssize_t x = plan_find(plan, id);

		if (x < 0) {
			warning("queued workstream '%s' is not in plan '%s'; ignoring it",
				id, plan->name);
			continue;
		}
		if ((chosen && !chosen[x]) || seen[x])
			continue;
		seen[x] = 1;
		sel[n++] = x;
	}
	free(items);
	free(seen);
	return n;
}

void ws_merge_order(const struct plan *plan, const struct ws_state *st,
		    int argc, const char **argv, size_t **order, size_t *nr,
		    int *bad)
{
	char *chosen = xcalloc(plan->nr + 1, 1);
	size_t *sel = xcalloc(plan->nr + 1, sizeof(*sel));

	check_named(plan, st, argc, argv, chosen, bad);
	*nr = queued(plan, st, argc ? chosen : NULL, sel);
	*order = xcalloc(*nr + 1, sizeof(**order));
	if (graph_topo_order_subset(&plan->graph, sel, *nr, *order, NULL, NULL))
		BUG("the plan's graph has a cycle");
	free(sel);
	free(chosen);
}
