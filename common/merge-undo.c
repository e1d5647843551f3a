#include "compat.h"
#include "archive.h"
#include "changed-paths.h"
#include "checkpoints.h"
#include "follow.h"
#include "lockfile.h"
#include "lost-worktree.h"
#include "merge-commit.h"
#include "merge-undo.h"
#include "scratch.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

/* One workstream whose merge is to be undone. */
struct item {
	size_t i;            /* plan->ws[i] */
	git_oid merge;       /* its merge-oid */
	char hex[GIT_OID_HEXSZ + 1];
	int on_base;         /* the base contains the merge */
	int merge_commit;    /* it is a merge commit (two parents) */
	long pos;            /* on the base's first-parent line; -1: not */
};

struct undo {
	const struct ws_undo_opts *o;
	struct ws_state st;
	struct item *items;
	size_t nr;
	git_oid tip;         /* the base tip; with dry_run, the one it would be */
};

static const char *id_of(struct undo *u, const struct item *it)
{
	return u->o->plan->ws[it->i].id;
}

/* Print one porcelain record, or the human line. */
static void say(struct undo *u, const char *record, const char *human)
{
	if (u->o->porcelain)
		printf("%s\n", record);
	else if (human)
		printf("%s\n", human);
}

/* Say that `it` is refused (`kind`, `detail`) after error() said why. */
static void say_refused(struct undo *u, const struct item *it,
			const char *id, const char *kind, const char *detail)
{
	if (u->o->porcelain)
		printf("refused\t%s\t%s\t%s\n", it ? id_of(u, it) : id, kind,
		       detail);
}

