#include "compat.h"
#include "sigchain.h"
#include "usage.h"
#include "wrapper.h"
#include <pthread.h>

/* The actions that sigchain_push() replaced, for each signal, last on top. */
struct sigchain_signal {
	struct sigaction *old;
	size_t n;
	size_t alloc;
};
static struct sigchain_signal signals[NSIG];

static const int common_signals[] = { SIGINT, SIGHUP, SIGTERM, SIGQUIT };

static void check_signum(int sig)
{
	if (sig < 1 || sig >= NSIG)
		BUG("signal out of range: %d", sig);
}

/*
 * Block `sig` while its stack changes: its handler, which may pop it,
 * then never sees the handler installed and the stack not yet grown
 * (or the reverse). In the handler itself `sig` is blocked already.
 */
static void block_signal(int sig, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void restore_mask(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int sigchain_push(int sig, sigchain_fun f)
{
	struct sigchain_signal *s = signals + sig;
	struct sigaction sa;
	sigset_t mask;
	int saved;

	check_signum(sig);
	ALLOC_GROW(s->old, s->n + 1, s->alloc);
	block_signal(sig, &mask);
	if (sigaction(sig, NULL, &s->old[s->n]) < 0)
		goto fail;
	if (s->old[s->n].sa_handler != SIG_IGN || sig == SIGCHLD) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = f;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART | (sig == SIGCHLD ? SA_NOCLDSTOP : 0);
		if (sigaction(sig, &sa, NULL) < 0)
			goto fail;
	} /* else it stays ignored, and sigchain_pop() puts SIG_IGN back */
	s->n++;
	restore_mask(&mask);
	return 0;
fail:
	saved = errno;
	restore_mask(&mask);
	errno = saved;
	return -1;
}

int sigchain_pop(int sig)
{
	struct sigchain_signal *s = signals + sig;
	sigset_t mask;
	int saved;

	check_signum(sig);
	if (s->n < 1)
		return 0;
	block_signal(sig, &mask);
	if (sigaction(sig, &s->old[s->n - 1], NULL) < 0) {
		saved = errno;
		restore_mask(&mask);
		errno = saved;
		return -1;
	}
	s->n--;
	restore_mask(&mask);
	return 0;
}

void sigchain_push_common(sigchain_fun f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(common_signals); i++)
		sigchain_push(common_signals[i], f);
}

void sigchain_pop_common(void)
{
	size_t i = ARRAY_SIZE(common_signals);

	while (i--)
		sigchain_pop(common_signals[i]);
}

int sigchain_set_default(int sig)
{
	struct sigaction sa;

	check_signum(sig);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

void sigchain_reset_for_exec(void)
{
	int sig;
	size_t i;

	for (sig = 1; sig < NSIG; sig++)
		if (signals[sig].n)
			sigchain_set_default(sig);
	sigchain_set_default(SIGPIPE);
	for (i = 0; i < ARRAY_SIZE(common_signals); i++)
		sigchain_set_default(common_signals[i]);
}
