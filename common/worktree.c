#include "compat.h"
#include "worktree.h"
#include "submodule.h"
#include "ws.h"
#include "recover.h"
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

/*
 * 1 when status entry `e` is a file that a sparse checkout leaves out:
 * missing from the worktree, and skip-worktree in the index. git status
 * does not report those; libgit2's status does not know the bit and
 * calls them deleted.
 */
static int left_out_by_sparse(git_index *index, const git_status_entry *e)
{
	const git_index_entry *ie;

	if (!index || e->status != GIT_STATUS_WT_DELETED || !e->index_to_workdir)
		return 0;
	ie = git_index_get_bypath(index, e->index_to_workdir->old_file.path, 0);
	return ie && (ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
}

long ws_worktree_changes(const char *path, struct strvec *paths, size_t max)
{
	git_repository *wt = NULL;
	git_status_list *list = NULL;
	git_index *index = NULL;
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	long ret = -1, changes = 0;
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
	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir :
					  e->head_to_index;

		if (e->status == GIT_STATUS_WT_DELETED && !index &&
		    git_repository_index(&index, wt) < 0)
			goto cleanup;
		if (left_out_by_sparse(index, e))
			continue;
		if (paths && (size_t)changes < max && d)
			strvec_push(paths, d->new_file.path ? d->new_file.path :
					   d->old_file.path);
		changes++;
	}
	ret = changes;
cleanup:
	git_index_free(index);
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
	strvec_pushv(&cp->env, (const char **)ws_local_git_env);
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

int ws_worktree_holds_only_git_file(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int only = !!d;

	while (only && (e = readdir(d))) {
		struct stat st;
		char *path;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = xstrfmt("%s/%s", dir, e->d_name);
		only = !strcmp(e->d_name, ".git") && !lstat(path, &st) &&
		       S_ISREG(st.st_mode);
		free(path);
	}
	if (d)
		closedir(d);
	return only;
}

/*
 * The first `.git` below the top of the directory tree at `path` (a
 * repository or a submodule of its own, which is never ours to delete):
 * returns 1 with `path` naming it, 0 when there is none, -1 with `path`
 * naming a directory that cannot be read. The top's own .git is skipped.
 */
static int find_nested_git(struct strbuf *path, int top)
{
	DIR *dh = opendir(path->buf);
	struct dirent *de;
	size_t len = path->len;
	int ret = 0;

	if (!dh)
		return errno == ENOENT ? 0 : -1;
	while (!ret && (de = readdir(dh))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_setlen(path, len);
		strbuf_addf(path, "/%s", de->d_name);
		if (!strcmp(de->d_name, ".git")) {
			if (!top)
				ret = 1;
			continue;
		}
		if (!lstat(path->buf, &st) && S_ISDIR(st.st_mode))
			ret = find_nested_git(path, 0);
	}
	closedir(dh);
	if (!ret)
		strbuf_setlen(path, len);
	return ret;
}

/* A repository inside the half-removed worktree at `wt`: 1 (why in msg), or 0. */
static int has_nested_repository(const char *wt, struct strbuf *msg)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int nested;

	strbuf_addf(&path, "%s/.git", wt);
	if (!lstat(path.buf, &st) && !S_ISREG(st.st_mode)) {
		nested = 1;
	} else {
		strbuf_reset(&path);
		strbuf_addstr(&path, wt);
		nested = find_nested_git(&path, 1);
	}
	if (nested)
		strbuf_addf(msg, nested > 0 ?
			    "worktree '%s', which git ws-clean was removing, has a repository of its own at '%s'" :
			    "worktree '%s', which git ws-clean was removing, has '%s', which cannot be read",
			    wt, path.buf);
	strbuf_release(&path);
	return !!nested;
}

