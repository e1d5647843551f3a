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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_respects_dependencies),
		cmocka_unit_test(test_ties_keep_plan_order),
		cmocka_unit_test(test_cycle_is_reported_as_a_path),
		cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_long_chain_does_not_recurse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
