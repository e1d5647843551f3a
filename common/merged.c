#include "compat.h"
#include "merged.h"
#include "run.h"
#include "strbuf.h"
#include "usage.h"
#include "wrapper.h"
#include <dirent.h>

/* How far back the first-parent walk looks for a squash merge. */
#define FIRST_PARENT_LIMIT 10000

const char *ws_merged_how(int how)
{
	switch (how) {
	case WS_MERGED_ANCESTRY:
		return "merged by ancestry";
	case WS_MERGED_TREE:
		return "merged by tree (squash-merged)";
	case WS_MERGED_PATHS:
		return "merged by content (its changes are in the base)";
	case WS_MERGED_MERGE:
		return "merged by merge (merging it changes nothing)";
	default:
		return "not merged";
	}
}

/* WS_MERGED_TREE: the tip's tree on base's first-parent line since mb. */
static int tree_on_first_parent(git_repository *repo, const git_oid *base,
				const git_oid *mb, const git_oid *tip_tree)
{
	git_commit *c = NULL, *parent = NULL;
	int ret = -1, n;

	if (git_commit_lookup(&c, repo, base) < 0)
		return error_git("cannot read commit");
	for (n = 0; n < FIRST_PARENT_LIMIT; n++) {
		if (git_oid_equal(git_commit_tree_id(c), tip_tree)) {
			ret = 1;
			goto out;
		}
		if (git_oid_equal(git_commit_id(c), mb) ||
		    !git_commit_parentcount(c))
			break;
		if (git_commit_parent(&parent, c, 0) < 0) {
			ret = error_git("cannot read a parent of commit");
			goto out;
		}
		git_commit_free(c);
		c = parent;
		parent = NULL;
	}
	ret = 0;
out:
	git_commit_free(c);
	return ret;
}

/* WS_MERGED_PATHS: every path changed mb..tip is the same in base. */
static int paths_in_base(git_repository *repo, const git_oid *base,
			 const git_oid *mb, const git_oid *tip)
{
	git_commit *cb = NULL, *cm = NULL, *ct = NULL;
	git_tree *tb = NULL, *tm = NULL, *tt = NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	size_t i, n;
	int ret = -1;

	if (git_commit_lookup(&cb, repo, base) < 0 ||
	    git_commit_lookup(&cm, repo, mb) < 0 ||
	    git_commit_lookup(&ct, repo, tip) < 0 ||
	    git_commit_tree(&tb, cb) < 0 || git_commit_tree(&tm, cm) < 0 ||
	    git_commit_tree(&tt, ct) < 0) {
		ret = error_git("cannot read commit");
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, repo, tm, tt, &opts) < 0) {
		ret = error_git("cannot compare trees");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	ret = 1;
	for (i = 0; i < n && ret == 1; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		git_tree_entry *e = NULL;
		int found;

		if (d->status == GIT_DELTA_DELETED) {
			found = !git_tree_entry_bypath(&e, tb, d->old_file.path);
			if (found)
				ret = 0;
		} else {
			found = !git_tree_entry_bypath(&e, tb, d->new_file.path);
			if (!found ||
			    !git_oid_equal(git_tree_entry_id(e), &d->new_file.id) ||
			    (uint32_t)git_tree_entry_filemode(e) != d->new_file.mode)
				ret = 0;
		}
		git_tree_entry_free(e);
	}
out:
	git_diff_free(diff);
	git_tree_free(tb);
	git_tree_free(tm);
	git_tree_free(tt);
	git_commit_free(cb);
	git_commit_free(cm);
	git_commit_free(ct);
	return ret;
}

static void remove_tree(const char *path)
{
	DIR *dh = opendir(path);
	struct dirent *de;

	if (dh) {
		while ((de = readdir(dh))) {
			char *p;
			struct stat st;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = xstrfmt("%s/%s", path, de->d_name);
			if (!lstat(p, &st) && S_ISDIR(st.st_mode))
				remove_tree(p);
			else
				unlink(p);
			free(p);
		}
		closedir(dh);
	}
	rmdir(path);
}

