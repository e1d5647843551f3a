#ifndef EXIT_RECORD_H
#define EXIT_RECORD_H

#include "compat.h"
#include "strbuf.h"

/*
 * The exit record: coordination/<id>.exit, JSON, written atomically by
 * the supervisor that git ws-dispatch runs each command under
 * (cmd/ws-supervise.c) when the command ends, after
 * the done file, whether or not the dispatcher still lives:
 *
 *	{"workstream_id":"ws-1","pid":123,"attempt":2,"exit_code":3,
 *	 "signal":0,"done_file":"command|supervisor","finished":"<ISO 8601>"}
 *
 * `pid` is the supervisor's (the state's `pid`), `exit_code` the
 * command's exit code (0 when a signal killed it), `signal` the signal
 * that killed it (0: none), `done_file` who wrote the done file:
 * "command" (it was there when the command ended) or "supervisor" (from
 * the exit status: "success" for exit 0, else "failed"). git ws-dispatch
 * removes it before each attempt.
 */
struct ws_exit_record {
	long pid;
	int attempt;
	int status;          /* as waitpid(2) */
	int done_by_command;
	char finished[32];
};

/*
 * Write `rec` for `id` at `path` (write_file_atomically(), without
 * fsync, as the done file). Returns 0, or -1 with errno set.
 */
int ws_exit_record_write(const char *path, const char *id,
			 const struct ws_exit_record *rec);

/*
 * Read the exit record at `path` and check that it is for `id`. Returns
 * 0; 1 when there is none; -1 when it is malformed (the reason in *err).
 */
int ws_exit_record_read(const char *path, const char *id,
			struct ws_exit_record *rec, struct strbuf *err);

/*
 * What a waitpid(2) status says, as git ws-dispatch writes it: "exit
 * status 3", "killed by signal 9 (Killed)". Returns a new string.
 */
char *ws_describe_wait_status(int status);

#endif
