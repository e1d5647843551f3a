/*
 * libFuzzer target for the .git/ws/ state reader:
 *
 *  1. cfg_parse_buf() (common/cfgfile.c) on the input; what it accepts
 *     must survive the writer: cfg_format() and parse again gives the
 *     same sections, keys and values (the state is rewritten on every
 *     update, so a value that does not read back is lost or fatal);
 *  2. ws_state_read() (common/state.c) with the input as
 *     <tmp>/ws/state, then as <tmp>/ws/queue: the same code path as
 *     `git ws-status`, with the section and status validation.
 *
 * Neither may crash, die() (libFuzzer reports exit() as a crash) or
 * leak; every refusal names "<file>:<line>:".
 */
#include "compat.h"
#include "cfgfile.h"
#include "state.h"
#include "wrapper.h"
#include "strbuf.h"
#include <git2.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *ws_dir, *state_path, *queue_path;

static void cleanup_tmp(void)
{
	unlink(state_path);
	unlink(queue_path);
	rmdir(ws_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	(void)argc;
	(void)argv;
	git_libgit2_init();
	dir = xstrfmt("%s/fuzz-state.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	ws_dir = dir;
	state_path = xstrfmt("%s/state", ws_dir);
	queue_path = xstrfmt("%s/queue", ws_dir);
	atexit(cleanup_tmp);
	return 0;
}

static int same_value(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* What cfg_format() writes must parse back to the same file. */
static void check_round_trip(const struct cfg_file *cf)
{
	struct cfg_file again = CFG_FILE_INIT;
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	size_t i, j;

	cfg_format(cf, &text);
	if (cfg_parse_buf(&again, "formatted", text.buf, text.len, &err) < 0) {
		fprintf(stderr, "formatted file does not parse: %s\n---\n%s---\n",
			err.buf, text.buf);
		abort();
	}
	if (again.nr != cf->nr)
		abort();
	for (i = 0; i < cf->nr; i++) {
		const struct cfg_section *a = &cf->sections[i], *b = &again.sections[i];

		if (strcmp(a->name, b->name) || !same_value(a->sub, b->sub) ||
		    a->nr != b->nr) {
			fprintf(stderr, "section %zu changed on the way back\n", i);
			abort();
		}
		for (j = 0; j < a->nr; j++)
			if (strcmp(a->entries[j].key, b->entries[j].key) ||
			    strcmp(a->entries[j].value, b->entries[j].value)) {
				fprintf(stderr, "value of '%s' changed on the way back\n",
					a->entries[j].key);
				abort();
			}
	}
	cfg_file_release(&again);
	strbuf_release(&text);
	strbuf_release(&err);
}

static void write_input(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
}

static void read_state(const char *as, const uint8_t *data, size_t size)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;

	unlink(state_path);
	unlink(queue_path);
	write_input(as, data, size);
	if (ws_state_read(&st, ws_dir, &err) < 0) {
		if (strncmp(err.buf, as, strlen(as)) || err.buf[strlen(as)] != ':')
			abort();
	} else {
		size_t i;

		/* what git ws-status and the merge queue then look at */
		for (i = 0; i < ws_queue_nr(&st); i++)
			if (!ws_queue_item(&st, i))
				abort();
		for (i = 0; i < st.state.nr; i++) {
			const char *s = ws_state_get(&st, st.state.sections[i].sub,
						     WS_KEY_STATUS);
			enum ws_status status;

			if (s && ws_status_parse(s, &status) < 0)
				abort();
		}
	}
	ws_state_release(&st);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_file cf = CFG_FILE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *buf;

	if (size > 4 * CFG_MAX_LINE)
		return 0;
	/* exactly `size` bytes: a read past them is an error */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (cfg_parse_buf(&cf, "fuzz", buf, size, &err) < 0) {
		if (strncmp(err.buf, "fuzz:", 5))
			abort();
	} else {
		check_round_trip(&cf);
	}
	cfg_file_release(&cf);
	strbuf_release(&err);
	free(buf);

	read_state(state_path, data, size);
	read_state(queue_path, data, size);
	return 0;
}
