/*
 * The agent CLIs that git ws-agent drives: their command lines and their
 * reports (see agent.h). The facts each adapter relies on are in its
 * comment; t/t8000-agent-claude.sh and t/t8001-agent-codex.sh run the
 * real CLIs at the versions t/agent-clis.sh pins, against the scripted
 * model server t/model-server.js.
 */
#include "compat.h"
#include <jansson.h>
#include "agent.h"
#include "wrapper.h"

void agent_result_release(struct agent_result *r)
{
	strbuf_release(&r->summary);
}

/* The first line of s, at most 200 bytes of it, appended to sb. */
static void add_line(struct strbuf *sb, const char *s)
{
	size_t n = strcspn(s, "\n");

	if (n > 200) {
		strbuf_add(sb, s, 197);
		strbuf_addstr(sb, "...");
	} else {
		strbuf_add(sb, s, n);
	}
}

static long json_long(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

/*
 * The last line of out that is a JSON object with "type" equal to `type`
 * (new reference), or NULL. Lines that are not JSON are skipped: a CLI
 * may print warnings among its events.
 */
static json_t *last_event(const char *out, const char *type)
{
	json_t *found = NULL;
	const char *p = out;

	while (*p) {
		size_t n = strcspn(p, "\n");
		json_t *ev = NULL;

		if (n && *p == '{')
			ev = json_loadb(p, n, JSON_DECODE_ANY, NULL);
		if (json_is_object(ev) &&
		    !strcmp(json_string_value(json_object_get(ev, "type")) ?
			    json_string_value(json_object_get(ev, "type")) : "",
			    type)) {
			json_decref(found);
			found = ev;
		} else {
			json_decref(ev);
		}
		p += n;
		if (*p)
			p++;
	}
	return found;
}

/* --- Claude Code ---------------------------------------------------------- */

/*
 * `claude -p <prompt> --output-format json`: no first-run prompts, one JSON
 * result object on stdout at the end. Bash, Write and Edit are allowed by
 * name (--allowedTools), which works as root, where
 * --dangerously-skip-permissions refuses to run; a tool outside the list is
 * denied, and the CLI goes on and exits 0, listing it in
 * "permission_denials".
 */
static void claude_args(struct strvec *args, const struct agent_run *run)
{
	const char **a;
	int own_tools = 0;

	/* the user's --allowedTools replaces ours (the CLI would add them up) */
	for (a = run->extra; *a; a++)
		if (!strcmp(*a, "--allowedTools") || !strcmp(*a, "--allowed-tools") ||
		    !strncmp(*a, "--allowedTools=", 15) ||
		    !strncmp(*a, "--allowed-tools=", 16))
			own_tools = 1;
	strvec_pushv(args, (const char *[]){ "-p", run->prompt,
		     "--output-format", "json", NULL });
	if (!own_tools)
		strvec_pushv(args, (const char *[]){
			     "--allowedTools", "Bash", "Write", "Edit", NULL });
	strvec_pushv(args, run->extra);
}

/* "Bash(git commit -m x)" for a denial of the result's permission_denials. */
static void claude_denial(struct strbuf *sb, json_t *denial)
{
	const char *tool = json_string_value(json_object_get(denial, "tool_name"));
	json_t *input = json_object_get(denial, "tool_input");
	const char *what = json_string_value(json_object_get(input, "command"));

	if (!what)
		what = json_string_value(json_object_get(input, "file_path"));
	strbuf_addstr(sb, tool ? tool : "a tool");
	if (what) {
		strbuf_addch(sb, '(');
		add_line(sb, what);
		strbuf_addch(sb, ')');
	}
}

/*
 * The result object: "is_error" (an API error: "result" holds its text,
 * "api_error_status" its HTTP status), "permission_denials", "num_turns",
 * "total_cost_usd" and "usage" summed over the turns, where Anthropic's
 * "input_tokens" leaves out the cached prompt tokens, counted in
 * "cache_creation_input_tokens" and "cache_read_input_tokens".
 */
static void claude_parse(const char *out, size_t len, struct agent_result *r)
{
	json_t *res = last_event(out, "result");
	json_t *usage, *denials, *cost;

	r->status = WS_DONE_FAILED;
	if (!res)
		return;
	r->has_report = 1;
	usage = json_object_get(res, "usage");
	r->input_tokens = json_long(usage, "input_tokens") +
			  json_long(usage, "cache_creation_input_tokens") +
			  json_long(usage, "cache_read_input_tokens");
	r->output_tokens = json_long(usage, "output_tokens");
	cost = json_object_get(res, "total_cost_usd");
	if (json_is_number(cost))
		r->cost_usd = json_number_value(cost);
	if (json_is_integer(json_object_get(res, "num_turns")))
		r->turns = json_long(res, "num_turns");
	denials = json_object_get(res, "permission_denials");

	if (json_is_true(json_object_get(res, "is_error"))) {
		const char *text = json_string_value(json_object_get(res, "result"));

		strbuf_addstr(&r->summary, "claude: ");
		add_line(&r->summary, text && *text ? text : "the run ended in an error");
	} else if (json_array_size(denials)) {
		size_t i;

		strbuf_addstr(&r->summary, "claude: denied ");
		for (i = 0; i < json_array_size(denials) && i < 3; i++) {
			if (i)
				strbuf_addstr(&r->summary, ", ");
			claude_denial(&r->summary, json_array_get(denials, i));
		}
		if (json_array_size(denials) > 3)
			strbuf_addf(&r->summary, " and %zu more",
				    json_array_size(denials) - 3);
	} else {
		r->status = WS_DONE_SUCCESS;
	}
	json_decref(res);
}

static const char *const claude_env[] = {
	/* no side requests and no calls home: only the model API is used */
	"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
	NULL
};

/* --- Codex ------------------------------------------------------------------ */

/*
 * `codex exec --json`: JSON-lines events on stdout. `exec` never asks for
 * approval; its default sandbox is read-only. workspace-write lets it
 * write the worktree, but not the git directories a commit writes: the
 * common dir (objects, refs) and, in a linked worktree, the worktree's own
 * git dir (<common dir>/worktrees/<name>: index, HEAD), which Codex keeps
 * read-only even below an added common dir unless it is named itself. So
 * both are added with --add-dir. --skip-git-repo-check: the worktree need
 * not be a directory Codex trusts.
 */
static void codex_args(struct strvec *args, const struct agent_run *run)
{
	strvec_pushv(args, (const char *[]){ "exec", "--json",
		     "--skip-git-repo-check", "--color", "never",
		     "-s", "workspace-write", "--add-dir", run->common_dir, NULL });
	if (run->git_dir && strcmp(run->git_dir, run->common_dir))
		strvec_pushv(args, (const char *[]){ "--add-dir", run->git_dir, NULL });
	strvec_pushv(args, run->extra);
	strvec_push(args, "--");
	strvec_push(args, run->prompt);
}

/* The text of an API error, unwrapped from the JSON body Codex may quote. */
static void codex_error(struct strbuf *sb, const char *msg)
{
	json_t *body = msg ? json_loads(msg, JSON_DECODE_ANY, NULL) : NULL;
	const char *inner = json_string_value(
		json_object_get(json_object_get(body, "error"), "message"));

	add_line(sb, inner ? inner : msg ? msg : "unknown error");
	json_decref(body);
}

/*
 * Events: "turn.completed" carries the turn's "usage" (its "input_tokens"
 * include the cached ones, "cached_input_tokens" says how many were);
 * older versions passed on the Responses API's "response.completed",
 * with "usage" inside "response". An API error is an "error" event and a
 * "turn.failed" one, with the message. Codex reports no cost.
 * (An "error" *item* in an "item.completed" event is a warning, such as
 * the one about an unknown model's metadata, and is not a failure.)
 */
static void codex_parse(const char *out, size_t len, struct agent_result *r)
{
	json_t *done = last_event(out, "turn.completed");
	json_t *failed = last_event(out, "turn.failed");
	json_t *err = last_event(out, "error");
	json_t *usage = NULL;

	r->status = WS_DONE_FAILED;
	if (done)
		usage = json_object_get(done, "usage");
	else if ((done = last_event(out, "response.completed")))
		usage = json_object_get(json_object_get(done, "response"), "usage");
	if (usage) {
		r->input_tokens = json_long(usage, "input_tokens");
		r->output_tokens = json_long(usage, "output_tokens");
	}
	if (failed || err) {
		r->has_report = 1;
		strbuf_addstr(&r->summary, "codex: API error: ");
		codex_error(&r->summary, failed ?
			json_string_value(json_object_get(json_object_get(failed, "error"), "message")) :
			json_string_value(json_object_get(err, "message")));
	} else if (done) {
		r->has_report = 1;
		r->status = WS_DONE_SUCCESS;
	}
	json_decref(done);
	json_decref(failed);
	json_decref(err);
}

/* --- the table ---------------------------------------------------------------- */

static const struct agent_def agents[] = {
	{ "claude", "claude", "GIT_WS_AGENT_CLAUDE", claude_env,
	  claude_args, claude_parse },
	{ "codex", "codex", "GIT_WS_AGENT_CODEX", NULL,
	  codex_args, codex_parse },
};

const struct agent_def *agent_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
		if (!strcmp(agents[i].name, name))
			return &agents[i];
	return NULL;
}

