#include "compat.h"
#include "cfgfile.h"
#include "lockfile.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include <ctype.h>

/* Debian's libinih passes the line number (built with INI_HANDLER_LINENO). */
#define INI_HANDLER_LINENO 1
#include <ini.h>

struct header {
	int lineno;
	char *name;
	char *sub;
};

struct parse_state {
	struct cfg_file *cf;
	const char *file;
	struct header *headers;
	size_t nr_headers, alloc_headers, next_header;
	struct cfg_section *cur;
	struct strbuf *err;
};

static void lower(char *s)
{
	for (; *s; s++)
		*s = tolower((unsigned char)*s);
}

int cfg_unquote_value(const char *raw, struct strbuf *out, const char **why)
{
	int quote = 0;
	size_t space = 0;
	const char *p = raw;

	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p; p++) {
		char c = *p;

		if (!quote && (c == ' ' || c == '\t')) {
			if (out->len)
				space++;
			continue;
		}
		if (!quote && (c == ';' || c == '#')) {
			/* "make a;make b": git reads "make a"; say so (see cfg_entry) */
			if (p > raw && p[-1] != ' ' && p[-1] != '\t' && why)
				*why = "comment";
			break;
		}
		for (; space; space--)
			strbuf_addch(out, ' ');
		if (c == '\\') {
			switch (*++p) {
			case '\\': strbuf_addch(out, '\\'); break;
			case '"': strbuf_addch(out, '"'); break;
			case 'n': strbuf_addch(out, '\n'); break;
			case 't': strbuf_addch(out, '\t'); break;
			case 'b': strbuf_addch(out, '\b'); break;
			default:
				*why = "bad escape sequence";
				return -1;
			}
			continue;
		}
		if (c == '"') {
			quote = !quote;
			continue;
		}
		strbuf_addch(out, c);
	}
	if (quote) {
		*why = "unterminated quote";
		return -1;
	}
	return 0;
}

int cfg_drops_quotes(const char *raw)
{
	const char *p = raw, *start, *end, *first = NULL, *last = NULL;
	int quote = 0, n = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (!quote && (*p == ';' || *p == '#'))
			break;
		if (*p == '"') {
			quote = !quote;
			if (!first)
				first = p;
			last = p;
			n++;
		}
	}
	end = p;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (!n)
		return 0;
	return !(n == 2 && first == start && last == end - 1);
}

void cfg_quote_value(struct strbuf *out, const char *value)
{
	size_t len = strlen(value);
	/* inih strips any isspace() at either end of a bare value */
	int quote = len && (isspace((unsigned char)value[0]) ||
			    isspace((unsigned char)value[len - 1]) ||
			    strpbrk(value, ";#"));

	if (quote)
		strbuf_addch(out, '"');
	for (; *value; value++) {
		switch (*value) {
		case '\\': strbuf_addstr(out, "\\\\"); break;
		case '"': strbuf_addstr(out, "\\\""); break;
		case '\n': strbuf_addstr(out, "\\n"); break;
		case '\t': strbuf_addstr(out, "\\t"); break;
		case '\b': strbuf_addstr(out, "\\b"); break;
		default: strbuf_addch(out, *value);
		}
	}
	if (quote)
		strbuf_addch(out, '"');
}

static int parse_error(struct parse_state *ps, int lineno, const char *fmt, ...)
{
	va_list ap;

	if (ps->err->len)
		return -1; /* keep the first error */
	strbuf_addf(ps->err, "%s:%d: ", ps->file, lineno);
	va_start(ap, fmt);
	strbuf_vaddf(ps->err, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parse a section header line "[name]" or [name "sub"], as git's
 * get_base_var()/get_extended_base_var().
 */
static int parse_header(struct parse_state *ps, const char *line, int lineno)
{
	const char *p = line + 1, *end;
	struct strbuf name = STRBUF_INIT, sub = STRBUF_INIT;
	int has_sub = 0;
	struct header *h;

	while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '.'))
		strbuf_addch(&name, *p++);
	if (!name.len)
		goto bad;
	if (*p == ' ' || *p == '\t') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '"')
			goto bad;
		has_sub = 1;
		for (; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			strbuf_addch(&sub, *p);
		}
		if (*p++ != '"')
			goto bad;
	}
	if (*p++ != ']')
		goto bad;
	for (end = p; *end == ' ' || *end == '\t'; end++)
		;
	if (*end && *end != ';' && *end != '#')
		goto bad;
	lower(name.buf);
	ALLOC_GROW(ps->headers, ps->nr_headers + 1, ps->alloc_headers);
	h = &ps->headers[ps->nr_headers++];
	h->lineno = lineno;
	h->name = strbuf_detach(&name, NULL);
	h->sub = has_sub ? strbuf_detach(&sub, NULL) : NULL;
	strbuf_release(&sub);
	return 0;
