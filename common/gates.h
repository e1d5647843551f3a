#ifndef GATES_H
#define GATES_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The checks behind `git ws-converge`'s gates, each usable alone: the
 * worktree's changes, the lines a branch adds, the contract paths of a
 * tree, and the plan's test and check commands run with a timeout into a
 * log; then the gates themselves, run in order on one workstream
 * (ws_run_gates()). What the results mean for the workstream (its
 * status, the merge queue, the report) is the command's.
 */

/* ws_worktree_changes(), once here, is in worktree.h (included by repo.h). */

/* Where an added line matched, and how many added lines matched in all. */
struct ws_added_hit {
	char *path;     /* first match (new side's path), NULL when none */
	size_t line;    /* its line number in the new file */
	size_t count;   /* matching added lines */
};

struct ws_added_scan {
	struct ws_added_hit marker; /* conflict markers */
	struct ws_added_hit todo;   /* TODO or FIXME */
};
#define WS_ADDED_SCAN_INIT { { NULL, 0, 0 }, { NULL, 0, 0 } }

/*
 * Scan the lines that `branch_tip` adds since its merge base with
 * `base_tip` (the diff `git diff base...branch`, renames detected, binary
 * files skipped) for conflict markers (a line beginning with seven '<',
 * '>' or '|' followed by a space or the end, or consisting of seven '=')
 * and for TODO or FIXME anywhere in the line. Without a merge base every
 * line of the branch counts as added. Returns 0, or -1 after printing an
 * error.
 */
int ws_scan_added_lines(const struct ws_repo *r, const git_oid *base_tip,
			const git_oid *branch_tip, struct ws_added_scan *out);
void ws_added_scan_release(struct ws_added_scan *scan);

/* 1 when `line` (len bytes, no newline needed) is a conflict marker line. */
int ws_is_conflict_marker(const char *line, size_t len);

/*
 * Whether the tree of `commit` has the contract path `pattern`: a path
 * (file or directory) when it has no glob characters, else at least one
 * path that matches it (fnmatch without FNM_PATHNAME, as the merge's
 * contract ownership in mergetree.h). Returns 1, 0, or -1 after printing
 * an error.
 */
int ws_tree_has_contract(const struct ws_repo *r, const git_oid *commit,
			 const char *pattern);

/* How a gate command ended. */
struct ws_gate_run {
	int code;            /* exit code; 128 + signal when killed */
	int timed_out;       /* killed after `timeout_s` */
	uint64_t elapsed_ms;
};

/*
 * Run `command` as `/bin/sh -c command` in `dir`, stdin from /dev/null,
 * stdout and stderr to `log_path` (truncated; a "$ command" line first
 * and an "# exit ..." line last), in its own process group, with `env`
 * ("NAME=value" to set, "NAME" to unset; may be NULL) and killed with
 * its whole process group after `timeout_s` seconds (0: no limit); what
 * it leaves running in its process group when it exits is killed too.
 * Returns 0 with `run` filled, or -1 after printing an error when the
 * log cannot be written or the shell cannot be started.
 */
int ws_gate_run_command(const char *command, const char *dir,
			const struct strvec *env, long timeout_s,
			const char *log_path, struct ws_gate_run *run);

struct ws_runner;
struct ws_runner_cmd;
/*
 * The same through `runner` (runner.h; NULL: local), for the command
 * `rc` describes (its log_path and timeout are taken from the arguments
 * here). A command the runner cannot start is -1 after printing the
 * reason, as one the shell cannot start.
 */
int ws_gate_run_command_on(const struct ws_runner *runner,
			   const struct ws_runner_cmd *rc, const char *command,
			   const char *dir, const struct strvec *env,
			   long timeout_s, const char *log_path,
			   struct ws_gate_run *run);

/*
 * A short, printable form of a command for one-line reports: control
 * characters replaced (strbuf_add_sanitized), newlines as spaces, cut to
 * `max` characters with "...". Appended to out.
 */
void ws_gate_command_label(struct strbuf *out, const char *command, size_t max);

/* --- the gates of git ws-converge --------------------------------------- */

/* How long a command shows in a one-line gate detail. */
#define WS_GATE_LABEL_MAX 60

/* How one gate ended. */
enum ws_gate_result { WS_GATE_PASS, WS_GATE_FAIL, WS_GATE_SKIP };

/* One gate's result, owned by its target. */
struct ws_gate {
	char *name;
	enum ws_gate_result result;
	char *detail;
	char *hint; /* what to do about a failure; NULL when nothing to say */
};

/*
 * One workstream going through the gates: the inputs git ws-converge
 * reads from the state (and --commit's outcome), what the gates find,
 * and the outcome the command decides. The strings are owned by the
 * command, which frees them.
 */
struct ws_gate_target {
	const struct plan_workstream *w;

	/* inputs, read from the state under the lock */
	enum ws_status status;
	char *worktree;
	char *branch;
	char *tested_tree;
	char *tested_commands;
	struct strvec deps_waiting; /* "ws-1 (done)" for each unmerged dependency */
	struct strvec ours_owns;    /* contracts of merged workstreams */
	int max_iterations;

	/* what --commit did */
	long committed;             /* files committed; 0 none; -1 failed */
	char *commit_detail;

	/* found by the gates */
	git_oid base_tip;
	git_oid tip, tree;
	int have_tip;
	char tree_hex[GIT_OID_HEXSZ + 1];
	char *commands_key;         /* hash of the gate commands, for the cache */
	int tested;                 /* tests and checks ran now and passed */
	struct ws_gate *gates;
	size_t gate_nr, gate_alloc;

	/* the outcome, decided under the lock */
	int converged;
	int recorded;
	enum ws_status new_status;
	long iterations;
	size_t queue_pos, queue_nr;
	struct strbuf report;
};

struct ws_gate_opts {
	const struct ws_repo *repo;
	const struct plan *plan;
	int no_tests; /* skip the tests and checks (--no-tests) */
	int quiet;    /* no "running <gate>" lines on a terminal's stderr */
};

/*
 * Run the gates on t, in order, appending one ws_gate each to t->gates:
 * dispatch (the done file), clean (the worktree), commits, deps
 * (t->deps_waiting), mergeable, markers, todo, contracts (against
 * t->ours_owns), then tests and check-<n> (skipped after a failed gate,
 * and not run again when the tree and the commands are those of the last
 * passing run, t->tested_tree and t->tested_commands). Sets the tips,
 * t->commands_key and t->tested. Dies when the plan's base branch does
 * not exist.
 */
void ws_run_gates(const struct ws_gate_opts *o, struct ws_gate_target *t);

/* The first failed gate of t, or NULL. Borrowed from t. */
const struct ws_gate *ws_gate_first_failure(const struct ws_gate_target *t);

/*
 * The environment of commands run in t's worktree (ws_push_env()), with
 * WS_GATE=<gate> when `gate` is not NULL, appended to env.
 */
void ws_gate_env(const struct ws_gate_opts *o, struct ws_gate_target *t,
		 struct strvec *env, const char *gate);

/* The commands of the test and check gates, in order ("" for no test). */
void ws_gate_commands(const struct plan_workstream *w, struct strvec *out);

#endif
