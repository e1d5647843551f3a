#include "compat.h"
#include "archive.h"
#include "cfgfile.h"
#include "lockfile.h"
#include "plan.h"
#include "run.h"
#include "worktree.h"
#include "usage.h"
#include "wrapper.h"
#include <dirent.h>

/* The ws/ subdirectories that hold per-workstream records. */
static const char *const record_dirs[] = { "logs", "coordination", "reports" };

char *ws_archive_dir(const struct ws_repo *r, const char *plan_name)
{
	if (!plan_name || !plan_id_is_valid(plan_name))
		plan_name = "plan";
	return ws_path(r, "archive/%s", plan_name);
}

/* "ID" or "ID.<anything>" */
static int name_is_of(const char *name, const char *id)
{
	size_t n = strlen(id);

	return !strncmp(name, id, n) && (!name[n] || name[n] == '.');
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Whether ws/<dir>/<name> is a record of `id` (the rule in archive.h). */
static int is_record_of(const struct ws_state *st, const char *name,
			const char *id)
{
	size_t i, n = strlen(id);

	if (*name == '.' || ends_with(name, ".lock") || !name_is_of(name, id))
		return 0;
	for (i = 0; i < st->state.nr; i++) {
		const char *other = st->state.sections[i].sub;

		if (other && strlen(other) > n && name_is_of(name, other))
			return 0;
	}
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ws_records_list(const struct ws_repo *r, const struct ws_state *st,
		     const char *id, struct strvec *out)
{
	size_t d;

	for (d = 0; d < ARRAY_SIZE(record_dirs); d++) {
		char *dir = ws_path(r, "%s", record_dirs[d]);
		DIR *dh = opendir(dir);
		struct dirent *de;
		char **names = NULL;
		size_t nr = 0, alloc = 0, i;

		free(dir);
		if (!dh)
			continue;
		while ((de = readdir(dh))) {
			if (!is_record_of(st, de->d_name, id))
				continue;
			ALLOC_GROW(names, nr + 1, alloc);
			names[nr++] = xstrdup(de->d_name);
		}
		closedir(dh);
		if (nr)
			qsort(names, nr, sizeof(*names), cmp_str);
		for (i = 0; i < nr; i++) {
			strvec_pushf(out, "%s/%s", record_dirs[d], names[i]);
			free(names[i]);
		}
		free(names);
	}
}

/* Copy the file `src` to a new file `dst` (O_EXCL); 0, or -1 with errno. */
static int copy_new_file(const char *src, const char *dst)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, ret = -1, saved;

	if (read_file(src, &buf, &len) < 0)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		goto out;
	if (write_in_full(fd, buf, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(dst);
		errno = saved;
		goto out;
	}
	ret = close(fd);
out:
	saved = errno;
	free(buf);
	errno = saved;
	return ret;
}

/*
 * Make `dst` (or the first free "dst.N") a new name of `src`, never
 * replacing an existing file: link(2), or a copy where the file system
 * has no hard links. The name used goes to *final. 0, or -1 with errno.
 */
static int link_unique(const char *src, const char *dst, struct strbuf *final)
{
	unsigned n;

	for (n = 0; n < 10000; n++) {
		strbuf_reset(final);
		strbuf_addstr(final, dst);
		if (n)
			strbuf_addf(final, ".%u", n);
		if (!link(src, final->buf))
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != EXDEV && errno != ENOSYS &&
		    errno != EMLINK && errno != ENOTSUP)
			return -1;
		if (!copy_new_file(src, final->buf))
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Move ws/<rel> to <archive>/<rel>; the new path is appended to moved. */
static int archive_one(const struct ws_repo *r, const char *archive,
		       const char *rel, struct strvec *moved)
{
	char *src = ws_path(r, "%s", rel);
	char *dst = xstrfmt("%s/%s", archive, rel);
	char *slash = strrchr(dst, '/');
	struct strbuf final = STRBUF_INIT;
	int ret = 0;

	*slash = '\0';
	if (mkdir_p(dst) < 0) {
		ret = error_errno("cannot create '%s'", dst);
		goto out;
	}
	*slash = '/';
	if (link_unique(src, dst, &final) < 0) {
		ret = error_errno("cannot archive '%s' as '%s'", src, dst);
		goto out;
	}
	if (unlink(src) < 0 && errno != ENOENT) {
		ret = error_errno("cannot remove '%s' (archived as '%s')",
				  src, final.buf);
		goto out;
	}
	fsync_parent_dir(final.buf);
	if (moved)
		strvec_push(moved, final.buf);
out:
	strbuf_release(&final);
	free(src);
	free(dst);
	return ret;
}

static int same_section(const struct cfg_section *a, const struct cfg_section *b)
{
	size_t i;

	if (a->nr != b->nr)
		return 0;
	for (i = 0; i < a->nr; i++)
		if (strcmp(a->entries[i].key, b->entries[i].key) ||
		    strcmp(a->entries[i].value, b->entries[i].value))
			return 0;
	return 1;
}

/*
 * Put a copy of section `s` into `arch`: nothing to do when an identical
 * copy is there; an older copy from the same allocation (same `created`)
 * that is not yet `cleaned` is replaced; anything else is kept, and the
 * copy appended. (A cleaned workstream never changes again, so a record
 * that differs from a cleaned copy is a new allocation of the same id,
 * even within the same second.)
 */
static void put_section(struct cfg_file *arch, const struct cfg_section *s)
{
	const char *created = cfg_get(s, WS_KEY_CREATED);
	struct cfg_section *n;
	size_t i;

	for (i = 0; i < arch->nr; i++) {
		const struct cfg_section *t = &arch->sections[i];
		const char *tc;
		enum ws_status ts;

		if (strcmp(t->name, "workstream") || !t->sub || strcmp(t->sub, s->sub))
			continue;
		if (same_section(t, s))
			return;
		tc = cfg_get(t, WS_KEY_CREATED);
		if (ws_status_parse(cfg_get(t, WS_KEY_STATUS), &ts) < 0)
			ts = WS_STATUS_NONE;
		if (((!created && !tc) || (created && tc && !strcmp(created, tc))) &&
		    ts != WS_STATUS_CLEANED) {
			cfg_section_remove(arch, i);
			break;
		}
	}
	n = cfg_section_add(arch, "workstream", s->sub);
	for (i = 0; i < s->nr; i++)
		cfg_add(n, s->entries[i].key, s->entries[i].value);
}

/*
 * Copy the sections of `st` for `id` (or every section, when id is NULL)
 * into <archive>/state.
 */
static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Copy the workstream sections of ids[0..nr) (all of them when ids is
 * NULL) into <archive>/state, in one write.
 */
static int archive_sections(const struct ws_state *st, const char *archive,
			    const char *const *ids, size_t nr)
{
	struct cfg_file arch = CFG_FILE_INIT;
	struct strbuf err = STRBUF_INIT;
	char *path = xstrfmt("%s/state", archive);
	const char **sorted = NULL;
	size_t i;
	int ret = 0;

	if (mkdir_p(archive) < 0) {
		ret = error_errno("cannot create '%s'", archive);
		goto out;
	}
	if (cfg_parse_file(&arch, path, CFG_MISSING_OK, &err) < 0) {
		ret = error("%s", err.buf);
		goto out;
	}
	if (ids) {
		sorted = xcalloc(nr + 1, sizeof(*sorted));
		memcpy(sorted, ids, nr * sizeof(*sorted));
		qsort(sorted, nr, sizeof(*sorted), cmp_id);
	}
	for (i = 0; i < st->state.nr; i++) {
		const struct cfg_section *s = &st->state.sections[i];

		if (!s->sub || strcmp(s->name, "workstream") ||
		    (sorted && !bsearch(&s->sub, sorted, nr, sizeof(*sorted), cmp_id)))
			continue;
		put_section(&arch, s);
	}
	/* we hold the state lock, so a leftover state.lock is stale */
	if (cfg_write_file(&arch, path, LOCK_BREAK_STALE) < 0)
		ret = error_errno("cannot write '%s'", path);
out:
	cfg_file_release(&arch);
	strbuf_release(&err);
	free(sorted);
	free(path);
	return ret;
}

int ws_archive_states(const struct ws_repo *r, const struct ws_state *st,
		      const char *plan_name, const char *const *ids, size_t nr)
{
	char *archive = ws_archive_dir(r, plan_name);
	int ret;

	if (st->lock_fd < 0)
		BUG("ws_archive_states() without the state lock");
	ret = nr ? archive_sections(st, archive, ids, nr) : 0;
	free(archive);
	return ret;
}

/*
 * Remove the runners' directories of `id`, runner/<id>.<what>/ (runner.h):
 * what they hold (a job id, a process group, a wrapper's exit status)
 * serves only while a command runs, which it no longer does.
 */
static void remove_runner_dirs(const struct ws_repo *r,
			       const struct ws_state *st, const char *id)
{
	char *dir = ws_path(r, "runner");
	DIR *dh = opendir(dir);
	struct dirent *de;
	struct strvec gone = STRVEC_INIT;
	size_t i;

	while (dh && (de = readdir(dh)))
		if (is_record_of(st, de->d_name, id) && strchr(de->d_name, '.'))
			strvec_pushf(&gone, "%s/%s", dir, de->d_name);
	if (dh)
		closedir(dh);
	for (i = 0; i < gone.nr; i++)
		if (remove_dir_recursively(gone.v[i]) < 0)
			warning("cannot remove '%s': %s", gone.v[i], strerror(errno));
	strvec_clear(&gone);
	free(dir);
}

int ws_archive_records(const struct ws_repo *r, const struct ws_state *st,
		       const char *plan_name, const char *id,
		       struct strvec *moved)
{
	char *archive = ws_archive_dir(r, plan_name);
	struct strvec records = STRVEC_INIT;
	size_t i;
	int ret = 0;

	if (st->lock_fd < 0)
		BUG("ws_archive_records() without the state lock");
	ws_records_list(r, st, id, &records);
	for (i = 0; i < records.nr; i++)
		if (archive_one(r, archive, records.v[i], moved) < 0)
			ret = -1;
	if (!ret)
		remove_runner_dirs(r, st, id);
	strvec_clear(&records);
	free(archive);
	return ret;
}

int ws_archive_workstream(const struct ws_repo *r, const struct ws_state *st,
			  const char *plan_name, const char *id,
			  struct strvec *moved)
{
	/* the state first: a record whose files moved is never unaccounted for */
	if (ws_archive_states(r, st, plan_name, &id, 1) < 0)
		return -1;
	return ws_archive_records(r, st, plan_name, id, moved);
}

int ws_archive_plan(const struct ws_repo *r, struct ws_state *st,
		    const char *plan_name)
{
	char *archive = ws_archive_dir(r, plan_name);
	char *plan = ws_path(r, "plan");
	char *dst = NULL;
	struct strbuf final = STRBUF_INIT;
	int ret = -1;

	if (st->lock_fd < 0)
		BUG("ws_archive_plan() without the state lock");
	if (archive_sections(st, archive, NULL, 0) < 0)
		goto out;

	/* snapshots by hard link: rewriting ws/queue below leaves them be */
	dst = xstrfmt("%s/plan", archive);
	if (path_exists(plan) && link_unique(plan, dst, &final) < 0) {
		error_errno("cannot archive '%s' as '%s'", plan, dst);
		goto out;
	}
	free(dst);
	dst = xstrfmt("%s/queue", archive);
	if (path_exists(st->queue_path) &&
	    link_unique(st->queue_path, dst, &final) < 0) {
		error_errno("cannot archive '%s' as '%s'", st->queue_path, dst);
		goto out;
	}

	while (st->state.nr)
		cfg_section_remove(&st->state, st->state.nr - 1);
	while (st->queue.nr)
		cfg_section_remove(&st->queue, st->queue.nr - 1);
	st->state_dirty = st->queue_dirty = 1;
	if (ws_state_write(st) < 0) {
		error_errno("cannot write '%s'", st->state_path);
		goto out;
	}
	if (unlink(plan) < 0 && errno != ENOENT) {
		error_errno("cannot remove '%s'", plan);
		goto out;
	}
	fsync_parent_dir(plan);
	ret = 0;
out:
	strbuf_release(&final);
	free(dst);
	free(plan);
	free(archive);
	return ret;
}

int ws_backup_branch(const struct ws_repo *r, const char *id,
		     const char *branch, const git_oid *tip)
{
	char *name = xstrfmt("refs/ws/backup/%s", id);
	char *msg = xstrfmt("ws-clean: backup of branch '%s' of workstream '%s'",
			    branch, id);
	git_reference *ref = NULL;
	int ret = 0;

	if (git_reference_ensure_log(r->repo, name) < 0 ||
	    git_reference_create(&ref, r->repo, name, tip, 1, msg) < 0)
		ret = error_git("cannot write '%s'", name);
	git_reference_free(ref);
	free(msg);
	free(name);
	return ret;
}

/* Remove [branch "<branch>"] from the repository's own config, if there. */
static void remove_branch_config(const struct ws_repo *r, const char *branch)
{
	git_config *cfg = NULL, *local = NULL;
	git_config_iterator *iter = NULL;
	git_config_entry *e;
	char *prefix = xstrfmt("branch.%s.", branch);
	size_t n = strlen(prefix);
	int found = 0;

	if (git_repository_config(&cfg, r->repo) < 0 ||
	    git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL) < 0 ||
	    git_config_iterator_new(&iter, local) < 0)
		goto cleanup;
	/* "branch." is matched case-insensitively, the name exactly */
	while (!found && !git_config_next(&e, iter))
		found = !strncasecmp(e->name, "branch.", 7) &&
			!strncmp(e->name + 7, prefix + 7, n - 7);
	if (found) {
		struct child_process cp = CHILD_PROCESS_INIT;

		cp.git_cmd = 1;
		cp.no_stdin = 1;
		cp.no_stderr = 1;
		strvec_pushv(&cp.args, (const char *[]){ "config", "--local",
					"--remove-section", NULL });
		strvec_pushf(&cp.args, "branch.%s", branch);
		if (run_command(&cp))
			warning("cannot remove the config of branch '%s'", branch);
	}
cleanup:
	git_config_iterator_free(iter);
	git_config_free(local);
	git_config_free(cfg);
	free(prefix);
}

int ws_branch_delete_saved(const struct ws_repo *r, const char *branch,
			   const git_oid *tip)
{
	char *name = xstrfmt("refs/heads/%s", branch);
	git_reference *ref = NULL;
	int ret = 0, err;

	err = git_reference_lookup(&ref, r->repo, name);
	if (err == GIT_ENOTFOUND)
		goto cleanup;
	if (err < 0) {
		ret = error_git("cannot read branch '%s'", branch);
		goto cleanup;
	}
	if (!git_reference_target(ref) ||
	    !git_oid_equal(git_reference_target(ref), tip))
		ret = error("branch '%s' moved while it was being cleaned; left alone",
			    branch);
	else if (git_reference_delete(ref) < 0)
		ret = error_git("cannot delete branch '%s'", branch);
	else
		remove_branch_config(r, branch);
cleanup:
	git_reference_free(ref);
	free(name);
	return ret;
}

static void consider(time_t t, const char *what, time_t *latest,
		     const char **latest_what)
{
	if (t > 0 && t > *latest) {
		*latest = t;
		*latest_what = what;
	}
}

/* The latest mtime of the uncommitted files in the worktree at `path`. */
static void consider_worktree(const char *path, time_t *latest,
			      const char **what)
{
	struct strvec changed = STRVEC_INIT;
	struct stat st;
	size_t i;

	ws_worktree_changes(path, &changed, (size_t)-1);
	for (i = 0; i < changed.nr; i++) {
		char *p = xstrfmt("%s/%s", path, changed.v[i]);

		if (!lstat(p, &st))
			consider(st.st_mtime, "worktree", latest, what);
		free(p);
	}
	strvec_clear(&changed);
}

time_t ws_last_activity(const struct ws_repo *r, const struct ws_state *st,
			const char *id, const char **what)
{
	static const char *const keys[] = { "created", "started", "finished" };
	const char *branch = ws_state_get(st, id, WS_KEY_BRANCH);
	const char *worktree = ws_state_get(st, id, WS_KEY_WORKTREE);
	struct strvec records = STRVEC_INIT;
	time_t latest = 0;
	struct stat sb;
	git_oid oid;
	size_t i;

	*what = "nothing";
	if (branch && !ws_branch_tip(r, branch, &oid)) {
		git_commit *commit = NULL;
		if (!git_commit_lookup(&commit, r->repo, &oid))
			consider(git_commit_time(commit), "commit", &latest, what);
		git_commit_free(commit);
	}
	ws_records_list(r, st, id, &records);
	for (i = 0; i < records.nr; i++) {
		char *p = ws_path(r, "%s", records.v[i]);
		if (!stat(p, &sb))
			consider(sb.st_mtime, "record", &latest, what);
		free(p);
	}
	strvec_clear(&records);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = ws_state_get(st, id, keys[i]);
		if (v)
			consider(iso8601_parse(v), "state", &latest, what);
	}
	if (worktree && path_exists(worktree))
		consider_worktree(worktree, &latest, what);
	return latest;
}
