/*
 * git ws-agent: run a coding-agent CLI (Claude Code, Codex) headless as a
 * plan's command, in the workstream's worktree, and write the workstream's
 * done file from what the agent itself reported and from whether it
 * committed: an agent that ended after an API error, a denied tool, or
 * without a commit on its branch has not succeeded, whatever its exit
 * status. The adapters are in common/agent.c.
 */
#include "compat.h"
#include <git2.h>
#include "agent.h"
#include "donefile.h"
#include "parse-options.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"

static const char * const agent_usage[] = {
	"git ws-agent [-n | --dry-run] <agent> [-- <agent-arg>...]",
	NULL
};

struct agent_ctx {
	const struct agent_def *def;
	git_repository *repo;
	char *worktree, *common_dir, *git_dir, *program;
	const char *branch;   /* $WS_BRANCH, or NULL: HEAD */
	const char *id;       /* $WS_ID */
	const char *done_file; /* $WS_DONE_FILE, or NULL: none written */
	const char **extra;   /* the arguments after "--", NULL-terminated */
	struct strbuf prompt;
	struct agent_result res;
	int commits;          /* made on the branch during the run */
};

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A copy of a libgit2 directory path without its trailing slash. */
static char *dir_copy(const char *path)
{
	char *s = xstrdup(path);
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == '/')
		s[n - 1] = '\0';
	return s;
}

/* Write the done file when dispatch gave us one; with usage when known. */
static void write_done(struct agent_ctx *c, enum ws_done_status status,
		       const char *summary)
{
	int ret;

	if (!c->done_file)
		return;
	if (c->res.has_report)
		ret = ws_done_write_usage(c->done_file, c->id ? c->id : "",
					  status, summary, c->res.input_tokens,
					  c->res.output_tokens, c->res.cost_usd);
	else
		ret = ws_done_write(c->done_file, c->id ? c->id : "", status,
				    summary);
	if (ret < 0)
		die_errno("cannot write the done file '%s'", c->done_file);
}

/*
 * Record a failure before the agent ran (in the done file, when there is
 * one), then say so and exit 128, with a hint when there is one.
 */
static void __attribute__((noreturn)) fail(struct agent_ctx *c, const char *msg,
					   const char *hint)
{
	char *summary = xstrfmt("%s: %s", c->def->name, msg);

	write_done(c, WS_DONE_FAILED, summary);
	free(summary);
	error("%s", msg);
	if (hint)
		advise("%s", hint);
	exit(WS_EXIT_FATAL);
}

/*
 * git commit needs a name and an email for the author and the committer:
 * from GIT_AUTHOR_* / GIT_COMMITTER_* or from user.name and user.email
 * (EMAIL for the email), as git's ident.c looks for them. git would also
 * make one up from the user and host names when it can; an agent's
 * commit with such an address is not one to keep, so we stop instead.
 */
static void check_identity(struct agent_ctx *c)
{
	git_config *cfg = NULL;
	git_buf name = GIT_BUF_INIT, email = GIT_BUF_INIT;
	int has_name, has_email;

	if (git_repository_config_snapshot(&cfg, c->repo) < 0)
		die_git("cannot read the git config");
	has_name = !git_config_get_string_buf(&name, cfg, "user.name") && *name.ptr;
	has_email = !git_config_get_string_buf(&email, cfg, "user.email") && *email.ptr;
	git_buf_dispose(&name);
	git_buf_dispose(&email);
	git_config_free(cfg);
	if (!has_email)
		has_email = !!env_or_null("EMAIL");
	if ((has_name || (env_or_null("GIT_AUTHOR_NAME") && env_or_null("GIT_COMMITTER_NAME"))) &&
	    (has_email || (env_or_null("GIT_AUTHOR_EMAIL") && env_or_null("GIT_COMMITTER_EMAIL"))))
		return;
	fail(c, "no git identity: the agent could not commit (git needs user.name and user.email)",
	     "set one with 'git config --global user.name \"Your Name\"' and\n"
	     "'git config --global user.email you@example.com', or export\n"
	     "GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL");
}

/* The tip of the workstream's branch (HEAD without one); zero when unborn. */
static void branch_tip(struct agent_ctx *c, git_oid *oid)
{
	char *ref = c->branch ? xstrfmt("refs/heads/%s", c->branch) : xstrdup("HEAD");

	if (git_reference_name_to_id(oid, c->repo, ref) < 0)
		memset(oid, 0, sizeof(*oid));
	free(ref);
}

