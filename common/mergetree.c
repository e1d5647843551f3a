#include "compat.h"
#include "mergetree.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include <fnmatch.h>

/* One `<mode> <oid> <stage>\t<path>` entry of merge-tree's output. */
struct stage_entry {
	unsigned mode;
	git_oid oid;
	int stage;
	const char *path; /* points into the captured output */
};

int ws_merge_owns(const struct strvec *owns, const char *path)
{
	size_t i;

	if (!owns)
		return 0;
	for (i = 0; i < owns->nr; i++) {
		const char *pat = owns->v[i];
		size_t n = strlen(pat);

		while (n > 1 && pat[n - 1] == '/')
			n--;
		if (!fnmatch(pat, path, 0))
			return 1;
		if (!strncmp(pat, path, n) && path[n] == '/')
			return 1;
	}
	return 0;
}

/* The next NUL-terminated field of buf[*pos..len), or NULL at the end. */
static const char *next_field(const struct strbuf *buf, size_t *pos)
{
	const char *f;
	size_t n;

	if (*pos >= buf->len)
		return NULL;
	f = buf->buf + *pos;
	n = strnlen(f, buf->len - *pos);
	*pos += n + 1;
	return f;
}

static int parse_stage_entry(const char *f, struct stage_entry *e)
{
	char *end;
	const char *tab = strchr(f, '\t');

	if (!tab)
		return -1;
	e->mode = strtoul(f, &end, 8);
	if (*end != ' ' || git_oid_fromstrn(&e->oid, end + 1, GIT_OID_HEXSZ) < 0)
		return -1;
	end += 1 + GIT_OID_HEXSZ;
	if (*end != ' ' || end[1] < '1' || end[1] > '3' || end + 2 != tab)
		return -1;
	e->stage = end[1] - '0';
	e->path = tab + 1;
	return 0;
}

/*
 * Replace the contract paths of `resolve` (indices into `entries`, each
 * the first entry of its path) in `base_tree` with the owner's stage,
 * writing the new tree to res->tree.
 */
