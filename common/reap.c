#include "compat.h"
#include "reap.h"
#include "cost.h"
#include "donefile.h"
#include "lockfile.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"
#include <jansson.h>
#include <sys/wait.h>

/*
 * 1 when `pid` runs. A zombie counts only while its parent is a
 * git-ws-dispatch, which keeps its commands unreaped until it has
 * recorded their end; a zombie left to an init that never reaps (a
 * container without one) has ended.
 */
static int pid_is_running(pid_t pid)
{
	char path[64], *buf = NULL, *p;
	long ppid = 0;
	char state = 0;
	int ret = 1;

	if (!process_is_alive(pid))
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_file(path, &buf, NULL) < 0)
		return 1; /* no /proc: trust kill(2) */
	if ((p = strrchr(buf, ')')) && sscanf(p + 1, " %c %ld", &state, &ppid) == 2 &&
	    state == 'Z') {
		char *comm = NULL;

		snprintf(path, sizeof(path), "/proc/%ld/comm", ppid);
		ret = !read_file(path, &comm, NULL) &&
		      !strncmp(comm, "git-ws-dispatch", 15);
		free(comm);
	}
	free(buf);
	return ret;
}

int ws_command_running(const struct ws_state *st, const char *id)
{
	long pid = ws_state_get_long(st, id, WS_KEY_PID, 0);
	const char *want = ws_state_get(st, id, WS_KEY_PID_START);
	unsigned long long start;
	char buf[32];

	if (pid <= 0 || !pid_is_running((pid_t)pid))
		return 0;
	if (!want || process_start_time((pid_t)pid, &start) < 0)
		return 1;
	snprintf(buf, sizeof(buf), "%llu", start);
	return !strcmp(buf, want);
}

long ws_live_dispatcher(const struct ws_state *st, const char *id)
{
	long pid = ws_state_get_long(st, id, WS_KEY_PID, 0);
	long disp = ws_state_get_long(st, id, WS_KEY_DISPATCHER, 0);
	const char *reason = ws_state_get(st, id, WS_KEY_REASON);
	pid_t ppid;

	if (ws_state_status(st, id) != WS_STATUS_IN_PROGRESS)
		return 0;
	if (reason && !strcmp(reason, "queued"))
		return pid > 0 && process_is_alive((pid_t)pid) ? pid : 0;
	if (disp <= 0 || !process_is_alive((pid_t)disp))
		return 0;
	if (pid > 0 && process_parent((pid_t)pid, &ppid, NULL) == 0)
		return (long)ppid == disp ? disp : 0;
	return disp;
}

int ws_dispatcher_record_write(const struct ws_repo *r)
{
	char *path = ws_path(r, "coordination/dispatcher");
	unsigned long long start = 0;
	char now[32];
	struct strbuf sb = STRBUF_INIT;
	int ret;

	iso8601_now(now);
	process_start_time(getpid(), &start);
	strbuf_addf(&sb, "{\"pid\":%ld,\"pid_start\":%llu,\"started\":\"%s\"}\n",
		    (long)getpid(), start, now);
	ret = write_file_atomically(path, sb.buf, sb.len, 0);
	if (ret < 0)
		warning("cannot write '%s': %s", path, strerror(errno));
	strbuf_release(&sb);
	free(path);
	return ret;
}

/* Our own record only: a loop that found another's never runs this. */
void ws_dispatcher_record_remove(const struct ws_repo *r)
{
	char *path = ws_path(r, "coordination/dispatcher");
	char started[32];

	if (!ws_dispatcher_record_live(r, started) &&
	    unlink(path) < 0 && errno != ENOENT)
		warning("cannot remove '%s': %s", path, strerror(errno));
	free(path);
}

