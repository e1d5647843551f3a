#include "compat.h"
#include "submodule.h"
#include "run.h"
#include "strvec.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"

/* A submodule: its name in .gitmodules and its path in the worktree. */
struct sub {
	char *name, *path;
};

/*
 * The submodules that `rev`'s .gitmodules (or, with rev NULL, the file in
 * `dir`) names, with their paths; `git config --blob` reads it as git's
 * own submodule code does. Returns how many, *subs allocated.
 */
static size_t list_subs(const char *dir, const char *rev, struct sub **subs)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	char *line, *next;
	size_t nr = 0;

	*subs = NULL;
	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_push(&cp.args, "config");
	if (rev)
		strvec_pushf(&cp.args, "--blob=%s:.gitmodules", rev);
	else
		strvec_pushv(&cp.args, (const char *[]){ "-f", ".gitmodules", NULL });
	strvec_pushv(&cp.args, (const char *[]){ "--get-regexp",
		     "^submodule\\..*\\.path$", NULL });
	if (capture_command(&cp, &out, NULL)) {
		strbuf_release(&out);
		return 0;
	}
	for (line = out.buf; *line; line = next) {
		char *sp, *dot;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		sp = strchr(line, ' ');
		dot = sp ? memrchr(line, '.', sp - line) : NULL;
		if (!sp || !dot || dot < line + 10)
			continue;
		*subs = xrealloc(*subs, (nr + 1) * sizeof(**subs));
		(*subs)[nr].name = xstrndup(line + 10, dot - (line + 10));
		(*subs)[nr].path = xstrdup(sp + 1);
		nr++;
	}
	strbuf_release(&out);
	return nr;
}

static void free_subs(struct sub *subs, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(subs[i].name);
		free(subs[i].path);
	}
	free(subs);
}

/* 1 when `gitdir` holds a repository (a HEAD file). */
static int is_repo(const char *gitdir)
{
	char *head = xstrfmt("%s/HEAD", gitdir);
	int ret = path_exists(head);

	free(head);
	return ret;
}

/*
 * Check out the submodules of the worktree `dir` whose repositories are
 * in `modules` (<common dir>/modules, or a submodule's own modules/ one
 * level down), then theirs.
 */
static int update_in(const char *dir, const char *modules)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct sub *subs;
	size_t nr = list_subs(dir, NULL, &subs), i, n = 0;
	int ret = 0;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	/*
	 * git refuses file:// clones for submodules unless told
	 * (protocol.file.allow, since 2.38.1): the URLs here are this
	 * repository's own submodule repositories.
	 */
	strvec_pushv(&cp.args, (const char *[]){ "-c", "protocol.file.allow=always", NULL });
	for (i = 0; i < nr; i++) {
		char *repo = xstrfmt("%s/%s", modules, subs[i].name);

		if (is_repo(repo)) {
			strvec_push(&cp.args, "-c");
			strvec_pushf(&cp.args, "submodule.%s.url=%s", subs[i].name, repo);
			n++;
		}
		free(repo);
	}
	strvec_pushv(&cp.args, (const char *[]){ "submodule", "--quiet", "update",
		     "--init", "--", NULL });
	for (i = 0; i < nr; i++) {
		char *repo = xstrfmt("%s/%s", modules, subs[i].name);

		if (is_repo(repo))
			strvec_push(&cp.args, subs[i].path);
		free(repo);
	}
	if (n && run_command(&cp))
		ret = error("cannot check out the submodules of '%s'", dir);
	else if (!n)
		child_process_clear(&cp);
	for (i = 0; !ret && i < nr; i++) {
		char *repo = xstrfmt("%s/%s", modules, subs[i].name);
		char *sub_dir = xstrfmt("%s/%s", dir, subs[i].path);
		char *nested = xstrfmt("%s/modules", repo);

		if (is_repo(repo))
			ret = update_in(sub_dir, nested);
		free(nested);
		free(sub_dir);
		free(repo);
	}
	free_subs(subs, nr);
	return ret;
}

int ws_submodules_update(const struct ws_repo *r, const char *worktree)
{
	char *gitmodules = xstrfmt("%s/.gitmodules", worktree);
	char *modules;
	int ret = 0;

	if (path_exists(gitmodules)) {
		modules = xstrfmt("%s/modules", r->commondir);
		ret = update_in(worktree, modules);
		free(modules);
	}
	free(gitmodules);
	return ret;
}

/* The commit `rev` records at `path` (a gitlink), into hex; 0 or -1. */
static int gitlink_at(const char *dir, const char *rev, const char *path,
		      char hex[GIT_OID_HEXSZ + 1])
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_pushv(&cp.args, (const char *[]){ "rev-parse", "--verify", "-q", NULL });
	strvec_pushf(&cp.args, "%s:%s", rev, path);
	if (!capture_command(&cp, &out, NULL) && out.len == GIT_OID_HEXSZ + 1) {
		memcpy(hex, out.buf, GIT_OID_HEXSZ);
		hex[GIT_OID_HEXSZ] = '\0';
		ret = 0;
	}
	strbuf_release(&out);
	return ret;
}