/* The first status entry that is not a deletion, described in msg. */
static int changed_since(const char *wt, git_status_list *list,
			 const char *head, struct strbuf *msg)
{
	size_t i, n = git_status_list_entrycount(list);

	for (i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->index_to_workdir ?
			e->index_to_workdir : e->head_to_index;
		const char *file = d && d->new_file.path ? d->new_file.path : "?";

		/* deleted: what git worktree remove was doing */
		if (!(e->status & ~(GIT_STATUS_WT_DELETED | GIT_STATUS_INDEX_DELETED)))
			continue;
		if (e->status & GIT_STATUS_WT_NEW)
			strbuf_addf(msg, "worktree '%s', which git ws-clean was removing, has an untracked file '%s'",
				    wt, file);
		else
			strbuf_addf(msg, "worktree '%s', which git ws-clean was removing, has '%s' changed since %.7s",
				    wt, file, head);
		return 1;
	}
	return 0;
}

enum ws_half_removed ws_worktree_check_half_removed(const char *path,
						    const char *admin_dir,
						    const char *head,
						    struct strbuf *msg)
{
	git_repository *wt = NULL;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_status_list *list = NULL;
	git_status_options opts = GIT_STATUS_OPTIONS_INIT;
	enum ws_half_removed ret = WS_HALF_REMOVED_NESTED;
	git_oid oid;

	if (has_nested_repository(path, msg))
		goto cleanup;
	ret = WS_HALF_REMOVED_DIRTY;
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		     GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	/* through the admin directory: the .git file may be gone */
	if (!head || strlen(head) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(&oid, head) < 0 ||
	    git_repository_open_ext(&wt, admin_dir,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    git_commit_lookup(&commit, wt, &oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0 ||
	    (opts.baseline = tree, git_status_list_new(&list, wt, &opts) < 0)) {
		strbuf_addf(msg, "cannot read the status of worktree '%s', which git ws-clean was removing",
			    path);
		goto cleanup;
	}
	if (!changed_since(path, list, head, msg))
		ret = WS_HALF_REMOVED_OK;
cleanup:
	git_status_list_free(list);
	git_tree_free(tree);
	git_commit_free(commit);
	git_repository_free(wt);
	return ret;
}

/* --- changing worktrees ----------------------------------------------- */

int ws_run_to_the_end(struct child_process *cp, int hold_fd)
{
	cp->new_pgrp = 1;
	cp->hold_fd = hold_fd;
	return run_command(cp);
}

/* cp set up for `git --git-dir=<common dir> worktree <sub>`. */
static void worktree_cmd(struct child_process *cp, const struct ws_repo *r,
			 const char *sub)
{
	cp->git_cmd = 1;
	cp->no_stdin = 1;
	strvec_pushf(&cp->args, "--git-dir=%s", r->commondir);
	strvec_pushv(&cp->args, (const char *[]){ "worktree", sub, NULL });
}

int ws_worktree_add(const struct ws_repo *r, const struct ws_worktree_add *add)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	worktree_cmd(&cp, r, "add");
	strvec_push(&cp.args, "--quiet");
	if (add->no_checkout)
		strvec_push(&cp.args, "--no-checkout");
	if (add->new_branch)
		strvec_pushv(&cp.args, (const char *[]){ "--no-track", "-b",
			     add->new_branch, NULL });
	else if (!add->branch)
		strvec_push(&cp.args, "--detach");
	strvec_push(&cp.args, add->path);
	if (add->branch)
		strvec_push(&cp.args, add->branch);
	else if (add->commit)
		strvec_push(&cp.args, add->commit);
	return ws_run_to_the_end(&cp, add->hold_fd);
}

int ws_worktree_sparse_set(const char *path, const struct strvec *dirs)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "sparse-checkout", "set",
		     "--cone", "--", NULL });
	strvec_pushv(&cp.args, (const char **)dirs->v);
	if (run_command(&cp))
		return error("cannot make '%s' a sparse checkout", path);
	return 0;
}

/* `git config <args>` in the worktree at `path`; 0 or -1. */
static int config_in(const char *path, const char **args)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	strvec_push(&cp.args, "config");
	strvec_pushv(&cp.args, args);
	return run_command(&cp) ? -1 : 0;
}

