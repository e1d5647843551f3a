#ifndef STRVEC_H
#define STRVEC_H

#include "compat.h"

struct strbuf;

/*
 * A NULL-terminated, growable array of owned strings, as git's strvec:
 * argv and environment lists, and multi-valued plan keys. `v` is never
 * NULL after STRVEC_INIT or strvec_init(); strvec_clear() frees every
 * string and reinitialises.
 */
struct strvec {
	char **v;
	size_t nr;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* Append a copy of `s`; returns the copy (owned by the strvec). */
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append copies of every element of a NULL-terminated array. */
void strvec_pushv(struct strvec *sv, const char **items);
/* Index of `s` in sv, or -1. */
ssize_t strvec_find(const struct strvec *sv, const char *s);
/* Remove element i, freeing it; later elements move down. */
void strvec_remove(struct strvec *sv, size_t i);
void strvec_clear(struct strvec *sv);

/* Sort sv (strcmp order) and drop duplicate strings. */
void strvec_sort_unique(struct strvec *sv);

/*
 * Split `s` at spaces, tabs and commas into non-empty words appended to
 * sv (the plan's list syntax: "ws-1 ws-2", "ws-1, ws-2").
 */
void strvec_split_words(struct strvec *sv, const char *s);

/*
 * Append the items of sv to out, separated by `sep`, each sanitized as
 * by strbuf_add_sanitized() (for messages and porcelain fields; `sep`
 * is added as it is).
 */
void strvec_join(struct strbuf *out, const struct strvec *sv, const char *sep);

#endif