long ws_dispatcher_record_live(const struct ws_repo *r, char started[32])
{
	char *path = ws_path(r, "coordination/dispatcher");
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	json_int_t pid = 0;
	json_int_t want = 0;
	const char *when = "";
	unsigned long long start;
	long ret = 0;

	free(path);
	if (!root)
		return 0;
	if (!json_unpack(root, "{s:I, s:I, s?s}", "pid", &pid, "pid_start", &want,
			 "started", &when) &&
	    pid > 0 && pid != getpid() && pid_is_running((pid_t)pid) &&
	    (!want || process_start_time((pid_t)pid, &start) < 0 ||
	     start == (unsigned long long)want)) {
		ret = (long)pid;
		if (started)
			snprintf(started, 32, "%s", when);
	}
	json_decref(root);
	return ret;
}

/* wait_for_process()'s test: still the same process, and running. */
static int same_process_running(pid_t pid, void *data)
{
	unsigned long long *start = data, now;

	if (!pid_is_running(pid))
		return 0;
	return !*start || process_start_time(pid, &now) < 0 || now == *start;
}

int ws_wait_for_pid(long pid, long timeout_ms)
{
	unsigned long long start = 0;
	int r;

	if (pid <= 0)
		return 1;
	if (process_start_time((pid_t)pid, &start) < 0)
		start = 0;
	while ((r = wait_for_process((pid_t)pid, timeout_ms,
				     same_process_running, &start)) < 0)
		; /* a signal whose handler returned */
	return r;
}

/* A footer line in the command's log, as dispatch writes one. */
static void log_credit(const struct ws_repo *r, const char *id, int attempt,
		       const char *when, const char *result, int ok)
{
	char *path = ws_path(r, "logs/%s.log", id);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;

	if (fd >= 0) {
		strbuf_addf(&line, "%s attempt %d ended %s: %s%s (recorded by its supervisor; its dispatcher was gone)",
			    id, attempt, when, result, ok ? " (done)" : "");
		strbuf_addstr(&sb, "=== git ws-dispatch: ");
		strbuf_add_sanitized(&sb, line.buf);
		strbuf_addch(&sb, '\n');
		if (write_in_full(fd, sb.buf, sb.len) < 0)
			warning("cannot write to '%s': %s", path, strerror(errno));
		close(fd);
	}
	strbuf_release(&sb);
	strbuf_release(&line);
	free(path);
}

/*
 * Credit the end of `id`'s command from the exit record its supervisor
 * wrote, as the dispatcher's finish_attempt() would have decided it.
 * Returns 1 when credited, 0 when there is no record of this pid.
 */
static int credit_from_exit_record(const struct ws_repo *r, struct ws_state *st,
				   const char *id, long pid)
{
	struct ws_exit_record rec;
	struct ws_done done = WS_DONE_INIT;
	struct strbuf err = STRBUF_INIT, result = STRBUF_INIT;
	char *path = ws_path(r, "coordination/%s.exit", id);
	char *done_path = ws_path(r, "coordination/%s.done", id);
	char *log = ws_path(r, "logs/%s.log", id);
	char *exit_desc = NULL;
	int rc, ok, killed;

	if (pid <= 0 || ws_exit_record_read(path, id, &rec, &err) ||
	    rec.pid != pid) {
		free(path);
		free(done_path);
		free(log);
		strbuf_release(&err);
		return 0;
	}
	exit_desc = ws_describe_wait_status(rec.status);
	killed = WIFSIGNALED(rec.status);
	rc = killed || !rec.done_by_command ? 1 :
	     ws_done_read(&done, done_path, id, &err);
	if (rc == 0) {
		ok = done.status == WS_DONE_SUCCESS;
		if (ok) {
			strbuf_addstr(&result, exit_desc);
		} else {
			strbuf_addf(&result, "the command reported '%s'",
				    ws_done_status_name(done.status));
			if (*done.summary) {
				strbuf_addstr(&result, ": ");
				strbuf_add_sanitized(&result, done.summary);
			}
			strbuf_addf(&result, " (%s)", exit_desc);
		}
	} else if (rc < 0) {
		ok = 0;
		strbuf_addf(&result, "malformed done file: %s (%s)", err.buf, exit_desc);
	} else {
		ok = !killed && !WEXITSTATUS(rec.status);
		strbuf_addstr(&result, exit_desc);
		/* the supervisor wrote it; a killed one may not have */
		if (!path_exists(done_path) &&
		    ws_done_write(done_path, id, ok ? WS_DONE_SUCCESS : WS_DONE_FAILED,
				  exit_desc) < 0)
			warning("cannot write '%s': %s", done_path, strerror(errno));
	}
	if (ok) {
		ws_state_set_status(st, id, WS_STATUS_DONE, NULL);
	} else {
		char *why = xstrfmt("%s; see %s", result.buf, log);

		ws_state_set_status(st, id, WS_STATUS_FAILED, why);
		free(why);
	}
	ws_state_set(st, id, WS_KEY_FINISHED, rec.finished);
	/* this attempt is finalised here, and only here: count its cost */
	if (rc == 0)
		ws_usage_add(st, id, &done.usage);
	log_credit(r, id, rec.attempt, rec.finished, result.buf, ok);
	ws_done_release(&done);
	strbuf_release(&err);
	strbuf_release(&result);
	free(exit_desc);
	free(path);
	free(done_path);
	free(log);
	return 1;
}

