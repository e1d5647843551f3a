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
 * Topological order of a subset of the graph's nodes: nodes[0..nr-1],
 * distinct, listed in order of priority. Dependencies come first; among
 * the listed nodes whose listed dependencies are all placed, the one
 * listed first comes first. So the listing order decides only where the
 * dependencies leave a choice: a node listed before one of its
 * dependencies still comes after it. Dependencies on nodes that are not
 * listed are ignored, and are not followed through: when a depends on b
 * and b on c, and only a and c are listed, a need not come after c.
 * graph_topo_order() is this function with every node listed by index.
 *
 * Returns 0 and fills order[0..nr-1] with the listed nodes (the caller
 * owns order; nodes is not changed). When the listed nodes have a cycle
 * among them returns 1, order holds the nodes placed before it, and
 * *cycle and *cycle_nr (when cycle is not NULL) are set as by
 * graph_topo_order(), to a cycle of listed nodes.
 *
 * O(V + E_S + nr log nr), E_S the number of dependencies of the listed
 * nodes, V the nodes of the graph (for an index from node to listing);
 * iterative, so a chain of 10 000 nodes does not overflow the stack.
 */
int graph_topo_order_subset(const struct graph *g, const size_t *nodes,
			    size_t nr, size_t *order,
			    size_t **cycle, size_t *cycle_nr);

/*
 * 1 when `node` depends on `ancestor`, directly or through others
 * (iterative search), 0 otherwise; 0 when node == ancestor.
 */
int graph_depends_on(const struct graph *g, size_t node, size_t ancestor);

#endif
