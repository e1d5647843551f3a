/*
 * common/run.c: the supervisor that start_command() leaves behind a
 * program (child_process.on_end), process start times, waiting for a
 * process that is not our child; common/reap.c: the exit record.
 */
#include "compat.h"
#include "reap.h"
#include "run.h"
#include "wrapper.h"
#include <setjmp.h>
#include <sys/wait.h>
#include <cmocka.h>

static char tmpdir[] = "/tmp/test-run-XXXXXX";

/* on_end: the status, to the file named by data. */
static void write_status(int status, void *data)
{
	FILE *f = fopen(data, "w");

	if (f) {
		fprintf(f, "%d\n", status);
		fclose(f);
	}
}

static int read_status(const char *path)
{
	char *buf = NULL;
	int status;

	assert_int_equal(read_file(path, &buf, NULL), 0);
	status = atoi(buf);
	free(buf);
	return status;
}

/* Run `script` under a supervisor; its finish_command(), on_end's status. */
static int supervised(const char *script, int *status, int new_pgrp)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *path = xstrfmt("%s/status", tmpdir);
	int ret;

	unlink(path);
	strvec_push(&cp.args, script);
	cp.use_shell = 1;
	cp.new_pgrp = new_pgrp;
	cp.on_end = write_status;
	cp.on_end_data = path;
	ret = run_command(&cp);
	*status = read_status(path);
	free(path);
	return ret;
}

static void test_supervisor_reports_exit(void **state)
{
	int status;

	(void)state;
	assert_int_equal(supervised("exit 3", &status, 0), 3);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_equal(supervised("true", &status, 0), 0);
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_supervisor_ends_by_the_same_signal(void **state)
{
	int status;

	(void)state;
	assert_int_equal(supervised("kill -USR1 $$", &status, 0), 128 + SIGUSR1);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGUSR1);
}

/*
 * SIGTERM to the whole group: the supervisor outlives it while the
 * program, which catches it, finishes, and reports the program's exit.
 */
static void test_supervisor_outlives_sigterm(void **state)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *path = xstrfmt("%s/status", tmpdir);
	char *ready = xstrfmt("%s/ready", tmpdir);
	char *script = xstrfmt("trap 'sleep 0.2; exit 7' TERM; : >'%s'; "
			       "while :; do sleep 0.05; done", ready);
	int i, ret;

	(void)state;
	unlink(path);
	unlink(ready);
	strvec_push(&cp.args, script);
	cp.use_shell = 1;
	cp.new_pgrp = 1;
	cp.on_end = write_status;
	cp.on_end_data = path;
	assert_int_equal(start_command(&cp), 0);
	for (i = 0; i < 200 && !path_exists(ready); i++)
		sleep_ms(10);
	assert_true(path_exists(ready));
	kill_process_group(cp.pid, SIGTERM);
	ret = finish_command(&cp);
	assert_int_equal(ret, 7);
	assert_int_equal(WEXITSTATUS(read_status(path)), 7);
	free(path);
	free(ready);
	free(script);
}

static void test_start_time(void **state)
{
	unsigned long long a = 0, b = 0;
	pid_t ppid;
	char st;
	pid_t pid;

	(void)state;
	assert_int_equal(process_start_time(getpid(), &a), 0);
	assert_int_equal(process_start_time(getpid(), &b), 0);
	assert_true(a > 0);
	assert_true(a == b);
	assert_int_equal(process_parent(getpid(), &ppid, &st), 0);
	assert_int_equal(ppid, getppid());
	pid = fork();
	if (!pid)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(process_start_time(pid, &a), -1);
}

static void test_wait_for_process(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	if (!pid) {
		sleep_ms(100);
		_exit(0);
	}
	/* still running after 10 ms; ended (and reaped) after the waitpid() */
	assert_int_equal(wait_for_process(pid, 10, NULL, NULL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(wait_for_process(pid, 5000, NULL, NULL), 1);
	assert_int_equal(ws_wait_for_pid(pid, 1000), 1);
}

static void test_exit_record(void **state)
{
	char *path = xstrfmt("%s/ws-1.exit", tmpdir);
	struct ws_exit_record rec, back;
	struct strbuf err = STRBUF_INIT;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.pid = 1234;
	rec.attempt = 2;
	rec.status = 3 << 8;
	rec.done_by_command = 0;
	snprintf(rec.finished, sizeof(rec.finished), "2026-01-02T03:04:05Z");
	assert_int_equal(ws_exit_record_write(path, "ws-1", &rec), 0);
	assert_int_equal(ws_exit_record_read(path, "ws-1", &back, &err), 0);
	assert_int_equal(back.pid, 1234);
	assert_int_equal(back.attempt, 2);
	assert_true(WIFEXITED(back.status));
	assert_int_equal(WEXITSTATUS(back.status), 3);
	assert_int_equal(back.done_by_command, 0);
	assert_string_equal(back.finished, "2026-01-02T03:04:05Z");

	rec.status = SIGKILL;
	rec.done_by_command = 1;
	assert_int_equal(ws_exit_record_write(path, "ws-1", &rec), 0);
	assert_int_equal(ws_exit_record_read(path, "ws-1", &back, &err), 0);
	assert_true(WIFSIGNALED(back.status));
	assert_int_equal(WTERMSIG(back.status), SIGKILL);
	assert_int_equal(back.done_by_command, 1);

	/* another workstream's, or none */
	assert_int_equal(ws_exit_record_read(path, "ws-2", &back, &err), -1);
	unlink(path);
	assert_int_equal(ws_exit_record_read(path, "ws-1", &back, &err), 1);
	strbuf_release(&err);
	free(path);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xstrfmt("rm -rf '%s'", tmpdir);
	int ret;

	(void)state;
	ret = system(cmd);
	free(cmd);
	return ret ? -1 : 0;
}

/*
 * A parent that runs with stdin closed opens its log as fd 0: the
 * child's stdin from /dev/null must not take the place of that log
 * before it becomes the child's stdout.
 */
static void test_output_fd_that_is_stdin(void **state)
{
	char path[] = "/tmp/test-run-out.XXXXXX";
	int saved = dup(0), fd, tmp = mkstemp(path);
	struct child_process cp = CHILD_PROCESS_INIT;
	char *buf;
	size_t len;

	(void)state;
	assert_true(saved >= 0 && tmp >= 0);
	close(tmp);
	close(0);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_int_equal(fd, 0);
	strvec_push(&cp.args, "echo out; echo err >&2");
	cp.use_shell = 1;
	cp.no_stdin = 1;
	cp.out = fd;
	cp.err = fd;
	assert_int_equal(run_command(&cp), 0);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	assert_int_equal(read_file(path, &buf, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(buf, "out\nerr\n", 8);
	free(buf);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supervisor_reports_exit),
		cmocka_unit_test(test_supervisor_ends_by_the_same_signal),
		cmocka_unit_test(test_supervisor_outlives_sigterm),
		cmocka_unit_test(test_start_time),
		cmocka_unit_test(test_wait_for_process),
		cmocka_unit_test(test_exit_record),
		cmocka_unit_test(test_output_fd_that_is_stdin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
