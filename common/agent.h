#ifndef AGENT_H
#define AGENT_H

#include "compat.h"
#include "donefile.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The coding-agent adapters of git ws-agent(1): how to run each agent CLI
 * headless in a workstream's worktree, and how to read its own report of
 * what happened. One table entry per CLI (agent.c, `agents[]`); adding a
 * CLI means adding an argv builder, a report parser and an entry.
 *
 * Exit status 0 from an agent CLI means only that its conversation ended:
 * a CLI that hit an API error, was denied a tool, or did nothing may still
 * exit 0. So success is decided from the CLI's own report (parse()), and
 * then from the branch (a commit made), never from the exit status alone.
 */

/* What one run of an agent CLI came to. */
struct agent_result {
	enum ws_done_status status;
	struct strbuf summary;  /* why, one line, for the done file */
	int has_report;         /* parse() found the CLI's report */
	int turns;              /* model turns, when the CLI says; else -1 */
	long input_tokens;      /* every prompt token, cached or not */
	long output_tokens;
	double cost_usd;        /* US dollars, or -1 when the CLI reports none */
};
#define AGENT_RESULT_INIT { WS_DONE_FAILED, STRBUF_INIT, 0, -1, 0, 0, -1.0 }
void agent_result_release(struct agent_result *r);

/* Where and how a CLI runs. All borrowed. */
struct agent_run {
	const char *program;     /* the CLI: a path, or a name looked up on PATH */
	const char *prompt;
	const char *worktree;    /* absolute; the CLI's working directory */
	const char *common_dir;  /* absolute git common dir (codex's sandbox) */
	const char *git_dir;     /* absolute git dir: <common dir>/worktrees/<name>
				    in a linked worktree, else the common dir */
	const char **extra;      /* NULL-terminated: the user's extra arguments */
};

struct agent_def {
	const char *name;        /* as on the command line: "claude" */
	const char *program;     /* the default binary, found on PATH */
	const char *env_program; /* environment variable naming the binary */
	/* "NAME=value" set for the CLI unless the environment has NAME */
	const char *const *env;
	/* append the CLI's arguments (not the program) to args */
	void (*build_args)(struct strvec *args, const struct agent_run *run);
	/*
	 * Read the CLI's stdout (len bytes, NUL-terminated) into r: status
	 * failed with the reason when the report says it failed;
	 * has_report, turns and usage from the report. r->status is left
	 * WS_DONE_SUCCESS only when the report says the agent finished
	 * without an error or a denied tool.
	 */
	void (*parse)(const char *out, size_t len, struct agent_result *r);
};

/* The adapter called `name`, or NULL. */
const struct agent_def *agent_find(const char *name);

/* The adapters' names, separated by ", ", appended to out. */
void agent_names(struct strbuf *out);

/* What the prompt is built from; all borrowed, any may be NULL. */
struct agent_task {
	const char *id, *title, *branch, *worktree;
	const char *spec_path;   /* $WS_SPEC: a file whose text is the task */
	const char *report_path; /* $WS_REPORT: why the last try was sent back */
	int iteration;           /* 1 on the first ($WS_ITERATION + 1) */
};

/*
 * Append the prompt for `t` to out: who and where (workstream id, title,
 * branch, iteration), what is expected (work here, test, commit on this
 * branch), the spec's text, and on a later iteration the report's text
 * when that file exists and is not empty. Returns 0, or -1 with the
 * reason in *err when the spec or the report exists but cannot be read
 * (a spec that names no file is an error too: the task would be lost).
 */
int agent_build_prompt(struct strbuf *out, const struct agent_task *t,
		       struct strbuf *err);

/*
 * The full path of `program` on PATH (as execvp(3) would find it), or
 * of `program` itself when it holds a slash, in a new string the caller
 * frees; NULL when there is no such executable.
 */
char *agent_locate(const char *program);

#endif
