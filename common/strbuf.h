#ifndef STRBUF_H
#define STRBUF_H

#include "compat.h"

/*
 * A growable string with git's strbuf invariants: `buf` is never NULL and
 * is always NUL-terminated; `len` excludes the NUL. A strbuf made with
 * STRBUF_INIT points at a static empty string until something is added.
 * strbuf_release() frees and reinitialises; strbuf_detach() hands the
 * buffer (the caller's to free()) over and reinitialises.
 */
struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Return the buffer (caller frees) and reset sb to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Make room for at least `extra` more bytes. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen(sb, 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Remove trailing whitespace (including newlines). */
void strbuf_rtrim(struct strbuf *sb);
/* Remove leading and trailing whitespace. */
void strbuf_trim(struct strbuf *sb);

/*
 * Append `s` with every control character replaced by '?', so that
 * untrusted text (titles, agent output) cannot send escape sequences to a
 * terminal: C0 controls other than tab, DEL, and the C1 controls U+0080 to
 * U+009F (CSI is U+009B). `s` is taken as UTF-8, and each byte that is not
 * part of a well-formed UTF-8 sequence becomes '?' too (a lone 0x9b byte
 * is CSI to a terminal in 8-bit mode). git's vreportf() does the same for
 * C0 controls only.
 */
void strbuf_add_sanitized(struct strbuf *sb, const char *s);

/* Read a whole file descriptor until EOF; -1 with errno on read error. */
ssize_t strbuf_read_fd(struct strbuf *sb, int fd);

#endif