static int rebuild_tree(const struct ws_repo *r, const git_oid *base_tree,
			struct stage_entry *entries, size_t nr,
			const int *want_stage, struct ws_merge_result *res)
{
	git_index *index = NULL;
	git_tree *tree = NULL;
	size_t i;
	int ret = -1;

	if (git_tree_lookup(&tree, r->repo, base_tree) < 0 ||
	    git_index_new(&index) < 0 ||
	    git_index_read_tree(index, tree) < 0) {
		error_git("cannot read the merged tree");
		goto cleanup;
	}
	for (i = 0; i < nr; i++) {
		const char *path = entries[i].path;
		size_t j;
		int found = 0;

		if (!want_stage[i] || (i && !strcmp(entries[i - 1].path, path)))
			continue; /* not resolved, or not the path's first entry */
		for (j = i; j < nr && !strcmp(entries[j].path, path); j++) {
			git_index_entry ie;

			if (entries[j].stage != want_stage[i])
				continue;
			memset(&ie, 0, sizeof(ie));
			ie.mode = entries[j].mode;
			git_oid_cpy(&ie.id, &entries[j].oid);
			ie.path = path;
			if (git_index_add(index, &ie) < 0) {
				error_git("cannot resolve '%s'", path);
				goto cleanup;
			}
			found = 1;
		}
		if (!found && git_index_remove_bypath(index, path) < 0) {
			error_git("cannot resolve '%s'", path);
			goto cleanup;
		}
	}
	if (git_index_write_tree_to(&res->tree, index, r->repo) < 0) {
		error_git("cannot write the merged tree");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_index_free(index);
	git_tree_free(tree);
	return ret;
}

/*
 * git merge-tree's informational messages: <n>, n paths, type, message,
 * up to an empty field (--stdin) or the end, appended to res->messages.
 * When git listed no conflicted file (`have_entries` 0), the paths of
 * CONFLICT messages stand in for them: a conflict is never called clean.
 */
static void parse_messages(const struct strbuf *out, size_t *pos,
			   int have_entries, struct ws_merge_result *res)
{
	const char *f;

	while ((f = next_field(out, pos)) && *f) {
		const char **paths = NULL;
		const char *type, *msg;
		int n = atoi(f), k;

		if (n < 0)
			break;
		paths = xcalloc((size_t)n + 1, sizeof(*paths));
		for (k = 0; k < n; k++)
			paths[k] = next_field(out, pos);
		type = next_field(out, pos);
		msg = next_field(out, pos);
		if (!msg || (n && !paths[n - 1])) {
			free(paths);
			break;
		}
		strbuf_addstr(&res->messages, msg);
		if (res->messages.len &&
		    res->messages.buf[res->messages.len - 1] != '\n')
			strbuf_addch(&res->messages, '\n');
		if (!have_entries && !strncmp(type, "CONFLICT", 8))
			for (k = 0; k < n; k++)
				strvec_push(&res->conflicts, paths[k]);
		free(paths);
	}
}

/*
 * The entries come grouped by path: decide each path's owner, into
 * want[] (3: theirs, 2: ours, 0: a conflict). Returns 1 when any path
 * was resolved by its owner.
 */
static int decide_owners(const struct stage_entry *entries, size_t nr,
			 const struct strvec *theirs_owns,
			 const struct strvec *ours_owns, int *want,
			 struct ws_merge_result *res)
{
	int any_resolved = 0;
	size_t i;

	for (i = 0; i < nr; i++) {
		const char *path = entries[i].path;

		if (i && !strcmp(entries[i - 1].path, path)) {
			want[i] = want[i - 1];
			continue;
		}
		if (ws_merge_owns(theirs_owns, path))
			want[i] = 3;
		else if (ws_merge_owns(ours_owns, path))
			want[i] = 2;
		if (want[i]) {
			strvec_push(&res->resolved, path);
			any_resolved = 1;
		} else {
			strvec_push(&res->conflicts, path);
		}
	}
	return any_resolved;
}

/*
 * Parse one merge result of git merge-tree -z from out at *pos: the tree,
 * then, when `conflicted`, the conflicted file info up to an empty field
 * and the messages up to an empty field or the end. With `batch` (the
 * --stdin format) a clean result ends with an empty field too. Then
 * resolve contract paths and fill res. Returns 0, or -1 after an error.
 */
static int parse_result(const struct ws_repo *r, int conflicted, int batch,
			const struct strbuf *out, size_t *pos,
			const struct strvec *theirs_owns,
			const struct strvec *ours_owns,
			struct ws_merge_result *res)
{
	struct stage_entry *entries = NULL;
	size_t nr = 0, alloc = 0;
	int *want = NULL;
	const char *f;
	git_oid merged;
	int ret = -1, any_resolved;

	res->clean = 0;

	/* the merged tree */
	f = next_field(out, pos);
	if (!f || git_oid_fromstr(&merged, f) < 0) {
		error("cannot parse the output of git merge-tree");
		goto cleanup;
	}
	git_oid_cpy(&res->tree, &merged);
	if (!conflicted) {
		if (batch)
			next_field(out, pos); /* the record's empty end */
		res->clean = 1;
		ret = 0;
		goto cleanup;
	}

	/* conflicted file info, up to an empty field */
	while ((f = next_field(out, pos)) && *f) {
		ALLOC_GROW(entries, nr + 1, alloc);
		if (parse_stage_entry(f, &entries[nr]) < 0) {
			error("cannot parse the output of git merge-tree: '%s'", f);
			goto cleanup;
		}
		nr++;
	}
	parse_messages(out, pos, nr > 0, res);

	want = xcalloc(nr + 1, sizeof(*want));
	any_resolved = decide_owners(entries, nr, theirs_owns, ours_owns,
				     want, res);
	if (!nr && !res->conflicts.nr)
		strvec_push(&res->conflicts, "(unknown: git merge-tree reported a conflict)");
	strvec_sort_unique(&res->conflicts);
	strvec_sort_unique(&res->resolved);

	if (any_resolved &&
	    rebuild_tree(r, &merged, entries, nr, want, res) < 0)
		goto cleanup;
	res->clean = !res->conflicts.nr;
	ret = 0;
cleanup:
	free(entries);
	free(want);
	return ret;
}

int ws_merge_compute(const struct ws_repo *r, const git_oid *ours,
		     const git_oid *theirs, const struct strvec *theirs_owns,
		     const struct strvec *ours_owns, struct ws_merge_result *res)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char ours_hex[GIT_OID_HEXSZ + 1], theirs_hex[GIT_OID_HEXSZ + 1];
	size_t pos = 0;
	int code, ret = -1;

	res->clean = 0;
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(r->repo));
	strvec_pushv(&cp.args, (const char *[]){
		"merge-tree", "--write-tree", "-z",
		ws_oid_hex(ours, ours_hex), ws_oid_hex(theirs, theirs_hex),
		NULL });
	code = capture_command(&cp, &out, &err);
	if (code != 0 && code != 1) {
		strbuf_rtrim(&err);
		error("git merge-tree %.7s %.7s failed%s%s", ours_hex, theirs_hex,
		      err.len ? ": " : "", err.buf);
		goto cleanup;
	}
	ret = parse_result(r, code == 1, 0, &out, &pos, theirs_owns, ours_owns,
			   res);
