/*
 * common/include.c: copying the included (ignored) files into a new
 * worktree, and the patterns that would leave the repository.
 */
#include "compat.h"
#include "include.h"
#include "lockfile.h"
#include "wrapper.h"
#include <setjmp.h>
#include <sys/stat.h>
#include <cmocka.h>

static char *tmp;

static char *at(const char *rel)
{
	return xstrfmt("%s/%s", tmp, rel);
}

static void put(const char *rel, const char *text, mode_t mode)
{
	char *path = at(rel), *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir), 0);
	assert_int_equal(write_file_atomically(path, text, strlen(text),
					       LOCK_NO_FSYNC), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(dir);
	free(path);
}

static void is(const char *rel, const char *text)
{
	char *path = at(rel), *buf;
	size_t len;

	assert_int_equal(read_file(path, &buf, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(buf, text, len);
	free(buf);
	free(path);
}

static int make_tmp(void **unused)
{
	char name[] = "/tmp/test-include.XXXXXX";

	assert_non_null(mkdtemp(name));
	tmp = xstrdup(name);
	return 0;
}

static int drop_tmp(void **unused)
{
	remove_dir_recursively(tmp);
	free(tmp);
	return 0;
}

static void test_copies_never_overwrite_and_are_not_links(void **unused)
{
	struct ws_include inc = WS_INCLUDE_INIT;
	char *link_path = at("from/deps/latest");
	struct stat a, b;
	size_t copied = 0;
	char *from_env = at("from/.env"), *to_env = at("to/.env");
	char *to_tool = at("to/deps/tool"), *to_link = at("to/deps/latest");
	char target[64];
	ssize_t n;

	put("from/.env", "KEY=main\n", 0600);
	put("from/deps/tool", "#!/bin/sh\n", 0755);
	put("from/local.cfg", "main\n", 0644);
	put("to/local.cfg", "the worktree's own\n", 0644);
	assert_int_equal(symlink("tool", link_path), 0);

	inc.from = at("from");
	strvec_push(&inc.files, ".env");
	strvec_push(&inc.files, "deps/latest");
	strvec_push(&inc.files, "deps/tool");
	strvec_push(&inc.files, "gone-since-the-listing");
	strvec_push(&inc.files, "local.cfg");
	{
		char *to = at("to");

		assert_int_equal(ws_include_copy(&inc, to, &copied), 0);
		free(to);
	}
	assert_int_equal(copied, 3);
	is("to/.env", "KEY=main\n");
	is("to/local.cfg", "the worktree's own\n");
	assert_int_equal(stat(from_env, &a), 0);
	assert_int_equal(stat(to_env, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	assert_int_equal(b.st_mode & 07777, 0600);
	assert_int_equal(stat(to_tool, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0755);
	n = readlink(to_link, target, sizeof(target) - 1);
	assert_int_equal(n, 4);
	target[n] = '\0';
	assert_string_equal(target, "tool");

	ws_include_release(&inc);
	free(link_path);
	free(from_env);
	free(to_env);
	free(to_tool);
	free(to_link);
}

static void test_patterns_that_leave_the_repository(void **unused)
{
	assert_true(ws_include_pattern_escapes("../x"));
	assert_true(ws_include_pattern_escapes("/../x"));
	assert_true(ws_include_pattern_escapes("!a/../../x"));
	assert_true(ws_include_pattern_escapes("a/.."));
	assert_false(ws_include_pattern_escapes(".env"));
	assert_false(ws_include_pattern_escapes("/config/*.local"));
	assert_false(ws_include_pattern_escapes("..env"));
	assert_false(ws_include_pattern_escapes("a/...b/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copies_never_overwrite_and_are_not_links,
						make_tmp, drop_tmp),
		cmocka_unit_test(test_patterns_that_leave_the_repository),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
