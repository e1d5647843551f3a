#include "compat.h"
#include "usage.h"
#include "lockfile.h"
#include "run.h"
#include "sigchain.h"
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
	sigchain_set_default(SIGPIPE);

	if (git_libgit2_init() < 0)
		die("cannot initialise libgit2");
	/* git sparse-checkout sets it; libgit2 1.5 refuses such repos otherwise. */
	git_libgit2_opts(GIT_OPT_SET_EXTENSIONS, ext, ARRAY_SIZE(ext));
	/* first the handlers that live as long as we do; see run.h */
	lockfile_install_cleanup();
	install_signal_forwarding();

	result = cmd_main(argc, argv);

	if (fflush(stdout) || ferror(stdout))
		die_errno("write failure on standard output");
	git_libgit2_shutdown();
	return result & 0xff;
}