/* The commit checked out in the repository at `dir`, into hex; 0 or -1. */
static int head_of(const char *dir, char hex[GIT_OID_HEXSZ + 1])
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_pushv(&cp.args, (const char *[]){ "rev-parse", "--verify", "-q",
		     "HEAD", NULL });
	if (!capture_command(&cp, &out, NULL) && out.len == GIT_OID_HEXSZ + 1) {
		memcpy(hex, out.buf, GIT_OID_HEXSZ);
		hex[GIT_OID_HEXSZ] = '\0';
		ret = 0;
	}
	strbuf_release(&out);
	return ret;
}

/* 1 when the repository `gitdir` has commit `hex`. */
static int has_commit(const char *gitdir, const char *hex)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", gitdir);
	strvec_pushv(&cp.args, (const char *[]){ "cat-file", "-e", NULL });
	strvec_pushf(&cp.args, "%s^{commit}", hex);
	return !run_command(&cp);
}

/* Fetch `hex` from the repository at `src` into `repo` as refs/ws/submodule/<hex>. */
static int keep_commit(const char *repo, const char *src, const char *hex)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", repo);
	/*
	 * The commit need not be at a ref tip in the worktree's submodule:
	 * let that local upload-pack hand out any commit.
	 */
	strvec_pushv(&cp.args, (const char *[]){ "fetch", "--quiet",
		     "--no-tags", "--no-write-fetch-head", "--upload-pack",
		     "git -c uploadpack.allowAnySHA1InWant=true upload-pack",
		     NULL });
	strvec_push(&cp.args, src);
	strvec_pushf(&cp.args, "%s:refs/ws/submodule/%s", hex, hex);
	return run_command(&cp) ? -1 : 0;
}

int ws_submodules_remove(const struct ws_repo *r, const char *worktree,
			 const char *admin_dir, int force, struct strbuf *err)
{
	struct sub *subs;
	size_t nr, i;
	char *gitmodules = xstrfmt("%s/.gitmodules", worktree);
	char *modules = xstrfmt("%s/modules", admin_dir);
	int ret = 0;

	if (!path_exists(gitmodules) && !path_exists(modules))
		goto out;
	nr = list_subs(worktree, NULL, &subs);
	for (i = 0; !ret && !force && i < nr; i++) {
		char *dir = xstrfmt("%s/%s", worktree, subs[i].path);
		char *dotgit = xstrfmt("%s/.git", dir);
		struct child_process cp = CHILD_PROCESS_INIT;
		struct strbuf st = STRBUF_INIT;

		if (path_exists(dotgit)) {
			ws_git_in(&cp, dir);
			cp.no_stdin = 1;
			strvec_pushv(&cp.args, (const char *[]){ "status",
				     "--porcelain", NULL });
			if (capture_command(&cp, &st, NULL) || st.len) {
				strbuf_addf(err, "submodule '%s' has uncommitted changes",
					    subs[i].path);
				ret = -1;
			}
		}
		strbuf_release(&st);
		free(dotgit);
		free(dir);
	}
	for (i = 0; !ret && i < nr; i++) {
		char *dir = xstrfmt("%s/%s", worktree, subs[i].path);
		char *repo = xstrfmt("%s/modules/%s", r->commondir, subs[i].name);
		char *dotgit = xstrfmt("%s/.git", dir);
		char hex[GIT_OID_HEXSZ + 1];

		if (path_exists(dotgit) && is_repo(repo) &&
		    head_of(dir, hex) == 0 && !has_commit(repo, hex) &&
		    keep_commit(repo, dir, hex) < 0 && !force) {
			strbuf_addf(err, "cannot keep commit %.7s of submodule '%s'",
				    hex, subs[i].path);
			ret = -1;
		}
		if (!ret && path_exists(dotgit) &&
		    (remove_dir_recursively(dir) < 0 || mkdir(dir, 0777) < 0)) {
			strbuf_addf(err, "cannot remove submodule '%s': %s",
				    subs[i].path, strerror(errno));
			ret = -1;
		}
		free(dotgit);
		free(repo);
		free(dir);
	}
	free_subs(subs, nr);
	if (!ret && path_exists(modules) && remove_dir_recursively(modules) < 0) {
		strbuf_addf(err, "cannot remove '%s': %s", modules, strerror(errno));
		ret = -1;
	}
out:
	free(modules);
	free(gitmodules);
	return ret;
}

int ws_submodules_bring_commits(const struct ws_repo *r, const char *commit,
				const char *from)
{
	struct sub *subs;
	size_t nr = list_subs(from, commit, &subs), i;
	int ret = 0;

	for (i = 0; !ret && i < nr; i++) {
		char *repo = xstrfmt("%s/modules/%s", r->commondir, subs[i].name);
		char *src = xstrfmt("%s/%s", from, subs[i].path);
		char hex[GIT_OID_HEXSZ + 1];

		if (!is_repo(repo) || gitlink_at(from, commit, subs[i].path, hex) < 0 ||
		    has_commit(repo, hex))
			goto next;
		if (keep_commit(repo, src, hex) < 0)
			ret = error("cannot bring submodule '%s' commit %.7s from '%s'",
				    subs[i].path, hex, src);
next:
		free(src);
		free(repo);
	}
	free_subs(subs, nr);
	return ret;
}
