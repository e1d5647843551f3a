#include "compat.h"
#include "run.h"
#include "sigchain.h"
#include "usage.h"
#include "wrapper.h"
#include <poll.h>
#include <spawn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

void child_process_clear(struct child_process *cp)
{
	strvec_clear(&cp->args);
	strvec_clear(&cp->env);
	strvec_clear(&cp->supervisor_args);
}

char *ws_supervisor_path(void)
{
	char *path = exe_relative_path(WS_SUPERVISOR_REL);

	if (path && access(path, X_OK))
		FREE_AND_NULL(path);
	return path;
}

static void child_die(const char *what, const char *arg)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "fatal: %s '%s': %s\n", what, arg,
			 strerror(errno));
	write_in_full(2, buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0);
	_exit(127);
}

/*
 * In the child, for child_process.hold_fd: stay behind as the keeper of
 * that fd (close-on-exec, so only we keep it) while a child of ours runs
 * the program, and end as it ends, by the same signal or with the same
 * exit code, so that our parent sees no difference. The program is
 * started by posix_spawn(3), which glibc does without copying our
 * address space (clone(2) with CLONE_VM | CLONE_VFORK): we are a fork of
 * our parent, and a fork of a fork would copy its page tables again.
 */
static void keep_fd_while_running(const char *const *argv)
{
	posix_spawnattr_t attr;
	sigset_t all, none;
	pid_t pid;
	int status, err;

	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	err = posix_spawnp(&pid, argv[0], NULL, &attr, (char *const *)argv,
			   environ);
	posix_spawnattr_destroy(&attr);
	if (err) {
		errno = err;
		child_die("cannot run", argv[0]);
	}
	sigprocmask(SIG_SETMASK, &none, NULL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFSIGNALED(status)) {
		sigchain_set_default(WTERMSIG(status));
		signal(WTERMSIG(status), SIG_DFL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

/* The parent's copies of the child's stdout/stderr fds: they are ours. */
static void close_redirections(struct child_process *cp)
{
	if (cp->out >= 0)
		close(cp->out);
	if (cp->err >= 0 && cp->err != cp->out)
		close(cp->err);
	cp->out = cp->err = -1;
}

/* The child's argv: "git", "/bin/sh -c", then cp->args. */
static void child_argv(const struct child_process *cp, struct strvec *argv)
{
	size_t i;

	if (cp->git_cmd)
		strvec_push(argv, "git");
	if (cp->use_shell) {
		strvec_push(argv, "/bin/sh");
		strvec_push(argv, "-c");
	}
	for (i = 0; i < cp->args.nr; i++)
		strvec_push(argv, cp->args.v[i]);
	if (!argv->nr)
		BUG("start_command() without a program");
}

/*
 * In the child: move `fd` above 2 when it is 0, 1 or 2, so that putting
 * the standard fds in place cannot overwrite it first (a parent that
 * runs with stdin closed gets fd 0 for the log it opens). The copy is
 * close-on-exec: what the program sees are its dup2()s onto 0, 1 and 2.
 */
static int above_stdio(int fd)
{
	int high;

	if (fd < 0 || fd > 2)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return high < 0 ? fd : high;
}

/* In the child: its process group, fds, directory and environment. */
static void child_setup(struct child_process *cp, int null_fd)
{
	size_t i;
	int same = cp->out >= 0 && cp->out == cp->err;

	null_fd = above_stdio(null_fd);
	cp->out = above_stdio(cp->out);
	cp->err = same ? cp->out : above_stdio(cp->err);
	if (cp->new_session)
		setsid();
	else if (cp->new_pgrp)
		setpgid(0, 0);
	if (cp->no_stdin)
		dup2(null_fd, 0);
	if (cp->out >= 0)
		dup2(cp->out, 1);
	else if (cp->no_stdout)
		dup2(null_fd, 1);
	else if (cp->stdout_to_stderr)
		dup2(2, 1);
	if (cp->err >= 0)
		dup2(cp->err, 2);
	else if (cp->no_stderr)
		dup2(null_fd, 2);
	if (cp->out > 2)
		close(cp->out);
	if (cp->err > 2 && cp->err != cp->out)
		close(cp->err);
	if (cp->dir && chdir(cp->dir) < 0)
		child_die("cannot change to", cp->dir);
	for (i = 0; i < cp->env.nr; i++) {
		char *eq = strchr(cp->env.v[i], '=');

		if (!eq) {
			unsetenv(cp->env.v[i]);
			continue;
		}
		*eq = '\0';
		setenv(cp->env.v[i], eq + 1, 1);
		*eq = '=';
	}
}

/* The child's environment: ours, with cp->env applied. */
static void child_envp(const struct child_process *cp, struct strvec *envp)
{
	size_t i, k;

	strvec_pushv(envp, (const char **)environ);
	for (i = 0; i < cp->env.nr; i++) {
		const char *e = cp->env.v[i], *eq = strchr(e, '=');
		size_t len = eq ? (size_t)(eq - e) : strlen(e);

		for (k = 0; k < envp->nr; k++)
			if (!strncmp(envp->v[k], e, len) && envp->v[k][len] == '=')
				break;
		if (k < envp->nr)
			strvec_remove(envp, k);
		if (eq)
			strvec_push(envp, e);
	}
}

/*
 * start_command() with a supervisor program (cp->supervisor): spawn it
 * by posix_spawn(3), which glibc does with clone(2) and CLONE_VM |
 * CLONE_VFORK: no copy of our address space, so no copy-on-write fault
 * later for every page we touch while it runs (a fork of a dispatcher
 * that holds a large plan cost more than the command `true`). What the
 * fork path does in the child is done by spawn attributes and file
 * actions: the process group or session, the signal mask and default
 * actions, the standard fds, the directory; the environment is built
 * here. The gate's read end becomes the supervisor's stdin.
 */
static int spawn_supervised(struct child_process *cp)
{
	struct strvec argv = STRVEC_INIT, envp = STRVEC_INIT;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t set;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int gate = above_stdio(cp->gate[0]), out, err, ret;
	int same = cp->out >= 0 && cp->out == cp->err;

	out = above_stdio(cp->out);
	err = same ? out : above_stdio(cp->err);
	strvec_push(&argv, cp->supervisor);
	if (gate >= 0)
		strvec_push(&argv, "--gate");
	strvec_pushv(&argv, (const char **)cp->supervisor_args.v);
	strvec_push(&argv, "--");
	child_argv(cp, &argv);
	child_envp(cp, &envp);

	posix_spawn_file_actions_init(&fa);
	if (gate >= 0)
		posix_spawn_file_actions_adddup2(&fa, gate, 0);
	else if (cp->no_stdin)
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	else if (cp->no_stdout)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	else if (cp->stdout_to_stderr)
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	if (err >= 0)
		posix_spawn_file_actions_adddup2(&fa, err, 2);
	else if (cp->no_stderr)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (cp->dir)
		posix_spawn_file_actions_addchdir_np(&fa, cp->dir);

	posix_spawnattr_init(&attr);
	sigemptyset(&set);
	posix_spawnattr_setsigmask(&attr, &set);
	sigfillset(&set);
	posix_spawnattr_setsigdefault(&attr, &set);
	if (cp->new_session) {
		flags |= POSIX_SPAWN_SETSID;
	} else if (cp->new_pgrp) {
		flags |= POSIX_SPAWN_SETPGROUP;
		posix_spawnattr_setpgroup(&attr, 0);
	}
	posix_spawnattr_setflags(&attr, flags);

	fflush(NULL);
	ret = posix_spawn(&cp->pid, argv.v[0], &fa, &attr, (char *const *)argv.v,
			  (char *const *)envp.v);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (gate != cp->gate[0])
		close(gate);
	if (out != cp->out)
		close(out);
	if (err != cp->err && err != out)
		close(err);
	close_redirections(cp);
	strvec_clear(&argv);
	strvec_clear(&envp);
	if (ret) {
		cp->pid = 0;
		errno = ret;
		return error_errno("cannot run '%s'", cp->supervisor);
	}
	return 0;
}

int start_command(struct child_process *cp)
{
	struct strvec argv = STRVEC_INIT;
	sigset_t all, old_mask;
	int null_fd = -1;

	if (cp->supervisor && cp->hold_fd >= 0)
		BUG("start_command() with both a supervisor and hold_fd");
	if (!cp->supervisor && cp->gate[0] >= 0)
		BUG("start_command() with a start gate but no supervisor");
	if (cp->supervisor)
		return spawn_supervised(cp);

	child_argv(cp, &argv);
	if (cp->no_stdin || cp->no_stdout || cp->no_stderr)
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	fflush(NULL);
	/*
	 * As git's start_command(): no signal reaches the child before it
	 * has put the default actions back (sigchain_reset_for_exec()), or
	 * our handlers would run in it, remove our lock files and signal
	 * our process groups. Pending ones reach us once the mask is back.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	cp->pid = fork();
	if (cp->pid)
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (cp->pid < 0) {
		int saved = errno;

		strvec_clear(&argv);
		if (null_fd >= 0)
			close(null_fd);
		close_redirections(cp);
		errno = saved;
		return error_errno("cannot fork to run '%s'", cp->args.v[0]);
	}
	if (!cp->pid) {
		sigset_t none;

		sigchain_reset_for_exec();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_setup(cp, null_fd);
		if (cp->hold_fd >= 0)
			keep_fd_while_running((const char *const *)argv.v);
		execvp(argv.v[0], argv.v);
		child_die("cannot run", argv.v[0]);
	}
	/* parent: avoid the race where we kill the group before setpgid */
	if (cp->new_pgrp && !cp->new_session)
		setpgid(cp->pid, cp->pid);
	if (null_fd >= 0)
		close(null_fd);
	close_redirections(cp);
	strvec_clear(&argv);
	return 0;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int finish_command(struct child_process *cp)
{
	int status;
	pid_t r;

	while ((r = waitpid(cp->pid, &status, 0)) < 0 && errno == EINTR)
		;
	child_process_clear(cp);
	if (r < 0)
		return -1;
	return decode_status(status);
}

int run_command(struct child_process *cp)
{
	if (start_command(cp) < 0) {
		child_process_clear(cp);
		return -1;
	}
	return finish_command(cp);
}

int capture_command(struct child_process *cp, struct strbuf *out,
		    struct strbuf *err)
{
	int ofd[2], efd[2] = { -1, -1 };
	struct pollfd pfd[2];
	int open_fds;

	if (pipe2(ofd, O_CLOEXEC) < 0)
		return error_errno("cannot create a pipe");
	if (err && pipe2(efd, O_CLOEXEC) < 0) {
		close(ofd[0]);
		close(ofd[1]);
		return error_errno("cannot create a pipe");
	}
	cp->out = ofd[1];
	if (err)
		cp->err = efd[1];
	if (start_command(cp) < 0) {
		close(ofd[0]);
		if (err)
			close(efd[0]);
		close(ofd[1]);
		if (err)
			close(efd[1]);
		child_process_clear(cp);
		return -1;
	}
	pfd[0].fd = ofd[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = efd[0];
	pfd[1].events = POLLIN;
	open_fds = err ? 2 : 1;
	while (open_fds) {
		int k;

		if (poll(pfd, err ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < (err ? 2 : 1); k++) {
			char buf[8192];
			ssize_t n;

			if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[k].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[k].fd);
				pfd[k].fd = -1;
				open_fds--;
				continue;
			}
			strbuf_add(k ? err : out, buf, n);
		}
	}
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
	if (pfd[1].fd >= 0)
		close(pfd[1].fd);
	return finish_command(cp);
}

void kill_process_group(pid_t pgid, int sig)
{
	if (pgid > 0)
		kill(-pgid, sig);
}

int process_is_alive(pid_t pid)
{
	if (pid <= 0)
		return 0;
	return !kill(pid, 0) || errno == EPERM;
}

/* The fields of /proc/<pid>/stat after the command name, in a new string. */
static char *proc_stat_fields(pid_t pid)
{
	char path[64], *buf = NULL, *p, *ret;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (pid <= 0 || read_file(path, &buf, NULL) < 0)
		return NULL;
	p = strrchr(buf, ')');
	ret = p ? xstrdup(p + 1) : NULL;
	free(buf);
	return ret;
}

int process_start_time(pid_t pid, unsigned long long *start)
{
	char *f = proc_stat_fields(pid), *p;
	int field = 3, ret = -1;

	if (!f)
		return -1;
	/* f holds field 3 (state) on; the start time is field 22 */
	p = f + strspn(f, " ");
	while (*p && field < 22) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
		field++;
	}
	if (field == 22 && sscanf(p, "%llu", start) == 1)
		ret = 0;
	free(f);
	return ret;
}

int process_parent(pid_t pid, pid_t *ppid, char *state)
{
	char *f = proc_stat_fields(pid), st;
	long pp;
	int ret = -1;

	if (f && sscanf(f, " %c %ld", &st, &pp) == 2) {
		*ppid = (pid_t)pp;
		if (state)
			*state = st;
		ret = 0;
	}
	free(f);
	return ret;
}

int wait_for_process(pid_t pid, long timeout_ms,
		     int (*is_running)(pid_t pid, void *data), void *data)
{
	uint64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd = -1, ret = 0;

#ifdef SYS_pidfd_open
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	for (;;) {
		uint64_t now = monotonic_ms();
		int wait = 1000, alive;

		alive = is_running ? is_running(pid, data) : process_is_alive(pid);
		if (!alive) {
			ret = 1;
			break;
		}
		if (timeout_ms >= 0 && now >= deadline)
			break;
		if (timeout_ms >= 0 && deadline - now < (uint64_t)wait)
			wait = (int)(deadline - now);
		if (fd >= 0) {
			struct pollfd pfd;

			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, wait) < 0 && errno == EINTR) {
				ret = -1;
				break;
			}
			if (pfd.revents & POLLIN) {
				if (!is_running) {
					ret = 1;
					break;
				}
				/* it has exited, yet counts as running: poll no more */
				close(fd);
				fd = -1;
			}
		} else {
			sleep_ms(wait < 50 ? wait : 50);
		}
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int wait_with_timeout(struct child_process *cp, long timeout_ms,
			     long grace_ms, int *timed_out)
{
	uint64_t deadline = monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int status;
	unsigned wait = 1;

	*timed_out = 0;
	if (timeout_ms <= 0)
		return finish_command(cp);
	for (;;) {
		pid_t r = waitpid(cp->pid, &status, WNOHANG);

		if (r == cp->pid) {
			child_process_clear(cp);
			return decode_status(status);
		}
		if (r < 0 && errno != EINTR) {
			child_process_clear(cp);
			return -1;
		}
		if (monotonic_ms() >= deadline)
			break;
		sleep_ms(wait);
		if (wait < 50)
			wait *= 2;
	}
	*timed_out = 1;
	kill_process_group(cp->pid, SIGTERM);
	deadline = monotonic_ms() + grace_ms;
	while (monotonic_ms() < deadline) {
		if (waitpid(cp->pid, &status, WNOHANG) == cp->pid) {
			/* the leader is gone; make sure the rest of the group is too */
			kill_process_group(cp->pid, SIGKILL);
			child_process_clear(cp);
			return decode_status(status);
		}
		sleep_ms(20);
	}
	kill_process_group(cp->pid, SIGKILL);
	return finish_command(cp);
}

/* process groups a fatal signal is passed on to (0: a free slot) */
#define FORWARD_MAX 8
static volatile sig_atomic_t forward_pgrps[FORWARD_MAX];

/* kill(2) is async-signal-safe; the slots are only ever stored whole. */
static void forward_on_signal(int sig)
{
	size_t i;

	/*
	 * The signal itself, then SIGTERM: a command that catches Ctrl-C
	 * (a test runner that prints a summary) is still told to stop, so
	 * that nothing runs on after us.
	 */
	for (i = 0; i < FORWARD_MAX; i++)
		if (forward_pgrps[i] > 0) {
			kill(-(pid_t)forward_pgrps[i], sig);
			if (sig != SIGTERM)
				kill(-(pid_t)forward_pgrps[i], SIGTERM);
		}
	sigchain_pop(sig);
	raise(sig);
}

void install_signal_forwarding(void)
{
	static int installed;

	if (installed++)
		return;
	sigchain_push_common(forward_on_signal);
}

int forward_signals_to_group(pid_t pgid)
{
	size_t i;

	install_signal_forwarding();
	for (i = 0; i < FORWARD_MAX; i++)
		if (!forward_pgrps[i]) {
			forward_pgrps[i] = pgid;
			return 0;
		}
	return -1;
}

void stop_forwarding_signals_to_group(pid_t pgid)
{
	size_t i;

	for (i = 0; i < FORWARD_MAX; i++)
		if (forward_pgrps[i] == pgid)
			forward_pgrps[i] = 0;
}

int finish_command_timeout(struct child_process *cp, long timeout_ms,
			   long grace_ms, int *timed_out)
{
	pid_t pgid = cp->pid;
	int forwarding = (cp->new_pgrp || cp->new_session) &&
			 !forward_signals_to_group(pgid);
	int ret = wait_with_timeout(cp, timeout_ms, grace_ms, timed_out);

	if (forwarding)
		stop_forwarding_signals_to_group(pgid);
	return ret;
}
