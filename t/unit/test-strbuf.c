/*
 * common/strbuf.c: strbuf_add_sanitized(), which stands between untrusted
 * text (plan titles, agent output, done-file summaries) and the terminal.
 */
#include "compat.h"
#include "strbuf.h"
#include <setjmp.h>
#include <cmocka.h>

static void check(const char *in, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_sanitized(&sb, in);
	assert_string_equal(sb.buf, expect);
	strbuf_release(&sb);
}

static void test_plain_text_is_kept(void **state)
{
	(void)state;
	check("", "");
	check("Add the parser\tand its tests", "Add the parser\tand its tests");
}

static void test_c0_controls_and_del(void **state)
{
	(void)state;
	check("red \033[31mtitle\033[0m", "red ?[31mtitle?[0m");
	check("a\rb\nc\bd\x7f" "e", "a?b?c?d?e");
}

static void test_utf8_is_kept(void **state)
{
	(void)state;
	/* é (C3 A9), ś (C5 9B: a 0x9b byte inside a character), €, 😀 */
	check("caf\xc3\xa9 \xc5\x9b \xe2\x82\xac \xf0\x9f\x98\x80",
	      "caf\xc3\xa9 \xc5\x9b \xe2\x82\xac \xf0\x9f\x98\x80");
	/* U+00A0, the first code point after the C1 controls */
	check("\xc2\xa0", "\xc2\xa0");
}

static void test_c1_controls(void **state)
{
	(void)state;
	/* U+009B (CSI) and U+0085 (NEL), each one '?' */
	check("x\xc2\x9b" "31mred", "x?31mred");
	check("\xc2\x80\xc2\x85\xc2\x9f", "???");
}

static void test_bytes_that_are_not_utf8(void **state)
{
	(void)state;
	/* a lone 0x9b (CSI in 8-bit mode), Latin-1 é, a cut sequence */
	check("\x9b" "31mred", "?31mred");
	check("caf\xe9", "caf?");
	check("\xe2\x82", "??");
	/* overlong forms of '/' and of ESC, a surrogate, above U+10FFFF */
	check("\xc0\xaf", "??");
	check("\xc0\x9b", "??");
	check("\xed\xa0\x80", "???");
	check("\xf4\x90\x80\x80", "????");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_kept),
		cmocka_unit_test(test_c0_controls_and_del),
		cmocka_unit_test(test_utf8_is_kept),
		cmocka_unit_test(test_c1_controls),
		cmocka_unit_test(test_bytes_that_are_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
