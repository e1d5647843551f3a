/*
 * common/sigchain.c: the stacks of signal handlers that lockfile.c,
 * run.c and dispatch.c push their handlers on.
 */
#include "compat.h"
#include "sigchain.h"
#include <setjmp.h>
#include <cmocka.h>

/* What the handlers saw, in order: one letter each. */
static volatile sig_atomic_t seen_nr;
static volatile char seen[16];

static void record(char c)
{
	if (seen_nr < (sig_atomic_t)sizeof(seen))
		seen[seen_nr++] = c;
}

static void reset_seen(void)
{
	seen_nr = 0;
	memset((char *)seen, 0, sizeof(seen));
}

static void seen_is(const char *expect)
{
	char buf[sizeof(seen) + 1];

	memcpy(buf, (const char *)seen, seen_nr);
	buf[seen_nr] = '\0';
	assert_string_equal(buf, expect);
}

/* Handlers that keep the signal to themselves. */
static void handler_a(int sig)
{
	(void)sig;
	record('a');
}

static void handler_b(int sig)
{
	(void)sig;
	record('b');
}

/* A handler that passes the signal on, as a git-ws cleanup handler does. */
static void handler_chain(int sig)
{
	record('c');
	sigchain_pop(sig);
	raise(sig);
}

static sigchain_fun current(int sig)
{
	struct sigaction sa;

	assert_int_equal(sigaction(sig, NULL, &sa), 0);
	return sa.sa_handler;
}

static void set_action(int sig, sigchain_fun f)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = f;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

static void test_push_and_pop_in_order(void **state)
{
	(void)state;
	set_action(SIGUSR1, SIG_DFL);
	assert_int_equal(sigchain_push(SIGUSR1, handler_a), 0);
	assert_true(current(SIGUSR1) == handler_a);
	assert_int_equal(sigchain_push(SIGUSR1, handler_b), 0);
	assert_true(current(SIGUSR1) == handler_b);

	/* the last pushed handler runs, alone */
	reset_seen();
	raise(SIGUSR1);
	seen_is("b");

	assert_int_equal(sigchain_pop(SIGUSR1), 0);
	assert_true(current(SIGUSR1) == handler_a);
	reset_seen();
	raise(SIGUSR1);
	seen_is("a");

	assert_int_equal(sigchain_pop(SIGUSR1), 0);
	assert_true(current(SIGUSR1) == SIG_DFL);
	/* a pop with nothing pushed changes nothing, as git's */
	assert_int_equal(sigchain_pop(SIGUSR1), 0);
	assert_true(current(SIGUSR1) == SIG_DFL);
}

static void test_stacks_are_per_signal(void **state)
{
	(void)state;
	set_action(SIGUSR1, SIG_DFL);
	set_action(SIGUSR2, SIG_DFL);
	assert_int_equal(sigchain_push(SIGUSR1, handler_a), 0);
	assert_int_equal(sigchain_push(SIGUSR2, handler_b), 0);
	assert_int_equal(sigchain_pop(SIGUSR1), 0);
	assert_true(current(SIGUSR1) == SIG_DFL);
	assert_true(current(SIGUSR2) == handler_b);
	assert_int_equal(sigchain_pop(SIGUSR2), 0);
	assert_true(current(SIGUSR2) == SIG_DFL);
}

static void test_popped_handler_reaches_previous(void **state)
{
	(void)state;
	set_action(SIGUSR1, SIG_DFL);
	assert_int_equal(sigchain_push(SIGUSR1, handler_a), 0);
	assert_int_equal(sigchain_push(SIGUSR1, handler_chain), 0);
	assert_int_equal(sigchain_push(SIGUSR1, handler_chain), 0);

	/* each chain handler pops itself and raises: then the one below runs */
	reset_seen();
	raise(SIGUSR1);
	seen_is("cca");
	assert_true(current(SIGUSR1) == handler_a);

	assert_int_equal(sigchain_pop(SIGUSR1), 0);
	assert_true(current(SIGUSR1) == SIG_DFL);
}

/* The end of the chain is the default action: the process dies of it. */
static int chain_fd = -1;

static void handler_write_and_chain(int sig)
{
	char c = 'w';

	if (write(chain_fd, &c, 1) < 0)
		_exit(3);
	sigchain_pop(sig);
	raise(sig);
}

static void test_chain_ends_in_the_default(void **state)
{
	int fds[2], status;
	char buf[4];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fds[0]);
		chain_fd = fds[1];
		set_action(SIGTERM, SIG_DFL);
		sigchain_push(SIGTERM, handler_write_and_chain);
		sigchain_push(SIGTERM, handler_write_and_chain);
		raise(SIGTERM);
		_exit(0); /* not reached: SIGTERM's default action ended us */
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], buf, 1), 1);
	assert_int_equal(read(fds[0], buf + 1, 1), 1);
	assert_int_equal(read(fds[0], buf + 2, 1), 0);
	close(fds[0]);
	assert_memory_equal(buf, "ww", 2);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
}

static void test_ignored_stays_ignored(void **state)
{
	(void)state;
	set_action(SIGUSR2, SIG_IGN);
	assert_int_equal(sigchain_push(SIGUSR2, handler_a), 0);
	assert_true(current(SIGUSR2) == SIG_IGN);
	reset_seen();
	raise(SIGUSR2);
	seen_is("");
	/* the push still counts: the pop pairs with it */
	assert_int_equal(sigchain_push(SIGUSR2, handler_b), 0);
	assert_int_equal(sigchain_pop(SIGUSR2), 0);
	assert_int_equal(sigchain_pop(SIGUSR2), 0);
	assert_true(current(SIGUSR2) == SIG_IGN);
	set_action(SIGUSR2, SIG_DFL);

	/* but SIGCHLD ignored would reap our children: it is caught */
	set_action(SIGCHLD, SIG_IGN);
	assert_int_equal(sigchain_push(SIGCHLD, handler_a), 0);
	assert_true(current(SIGCHLD) == handler_a);
	assert_int_equal(sigchain_pop(SIGCHLD), 0);
	assert_true(current(SIGCHLD) == SIG_IGN);
	set_action(SIGCHLD, SIG_DFL);
}

static void test_common_signals(void **state)
{
	const int sigs[] = { SIGINT, SIGHUP, SIGTERM, SIGQUIT };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		set_action(sigs[i], SIG_DFL);
	sigchain_push_common(handler_a);
	sigchain_push_common(handler_b);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		assert_true(current(sigs[i]) == handler_b);
	assert_true(current(SIGPIPE) != handler_b);
	sigchain_pop_common();
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		assert_true(current(sigs[i]) == handler_a);
	sigchain_pop_common();
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		assert_true(current(sigs[i]) == SIG_DFL);
}

static void test_reset_for_exec(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int ok;

		set_action(SIGHUP, SIG_IGN);
		set_action(SIGPIPE, SIG_IGN);
		sigchain_push(SIGUSR1, handler_a);
		sigchain_push(SIGTERM, handler_b);
		sigchain_reset_for_exec();
		ok = current(SIGUSR1) == SIG_DFL && current(SIGTERM) == SIG_DFL &&
		     current(SIGHUP) == SIG_DFL && current(SIGPIPE) == SIG_DFL;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_and_pop_in_order),
		cmocka_unit_test(test_stacks_are_per_signal),
		cmocka_unit_test(test_popped_handler_reaches_previous),
		cmocka_unit_test(test_chain_ends_in_the_default),
		cmocka_unit_test(test_ignored_stays_ignored),
		cmocka_unit_test(test_common_signals),
		cmocka_unit_test(test_reset_for_exec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
