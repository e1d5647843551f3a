/* Unit tests for common/plan.c and common/cfgfile.c: parsing and validation. */
#include "compat.h"
#include "plan.h"
#include "cfgfile.h"
#include "allocate.h"
#include "cost.h"
#include <setjmp.h>
#include <cmocka.h>
#include <git2.h>

/* Parse `text` as plan "p.plan"; return 0 or -1 with the message in *err. */
static int parse(struct plan *p, const char *text, struct strbuf *err)
{
	return plan_read_buf(p, "p.plan", text, strlen(text), "feature/", err);
}

/* The plan must be refused with exactly this message. */
static void expect_error(const char *text, const char *message)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(parse(&p, text, &err), -1);
	assert_string_equal(err.buf, message);
	strbuf_release(&err);
}

static void test_valid_plan(void **unused)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *text =
		"[plan]\n"
		"\tname = demo ; a comment\n"
		"\tbase = main\n"
		"\tcommand = ./run.sh \"a;b\"\n"
		"\tcheck = make lint\n"
		"\tcheck = make vet\n"
		"\tjobs = 3\n"
		"[workstream \"ws-1\"]\n"
		"\ttitle = WebSocket Server!\n"
		"\tpaths = src/ws/* include/ws.h\n"
		"[workstream \"ws-2\"]\n"
		"\ttitle = Client\n"
		"\tdepends = ws-1\n"
		"\ttimeout = 30m\n"
		"\tcheck = make check\n";

	assert_int_equal(parse(&p, text, &err), 0);
	assert_string_equal(p.name, "demo");
	assert_string_equal(p.base, "main");
	assert_int_equal(p.jobs, 3);
	assert_int_equal(p.nr, 2);
	/* quotes are git-config quotes: removed, the ';' inside kept */
	assert_string_equal(p.command, "./run.sh a;b");
	assert_string_equal(p.ws[0].branch, "feature/ws-1-websocket-server");
	assert_int_equal(p.ws[0].paths.nr, 2);
	assert_string_equal(p.ws[1].command, "./run.sh a;b"); /* inherited */
	assert_int_equal(p.ws[1].timeout, 1800);
	assert_int_equal(p.ws[0].check.nr, 2);
	assert_int_equal(p.ws[1].check.nr, 1); /* overridden, not appended */
	assert_string_equal(p.ws[1].check.v[0], "make check");
	assert_int_equal(p.ws[1].dep_nr, 1);
	assert_int_equal(p.ws[1].dep_idx[0], 0);
	assert_int_equal(p.order[0], 0);
	assert_int_equal(p.max_iterations, PLAN_DEFAULT_MAX_ITERATIONS);
	assert_int_equal(plan_find(&p, "ws-2"), 1);
	assert_int_equal(plan_find(&p, "ws-3"), -1);
	plan_release(&p);
	strbuf_release(&err);
}

static void test_normalised_plan_reads_back_the_same(void **unused)
{
	struct plan p = PLAN_INIT, q = PLAN_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, out2 = STRBUF_INIT;
	const char *text =
		"[plan]\n"
		"command = echo \"x ; y\" # comment\n"
		"[workstream \"a\"]\n"
		"title = \"  Quotes \\\" and \\\\ and $(x) ; and\\nnewline  \"\n";

	assert_int_equal(parse(&p, text, &err), 0);
	assert_string_equal(p.ws[0].title, "  Quotes \" and \\ and $(x) ; and\nnewline  ");
	plan_format(&p, &out);
	assert_int_equal(plan_read_buf(&q, "n.plan", out.buf, out.len, "feature/", &err), 0);
	assert_string_equal(q.ws[0].title, p.ws[0].title);
	assert_string_equal(q.command, "echo x ; y");
	plan_format(&q, &out2);
	assert_string_equal(out.buf, out2.buf);
	plan_release(&p);
	plan_release(&q);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&out2);
}

