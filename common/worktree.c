#include "compat.h"
#include "worktree.h"
#include "usage.h"
#include "wrapper.h"
#include <dirent.h>
#include <libgen.h>

char *ws_normalise_path(const char *path)
{
	char *real = realpath(path, NULL), *copy1, *copy2, *parent;

	if (real)
		return real;
	copy1 = xstrdup(path);
	copy2 = xstrdup(path);
	parent = realpath(dirname(copy1), NULL);
	real = parent ? xstrfmt("%s/%s", parent, basename(copy2)) : xstrdup(path);
	free(parent);
	free(copy1);
	free(copy2);
	return real;
}

/* Fill head, head_ref, head_oid and is_detached from <admin_dir>/HEAD. */
static void read_head(const struct ws_repo *r, struct ws_worktree *wt)
{
	char *p = xstrfmt("%s/HEAD", wt->admin_dir);

	wt->head = read_file_trimmed(p);
	free(p);
	if (!wt->head)
		return;
	if (!strncmp(wt->head, "ref: ", 5)) {
		wt->head_ref = xstrdup(wt->head + 5);
		/* refs/heads/ is shared by every worktree: the common refs */
		wt->has_head_oid = !git_reference_name_to_id(&wt->head_oid,
							     r->repo, wt->head_ref);
		return;
	}
	wt->is_detached = 1;
	wt->has_head_oid = strlen(wt->head) == GIT_OID_HEXSZ &&
			   !git_oid_fromstr(&wt->head_oid, wt->head);
}

static struct ws_worktree *main_worktree(const struct ws_repo *r)
{
	struct ws_worktree *wt = xcalloc(1, sizeof(*wt));

	wt->is_main = 1;
	wt->admin_dir = xstrdup(r->commondir);
	wt->path = xstrdup_or_null(r->main_worktree);
	wt->is_bare = !wt->path;
	if (wt->path)
		wt->real = ws_normalise_path(wt->path);
	read_head(r, wt);
	return wt;
}

static struct ws_worktree *linked_worktree(const struct ws_repo *r,
					   const char *top, const char *id)
{
	struct ws_worktree *wt = xcalloc(1, sizeof(*wt));
	char *p;

	wt->id = xstrdup(id);
	wt->admin_dir = xstrfmt("%s/%s", top, id);
	p = xstrfmt("%s/gitdir", wt->admin_dir);
	wt->path = read_file_trimmed(p);
	free(p);
	if (wt->path && !*wt->path)
		FREE_AND_NULL(wt->path);
	if (wt->path) {
		size_t n = strlen(wt->path);

		if (n > 5 && !strcmp(wt->path + n - 5, "/.git"))
			wt->path[n - 5] = '\0';
		wt->real = ws_normalise_path(wt->path);
	}
	p = xstrfmt("%s/locked", wt->admin_dir);
	wt->lock_reason = read_file_trimmed(p);
	free(p);
	read_head(r, wt);
	return wt;
}

struct ws_worktree **ws_worktrees_get(const struct ws_repo *r)
{
	char *top = xstrfmt("%s/worktrees", r->commondir);
	struct ws_worktree **list = NULL;
	size_t nr = 0, alloc = 0;
	DIR *dh = opendir(top);
	struct dirent *de;

