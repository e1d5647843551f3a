#include "compat.h"
#include "gates.h"
#include "run.h"
#include "usage.h"
#include "wrapper.h"
#include <fnmatch.h>

/* --- added lines ------------------------------------------------------- */

int ws_is_conflict_marker(const char *line, size_t len)
{
	size_t i;
	char c;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len < 7)
		return 0;
	c = line[0];
	if (c != '<' && c != '>' && c != '|' && c != '=')
		return 0;
	for (i = 1; i < 7; i++)
		if (line[i] != c)
			return 0;
	if (c == '=')
		return len == 7;
	return len == 7 || line[7] == ' ';
}

static void hit(struct ws_added_hit *h, const git_diff_delta *delta,
		const git_diff_line *line)
{
	if (!h->count++) {
		h->path = xstrdup(delta->new_file.path ? delta->new_file.path :
				  delta->old_file.path);
		h->line = line->new_lineno > 0 ? (size_t)line->new_lineno : 0;
	}
}

static int scan_line(const git_diff_delta *delta, const git_diff_hunk *hunk,
		     const git_diff_line *line, void *payload)
{
	struct ws_added_scan *out = payload;
	const char *s = line->content;
	size_t n = line->content_len;

	if (line->origin != GIT_DIFF_LINE_ADDITION)
		return 0;
	if (ws_is_conflict_marker(s, n))
		hit(&out->marker, delta, line);
	if (memmem(s, n, "TODO", 4) || memmem(s, n, "FIXME", 5))
		hit(&out->todo, delta, line);
	return 0;
}

int ws_scan_added_lines(const struct ws_repo *r, const git_oid *base_tip,
			const git_oid *branch_tip, struct ws_added_scan *out)
{
	git_oid mb;
	git_commit *old_c = NULL, *new_c = NULL;
	git_tree *old_t = NULL, *new_t = NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	git_diff_find_options find = GIT_DIFF_FIND_OPTIONS_INIT;
	int err, ret = -1;

	err = git_merge_base(&mb, r->repo, base_tip, branch_tip);
	if (err < 0 && err != GIT_ENOTFOUND) {
		error_git("cannot find the merge base of the branch and its base");
		goto cleanup;
	}
	if (!err && (git_commit_lookup(&old_c, r->repo, &mb) < 0 ||
		     git_commit_tree(&old_t, old_c) < 0)) {
		error_git("cannot read the merge base");
		goto cleanup;
	}
	if (git_commit_lookup(&new_c, r->repo, branch_tip) < 0 ||
	    git_commit_tree(&new_t, new_c) < 0) {
		error_git("cannot read the branch tip");
		goto cleanup;
	}
	opts.context_lines = 0;
	opts.interhunk_lines = 0;
	if (git_diff_tree_to_tree(&diff, r->repo, old_t, new_t, &opts) < 0) {
		error_git("cannot diff the branch against its merge base");
		goto cleanup;
	}
	/* a moved file's old lines are not added lines */
	find.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(diff, &find) < 0) {
		error_git("cannot detect renames");
		goto cleanup;
	}
	if (git_diff_foreach(diff, NULL, NULL, NULL, scan_line, out) < 0) {
		error_git("cannot read the diff");
		goto cleanup;
	}
	ret = 0;
cleanup:
	git_diff_free(diff);
	git_tree_free(old_t);
	git_tree_free(new_t);
	git_commit_free(old_c);
	git_commit_free(new_c);
	return ret;
}

void ws_added_scan_release(struct ws_added_scan *scan)
{
	FREE_AND_NULL(scan->marker.path);
	FREE_AND_NULL(scan->todo.path);
	scan->marker.count = scan->todo.count = 0;
	scan->marker.line = scan->todo.line = 0;
}

/* --- contracts ----------------------------------------------------------- */

struct glob_walk {
	const char *pattern;
	struct strbuf path;
	int found;
};

static int glob_walk_cb(const char *root, const git_tree_entry *entry,
			void *payload)
{
	struct glob_walk *w = payload;

	strbuf_reset(&w->path);
	strbuf_addstr(&w->path, root);
	strbuf_addstr(&w->path, git_tree_entry_name(entry));
	if (!fnmatch(w->pattern, w->path.buf, 0)) {
		w->found = 1;
		return -1; /* stop the walk */
	}
	return 0;
}

