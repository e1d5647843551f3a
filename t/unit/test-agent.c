/*
 * Unit tests of common/agent.c: the adapters' command lines and how each
 * reads its CLI's report (the reports below have the shape Claude Code
 * 2.1.197 and Codex 0.171.0 print, as t8000/t8001 see them), and the
 * prompt.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "agent.h"
#include "wrapper.h"

static void parse(const char *agent, const char *out, struct agent_result *r)
{
	const struct agent_def *def = agent_find(agent);

	assert_non_null(def);
	def->parse(out, strlen(out), r);
}

static void test_find(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	assert_null(agent_find("gemini"));
	assert_string_equal(agent_find("codex")->name, "codex");
	agent_names(&sb);
	assert_string_equal(sb.buf, "claude, codex");
	strbuf_release(&sb);
}

static void test_claude_success(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("claude", "{\"type\":\"result\",\"is_error\":false,\"num_turns\":3,"
	      "\"total_cost_usd\":0.5,\"usage\":{\"input_tokens\":300,"
	      "\"cache_creation_input_tokens\":15,\"cache_read_input_tokens\":30,"
	      "\"output_tokens\":60},\"permission_denials\":[]}\n", &r);
	assert_int_equal(r.status, WS_DONE_SUCCESS);
	assert_true(r.has_report);
	assert_int_equal(r.turns, 3);
	assert_int_equal(r.input_tokens, 345);
	assert_int_equal(r.output_tokens, 60);
	assert_true(r.cost_usd == 0.5);
	agent_result_release(&r);
}

static void test_claude_api_error(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("claude", "some warning\n{\"type\":\"result\",\"is_error\":true,"
	      "\"api_error_status\":500,\"result\":\"API Error: 500 boom\\nmore\","
	      "\"total_cost_usd\":0,\"usage\":{\"input_tokens\":0,\"output_tokens\":0},"
	      "\"permission_denials\":[]}\n", &r);
	assert_int_equal(r.status, WS_DONE_FAILED);
	assert_true(r.has_report);
	assert_string_equal(r.summary.buf, "claude: API Error: 500 boom");
	agent_result_release(&r);
}

static void test_claude_denied(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("claude", "{\"type\":\"result\",\"is_error\":false,\"permission_denials\":["
	      "{\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"git commit -m x\"}},"
	      "{\"tool_name\":\"Write\",\"tool_input\":{\"file_path\":\"/a/b\"}}]}", &r);
	assert_int_equal(r.status, WS_DONE_FAILED);
	assert_string_equal(r.summary.buf,
			    "claude: denied Bash(git commit -m x), Write(/a/b)");
	assert_true(r.cost_usd < 0);
	agent_result_release(&r);
}

static void test_claude_no_report(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("claude", "Error: something went wrong\n", &r);
	assert_int_equal(r.status, WS_DONE_FAILED);
	assert_false(r.has_report);
	agent_result_release(&r);
}

static void test_codex_success(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("codex", "{\"type\":\"thread.started\"}\n"
	      "{\"type\":\"item.completed\",\"item\":{\"type\":\"error\",\"message\":\"Model metadata not found\"}}\n"
	      "{\"type\":\"turn.started\"}\n"
	      "{\"type\":\"turn.completed\",\"usage\":{\"input_tokens\":300,"
	      "\"cached_input_tokens\":30,\"output_tokens\":60}}\n", &r);
	assert_int_equal(r.status, WS_DONE_SUCCESS);
	assert_int_equal(r.input_tokens, 300);
	assert_int_equal(r.output_tokens, 60);
	assert_true(r.cost_usd < 0);
	agent_result_release(&r);
}

static void test_codex_response_completed(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("codex", "{\"type\":\"response.completed\",\"response\":{\"usage\":"
	      "{\"input_tokens\":7,\"output_tokens\":3}}}\n", &r);
	assert_int_equal(r.status, WS_DONE_SUCCESS);
	assert_int_equal(r.input_tokens, 7);
	assert_int_equal(r.output_tokens, 3);
	agent_result_release(&r);
}

static void test_codex_failed(void **state)
{
	struct agent_result r = AGENT_RESULT_INIT;

	parse("codex", "{\"type\":\"turn.started\"}\n"
	      "{\"type\":\"error\",\"message\":\"{\\\"error\\\":{\\\"message\\\":\\\"bad request\\\"}}\"}\n"
	      "{\"type\":\"turn.failed\",\"error\":{\"message\":\"{\\\"error\\\":{\\\"message\\\":\\\"bad request\\\"}}\"}}\n",
	      &r);
	assert_int_equal(r.status, WS_DONE_FAILED);
	assert_true(r.has_report);
	assert_string_equal(r.summary.buf, "codex: API error: bad request");
	agent_result_release(&r);
}

static void test_args(void **state)
{
	const char *extra[] = { "--allowedTools", "Write", NULL };
	const char *none[] = { NULL };
	struct agent_run run = { "claude", "PROMPT", "/w", "/r/.git",
				 "/r/.git/worktrees/w", none };
	struct strvec args = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;

	agent_find("claude")->build_args(&args, &run);
	strvec_join(&sb, &args, " ");
	assert_string_equal(sb.buf, "-p PROMPT --output-format json --allowedTools Bash Write Edit");
	strvec_clear(&args);
	strbuf_setlen(&sb, 0);

	run.extra = extra; /* the user's list replaces ours */
	agent_find("claude")->build_args(&args, &run);
	strvec_join(&sb, &args, " ");
	assert_string_equal(sb.buf, "-p PROMPT --output-format json --allowedTools Write");
	strvec_clear(&args);
	strbuf_setlen(&sb, 0);

	run.extra = none;
	agent_find("codex")->build_args(&args, &run);
	strvec_join(&sb, &args, " ");
	assert_string_equal(sb.buf, "exec --json --skip-git-repo-check --color never "
			    "-s workspace-write --add-dir /r/.git "
			    "--add-dir /r/.git/worktrees/w -- PROMPT");
	strvec_clear(&args);
	strbuf_release(&sb);
}