int ws_worktree_lfs_skip(const char *path)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "config", "--type=bool",
		     "--get", "extensions.worktreeConfig", NULL });
	capture_command(&cp, &out, NULL);
	if ((strcmp(out.buf, "true\n") &&
	     config_in(path, (const char *[]){ "extensions.worktreeConfig",
			"true", NULL }) < 0) ||
	    config_in(path, (const char *[]){ "--worktree", "filter.lfs.process",
			"git-lfs filter-process --skip", NULL }) < 0 ||
	    config_in(path, (const char *[]){ "--worktree", "filter.lfs.smudge",
			"git-lfs smudge --skip -- %f", NULL }) < 0) {
		strbuf_release(&out);
		return error("cannot make Git LFS leave pointer files in '%s'", path);
	}
	strbuf_release(&out);
	return 0;
}

int ws_worktree_lfs_unskip(const char *path)
{
	static const char *const keys[] = { "filter.lfs.process", "filter.lfs.smudge" };
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	size_t i;
	int skipped;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	/*
	 * Fails, saying so on stderr, where extensions.worktreeConfig is off:
	 * then nothing was ever skipped here.
	 */
	strvec_pushv(&cp.args, (const char *[]){ "config", "--worktree",
		     "--get", "filter.lfs.smudge", NULL });
	capture_command(&cp, &out, &err);
	skipped = strstr(out.buf, "--skip") != NULL;
	strbuf_release(&out);
	strbuf_release(&err);
	if (!skipped)
		return 0;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		int code;

		strvec_pushv(&cp.args, (const char *[]){ "config", "--worktree",
			     "--unset-all", keys[i], NULL });
		ws_git_in(&cp, path);
		cp.no_stdin = 1;
		code = run_command(&cp);
		/* exit 5: the key is not set, which is what we want */
		if (code && code != 5)
			return error("cannot make Git LFS write the files of '%s' again",
				     path);
	}
	return 1;
}

int ws_worktree_lfs_fill(const char *path)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	cp.no_stdout = 1;
	strvec_pushv(&cp.args, (const char *[]){ "lfs", "checkout", NULL });
	return run_command(&cp) ? error("cannot replace the LFS pointer files in '%s'", path) : 0;
}

/* 1 when the worktree at `dir` is sparse in cone mode (git's default). */
static int sparse_is_cone(const char *dir)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	int cone;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	strvec_pushv(&cp.args, (const char *[]){ "config", "--type=bool",
		     "--get", "core.sparseCheckoutCone", NULL });
	capture_command(&cp, &out, NULL);
	cone = strcmp(out.buf, "false\n") != 0;
	strbuf_release(&out);
	return cone;
}

/* `git sparse-checkout list` in `dir` into `out`: 0, or -1 when not sparse. */
static int sparse_list(const char *dir, struct strvec *out)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf list = STRBUF_INIT;
	char *line, *next;
	int ret;

	ws_git_in(&cp, dir);
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_pushv(&cp.args, (const char *[]){ "sparse-checkout", "list", NULL });
	ret = capture_command(&cp, &list, NULL) ? -1 : 0;
	for (line = list.buf; !ret && *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		if (*line)
			strvec_push(out, line);
	}
	strbuf_release(&list);
	return ret;
}

int ws_worktree_sparse_like(const struct ws_repo *r, const char *path,
			    const struct strvec *dirs)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strvec main_patterns = STRVEC_INIT, mine = STRVEC_INIT;
	int ret = 0;

	if (dirs && dirs->nr)
		return ws_worktree_sparse_set(path, dirs);
	ws_git_in(&cp, path);
	cp.no_stdin = 1;
	if (r->main_worktree && !sparse_list(r->main_worktree, &main_patterns)) {
		strvec_pushv(&cp.args, (const char *[]){ "sparse-checkout", "set",
			     sparse_is_cone(r->main_worktree) ? "--cone" : "--no-cone",
			     "--", NULL });
		strvec_pushv(&cp.args, (const char **)main_patterns.v);
	} else if (!sparse_list(path, &mine)) {
		strvec_pushv(&cp.args, (const char *[]){ "sparse-checkout",
			     "disable", NULL });
	}
	if (cp.args.nr && run_command(&cp))
		ret = error("cannot make '%s' as sparse as the main worktree", path);
	child_process_clear(&cp);
	strvec_clear(&main_patterns);
	strvec_clear(&mine);
	return ret;
}

