#include "compat.h"
#include "exit-record.h"
#include "lockfile.h"
#include "wrapper.h"
#include <jansson.h>
#include <sys/wait.h>

char *ws_describe_wait_status(int status)
{
	if (WIFSIGNALED(status))
		return xstrfmt("killed by signal %d (%s)", WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
	return xstrfmt("exit status %d", WEXITSTATUS(status));
}

int ws_exit_record_write(const char *path, const char *id,
			 const struct ws_exit_record *rec)
{
	json_t *root = json_object();
	char *text;
	int ret = -1;

	if (!root)
		return -1;
	json_object_set_new(root, "workstream_id", json_string(id));
	json_object_set_new(root, "pid", json_integer(rec->pid));
	json_object_set_new(root, "attempt", json_integer(rec->attempt));
	json_object_set_new(root, "exit_code", json_integer(
		WIFEXITED(rec->status) ? WEXITSTATUS(rec->status) : 0));
	json_object_set_new(root, "signal", json_integer(
		WIFSIGNALED(rec->status) ? WTERMSIG(rec->status) : 0));
	json_object_set_new(root, "done_file", json_string(
		rec->done_by_command ? "command" : "supervisor"));
	json_object_set_new(root, "finished", json_string(rec->finished));
	text = json_dumps(root, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (text) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s\n", text);
		/*
		 * Not fsynced, as the done file: the dispatcher waits for it
		 * at every command's end. Lost in a power cut, it leaves
		 * what was there before it: "process vanished".
		 */
		ret = write_file_atomically(path, sb.buf, sb.len, LOCK_NO_FSYNC);
		strbuf_release(&sb);
		free(text);
	}
	json_decref(root);
	return ret;
}

int ws_exit_record_read(const char *path, const char *id,
			struct ws_exit_record *rec, struct strbuf *err)
{
	json_error_t jerr;
	json_t *root;
	json_int_t pid = 0, attempt = 0, code = 0, sig = 0;
	const char *wid = NULL, *done = NULL, *finished = NULL;
	int ret = 0;

	memset(rec, 0, sizeof(*rec));
	if (!path_exists(path))
		return 1;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		strbuf_addf(err, "'%s': not valid JSON: %s at line %d column %d",
			    path, jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (json_unpack(root, "{s:s, s:I, s:I, s:I, s:I, s:s, s:s}",
			"workstream_id", &wid, "pid", &pid, "attempt", &attempt,
			"exit_code", &code, "signal", &sig, "done_file", &done,
			"finished", &finished) ||
	    strcmp(wid, id) || code < 0 || code > 255 || sig < 0 || sig > 127 ||
	    (strcmp(done, "command") && strcmp(done, "supervisor"))) {
		strbuf_addf(err, "'%s': not an exit record of '%s'", path, id);
		ret = -1;
	} else {
		rec->pid = (long)pid;
		rec->attempt = (int)attempt;
		rec->status = sig ? (int)sig : (int)code << 8;
		rec->done_by_command = !strcmp(done, "command");
		snprintf(rec->finished, sizeof(rec->finished), "%s", finished);
	}
	json_decref(root);
	return ret;
}
