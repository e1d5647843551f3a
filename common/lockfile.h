#ifndef LOCKFILE_H
#define LOCKFILE_H

#include "compat.h"

/*
 * Atomic file replacement, as git's lockfile.c: the new contents are
 * written to "<path>.lock" (created O_CREAT|O_EXCL), fsynced, renamed over
 * <path>, and the directory is fsynced (as redis' fsyncFileDir). Readers
 * never lock: they see the old file or the new one, whole. A lock file not
 * yet committed is removed at exit and on SIGINT/SIGTERM/SIGHUP/SIGQUIT by
 * the process that made it; after SIGKILL it stays, and the next holder of
 * the surrounding flock() (below) may break it (LOCK_BREAK_STALE).
 */
struct lock_file {
	char *path;      /* the file being replaced */
	char *lock_path; /* path + ".lock" */
	int fd;          /* -1 when not held */
	unsigned flags;  /* from hold_lock_file() */
	struct lock_file *next; /* registry for cleanup at exit/signal */
};
#define LOCK_INIT { NULL, NULL, -1, 0, NULL }

/* Remove a "<path>.lock" left by a killed process (caller holds the flock). */
#define LOCK_BREAK_STALE 1
/*
 * Rename without fsync (still atomic for readers and across a killed
 * process; after a power loss the old file, or none, may come back), as
 * git writes its config: for files that can be rebuilt, such as a .done
 * sentinel that dispatch writes from an exit status the state records.
 */
#define LOCK_NO_FSYNC 2

/*
 * Create "<path>.lock". Returns the fd (also in lk->fd), or -1 with errno
 * from open(2) (EEXIST: another process holds it, or a killed one left it).
 */
int hold_lock_file(struct lock_file *lk, const char *path, unsigned flags);
/* fsync, close and rename over the path, then fsync the directory; 0 or -1 (errno). */
int commit_lock_file(struct lock_file *lk);
/* Close and remove the lock file, if held. Always safe to call. */
void rollback_lock_file(struct lock_file *lk);

/*
 * Replace `path` with `len` bytes of `buf` atomically (lock, write, fsync,
 * rename). Returns 0, or -1 with errno set and nothing changed.
 */
int write_file_atomically(const char *path, const void *buf, size_t len,
			  unsigned flags);

/* fsync(2) the directory containing `path`; 0, or -1 with errno. */
int fsync_parent_dir(const char *path);

/*
 * Remove held lock files at exit (atexit(3)) and on SIGINT, SIGTERM,
 * SIGHUP and SIGQUIT (sigchain_push_common(); the handler then passes
 * the signal on down the chain), as git's lockfile.c does through its
 * tempfile.c. Call it once at start-up, before any handler is pushed
 * for a while (main() does); later calls do nothing.
 */
void lockfile_install_cleanup(void);

/*
 * Mutual exclusion that cannot outlive a killed process: flock(2) on
 * `path` (created if missing), waiting at most `timeout_ms` (0: try once,
 * <0: forever) with git's randomised quadratic backoff. The fd is
 * close-on-exec, so programs we run never inherit the lock (a keeper
 * process of our own may hold it for one: child_process.hold_fd, with
 * which release_flock()'s LOCK_UN releases it for the keeper too, so
 * release only once the program has ended). Returns the fd to
 * pass to release_flock(), or -1 with errno (EWOULDBLOCK on timeout).
 */
int hold_flock(const char *path, long timeout_ms);
void release_flock(int fd);

#endif