void agent_names(struct strbuf *out)
{
	size_t i;

	for (i = 0; i < sizeof(agents) / sizeof(agents[0]); i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", agents[i].name);
}

/* --- the prompt ----------------------------------------------------------------- */

int agent_build_prompt(struct strbuf *out, const struct agent_task *t,
		       struct strbuf *err)
{
	char *spec = NULL, *report = NULL;

	if (t->spec_path && *t->spec_path &&
	    read_file(t->spec_path, &spec, NULL) < 0) {
		strbuf_addf(err, "cannot read the spec '%s': %s", t->spec_path,
			    strerror(errno));
		return -1;
	}
	if (t->report_path && *t->report_path &&
	    read_file(t->report_path, &report, NULL) < 0 && errno != ENOENT) {
		strbuf_addf(err, "cannot read the report '%s': %s",
			    t->report_path, strerror(errno));
		free(spec);
		return -1;
	}

	strbuf_addf(out, "You are working on workstream %s: %s\n",
		    t->id ? t->id : "(none)", t->title ? t->title : "(untitled)");
	strbuf_addf(out, "in the git worktree %s, on branch %s (iteration %d).\n\n",
		    t->worktree ? t->worktree : ".",
		    t->branch ? t->branch : "(current)", t->iteration);
	strbuf_addstr(out,
		"Do the task below in this worktree and run the project's tests.\n"
		"Then commit your work on this branch (git add, git commit): work\n"
		"that is not committed is lost. Do not switch branches, rebase or push.\n");
	if (spec) {
		strbuf_addstr(out, "\nThe task:\n\n");
		strbuf_addstr(out, spec);
		strbuf_rtrim(out);
		strbuf_addch(out, '\n');
	}
	if (report && *report) {
		strbuf_addf(out, "\nYour previous attempt was sent back. The report"
			    " (also in %s):\n\n", t->report_path);
		strbuf_addstr(out, report);
		strbuf_rtrim(out);
		strbuf_addch(out, '\n');
	}
	free(spec);
	free(report);
	return 0;
}

char *agent_locate(const char *program)
{
	const char *path = getenv("PATH"), *p;
	struct strbuf sb = STRBUF_INIT;

	if (strchr(program, '/'))
		return access(program, X_OK) ? NULL : xstrdup(program);
	for (p = path ? path : "/usr/bin:/bin"; ; p++) {
		size_t n = strcspn(p, ":");

		strbuf_setlen(&sb, 0);
		if (n)
			strbuf_add(&sb, p, n);
		else
			strbuf_addch(&sb, '.');
		strbuf_addf(&sb, "/%s", program);
		if (!access(sb.buf, X_OK))
			return strbuf_detach(&sb, NULL);
		p += n;
		if (!*p)
			break;
	}
	strbuf_release(&sb);
	return NULL;
}