static void test_prompt(void **state)
{
	char dir[] = "/tmp/ws-agent-XXXXXX";
	char *spec, *report, *cmd;
	struct agent_task t = { "ws-1", "Rate limiter", "feature/ws-1", "/w",
				NULL, NULL, 2 };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;

	assert_non_null(mkdtemp(dir));
	spec = xstrfmt("%s/spec", dir);
	report = xstrfmt("%s/report", dir);
	cmd = xstrfmt("printf 'Limit it.\\n' >%s/spec && printf 'FAIL tests\\n' >%s/report",
		      dir, dir);
	assert_int_equal(system(cmd), 0);
	t.spec_path = spec;
	t.report_path = report;
	assert_int_equal(agent_build_prompt(&out, &t, &err), 0);
	assert_non_null(strstr(out.buf, "workstream ws-1: Rate limiter\n"));
	assert_non_null(strstr(out.buf, "on branch feature/ws-1 (iteration 2)"));
	assert_non_null(strstr(out.buf, "\nLimit it.\n"));
	assert_non_null(strstr(out.buf, "sent back"));
	assert_non_null(strstr(out.buf, "\nFAIL tests\n"));

	/* an empty report, or none: no "sent back" */
	assert_int_equal(truncate(report, 0), 0);
	strbuf_setlen(&out, 0);
	assert_int_equal(agent_build_prompt(&out, &t, &err), 0);
	assert_null(strstr(out.buf, "sent back"));
	unlink(report);
	strbuf_setlen(&out, 0);
	assert_int_equal(agent_build_prompt(&out, &t, &err), 0);
	assert_null(strstr(out.buf, "sent back"));

	/* a spec that is not there: an error */
	unlink(spec);
	assert_int_equal(agent_build_prompt(&out, &t, &err), -1);
	assert_non_null(strstr(err.buf, "cannot read the spec"));

	rmdir(dir);
	free(cmd);
	free(spec);
	free(report);
	strbuf_release(&out);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_claude_success),
		cmocka_unit_test(test_claude_api_error),
		cmocka_unit_test(test_claude_denied),
		cmocka_unit_test(test_claude_no_report),
		cmocka_unit_test(test_codex_success),
		cmocka_unit_test(test_codex_response_completed),
		cmocka_unit_test(test_codex_failed),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_prompt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
