#include "compat.h"
#include "gates.h"
#include "runner.h"
#include "donefile.h"
#include "mergetree.h"
#include "run.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"
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
	return ws_gate_run_command_on(NULL, NULL, command, dir, env, timeout_s,
				      log_path, run);
}

int ws_gate_run_command_on(const struct ws_runner *runner,
			   const struct ws_runner_cmd *rc, const char *command,
			   const char *dir, const struct strvec *env,
			   long timeout_s, const char *log_path,
			   struct ws_gate_run *run)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	struct ws_runner_where where = WS_RUNNER_WHERE_INIT;
	struct ws_runner_cmd one = WS_RUNNER_CMD_INIT;
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
	if (!runner || !rc || !runner->prepare) {
		if (start_command(&cp) < 0) {
			child_process_clear(&cp);
			close(fd);
			strbuf_release(&sb);
			return -1;
		}
		runner = &ws_runner_local;
	} else {
		one = *rc;
		one.log_path = log_path;
		one.timeout = timeout_s;
		strbuf_reset(&sb);
		if (ws_runner_start(runner, &one, &cp, &where, &sb) < 0) {
			error("%s", sb.buf);
			close(fd);
			strbuf_release(&sb);
			return -1;
		}
	}
	/*
	 * In a process group of its own, the command does not see the
	 * terminal's Ctrl-C: finish_command_timeout() passes SIGINT,
	 * SIGTERM, SIGHUP and SIGQUIT on to its group while it waits.
	 */
	code = ws_runner_finish_timeout(runner, &where, &cp,
					timeout_s > 0 ? timeout_s * 1000 : 0,
					2000, &timed_out);
	ws_runner_where_release(&where);
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

/* --- the gates of git ws-converge --------------------------------------- */

/* How many paths a one-line gate detail lists. */
#define LIST_MAX 5