static void state_read(struct undo *u)
{
	struct strbuf err = STRBUF_INIT;

	ws_state_release(&u->st);
	if (ws_state_read(&u->st, u->o->repo->ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
}

/* 1 when `a` is `b` or has it in its history. */
static int contains(const struct ws_repo *r, const git_oid *a, const git_oid *b)
{
	return git_oid_equal(a, b) ||
	       git_graph_descendant_of(r->repo, a, b) == 1;
}

/*
 * Fill u->items from the named ids. Each must be a merged workstream of
 * the plan. Returns 0, or 1 after an error.
 */
static int read_items(struct undo *u, const char *const *ids, size_t nr)
{
	const struct ws_undo_opts *o = u->o;
	git_oid *oids;
	long *pos;
	size_t k;
	int bad = 0;

	u->items = xcalloc(nr + 1, sizeof(*u->items));
	for (k = 0; k < nr; k++) {
		ssize_t x = plan_find(o->plan, ids[k]);
		const char *m;
		struct item *it;
		git_commit *c = NULL;
		size_t j;

		if (x < 0)
			die("'%s' is not a workstream of plan '%s'", ids[k],
			    o->plan->name);
		for (j = 0; j < u->nr; j++)
			if (u->items[j].i == (size_t)x)
				break;
		if (j < u->nr)
			continue;
		m = ws_state_get(&u->st, ids[k], WS_KEY_MERGE_OID);
		if (!ws_is_merged(&u->st, ids[k]) || !m) {
			const char *s = ws_status_name(ws_state_status(&u->st, ids[k]));

			error("'%s' is not merged (status: %s); nothing to undo",
			      ids[k], s ?: "none");
			say_refused(u, NULL, ids[k], "not-merged", s ?: "none");
			bad = 1;
			continue;
		}
		it = &u->items[u->nr++];
		it->i = x;
		if (git_oid_fromstr(&it->merge, m) < 0 ||
		    git_commit_lookup(&c, o->repo->repo, &it->merge) < 0)
			die("'%s': cannot read its merge-oid '%s'", ids[k], m);
		ws_oid_hex(&it->merge, it->hex);
		it->merge_commit = git_commit_parentcount(c) == 2;
		it->on_base = contains(o->repo, &u->tip, &it->merge);
		git_commit_free(c);
	}
	oids = xcalloc(u->nr + 1, sizeof(*oids));
	pos = xcalloc(u->nr + 1, sizeof(*pos));
	for (k = 0; k < u->nr; k++)
		oids[k] = u->items[k].merge;
	if (ws_first_parent_positions(o->repo, &u->tip, oids, u->nr, pos) < 0)
		bad = 1;
	for (k = 0; k < u->nr; k++)
		u->items[k].pos = pos[k];
	free(oids);
	free(pos);
	return bad;
}

static int named(struct undo *u, size_t i)
{
	size_t k;

	for (k = 0; k < u->nr; k++)
		if (u->items[k].i == i)
			return 1;
	return 0;
}

/*
 * A merged dependent that is not named blocks the undo: its merge was
 * made on top of this one, and it would lose what it depends on.
 * Returns 0, or 1 after saying which.
 */
static int check_dependents(struct undo *u)
{
	const struct plan *plan = u->o->plan;
	size_t k, j, d;
	int bad = 0;

	for (k = 0; k < u->nr; k++) {
		const char *id = id_of(u, &u->items[k]);

		for (j = 0; j < plan->nr; j++) {
			const struct plan_workstream *w = &plan->ws[j];

			if (named(u, j) || !ws_is_merged(&u->st, w->id))
				continue;
			for (d = 0; d < w->dep_nr; d++)
				if (w->dep_idx[d] == u->items[k].i)
					break;
			if (d == w->dep_nr)
				continue;
			error("cannot undo '%s': '%s', merged after it, depends on it",
			      id, w->id);
			advise("undo both, newest first: 'git ws-merge --undo %s %s'",
			       w->id, id);
			say_refused(u, &u->items[k], NULL, "dependent", w->id);
			bad = 1;
		}
	}
	return bad;
}

/*
 * Newest first: the ones the base no longer has (nothing to move) first,
 * then by position on the first-parent line, then the ones in the base
 * off that line, by plan order.
 */
static int cmp_item(const void *va, const void *vb)
{
	const struct item *a = va, *b = vb;
	int ka = !a->on_base || !a->merge_commit ? 0 : a->pos >= 0 ? 1 : 2;
	int kb = !b->on_base || !b->merge_commit ? 0 : b->pos >= 0 ? 1 : 2;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (ka == 1 && a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Copy the last archived done file of `id` back, when there is none. */
static void restore_done_file(const struct ws_repo *r, const struct plan *plan,
			      const char *id)
{
	char *dst = ws_path(r, "coordination/%s.done", id);
	char *dir = ws_archive_dir(r, plan->name);
	char *src = xstrfmt("%s/coordination/%s.done", dir, id), *buf = NULL;
	size_t len = 0;
	int n;

	if (path_exists(dst) || !path_exists(src))
		goto out;
	/* the archive names later copies <name>.1, <name>.2, ... */
	for (n = 1; ; n++) {
		char *next = xstrfmt("%s/coordination/%s.done.%d", dir, id, n);

		if (!path_exists(next)) {
			free(next);
			break;
		}
		free(src);
		src = next;
	}
	if (read_file(src, &buf, &len) < 0 ||
	    write_file_atomically(dst, buf, len, LOCK_BREAK_STALE) < 0)
		warning("cannot copy '%s' back to '%s': %s", src, dst,
			strerror(errno));
out:
	free(buf);
	free(src);
	free(dir);
	free(dst);
}

/* Make the branch of `id` again when it is gone. Returns 0 or -1. */
static int restore_branch(const struct ws_repo *r, const char *id,
			  const char *branch, const char *merge)
{
	git_oid tip, from;
	git_reference *ref = NULL;
	git_commit *c = NULL;
	char *backup = xstrfmt("refs/ws/backup/%s", id);
	char *name = xstrfmt("refs/heads/%s", branch);
	char *msg = NULL;
	int err, ret = 0;

	if (!ws_branch_tip(r, branch, &tip))
		goto out;
	if (!git_reference_name_to_id(&from, r->repo, backup)) {
		msg = xstrfmt("ws-merge: undo %s: branch back from %s", id, backup);
	} else if (merge && !git_oid_fromstr(&from, merge) &&
		   !git_commit_lookup(&c, r->repo, &from) &&
		   git_commit_parentcount(c) == 2) {
		from = *git_commit_parent_id(c, 1);
		msg = xstrfmt("ws-merge: undo %s: branch back from its merge", id);
	} else {
		ret = error("cannot make branch '%s' of '%s' again: no %s and no merge commit",
			    branch, id, backup);
		goto out;
	}
	err = git_reference_create(&ref, r->repo, name, &from, 0, msg);
	if (err < 0 && err != GIT_EEXISTS)
		ret = error_git("cannot make branch '%s' again", branch);
	else
		fprintf(stderr, "%s: branch '%s' made again at %.7s\n", id,
			branch, git_oid_tostr_s(&from));
out:
	git_reference_free(ref);
	git_commit_free(c);
	free(msg);
	free(name);
	free(backup);
	return ret;
}

int ws_undo_back_to_done(const struct ws_repo *r, const struct plan *plan,
			 struct ws_state *st, size_t i, const char *merge)
{
	static const char *const drop[] = {
		WS_KEY_MERGE_OID, WS_KEY_TESTED_TREE, WS_KEY_TESTED_COMMANDS,
		WS_KEY_SENT_BACK, WS_KEY_CLEANED, WS_KEY_ARCHIVE,
	};
	const char *id = plan->ws[i].id;
	char *m = xstrdup_or_null(merge);
	char *branch = xstrdup_or_null(ws_state_get(st, id, WS_KEY_BRANCH));
	char *reason;
	size_t k, j, d;
	int ret = 0;

	reason = xstrfmt("its merge %.7s was undone; converge it again",
			 m ? m : "");
	ws_state_set_status(st, id, WS_STATUS_DONE, reason);
	for (k = 0; k < ARRAY_SIZE(drop); k++)
		ws_state_set(st, id, drop[k], NULL);
	ws_queue_remove(st, id);
	if (branch && restore_branch(r, id, branch, m) < 0)
		ret = -1;
	restore_done_file(r, plan, id);
	/* a dependent that was made ready by the merge waits again */
	for (j = 0; j < plan->nr; j++) {
		const struct plan_workstream *w = &plan->ws[j];

		if (ws_state_status(st, w->id) != WS_STATUS_READY)
			continue;
		for (d = 0; d < w->dep_nr; d++)
			if (w->dep_idx[d] == i)
				ws_state_set_status(st, w->id, WS_STATUS_BLOCKED,
						    "waiting");
	}
	ws_update_blocked(plan, st);
	free(reason);
	free(branch);
	free(m);
	return ret;
}

/* Make the worktrees of the undone workstreams again, when they are gone. */
static void bring_back_worktrees(struct undo *u, size_t from, size_t n)
{
	struct ws_lost_worktrees lw = WS_LOST_WORKTREES_INIT;
	struct strvec ids = STRVEC_INIT;
	size_t k;

	for (k = from; k < from + n; k++)
		strvec_push(&ids, id_of(u, &u->items[k]));
	lw.repo = u->o->repo;
	lw.st = &u->st;
	lw.hold_fd = u->st.lock_fd;
	lw.ids = &ids;
	ws_bring_back_worktrees(&lw);
	strvec_clear(&lw.records);
	strvec_clear(&ids);
}

/*
 * Refuse when a worktree in wts, which has the base checked out, has
 * uncommitted changes in paths that the move from `a` to `b` changes.
 */
static int check_base_worktrees(struct undo *u, const struct item *it,
				const struct strvec *wts, const git_oid *a,
				const git_oid *b)
{
	struct strvec both = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT;
	ssize_t k = ws_first_overwritten_worktree(u->o->repo, a, b, wts, &both);

	if (k >= 0) {
		strvec_join(&list, &both, ", ");
		error("'%s' is checked out in '%s', which has uncommitted changes that the undo of '%s' would overwrite: %s",
		      u->o->base, wts->v[k], id_of(u, it), list.buf);
		advise("commit or stash them there, then run 'git ws-merge --undo' again");
		say_refused(u, it, NULL, "dirty", list.buf);
	}
	strvec_clear(&both);
	strbuf_release(&list);
	return k == -1 ? 0 : -1;
}

/* Record (or, with `record` 0, drop) the intents of moving the base. */
static void record_move(struct undo *u, size_t from, size_t n,
			const struct strvec *wts, const git_oid *a,
			const git_oid *b, int record)
{
	char ha[GIT_OID_HEXSZ + 1], hb[GIT_OID_HEXSZ + 1];
	size_t k;

	ws_state_release(&u->st);
	ws_state_lock_repo(&u->st, u->o->repo);
	for (k = from; k < from + n; k++) {
		struct ws_intent in = WS_INTENT_INIT;

		if (!record) {
			ws_intent_clear(&u->st, id_of(u, &u->items[k]),
					WS_INTENT_UNDO);
			continue;
		}
		in.kind = WS_INTENT_UNDO;
		in.id = id_of(u, &u->items[k]);
		in.from = ws_oid_hex(a, ha);
		in.to = ws_oid_hex(b, hb);
		ws_intent_record(&u->st, &in);
	}
	if (wts->nr) {
		struct ws_intent in = WS_INTENT_INIT;

		if (record) {
			in.kind = WS_INTENT_FOLLOW;
			in.id = id_of(u, &u->items[from]);
			in.from = ws_oid_hex(a, ha);
			in.to = ws_oid_hex(b, hb);
			in.worktrees = *wts;
			ws_intent_record(&u->st, &in);
		} else {
			ws_intent_clear(&u->st, id_of(u, &u->items[from]),
					WS_INTENT_FOLLOW);
		}
	}
	ws_state_commit_or_die(&u->st);
}

/*
 * Move the base from `a` to `b` to undo items[from..from+n-1]: record
 * the intent, compare-and-swap, bring the worktrees that have the base
 * checked out along, put the workstreams back to done, clear the
 * records. Returns 0, or -1 after an error (the base did not move).
 */
static int move_base(struct undo *u, size_t from, size_t n,
		     const git_oid *a, const git_oid *b)
{
	const struct ws_undo_opts *o = u->o;
	struct strvec wts = STRVEC_INIT;
	struct strbuf ids = STRBUF_INIT;
	char *ref = xstrfmt("refs/heads/%s", o->base), *reflog;
	git_reference *new_ref = NULL;
	size_t k;
	int err, ret = 0;

	for (k = from; k < from + n; k++)
		strbuf_addf(&ids, "%s%s", k > from ? " " : "",
			    id_of(u, &u->items[k]));
	reflog = xstrfmt("ws-merge: undo %s", ids.buf);
	ws_branch_worktrees(o->repo, o->base, &wts);
	if (check_base_worktrees(u, &u->items[from], &wts, a, b) < 0) {
		ret = -1;
		goto out;
	}
	record_move(u, from, n, &wts, a, b, 1);
	err = git_reference_create_matching(&new_ref, o->repo->repo, ref, b, 1,
					    a, reflog);
	git_reference_free(new_ref);
	if (err < 0) {
		record_move(u, from, n, &wts, a, b, 0);
		if (err == GIT_EMODIFIED)
			ret = error("'%s' moved while '%s' was being undone; nothing changed",
				    o->base, ids.buf);
		else
			ret = error_git("cannot update '%s'", o->base);
		advise("run 'git ws-merge --undo' again");
		goto out;
	}
	for (k = 0; k < wts.nr; k++)
		ws_follow(o->repo, o->base, wts.v[k], a, b, o->lock_fd);
	ws_state_release(&u->st);
	ws_state_lock_repo(&u->st, o->repo);
	for (k = from; k < from + n; k++) {
		const struct item *it = &u->items[k];

		if (ws_undo_back_to_done(o->repo, o->plan, &u->st, it->i,
					 it->hex) < 0)
			ret = -1;
		ws_intent_clear(&u->st, id_of(u, it), WS_INTENT_UNDO);
	}
	ws_intent_clear(&u->st, id_of(u, &u->items[from]), WS_INTENT_FOLLOW);
	ws_state_write_or_die(&u->st);
	bring_back_worktrees(u, from, n);
	ws_state_commit_or_die(&u->st);
	u->tip = *b;
out:
	strvec_clear(&wts);
	strbuf_release(&ids);
	free(reflog);
	free(ref);
	return ret;
}

/* The first parent of `oid` into *out. Returns 0 or -1. */
static int first_parent(struct undo *u, const git_oid *oid, git_oid *out)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, u->o->repo->repo, oid) < 0 ||
	    !git_commit_parentcount(c)) {
		git_commit_free(c);
		return error_git("cannot read the parents of %s",
				 git_oid_tostr_s(oid));
	}
	*out = *git_commit_parent_id(c, 0);
	git_commit_free(c);
	return 0;
}

/* Say that items[k] is undone (or would be) by `how`, the base at `to`. */
static void say_undone(struct undo *u, const struct item *it,
		       const char *how, const git_oid *to)
{
	const char *id = id_of(u, it);
	char hex[GIT_OID_HEXSZ + 1] = "";
	struct strbuf rec = STRBUF_INIT, sb = STRBUF_INIT;
	const char *would = u->o->dry_run ? "would " : "";

	if (to)
		ws_oid_hex(to, hex);
	strbuf_addf(&rec, "%s\t%s\t%s\t%s\t%s",
		    u->o->dry_run ? "would-undo" : "undone", id, how, it->hex,
		    hex);
	if (!strcmp(how, "reset"))
		strbuf_addf(&sb, "%s: %s '%s' back to %.7s, before its merge %.7s",
			    id, *would ? "would move" : "moved", u->o->base, hex,
			    it->hex);
	else if (!strcmp(how, "revert") && *would)
		strbuf_addf(&sb, "%s: would revert its merge %.7s on '%s'%s",
			    id, it->hex, u->o->base,
			    u->o->no_verify ? " (untested: --no-verify)" :
			    " (tested first)");
	else if (!strcmp(how, "revert"))
		strbuf_addf(&sb, "%s: reverted its merge %.7s on '%s' as %.7s%s",
			    id, it->hex, u->o->base, hex,
			    u->o->no_verify ? " (untested: --no-verify)" :
			    u->o->plan->ws[it->i].test ? " (tested)" :
			    " (no test command)");
	else if (it->on_base)
		strbuf_addf(&sb, "%s: %s its merge record %.7s: nothing of its own was merged; '%s' is left as it is",
			    id, *would ? "would forget" : "forgot", it->hex,
			    u->o->base);
	else
		strbuf_addf(&sb, "%s: %s its merge %.7s: '%s' no longer has it and is left as it is",
			    id, *would ? "would forget" : "forgot", it->hex,
			    u->o->base);
	strbuf_addf(&sb, "\n  %s back to done: it can converge and merge again",
		    u->o->dry_run ? "would go" : "went");
	say(u, rec.buf, sb.buf);
	strbuf_release(&rec);
	strbuf_release(&sb);
}

/*
 * The revert of it->merge against its first parent (`git revert -m 1`),
 * on u->tip, as a commit in *out. It is computed in process with
 * libgit2's git_revert_commit(): a revert is a three-way merge of the
 * tip with the merge's first parent as the other side and the merge as
 * the base, and the rename detection of git's ort strategy matters
 * little there, since the paths it reverses are the ones the merge
 * itself wrote. Returns 0, 1 when it conflicts (paths in *conflicts),
 * -1 after an error.
 */
static int make_revert(struct undo *u, const struct item *it, git_oid *out,
		       struct strvec *conflicts)
{
	git_repository *repo = u->o->repo->repo;
	git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
	git_commit *merge = NULL, *ours = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_oid tree_oid;
	struct strbuf msg = STRBUF_INIT;
	int ret = -1;

	if (git_commit_lookup(&merge, repo, &it->merge) < 0 ||
	    git_commit_lookup(&ours, repo, &u->tip) < 0 ||
	    git_revert_commit(&index, repo, merge, ours, 1, &mo) < 0) {
		error_git("cannot revert the merge of '%s'", id_of(u, it));
		goto out;
	}
	if (git_index_has_conflicts(index)) {
		git_index_conflict_iterator *iter = NULL;
		const git_index_entry *a, *o, *t;

		if (!git_index_conflict_iterator_new(&iter, index))
			while (!git_index_conflict_next(&a, &o, &t, iter))
				strvec_push(conflicts, a ? a->path : o ? o->path : t->path);
		git_index_conflict_iterator_free(iter);
		ret = 1;
		goto out;
	}
	if (git_index_write_tree_to(&tree_oid, index, repo) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		error_git("cannot write the revert of '%s'", id_of(u, it));
		goto out;
	}
	author = ws_merge_ident(u->o->repo, "AUTHOR");
	committer = ws_merge_ident(u->o->repo, "COMMITTER");
	/* git revert's message, and why */
	strbuf_addf(&msg, "Revert \"%s\"\n\nThis reverts commit %s, reversing\n"
		    "changes made to %s.\n\nUndoes %s of plan ",
		    git_commit_summary(merge), it->hex,
		    git_oid_tostr_s(git_commit_parent_id(merge, 0)), id_of(u, it));
	strbuf_add_sanitized(&msg, u->o->plan->name);
	strbuf_addstr(&msg, " (git ws-merge --undo).\n");
	if (git_commit_create_v(out, repo, NULL, author, committer, NULL,
				msg.buf, tree, 1, ours) < 0) {
		error_git("cannot commit the revert of '%s'", id_of(u, it));
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&msg);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_index_free(index);
	git_commit_free(ours);
	git_commit_free(merge);
	return ret;
}

/*
 * After the revert `to` of the merge of `it` went on the base (from
 * `from`): its branch's commits are in the base's history, so merging
 * the branch again would bring nothing (git's "revert a faulty merge"
 * problem). Put a commit on the branch that reverts the revert, its
 * tree `from`'s, as `git revert <revert>` there after `git merge <base>`
 * would: the branch fast-forwards, nothing of it is lost, and the next
 * merge brings the workstream's changes back. Its worktree, when clean,
 * follows (follow.h); a dirty one keeps the branch where it is, with a
 * warning that says what to do.
 */
static void reapply_on_branch(struct undo *u, const struct item *it,
			      const git_oid *from, const git_oid *to)
{
	const struct ws_undo_opts *o = u->o;
	git_repository *repo = o->repo->repo;
	const char *id = id_of(u, it);
	char *branch = xstrdup_or_null(ws_state_get(&u->st, id, WS_KEY_BRANCH));
	struct strvec wts = STRVEC_INIT;
	git_commit *parent = NULL, *fc = NULL;
	git_tree *tree = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_reference *ref = NULL;
	struct strbuf msg = STRBUF_INIT;
	char *name = NULL, *reflog = NULL;
	git_oid tip, oid;
	size_t k;

	if (!branch || ws_branch_tip(o->repo, branch, &tip) < 0)
		goto out;
	ws_branch_worktrees(o->repo, branch, &wts);
	for (k = 0; k < wts.nr; k++) {
		if (ws_worktree_is_dirty(wts.v[k])) {
			warning("'%s' has uncommitted changes: its branch '%s' stays where it is, and a merge of it would bring nothing of what was reverted",
				wts.v[k], branch);
			advise("commit there, then 'git merge %s' and 'git revert %.7s' on the branch",
			       o->base, git_oid_tostr_s(to));
			goto out;
		}
	}
	if (git_commit_lookup(&parent, repo, to) < 0 ||
	    git_commit_lookup(&fc, repo, from) < 0 ||
	    git_commit_tree(&tree, fc) < 0) {
		error_git("cannot put the changes of '%s' back on its branch", id);
		goto out;
	}
	author = ws_merge_ident(o->repo, "AUTHOR");
	committer = ws_merge_ident(o->repo, "COMMITTER");
	strbuf_addf(&msg, "Reapply \"%s\"\n\nThis reverts commit %s.\n\n"
		    "git ws-merge --undo took the merge of %s out of %s; this puts\n"
		    "its changes back on its branch, so that a merge brings them again.\n",
		    git_commit_summary(parent), git_oid_tostr_s(to), id, o->base);
	name = xstrfmt("refs/heads/%s", branch);
	reflog = xstrfmt("ws-merge: undo %s: reapply on %s", id, o->base);
	if (git_commit_create_v(&oid, repo, NULL, author, committer, NULL,
				msg.buf, tree, 1, parent) < 0 ||
	    git_reference_create_matching(&ref, repo, name, &oid, 1, &tip,
					  reflog) < 0) {
		error_git("cannot put the changes of '%s' back on its branch", id);
		goto out;
	}
	for (k = 0; k < wts.nr; k++)
		ws_follow(o->repo, branch, wts.v[k], &tip, &oid, o->lock_fd);
out:
	free(reflog);
	free(name);
	strbuf_release(&msg);
	git_reference_free(ref);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_commit_free(fc);
	git_commit_free(parent);
	strvec_clear(&wts);
	free(branch);
}

/* Undo items[k] on its own: a reset when it is the tip, else a revert. */
static int undo_one(struct undo *u, size_t k)
{
	const struct ws_undo_opts *o = u->o;
	const struct item *it = &u->items[k];
	const char *id = id_of(u, it);
	struct strvec conflicts = STRVEC_INIT;
	git_oid to, from = u->tip;
	int r;

	if (!o->dry_run && ws_branch_tip(o->repo, o->base, &from) < 0)
		return error_git("cannot read branch '%s'", o->base);
	if (git_oid_equal(&from, &it->merge)) {
		if (first_parent(u, &it->merge, &to) < 0)
			return -1;
		if (!o->dry_run && move_base(u, k, 1, &from, &to) < 0)
			return -1;
		u->tip = to;
		say_undone(u, it, "reset", &to);
		return 0;
	}
	u->tip = from;
	r = make_revert(u, it, &to, &conflicts);
	if (r > 0) {
		struct strbuf list = STRBUF_INIT;

		strvec_join(&list, &conflicts, ", ");
		error("cannot undo '%s': reverting its merge %.7s conflicts with what '%s' has since, in %s",
		      id, it->hex, o->base, list.buf);
		advise("undo the later merges that touch them too, or revert it by hand");
		say_refused(u, it, NULL, "conflict", list.buf);
		strbuf_release(&list);
	}
	strvec_clear(&conflicts);
	if (r)
		return -1;
	if (!o->dry_run && !o->no_verify) {
		char *log = ws_path(o->repo, "logs/%s.undo.log", id);
		const char *branch = ws_state_get(&u->st, id, WS_KEY_BRANCH);
		int t = ws_scratch_test(o->repo, o->plan, it->i,
					branch ? branch : "", &to, log,
					o->lock_fd, !o->porcelain && isatty(2));

		if (t > 0) {
			error("cannot undo '%s': the tests fail on '%s' without it: see %s",
			      id, o->base, log);
			advise("'%s' is left as it is; fix what depends on it first", o->base);
			say_refused(u, it, NULL, "tests-failed", log);
		}
		free(log);
		if (t)
			return -1;
	}
	if (!o->dry_run) {
		if (move_base(u, k, 1, &from, &to) < 0)
			return -1;
		reapply_on_branch(u, it, &from, &to);
	}
	u->tip = to;
	say_undone(u, it, "revert", &to);
	return 0;
}

/* Forget the merge of items[k], which the base does not have. */
static int forget_one(struct undo *u, size_t k)
{
	const struct item *it = &u->items[k];
	int ret = 0;

	if (!u->o->dry_run) {
		ws_state_release(&u->st);
		ws_state_lock_repo(&u->st, u->o->repo);
		if (ws_undo_back_to_done(u->o->repo, u->o->plan, &u->st, it->i,
					 it->hex) < 0)
			ret = -1;
		ws_state_write_or_die(&u->st);
		bring_back_worktrees(u, k, 1);
		ws_state_commit_or_die(&u->st);
	}
	say_undone(u, it, "forget", NULL);
	return ret;
}

/* Undo every item, in u->items' order (newest first). */
static int run(struct undo *u)
{
	size_t k = 0, top;

	for (; k < u->nr && (!u->items[k].on_base || !u->items[k].merge_commit); k++)
		if (forget_one(u, k) < 0)
			return 1;
	/* the rest that are the top of the first-parent line: one move */
	for (top = k; top < u->nr && u->items[top].pos == (long)(top - k); top++)
		;
	if (top - k > 1) {
		const struct item *oldest = &u->items[top - 1];
		git_oid to, from = u->tip;
		size_t n;

		if (first_parent(u, &oldest->merge, &to) < 0)
			return 1;
		if (!u->o->dry_run && move_base(u, k, top - k, &from, &to) < 0)
			return 1;
		for (n = k; n < top; n++)
			say_undone(u, &u->items[n], "reset", &to);
		u->tip = to;
		k = top;
	}
	for (; k < u->nr; k++)
		if (undo_one(u, k) < 0)
			return 1;
	return 0;
}

static int start(struct undo *u, const struct ws_undo_opts *opts)
{
	u->o = opts;
	state_read(u);
	if (ws_branch_tip(opts->repo, opts->base, &u->tip) < 0)
		return error_git("cannot read branch '%s'", opts->base);
	return 0;
}

static void finish(struct undo *u)
{
	ws_state_release(&u->st);
	free(u->items);
}

int ws_merge_undo(const struct ws_undo_opts *opts, const char *const *ids,
		  size_t nr)
{
	struct undo u = { NULL, WS_STATE_INIT, NULL, 0, { { 0 } } };
	int ret = 1;

	if (start(&u, opts) < 0)
		goto out;
	if (read_items(&u, ids, nr) | check_dependents(&u))
		goto out;
	qsort(u.items, u.nr, sizeof(*u.items), cmp_item);
	ret = run(&u);
out:
	finish(&u);
	return ret;
}

int ws_merge_rollback(const struct ws_undo_opts *opts, const char *checkpoint)
{
	struct undo u = { NULL, WS_STATE_INIT, NULL, 0, { { 0 } } };
	struct ws_checkpoints cps = WS_CHECKPOINTS_INIT;
	struct strvec ids = STRVEC_INIT;
	git_oid target;
	long at;
	size_t k;
	int ret = 1;

	if (start(&u, opts) < 0)
		goto out;
	if (ws_checkpoints_get(opts->repo, opts->plan, &u.st, opts->base,
			       &cps) < 0 ||
	    ws_checkpoint_resolve(opts->repo, &cps, opts->base, checkpoint,
				  &target) < 0 ||
	    ws_first_parent_positions(opts->repo, &cps.tip, &target, 1, &at) < 0)
		goto out;
	for (k = 0; k < cps.nr; k++)
		if (!cps.v[k].archived && cps.v[k].pos >= 0 && cps.v[k].pos < at)
			strvec_push(&ids, cps.v[k].id);
	for (k = 0; k < cps.nr; k++)
		if (cps.v[k].archived && cps.v[k].pos >= 0 && cps.v[k].pos < at)
			warning("the merge of '%s' is after %s, but its record is archived; it stays",
				cps.v[k].id, checkpoint);
	if (!ids.nr) {
		if (!opts->porcelain)
			printf("Nothing to roll back: no merge of plan '%s' is after %.7s on '%s'.\n",
			       opts->plan->name, git_oid_tostr_s(&target),
			       opts->base);
		ret = 0;
		goto out;
	}
	if (read_items(&u, (const char *const *)ids.v, ids.nr) |
	    check_dependents(&u))
		goto out;
	qsort(u.items, u.nr, sizeof(*u.items), cmp_item);
	ret = run(&u);
out:
	strvec_clear(&ids);
	ws_checkpoints_release(&cps);
	finish(&u);
	return ret;
}

int ws_undo_repair(struct ws_recover *rc, const struct ws_intent *in)
{
	const struct plan *plan = rc->plan;
	const struct ws_repo *r = rc->repo;
	git_oid from, to, tip;
	ssize_t i;
	int happened;

	if (!plan)
		return 0;
	i = plan_find(plan, in->id);
	if (i < 0 || !in->from || !in->to || git_oid_fromstr(&from, in->from) < 0 ||
	    git_oid_fromstr(&to, in->to) < 0 ||
	    ws_branch_tip(r, plan->base, &tip) < 0) {
		warning("ignoring the unreadable undo record of '%s' in '%s'",
			in->id, rc->st->state_path);
		return 1;
	}
	/*
	 * A reset moves the base back to an ancestor of undo-from, a revert
	 * on to a child of it: whether the move happened is which of the
	 * two the tip has.
	 */
	if (git_oid_equal(&tip, &to))
		happened = 1;
	else if (contains(r, &from, &to)) /* a reset */
		happened = contains(r, &tip, &to) && !contains(r, &tip, &from) ? 1 :
			   contains(r, &tip, &from) ? 0 : -1;
	else
		happened = contains(r, &tip, &to) ? 1 :
			   contains(r, &tip, &from) ? 0 : -1;
	if (happened > 0 && ws_is_merged(rc->st, in->id)) {
		char *m = xstrdup_or_null(ws_state_get(rc->st, in->id,
						       WS_KEY_MERGE_OID));

		fprintf(stderr, "%s: finishing the undo of its merge that an interrupted git ws-merge left\n",
			in->id);
		if (!rc->dry_run)
			ws_undo_back_to_done(r, plan, rc->st, i, m);
		rc->changed++;
		free(m);
	} else if (!happened) {
		fprintf(stderr, "%s: an interrupted git ws-merge --undo did not move '%s'; it stays merged\n",
			in->id, plan->base);
	} else if (happened < 0) {
		warning("'%s': an undo was interrupted and '%s' has moved elsewhere since; its state is left as it is",
			in->id, plan->base);
	}
	return 1;
}

size_t ws_undo_warn_lost(const struct ws_repo *r, const struct plan *plan,
			 const struct ws_state *st, const char *base)
{
	git_oid tip, m;
	size_t i, n = 0;

	if (ws_branch_tip(r, base, &tip) < 0)
		return 0;
	for (i = 0; i < plan->nr; i++) {
		const char *id = plan->ws[i].id;
		const char *hex = ws_state_get(st, id, WS_KEY_MERGE_OID);

		if (!ws_is_merged(st, id) || !hex || git_oid_fromstr(&m, hex) < 0 ||
		    contains(r, &tip, &m))
			continue;
		warning("'%s' is recorded as merged at %.7s, but '%s' no longer contains that commit",
			id, hex, base);
		advise("'git ws-merge --undo %s' takes it back to done ('%s' is left as it is);\n"
		       "then converge and merge it again", id, base);
		n++;
	}
	return n;
}