/*
 * Run the CLI with stdin from /dev/null; its stderr goes straight to ours
 * (the dispatch log), its stdout is copied to ours as it comes and kept in
 * *out for the report. Returns what finish_command() returns.
 */
static int run_cli(struct agent_ctx *c, struct strbuf *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	const char *const *e;
	char buf[8192];
	int fds[2];
	ssize_t n;

	for (e = c->def->env; e && *e; e++) {
		size_t len = strcspn(*e, "=");
		char *name = xstrndup(*e, len);

		if (!getenv(name))
			strvec_push(&cp.env, *e);
		free(name);
	}
	/* close-on-exec: the CLI gets the write end as its stdout only */
	if (pipe2(fds, O_CLOEXEC) < 0)
		die_errno("cannot make a pipe");
	strvec_push(&cp.args, c->program);
	{
		struct agent_run run = { c->program, c->prompt.buf, c->worktree,
					 c->common_dir, c->git_dir, c->extra };

		c->def->build_args(&cp.args, &run);
	}
	cp.dir = c->worktree;
	cp.no_stdin = 1;
	cp.out = fds[1];
	if (start_command(&cp) < 0) {
		close(fds[0]);
		return -1;
	}
	for (;;) {
		n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_add(out, buf, n);
		write_in_full(1, buf, n); /* the log; a failed copy loses no report */
	}
	close(fds[0]);
	return finish_command(&cp);
}

/*
 * Decide the outcome from the report, the exit status and the commits:
 * success only when the report says the agent finished cleanly, the CLI
 * exited 0 and the branch has new commits. A run that went wrong after
 * it committed something is partial: there is work on the branch, but
 * nobody should take it as finished.
 */
static enum ws_done_status decide(struct agent_ctx *c, int rc, struct strbuf *why)
{
	struct agent_result *r = &c->res;

	if (!r->has_report) {
		if (rc == 127)
			strbuf_addf(why, "%s: cannot run '%s'", c->def->name, c->program);
		else if (rc > 128)
			strbuf_addf(why, "%s: killed by signal %d and no report",
				    c->def->name, rc - 128);
		else
			strbuf_addf(why, "%s: exited with status %d and no report",
				    c->def->name, rc);
	} else if (r->status != WS_DONE_SUCCESS) {
		strbuf_addbuf(why, &r->summary);
	} else if (rc) {
		strbuf_addf(why, "%s: exited with status %d", c->def->name, rc);
	} else if (!c->commits) {
		strbuf_addf(why, "%s: no commit made on %s", c->def->name,
			    c->branch ? c->branch : "HEAD");
	} else {
		strbuf_addf(why, "%s: finished", c->def->name);
		if (r->turns >= 0)
			strbuf_addf(why, " in %d turns", r->turns);
		strbuf_addf(why, ", %d commit%s", c->commits,
			    c->commits == 1 ? "" : "s");
		return WS_DONE_SUCCESS;
	}
	if (c->commits > 0) {
		strbuf_addf(why, " (after %d commit%s)", c->commits,
			    c->commits == 1 ? "" : "s");
		return WS_DONE_PARTIAL;
	}
	return WS_DONE_FAILED;
}

/* Print the command line, shell-quoted, and the prompt (--dry-run). */
static void show_dry_run(struct agent_ctx *c)
{
	struct strvec args = STRVEC_INIT;
	struct agent_run run = { c->program, c->prompt.buf, c->worktree,
				 c->common_dir, c->git_dir, c->extra };
	const char *const *e;
	size_t i;

	for (e = c->def->env; e && *e; e++)
		printf("%s ", *e);
	c->def->build_args(&args, &run);
	printf("%s", c->program);
	for (i = 0; i < args.nr; i++) {
		const char *a = args.v[i], *p;

		if (!strcmp(a, run.prompt)) {
			printf(" <prompt>");
			continue;
		}
		if (*a && !a[strcspn(a, " \t\n'\"\\$`*?[]()<>|&;#~")]) {
			printf(" %s", a);
			continue;
		}
		putchar(' ');
		putchar('\'');
		for (p = a; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", stdout);
			else
				putchar(*p);
		}
		putchar('\'');
	}
	printf("\n\n%s", c->prompt.buf);
	strvec_clear(&args);
}

