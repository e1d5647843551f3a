/* Unit tests for common/state.c, lockfile.c and cfgfile.c: the .git/ws store. */
#include "compat.h"
#include "state.h"
#include "lockfile.h"
#include "wrapper.h"
#include <setjmp.h>
#include <cmocka.h>
#include <git2.h>

static char *tmpdir;

static int setup(void **unused)
{
	char tmpl[] = "/tmp/ws-state-test.XXXXXX";

	if (!mkdtemp(tmpl))
		return -1;
	tmpdir = xstrdup(tmpl);
	return 0;
}

static int teardown(void **unused)
{
	char *cmd = xstrfmt("rm -rf '%s'", tmpdir);
	int ret = system(cmd);

	free(cmd);
	FREE_AND_NULL(tmpdir);
	return ret ? -1 : 0;
}

static void test_set_get_round_trip(void **unused)
{
	struct ws_state st = WS_STATE_INIT, again = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *hard = " leading space; a # hash \"quotes\" back\\slash\nnewline ";

	ws_state_lock(&st, tmpdir, 1000);
	ws_state_set_status(&st, "ws-1", WS_STATUS_BLOCKED, "waiting for ws-0 to merge");
	ws_state_set(&st, "ws-1", "summary", hard);
	ws_state_setf(&st, "ws-2", "iterations", "%d", 2);
	ws_state_set(&st, "ws-2", "status", "converged");
	ws_state_set(&st, "q-1", "status", "converged");
	ws_queue_push(&st, "ws-2");
	ws_queue_push(&st, "q-1");
	ws_queue_push(&st, "ws-2"); /* no duplicates */
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);

	assert_int_equal(ws_state_read(&again, tmpdir, &err), 0);
	assert_string_equal(ws_state_get(&again, "ws-1", "status"), "blocked");
	assert_string_equal(ws_state_get(&again, "ws-1", "summary"), hard);
	assert_int_equal(ws_state_get_long(&again, "ws-2", "iterations", -1), 2);
	assert_int_equal(ws_state_get_long(&again, "ws-2", "missing", -1), -1);
	assert_int_equal(ws_queue_nr(&again), 2);
	assert_string_equal(ws_queue_item(&again, 0), "ws-2");
	assert_string_equal(ws_queue_item(&again, 1), "q-1");
	ws_state_release(&again);

	ws_state_lock(&st, tmpdir, 1000);
	ws_queue_remove(&st, "ws-2");
	ws_state_set_status(&st, "ws-1", WS_STATUS_READY, NULL);
	ws_state_remove(&st, "ws-2");
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);
	assert_int_equal(ws_state_read(&again, tmpdir, &err), 0);
	assert_int_equal(ws_queue_nr(&again), 1);
	assert_null(ws_state_get(&again, "ws-1", "reason"));
	assert_null(ws_state_find(&again, "ws-2"));
	ws_state_release(&again);
	strbuf_release(&err);
}

