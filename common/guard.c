#include "compat.h"
#include "guard.h"
#include "lockfile.h"
#include "state.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"

#include <dirent.h>

char *ws_guard_hooks_dir(void)
{
	char *dir = exe_relative_path("../share/git-ws/hooks"), *hook;

	if (!dir)
		return NULL;
	hook = xstrfmt("%s/reference-transaction", dir);
	if (access(hook, X_OK))
		FREE_AND_NULL(dir);
	free(hook);
	return dir;
}

/*
 * ws.guard: 1 unless git config says false. A value that is not a
 * boolean keeps the guard on, with a warning: it is read as each command
 * starts, when dying would leave the commands already started behind.
 */
static int guard_enabled(const struct ws_repo *r)
{
	static int warned;
	char *v = ws_config_get(r, "ws.guard");
	int on = 1;

	if (v && git_config_parse_bool(&on, v) < 0) {
		if (!warned++)
			warning("bad boolean config value '%s' for 'ws.guard': "
				"the base branch stays guarded", v);
		on = 1;
	}
	free(v);
	return on;
}

/* Whether our environment already has core.hooksPath=dir among its n pairs. */
static int has_pair(int n, const char *dir)
{
	int i;

	for (i = 0; i < n; i++) {
		char name[64];
		const char *k, *v;

		snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%d", i);
		k = getenv(name);
		snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%d", i);
		v = getenv(name);
		if (k && v && !strcasecmp(k, "core.hooksPath") && !strcmp(v, dir))
			return 1;
	}
	return 0;
}

/*
 * Every hook of githooks(5) (git 2.39), as the Makefile installs them; the
 * first three are those the guard itself needs.
 */
static const char *const hook_names[] = {
	"reference-transaction", "pre-push", "push-to-checkout",
	"applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit",
	"pre-merge-commit", "prepare-commit-msg", "commit-msg", "post-commit",
	"pre-rebase", "post-checkout", "post-merge", "pre-receive", "update",
	"proc-receive", "post-receive", "post-update", "pre-auto-gc",
	"post-rewrite", "sendemail-validate", "post-index-change",
	"p4-changelist", "p4-prepare-changelist", "p4-post-changelist",
	"p4-pre-submit", NULL
};
#define GUARD_OWN_HOOKS 3

static int is_hook_name(const char *name)
{
	size_t i;

	for (i = 0; hook_names[i]; i++)
		if (!strcmp(hook_names[i], name))
			return 1;
	return 0;
}

/*
 * The names of the repository's own hooks, one a line, sorted, into
 * `out`; "*" when they cannot be known here: a relative core.hooksPath
 * (or one starting with ~) names a directory in each worktree, which the
 * hook finds where it runs.
 */
static void own_hook_names(const struct ws_repo *r, struct strbuf *out)
{
	char *hp = ws_config_get(r, "core.hookspath");
	char *dir;
	DIR *d;
	struct dirent *e;
	struct strvec names = STRVEC_INIT;
	size_t i;

	if (hp && *hp && *hp != '/') {
		strbuf_addstr(out, "*\n");
		free(hp);
		return;
	}
	dir = hp && *hp ? xstrdup(hp) : xstrfmt("%s/hooks", r->commondir);
	if ((d = opendir(dir))) {
		while ((e = readdir(d)))
			if (is_hook_name(e->d_name))
				strvec_push(&names, e->d_name);
		closedir(d);
	}
	strvec_sort_unique(&names);
	for (i = 0; i < names.nr; i++)
		strbuf_addf(out, "%s\n", names.v[i]);
	strvec_clear(&names);
	free(dir);
	free(hp);
}

/* Whether the lines of `text` (each ending in \\n) include `name`. */
static int has_line(const char *text, const char *name)
{
	size_t len = strlen(name);

	while (*text) {
		const char *end = strchrnul(text, '\n');

		if ((size_t)(end - text) == len && !memcmp(text, name, len))
			return 1;
		text = *end ? end + 1 : end;
	}
	return 0;
}

/* Write `path` with `sb` unless it holds that already; 0 or -1. */
static int write_if_changed(const char *path, const struct strbuf *sb)
{
	struct strbuf old = STRBUF_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC), same = 0;

	if (fd >= 0) {
		same = strbuf_read_fd(&old, fd) >= 0 && old.len == sb->len &&
		       !memcmp(old.buf, sb->buf, sb->len);
		close(fd);
	}
	strbuf_release(&old);
	if (same)
		return 0;
	return write_file_atomically(path, sb->buf, sb->len, 0);
}

/* Make <dir>/<name> a symbolic link to `script`, atomically; 0 or -1. */
static int link_hook(const char *dir, const char *name, const char *script)
{
	char *path = xstrfmt("%s/%s", dir, name);
	char *tmp = xstrfmt("%s/.%s.%ld.tmp", dir, name, (long)getpid());
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	int ret = 0;

	if (n < 0 || (size_t)n != strlen(script) || memcmp(buf, script, n)) {
		unlink(tmp);
		if (symlink(script, tmp) < 0 || rename(tmp, path) < 0) {
			ret = -1;
			unlink(tmp);
		}
	}
	free(tmp);
	free(path);
	return ret;
}

/*
 * The protected branches: "refs/heads/<branch> <id>" for each workstream
 * of the state (the hook lets a workstream move its own), in the state's
 * order. Read once per process while the plan file is the same (inode,
 * size, modification time): a workstream's branch is recorded when git
 * ws-alloc adds it, which rewrites the plan, while the state changes at
 * every start and end of git ws-dispatch. A workstream cleaned meanwhile
 * stays protected until then, which only protects more.
 */
