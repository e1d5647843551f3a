#include "compat.h"
#include "usage.h"
#include "strbuf.h"
#include "wrapper.h"

static void (*die_cleanup)(void);
static int dying;

void vreportf(const char *prefix, const char *fmt, va_list ap,
	      const char *suffix)
{
	struct strbuf msg = STRBUF_INIT, sb = STRBUF_INIT;
	char *p;

	strbuf_vaddf(&msg, fmt, ap);
	for (p = msg.buf; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n') ||
		    *p == 0x7f)
			*p = '?';
	strbuf_addstr(&sb, prefix);
	strbuf_addbuf(&sb, &msg);
	if (suffix) {
		strbuf_addstr(&sb, ": ");
		strbuf_add_sanitized(&sb, suffix);
	}
	strbuf_addch(&sb, '\n');
	fflush(stdout);
	write_in_full(2, sb.buf, sb.len); /* nothing better to do on failure */
	strbuf_release(&msg);
	strbuf_release(&sb);
}

void die_exit(void)
{
	if (!dying++ && die_cleanup)
		die_cleanup();
	exit(WS_EXIT_FATAL);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreportf("fatal: ", fmt, ap, NULL);
	va_end(ap);
	die_exit();
}

void die_errno(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	vreportf("fatal: ", fmt, ap, err);
	va_end(ap);
	die_exit();
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreportf("error: ", fmt, ap, NULL);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	vreportf("error: ", fmt, ap, err);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreportf("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void advise(const char *fmt, ...)
{
	va_list ap;
	char msg[4096];
	struct strbuf sb = STRBUF_INIT;
	char *line, *nl;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (line = msg; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		strbuf_addstr(&sb, "hint: ");
		strbuf_add_sanitized(&sb, line);
		strbuf_addch(&sb, '\n');
	}
	fflush(stdout);
	write_in_full(2, sb.buf, sb.len);
	strbuf_release(&sb);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vreportf(prefix, fmt, ap, NULL);
	va_end(ap);
	abort();
}

void set_die_routine_cleanup(void (*fn)(void))
{
	die_cleanup = fn;
}
