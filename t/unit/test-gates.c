/* Unit tests for common/gates.c: conflict markers and command labels. */
#include "compat.h"
#include "gates.h"
#include <setjmp.h>
#include <cmocka.h>

static int marker(const char *s)
{
	return ws_is_conflict_marker(s, strlen(s));
}

static void test_conflict_markers(void **unused)
{
	assert_true(marker("<<<<<<< HEAD\n"));
	assert_true(marker("<<<<<<<\n"));
	assert_true(marker("=======\n"));
	assert_true(marker("=======\r\n"));
	assert_true(marker(">>>>>>> feature/x\n"));
	assert_true(marker("||||||| merged common ancestors\n"));
	assert_true(marker(">>>>>>>")); /* the last line of a file */
}

static void test_not_conflict_markers(void **unused)
{
	assert_false(marker("========\n"));   /* a heading underline */
	assert_false(marker("======= x\n"));
	assert_false(marker("<<<<<<<< HEAD\n"));
	assert_false(marker(">>>>>>>x\n"));
	assert_false(marker(" <<<<<<< HEAD\n"));
	assert_false(marker("<<<<<<\n"));
	assert_false(marker("<<<=<<< \n"));
	assert_false(marker("\n"));
	assert_false(ws_is_conflict_marker("<<<<<<< HEAD", 5));
}

static void test_command_label(void **unused)
{
	struct strbuf sb = STRBUF_INIT;

	ws_gate_command_label(&sb, "make test", 60);
	assert_string_equal(sb.buf, "make test");
	strbuf_reset(&sb);
	ws_gate_command_label(&sb, "  a\n\tb\033[31m  ", 60);
	assert_string_equal(sb.buf, "a  b?[31m");
	strbuf_reset(&sb);
	ws_gate_command_label(&sb, "0123456789abcdef", 10);
	assert_string_equal(sb.buf, "0123456...");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conflict_markers),
		cmocka_unit_test(test_not_conflict_markers),
		cmocka_unit_test(test_command_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