/* max-cost: read in millionths of a dollar, written back the same. */
static void test_max_cost(void **unused)
{
	struct plan p = PLAN_INIT, q = PLAN_INIT;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;

	assert_int_equal(parse(&p, "[plan]\n[workstream \"a\"]\ntitle = A\n", &err), 0);
	assert_true(p.max_cost == 0);
	plan_format(&p, &out);
	assert_null(strstr(out.buf, "max-cost"));
	plan_release(&p);
	strbuf_reset(&out);

	assert_int_equal(parse(&p, "[plan]\nmax-cost = 2.5\n[workstream \"a\"]\ntitle = A\n", &err), 0);
	assert_true(p.max_cost == 2500000);
	plan_format(&p, &out);
	assert_non_null(strstr(out.buf, "\tmax-cost = 2.50\n"));
	assert_int_equal(plan_read_buf(&q, "n.plan", out.buf, out.len, "feature/", &err), 0);
	assert_true(q.max_cost == 2500000);
	plan_release(&p);
	plan_release(&q);

	expect_error("[plan]\nmax-cost = 0.0000001\n[workstream \"a\"]\ntitle = A\n",
		     "p.plan:2: bad max-cost '0.0000001' (expected a positive amount in US dollars, e.g. 5 or 2.50)");
	expect_error("[plan]\nmax-cost = 0.000\n[workstream \"a\"]\ntitle = A\n",
		     "p.plan:2: bad max-cost '0.000' (expected a positive amount in US dollars, e.g. 5 or 2.50)");
	expect_error("[workstream \"a\"]\ntitle = A\nmax-cost = 5\n",
		     "p.plan:3: unknown key 'max-cost' in [workstream \"a\"]");
	strbuf_release(&err);
	strbuf_release(&out);
}

/* Amounts in US dollars: exact in millionths, refused when not plain. */
static void test_cost_parse_and_format(void **unused)
{
	static const char *const bad[] = {
		"", ".", "1.", ".5", "-1", "+1", "1e3", "0x10", " 1", "1 ", "1,5",
		"1.0000001", "$1", "18446744073709.551615", "99999999999999999999",
	};
	struct strbuf sb = STRBUF_INIT;
	uint64_t m = 42;
	size_t i;

	assert_int_equal(ws_cost_parse("0", &m), 0);
	assert_true(m == 0);
	assert_int_equal(ws_cost_parse("12", &m), 0);
	assert_true(m == 12000000);
	assert_int_equal(ws_cost_parse("0.000001", &m), 0);
	assert_true(m == 1);
	assert_int_equal(ws_cost_parse("3.1", &m), 0);
	assert_true(m == 3100000);
	assert_int_equal(ws_cost_parse("18446744073708.999999", &m), 0);
	assert_true(m == 18446744073708999999ULL);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		m = 42;
		if (!ws_cost_parse(bad[i], &m))
			fail_msg("'%s' accepted", bad[i]);
		assert_true(m == 42);
	}

	ws_cost_format(&sb, 12300, 1);
	assert_string_equal(sb.buf, "0.012300");
	strbuf_reset(&sb);
	ws_cost_format(&sb, 12300, 0);
	assert_string_equal(sb.buf, "0.0123");
	strbuf_reset(&sb);
	ws_cost_format(&sb, 1500000, 0);
	assert_string_equal(sb.buf, "1.50");
	strbuf_reset(&sb);
	ws_cost_format(&sb, 12000000, 0);
	assert_string_equal(sb.buf, "12.00");
	strbuf_reset(&sb);
	ws_cost_format(&sb, 1, 0);
	assert_string_equal(sb.buf, "0.000001");
	strbuf_release(&sb);
}

static void test_long_line_is_not_cut(void **unused)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, cmd = STRBUF_INIT;
	int i;

	for (i = 0; i < 300; i++)
		strbuf_addch(&cmd, 'a' + i % 26);
	strbuf_addf(&text, "[plan]\ncommand = %s\n[workstream \"w\"]\ntitle = t\n"
		    "depends = nope\n", cmd.buf);
	/* the line after the long one keeps its number */
	assert_int_equal(parse(&p, text.buf, &err), -1);
	assert_string_equal(err.buf, "p.plan:5: workstream 'w' depends on unknown workstream 'nope'");
	strbuf_reset(&text);
	strbuf_addf(&text, "[plan]\ncommand = %s\n[workstream \"w\"]\ntitle = t\n", cmd.buf);
	assert_int_equal(parse(&p, text.buf, &err), 0);
	assert_string_equal(p.command, cmd.buf);
	plan_release(&p);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&cmd);
}