/* Wait for one population child to end, and record how it did. */
static void populate_reap_one(struct ws_populate *pop)
{
	int status;
	pid_t pid;
	size_t i;

	while ((pid = waitpid(-1, &status, 0)) < 0)
		if (errno != EINTR)
			die_errno("waitpid");
	for (i = 0; i < pop->nr; i++) {
		if (!pop->cps[i].pid || pop->cps[i].pid != pid)
			continue;
		pop->cps[i].pid = 0;
		pop->running--;
		child_process_clear(&pop->cps[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			pop->ret = -1;
			pop->failed[i] = 1;
		}
	}
}

void ws_populate_add(struct ws_populate *pop, const char *path)
{
	struct child_process *cp;

	if (!pop->jobs) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		pop->jobs = ncpu > 1 ? (size_t)ncpu : 2;
	}
	while (pop->running >= pop->jobs)
		populate_reap_one(pop);
	ALLOC_GROW(pop->cps, pop->nr + 1, pop->alloc);
	pop->failed = xrealloc(pop->failed, pop->alloc * sizeof(*pop->failed));
	pop->failed[pop->nr] = 0;
	cp = &pop->cps[pop->nr++];
	*cp = (struct child_process)CHILD_PROCESS_INIT;
	cp->git_cmd = 1;
	cp->no_stdin = 1;
	cp->dir = path;
	strvec_pushv(&cp->args, (const char *[]){
		"reset", "--quiet", "--hard", NULL });
	if (start_command(cp) < 0) {
		cp->pid = 0;
		pop->ret = -1;
		pop->failed[pop->nr - 1] = 1;
	} else {
		pop->running++;
	}
}

int ws_populate_finish(struct ws_populate *pop)
{
	while (pop->running)
		populate_reap_one(pop);
	return pop->ret;
}

void ws_populate_release(struct ws_populate *pop)
{
	ws_populate_finish(pop);
	free(pop->cps);
	free(pop->failed);
	memset(pop, 0, sizeof(*pop));
}

int ws_worktrees_populate(const char *const *paths, size_t nr, int *failed)
{
	struct ws_populate pop = WS_POPULATE_INIT;
	size_t i;
	int ret;

	for (i = 0; i < nr; i++)
		ws_populate_add(&pop, paths[i]);
	ret = ws_populate_finish(&pop);
	for (i = 0; failed && i < nr; i++)
		failed[i] = pop.failed[i];
	ws_populate_release(&pop);
	return ret;
}

void ws_worktree_post_checkout(const char *path, const char *new_hex)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.dir = path;
	strvec_pushv(&cp.args, (const char *[]){ "hook", "run",
		     "--ignore-missing", "post-checkout", "--",
		     "0000000000000000000000000000000000000000", new_hex, "1",
		     NULL });
	if (run_command(&cp))
		warning("the post-checkout hook failed in '%s'", path);
}

int ws_worktree_may_have_hook(const struct ws_repo *r, const char *path,
			      const char *name)
{
	char *hp = ws_config_get(r, "core.hookspath");
	char *file;
	int ret;

	if (hp && *hp == '~') {
		free(hp);
		return 1;
	}
	if (hp && *hp == '/')
		file = xstrfmt("%s/%s", hp, name);
	else if (hp && *hp)
		file = xstrfmt("%s/%s/%s", path, hp, name);
	else
		file = xstrfmt("%s/hooks/%s", r->commondir, name);
	ret = !access(file, F_OK);
	free(file);
	free(hp);
	return ret;
}

