#ifndef SIGCHAIN_H
#define SIGCHAIN_H

#include "compat.h"

/*
 * A stack of handlers for each signal, as git's sigchain.h. The one
 * place in git-ws that installs signal handlers: code that wants to
 * catch a signal pushes its handler, and pops it when done, which puts
 * back whatever was installed before (another handler of ours, SIG_DFL
 * or SIG_IGN) with its flags and mask.
 *
 * A handler for a fatal signal does its work, then passes the signal
 * down the chain as git's handlers do:
 *
 *	static void remove_tmp_on_signal(int sig)
 *	{
 *		unlink(tmp_path);
 *		sigchain_pop(sig);
 *		raise(sig);
 *	}
 *	...
 *	sigchain_push_common(remove_tmp_on_signal);
 *
 * The signal is blocked while its handler runs, so raise() only marks
 * it pending; it is delivered to the previous handler (or the default
 * action, which ends the process) as this one returns.
 *
 * The stacks belong to sigchain.c and live as long as the process (a
 * handler is a plain function: nothing is passed to it or owned).
 * Pushes and pops must pair up in LIFO order for each signal: a
 * handler pushed for the whole life of the process goes first, before
 * any code pushes one for a while and pops it again.
 */

typedef void (*sigchain_fun)(int);

/*
 * Install `f` for `sig` with sigaction(2), saving the current action on
 * the stack of `sig`. The handler runs with SA_RESTART (as signal() in
 * glibc, which git uses), with `sig` itself blocked, and for SIGCHLD
 * with SA_NOCLDSTOP (no wake-up when a child merely stops).
 *
 * Unlike git, a signal that is ignored (SIG_IGN, as nohup leaves
 * SIGHUP) stays ignored: the push is recorded, so that the matching
 * sigchain_pop() pairs up, but `f` is not installed. SIGCHLD is the
 * exception, as SIG_IGN there means that children are reaped unseen,
 * which no waitpid(2) of ours expects: `f` is installed.
 *
 * Returns 0, or -1 with errno from sigaction(2) (EINVAL for SIGKILL or
 * SIGSTOP). A `sig` out of range is a BUG(). Dies when out of memory
 * (the stack grows on the heap). Not async-signal-safe: call it from
 * ordinary code, never from a handler.
 */
int sigchain_push(int sig, sigchain_fun f);

/*
 * Put back the action that the last sigchain_push(sig, ...) saved, and
 * drop it from the stack. Returns 0 (also when nothing was pushed for
 * `sig`: nothing changes then, as in git), or -1 with errno from
 * sigaction(2), the stack left as it was. Async-signal-safe, and meant
 * to be called from the handler of `sig` itself, as above.
 */
int sigchain_pop(int sig);

/*
 * sigchain_push(f) for each of SIGINT, SIGHUP, SIGTERM and SIGQUIT, the
 * signals that end git-ws by an outside request (Ctrl-C, a hangup, a
 * supervisor's kill). Git's sigchain_push_common() pushes SIGPIPE too;
 * git-ws leaves SIGPIPE alone, at its default. Not async-signal-safe.
 */
void sigchain_push_common(sigchain_fun f);

/* sigchain_pop() for each of those signals, as git's sigchain_pop_common(). */
void sigchain_pop_common(void);

/*
 * Set `sig` to SIG_DFL without touching its stack: at start-up (main()
 * makes sure that SIGPIPE, which a parent may have left ignored, kills
 * us as it should) and in a child after fork(2), which pushes nothing
 * again. Returns 0, or -1 with errno from sigaction(2). Async-signal-safe.
 */
int sigchain_set_default(int sig);

/*
 * In a child just forked from git-ws, before it runs a program: every
 * signal with a handler pushed goes back to SIG_DFL, and so do SIGPIPE
 * and the signals of sigchain_push_common() even when ignored, so that
 * the program starts with the actions a shell would give it. Until
 * then a signal would run our handlers in the child, which would
 * remove the parent's lock files or signal its process groups. As git's
 * start_command(), call it while all signals are blocked (the parent
 * blocks them across fork(2)), and unblock them after it.
 * Async-signal-safe (only sigaction(2)), as needed after fork(2).
 */
void sigchain_reset_for_exec(void);

#endif