/* What a corrupt or hand-edited state may hold instead of a count or pid. */
static void test_status_names_round_trip(void **unused)
{
	enum ws_status s, back;

	assert_null(ws_status_name(WS_STATUS_NONE));
	for (s = WS_STATUS_BLOCKED; s <= WS_STATUS_CLEANED; s++) {
		assert_non_null(ws_status_name(s));
		assert_int_equal(ws_status_parse(ws_status_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	assert_string_equal(ws_status_name(WS_STATUS_IN_PROGRESS), "in_progress");
	assert_int_equal(ws_status_parse("In_progress", &back), -1);
	assert_int_equal(ws_status_parse("", &back), -1);
	assert_int_equal(ws_status_parse(NULL, &back), -1);
	assert_true(ws_status_is_finished(WS_STATUS_MERGED));
	assert_true(ws_status_is_finished(WS_STATUS_CLEANED));
	assert_false(ws_status_is_finished(WS_STATUS_CONVERGED));
	assert_false(ws_status_is_finished(WS_STATUS_NONE));
}

static void test_status_and_walk(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	char *dir = xstrfmt("%s/ws", tmpdir);
	const char *id, *seen[3];
	size_t pos = 0, n = 0;

	ws_state_lock(&st, dir, 1000);
	ws_state_set_status(&st, "b", WS_STATUS_DONE, "why");
	ws_state_set(&st, "a", WS_KEY_BRANCH, "feature/a");
	ws_state_set_status(&st, "c", WS_STATUS_MERGED, NULL);
	assert_int_equal(ws_state_status(&st, "b"), WS_STATUS_DONE);
	assert_string_equal(ws_state_get(&st, "b", WS_KEY_REASON), "why");
	assert_int_equal(ws_state_status(&st, "a"), WS_STATUS_NONE);
	assert_int_equal(ws_state_status(&st, "nobody"), WS_STATUS_NONE);
	ws_state_set_status(&st, "b", WS_STATUS_NONE, NULL);
	assert_null(ws_state_get(&st, "b", WS_KEY_STATUS));
	assert_null(ws_state_get(&st, "b", WS_KEY_REASON));
	while ((id = ws_state_next(&st, &pos)))
		seen[n++] = id;
	assert_int_equal(n, 3);
	assert_string_equal(seen[0], "b");
	assert_string_equal(seen[1], "a");
	assert_string_equal(seen[2], "c");
	ws_state_commit_or_die(&st);
	ws_state_release(&st);
	free(dir);
}

static void test_numbers_out_of_range_read_as_unset(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;

	ws_state_lock(&st, tmpdir, 1000);
	ws_state_set(&st, "ws-2", "attempts", "2147483647");
	ws_state_set(&st, "ws-2", "pid", "-1");
	ws_state_set(&st, "ws-2", "iterations", "99999999999999999999");
	ws_state_set(&st, "ws-2", "started", "12abc");
	ws_state_setf(&st, "ws-2", "finished", "%d", WS_STATE_LONG_MAX);
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);
	assert_int_equal(ws_state_read(&st, tmpdir, &err), 0);
	assert_int_equal(ws_state_get_long(&st, "ws-2", "attempts", 7), 7);
	assert_int_equal(ws_state_get_long(&st, "ws-2", "pid", 0), 0);
	assert_int_equal(ws_state_get_long(&st, "ws-2", "iterations", 0), 0);
	assert_int_equal(ws_state_get_long(&st, "ws-2", "started", 0), 0);
	assert_int_equal(ws_state_get_long(&st, "ws-2", "finished", 0), WS_STATE_LONG_MAX);
	ws_state_release(&st);
	strbuf_release(&err);
}

static void test_git_config_reads_what_we_write(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	const char *value = "a ; b # c \"d\" \\e";
	char *cmd, buf[256] = "";
	FILE *f;

	ws_state_lock(&st, tmpdir, 1000);
	ws_state_set(&st, "x.y", "reason", value);
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);
	cmd = xstrfmt("git config -f '%s/state' workstream.x.y.reason", tmpdir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	pclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, value);
	free(cmd);
}

static void test_stale_lock_file_is_broken_under_the_flock(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	char *stale = xstrfmt("%s/state.lock", tmpdir);
	int fd = open(stale, O_CREAT | O_WRONLY, 0666);

	/* a writer killed between creating state.lock and renaming it */
	assert_true(fd >= 0);
	close(fd);
	ws_state_lock(&st, tmpdir, 1000);
	ws_state_set(&st, "a", "status", "ready");
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);
	assert_false(path_exists(stale));
	free(stale);
}

static void test_corrupt_state_names_file_and_line(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/state", tmpdir);
	const char *bad = "[workstream \"a\"]\n\tstatus = ready\n\tstatus = exploded\n";
	char *expect = xstrfmt("%s:3: unknown status 'exploded' for 'a'", path);

	assert_int_equal(write_file_atomically(path, bad, strlen(bad), 0), 0);
	assert_int_equal(ws_state_read(&st, tmpdir, &err), -1);
	assert_string_equal(err.buf, expect);
	ws_state_release(&st);
	strbuf_release(&err);
	free(path);
	free(expect);
}

/*
 * State and queue are two files: a command killed between their renames
 * leaves a converged workstream unqueued, or a merged one queued. Both
 * are repaired on reading, and the repair is written by the next commit.
 */
