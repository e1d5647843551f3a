#include "compat.h"
#include "strvec.h"
#include "strbuf.h"
#include "wrapper.h"

char *strvec_empty[] = { NULL };

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->nr = sv->alloc = 0;
}

static const char *push_owned(struct strvec *sv, char *s)
{
	if (sv->v == strvec_empty)
		sv->v = NULL;
	ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
	return s;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	return push_owned(sv, xstrdup(s));
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	struct strbuf sb = STRBUF_INIT;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return push_owned(sv, strbuf_detach(&sb, NULL));
}

void strvec_pushv(struct strvec *sv, const char **items)
{
	for (; *items; items++)
		strvec_push(sv, *items);
}

ssize_t strvec_find(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return (ssize_t)i;
	return -1;
}

void strvec_remove(struct strvec *sv, size_t i)
{
	if (i >= sv->nr)
		return;
	free(sv->v[i]);
	memmove(sv->v + i, sv->v + i + 1, (sv->nr - i) * sizeof(*sv->v));
	sv->nr--;
}

void strvec_clear(struct strvec *sv)
{
	size_t i;

	if (sv->v != strvec_empty) {
		for (i = 0; i < sv->nr; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

void strvec_split_words(struct strvec *sv, const char *s)
{
	while (*s) {
		size_t n;

		s += strspn(s, " \t,");
		n = strcspn(s, " \t,");
		if (n)
			push_owned(sv, xstrndup(s, n));
		s += n;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort_unique(struct strvec *sv)
{
	size_t i, j;

	if (sv->nr < 2)
		return;
	qsort(sv->v, sv->nr, sizeof(*sv->v), cmp_str);
	for (i = 1, j = 1; i < sv->nr; i++) {
		if (!strcmp(sv->v[i], sv->v[j - 1]))
			free(sv->v[i]);
		else
			sv->v[j++] = sv->v[i];
	}
	sv->nr = j;
	sv->v[j] = NULL;
}

void strvec_join(struct strbuf *out, const struct strvec *sv, const char *sep)
{
	size_t i;

	for (i = 0; i < sv->nr; i++) {
		if (i)
			strbuf_addstr(out, sep);
		strbuf_add_sanitized(out, sv->v[i]);
	}
}