int ws_reap_vanished(const struct ws_repo *r, struct ws_state *st)
{
	size_t pos = 0;
	const char *id;
	int changed = 0;
	char now[32];

	iso8601_now(now);
	while ((id = ws_state_next(st, &pos))) {
		const char *reason = ws_state_get(st, id, WS_KEY_REASON);
		long pid = ws_state_get_long(st, id, WS_KEY_PID, 0);
		struct ws_done done = WS_DONE_INIT;
		struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
		char *path;
		int rc;

		if (ws_state_status(st, id) != WS_STATUS_IN_PROGRESS)
			continue;
		if (ws_command_running(st, id))
			continue;
		changed++;
		if (reason && !strcmp(reason, "queued")) {
			/* its dispatch went away before starting it */
			ws_state_set_status(st, id, WS_STATUS_READY, NULL);
			ws_state_set(st, id, WS_KEY_PID, NULL);
			continue;
		}
		if (credit_from_exit_record(r, st, id, pid)) {
			ws_state_set(st, id, WS_KEY_PID, NULL);
			ws_state_set(st, id, WS_KEY_PID_START, NULL);
			ws_state_set(st, id, WS_KEY_DISPATCHER, NULL);
			continue;
		}
		path = ws_path(r, "coordination/%s.done", id);
		rc = ws_done_read(&done, path, id, &err);
		/* this attempt is finalised here, and only here: count its cost */
		ws_usage_add(st, id, &done.usage);
		if (!rc && done.status == WS_DONE_SUCCESS) {
			ws_state_set_status(st, id, WS_STATUS_DONE, NULL);
		} else {
			if (!rc) {
				strbuf_addf(&why, "the command reported '%s'",
					    ws_done_status_name(done.status));
				if (*done.summary) {
					strbuf_addstr(&why, ": ");
					strbuf_add_sanitized(&why, done.summary);
				}
				strbuf_addstr(&why, " (its process is gone)");
			} else if (rc < 0) {
				strbuf_addf(&why, "process vanished; malformed done file: %s",
					    err.buf);
			} else {
				strbuf_addstr(&why, "process vanished");
			}
			if (pid > 0)
				strbuf_addf(&why, " (pid %ld)", pid);
			ws_state_set_status(st, id, WS_STATUS_FAILED, why.buf);
		}
		ws_state_set(st, id, WS_KEY_PID, NULL);
		ws_state_set(st, id, WS_KEY_PID_START, NULL);
		ws_state_set(st, id, WS_KEY_DISPATCHER, NULL);
		ws_state_set(st, id, WS_KEY_FINISHED, now);
		ws_done_release(&done);
		strbuf_release(&err);
		strbuf_release(&why);
		free(path);
	}
	return changed;
}