int ws_tree_has_contract(const struct ws_repo *r, const git_oid *commit,
			 const char *pattern)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	char *path = NULL;
	size_t n;
	int ret = -1;

	if (git_commit_lookup(&c, r->repo, commit) < 0 ||
	    git_commit_tree(&tree, c) < 0) {
		error_git("cannot read the branch tip");
		goto cleanup;
	}
	path = xstrdup(pattern);
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	if (!strpbrk(path, "*?[")) {
		int err = git_tree_entry_bypath(&entry, tree, path);

		if (err == GIT_ENOTFOUND)
			ret = 0;
		else if (err < 0)
			error_git("cannot look up '%s'", path);
		else
			ret = 1;
	} else {
		struct glob_walk w = { path, STRBUF_INIT, 0 };

		git_tree_walk(tree, GIT_TREEWALK_PRE, glob_walk_cb, &w);
		ret = w.found;
		strbuf_release(&w.path);
	}
cleanup:
	free(path);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

/* --- gate commands --------------------------------------------------------- */

int ws_gate_run_command(const char *command, const char *dir,
			const struct strvec *env, long timeout_s,
			const char *log_path, struct ws_gate_run *run)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct strbuf sb = STRBUF_INIT;
	uint64_t start;
	int fd, code, timed_out = 0;
	size_t i;

	memset(run, 0, sizeof(*run));
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		  0666);
	if (fd < 0)
		return error_errno("cannot write '%s'", log_path);
	strbuf_addf(&sb, "$ %s\n", command);
	if (write_in_full(fd, sb.buf, sb.len) < 0) {
		close(fd);
		strbuf_release(&sb);
		return error_errno("cannot write '%s'", log_path);
	}

	cp.use_shell = 1;
	strvec_push(&cp.args, command);
	cp.dir = dir;
	cp.no_stdin = 1;
	cp.new_pgrp = 1;
	for (i = 0; env && i < env->nr; i++)
		strvec_push(&cp.env, env->v[i]);
	cp.out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	cp.err = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (cp.out < 0 || cp.err < 0) {
		error_errno("cannot write '%s'", log_path);
		if (cp.out >= 0)
			close(cp.out);
		if (cp.err >= 0)
			close(cp.err);
		child_process_clear(&cp);
		close(fd);
		strbuf_release(&sb);
		return -1;
	}

	start = monotonic_ms();
	if (start_command(&cp) < 0) {
		child_process_clear(&cp);
		close(fd);
		strbuf_release(&sb);
		return -1;
	}
	/*
	 * In a process group of its own, the command does not see the
	 * terminal's Ctrl-C: finish_command_timeout() passes SIGINT,
	 * SIGTERM, SIGHUP and SIGQUIT on to its group while it waits.
	 */
	code = finish_command_timeout(&cp, timeout_s > 0 ? timeout_s * 1000 : 0,
				      2000, &timed_out);
	/* the command is done; what it left running in its group goes too */
	if (!timed_out)
		kill_process_group(cp.pid, SIGTERM);
	run->elapsed_ms = monotonic_ms() - start;
	run->code = code;
	run->timed_out = timed_out;

	strbuf_reset(&sb);
	if (timed_out)
		strbuf_addf(&sb, "# killed after the timeout of %ld s\n", timeout_s);
	else
		strbuf_addf(&sb, "# exit %d after %.1f s\n", code,
			    run->elapsed_ms / 1000.0);
	write_in_full(fd, sb.buf, sb.len);
	close(fd);
	strbuf_release(&sb);
	return 0;
}

void ws_gate_command_label(struct strbuf *out, const char *command, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	char *one = xstrdup(command);
	char *p;

	for (p = one; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	strbuf_add_sanitized(&sb, one);
	strbuf_trim(&sb);
	if (max > 3 && sb.len > max) {
		strbuf_setlen(&sb, max - 3);
		strbuf_addstr(&sb, "...");
	}
	strbuf_addbuf(out, &sb);
	strbuf_release(&sb);
	free(one);
}
