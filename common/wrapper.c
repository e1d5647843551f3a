#include "compat.h"
#include <ctype.h>
#include <ftw.h>
#include "wrapper.h"
#include "strbuf.h"
#include "usage.h"

static void *nonnull(void *p)
{
	if (!p)
		die("out of memory");
	return p;
}

void *xmalloc(size_t size)
{
	return nonnull(malloc(size ? size : 1));
}

void *xcalloc(size_t nmemb, size_t size)
{
	return nonnull(calloc(nmemb ? nmemb : 1, size ? size : 1));
}

void *xrealloc(void *ptr, size_t size)
{
	return nonnull(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return nonnull(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return nonnull(strndup(s, n));
}

char *xstrdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

char *xstrfmt(const char *fmt, ...)
{
	va_list ap;
	char *ret;

	va_start(ap, fmt);
	if (vasprintf(&ret, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return ret;
}

int write_in_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (!n) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t alloc = 8192, nr = 0;
	char *buf;

	if (fd < 0)
		return -1;
	buf = xmalloc(alloc);
	for (;;) {
		ssize_t n;

		if (alloc - nr < 4096) {
			alloc *= 2;
			buf = xrealloc(buf, alloc);
		}
		n = read(fd, buf + nr, alloc - nr - 1);
		if (n < 0) {
			int saved = errno;
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (!n)
			break;
		nr += n;
	}
	close(fd);
	buf[nr] = '\0';
	*out = buf;
	if (len)
		*len = nr;
	return 0;
}

void iso8601_now(char buf[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t iso8601_parse(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || (*end && strcmp(end, "Z") && strcmp(end, "+00:00")))
		return (time_t)-1;
	return timegm(&tm);
}

int parse_duration(const char *s, long *seconds)
{
	char *end;
	long v, unit;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	if ((*end && end[1]) || v > DURATION_MAX / unit)
		return -1;
	*seconds = v * unit;
	return 0;
}

int parse_nonneg_int(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int path_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

char *exe_relative_path(const char *rel)
{
	char *exe = realpath("/proc/self/exe", NULL), *slash, *path, *ret;

	if (!exe)
		return NULL;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	path = xstrfmt("%s/%s", exe, rel);
	ret = realpath(path, NULL);
	free(path);
	free(exe);
	return ret;
}

char *read_file_trimmed(const char *path)
{
	char *buf = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (read_file(path, &buf, NULL) < 0)
		return NULL;
	strbuf_addstr(&sb, buf);
	strbuf_trim(&sb);
	free(buf);
	return strbuf_detach(&sb, NULL);
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DNR || type == FTW_NS)
		return -1; /* errno from nftw's opendir(3) or stat(2) */
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int remove_dir_recursively(const char *path)
{
	if (!path_exists(path))
		return 0;
	/*
	 * depth first (contents before their directory), never following
	 * links nor entering another file system (a bind mount inside is
	 * not ours: its rmdir fails instead, EBUSY)
	 */
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) ? -1 : 0;
}

int mkdir_p(const char *path)
{
	char *copy = xstrdup(path);
	char *p = copy;
	int ret = 0;

	while (*p == '/')
		p++;
	for (;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) < 0 && errno != EEXIST) {
			ret = -1;
			break;
		}
		*p = c;
		if (!c)
			break;
	}
	free(copy);
	return ret;
}