/*
 * WS_MERGED_MERGE: `git merge-tree --write-tree base tip` is clean and
 * gives base's tree. Objects go to a temporary directory, thrown away.
 */
static int merge_is_noop(const struct ws_repo *r, const git_oid *base,
			 const git_oid *tip, const git_oid *base_tree)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf out = STRBUF_INIT;
	const char *tmp = getenv("TMPDIR");
	char *dir = xstrfmt("%s/git-ws-merged.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char b[GIT_OID_HEXSZ + 1], t[GIT_OID_HEXSZ + 1];
	git_oid result;
	int code, ret = -1;

	if (!mkdtemp(dir)) {
		ret = error_errno("cannot create a temporary directory '%s'", dir);
		free(dir);
		return ret;
	}
	cp.git_cmd = 1;
	cp.no_stdin = 1;
	cp.no_stderr = 1;
	strvec_pushf(&cp.env, "GIT_OBJECT_DIRECTORY=%s", dir);
	strvec_pushf(&cp.env, "GIT_ALTERNATE_OBJECT_DIRECTORIES=%s/objects",
		     r->commondir);
	strvec_pushv(&cp.args, (const char *[]){ "merge-tree", "--write-tree",
				"--no-messages", ws_oid_hex(base, b),
				ws_oid_hex(tip, t), NULL });
	code = capture_command(&cp, &out, NULL);
	if (code == 1) {
		ret = 0; /* conflicts */
	} else if (code) {
		ret = error("'git merge-tree' failed (exit %d)", code);
	} else {
		strbuf_trim(&out);
		if (out.len < GIT_OID_HEXSZ || git_oid_fromstrn(&result, out.buf, GIT_OID_HEXSZ) < 0)
			ret = error("unexpected output from 'git merge-tree'");
		else
			ret = git_oid_equal(&result, base_tree);
	}
	remove_tree(dir);
	strbuf_release(&out);
	free(dir);
	return ret;
}

int ws_commit_is_merged(const struct ws_repo *r, const git_oid *base,
			const git_oid *tip)
{
	git_commit *cb = NULL, *ct = NULL;
	git_oid mb, base_tree, tip_tree;
	int ret, err;

	if (git_oid_equal(base, tip))
		return WS_MERGED_ANCESTRY;
	ret = git_graph_descendant_of(r->repo, base, tip);
	if (ret < 0)
		return error_git("cannot walk the history");
	if (ret)
		return WS_MERGED_ANCESTRY;

	if (git_commit_lookup(&cb, r->repo, base) < 0 ||
	    git_commit_lookup(&ct, r->repo, tip) < 0) {
		ret = error_git("cannot read commit");
		goto out;
	}
	git_oid_cpy(&base_tree, git_commit_tree_id(cb));
	git_oid_cpy(&tip_tree, git_commit_tree_id(ct));

	err = git_merge_base(&mb, r->repo, base, tip);
	if (err == GIT_ENOTFOUND) {
		/* unrelated histories: only an identical tree counts */
		ret = git_oid_equal(&base_tree, &tip_tree) ? WS_MERGED_TREE : 0;
		goto out;
	}
	if (err < 0) {
		ret = error_git("cannot find a merge base");
		goto out;
	}
	ret = tree_on_first_parent(r->repo, base, &mb, &tip_tree);
	if (ret) {
		ret = ret < 0 ? -1 : WS_MERGED_TREE;
		goto out;
	}
	ret = paths_in_base(r->repo, base, &mb, tip);
	if (ret) {
		ret = ret < 0 ? -1 : WS_MERGED_PATHS;
		goto out;
	}
	ret = merge_is_noop(r, base, tip, &base_tree);
	if (ret > 0)
		ret = WS_MERGED_MERGE;
out:
	git_commit_free(cb);
	git_commit_free(ct);
	return ret;
}
