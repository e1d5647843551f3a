/*
 * common/dot.c: ws_dot_quote(), which puts ids, titles and the plan name
 * into Graphviz DOT strings, and the colours of the statuses.
 */
#include "compat.h"
#include "dot.h"
#include <setjmp.h>
#include <cmocka.h>

static void check(const char *in, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	ws_dot_quote(&sb, in);
	assert_string_equal(sb.buf, expect);
	strbuf_release(&sb);
}

static void test_plain_text_is_quoted(void **state)
{
	(void)state;
	check("", "\"\"");
	check("ws-1", "\"ws-1\"");
	check("a -> b; c", "\"a -> b; c\"");
}

static void test_quotes_and_backslashes_are_escaped(void **state)
{
	(void)state;
	check("say \"hi\"", "\"say \\\"hi\\\"\"");
	/* a backslash never starts a Graphviz escape (\n, \l, \N) */
	check("a\\nb", "\"a\\\\nb\"");
	check("C:\\", "\"C:\\\\\"");
	check("\\\"", "\"\\\\\\\"\"");
}

static void test_newlines_break_lines_controls_are_harmless(void **state)
{
	(void)state;
	check("one\ntwo", "\"one\\ntwo\"");
	check("one\n", "\"one\\n\"");
	check("\n\n", "\"\\n\\n\"");
	check("red \033[31m", "\"red ?[31m\"");
	check("caf\xc3\xa9", "\"caf\xc3\xa9\"");
}

static void test_every_status_has_its_own_colour(void **state)
{
	enum ws_status s, t;

	(void)state;
	assert_string_equal(ws_dot_color(WS_STATUS_NONE), "white");
	for (s = WS_STATUS_BLOCKED; s <= WS_STATUS_CLEANED; s++)
		for (t = WS_STATUS_NONE; t < s; t++)
			assert_string_not_equal(ws_dot_color(s), ws_dot_color(t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_quoted),
		cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
		cmocka_unit_test(test_newlines_break_lines_controls_are_harmless),
		cmocka_unit_test(test_every_status_has_its_own_colour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
