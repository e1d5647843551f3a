/* Unit tests for common/graph.c: topological order and cycles. */
#include "compat.h"
#include "graph.h"
#include <setjmp.h>
#include <cmocka.h>

static void test_order_respects_dependencies(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t order[4];

	/* 0 <- 1, 0 <- 2, {1,2} <- 3: a diamond, written out of order */
	graph_init(&g, 4);
	graph_add_dep(&g, 3, 1);
	graph_add_dep(&g, 3, 2);
	graph_add_dep(&g, 1, 0);
	graph_add_dep(&g, 2, 0);
	assert_int_equal(graph_topo_order(&g, order, NULL, NULL), 0);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1); /* ties: lowest index first */
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 3);
	assert_true(graph_depends_on(&g, 3, 0));
	assert_false(graph_depends_on(&g, 0, 3));
	assert_false(graph_depends_on(&g, 1, 2));
	assert_false(graph_depends_on(&g, 1, 1));
	graph_clear(&g);
}

static void test_ties_keep_plan_order(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t order[3];

	/* 0 depends on 2: 1 and 2 are free, 1 comes first */
	graph_init(&g, 3);
	graph_add_dep(&g, 0, 2);
	assert_int_equal(graph_topo_order(&g, order, NULL, NULL), 0);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	graph_clear(&g);
}

static void test_cycle_is_reported_as_a_path(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t order[4], *cycle = NULL, n = 0, i;

	/* 0 is free; 1 -> 2 -> 3 -> 1 */
	graph_init(&g, 4);
	graph_add_dep(&g, 1, 2);
	graph_add_dep(&g, 2, 3);
	graph_add_dep(&g, 3, 1);
	graph_add_dep(&g, 1, 0);
	assert_int_equal(graph_topo_order(&g, order, &cycle, &n), 1);
	assert_int_equal(n, 4);
	assert_int_equal(cycle[0], cycle[n - 1]);
	/* every step follows an edge */
	for (i = 0; i + 1 < n; i++)
		assert_true(graph_depends_on(&g, cycle[i], cycle[i + 1]));
	free(cycle);
	graph_clear(&g);
}

static void test_self_cycle(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t order[1], *cycle = NULL, n = 0;

	graph_init(&g, 1);
	graph_add_dep(&g, 0, 0);
	assert_int_equal(graph_topo_order(&g, order, &cycle, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(cycle[0], 0);
	assert_int_equal(cycle[1], 0);
	free(cycle);
	graph_clear(&g);
}

static void test_long_chain_does_not_recurse(void **unused)
{
	enum { N = 200000 };
	struct graph g = GRAPH_INIT;
	size_t *order = malloc(N * sizeof(*order)), i, *cycle = NULL, n = 0;

	graph_init(&g, N);
	for (i = 1; i < N; i++)
		graph_add_dep(&g, i - 1, i); /* reversed chain: N-1 first */
	assert_int_equal(graph_topo_order(&g, order, NULL, NULL), 0);
	assert_int_equal(order[0], N - 1);
	assert_int_equal(order[N - 1], 0);
	assert_true(graph_depends_on(&g, 0, N - 1));
	graph_add_dep(&g, N - 1, 0); /* close the loop: a cycle of length N */
	assert_int_equal(graph_topo_order(&g, order, &cycle, &n), 1);
	assert_int_equal(n, N + 1);
	free(cycle);
	free(order);
	graph_clear(&g);
}

static void test_subset_ties_follow_the_listing(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t nodes[] = { 3, 0, 2, 1 }, order[4];

	/* no edges: the listing is the order */
	graph_init(&g, 4);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 4, order, NULL, NULL), 0);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[3], 1);
	graph_clear(&g);
}

static void test_subset_dependencies_first(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t nodes[] = { 0, 1, 3, 2 }, order[4];

	/* 0 depends on 2, 3 depends on 0: listed first, 0 waits for 2 */
	graph_init(&g, 4);
	graph_add_dep(&g, 0, 2);
	graph_add_dep(&g, 3, 0);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 4, order, NULL, NULL), 0);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 3);
	graph_clear(&g);
}

static void test_subset_ignores_unlisted_nodes(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t nodes[] = { 0, 2, 4 }, order[3] = { 9, 9, 9 };

	/* 0 -> 1 -> 2 and 4 -> 3: 1 and 3 are not listed */
	graph_init(&g, 5);
	graph_add_dep(&g, 0, 1);
	graph_add_dep(&g, 1, 2);
	graph_add_dep(&g, 4, 3);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 3, order, NULL, NULL), 0);
	assert_int_equal(order[0], 0); /* not held back through 1 */
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 4);

	/* a cycle through an unlisted node is no cycle of the subset */
	graph_add_dep(&g, 2, 0);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 3, order, NULL, NULL), 0);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 4);
	graph_add_dep(&g, 3, 4);
	nodes[1] = 3;
	assert_int_equal(graph_topo_order_subset(&g, nodes + 1, 1, order, NULL, NULL), 0);
	assert_int_equal(order[0], 3);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 0, order, NULL, NULL), 0);
	graph_clear(&g);
}

static void test_subset_cycle(void **unused)
{
	struct graph g = GRAPH_INIT;
	size_t nodes[] = { 4, 1, 2 }, order[3], *cycle = NULL, n = 0, i;

	/* 1 <-> 2 among the listed; 0 and 3 are not listed */
	graph_init(&g, 5);
	graph_add_dep(&g, 0, 3);
	graph_add_dep(&g, 3, 0);
	graph_add_dep(&g, 1, 2);
	graph_add_dep(&g, 2, 1);
	graph_add_dep(&g, 1, 0);
	assert_int_equal(graph_topo_order_subset(&g, nodes, 3, order, &cycle, &n), 1);
	assert_int_equal(order[0], 4);
	assert_int_equal(n, 3);
	assert_int_equal(cycle[0], cycle[2]);
	for (i = 0; i + 1 < n; i++) {
		assert_true(cycle[i] == 1 || cycle[i] == 2);
		assert_true(graph_depends_on(&g, cycle[i], cycle[i + 1]));
	}
	free(cycle);
	graph_clear(&g);
}

static void test_subset_long_chain(void **unused)
{
	enum { N = 10000 };
	struct graph g = GRAPH_INIT;
	size_t *nodes = malloc(N * sizeof(*nodes));
	size_t *order = malloc(N * sizeof(*order)), i;

	/* i depends on i + 1, listed 0 first: the order is the reverse */
	graph_init(&g, N + 1);
	for (i = 0; i + 1 < N; i++)
		graph_add_dep(&g, i, i + 1);
	graph_add_dep(&g, N - 1, N); /* not listed */
	for (i = 0; i < N; i++)
		nodes[i] = i;
	assert_int_equal(graph_topo_order_subset(&g, nodes, N, order, NULL, NULL), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(order[i], N - 1 - i);
	free(nodes);
	free(order);
	graph_clear(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_respects_dependencies),
		cmocka_unit_test(test_ties_keep_plan_order),
		cmocka_unit_test(test_cycle_is_reported_as_a_path),
		cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_long_chain_does_not_recurse),
		cmocka_unit_test(test_subset_ties_follow_the_listing),
		cmocka_unit_test(test_subset_dependencies_first),
		cmocka_unit_test(test_subset_ignores_unlisted_nodes),
		cmocka_unit_test(test_subset_cycle),
		cmocka_unit_test(test_subset_long_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
