#ifndef GATES_H
#define GATES_H

#include "compat.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The checks behind `git ws-converge`'s gates (DESIGN.md §4), each usable
 * alone: the worktree's changes, the lines a branch adds, the contract
 * paths of a tree, and the plan's test and check commands run with a
 * timeout into a log. The gate policy (order, what a result means for
 * the workstream) lives in the command.
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

/*
 * A short, printable form of a command for one-line reports: control
 * characters replaced (strbuf_add_sanitized), newlines as spaces, cut to
 * `max` characters with "...". Appended to out.
 */
void ws_gate_command_label(struct strbuf *out, const char *command, size_t max);

#endif
