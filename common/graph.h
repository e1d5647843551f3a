#ifndef GRAPH_H
#define GRAPH_H

#include "compat.h"

/*
 * A dependency graph over nodes 0..nr-1: node i depends on deps[i][0..],
 * i.e. every dependency comes before i in a topological order. The graph
 * does not own names; callers map indices to workstream ids.
 */
struct graph {
	size_t nr;
	size_t **deps;   /* deps[i]: indices node i depends on */
	size_t *dep_nr;
	size_t *dep_alloc;
};
#define GRAPH_INIT { 0, NULL, NULL, NULL }

/* Make a graph of nr nodes without edges (g must be GRAPH_INIT or cleared). */
void graph_init(struct graph *g, size_t nr);
/* Record that `node` depends on `dep` (duplicates are ignored). */
void graph_add_dep(struct graph *g, size_t node, size_t dep);
void graph_clear(struct graph *g);

/*
 * Topological order, dependencies first; among nodes whose dependencies
 * are all placed, the lowest index comes first (so plan order breaks
 * ties, and the result is deterministic). O((V + E) log V); iterative, so
 * a chain of 10 000 nodes does not overflow the stack.
 *
 * Returns 0 and fills order[0..nr-1]. When the graph has a cycle returns
 * 1 and, when cycle is not NULL, sets *cycle to a newly allocated array
 * (the caller's to free) of the *cycle_nr nodes of one cycle, with the
 * first node repeated at the end: {a, b, a} means a -> b -> a
 * ("a depends on b, b depends on a").
 */
int graph_topo_order(const struct graph *g, size_t *order,
		     size_t **cycle, size_t *cycle_nr);

/*
 * 1 when `node` depends on `ancestor`, directly or through others
 * (iterative search), 0 otherwise; 0 when node == ancestor.
 */
int graph_depends_on(const struct graph *g, size_t node, size_t ancestor);

#endif