bad:
	strbuf_release(&name);
	strbuf_release(&sub);
	return parse_error(ps, lineno, "bad section header");
}

/*
 * What inih cannot be trusted with: NUL bytes, over-long lines and section
 * headers (it would cut them silently). Records every header with its
 * line, so that empty and repeated sections are seen too.
 */
static int prescan(struct parse_state *ps, const char *buf, size_t len,
		   size_t *max_line)
{
	size_t i = 0;
	int lineno = 0;

	*max_line = 0;
	while (i < len) {
		size_t start = i, n;
		const char *p;

		lineno++;
		while (i < len && buf[i] != '\n') {
			if (!buf[i])
				return parse_error(ps, lineno, "NUL byte in file");
			i++;
		}
		n = i - start;
		if (n + 3 > CFG_MAX_LINE)
			return parse_error(ps, lineno,
					   "line too long (%zu bytes; at most %d)",
					   n, CFG_MAX_LINE - 3);
		if (n > *max_line)
			*max_line = n;
		i++; /* the newline */
		p = buf + start;
		if (lineno == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
			p += 3;
		/*
		 * inih's lskip() skips any white space; git config takes only
		 * blanks and tabs before a key or header: refuse the others
		 * rather than let the two read different things
		 */
		while (p < buf + start + n && isspace((unsigned char)*p)) {
			if (*p != ' ' && *p != '\t' && *p != '\r' &&
			    p + 1 < buf + start + n && !isspace((unsigned char)p[1]))
				return parse_error(ps, lineno,
						   "unexpected control character (0x%02x) before the text",
						   (unsigned char)*p);
			p++;
		}
		if (p < buf + start + n && *p == '[') {
			char *line = xstrndup(p, n - (p - (buf + start)));
			int r;

			if (*line && line[strlen(line) - 1] == '\r')
				line[strlen(line) - 1] = '\0';
			r = parse_header(ps, line, lineno);
			free(line);
			if (r)
				return -1;
		}
	}
	return 0;
}

static int valid_key(const char *k)
{
	if (!isalpha((unsigned char)*k))
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '-')
			return 0;
	return 1;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value, int lineno)
{
	struct parse_state *ps = user;
	struct strbuf v = STRBUF_INIT;
	const char *why = NULL;
	char *key;

	/*
	 * inih r55 cuts section names at 49 bytes (MAX_SECTION) and never
	 * reports empty sections, so `section` is not used: prescan() parsed
	 * every header with its line, and the key belongs to the last header
	 * above it.
	 */
	(void)section;
	while (ps->next_header < ps->nr_headers &&
	       ps->headers[ps->next_header].lineno < lineno) {
		struct header *h = &ps->headers[ps->next_header++];
		ps->cur = cfg_section_add(ps->cf, h->name, h->sub);
		ps->cur->lineno = h->lineno;
	}
	if (!ps->cur)
		return parse_error(ps, lineno, "key '%s' outside any section", name), 0;
	if (!valid_key(name))
		return parse_error(ps, lineno, "bad key name '%s'", name), 0;
	if (cfg_unquote_value(value, &v, &why) < 0) {
		strbuf_release(&v);
		return parse_error(ps, lineno, "bad value for '%s': %s", name, why), 0;
	}
	key = xstrdup(name);
	lower(key);
	cfg_add(ps->cur, key, v.buf);
	ps->cur->entries[ps->cur->nr - 1].lineno = lineno;
	ps->cur->entries[ps->cur->nr - 1].cut_by_comment = why != NULL;
	ps->cur->entries[ps->cur->nr - 1].drops_quotes = cfg_drops_quotes(value);
	free(key);
	strbuf_release(&v);
	return 1;
}

