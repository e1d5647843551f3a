#ifndef WRAPPER_H
#define WRAPPER_H

#include "compat.h"

/*
 * Allocation that cannot fail: on out-of-memory these die() with
 * "fatal: out of memory", as git's xmalloc() family. Memory they return
 * is the caller's to free().
 */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup(s), or NULL when s is NULL. */
char *xstrdup_or_null(const char *s);
/* A newly allocated, formatted string (vasprintf that dies on ENOMEM). */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow the array `x` (with `alloc` slots) so that it holds at least `nr`
 * elements, as git's ALLOC_GROW: amortised, never shrinks.
 */
#define ALLOC_GROW(x, nr, alloc) \
	do { \
		if ((size_t)(nr) > (alloc)) { \
			(alloc) = (alloc) < 16 ? 16 : (alloc) * 3 / 2; \
			if ((alloc) < (size_t)(nr)) \
				(alloc) = (nr); \
			(x) = xrealloc((x), (alloc) * sizeof(*(x))); \
		} \
	} while (0)

/* Set *p to NULL after freeing it. */
#define FREE_AND_NULL(p) do { free(p); (p) = NULL; } while (0)

/*
 * Write all `len` bytes, retrying on EINTR and short writes. Returns 0, or
 * -1 with errno set by write(2).
 */
int write_in_full(int fd, const void *buf, size_t len);

/*
 * Read the whole file at `path` into a new NUL-terminated buffer (*out, the
 * caller's to free) and its length (*len, may be NULL). Returns 0, or -1
 * with errno from open(2)/read(2).
 */
int read_file(const char *path, char **out, size_t *len);

/*
 * The contents of the file at `path` without leading and trailing white
 * space, as git reads its one-line admin files (HEAD, gitdir, locked), in
 * a new string the caller frees; NULL with errno from open(2)/read(2)
 * when it cannot be read.
 */
char *read_file_trimmed(const char *path);

/* Current time as ISO 8601 UTC ("2026-11-21T02:18:31Z") into buf[32]. */
void iso8601_now(char buf[32]);
/* Parse what iso8601_now() writes; returns (time_t)-1 when it is not that. */
time_t iso8601_parse(const char *s);

/*
 * Parse a duration: a number with an optional unit s, m, h or d
 * ("90", "30s", "30m", "2h", "7d"); a bare number means seconds, and
 * there are at most DURATION_MAX of them (100 years: in milliseconds
 * they still fit a long). Returns 0 and *seconds, or -1 when `s` is not
 * such a duration.
 */
#define DURATION_MAX (36525L * 86400)
int parse_duration(const char *s, long *seconds);

/* Parse a non-negative decimal integer that fits an int; -1 otherwise. */
int parse_nonneg_int(const char *s, int *out);

/* Milliseconds from a monotonic clock, for timeouts and elapsed times. */
uint64_t monotonic_ms(void);

/* Sleep for `ms` milliseconds (nanosleep, restarted on EINTR). */
void sleep_ms(unsigned ms);

/* 1 when `path` exists (lstat succeeds), 0 otherwise. */
int path_exists(const char *path);

/*
 * `rel` taken from the directory of our own executable (/proc/self/exe)
 * and resolved (realpath(3)), as git finds what it installs beside its
 * binaries: "../share/git-ws/hooks" names <prefix>/share/git-ws/hooks for
 * a binary in <prefix>/bin. Returns a new string, or NULL when that path
 * does not exist.
 */
char *exe_relative_path(const char *rel);

/*
 * Remove `path` and, when it is a directory, everything under it, as
 * `rm -rf` (git's remove_dir_recursively()); symbolic links are removed,
 * never followed. Returns 0 when `path` is gone (or never was), or -1
 * with errno from the unlink(2)/rmdir(2) that failed.
 */
int remove_dir_recursively(const char *path);

/*
 * Create `path` and its missing parents with mode 0777 & ~umask, as
 * `mkdir -p`. Returns 0, or -1 with errno from mkdir(2).
 */
int mkdir_p(const char *path);

#endif
