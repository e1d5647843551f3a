/*
 * common/donefile.c over the corpus of malformed .done files
 * (t/corpus/done, described in t/corpus/done/INDEX): every file gets the
 * verdict the INDEX gives, a refusal says why without control characters,
 * and a refused file leaves nothing behind in struct ws_done.
 *
 * The corpus is found under $WS_SOURCE_DIR, else under the current
 * directory (`make test` runs the unit tests from the top directory).
 */
#include "compat.h"
#include "donefile.h"
#include "strbuf.h"
#include "wrapper.h"
#include <dirent.h>
#include <regex.h>
#include <setjmp.h>
#include <cmocka.h>

#define EXPECT_ID "ws-1"

static char *corpus_dir(void)
{
	const char *top = getenv("WS_SOURCE_DIR");

	return xstrfmt("%s/t/corpus/done", top && *top ? top : ".");
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int matches(const char *re, const char *s)
{
	regex_t r;
	int ret;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB)) {
		print_error("bad regexp in INDEX: %s\n", re);
		return 0;
	}
	ret = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return ret;
}

/*
 * One INDEX line: "FILE\tok\tSTATUS-REGEXP" or "FILE\tmalformed\tREASON-
 * REGEXP", then "\tBUG" for a known bug. Returns 1 when the file got its
 * verdict, 0 when not (the reason printed).
 */
static int check_one(const char *dir, char *line, int *known_bugs)
{
	char *file = line, *verdict, *re, *bug, *path;
	struct ws_done d = WS_DONE_INIT;
	struct strbuf err = STRBUF_INIT;
	int rc, ok = 1, expect_ok;

	if (!(verdict = strchr(file, '\t')) || !(re = strchr(verdict + 1, '\t'))) {
		print_error("bad INDEX line: %s\n", line);
		return 0;
	}
	*verdict++ = '\0';
	*re++ = '\0';
	if ((bug = strchr(re, '\t')))
		*bug++ = '\0';
	expect_ok = !strcmp(verdict, "ok");
	if (!expect_ok && strcmp(verdict, "malformed")) {
		print_error("%s: verdict must be 'ok' or 'malformed'\n", file);
		return 0;
	}

	path = xstrfmt("%s/%s", dir, file);
	rc = ws_done_read(&d, path, EXPECT_ID, &err);
	if (rc == 1) {
		print_error("%s: missing\n", path);
		ok = 0;
	} else if (rc == 0) {
		if (!d.timestamp || !d.workstream_id || !d.summary ||
		    strcmp(d.workstream_id, EXPECT_ID)) {
			print_error("%s: accepted, but fields are missing\n", file);
			ok = 0;
		}
		if (err.len) {
			print_error("%s: accepted with a message: %s\n", file, err.buf);
			ok = 0;
		}
		if (!expect_ok)
			ok = 0;
		else if (!matches(re, ws_done_status_name(d.status))) {
			print_error("%s: status '%s' does not match /%s/\n", file,
				    ws_done_status_name(d.status), re);
			ok = 0;
		}
	} else {
		if (d.timestamp || d.workstream_id || d.summary || d.has_usage ||
		    d.usage.present) {
			print_error("%s: refused, but struct ws_done not left empty\n", file);
			ok = 0;
		}
		if (!err.len || has_control(err.buf)) {
			print_error("%s: refusal without a printable reason\n", file);
			ok = 0;
		}
		if (expect_ok)
			ok = 0;
		else if (!matches(re, err.buf)) {
			print_error("%s: reason '%s' does not match /%s/\n", file,
				    err.buf, re);
			ok = 0;
		}
	}
	if (!ok && (rc == 0) != expect_ok)
		print_error("%s: %s, expected %s (%s)\n", file,
			    rc == 0 ? "accepted" : "refused", verdict,
			    rc == 0 ? ws_done_status_name(d.status) : err.buf);
	if (bug) {
		/* a known bug: reported, not failed, until it is fixed */
		if (ok)
			print_message("%s: known bug fixed, update the INDEX: %s\n",
				      file, bug);
		else
			print_message("%s: known bug: %s\n", file, bug);
		(*known_bugs)++;
		ok = 1;
	}
	ws_done_release(&d);
	strbuf_release(&err);
	free(path);
	return ok;
}

