/*
 * Unit tests for common/cost.c: the sums of tokens and cost in the state,
 * the plan's total, and the budget (max-cost).
 */
#include "compat.h"
#include "cost.h"
#include "plan.h"
#include <setjmp.h>
#include <cmocka.h>

static struct ws_usage usage(unsigned present, uint64_t in, uint64_t out,
			     uint64_t cost_micro)
{
	struct ws_usage u = WS_USAGE_INIT;

	u.present = present;
	u.tokens_in = in;
	u.tokens_out = out;
	u.cost_micro = cost_micro;
	return u;
}

#define ALL (WS_USAGE_TOKENS_IN | WS_USAGE_TOKENS_OUT | WS_USAGE_COST)

/* Runs add up per workstream; only the members some run reported are set. */
static void test_sums(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_usage u = usage(ALL, 1000, 200, 12300), got;
	const char *bad = "x";

	ws_state_set_status(&st, "a", WS_STATUS_IN_PROGRESS, NULL);
	ws_usage_add(&st, "a", &u);
	u = usage(ALL, 500, 50, 1000000);
	ws_usage_add(&st, "a", &u);
	assert_string_equal(ws_state_get(&st, "a", WS_KEY_TOKENS_IN), "1500");
	assert_string_equal(ws_state_get(&st, "a", WS_KEY_TOKENS_OUT), "250");
	assert_string_equal(ws_state_get(&st, "a", WS_KEY_COST_USD), "1.012300");
	assert_int_equal(ws_usage_get(&st, "a", &got, &bad), 0);
	assert_null(bad);
	assert_int_equal(got.present, ALL);
	assert_true(got.tokens_in == 1500 && got.tokens_out == 250 &&
		    got.cost_micro == 1012300);

	/* a run without usage, or with an empty one, changes nothing */
	u = usage(0, 0, 0, 0);
	ws_usage_add(&st, "b", &u);
	assert_null(ws_state_find(&st, "b"));
	/* only a cost: no token keys */
	u = usage(WS_USAGE_COST, 0, 0, 500000);
	ws_usage_add(&st, "b", &u);
	assert_null(ws_state_get(&st, "b", WS_KEY_TOKENS_IN));
	assert_string_equal(ws_state_get(&st, "b", WS_KEY_COST_USD), "0.500000");
	assert_int_equal(ws_usage_get(&st, "b", &got, NULL), 0);
	assert_int_equal(got.present, WS_USAGE_COST);

	assert_int_equal(ws_usage_plan_total(&st, &got), 0);
	assert_int_equal(got.present, ALL);
	assert_true(got.tokens_in == 1500 && got.cost_micro == 1512300);
	ws_state_release(&st);
}

/* Hand-edited values read as absent, and say which key; sums saturate. */
static void test_bad_values_and_saturation(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_usage u, got;
	const char *bad = NULL;

	ws_state_set(&st, "a", WS_KEY_TOKENS_IN, "12");
	ws_state_set(&st, "a", WS_KEY_TOKENS_OUT, "-3");
	ws_state_set(&st, "a", WS_KEY_COST_USD, "1.2.3");
	assert_int_equal(ws_usage_get(&st, "a", &got, &bad), -1);
	assert_string_equal(bad, WS_KEY_TOKENS_OUT);
	assert_int_equal(got.present, WS_USAGE_TOKENS_IN);
	assert_int_equal(ws_usage_plan_total(&st, &got), -1);

	/* an unreadable sum starts again from the next run */
	u = usage(WS_USAGE_COST, 0, 0, 250000);
	ws_usage_add(&st, "a", &u);
	assert_string_equal(ws_state_get(&st, "a", WS_KEY_COST_USD), "0.250000");

	ws_state_set(&st, "b", WS_KEY_TOKENS_IN, "18446744073709551615");
	u = usage(WS_USAGE_TOKENS_IN, 5, 0, 0);
	ws_usage_add(&st, "b", &u);
	assert_string_equal(ws_state_get(&st, "b", WS_KEY_TOKENS_IN),
			    "18446744073709551615");
	ws_state_set(&st, "b", WS_KEY_COST_USD, "18446744073708.999999");
	u = usage(WS_USAGE_COST, 0, 0, 1000000);
	ws_usage_add(&st, "b", &u);
	assert_string_equal(ws_state_get(&st, "b", WS_KEY_COST_USD),
			    "18446744073708.999999");
	assert_int_equal(ws_usage_get(&st, "b", &got, NULL), 0);
	ws_state_release(&st);
}

static void read_plan(struct plan *p, const char *max_cost)
{
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;

	strbuf_addstr(&text, "[plan]\n");
	if (max_cost)
		strbuf_addf(&text, "max-cost = %s\n", max_cost);
	strbuf_addstr(&text, "[workstream \"a\"]\ntitle = A\n"
			     "[workstream \"b\"]\ntitle = B\n"
			     "[workstream \"c\"]\ntitle = C\ndepends = a\n");
	if (plan_read_buf(p, "p.plan", text.buf, text.len, "feature/", &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
	strbuf_release(&text);
}

/* The budget is spent when the total reaches max-cost, not before. */
static void test_budget(void **unused)
{
	struct plan none = PLAN_INIT, one = PLAN_INIT;
	struct ws_state st = WS_STATE_INIT;
	struct strbuf msg = STRBUF_INIT;
	struct ws_usage u = usage(WS_USAGE_COST, 0, 0, 600000);

	read_plan(&none, NULL);
	read_plan(&one, "1");
	ws_state_set_status(&st, "a", WS_STATUS_MERGED, NULL);
	ws_state_set_status(&st, "b", WS_STATUS_READY, NULL);
	ws_state_set_status(&st, "c", WS_STATUS_READY, "sent back (iteration 1): tests");

	ws_usage_add(&st, "a", &u);
	assert_int_equal(ws_budget_spent(&one, &st, &msg), 0);
	assert_int_equal(msg.len, 0);
	assert_int_equal(ws_budget_hold(&one, &st), 0);
	assert_null(ws_state_get(&st, "b", WS_KEY_REASON));

	u.cost_micro = 400000; /* exactly 1.00 in all */
	ws_usage_add(&st, "b", &u);
	assert_int_equal(ws_budget_spent(&none, &st, &msg), 0);
	assert_int_equal(ws_budget_spent(&one, &st, &msg), 1);
	assert_string_equal(msg.buf,
			    "budget spent: $1.00 of $1.00 max-cost; raise max-cost in the plan to go on");
	assert_int_equal(ws_budget_hold(&one, &st), 1);
	assert_string_equal(ws_state_get(&st, "b", WS_KEY_REASON), WS_REASON_BUDGET);
	assert_string_equal(ws_state_get(&st, "c", WS_KEY_REASON), WS_REASON_BUDGET);
	assert_null(ws_state_get(&st, "a", WS_KEY_REASON)); /* not ready */
	assert_int_equal(ws_state_status(&st, "b"), WS_STATUS_READY);

	/* more budget: the reason goes, the status stays */
	assert_int_equal(ws_budget_hold(&none, &st), 0);
	assert_null(ws_state_get(&st, "b", WS_KEY_REASON));
	assert_null(ws_state_get(&st, "c", WS_KEY_REASON));
	assert_int_equal(ws_state_status(&st, "c"), WS_STATUS_READY);

	plan_release(&none);
	plan_release(&one);
	ws_state_release(&st);
	strbuf_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_bad_values_and_saturation),
		cmocka_unit_test(test_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