static void test_queue_follows_the_state(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *state = xstrfmt("%s/state", tmpdir), *queue = xstrfmt("%s/queue", tmpdir);
	const char *s_text = "[workstream \"a\"]\n\tstatus = merged\n"
			     "[workstream \"b\"]\n\tstatus = converged\n"
			     "[workstream \"c\"]\n\tstatus = converged\n";
	const char *q_text = "[queue]\n\titem = a\n\titem = c\n";
	char *buf = NULL;

	assert_int_equal(write_file_atomically(state, s_text, strlen(s_text), 0), 0);
	assert_int_equal(write_file_atomically(queue, q_text, strlen(q_text), 0), 0);
	assert_int_equal(ws_state_read(&st, tmpdir, &err), 0);
	assert_int_equal(ws_queue_nr(&st), 2);
	assert_string_equal(ws_queue_item(&st, 0), "c");
	assert_string_equal(ws_queue_item(&st, 1), "b");
	ws_state_release(&st);
	/* a reader changed nothing on disk */
	assert_int_equal(read_file(queue, &buf, NULL), 0);
	assert_string_equal(buf, q_text);
	free(buf);
	/* the next writer does */
	ws_state_lock(&st, tmpdir, 1000);
	assert_int_equal(ws_state_commit(&st), 0);
	ws_state_release(&st);
	assert_int_equal(read_file(queue, &buf, NULL), 0);
	assert_string_equal(buf, "[queue]\n\titem = c\n\titem = b\n");
	free(buf);
	free(state);
	free(queue);
	strbuf_release(&err);
}