static void test_corpus(void **unused)
{
	char *dir = corpus_dir();
	char *index = xstrfmt("%s/INDEX", dir);
	char *buf = NULL, *line, *next;
	size_t len;
	int failed = 0, checked = 0, known_bugs = 0;

	if (read_file(index, &buf, &len) < 0)
		fail_msg("cannot read '%s': %s (set WS_SOURCE_DIR)", index,
			 strerror(errno));
	for (line = buf; line && *line; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if (!*line || *line == '#')
			continue;
		checked++;
		if (!check_one(dir, line, &known_bugs))
			failed++;
	}
	print_message("%d done files checked, %d known bugs\n", checked,
		      known_bugs);
	assert_true(checked >= 40);
	assert_int_equal(failed, 0);
	free(buf);
	free(index);
	free(dir);
}

/* The INDEX names every file of the corpus, and only those. */
static void test_index_is_complete(void **unused)
{
	char *dir = corpus_dir();
	char *index = xstrfmt("%s/INDEX", dir);
	char *buf = NULL;
	size_t len;
	DIR *d;
	struct dirent *e;
	int files = 0;

	assert_int_equal(read_file(index, &buf, &len), 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *needle;

		if (n < 5 || strcmp(e->d_name + n - 5, ".done"))
			continue;
		files++;
		needle = xstrfmt("\n%s\t", e->d_name);
		if (!strstr(buf, needle))
			fail_msg("'%s' is not in the INDEX", e->d_name);
		free(needle);
	}
	closedir(d);
	assert_true(files >= 40);
	free(buf);
	free(index);
	free(dir);
}

/* Parse one done file from a string, expecting it valid. */
static void parse_ok(struct ws_done *d, const char *usage)
{
	struct strbuf err = STRBUF_INIT;
	char *json = xstrfmt("{\"status\":\"success\",\"timestamp\":\"2024-05-01T12:00:00Z\","
			     "\"workstream_id\":\"ws-1\"%s%s}",
			     usage ? ",\"usage\":" : "", usage ? usage : "");

	if (ws_done_parse(d, json, strlen(json), "ws-1", &err) < 0)
		fail_msg("refused %s: %s", json, err.buf);
	strbuf_release(&err);
	free(json);
}

/* "usage": which members were given, their values, the cost rounded. */
static void test_usage_values(void **unused)
{
	struct ws_done d = WS_DONE_INIT;

	parse_ok(&d, NULL);
	assert_int_equal(d.has_usage, 0);
	assert_int_equal(d.usage.present, 0);
	ws_done_release(&d);

	parse_ok(&d, "{}");
	assert_int_equal(d.has_usage, 1);
	assert_int_equal(d.usage.present, 0);
	ws_done_release(&d);

	parse_ok(&d, "{\"input_tokens\":1200,\"output_tokens\":340,\"cost_usd\":0.0123}");
	assert_int_equal(d.usage.present,
			 WS_USAGE_TOKENS_IN | WS_USAGE_TOKENS_OUT | WS_USAGE_COST);
	assert_true(d.usage.tokens_in == 1200);
	assert_true(d.usage.tokens_out == 340);
	assert_true(d.usage.cost_micro == 12300);
	ws_done_release(&d);
	assert_int_equal(d.has_usage, 0);
	assert_int_equal(d.usage.present, 0);

	/* an integer cost, a cost below a millionth, the largest token count */
	parse_ok(&d, "{\"cost_usd\":3,\"output_tokens\":9223372036854775807}");
	assert_int_equal(d.usage.present, WS_USAGE_COST | WS_USAGE_TOKENS_OUT);
	assert_true(d.usage.cost_micro == 3000000);
	assert_true(d.usage.tokens_out == 9223372036854775807ULL);
	ws_done_release(&d);
	parse_ok(&d, "{\"cost_usd\":0.0000004}");
	assert_true(d.usage.cost_micro == 0);
	ws_done_release(&d);
	parse_ok(&d, "{\"cost_usd\":0.0000006}");
	assert_true(d.usage.cost_micro == 1);
	ws_done_release(&d);
	parse_ok(&d, "{\"cost_usd\":1000000000}");
	assert_true(d.usage.cost_micro == 1000000000000000ULL);
	ws_done_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_index_is_complete),
		cmocka_unit_test(test_usage_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