int cfg_parse_buf(struct cfg_file *cf, const char *name, const char *buf,
		  size_t len, struct strbuf *err)
{
	struct parse_state ps = { cf, name, NULL, 0, 0, 0, NULL, err };
	size_t max_line, i;
	char *copy = NULL;
	int rc = -1;

	strbuf_reset(err);
	if (prescan(&ps, buf, len, &max_line))
		goto out;
	/* ini_parse_string() needs a NUL; prescan() refused any inside */
	copy = xmalloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	/*
	 * Debian's libinih makes inih's compile-time options run-time
	 * globals. Indented lines are ordinary keys in git-config syntax, not
	 * continuations; comments are handled by cfg_unquote_value() with
	 * git's rules; and the line buffer fits the longest line, so nothing
	 * is cut (prescan() refused anything longer than CFG_MAX_LINE).
	 */
	ini_allow_multiline = false;
	ini_allow_inline_comments = false;
	ini_stop_on_first_error = true;
	ini_max_line = max_line + 3 > 200 ? (int)max_line + 3 : 200;
	rc = ini_parse_string(copy, handler, &ps);
	if (rc > 0) {
		if (!err->len)
			parse_error(&ps, rc, "syntax error (expected 'key = value')");
		rc = -1;
		goto out;
	}
	if (rc < 0) {
		strbuf_addf(err, "%s: out of memory while parsing", name);
		goto out;
	}
	/* sections after the last key, and sections without keys */
	while (ps.next_header < ps.nr_headers) {
		struct header *h = &ps.headers[ps.next_header++];
		struct cfg_section *s = cfg_section_add(cf, h->name, h->sub);
		s->lineno = h->lineno;
	}
	rc = 0;
out:
	free(copy);
	for (i = 0; i < ps.nr_headers; i++) {
		free(ps.headers[i].name);
		free(ps.headers[i].sub);
	}
	free(ps.headers);
	if (rc)
		cfg_file_release(cf);
	return rc;
}

int cfg_parse_file(struct cfg_file *cf, const char *path, unsigned flags,
		   struct strbuf *err)
{
	char *buf;
	size_t len;
	int rc;

	strbuf_reset(err);
	if (read_file(path, &buf, &len) < 0) {
		if (errno == ENOENT && (flags & CFG_MISSING_OK))
			return 0;
		strbuf_addf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = cfg_parse_buf(cf, path, buf, len, err);
	free(buf);
	return rc;
}

static void index_drop(struct cfg_file *cf);

static void section_free(struct cfg_section *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		free(s->entries[i].key);
		free(s->entries[i].value);
	}
	free(s->entries);
	free(s->name);
	free(s->sub);
}

void cfg_file_release(struct cfg_file *cf)
{
	size_t i;

	for (i = 0; i < cf->nr; i++)
		section_free(&cf->sections[i]);
	free(cf->sections);
	cf->sections = NULL;
	cf->nr = cf->alloc = 0;
	index_drop(cf);
}