int cmd_main(int argc, const char **argv)
{
	struct agent_ctx c;
	struct agent_task task = { 0 };
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT,
		      names = STRBUF_INIT;
	const char *iteration;
	git_oid before, after;
	size_t ahead = 0, behind = 0;
	enum ws_done_status status;
	int dry_run = 0, rc;
	struct option options[] = {
		OPT__DRY_RUN(&dry_run),
		OPT_END()
	};

	memset(&c, 0, sizeof(c));
	strbuf_init(&c.prompt, 0);
	c.res = (struct agent_result)AGENT_RESULT_INIT;
	argc = parse_options_keep_dashdash(argc, argv, options, agent_usage);
	if (argc < 1)
		usage_msg_opt("which agent? (the name of an adapter)", agent_usage, options);
	if (argc > 1 && strcmp(argv[1], "--"))
		usage_msg_opt("the agent's own arguments go after '--'", agent_usage, options);
	c.def = agent_find(argv[0]);
	if (!c.def) {
		agent_names(&names);
		error("no agent adapter '%s' (there are: %s)", argv[0], names.buf);
		usage_with_options(agent_usage, options);
	}
	c.extra = argc > 1 ? argv + 2 : argv + argc; /* argv[argc] is NULL */

	c.id = env_or_null("WS_ID");
	c.branch = env_or_null("WS_BRANCH");
	c.done_file = env_or_null("WS_DONE_FILE");
	if (git_repository_open_ext(&c.repo, ".", 0, NULL) < 0)
		die_git("not in a git repository");
	if (git_repository_is_bare(c.repo))
		die("'%s' is a bare repository: an agent needs a worktree",
		    git_repository_path(c.repo));
	c.worktree = dir_copy(git_repository_workdir(c.repo));
	c.common_dir = dir_copy(git_repository_commondir(c.repo));
	c.git_dir = dir_copy(git_repository_path(c.repo));

	task.id = c.id;
	task.title = env_or_null("WS_TITLE");
	task.branch = c.branch;
	task.worktree = c.worktree;
	task.spec_path = env_or_null("WS_SPEC");
	task.report_path = env_or_null("WS_REPORT");
	iteration = env_or_null("WS_ITERATION");
	if (!iteration || parse_nonneg_int(iteration, &task.iteration) < 0)
		task.iteration = 0;
	task.iteration++;
	if (agent_build_prompt(&c.prompt, &task, &err) < 0)
		fail(&c, err.buf, NULL);

	c.program = agent_locate(env_or_null(c.def->env_program) ?
				 env_or_null(c.def->env_program) : c.def->program);
	if (!c.program && dry_run)
		c.program = xstrdup(env_or_null(c.def->env_program) ?
				    env_or_null(c.def->env_program) : c.def->program);
	if (!c.program) {
		char *msg = xstrfmt("cannot find the '%s' program on PATH",
				    env_or_null(c.def->env_program) ?
				    env_or_null(c.def->env_program) : c.def->program);
		char *hint = xstrfmt("install it (`make agent-clis` installs the tested versions),\n"
				     "or set %s to its path", c.def->env_program);
		fail(&c, msg, hint);
	}
	if (dry_run) {
		show_dry_run(&c);
		goto out;
	}
	check_identity(&c);

	branch_tip(&c, &before);
	rc = run_cli(&c, &out);
	c.def->parse(out.buf, out.len, &c.res);
	branch_tip(&c, &after);
	if (!git_oid_is_zero(&after) && git_oid_cmp(&before, &after)) {
		if (git_oid_is_zero(&before))
			c.commits = 1;
		else if (git_graph_ahead_behind(&ahead, &behind, c.repo, &after, &before) < 0)
			c.commits = 1; /* moved, though not onto a descendant */
		else
			c.commits = ahead ? (int)ahead : 0;
	}
	status = decide(&c, rc, &why);
	write_done(&c, status, why.buf);
	fprintf(stderr, "ws-agent: %s: %s\n", ws_done_status_name(status), why.buf);
	if (c.res.has_report) {
		fprintf(stderr, "ws-agent: usage: %ld input tokens, %ld output tokens",
			c.res.input_tokens, c.res.output_tokens);
		if (c.res.cost_usd >= 0)
			fprintf(stderr, ", $%.4f", c.res.cost_usd);
		fputc('\n', stderr);
	}
	rc = status == WS_DONE_SUCCESS ? WS_EXIT_OK : WS_EXIT_NO;
	goto cleanup;
out:
	rc = WS_EXIT_OK;
cleanup:
	agent_result_release(&c.res);
	strbuf_release(&c.prompt);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&names);
	free(c.worktree);
	free(c.common_dir);
	free(c.git_dir);
	free(c.program);
	git_repository_free(c.repo);
	return rc;
}
