#ifndef USAGE_H
#define USAGE_H

#include "compat.h"

/*
 * git-style reporting (git's usage.c). Messages go to stderr as one write,
 * with control characters other than tab and newline replaced by '?', so
 * that a hostile title cannot drive the terminal.
 */

/*
 * Each git-ws command defines cmd_main(); common/main.c's main() sets the
 * process up, calls it and exits with its return value & 0xff.
 */
int cmd_main(int argc, const char **argv);

/* Exit codes shared by every git-ws command, as git's own. */
#define WS_EXIT_OK 0
#define WS_EXIT_NO 1      /* ran, and the answer is no */
#define WS_EXIT_FATAL 128 /* die() */
#define WS_EXIT_USAGE 129 /* usage error */

/* "fatal: <msg>" and exit(128). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* die() with ": <strerror(errno)>" appended. */
void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "error: <msg>"; returns -1 so that `return error(...)` works. */
int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error() with ": <strerror(errno)>" appended; returns -1. */
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hint: <msg>", one line per line of msg. */
void advise(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * "fatal: <msg>: <libgit2's last error message>" and exit(128). The libgit2
 * message is NULL-checked (git_error_last() may return NULL in 1.5).
 */
void die_git(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* error() with libgit2's last error message appended; returns -1. */
int error_git(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The libgit2 last error message, or "unknown error"; never NULL. */
const char *git_last_message(void);

/*
 * What die() and error() are made of, for the variants in usage-git.c
 * (which alone need libgit2, so that a program without it can use the
 * others): "<prefix><msg>[: <suffix>]\n" on stderr, control characters
 * shown as '?'; and die()'s ending (the cleanup, once, then exit(128)).
 */
void vreportf(const char *prefix, const char *fmt, va_list ap,
	      const char *suffix);
void die_exit(void) __attribute__((noreturn));

/* "BUG: file:line: msg" and abort(): a condition that cannot happen. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
void bug_fl(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

/*
 * A function run by die() before exiting (e.g. to roll back what the
 * command created). It runs once; a die() inside it exits at once.
 */
void set_die_routine_cleanup(void (*fn)(void));

#endif
