#ifndef CFGFILE_H
#define CFGFILE_H

#include "compat.h"
#include "strbuf.h"

/*
 * Files in git-config syntax, read with inih and written so that both
 * inih and `git config -f FILE` read back exactly what was written: the
 * plan, and the .git/ws/ state and queue (git-ws(7), STATE FILES).
 *
 * Reading follows git's config.c: section and key names are
 * case-insensitive (kept in lower case), `[section "sub"]` subsections
 * are case-sensitive, values may be double-quoted, `\\ \" \n \t \b` are
 * the escapes, and `;` or `#` outside quotes starts a comment. What inih
 * cannot do safely is done before it runs: NUL bytes and lines longer
 * than CFG_MAX_LINE are errors (inih r55 would cut a line silently), and
 * section headers are parsed here (inih cuts them at 49 bytes and never
 * reports a section without keys). Every error names file and line.
 *
 * Repeated sections are kept as separate entries in file order (the plan
 * calls a repeated workstream a duplicate; cfg_section_get() returns the
 * first).
 */
#define CFG_MAX_LINE 65536

struct cfg_entry {
	char *key;   /* lower case */
	char *value; /* unquoted; never NULL */
	int lineno;  /* 0 when added in memory */
	int cut_by_comment; /* a ';' or '#' right after text ended the value */
	int drops_quotes;   /* unquoting removed a '"' that was not just
			     * around the whole value (cfg_drops_quotes()) */
};

struct cfg_section {
	char *name; /* lower case */
	char *sub;  /* subsection, or NULL */
	int lineno;
	struct cfg_entry *entries;
	size_t nr, alloc;
};

struct cfg_file {
	struct cfg_section *sections;
	size_t nr, alloc;
	/*
	 * A hash index from (name, sub) to the first such section, built by
	 * cfg_section_get() when it is missing or does not cover all the
	 * sections, kept up by cfg_section_add(), dropped by
	 * cfg_section_remove(): so that looking up each of n sections (a
	 * state of n workstreams) takes O(n), not O(n^2). Private.
	 */
	size_t *index;        /* index[slot]: section number + 1, 0: empty */
	size_t index_size;    /* slots, a power of two, or 0 */
	size_t index_nr;      /* how many sections it covers */
};
#define CFG_FILE_INIT { NULL, 0, 0, NULL, 0, 0 }

/* With cfg_parse_file(): a missing file reads as an empty one. */
#define CFG_MISSING_OK 1

/*
 * Parse `path` into cf (which must be empty). Returns 0; or -1 with the
 * message "<path>:<line>: <what>" (or "<path>: <strerror>") in *err.
 */
int cfg_parse_file(struct cfg_file *cf, const char *path, unsigned flags,
		   struct strbuf *err);
/* The same for a buffer of `len` bytes; `name` is used in messages. */
int cfg_parse_buf(struct cfg_file *cf, const char *name, const char *buf,
		  size_t len, struct strbuf *err);

/* Free everything and make cf empty. */
void cfg_file_release(struct cfg_file *cf);

/* The first section named name/sub (sub may be NULL), or NULL. */
struct cfg_section *cfg_section_get(const struct cfg_file *cf,
				    const char *name, const char *sub);
/* Append a new, empty section; the pointer is valid until the next add. */
struct cfg_section *cfg_section_add(struct cfg_file *cf, const char *name,
				    const char *sub);
/* cfg_section_get(), or cfg_section_add() when there is none. */
struct cfg_section *cfg_section_get_or_add(struct cfg_file *cf,
					   const char *name, const char *sub);
/* Remove and free section index i. */
void cfg_section_remove(struct cfg_file *cf, size_t i);

/* The last value of `key` in the section (git: last one wins), or NULL. */
const char *cfg_get(const struct cfg_section *s, const char *key);
/* The entry of the first occurrence of key, or NULL (for line numbers). */
const struct cfg_entry *cfg_get_entry(const struct cfg_section *s,
				      const char *key);
/* Replace every value of `key` with one `value` (copied); NULL removes. */
void cfg_set(struct cfg_section *s, const char *key, const char *value);
/* Append one more value of a multi-valued key (copied). */
void cfg_add(struct cfg_section *s, const char *key, const char *value);

/*
 * Append the file's text to out: "[name]" or "[name \"sub\"]" headers,
 * then "\tkey = value" lines, values quoted and escaped as git's
 * config writer does (write_pair()).
 */
void cfg_format(const struct cfg_file *cf, struct strbuf *out);
/* cfg_format(), then write_file_atomically(path, flags); 0 or -1 (errno). */
int cfg_write_file(const struct cfg_file *cf, const char *path, unsigned flags);

/*
 * Parse one raw git-config value (what follows "key =") into out. Returns
 * 0, or -1 with a short reason in *why ("unterminated quote",
 * "bad escape sequence"). On success *why is set to "comment" when a ';'
 * or '#' right after other text ended the value ("a;b" reads as "a", as
 * in git), and left alone otherwise.
 */
int cfg_unquote_value(const char *raw, struct strbuf *out, const char **why);
/*
 * Whether unquoting the raw value `raw` (what follows "key =") removes an
 * unescaped double quote other than one pair around the whole value, as
 * git's config.c does: `git commit -m "a b"` reads as `git commit -m a b`,
 * while `"a;b"` (the whole value quoted to keep a ';') and `it\"s` do
 * not count. Looks no further than where a comment starts.
 */
int cfg_drops_quotes(const char *raw);
/* Append `value` quoted for a "key = value" line, as git writes it. */
void cfg_quote_value(struct strbuf *out, const char *value);

#endif