	ALLOC_GROW(list, nr + 2, alloc);
	list[nr++] = main_worktree(r);
	while (dh && (de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		ALLOC_GROW(list, nr + 2, alloc);
		list[nr++] = linked_worktree(r, top, de->d_name);
	}
	list[nr] = NULL;
	if (dh)
		closedir(dh);
	free(top);
	return list;
}

void ws_worktrees_free(struct ws_worktree **list)
{
	size_t i;

	for (i = 0; list && list[i]; i++) {
		free(list[i]->path);
		free(list[i]->real);
		free(list[i]->id);
		free(list[i]->admin_dir);
		free(list[i]->head);
		free(list[i]->head_ref);
		free(list[i]->lock_reason);
		free(list[i]);
	}
	free(list);
}

struct ws_worktree *ws_worktree_find_path(struct ws_worktree **list,
					  const char *path)
{
	struct ws_worktree *found = NULL;
	char *real;
	size_t i;

	if (!path)
		return NULL;
	real = ws_normalise_path(path);
	for (i = 0; list[i] && !found; i++)
		if (list[i]->real && !strcmp(list[i]->real, real))
			found = list[i];
	free(real);
	return found;
}

struct ws_worktree *ws_worktree_find_id(struct ws_worktree **list,
					const char *id)
{
	size_t i;

	for (i = 0; id && list[i]; i++)
		if (list[i]->id && !strcmp(list[i]->id, id))
			return list[i];
	return NULL;
}

struct ws_worktree *ws_worktree_find_branch(struct ws_worktree **list,
					    const char *branch, size_t *pos)
{
	size_t n = strlen(branch);

	for (; list[*pos]; (*pos)++) {
		struct ws_worktree *wt = list[*pos];

		/* remains without gitdir check nothing out, for git either */
		if (!wt->path || !wt->head_ref ||
		    strncmp(wt->head_ref, "refs/heads/", 11) ||
		    strncmp(wt->head_ref + 11, branch, n) || wt->head_ref[11 + n])
			continue;
		(*pos)++;
		return wt;
	}
	return NULL;
}

struct ws_worktree *ws_worktree_find_by_dotgit(struct ws_worktree **list,
					       const char *path)
{
	char *p = xstrfmt("%s/.git", path);
	char *line = read_file_trimmed(p);
	struct ws_worktree *found = NULL;
	char *admin;
	size_t i;

	if (line && !strncmp(line, "gitdir: ", 8)) {
		admin = ws_normalise_path(line + 8);
		for (i = 0; list[i] && !found; i++) {
			char *real = ws_normalise_path(list[i]->admin_dir);

			if (list[i]->id && !strcmp(real, admin))
				found = list[i];
			free(real);
		}
		free(admin);
	}
	free(line);
	free(p);
	return found;
}

void ws_branch_worktrees(const struct ws_repo *r, const char *branch,
			 struct strvec *out)
{
	struct ws_worktree **list = ws_worktrees_get(r);
	struct ws_worktree *wt;
	size_t pos = 0;

	while ((wt = ws_worktree_find_branch(list, branch, &pos)))
		if (wt->is_main || path_exists(wt->path))
			strvec_push(out, wt->path);
	ws_worktrees_free(list);
}

char *ws_worktree_branch_at(const char *path)
{
	git_repository *wt = NULL;
	git_reference *head = NULL;
	char *ret = NULL;
	const char *target;

	if (git_repository_open_ext(&wt, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return NULL;
	if (!git_reference_lookup(&head, wt, "HEAD") &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    (target = git_reference_symbolic_target(head)) &&
	    !strncmp(target, "refs/heads/", 11))
		ret = xstrdup(target + 11);
	git_reference_free(head);
	git_repository_free(wt);
	return ret;
}

int ws_worktree_head_at(const char *path, git_oid *oid)
{
	git_repository *wt = NULL;
	int ret = -1;

	if (!git_repository_open_ext(&wt, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) &&
	    !git_reference_name_to_id(oid, wt, "HEAD"))
		ret = 0;
	git_repository_free(wt);
	return ret;
}

/* --- status ----------------------------------------------------------- */

const char *ws_worktree_state_name(enum ws_worktree_state s)
{
	static const char *const names[] = {
		"clean", "dirty", "missing", "broken", "half-made", "half-removed",
	};

	return (size_t)s < ARRAY_SIZE(names) ? names[s] : "broken";
}

long ws_worktree_changes(const char *path, struct strvec *paths, size_t max)
{
	git_repository *wt = NULL;
	git_status_list *list = NULL;
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	long ret = -1;
	size_t i, n;

	if (git_repository_open_ext(&wt, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0)
		goto cleanup;
	/* GIT_STATUS_OPTIONS_INIT has flags 0, which hides untracked files */
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		     GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, wt, &opts) < 0)
		goto cleanup;
	n = git_status_list_entrycount(list);
	for (i = 0; paths && i < n && i < max; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir :
					  e->head_to_index;

		if (d && d->new_file.path)
			strvec_push(paths, d->new_file.path);
		else if (d && d->old_file.path)
			strvec_push(paths, d->old_file.path);
	}
	ret = (long)n;
cleanup:
	git_status_list_free(list);
	git_repository_free(wt);
	return ret;
}

int ws_worktree_is_dirty(const char *path)
{
	long n = ws_worktree_changes(path, NULL, 0);

	return n < 0 ? -1 : n > 0;
}

/* 1 when worktrees/<id> exists and its gitdir names <path>/.git. */
static int admin_is_of(const struct ws_repo *r, const char *id,
		       const char *path)
{
	char *file = xstrfmt("%s/worktrees/%s/gitdir", r->commondir, id);
	char *gitdir = read_file_trimmed(file);
	char *want = xstrfmt("%s/.git", path);
	char *a = NULL, *b = NULL;
	int ret = 0;

	if (gitdir) {
		a = ws_normalise_path(gitdir);
		b = ws_normalise_path(want);
		ret = !strcmp(a, b);
	}
	free(a);
	free(b);
	free(want);
	free(gitdir);
	free(file);
	return ret;
}

enum ws_worktree_state ws_worktree_status(const struct ws_repo *r,
					  const char *path,
					  struct ws_worktree_status_opts *opts)
{
	struct ws_worktree_status_opts none = WS_WORKTREE_STATUS_OPTS_INIT;
	char *admin = ws_unfinished_worktree_admin(r, path);
	long n;

	if (!opts)
		opts = &none;
	opts->nr_changes = -1;
	if (admin) {
		free(admin);
		return WS_WT_HALF_MADE;
	}
	if (!path_exists(path))
		return WS_WT_MISSING;
	n = ws_worktree_changes(path, opts->paths, opts->max_paths);
	opts->nr_changes = n;
	if (n && opts->removing_admin &&
	    admin_is_of(r, opts->removing_admin, path))
		return WS_WT_HALF_REMOVED;
	if (n < 0)
		return WS_WT_BROKEN;
	return n ? WS_WT_DIRTY : WS_WT_CLEAN;
}

void ws_git_in(struct child_process *cp, const char *dir)
{
	cp->git_cmd = 1;
	cp->dir = dir;
	strvec_pushv(&cp->env, (const char *[]){ "GIT_DIR", "GIT_WORK_TREE",
						"GIT_INDEX_FILE", "GIT_COMMON_DIR",
						NULL });
}

/*
 * Run cp and split its NUL-separated stdout into `out`, skipping `skip`
 * bytes of each record (git status's "XY "). On failure prints
 * "<what>: <git's stderr>" and returns -1.
 */
static int capture_z(struct child_process *cp, size_t skip,
		     struct strvec *out, const char *what)
{
	struct strbuf buf = STRBUF_INIT, err = STRBUF_INIT;
	size_t pos = 0;
	int ret = 0;

	if (capture_command(cp, &buf, &err)) {
		strbuf_rtrim(&err);
		ret = error("%s%s%s", what, err.len ? ": " : "", err.buf);
	}
	while (!ret && pos < buf.len) {
		const char *rec = buf.buf + pos;
		size_t n = strlen(rec);

		if (n > skip)
			strvec_push(out, rec + skip);
		pos += n + 1;
	}
	strbuf_release(&buf);
	strbuf_release(&err);
	return ret;
}

int ws_worktree_changed_paths(const char *path, struct strvec *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *what = xstrfmt("cannot read the status of '%s'", path);
	int ret;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){
		"status", "--porcelain", "-z", "--untracked-files=all",
		"--no-renames", "--ignore-submodules=none", NULL });
	ret = capture_z(&cp, 3, out, what);
	if (!ret)
		strvec_sort_unique(out);
	free(what);
	return ret;
}

