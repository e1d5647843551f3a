#include "compat.h"
#include "allocate.h"
#include "wrapper.h"

static size_t find_root(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

void ws_allocate(const struct plan *p, struct ws_allocation *out)
{
	size_t *parent = xmalloc((p->nr + 1) * sizeof(*parent));
	size_t *rank = xcalloc(p->nr + 1, sizeof(*rank)); /* topo position */
	size_t *best = xmalloc((p->nr + 1) * sizeof(*best));
	char *is_target = xcalloc(p->nr + 1, 1);
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->owner = xmalloc((p->nr + 1) * sizeof(*out->owner));
	out->why = xcalloc(p->nr + 1, sizeof(*out->why));
	for (i = 0; i < p->nr; i++) {
		parent[i] = i;
		rank[p->order[i]] = i;
	}

	for (i = 0; i < p->nr; i++) {
		const struct plan_workstream *w = &p->ws[i];

		if (w->share) {
			size_t t = (size_t)plan_find(p, w->share);
			is_target[t] = 1;
			out->why[i] = SHARE_EXPLICIT;
			parent[find_root(parent, i)] = find_root(parent, t);
		}
	}
	for (i = 0; i < p->nr; i++) {
		const struct plan_workstream *w = &p->ws[i];

		for (j = 0; j < w->dep_nr; j++) {
			size_t d = w->dep_idx[j];
			size_t ri, rd;

			if (!w->paths.nr || !p->ws[d].paths.nr ||
			    !plan_paths_overlap(&w->paths, &p->ws[d].paths))
				continue;
			ri = find_root(parent, i);
			rd = find_root(parent, d);
			if (ri == rd)
				continue;
			parent[ri] = rd;
			if (out->why[i] == SHARE_NONE)
				out->why[i] = SHARE_OVERLAP;
		}
	}

	/* each group's owner: a `worktree =` target first, then topo order */
	for (i = 0; i < p->nr; i++)
		best[i] = SIZE_MAX;
	for (i = 0; i < p->nr; i++) {
		size_t r = find_root(parent, i), b = best[r];

		if (b == SIZE_MAX || (is_target[i] && !is_target[b]) ||
		    (is_target[i] == is_target[b] && rank[i] < rank[b]))
			best[r] = i;
	}
	for (i = 0; i < p->nr; i++) {
		out->owner[i] = best[find_root(parent, i)];
		if (out->owner[i] == i)
			out->why[i] = SHARE_NONE;
		else if (out->why[i] == SHARE_NONE)
			out->why[i] = SHARE_OVERLAP; /* joined through another member */
	}

	for (i = 0; i < p->nr; i++) {
		if (!p->ws[i].paths.nr)
			continue;
		for (j = i + 1; j < p->nr; j++) {
			struct ws_conflict_risk *risk;

			if (!p->ws[j].paths.nr || out->owner[i] == out->owner[j] ||
			    !plan_paths_overlap(&p->ws[i].paths, &p->ws[j].paths) ||
			    graph_depends_on(&p->graph, i, j) ||
			    graph_depends_on(&p->graph, j, i))
				continue;
			ALLOC_GROW(out->risks, out->risk_nr + 1, out->risk_alloc);
			risk = &out->risks[out->risk_nr++];
			risk->a = i;
			risk->b = j;
		}
	}
	free(parent);
	free(rank);
	free(best);
	free(is_target);
}

void ws_allocation_release(struct ws_allocation *a)
{
	free(a->owner);
	free(a->why);
	free(a->risks);
	memset(a, 0, sizeof(*a));
}
