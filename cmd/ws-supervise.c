/*
 * ws-supervise: the supervisor that git ws-dispatch runs each command
 * under (common/run.h, start_command() with a supervisor). It is not a
 * git command: it lives in <prefix>/libexec/git-ws/ and is started by
 * posix_spawn(3), so that starting a command never copies the address
 * space of a dispatcher that holds a large plan.
 *
 *	ws-supervise [--gate] <id> <attempt> <done-file> <exit-record>
 *	             -- <program> [<arg>...]
 *
 * With --gate, stdin is the start gate (common/run.h): wait for one byte
 * there; at end of file the start was called off (the dispatcher died
 * or could not record the start), so exit 127 without running anything.
 * Then run the program, with stdin from /dev/null, in our process group
 * (we lead it), and outlive the stop signals sent to the group (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT: the program decides whether to stop; SIGKILL
 * takes both). Once it has ended, write its done file when it wrote none
 * (from the exit status) and then its exit record (exit-record.h), so
 * that the end is on disk whether or not the dispatcher still lives;
 * then end as the program ended: the same exit code, or the same signal.
 */
#include "compat.h"
#include "donefile.h"
#include "exit-record.h"
#include "wrapper.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* The stop signals we outlive. */
static const int outlived[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* Interrupts our waitpid(); the program decides. */
static void on_stop_signal(int sig)
{
	(void)sig;
}

static void usage_exit(void)
{
	fputs("usage: ws-supervise [--gate] <id> <attempt> <done-file> "
	      "<exit-record> -- <program> [<arg>...]\n", stderr);
	exit(129);
}

/* Wait for the byte that opens the gate on stdin, then take /dev/null. */
static void wait_at_gate(const char *prog)
{
	char c;
	ssize_t n;
	int null_fd;

	while ((n = read(0, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		fprintf(stderr, "fatal: not running '%s': its start was called off\n",
			prog);
		exit(127);
	}
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, 0) < 0) {
		fprintf(stderr, "fatal: cannot open /dev/null: %s\n", strerror(errno));
		exit(127);
	}
	if (null_fd > 0)
		close(null_fd);
}

/* Run argv; its waitpid(2) status (exit 127 when it cannot run). */
static int run(char *const *argv)
{
	posix_spawnattr_t attr;
	sigset_t all, none, dfl;
	pid_t pid;
	int status, err;
	size_t i;
	struct sigaction sa;

	sigfillset(&all);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* a handler, not SIG_IGN, which the program would inherit */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	for (i = 0; i < ARRAY_SIZE(outlived); i++) {
		sigaction(outlived[i], &sa, NULL);
		sigaddset(&dfl, outlived[i]);
	}
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	err = posix_spawnp(&pid, argv[0], NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (err) {
		fprintf(stderr, "fatal: cannot run '%s': %s\n", argv[0], strerror(err));
		return 127 << 8;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127 << 8;
	return status;
}

/* What the dispatcher reads once it reaps us (dispatch.c, reap.c). */
static void record_end(const char *id, int attempt, const char *done_path,
		       const char *exit_path, int status)
{
	struct ws_exit_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.pid = (long)getpid();
	rec.attempt = attempt;
	rec.status = status;
	rec.done_by_command = path_exists(done_path);
	iso8601_now(rec.finished);
	if (!rec.done_by_command) {
		char *desc = ws_describe_wait_status(status);
		int ok = WIFEXITED(status) && !WEXITSTATUS(status);

		if (ws_done_write(done_path, id, ok ? WS_DONE_SUCCESS : WS_DONE_FAILED,
				  desc) < 0)
			fprintf(stderr, "warning: cannot write '%s': %s\n", done_path,
				strerror(errno));
		free(desc);
	}
	if (ws_exit_record_write(exit_path, id, &rec) < 0)
		fprintf(stderr, "warning: cannot write '%s': %s\n", exit_path,
			strerror(errno));
}

int main(int argc, char **argv)
{
	int gate = 0, attempt, status;
	char **prog;

	argv++;
	argc--;
	if (argc && !strcmp(*argv, "--gate")) {
		gate = 1;
		argv++;
		argc--;
	}
	if (argc < 6 || strcmp(argv[4], "--") ||
	    parse_nonneg_int(argv[1], &attempt) < 0)
		usage_exit();
	prog = argv + 5;
	if (gate)
		wait_at_gate(prog[0]);
	status = run(prog);
	record_end(argv[0], attempt, argv[2], argv[3], status);
	if (WIFSIGNALED(status)) {
		sigset_t none;
		sigemptyset(&none);
		signal(WTERMSIG(status), SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		raise(WTERMSIG(status));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}
