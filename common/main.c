#include "compat.h"
#include "usage.h"
#include "lockfile.h"
#include <git2.h>

/* Open fds 0, 1 and 2 so that die() cannot clobber a file we opened. */
static void sanitize_stdfds(void)
{
	int fd = open("/dev/null", O_RDWR);

	while (fd >= 0 && fd <= 2)
		fd = dup(fd);
	if (fd > 2)
		close(fd);
}

int main(int argc, const char **argv)
{
	int result;
	const char *ext[] = { "worktreeconfig" };

	sanitize_stdfds();
	signal(SIGPIPE, SIG_DFL);

	if (git_libgit2_init() < 0)
		die("cannot initialise libgit2");
	/* git sparse-checkout sets it; libgit2 1.5 refuses such repos otherwise. */
	git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, ext, ARRAY_SIZE(ext));
	lockfile_install_cleanup();

	result = cmd_main(argc, argv);

	if (fflush(stdout) || ferror(stdout))
		die_errno("write failure on standard output");
	git_libgit2_shutdown();
	return result & 0xff;
}