enum ws_worktree_removed ws_worktree_remove(const struct ws_repo *r,
					    const char *path, int force,
					    int hold_fd, struct strbuf *err)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, errbuf = STRBUF_INIT;
	struct ws_worktree **list = ws_worktrees_get(r);
	struct ws_worktree *wt = ws_worktree_find_path(list, path);
	enum ws_worktree_removed ret = WS_WT_REMOVED;
	int i;

	if (wt && ws_submodules_remove(r, path, wt->admin_dir, force,
				       err ? err : &errbuf) < 0) {
		ws_worktrees_free(list);
		strbuf_release(&errbuf);
		return WS_WT_REMOVE_FAILED;
	}
	worktree_cmd(&cp, r, "remove");
	for (i = 0; i < force; i++)
		strvec_push(&cp.args, "--force");
	strvec_push(&cp.args, path);
	/* a group of its own: git finishes deleting, whoever kills us */
	cp.new_pgrp = 1;
	cp.hold_fd = hold_fd;
	if (capture_command(&cp, &out, &errbuf)) {
		strbuf_trim(&errbuf);
		if (err)
			strbuf_addbuf(err, &errbuf);
		ret = WS_WT_REMOVE_FAILED;
	} else if (path_exists(path) || (wt && path_exists(wt->admin_dir))) {
		ret = WS_WT_STILL_THERE;
	}
	ws_worktrees_free(list);
	strbuf_release(&out);
	strbuf_release(&errbuf);
	return ret;
}

int ws_worktree_prune(const struct ws_repo *r, int hold_fd)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	worktree_cmd(&cp, r, "prune");
	return ws_run_to_the_end(&cp, hold_fd);
}

int ws_worktree_repair(const struct ws_repo *r, const char *path, int hold_fd)
{
	struct child_process cp = CHILD_PROCESS_INIT;

	worktree_cmd(&cp, r, "repair");
	strvec_push(&cp.args, path);
	return ws_run_to_the_end(&cp, hold_fd);
}

int ws_worktree_recreate(const struct ws_repo *r, const char *path,
			 const char *branch, int hold_fd)
{
	struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;

	if (path_exists(path))
		return error("cannot make worktree '%s' again: it exists", path);
	if (ws_worktree_prune(r, hold_fd))
		return error("cannot prune the worktree '%s' that was removed by hand",
			     path);
	add.path = path;
	add.branch = branch;
	add.hold_fd = hold_fd;
	if (ws_worktree_add(r, &add))
		return error("cannot make worktree '%s' again on branch '%s'",
			     path, branch);
	return 0;
}

int ws_worktree_remove_files(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char *path;
	int ret = 0;

	if (!dh)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'", dir);
	while (!ret && (de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".git"))
			continue;
		path = xstrfmt("%s/%s", dir, de->d_name);
		if (remove_dir_recursively(path) < 0)
			ret = error_errno("cannot remove '%s'", path);
		free(path);
	}
	closedir(dh);
	path = xstrfmt("%s/.git", dir);
	if (!ret && unlink(path) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", path);
	free(path);
	if (!ret && rmdir(dir) < 0 && errno != ENOENT)
		ret = error_errno("cannot remove '%s'", dir);
	return ret;
}

int ws_worktree_remove_admin(const struct ws_repo *r, const char *admin_dir)
{
	char *top;

	if (remove_dir_recursively(admin_dir) < 0)
		return -1;
	/* and <common dir>/worktrees, once empty, as git does */
	top = xstrfmt("%s/worktrees", r->commondir);
	rmdir(top);
	free(top);
	return 0;
}

int ws_branch_delete_if_at(const struct ws_repo *r, const char *branch,
			   const char *expect_hex)
{
	git_reference *ref = NULL;
	char *name = xstrfmt("refs/heads/%s", branch);
	char hex[GIT_OID_HEXSZ + 1];
	int ret = 0;

	if (git_reference_lookup(&ref, r->repo, name) < 0)
		goto cleanup; /* absent */
	if (!git_reference_target(ref) ||
	    strcmp(ws_oid_hex(git_reference_target(ref), hex), expect_hex))
		ret = error("branch '%s' has moved since git ws-alloc made it; leaving it alone",
			    branch);
	else if (git_reference_delete(ref) < 0)
		ret = error_git("cannot delete branch '%s'", branch);
cleanup:
	git_reference_free(ref);
	free(name);
	return ret;
}

int ws_worktree_drop_unfinished(const struct ws_repo *r, const char *path,
				char **admin)
{
	*admin = ws_unfinished_worktree_admin(r, path);
	if (!*admin)
		return 0;
	if (remove_dir_recursively(*admin) < 0)
		return -1;
	FREE_AND_NULL(*admin);
	return 0;
}