static void test_validation_errors(void **unused)
{
	expect_error("[workstream \"a\"]\ntitle = A\ndepends = b\n",
		     "p.plan:3: workstream 'a' depends on unknown workstream 'b'");
	expect_error("[workstream \"a\"]\ntitle = A\ndepends = a\n",
		     "p.plan:3: workstream 'a' depends on itself");
	expect_error("[workstream \"a\"]\ntitle = A\ndepends = c\n"
		     "[workstream \"b\"]\ntitle = B\ndepends = a\n"
		     "[workstream \"c\"]\ntitle = C\ndepends = b\n",
		     "p.plan:1: dependency cycle: a -> c -> b -> a");
	expect_error("[workstream \"-a\"]\ntitle = A\n",
		     "p.plan:1: bad workstream id '-a' (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most 100 characters)");
	expect_error("[workstream \"a b\"]\ntitle = A\n",
		     "p.plan:1: bad workstream id 'a b' (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most 100 characters)");
	expect_error("[workstream \"a\"]\ntitle = A\n[workstream \"a\"]\ntitle = B\n",
		     "p.plan:3: duplicate workstream 'a' (first on line 1)");
	expect_error("[workstream \"a\"]\nspec = x\n",
		     "p.plan:1: workstream 'a' has no title");
	expect_error("[workstream \"a\"]\n\n[workstream \"b\"]\ntitle = B\n",
		     "p.plan:1: workstream 'a' has no title");
	expect_error("[workstream \"a\"]\ntitle = A\ncolour = red\n",
		     "p.plan:3: unknown key 'colour' in [workstream \"a\"]");
	expect_error("[plan]\nbogus = 1\n[workstream \"a\"]\ntitle = A\n",
		     "p.plan:2: unknown key 'bogus' in [plan]");
	expect_error("[other]\nx = 1\n",
		     "p.plan:1: unknown section '[other]' (expected [plan] or [workstream \"ID\"])");
	expect_error("[workstream \"a\"]\ntitle = A\ntitle = B\n",
		     "p.plan:3: key 'title' given twice in [workstream \"a\"] (first on line 2)");
	expect_error("[workstream \"a\"]\ntitle = A\nworktree = b\n[workstream \"b\"]\ntitle = B\nworktree = c\n[workstream \"c\"]\ntitle = C\n",
		     "p.plan:3: workstream 'a' shares the worktree of 'b', which itself shares 'c' (name 'c' instead)");
	expect_error("[workstream \"a\"]\ntitle = A\nworktree = zz\n",
		     "p.plan:3: workstream 'a' shares the worktree of unknown workstream 'zz'");
	expect_error("[workstream \"a..b\"]\ntitle = A\n",
		     "p.plan:1: workstream 'a..b' makes branch name 'feature/a..b-a', which is not a valid ref name");
	expect_error("[workstream \"a\"]\ntitle = A\npaths = ../outside/*\n",
		     "p.plan:3: bad paths '../outside/*': must be relative to the repository, without '..'");
	expect_error("[plan]\njobs = 0\n", "p.plan:2: bad jobs '0' (expected a positive integer)");
	expect_error("[plan]\ntimeout = soon\n", "p.plan:2: bad timeout 'soon' (expected e.g. 90s, 30m, 2h)");
	expect_error("[plan]\nname = x\n", "p.plan:1: plan has no workstreams");
	expect_error("[workstream \"a\"\ntitle = A\n", "p.plan:1: bad section header");
	expect_error("[workstream \"a\"]\ntitle = \"A\n", "p.plan:2: bad value for 'title': unterminated quote");
	expect_error("[workstream \"a\"]\njust words\n",
		     "p.plan:2: syntax error (expected 'key = value')");
	expect_error("title = A\n", "p.plan:1: key 'title' outside any section");
}

static void test_nul_byte_is_refused(void **unused)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	const char text[] = "[workstream \"a\"]\ntitle = A\0B\n";

	assert_int_equal(plan_read_buf(&p, "p.plan", text, sizeof(text) - 1,
				       "feature/", &err), -1);
	assert_string_equal(err.buf, "p.plan:2: NUL byte in file");
	strbuf_release(&err);
}

