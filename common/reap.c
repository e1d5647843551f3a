#include "compat.h"
#include "reap.h"
#include "cost.h"
#include "donefile.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include "ws.h"

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
		if (pid > 0 && pid_is_running((pid_t)pid))
			continue;
		changed++;
		if (reason && !strcmp(reason, "queued")) {
			/* its dispatch went away before starting it */
			ws_state_set_status(st, id, WS_STATUS_READY, NULL);
			ws_state_set(st, id, WS_KEY_PID, NULL);
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
		ws_state_set(st, id, WS_KEY_FINISHED, now);
		ws_done_release(&done);
		strbuf_release(&err);
		strbuf_release(&why);
		free(path);
	}
	return changed;
}
