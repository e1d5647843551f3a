#include "compat.h"
#include "contracts.h"

void ws_merged_contracts(const struct plan *plan, const struct ws_state *st,
			 size_t i, struct strvec *ours_owns,
			 struct strvec *owners)
{
	size_t k, m;

	/* only the workstreams that own something: O(owners), not O(plan) */
	for (k = 0; k < plan->owner_nr; k++) {
		const struct plan_workstream *o = &plan->ws[plan->owners[k]];

		if (plan->owners[k] == i || !ws_is_merged(st, o->id))
			continue;
		for (m = 0; m < o->contract.nr; m++) {
			strvec_push(ours_owns, o->contract.v[m]);
			if (owners)
				strvec_push(owners, o->id);
		}
	}
}