int ws_worktree_staged_changes(const char *wt, const char *commit,
			       struct strvec *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	char *what = xstrfmt("cannot compare the index of '%s' with %.7s", wt,
			     commit);
	int ret;

	ws_git_in(&cp, wt);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "diff-index", "--cached",
		     "--name-only", "--no-renames", "-z", commit, "--", NULL });
	ret = capture_z(&cp, 0, out, what);
	free(what);
	return ret;
}
char *ws_unfinished_worktree_admin(const struct ws_repo *r, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *name = base, *slash;
	char *parent = base > path ? xstrndup(path, base - 1 - path) : xstrdup(".");
	char *real = realpath(parent, NULL);
	char *dotgit = xstrfmt("%s/.git", path);
	char *line = read_file_trimmed(dotgit);
	char *admin, *lock, *gitdir_file, *gitdir, *want = NULL;
	int ours;

	if (line && !strncmp(line, "gitdir: ", 8) &&
	    (slash = strrchr(line, '/')) && slash[1] &&
	    strcmp(slash + 1, ".") && strcmp(slash + 1, ".."))
		name = slash + 1;
	admin = xstrfmt("%s/worktrees/%s", r->commondir, name);
	lock = xstrfmt("%s/locked", admin);
	gitdir_file = xstrfmt("%s/gitdir", admin);
	gitdir = read_file_trimmed(gitdir_file);
	if (real)
		want = xstrfmt("%s/%s/.git", real, base);
	ours = path_exists(lock) &&
	       (!gitdir || !*gitdir || !strcmp(gitdir, dotgit) ||
		(want && !strcmp(gitdir, want)));
	free(parent);
	free(real);
	free(dotgit);
	free(line);
	free(lock);
	free(gitdir_file);
	free(gitdir);
	free(want);
	if (!ours)
		FREE_AND_NULL(admin);
	return admin;
}
