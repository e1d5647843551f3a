/* The reports that carry libgit2's last error message (usage.h). */
#include "compat.h"
#include "usage.h"
#include <git2.h>

const char *git_last_message(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

void die_git(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreportf("fatal: ", fmt, ap, git_last_message());
	va_end(ap);
	die_exit();
}

int error_git(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreportf("error: ", fmt, ap, git_last_message());
	va_end(ap);
	return -1;
}