static void test_drops_quotes(void **unused)
{
	(void)unused;
	/* quotes that vanish from the middle of a command */
	assert_true(cfg_drops_quotes("git commit -qm \"$WS_ID work\""));
	assert_true(cfg_drops_quotes("make \"a;b\""));
	assert_true(cfg_drops_quotes("\"a\" \"b\""));
	assert_true(cfg_drops_quotes("\"echo \"$X\"\""));
	assert_true(cfg_drops_quotes("\"a\"b"));
	/* none, escaped, or one pair around the whole value */
	assert_false(cfg_drops_quotes("make test"));
	assert_false(cfg_drops_quotes("git commit -qm \\\"$WS_ID work\\\""));
	assert_false(cfg_drops_quotes("git commit -qm '$WS_ID work'"));
	assert_false(cfg_drops_quotes("\"make a; make b\""));
	assert_false(cfg_drops_quotes("  \"a b\"  ; a \"comment\""));
	assert_false(cfg_drops_quotes("\"x \\\"y\\\"\""));
	assert_false(cfg_drops_quotes("back\\\\slash"));
	/* a quote after a comment character is in the comment */
	assert_false(cfg_drops_quotes("make a #\"b\""));
}

static void test_slug(void **unused)
{
	char *s = plan_slugify("  WebSocket Server: v2 (beta)!! ");

	assert_string_equal(s, "websocket-server-v2-beta");
	free(s);
	s = plan_slugify("An extremely long title that goes on and on beyond forty");
	assert_true(strlen(s) <= 40);
	assert_true(s[strlen(s) - 1] != '-');
	free(s);
	s = plan_slugify("$(rm -rf /); `x`");
	assert_string_equal(s, "rm-rf-x");
	free(s);
}

static void test_slug_latin_letters(void **unused)
{
	char *s = plan_slugify("Ünïcödé");

	assert_string_equal(s, "unicode");
	free(s);
	s = plan_slugify("Straße Æsop Łódź");
	assert_string_equal(s, "strasse-aesop-lodz");
	free(s);
	/* decomposed: "e" + U+0301; a letter with a combining mark stays one word */
	s = plan_slugify("Cafe\xcc\x81 menu");
	assert_string_equal(s, "cafe-menu");
	free(s);
	/* no Latin letter: U+00D7, Greek, CJK, a stray continuation byte */
	s = plan_slugify("a×b αβ 日 \x80" "z");
	assert_string_equal(s, "a-b-z");
	free(s);
	s = plan_slugify("\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f"
			 "\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f\xc3\x9f");
	assert_int_equal(strlen(s), 40);
	free(s);
}

static void test_globs_overlap(void **unused)
{
	assert_true(plan_globs_overlap("src/ws/*", "src/ws/server.c"));
	assert_true(plan_globs_overlap("src/*", "src/ws/*"));
	assert_true(plan_globs_overlap("src/ws", "src/ws/server.c"));
	assert_false(plan_globs_overlap("src/ws/*", "src/web/*"));
	assert_false(plan_globs_overlap("src/a.c", "src/a.cc"));
	assert_false(plan_globs_overlap("docs/*", "src/*"));
	/* fnmatch reads "a\b" as "ab" */
	assert_true(plan_globs_overlap("src/a\\b", "src/ab/x.c"));
}

/* Escaped globs overlap too, and the risk pass finds them. */
static void test_escaped_globs_are_a_risk(void **unused)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	struct ws_allocation a = WS_ALLOCATION_INIT;

	(void)unused;
	assert_int_equal(parse(&p, "[workstream \"a\"]\ntitle = A\npaths = \"src/a\\\\b\"\n"
				   "[workstream \"b\"]\ntitle = B\npaths = src/ab/x.c\n", &err), 0);
	assert_string_equal(p.ws[0].paths.v[0], "src/a\\b");
	ws_allocate(&p, &a);
	assert_int_equal(a.risk_nr, 1);
	ws_allocation_release(&a);
	plan_release(&p);
	strbuf_release(&err);
}

