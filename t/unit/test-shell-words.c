/*
 * Unit tests for common/shell-words.c: srun-args split as the shell
 * would, without a shell.
 */
#include "compat.h"
#include "shell-words.h"
#include <setjmp.h>
#include <cmocka.h>

/* split `s`, expecting success; the words joined with '|' */
static char *split(const char *s)
{
	struct strvec words = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;

	assert_int_equal(split_shell_words(s, &words, &err), 0);
	assert_int_equal(err.len, 0);
	for (i = 0; i < words.nr; i++)
		strbuf_addf(&out, "%s%s", i ? "|" : "", words.v[i]);
	strvec_clear(&words);
	strbuf_release(&err);
	return strbuf_detach(&out, NULL);
}

/* split `s`, expecting an error that contains `why`; nothing appended */
static void refuse(const char *s, const char *why)
{
	struct strvec words = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(split_shell_words(s, &words, &err), -1);
	assert_non_null(strstr(err.buf, why));
	assert_int_equal(words.nr, 0);
	strvec_clear(&words);
	strbuf_release(&err);
}

static void test_words(void **unused)
{
	char *got;

	(void)unused;
	got = split("--partition=gpu  --cpus-per-task=4\t--mem=8G");
	assert_string_equal(got, "--partition=gpu|--cpus-per-task=4|--mem=8G");
	free(got);
	got = split("'--comment=two words' --x=\"a b\" c\\ d");
	assert_string_equal(got, "--comment=two words|--x=a b|c d");
	free(got);
	got = split("");
	assert_string_equal(got, "");
	free(got);
	setenv("WS_TEST_PART", "debug", 1);
	got = split("--partition=$WS_TEST_PART '$WS_TEST_PART'");
	assert_string_equal(got, "--partition=debug|$WS_TEST_PART");
	free(got);
}

/* Nothing is run: a command substitution is refused, as shell syntax is */
static void test_refused(void **unused)
{
	(void)unused;
	refuse("--comment=$(touch /tmp/ws-never)", "command substitution");
	refuse("--comment=`id`", "command substitution");
	refuse("--a; rm -rf /", "unquoted");
	refuse("--a | b", "unquoted");
	refuse("--comment='open", "quote left open");
	assert_int_equal(access("/tmp/ws-never", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
