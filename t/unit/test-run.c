/*
 * common/run.c and cmd/ws-supervise.c: the supervisor that start_command()
 * spawns to run a program (child_process.supervisor), process start
 * times, waiting for a process that is not our child; the exit record
 * (common/exit-record.c).
 */
#include "compat.h"
#include "reap.h"
#include "run.h"
#include "wrapper.h"
#include <setjmp.h>
#include <sys/wait.h>
#include <cmocka.h>

static char tmpdir[] = "/tmp/test-run-XXXXXX";

static char *supervisor; /* built beside us: ../../libexec/git-ws/ */

/* A supervised child_process: workstream "ws-1", attempt 1, in tmpdir. */
static void supervise_as_dispatch_does(struct child_process *cp,
				       const char *script, int new_pgrp)
{
	strvec_push(&cp->args, script);
	cp->use_shell = 1;
	cp->new_pgrp = new_pgrp;
	cp->no_stdin = 1;
	cp->supervisor = supervisor;
	strvec_push(&cp->supervisor_args, "ws-1");
	strvec_push(&cp->supervisor_args, "1");
	strvec_pushf(&cp->supervisor_args, "%s/ws-1.done", tmpdir);
	strvec_pushf(&cp->supervisor_args, "%s/ws-1.exit", tmpdir);
}

/* The status in the exit record the supervisor wrote. */
static int recorded_status(void)
{
	char *path = xstrfmt("%s/ws-1.exit", tmpdir);
	struct ws_exit_record rec;
	struct strbuf err = STRBUF_INIT;

	assert_int_equal(ws_exit_record_read(path, "ws-1", &rec, &err), 0);
	assert_int_equal(rec.attempt, 1);
	strbuf_release(&err);
	free(path);
	return rec.status;
}

static void forget_the_end(void)
{
	char *done = xstrfmt("%s/ws-1.done", tmpdir);
	char *exit = xstrfmt("%s/ws-1.exit", tmpdir);

	unlink(done);
	unlink(exit);
	free(done);
	free(exit);
}

/* Run `script` under the supervisor; its finish_command(), the recorded status. */
static int supervised(const char *script, int *status, int new_pgrp)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int ret;

	forget_the_end();
	supervise_as_dispatch_does(&cp, script, new_pgrp);
	ret = run_command(&cp);
	*status = recorded_status();
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

/* The done file: the command's own is kept; else one from the exit status. */
static void test_supervisor_writes_the_done_file(void **state)
{
	char *done = xstrfmt("%s/ws-1.done", tmpdir), *buf = NULL;
	char *script = xstrfmt("echo mine >'%s'", done);
	int status;

	(void)state;
	assert_int_equal(supervised("exit 4", &status, 1), 4);
	assert_int_equal(read_file(done, &buf, NULL), 0);
	assert_non_null(strstr(buf, "\"failed\""));
	assert_non_null(strstr(buf, "exit status 4"));
	FREE_AND_NULL(buf);
	assert_int_equal(supervised(script, &status, 1), 0);
	assert_int_equal(read_file(done, &buf, NULL), 0);
	assert_string_equal(buf, "mine\n");
	free(buf);
	free(script);
	free(done);
}

/*
 * The start gate: nothing runs until a byte arrives; at end of file (the
 * caller closed its end without one) the supervisor exits 127 and the
 * program never runs.
 */
static void test_supervisor_waits_at_the_gate(void **state)
{
	char *ran = xstrfmt("%s/ran", tmpdir), *script = xstrfmt(": >'%s'", ran);
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		struct child_process cp = CHILD_PROCESS_INIT;
		int gate[2];

		unlink(ran);
		forget_the_end();
		assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
		supervise_as_dispatch_does(&cp, script, 1);
		cp.gate[0] = gate[0];
		cp.gate[1] = gate[1];
		assert_int_equal(start_command(&cp), 0);
		sleep_ms(50);
		assert_false(path_exists(ran));
		if (round)
			assert_int_equal(write(gate[1], "g", 1), 1);
		close(gate[1]);
		close(gate[0]);
		assert_int_equal(finish_command(&cp), round ? 0 : 127);
		assert_int_equal(path_exists(ran), round);
	}
	free(script);
	free(ran);
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
	char *ready = xstrfmt("%s/ready", tmpdir);
	char *script = xstrfmt("trap 'sleep 0.2; exit 7' TERM; : >'%s'; "
			       "while :; do sleep 0.05; done", ready);
	int i, ret;

	(void)state;
	unlink(ready);
	forget_the_end();
	supervise_as_dispatch_does(&cp, script, 1);
	assert_int_equal(start_command(&cp), 0);
	for (i = 0; i < 200 && !path_exists(ready); i++)
		sleep_ms(10);
	assert_true(path_exists(ready));
	kill_process_group(cp.pid, SIGTERM);
	ret = finish_command(&cp);
	assert_int_equal(ret, 7);
	assert_int_equal(WEXITSTATUS(recorded_status()), 7);
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
	supervisor = exe_relative_path("../../libexec/git-ws/ws-supervise");
	return supervisor && mkdtemp(tmpdir) ? 0 : -1;
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
static void output_fd_that_is_stdin(int supervised)
{
	char path[] = "/tmp/test-run-out.XXXXXX";
	int saved = dup(0), fd, tmp = mkstemp(path);
	struct child_process cp = CHILD_PROCESS_INIT;
	char *buf;
	size_t len;

	assert_true(saved >= 0 && tmp >= 0);
	close(tmp);
	close(0);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_int_equal(fd, 0);
	if (supervised)
		supervise_as_dispatch_does(&cp, "echo out; echo err >&2", 0);
	else
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

static void test_output_fd_that_is_stdin(void **state)
{
	(void)state;
	output_fd_that_is_stdin(0);
	output_fd_that_is_stdin(1); /* spawned, not forked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_supervisor_reports_exit),
		cmocka_unit_test(test_supervisor_writes_the_done_file),
		cmocka_unit_test(test_supervisor_waits_at_the_gate),
		cmocka_unit_test(test_supervisor_ends_by_the_same_signal),
		cmocka_unit_test(test_supervisor_outlives_sigterm),
		cmocka_unit_test(test_start_time),
		cmocka_unit_test(test_wait_for_process),
		cmocka_unit_test(test_exit_record),
		cmocka_unit_test(test_output_fd_that_is_stdin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