static void test_allocation_shares(void **unused)
{
	struct plan p = PLAN_INIT;
	struct strbuf err = STRBUF_INIT;
	struct ws_allocation a = WS_ALLOCATION_INIT;
	const char *text =
		"[workstream \"a\"]\ntitle = A\npaths = src/a/*\n"
		"[workstream \"b\"]\ntitle = B\ndepends = a\npaths = src/a/x.c\n"
		"[workstream \"c\"]\ntitle = C\npaths = src/a/y.c\n"
		"[workstream \"d\"]\ntitle = D\nworktree = c\n"
		"[workstream \"e\"]\ntitle = E\ndepends = a\npaths = docs/*\n";

	assert_int_equal(parse(&p, text, &err), 0);
	ws_allocate(&p, &a);
	assert_int_equal(a.owner[0], 0);
	assert_int_equal(a.owner[1], 0);   /* depends on a, paths overlap */
	assert_int_equal(a.why[1], SHARE_OVERLAP);
	assert_int_equal(a.owner[2], 2);   /* independent: kept apart */
	assert_int_equal(a.owner[3], 2);   /* worktree = c */
	assert_int_equal(a.why[3], SHARE_EXPLICIT);
	assert_int_equal(a.owner[4], 4);   /* depends on a, no overlap */
	/* c is independent of a and overlaps it; b's file is another one */
	assert_int_equal(a.risk_nr, 1);
	assert_int_equal(a.risks[0].a, 0);
	assert_int_equal(a.risks[0].b, 2);
	ws_allocation_release(&a);
	plan_release(&p);
	strbuf_release(&err);
}

/*
 * The conflict risks of ws_allocate() (found through sorted path
 * prefixes) against the definition, every pair (a, b), a < b, in order:
 * both have paths, different owners, paths that overlap, and neither
 * depends on the other. Random plans over a small alphabet of paths and
 * globs, so that prefixes collide often.
 */
static void test_conflict_risks_are_every_overlapping_pair(void **unused)
{
	static const char *const globs[] = {
		"*", "s*", "src", "src/*", "src/a", "src/a/*", "src/a.c", "src/ab",
		"src/a?", "src-x/*", "docs/*", "docs/a", "[sd]*/a", "src/[ab]/*",
		"d", "docs", "src/a/b/c.c", "src/b/*",
		"src/a\\\\b" /* the value src/a\b in the plan */, "src/ab/x",
	};
	unsigned seed = 1;
	int round;

	(void)unused;
	for (round = 0; round < 200; round++) {
		struct plan p = PLAN_INIT;
		struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
		struct ws_allocation a = WS_ALLOCATION_INIT;
		size_t i, j, n = 2 + rand_r(&seed) % 14, next = 0;

		for (i = 0; i < n; i++) {
			int k, paths = rand_r(&seed) % 4;

			strbuf_addf(&text, "[workstream \"w%zu\"]\ntitle = W%zu\n", i, i);
			for (k = 0; k < paths; k++)
				strbuf_addf(&text, "paths = %s\n",
					    globs[rand_r(&seed) % ARRAY_SIZE(globs)]);
			if (i && rand_r(&seed) % 3 == 0)
				strbuf_addf(&text, "depends = w%u\n",
					    (unsigned)(rand_r(&seed) % i));
		}
		assert_int_equal(parse(&p, text.buf, &err), 0);
		ws_allocate(&p, &a);
		for (i = 0; i < p.nr; i++)
			for (j = i + 1; j < p.nr; j++) {
				int risk = p.ws[i].paths.nr && p.ws[j].paths.nr &&
					   a.owner[i] != a.owner[j] &&
					   plan_paths_overlap(&p.ws[i].paths, &p.ws[j].paths) &&
					   !graph_depends_on(&p.graph, i, j) &&
					   !graph_depends_on(&p.graph, j, i);

				if (!risk)
					continue;
				assert_true(next < a.risk_nr);
				assert_int_equal(a.risks[next].a, i);
				assert_int_equal(a.risks[next].b, j);
				next++;
			}
		assert_int_equal(next, a.risk_nr);
		ws_allocation_release(&a);
		plan_release(&p);
		strbuf_release(&text);
		strbuf_release(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_plan),
		cmocka_unit_test(test_normalised_plan_reads_back_the_same),
		cmocka_unit_test(test_max_cost),
		cmocka_unit_test(test_cost_parse_and_format),
		cmocka_unit_test(test_long_line_is_not_cut),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_slug_latin_letters),
		cmocka_unit_test(test_drops_quotes),
		cmocka_unit_test(test_globs_overlap),
		cmocka_unit_test(test_allocation_shares),
		cmocka_unit_test(test_escaped_globs_are_a_risk),
		cmocka_unit_test(test_conflict_risks_are_every_overlapping_pair),
	};
	int ret;

	git_libgit2_init();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return ret;
}