static int same_sub(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/* FNV-1a over name, a NUL, and sub (a 0xff byte for no sub). */
static size_t section_hash(const char *name, const char *sub)
{
	uint64_t h = 14695981039346656037ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ 0) * 1099511628211ULL;
	if (!sub)
		h = (h ^ 0xff) * 1099511628211ULL;
	else
		for (p = (const unsigned char *)sub; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h;
}

static int section_is(const struct cfg_section *s, const char *name,
		      const char *sub)
{
	return !strcmp(s->name, name) && same_sub(s->sub, sub);
}

/*
 * Put section i in the index (linear probing), unless a section of the
 * same name and sub is there already: the index keeps the first.
 */
static void index_insert(struct cfg_file *cf, size_t i)
{
	const struct cfg_section *s = &cf->sections[i];
	size_t mask = cf->index_size - 1;
	size_t slot = section_hash(s->name, s->sub) & mask;

	while (cf->index[slot]) {
		if (section_is(&cf->sections[cf->index[slot] - 1], s->name, s->sub))
			return;
		slot = (slot + 1) & mask;
	}
	cf->index[slot] = i + 1;
}

static void index_drop(struct cfg_file *cf)
{
	FREE_AND_NULL(cf->index);
	cf->index_size = cf->index_nr = 0;
}

/* (Re)build the index over all sections, at most half full. */
static void index_build(struct cfg_file *cf)
{
	size_t i, size = 16;

	while (size < 2 * cf->nr + 2)
		size *= 2;
	free(cf->index);
	cf->index = xcalloc(size, sizeof(*cf->index));
	cf->index_size = size;
	for (i = 0; i < cf->nr; i++)
		index_insert(cf, i);
	cf->index_nr = cf->nr;
}

struct cfg_section *cfg_section_get(const struct cfg_file *cf_,
				    const char *name, const char *sub)
{
	/* the index is a cache: building it does not change the file */
	struct cfg_file *cf = (struct cfg_file *)cf_;
	size_t i, mask;

	if (cf->nr < 8) {
		for (i = 0; i < cf->nr; i++)
			if (section_is(&cf->sections[i], name, sub))
				return &cf->sections[i];
		return NULL;
	}
	if (!cf->index || cf->index_nr != cf->nr)
		index_build(cf);
	mask = cf->index_size - 1;
	for (i = section_hash(name, sub) & mask; cf->index[i]; i = (i + 1) & mask)
		if (section_is(&cf->sections[cf->index[i] - 1], name, sub))
			return &cf->sections[cf->index[i] - 1];
	return NULL;
}

struct cfg_section *cfg_section_add(struct cfg_file *cf, const char *name,
				    const char *sub)
{
	struct cfg_section *s;

	ALLOC_GROW(cf->sections, cf->nr + 1, cf->alloc);
	s = &cf->sections[cf->nr++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->sub = xstrdup_or_null(sub);
	if (cf->index && cf->index_nr == cf->nr - 1) {
		if (2 * cf->nr + 2 > cf->index_size) {
			index_build(cf);
		} else {
			index_insert(cf, cf->nr - 1);
			cf->index_nr = cf->nr;
		}
	}
	return s;
}

struct cfg_section *cfg_section_get_or_add(struct cfg_file *cf,
					   const char *name, const char *sub)
{
	struct cfg_section *s = cfg_section_get(cf, name, sub);

	return s ? s : cfg_section_add(cf, name, sub);
}

void cfg_section_remove(struct cfg_file *cf, size_t i)
{
	if (i >= cf->nr)
		return;
	index_drop(cf);
	section_free(&cf->sections[i]);
	memmove(cf->sections + i, cf->sections + i + 1,
		(cf->nr - i - 1) * sizeof(*cf->sections));
	cf->nr--;
}

const char *cfg_get(const struct cfg_section *s, const char *key)
{
	size_t i = s ? s->nr : 0;

	while (i--)
		if (!strcmp(s->entries[i].key, key))
			return s->entries[i].value;
	return NULL;
}

const struct cfg_entry *cfg_get_entry(const struct cfg_section *s,
				      const char *key)
{
	size_t i;

	for (i = 0; s && i < s->nr; i++)
		if (!strcmp(s->entries[i].key, key))
			return &s->entries[i];
	return NULL;
}

void cfg_set(struct cfg_section *s, const char *key, const char *value)
{
	size_t i, out = 0;
	int done = 0;

	for (i = 0; i < s->nr; i++) {
		struct cfg_entry *e = &s->entries[i];

		if (strcmp(e->key, key)) {
			s->entries[out++] = *e;
			continue;
		}
		if (value && !done) {
			free(e->value);
			e->value = xstrdup(value);
			s->entries[out++] = *e;
			done = 1;
			continue;
		}
		free(e->key);
		free(e->value);
	}
	s->nr = out;
	if (value && !done)
		cfg_add(s, key, value);
}

void cfg_add(struct cfg_section *s, const char *key, const char *value)
{
	struct cfg_entry *e;

	ALLOC_GROW(s->entries, s->nr + 1, s->alloc);
	e = &s->entries[s->nr++];
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->lineno = 0;
	e->cut_by_comment = 0;
	e->drops_quotes = 0;
}

void cfg_format(const struct cfg_file *cf, struct strbuf *out)
{
	size_t i, j;

	for (i = 0; i < cf->nr; i++) {
		const struct cfg_section *s = &cf->sections[i];

		strbuf_addf(out, "[%s", s->name);
		if (s->sub) {
			const char *p;

			strbuf_addstr(out, " \"");
			for (p = s->sub; *p; p++) {
				if (*p == '"' || *p == '\\')
					strbuf_addch(out, '\\');
				strbuf_addch(out, *p);
			}
			strbuf_addch(out, '"');
		}
		strbuf_addstr(out, "]\n");
		for (j = 0; j < s->nr; j++) {
			strbuf_addf(out, "\t%s = ", s->entries[j].key);
			cfg_quote_value(out, s->entries[j].value);
			strbuf_addch(out, '\n');
		}
	}
}

int cfg_write_file(const struct cfg_file *cf, const char *path, unsigned flags)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	cfg_format(cf, &sb);
	ret = write_file_atomically(path, sb.buf, sb.len, flags);
	strbuf_release(&sb);
	return ret;
}
