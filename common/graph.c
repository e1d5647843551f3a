#include "compat.h"
#include "graph.h"
#include "wrapper.h"

void graph_init(struct graph *g, size_t nr)
{
	g->nr = nr;
	g->deps = xcalloc(nr, sizeof(*g->deps));
	g->dep_nr = xcalloc(nr, sizeof(*g->dep_nr));
	g->dep_alloc = xcalloc(nr, sizeof(*g->dep_alloc));
}

void graph_add_dep(struct graph *g, size_t node, size_t dep)
{
	size_t i;

	for (i = 0; i < g->dep_nr[node]; i++)
		if (g->deps[node][i] == dep)
			return;
	ALLOC_GROW(g->deps[node], g->dep_nr[node] + 1, g->dep_alloc[node]);
	g->deps[node][g->dep_nr[node]++] = dep;
}

void graph_clear(struct graph *g)
{
	size_t i;

	for (i = 0; i < g->nr; i++)
		free(g->deps[i]);
	free(g->deps);
	free(g->dep_nr);
	free(g->dep_alloc);
	g->deps = NULL;
	g->dep_nr = g->dep_alloc = NULL;
	g->nr = 0;
}

/* A binary min-heap of node indices (or of positions in a list of nodes). */
struct heap {
	size_t *v;
	size_t nr;
};

static void heap_push(struct heap *h, size_t x)
{
	size_t i = h->nr++;

	h->v[i] = x;
	while (i && h->v[(i - 1) / 2] > h->v[i]) {
		size_t p = (i - 1) / 2, t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
}

static size_t heap_pop(struct heap *h)
{
	size_t top = h->v[0], i = 0;

	h->v[0] = h->v[--h->nr];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < h->nr && h->v[l] < h->v[m])
			m = l;
		if (r < h->nr && h->v[r] < h->v[m])
			m = r;
		if (m == i)
			break;
		t = h->v[m];
		h->v[m] = h->v[i];
		h->v[i] = t;
		i = m;
	}
	return top;
}

/*
 * Find one cycle among the nodes not placed by Kahn's algorithm: walk
 * dependency edges from an unplaced node; every unplaced node has an
 * unplaced dependency, so the walk must revisit a node.
 */
static void find_cycle(const struct graph *g, const char *placed,
		       size_t **cycle, size_t *cycle_nr)
{
	size_t *pos = xmalloc(g->nr * sizeof(*pos));
	size_t *path = xmalloc((g->nr + 1) * sizeof(*path));
	size_t n = 0, start = 0, i, cur;

	for (i = 0; i < g->nr; i++)
		pos[i] = SIZE_MAX;
	while (placed[start])
		start++;
	cur = start;
	while (pos[cur] == SIZE_MAX) {
		pos[cur] = n;
		path[n++] = cur;
		for (i = 0; i < g->dep_nr[cur]; i++)
			if (!placed[g->deps[cur][i]])
				break;
		cur = g->deps[cur][i];
	}
	*cycle_nr = n - pos[cur] + 1;
	*cycle = xmalloc(*cycle_nr * sizeof(**cycle));
	memcpy(*cycle, path + pos[cur], (n - pos[cur]) * sizeof(*path));
	(*cycle)[*cycle_nr - 1] = cur;
	free(pos);
	free(path);
}

int graph_topo_order_subset(const struct graph *g, const size_t *nodes,
			    size_t nr, size_t *order,
			    size_t **cycle, size_t *cycle_nr)
{
	/* pos[x]: where node x is in nodes[], or SIZE_MAX outside the subset */
	size_t *pos = xmalloc((g->nr + 1) * sizeof(*pos));
	size_t *missing = xcalloc(nr + 1, sizeof(*missing));
	size_t *rdep_nr = xcalloc(nr + 2, sizeof(*rdep_nr));
	size_t *rdeps, *fill;
	char *placed = xmalloc(g->nr + 1);
	struct heap h = { xmalloc((nr + 1) * sizeof(size_t)), 0 };
	size_t i, j, n = 0;
	int ret = 0;

	/* nodes outside the subset count as placed (for find_cycle()) */
	memset(placed, 1, g->nr + 1);
	for (i = 0; i < g->nr; i++)
		pos[i] = SIZE_MAX;
	for (i = 0; i < nr; i++) {
		pos[nodes[i]] = i;
		placed[nodes[i]] = 0;
	}

	/*
	 * Everything below is over positions in nodes[], so that the heap
	 * pops the first listed of the ready nodes. Reverse edges in CSR
	 * form: rdeps[rdep_nr[p]..rdep_nr[p + 1]] are the dependents of
	 * nodes[p] in the subset.
	 */
	for (i = 0; i < nr; i++) {
		size_t x = nodes[i];

		for (j = 0; j < g->dep_nr[x]; j++) {
			size_t d = pos[g->deps[x][j]];

			if (d == SIZE_MAX)
				continue;
			missing[i]++;
			rdep_nr[d + 1]++;
		}
	}
	for (i = 0; i < nr; i++)
		rdep_nr[i + 1] += rdep_nr[i];
	rdeps = xmalloc((rdep_nr[nr] + 1) * sizeof(*rdeps));
	fill = xmalloc((nr + 1) * sizeof(*fill));
	memcpy(fill, rdep_nr, nr * sizeof(*fill));
	for (i = 0; i < nr; i++) {
		size_t x = nodes[i];

		for (j = 0; j < g->dep_nr[x]; j++) {
			size_t d = pos[g->deps[x][j]];

			if (d != SIZE_MAX)
				rdeps[fill[d]++] = i;
		}
	}

	for (i = 0; i < nr; i++)
		if (!missing[i])
			heap_push(&h, i);
	while (h.nr) {
		size_t p = heap_pop(&h);

		placed[nodes[p]] = 1;
		order[n++] = nodes[p];
		for (j = rdep_nr[p]; j < rdep_nr[p + 1]; j++)
			if (!--missing[rdeps[j]])
				heap_push(&h, rdeps[j]);
	}
	if (n < nr) {
		ret = 1;
		if (cycle)
			find_cycle(g, placed, cycle, cycle_nr);
	}
	free(pos);
	free(missing);
	free(rdep_nr);
	free(rdeps);
	free(fill);
	free(placed);
	free(h.v);
	return ret;
}

int graph_topo_order(const struct graph *g, size_t *order,
		     size_t **cycle, size_t *cycle_nr)
{
	size_t *all = xmalloc((g->nr + 1) * sizeof(*all)), i;
	int ret;

	for (i = 0; i < g->nr; i++)
		all[i] = i;
	ret = graph_topo_order_subset(g, all, g->nr, order, cycle, cycle_nr);
	free(all);
	return ret;
}

int graph_depends_on(const struct graph *g, size_t node, size_t ancestor)
{
	char *seen;
	size_t *stack, nr = 0, i;
	int found = 0;

	if (node == ancestor)
		return 0;
	seen = xcalloc(g->nr, 1);
	stack = xmalloc((g->nr + 1) * sizeof(*stack));
	stack[nr++] = node;
	seen[node] = 1;
	while (nr && !found) {
		size_t x = stack[--nr];

		for (i = 0; i < g->dep_nr[x]; i++) {
			size_t d = g->deps[x][i];

			if (d == ancestor) {
				found = 1;
				break;
			}
			if (!seen[d]) {
				seen[d] = 1;
				stack[nr++] = d;
			}
		}
	}
	free(seen);
	free(stack);
	return found;
}
