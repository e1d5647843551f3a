#include "compat.h"
#include "lockfile.h"
#include "sigchain.h"
#include "wrapper.h"
#include "usage.h"
#include <libgen.h>
#include <sys/file.h>

static struct lock_file *active_locks;

static void unregister(struct lock_file *lk)
{
	struct lock_file **p;

	for (p = &active_locks; *p; p = &(*p)->next)
		if (*p == lk) {
			*p = lk->next;
			break;
		}
	lk->next = NULL;
}

static void remove_all_locks(void)
{
	struct lock_file *lk;

	for (lk = active_locks; lk; lk = lk->next)
		if (lk->fd >= 0 && lk->lock_path)
			unlink(lk->lock_path); /* async-signal-safe */
}

/* Remove our lock files, then pass the signal on down the chain. */
static void remove_locks_on_signal(int sig)
{
	remove_all_locks();
	sigchain_pop(sig);
	raise(sig);
}

void lockfile_install_cleanup(void)
{
	static int installed;

	if (installed++)
		return;
	atexit(remove_all_locks);
	sigchain_push_common(remove_locks_on_signal);
}

int hold_lock_file(struct lock_file *lk, const char *path, unsigned flags)
{
	int tries = (flags & LOCK_BREAK_STALE) ? 2 : 1;

	lk->path = xstrdup(path);
	lk->lock_path = xstrfmt("%s.lock", path);
	lk->flags = flags;
	while (tries--) {
		lk->fd = open(lk->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (lk->fd >= 0) {
			lk->next = active_locks;
			active_locks = lk;
			return lk->fd;
		}
		if (errno != EEXIST || !tries)
			break;
		unlink(lk->lock_path);
	}
	{
		int saved = errno;
		FREE_AND_NULL(lk->path);
		FREE_AND_NULL(lk->lock_path);
		errno = saved;
	}
	return -1;
}

int fsync_parent_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, ret = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0 && errno != EINVAL)
		ret = -1;
	close(fd);
	return ret;
}

int commit_lock_file(struct lock_file *lk)
{
	int saved;

	if (lk->fd < 0)
		BUG("commit of a lock file that is not held");
	if ((!(lk->flags & LOCK_NO_FSYNC) && fsync(lk->fd) < 0) || close(lk->fd) < 0) {
		saved = errno;
		lk->fd = -1;
		goto fail;
	}
	lk->fd = -1;
	if (rename(lk->lock_path, lk->path) < 0) {
		saved = errno;
		goto fail;
	}
	unregister(lk);
	if (!(lk->flags & LOCK_NO_FSYNC))
		fsync_parent_dir(lk->path);
	FREE_AND_NULL(lk->path);
	FREE_AND_NULL(lk->lock_path);
	return 0;
fail:
	unlink(lk->lock_path);
	unregister(lk);
	FREE_AND_NULL(lk->path);
	FREE_AND_NULL(lk->lock_path);
	errno = saved;
	return -1;
}

void rollback_lock_file(struct lock_file *lk)
{
	if (!lk->lock_path)
		return;
	if (lk->fd >= 0)
		close(lk->fd);
	lk->fd = -1;
	unlink(lk->lock_path);
	unregister(lk);
	FREE_AND_NULL(lk->path);
	FREE_AND_NULL(lk->lock_path);
}

int write_file_atomically(const char *path, const void *buf, size_t len,
			  unsigned flags)
{
	struct lock_file lk = LOCK_INIT;
	int saved;

	if (hold_lock_file(&lk, path, flags) < 0)
		return -1;
	if (write_in_full(lk.fd, buf, len) < 0) {
		saved = errno;
		rollback_lock_file(&lk);
		errno = saved;
		return -1;
	}
	return commit_lock_file(&lk);
}

int hold_flock(const char *path, long timeout_ms)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	uint64_t start = monotonic_ms();
	unsigned n = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		long backoff, elapsed;

		if (!flock(fd, LOCK_EX | LOCK_NB))
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		elapsed = (long)(monotonic_ms() - start);
		if (timeout_ms >= 0 && elapsed >= timeout_ms) {
			close(fd);
			errno = EWOULDBLOCK;
			return -1;
		}
		/* git's lockfile.c: quadratic backoff, randomised 0.75..1.25 */
		n++;
		backoff = (long)(n < 1000 ? n : 1000) * (n < 1000 ? n : 1000);
		if (backoff > 200)
			backoff = 200;
		backoff = backoff * (750 + rand() % 500) / 1000;
		if (backoff < 1)
			backoff = 1;
		if (timeout_ms >= 0 && backoff > timeout_ms - elapsed)
			backoff = timeout_ms - elapsed;
		sleep_ms((unsigned)backoff);
	}
}

void release_flock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}
