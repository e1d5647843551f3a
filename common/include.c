#include "compat.h"
#include "include.h"
#include "run.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#define INCLUDE_FILE ".worktreeinclude"

int ws_include_pattern_escapes(const char *pattern)
{
	const char *c = pattern;

	if (*c == '!')
		c++;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 2 && !strncmp(c, "..", 2))
			return 1;
		c += n;
		if (*c)
			c++;
	}
	return 0;
}

/* Check every pattern line of .worktreeinclude (comments and blanks aside). */
static int check_include_file(const char *path, int *present, struct strbuf *err)
{
	char *buf, *line, *next;
	size_t len;
	int lineno = 0, ret = 0;

	if (read_file(path, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 0;
		strbuf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	*present = 1;
	for (line = buf; !ret && line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (*line == '#' || !*line)
			continue;
		if (ws_include_pattern_escapes(line)) {
			strbuf_addf(err, "%s:%d: pattern '%s' leaves the repository (a '..' component)",
				    path, lineno, line);
			ret = -1;
		}
	}
	free(buf);
	return ret;
}

/* `git ls-files -z` in the main worktree with `args` into `out`. */
static int ls_files(const char *top, const char **args, struct strvec *out,
		    struct strbuf *err)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf list = STRBUF_INIT, msg = STRBUF_INIT;
	size_t at;
	int ret = 0;

	ws_git_in(&cp, top);
	strvec_pushv(&cp.args, (const char *[]){ "ls-files", "-z", "--others",
			"--ignored", NULL });
	strvec_pushv(&cp.args, args);
	cp.no_stdin = 1;
	if (capture_command(&cp, &list, &msg)) {
		strbuf_addf(err, "git ls-files in '%s' failed: %s", top, msg.buf);
		ret = -1;
	}
	for (at = 0; !ret && at < list.len; at += strlen(list.buf + at) + 1)
		strvec_push(out, list.buf + at);
	strvec_sort_unique(out);
	strbuf_release(&list);
	strbuf_release(&msg);
	return ret;
}

int ws_include_read(struct ws_include *inc, const struct ws_repo *r,
		    const struct strvec *extra, struct strbuf *err)
{
	struct strvec ignored = STRVEC_INIT, matched = STRVEC_INIT;
	struct strvec args = STRVEC_INIT;
	char *file;
	int present = 0, ret = 0;
	size_t i, j;

	memset(inc, 0, sizeof(*inc));
	strvec_init(&inc->files);
	if (!r->main_worktree)
		return 0;
	file = xstrfmt("%s/%s", r->main_worktree, INCLUDE_FILE);
	if (check_include_file(file, &present, err) < 0) {
		free(file);
		return -1;
	}
	if (!present && (!extra || !extra->nr)) {
		free(file);
		return 0;
	}
	if (present)
		strvec_pushf(&args, "--exclude-from=%s", file);
	for (i = 0; extra && i < extra->nr; i++)
		strvec_pushf(&args, "--exclude=%s", extra->v[i]);
	if (ls_files(r->main_worktree, (const char *[]){ "--exclude-standard", NULL },
		     &ignored, err) < 0 ||
	    ls_files(r->main_worktree, (const char **)args.v, &matched, err) < 0)
		ret = -1;
	/* both lists are sorted: keep what is in both */
	for (i = j = 0; !ret && i < ignored.nr && j < matched.nr; ) {
		int cmp = strcmp(ignored.v[i], matched.v[j]);

		if (!cmp)
			strvec_push(&inc->files, ignored.v[i]);
		i += cmp <= 0;
		j += cmp >= 0;
	}
	if (!ret)
		inc->from = xstrdup(r->main_worktree);
	else
		ws_include_release(inc);
	strvec_clear(&ignored);
	strvec_clear(&matched);
	strvec_clear(&args);
	free(file);
	return ret;
}

/* Make the directories above `path` (a file's path). */
static int make_leading_dirs(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int ret = 0;

	if (slash) {
		*slash = '\0';
		ret = mkdir_p(dir);
	}
	free(dir);
	return ret;
}

/*
 * Copy the regular file `from` (open, as `st`) to the new file `to`:
 * a reflink, else copy_file_range(), else read and write.
 */
static int copy_regular(int in, const struct stat *st, const char *to)
{
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		       st->st_mode & 07777);
	off_t left = st->st_size;
	char buf[65536];
	ssize_t n;

	if (out < 0)
		return -1;
#ifdef FICLONE
	if (!ioctl(out, FICLONE, in))
		left = 0;
#endif
	while (left > 0) {
		n = copy_file_range(in, NULL, out, NULL, left, 0);
		if (n <= 0)
			break;
		left -= n;
	}
	/* copy_file_range() cannot cross some file systems: read and write */
	while (left > 0 && (n = read(in, buf, sizeof(buf))) > 0) {
		if (write_in_full(out, buf, n) < 0)
			break;
		left -= n;
	}
	if (left > 0 || fchmod(out, st->st_mode & 07777) < 0) {
		int saved = errno;

		close(out);
		unlink(to);
		errno = saved ? saved : EIO;
		return -1;
	}
	return close(out);
}

/* Copy `from` to `to`: 1 when copied, 0 when there was nothing to copy, -1. */
static int copy_one(const char *from, const char *to)
{
	struct stat st;
	int in, ret;

	if (lstat(from, &st) < 0)
		return errno == ENOENT ? 0 : -1; /* gone since the listing */
	if (make_leading_dirs(to) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(from, target, sizeof(target) - 1);

		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlink(target, to) < 0 ? -1 : 1;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	ret = copy_regular(in, &st, to);
	close(in);
	return ret < 0 ? -1 : 1;
}

int ws_include_copy(const struct ws_include *inc, const char *dest,
		    size_t *copied)
{
	size_t i, n = 0;
	int ret = 0;

	for (i = 0; inc->from && i < inc->files.nr; i++) {
		char *from = xstrfmt("%s/%s", inc->from, inc->files.v[i]);
		char *to = xstrfmt("%s/%s", dest, inc->files.v[i]);
		struct stat st;

		if (lstat(to, &st) < 0 && errno == ENOENT) {
			int one = copy_one(from, to);

			if (one < 0)
				ret = error_errno("cannot copy '%s' to '%s'", from, to);
			else
				n += one;
		}
		free(from);
		free(to);
		if (ret)
			break;
	}
	if (copied)
		*copied = n;
	return ret;
}

void ws_include_release(struct ws_include *inc)
{
	FREE_AND_NULL(inc->from);
	strvec_clear(&inc->files);
}