cleanup:
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

int ws_merge_compute_many(const struct ws_repo *r, size_t nr,
			  const git_oid *ours, const git_oid *theirs,
			  const struct strvec *const *theirs_owns,
			  const struct strvec *const *ours_owns,
			  struct ws_merge_result *res)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	size_t k, pos = 0;
	int code, ret = -1, fd = -1, saved_stdin = -1;
	char tmpl[] = "/tmp/ws-merge-tree-XXXXXX";

	if (!nr)
		return 0;
	for (k = 0; k < nr; k++) {
		strbuf_addf(&in, "%s ", ws_oid_hex(&ours[k], hex));
		strbuf_addf(&in, "%s\n", ws_oid_hex(&theirs[k], hex));
	}
	/* the pairs go through a file: no pipe to feed while we read */
	fd = mkstemp(tmpl);
	if (fd >= 0)
		unlink(tmpl);
	if (fd < 0 || write_in_full(fd, in.buf, in.len) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		error_errno("cannot write the merges to compute");
		goto cleanup;
	}
	cp.git_cmd = 1;
	strvec_pushf(&cp.args, "--git-dir=%s", git_repository_path(r->repo));
	strvec_pushv(&cp.args, (const char *[]){
		"merge-tree", "--stdin", "--write-tree", "-z", NULL });
	/*
	 * run.h has no stdin redirection: the child inherits our fd 0,
	 * which is the file of pairs for the length of this call.
	 */
	saved_stdin = dup(0);
	if (saved_stdin < 0 || dup2(fd, 0) < 0) {
		error_errno("cannot redirect the input of git merge-tree");
		goto cleanup;
	}
	code = capture_command(&cp, &out, &err);
	if (dup2(saved_stdin, 0) < 0)
		die_errno("cannot restore standard input");
	if (code) {
		strbuf_rtrim(&err);
		error("git merge-tree --stdin failed%s%s", err.len ? ": " : "",
		      err.buf);
		goto cleanup;
	}
	for (k = 0; k < nr; k++) {
		const char *status = next_field(&out, &pos);

		if (!status || (strcmp(status, "0") && strcmp(status, "1"))) {
			error("cannot parse the output of git merge-tree --stdin");
			goto cleanup;
		}
		if (parse_result(r, !strcmp(status, "0"), 1, &out, &pos,
				 theirs_owns ? theirs_owns[k] : NULL,
				 ours_owns ? ours_owns[k] : NULL, &res[k]) < 0)
			goto cleanup;
	}
	ret = 0;
cleanup:
	if (ret < 0)
		for (k = 0; k < nr; k++)
			ws_merge_result_release(&res[k]);
	if (saved_stdin >= 0)
		close(saved_stdin);
	if (fd >= 0)
		close(fd);
	strbuf_release(&in);
	strbuf_release(&out);
	strbuf_release(&err);
	return ret;
}

void ws_merge_result_release(struct ws_merge_result *res)
{
	strvec_clear(&res->conflicts);
	strvec_clear(&res->resolved);
	strbuf_release(&res->messages);
	res->clean = 0;
	memset(&res->tree, 0, sizeof(res->tree));
}