static int protected_refs(const struct ws_repo *r, struct strbuf *out)
{
	static struct strbuf cache = STRBUF_INIT;
	static struct stat cached;
	static int have;
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/plan", r->ws_dir);
	struct stat now;
	const char *id;
	size_t pos = 0;
	int ret = 0;

	memset(&now, 0, sizeof(now));
	if (stat(path, &now) < 0)
		memset(&now, 0, sizeof(now));
	if (!have || now.st_ino != cached.st_ino || now.st_size != cached.st_size ||
	    now.st_mtim.tv_sec != cached.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != cached.st_mtim.tv_nsec) {
		have = 0;
		strbuf_reset(&cache);
		if (ws_state_read(&st, r->ws_dir, &err) < 0) {
			ret = -1;
			goto cleanup;
		}
		while ((id = ws_state_next(&st, &pos))) {
			const char *branch = ws_state_get(&st, id, WS_KEY_BRANCH);

			if (branch && *branch)
				strbuf_addf(&cache, "refs/heads/%s %s\n", branch, id);
		}
		cached = now;
		have = 1;
	}
	strbuf_addbuf(out, &cache);
cleanup:
	ws_state_release(&st);
	strbuf_release(&err);
	free(path);
	return ret;
}

/*
 * Bring <ws dir>/hooks up to date (guard.h) for the hooks script
 * <shared>/git-ws-hook. Returns its path (caller frees), or NULL when it
 * cannot be written.
 */
static char *repo_hooks_dir(const struct ws_repo *r, const char *shared)
{
	char *dir = xstrfmt("%s/hooks", r->ws_dir);
	char *script = xstrfmt("%s/git-ws-hook", shared);
	char *file = NULL;
	struct strbuf own = STRBUF_INIT, refs = STRBUF_INIT;
	size_t i;
	int all, ok = 0;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		goto cleanup;
	own_hook_names(r, &own);
	if (protected_refs(r, &refs) < 0)
		goto cleanup;
	file = xstrfmt("%s/protected", dir);
	if (write_if_changed(file, &refs) < 0)
		goto cleanup;
	free(file);
	file = xstrfmt("%s/own-hooks", dir);
	if (write_if_changed(file, &own) < 0)
		goto cleanup;
	all = !strcmp(own.buf, "*\n");
	for (i = 0; hook_names[i]; i++) {
		int want = all || i < GUARD_OWN_HOOKS ||
			   has_line(own.buf, hook_names[i]);

		if (want) {
			if (link_hook(dir, hook_names[i], script) < 0)
				goto cleanup;
		} else {
			free(file);
			file = xstrfmt("%s/%s", dir, hook_names[i]);
			if (unlink(file) < 0 && errno != ENOENT)
				goto cleanup;
		}
	}
	ok = 1;
cleanup:
	if (!ok)
		FREE_AND_NULL(dir);
	strbuf_release(&own);
	strbuf_release(&refs);
	free(file);
	free(script);
	return dir;
}

/*
 * How long a process reuses the guard directory it brought up to date
 * without looking again: git ws-dispatch starts commands by the hundred.
 */
#define GUARD_REFRESH_MS 1000

void ws_guard_push_env(const struct ws_repo *r, struct strvec *env)
{
	static int warned;
	static char *fresh_dir;      /* brought up to date at fresh_ms */
	static uint64_t fresh_ms;
	const char *count = getenv("GIT_CONFIG_COUNT");
	char *shared = NULL, *dir = NULL;
	int n = 0;

	if (!guard_enabled(r))
		return;
	if (count && *count && (parse_nonneg_int(count, &n) < 0 || n == INT_MAX)) {
		if (!warned++)
			warning("GIT_CONFIG_COUNT '%s' is not a number: the base "
				"branch is not guarded", count);
		return;
	}
	shared = ws_guard_hooks_dir();
	if (!shared) {
		if (!warned++) {
			warning("git-ws's hooks are not installed beside its "
				"binaries: the base branch is not guarded");
			advise("they belong in <prefix>/share/git-ws/hooks "
			       "('make install' puts them there)");
		}
		return;
	}
	dir = xstrfmt("%s/hooks", r->ws_dir);
	if (has_pair(n, dir) || has_pair(n, shared))
		goto cleanup;
	if (fresh_dir && !strcmp(fresh_dir, dir) &&
	    monotonic_ms() - fresh_ms < GUARD_REFRESH_MS)
		goto push;
	free(dir);
	dir = repo_hooks_dir(r, shared);
	if (dir) {
		free(fresh_dir);
		fresh_dir = xstrdup(dir);
		fresh_ms = monotonic_ms();
	} else {
		/* the shared directory guards too, only at more cost */
		if (!warned++)
			warning("cannot write '%s/hooks' (%s); guarding with '%s'",
				r->ws_dir, strerror(errno), shared);
		dir = xstrdup(shared);
	}
push:
	strvec_pushf(env, "GIT_CONFIG_KEY_%d=core.hooksPath", n);
	strvec_pushf(env, "GIT_CONFIG_VALUE_%d=%s", n, dir);
	strvec_pushf(env, "GIT_CONFIG_COUNT=%d", n + 1);
cleanup:
	free(dir);
	free(shared);
}