static void test_flock_times_out(void **unused)
{
	char *lock = xstrfmt("%s/lock", tmpdir);
	int fd = hold_flock(lock, 0);
	pid_t pid;
	int status;

	assert_true(fd >= 0);
	pid = fork();
	if (!pid) {
		/* another process cannot get it within 100 ms */
		uint64_t start = monotonic_ms();
		int fd2 = hold_flock(lock, 100);
		_exit(fd2 < 0 && errno == EWOULDBLOCK &&
		      monotonic_ms() - start >= 100 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	release_flock(fd);
	free(lock);
}

/*
 * Several processes update different workstreams at once, each many
 * times: with the flock around read-modify-write, no update is lost.
 */
static void test_concurrent_updates_lose_nothing(void **unused)
{
	enum { PROCS = 6, ROUNDS = 40 };
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	pid_t pids[PROCS];
	int i, status;

	for (i = 0; i < PROCS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (!pids[i]) {
			char id[16];
			int r;

			snprintf(id, sizeof(id), "ws-%d", i);
			for (r = 0; r < ROUNDS; r++) {
				struct ws_state s = WS_STATE_INIT;
				long n;

				ws_state_lock(&s, tmpdir, 30000);
				n = ws_state_get_long(&s, id, "counter", 0);
				ws_state_setf(&s, id, "counter", "%ld", n + 1);
				/* and one key everybody shares */
				n = ws_state_get_long(&s, "shared", "counter", 0);
				ws_state_setf(&s, "shared", "counter", "%ld", n + 1);
				if (r % 7 == 0) {
					ws_state_set(&s, id, "status", "converged");
					ws_queue_push(&s, id);
				}
				if (ws_state_commit(&s) < 0)
					_exit(2);
				ws_state_release(&s);
			}
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(ws_state_read(&st, tmpdir, &err), 0);
	for (i = 0; i < PROCS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "ws-%d", i);
		assert_int_equal(ws_state_get_long(&st, id, "counter", -1), ROUNDS);
		assert_true(ws_queue_contains(&st, id));
	}
	assert_int_equal(ws_state_get_long(&st, "shared", "counter", -1), PROCS * ROUNDS);
	assert_int_equal(ws_queue_nr(&st), PROCS);
	ws_state_release(&st);
	strbuf_release(&err);
}

/*
 * cfg_section_get() through its index: the first of two same-named
 * sections, sections added after the index was built, a removal (which
 * shifts the rest), and no false hit; checked against a plain scan.
 */
static void test_section_index_agrees_with_a_scan(void **unused)
{
	struct cfg_file cf = CFG_FILE_INIT;
	char name[32];
	size_t i, j;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "ws-%zu", i);
		cfg_add(cfg_section_add(&cf, "workstream", name), "n", name);
	}
	cfg_add(cfg_section_add(&cf, "workstream", "ws-7"), "n", "second");
	cfg_add(cfg_section_add(&cf, "queue", NULL), "item", "ws-1");
	assert_string_equal(cfg_get(cfg_section_get(&cf, "workstream", "ws-7"), "n"), "ws-7");
	assert_non_null(cfg_section_get(&cf, "queue", NULL));
	assert_null(cfg_section_get(&cf, "queue", "ws-1"));
	assert_null(cfg_section_get(&cf, "workstream", NULL));
	assert_null(cfg_section_get(&cf, "workstream", "ws-1000"));
	/* added after the index exists, past its first size */
	for (i = 1000; i < 3000; i++) {
		snprintf(name, sizeof(name), "ws-%zu", i);
		cfg_add(cfg_section_add(&cf, "workstream", name), "n", name);
		if (i % 500 == 0)
			assert_string_equal(cfg_get(cfg_section_get(&cf, "workstream", name), "n"), name);
	}
	/* the first ws-7 removed: the second is found */
	for (i = 0; i < cf.nr; i++)
		if (cf.sections[i].sub && !strcmp(cf.sections[i].sub, "ws-7"))
			break;
	cfg_section_remove(&cf, i);
	assert_string_equal(cfg_get(cfg_section_get(&cf, "workstream", "ws-7"), "n"), "second");
	for (i = 0; i < 3000; i += 7) {
		const struct cfg_section *want = NULL;

		snprintf(name, sizeof(name), "ws-%zu", i);
		for (j = 0; j < cf.nr && !want; j++)
			if (cf.sections[j].sub && !strcmp(cf.sections[j].sub, name))
				want = &cf.sections[j];
		assert_ptr_equal(cfg_section_get(&cf, "workstream", name), want);
	}
	cfg_file_release(&cf);
	assert_null(cf.index);
}

/* ws_queue_items() lists what ws_queue_item() gives, in one pass. */
static void test_queue_items_in_order(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *state = xstrfmt("%s/state", tmpdir), *queue = xstrfmt("%s/queue", tmpdir);
	const char *s_text = "[workstream \"a\"]\n\tstatus = converged\n"
			     "[workstream \"b\"]\n\tstatus = converged\n"
			     "[workstream \"c\"]\n\tstatus = converged\n";
	const char *q_text = "[queue]\n\titem = c\n\titem = a\n";
	const char **items;
	size_t nr, i;

	assert_int_equal(write_file_atomically(state, s_text, strlen(s_text), 0), 0);
	assert_int_equal(write_file_atomically(queue, q_text, strlen(q_text), 0), 0);
	assert_int_equal(ws_state_read(&st, tmpdir, &err), 0);
	items = ws_queue_items(&st, &nr);
	assert_int_equal(nr, 3);
	assert_int_equal(ws_queue_nr(&st), 3);
	for (i = 0; i < nr; i++)
		assert_string_equal(items[i], ws_queue_item(&st, i));
	assert_string_equal(items[0], "c");
	assert_string_equal(items[1], "a");
	assert_string_equal(items[2], "b"); /* repaired: converged, not queued */
	assert_true(ws_queue_contains(&st, "b"));
	assert_false(ws_queue_contains(&st, "d"));
	free(items);
	ws_state_release(&st);
	free(state);
	free(queue);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_round_trip, setup, teardown),
		cmocka_unit_test(test_status_names_round_trip),
		cmocka_unit_test_setup_teardown(test_status_and_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers_out_of_range_read_as_unset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_git_config_reads_what_we_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_lock_file_is_broken_under_the_flock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_names_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_follows_the_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flock_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_updates_lose_nothing, setup, teardown),
		cmocka_unit_test(test_section_index_agrees_with_a_scan),
		cmocka_unit_test_setup_teardown(test_queue_items_in_order, setup, teardown),
	};
	int ret;

	git_libgit2_init();
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	git_libgit2_shutdown();
	return ret;
}