static struct ws_gate *add_gate(struct ws_gate_target *t, const char *name,
			     enum ws_gate_result result, const char *hint,
			     const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct ws_gate *add_gate(struct ws_gate_target *t, const char *name,
			     enum ws_gate_result result, const char *hint,
			     const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	struct ws_gate *g;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(t->gates, t->gate_nr + 1, t->gate_alloc);
	g = &t->gates[t->gate_nr++];
	g->name = xstrdup(name);
	g->result = result;
	g->detail = strbuf_detach(&sb, NULL);
	g->hint = xstrdup_or_null(hint);
	return g;
}

const struct ws_gate *ws_gate_first_failure(const struct ws_gate_target *t)
{
	size_t i;

	for (i = 0; i < t->gate_nr; i++)
		if (t->gates[i].result == WS_GATE_FAIL)
			return &t->gates[i];
	return NULL;
}

/* "a, b, c and 4 more" for a one-line detail (sanitized). */
static void add_list(struct strbuf *sb, const struct strvec *items, size_t total)
{
	size_t i;

	for (i = 0; i < items->nr && i < LIST_MAX; i++) {
		if (i)
			strbuf_addstr(sb, ", ");
		strbuf_add_sanitized(sb, items->v[i]);
	}
	if (total > i)
		strbuf_addf(sb, " and %zu more", total - i);
}

void ws_gate_env(const struct ws_gate_opts *c, struct ws_gate_target *t,
		     struct strvec *env, const char *gate)
{
	ws_push_env(c->repo, c->plan, t->w - c->plan->ws, t->branch,
		    t->worktree, env);
	if (gate)
		strvec_pushf(env, "WS_GATE=%s", gate);
}

/* --- --commit ---------------------------------------------------------------- */

void ws_gate_commands(const struct plan_workstream *w, struct strvec *out)
{
	size_t i;

	strvec_push(out, w->test ? w->test : "");
	for (i = 0; i < w->check.nr; i++)
		strvec_push(out, w->check.v[i]);
}

static void gate_dispatch(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	char *path = ws_path(c->repo, "coordination/%s.done", t->w->id);
	struct ws_done done = WS_DONE_INIT;
	struct strbuf err = STRBUF_INIT, what = STRBUF_INIT;
	/* a dispatch ended with `done` (or later): its done file must say so */
	int strict = t->status == WS_STATUS_DONE ||
		     t->status == WS_STATUS_CONVERGED;
	char *hint = xstrfmt("read the command's log '%s/logs/%s.log' and finish the work",
			     c->repo->ws_dir, t->w->id);
	int rc = ws_done_read(&done, path, t->w->id, &err);

	if (rc == 0) {
		strbuf_addf(&what, "done file says '%s'",
			    ws_done_status_name(done.status));
		if (done.summary && *done.summary) {
			strbuf_addstr(&what, ": ");
			ws_gate_command_label(&what, done.summary, WS_GATE_LABEL_MAX);
		}
	}
	if (rc == 1 && strict)
		add_gate(t, "dispatch", WS_GATE_FAIL, hint,
			 "status is '%s' but there is no done file '%s'",
			 ws_status_name(t->status), path);
	else if (rc == 1)
		add_gate(t, "dispatch", WS_GATE_SKIP, NULL,
			 "status '%s', no done file: work done by hand",
			 ws_status_name(t->status));
	else if (rc < 0)
		add_gate(t, "dispatch", WS_GATE_FAIL, hint, "done file '%s': %s",
			 path, err.buf);
	else if (done.status == WS_DONE_SUCCESS)
		add_gate(t, "dispatch", WS_GATE_PASS, NULL, "%s", what.buf);
	else if (strict)
		add_gate(t, "dispatch", WS_GATE_FAIL, hint, "%s", what.buf);
	else
		add_gate(t, "dispatch", WS_GATE_SKIP, NULL,
			 "status '%s', %s: work done by hand",
			 ws_status_name(t->status), what.buf);
	ws_done_release(&done);
	strbuf_release(&err);
	strbuf_release(&what);
	free(hint);
	free(path);
}

static void gate_clean(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	struct strvec paths = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *hint = NULL;
	git_oid head;
	long n;

	if (!path_exists(t->worktree)) {
		add_gate(t, "clean", WS_GATE_FAIL,
			 "the worktree is gone: 'git worktree list' shows what git knows",
			 "worktree '%s' does not exist", t->worktree);
		return;
	}
	if (t->committed < 0) {
		hint = xstrfmt("commit the work in '%s' by hand", t->worktree);
		add_gate(t, "clean", WS_GATE_FAIL, hint, "%s", t->commit_detail);
		goto out;
	}
	n = ws_worktree_changes(t->worktree, &paths, LIST_MAX);
	if (n < 0) {
		add_gate(t, "clean", WS_GATE_FAIL, NULL, "cannot read the status of '%s': %s",
			 t->worktree, git_last_message());
		goto out;
	}
	if (n > 0) {
		add_list(&sb, &paths, (size_t)n);
		hint = xstrfmt("commit (or remove) the changes in '%s'; --commit commits them all",
			       t->worktree);
		add_gate(t, "clean", WS_GATE_FAIL, hint,
			 "%ld uncommitted or untracked file%s: %s", n,
			 n == 1 ? "" : "s", sb.buf);
		goto out;
	}
	if (t->have_tip && (ws_worktree_head_at(t->worktree, &head) < 0 ||
			    !git_oid_equal(&head, &t->tip))) {
		hint = xstrfmt("check out '%s' in '%s' again", t->branch, t->worktree);
		add_gate(t, "clean", WS_GATE_FAIL, hint,
			 "the worktree is not at the tip of '%s', so its tests would not test the branch",
			 t->branch);
		goto out;
	}
	if (t->committed > 0)
		add_gate(t, "clean", WS_GATE_PASS, NULL,
			 "no uncommitted or untracked changes (--commit committed %ld file%s as %.7s)",
			 t->committed, t->committed == 1 ? "" : "s",
			 t->have_tip ? git_oid_tostr_s(&t->tip) : "?");
	else
		add_gate(t, "clean", WS_GATE_PASS, NULL, "no uncommitted or untracked changes");
out:
	free(hint);
	strvec_clear(&paths);
	strbuf_release(&sb);
}

static void gate_commits(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	const char *base = c->plan->base;
	char *hint = NULL;
	long ahead;

	if (!t->have_tip) {
		add_gate(t, "commits", WS_GATE_FAIL, NULL, "branch '%s' does not exist",
			 t->branch);
		return;
	}
	ahead = ws_commits_ahead(c->repo, &t->tip, &t->base_tip);
	if (ahead < 0) {
		add_gate(t, "commits", WS_GATE_FAIL, NULL,
			 "cannot compare '%s' with '%s': %s", t->branch, base,
			 git_last_message());
	} else if (!ahead) {
		hint = xstrfmt("commit the work on '%s' in '%s'", t->branch, t->worktree);
		add_gate(t, "commits", WS_GATE_FAIL, hint,
			 "'%s' has no commit that '%s' does not have", t->branch, base);
	} else {
		add_gate(t, "commits", WS_GATE_PASS, NULL, "%ld commit%s not on '%s'",
			 ahead, ahead == 1 ? "" : "s", base);
	}
	free(hint);
}

static void gate_deps(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	struct strbuf sb = STRBUF_INIT;

	if (!t->w->dep_nr) {
		add_gate(t, "deps", WS_GATE_PASS, NULL, "no dependencies");
	} else if (!t->deps_waiting.nr) {
		size_t i;

		for (i = 0; i < t->w->dep_nr; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "",
				    c->plan->ws[t->w->dep_idx[i]].id);
		add_gate(t, "deps", WS_GATE_PASS, NULL, "merged: %s", sb.buf);
	} else {
		add_list(&sb, &t->deps_waiting, t->deps_waiting.nr);
		add_gate(t, "deps", WS_GATE_FAIL,
			 "converge and merge the dependencies first ('git ws-merge')",
			 "not merged yet: %s", sb.buf);
	}
	strbuf_release(&sb);
}

static void gate_mergeable(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	const char *base = c->plan->base;
	struct strbuf sb = STRBUF_INIT;
	char *hint = NULL;

	if (!t->have_tip) {
		add_gate(t, "mergeable", WS_GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (ws_merge_compute(c->repo, &t->base_tip, &t->tip, &t->w->contract,
			     &t->ours_owns, &res) < 0) {
		add_gate(t, "mergeable", WS_GATE_FAIL, NULL,
			 "cannot compute the merge into '%s' (see the error above)", base);
	} else if (!res.clean) {
		add_list(&sb, &res.conflicts, res.conflicts.nr);
		hint = xstrfmt("merge '%s' into '%s' in '%s' and resolve the conflicts",
			       base, t->branch, t->worktree);
		add_gate(t, "mergeable", WS_GATE_FAIL, hint, "conflicts with '%s' in %s",
			 base, sb.buf);
	} else {
		if (res.resolved.nr) {
			strbuf_addstr(&sb, "; by contract: ");
			add_list(&sb, &res.resolved, res.resolved.nr);
		}
		add_gate(t, "mergeable", WS_GATE_PASS, NULL, "merges cleanly into '%s' (%.7s)%s",
			 base, git_oid_tostr_s(&t->base_tip), sb.buf);
	}
	free(hint);
	strbuf_release(&sb);
	ws_merge_result_release(&res);
}

static void describe_hit(struct strbuf *sb, const struct ws_added_hit *h)
{
	strbuf_add_sanitized(sb, h->path);
	strbuf_addf(sb, ":%zu (%zu added line%s)", h->line, h->count,
		    h->count == 1 ? "" : "s");
}

static void gate_markers_todo(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	struct ws_added_scan scan = WS_ADDED_SCAN_INIT;
	struct strbuf sb = STRBUF_INIT;

	if (!t->have_tip) {
		add_gate(t, "markers", WS_GATE_SKIP, NULL, "not run: no branch");
		add_gate(t, "todo", WS_GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (ws_scan_added_lines(c->repo, &t->base_tip, &t->tip, &scan) < 0) {
		add_gate(t, "markers", WS_GATE_FAIL, NULL,
			 "cannot read the lines the branch adds (see the error above)");
		add_gate(t, "todo", WS_GATE_FAIL, NULL,
			 "cannot read the lines the branch adds (see the error above)");
		goto out;
	}
	if (scan.marker.count) {
		describe_hit(&sb, &scan.marker);
		add_gate(t, "markers", WS_GATE_FAIL,
			 "finish the merge: resolve the conflicts and remove the markers",
			 "conflict marker at %s", sb.buf);
	} else {
		add_gate(t, "markers", WS_GATE_PASS, NULL, "no added conflict markers");
	}
	strbuf_reset(&sb);
	if (t->w->todo_allow) {
		add_gate(t, "todo", WS_GATE_SKIP, NULL, "allowed by the plan (todo = allow)");
	} else if (scan.todo.count) {
		describe_hit(&sb, &scan.todo);
		add_gate(t, "todo", WS_GATE_FAIL,
			 "finish what the TODO and FIXME lines the branch adds leave open",
			 "TODO or FIXME at %s", sb.buf);
	} else {
		add_gate(t, "todo", WS_GATE_PASS, NULL, "no added TODO or FIXME");
	}
out:
	ws_added_scan_release(&scan);
	strbuf_release(&sb);
}

static void gate_contracts(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	const struct strvec *contract = &t->w->contract;
	struct strvec missing = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int broken = 0;

	if (!t->have_tip) {
		add_gate(t, "contracts", WS_GATE_SKIP, NULL, "not run: no branch");
		return;
	}
	if (!contract->nr) {
		add_gate(t, "contracts", WS_GATE_SKIP, NULL, "no contract paths in the plan");
		return;
	}
	for (i = 0; i < contract->nr; i++) {
		int has = ws_tree_has_contract(c->repo, &t->tip, contract->v[i]);

		if (has < 0)
			broken = 1;
		else if (!has)
			strvec_push(&missing, contract->v[i]);
	}
	if (broken) {
		add_gate(t, "contracts", WS_GATE_FAIL, NULL,
			 "cannot read the tree of '%s' (see the error above)", t->branch);
	} else if (missing.nr) {
		add_list(&sb, &missing, missing.nr);
		add_gate(t, "contracts", WS_GATE_FAIL,
			 "commit the files the plan's `contract` promises",
			 "missing on '%s': %s", t->branch, sb.buf);
	} else {
		add_list(&sb, contract, contract->nr);
		add_gate(t, "contracts", WS_GATE_PASS, NULL, "present: %s", sb.buf);
	}
	strvec_clear(&missing);
	strbuf_release(&sb);
}

/* A hash of what the test and check gates run, for the cache. */
static char *commands_key(const struct plan_workstream *w)
{
	struct strvec cmds = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;
	size_t i;

	ws_gate_commands(w, &cmds);
	strbuf_addf(&sb, "timeout %ld", w->timeout);
	for (i = 0; i < cmds.nr; i++) {
		strbuf_addch(&sb, '\0');
		strbuf_addstr(&sb, cmds.v[i]);
	}
	if (git_odb_hash(&oid, sb.buf, sb.len, GIT_OBJECT_BLOB) < 0)
		die_git("cannot hash the gate commands");
	strvec_clear(&cmds);
	strbuf_release(&sb);
	return xstrdup(ws_oid_hex(&oid, hex));
}

/*
 * ws_gate_run_command() through the workstream's gate-runner (runner.h);
 * a bad ws.runner is a command that cannot run (-1, reported).
 */
static int run_on_gate_runner(const struct ws_gate_opts *c,
			      struct ws_gate_target *t, size_t i,
			      const char *cmd, const struct strvec *env,
			      const char *log, struct ws_gate_run *run)
{
	struct ws_runner_cmd rc = WS_RUNNER_CMD_INIT;
	struct strbuf err = STRBUF_INIT;
	const struct ws_runner *runner;
	char *what = i ? xstrfmt("check-%zu", i) : xstrdup("test");
	ssize_t idx = plan_find(c->plan, t->w->id);
	int ret;

	if (idx < 0)
		BUG("gate of '%s', which is not in the plan", t->w->id);
	if (!(runner = ws_runner_for(c->repo, c->plan, (size_t)idx, 1, &err))) {
		memset(run, 0, sizeof(*run));
		ret = error("%s", err.buf);
	} else {
		rc.repo = c->repo;
		rc.plan = c->plan;
		rc.idx = (size_t)idx;
		rc.what = what;
		ret = ws_gate_run_command_on(runner, &rc, cmd, t->worktree, env,
					     t->w->timeout, log, run);
	}
	strbuf_release(&err);
	free(what);
	return ret;
}

/*
 * Run command number i of the tests gate (0) and the checks in t's
 * worktree into its log, and add its gate. 0 when it passed, else -1.
 */
static int run_gate_command(const struct ws_gate_opts *c,
			    struct ws_gate_target *t, size_t i,
			    const char *name, const char *cmd, const char *label)
{
	struct strvec env = STRVEC_INIT;
	struct ws_gate_run run;
	char *log, *hint = NULL;
	int ret = -1;

	log = i ? ws_path(c->repo, "logs/%s.check-%zu.log", t->w->id, i) :
		  ws_path(c->repo, "logs/%s.test.log", t->w->id);
	ws_gate_env(c, t, &env, name);
	if (!c->quiet && isatty(2))
		fprintf(stderr, "%s: running %s: %s\n", t->w->id, name, label);
	if (run_on_gate_runner(c, t, i, cmd, &env, log, &run) < 0) {
		add_gate(t, name, WS_GATE_FAIL, NULL, "%s: cannot run it", label);
	} else if (run.timed_out) {
		hint = xstrfmt("see why it hangs in '%s'", log);
		add_gate(t, name, WS_GATE_FAIL, hint, "%s: timed out after %ld s",
			 label, t->w->timeout);
	} else if (run.code) {
		hint = xstrfmt("see the output in '%s'", log);
		add_gate(t, name, WS_GATE_FAIL, hint, "%s: exit %d (%.1f s)",
			 label, run.code, run.elapsed_ms / 1000.0);
	} else {
		add_gate(t, name, WS_GATE_PASS, NULL, "%s (%.1f s)", label,
			 run.elapsed_ms / 1000.0);
		ret = 0;
	}
	free(log);
	free(hint);
	strvec_clear(&env);
	return ret;
}

/*
 * The tests gate, then each check, in the worktree: skipped with
 * --no-tests or after a failed gate, not run again when the tree and the
 * commands are those of the last passing run.
 */
static void gate_tests(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	struct strvec cmds = STRVEC_INIT;
	const struct ws_gate *failed = ws_gate_first_failure(t);
	const char *skip_why = NULL;
	char *skip_buf = NULL;
	size_t i;
	int cached, any = 0, all_ok = 1;

	ws_gate_commands(t->w, &cmds);
	t->commands_key = commands_key(t->w);
	cached = t->have_tip && t->tested_tree && t->tested_commands &&
		 !strcmp(t->tested_tree, t->tree_hex) &&
		 !strcmp(t->tested_commands, t->commands_key);
	if (c->no_tests)
		skip_why = "not run: --no-tests";
	else if (failed)
		skip_why = skip_buf = xstrfmt("not run: %s failed", failed->name);

	for (i = 0; i < cmds.nr; i++) {
		const char *cmd = cmds.v[i];
		char *name = i ? xstrfmt("check-%zu", i) : xstrdup("tests");
		struct strbuf label = STRBUF_INIT;

		if (!i && !*cmd) {
			add_gate(t, name, WS_GATE_SKIP, NULL, "no test command in the plan");
			free(name);
			continue;
		}
		any = 1;
		ws_gate_command_label(&label, cmd, WS_GATE_LABEL_MAX);
		if (skip_why) {
			add_gate(t, name, WS_GATE_SKIP, NULL, "%s", skip_why);
			goto next;
		}
		if (cached) {
			add_gate(t, name, WS_GATE_PASS, NULL, "cached: tree %.7s unchanged",
				 t->tree_hex);
			goto next;
		}
		if (run_gate_command(c, t, i, name, cmd, label.buf) < 0)
			all_ok = 0;
		if (!all_ok && !skip_why)
			skip_why = skip_buf = xstrfmt("not run: %s failed", name);
	next:
		free(name);
		strbuf_release(&label);
	}
	t->tested = any && all_ok && !skip_why && !cached;
	free(skip_buf);
	strvec_clear(&cmds);
}

/* Resolve the base and branch tips the gates look at. */
static void find_tips(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	git_commit *commit = NULL;

	if (ws_branch_tip(c->repo, c->plan->base, &t->base_tip) < 0)
		die("base branch '%s' does not exist", c->plan->base);
	t->have_tip = !ws_branch_tip(c->repo, t->branch, &t->tip);
	if (!t->have_tip)
		return;
	if (git_commit_lookup(&commit, c->repo->repo, &t->tip) < 0)
		die_git("cannot read the tip of '%s'", t->branch);
	git_oid_cpy(&t->tree, git_commit_tree_id(commit));
	ws_oid_hex(&t->tree, t->tree_hex);
	git_commit_free(commit);
}

void ws_run_gates(const struct ws_gate_opts *c, struct ws_gate_target *t)
{
	find_tips(c, t);
	gate_dispatch(c, t);
	gate_clean(c, t);
	gate_commits(c, t);
	gate_deps(c, t);
	gate_mergeable(c, t);
	gate_markers_todo(c, t);
	gate_contracts(c, t);
	gate_tests(c, t);
}