int ws_worktree_undo_add(const struct ws_repo *r, const char *path,
			 const char *branch, const char *base_hex, int hold_fd)
{
	if (path && path_exists(path)) {
		/* --force twice: also one a killed add left locked */
		ws_worktree_remove(r, path, 2, hold_fd, NULL);
		if (!path_exists(path))
			ws_worktree_prune(r, hold_fd);
		else if (!ws_worktree_holds_only_git_file(path) ||
			 remove_dir_recursively(path) < 0)
			return -1;
	}
	if (branch && base_hex && ws_branch_delete_if_at(r, branch, base_hex) < 0)
		return -2;
	return 0;
}

/* --- repairs for recover.h -------------------------------------------- */

int ws_worktree_recover_allocate(struct ws_recover *rc,
				 const struct ws_intent *in)
{
	int r;

	if (rc->dry_run) {
		warning("would undo the interrupted allocation of '%s'", in->id);
		ws_state_remove(rc->st, in->id);
		return 1;
	}
	if (in->role && !strcmp(in->role, WS_ALLOCATING_OWNER)) {
		r = ws_worktree_undo_add(rc->repo, in->worktree, in->branch,
					 in->base_oid, rc->hold_fd);
		if (r == -1)
			return error("'%s' was left half-made by an interrupted git ws-alloc and is not a worktree git knows; remove it by hand",
				     in->worktree);
		if (r < 0)
			return error("cannot undo the interrupted allocation of '%s'",
				     in->id);
	}
	warning("undid the interrupted allocation of '%s'", in->id);
	ws_state_remove(rc->st, in->id);
	return 1;
}

/* `git worktree remove` of what a recorded removal left; 1 when gone. */
static int finish_removal(struct ws_recover *rc, const struct ws_intent *in,
			  const struct ws_worktree *wt)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 1;

	fprintf(stderr, "%s: %s what is left of worktree '%s' (an interrupted git ws-clean was removing it)\n",
		in->id, rc->dry_run ? "would remove" : "removing", in->worktree);
	if (rc->dry_run)
		return 0;
	if (ws_worktree_remove_files(in->worktree) < 0)
		return error("cannot remove worktree '%s'", in->worktree);
	if (!wt->path)
		ret = ws_worktree_remove_admin(rc->repo, wt->admin_dir) < 0 ?
			error_errno("cannot prune worktree '%s': cannot remove '%s'",
				    in->worktree, wt->admin_dir) : 1;
	else if (ws_worktree_remove(rc->repo, wt->path, 0, rc->hold_fd, &err))
		ret = error("cannot prune worktree '%s': %s", in->worktree,
			    err.len ? err.buf : "it is still there");
	strbuf_release(&err);
	return ret;
}

int ws_worktree_recover_remove(struct ws_recover *rc,
			       const struct ws_intent *in)
{
	struct ws_worktree_status_opts opts = WS_WORKTREE_STATUS_OPTS_INIT;
	struct ws_worktree **list;
	struct ws_worktree *wt;
	struct strbuf msg = STRBUF_INIT;
	int ret = 0;

	if (!in->worktree || !in->admin)
		return 0;
	list = ws_worktrees_get(rc->repo);
	wt = ws_worktree_find_id(list, in->admin);
	if (!wt) {
		/* git got to the end; a directory left is not known to git */
		ret = !path_exists(in->worktree);
		goto cleanup;
	}
	opts.removing_admin = in->admin;
	if (path_exists(in->worktree) &&
	    ws_worktree_status(rc->repo, in->worktree, &opts) != WS_WT_HALF_REMOVED)
		goto cleanup; /* whole: git ws-clean checks it again */
	if (path_exists(in->worktree) &&
	    ws_worktree_check_half_removed(in->worktree, wt->admin_dir, in->head,
					   &msg) != WS_HALF_REMOVED_OK) {
		warning("%s; leaving it to 'git ws-clean'", msg.buf);
		goto cleanup;
	}
	ret = finish_removal(rc, in, wt);
cleanup:
	strbuf_release(&msg);
	ws_worktrees_free(list);
	return ret;
}
