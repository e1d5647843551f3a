#include "compat.h"
#include "conflicts.h"
#include "changed-paths.h"
#include "contracts.h"
#include "mergetree.h"
#include "usage.h"
#include "wrapper.h"

/*
 * What one side of a merge changed since the merge base: the paths, and
 * the directories it added files to or removed files from (for the
 * directory-rename rule of conflicts.h). Computed once per (from, to).
 */
struct side {
	git_oid from, to;
	struct strvec paths;
	struct strvec added_dirs;
	struct strvec removed_dirs;
	int ok;
};

struct side_cache {
	struct side **v; /* pointers: a side stays where it is as v grows */
	size_t nr, alloc;
};

/* An active workstream: its plan index and branch tip. */
struct active {
	size_t i;
	const char *branch;
	git_oid tip;
};

/* The directory of `path` into dirs; nothing for a file at the top. */
static void push_dir(struct strvec *dirs, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;

	if (!slash)
		return;
	dir = xstrndup(path, slash - path);
	if (strvec_find(dirs, dir) < 0)
		strvec_push(dirs, dir);
	free(dir);
}

/* The tree of commit `oid`; NULL after printing an error. */
static git_tree *commit_tree(const struct ws_repo *r, const git_oid *oid)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char hex[GIT_OID_HEXSZ + 1];

	if (git_commit_lookup(&commit, r->repo, oid) < 0 ||
	    git_commit_tree(&tree, commit) < 0)
		error_git("cannot read the tree of '%s'", ws_oid_hex(oid, hex));
	git_commit_free(commit);
	return tree;
}

/*
 * Fill s from the diff of its two commits, without rename detection (a
 * rename is a removal and an addition: both paths count), as
 * ws_tree_changed_paths() does.
 */
static int side_diff(const struct ws_repo *r, struct side *s)
{
	git_tree *a = commit_tree(r, &s->from), *b = a ? commit_tree(r, &s->to) : NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	size_t k, n;
	int ret = -1;

	if (!a || !b)
		goto cleanup;
	opts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	if (git_diff_tree_to_tree(&diff, r->repo, a, b, &opts) < 0) {
		error_git("cannot compare trees");
		goto cleanup;
	}
	n = git_diff_num_deltas(diff);
	for (k = 0; k < n; k++) {
		const git_diff_delta *d = git_diff_get_delta(diff, k);
		const char *path = d->new_file.path ? d->new_file.path :
				   d->old_file.path;

		strvec_push(&s->paths, path);
		if (d->status == GIT_DELTA_ADDED)
			push_dir(&s->added_dirs, path);
		else if (d->status == GIT_DELTA_DELETED)
			push_dir(&s->removed_dirs, path);
	}
	ret = 0;
cleanup:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return ret;
}

/* The side from..to, computed on first use; NULL after an error. */
static const struct side *side_get(struct side_cache *c,
				   const struct ws_repo *r,
				   const git_oid *from, const git_oid *to)
{
	struct side *s;
	size_t k;

	for (k = 0; k < c->nr; k++)
		if (git_oid_equal(&c->v[k]->from, from) &&
		    git_oid_equal(&c->v[k]->to, to))
			return c->v[k]->ok ? c->v[k] : NULL;
	ALLOC_GROW(c->v, c->nr + 1, c->alloc);
	s = c->v[c->nr++] = xcalloc(1, sizeof(*s));
	git_oid_cpy(&s->from, from);
	git_oid_cpy(&s->to, to);
	strvec_init(&s->paths);
	strvec_init(&s->added_dirs);
	strvec_init(&s->removed_dirs);
	s->ok = !side_diff(r, s);
	return s->ok ? s : NULL;
}

static void side_cache_release(struct side_cache *c)
{
	size_t k;

	for (k = 0; k < c->nr; k++) {
		strvec_clear(&c->v[k]->paths);
		strvec_clear(&c->v[k]->added_dirs);
		strvec_clear(&c->v[k]->removed_dirs);
		free(c->v[k]);
	}
	free(c->v);
}

/*
 * 1 when the merge of `x` and `y` (both from their merge base) may
 * conflict: they changed a common path (or one changed a directory's
 * path and the other a path in it), or one added files to a directory
 * the other removed files from.
 */
static int may_conflict(const struct side *x, const struct side *y)
{
	struct strvec common = STRVEC_INIT;
	int meet;

	meet = ws_paths_intersect(&x->paths, &y->paths, &common) ||
	       ws_paths_intersect(&x->added_dirs, &y->removed_dirs, &common) ||
	       ws_paths_intersect(&x->removed_dirs, &y->added_dirs, &common);
	strvec_clear(&common);
	return meet;
}

/*
 * The active workstreams, in plan order, one per branch: not merged
 * (ws_is_merged()) nor cleaned, allocated, with a branch whose tip is
 * not in the base.
 */
static size_t find_active(const struct ws_repo *r, const struct plan *plan,
			  const struct ws_state *st, const git_oid *base_tip,
			  struct active *act)
{
	size_t i, k, nr = 0;

	for (i = 0; i < plan->nr; i++) {
		const char *id = plan->ws[i].id;
		enum ws_status s = ws_state_status(st, id);
		const char *branch = ws_state_get(st, id, WS_KEY_BRANCH);
		git_oid tip;

		if (s == WS_STATUS_NONE || s == WS_STATUS_CLEANED ||
		    ws_is_merged(st, id))
			continue;
		if (!branch)
			branch = plan->ws[i].branch;
		for (k = 0; k < nr; k++)
			if (!strcmp(act[k].branch, branch))
				break;
		if (k < nr || ws_branch_tip(r, branch, &tip) < 0)
			continue;
		if (git_oid_equal(&tip, base_tip) ||
		    git_graph_descendant_of(r->repo, base_tip, &tip) == 1)
			continue; /* no commits of its own */
		act[nr].i = i;
		act[nr].branch = branch;
		git_oid_cpy(&act[nr].tip, &tip);
		nr++;
	}
	return nr;
}

/* One merge to compute: ours and theirs, and the conflict it would be. */
struct pending {
	size_t a, b;
	git_oid ours, theirs;
	struct strvec ours_owns;
	const struct strvec *theirs_owns;
};

/*
 * Whether the merge of `ours` and `theirs` has to be computed (their
 * changes may meet). Returns 1 or 0, or -1 after an error.
 */
static int needs_merge(const struct ws_repo *r, struct side_cache *cache,
		       const git_oid *ours, const git_oid *theirs)
{
	const struct side *x, *y;
	git_oidarray bases = { NULL, 0 };
	git_oid mb;
	char hex1[GIT_OID_HEXSZ + 1], hex2[GIT_OID_HEXSZ + 1];
	int code = git_merge_bases(&bases, r->repo, ours, theirs);

	if (code == GIT_ENOTFOUND) {
		warning("no merge base between '%s' and '%s': not checked",
			ws_oid_hex(ours, hex1), ws_oid_hex(theirs, hex2));
		return 0;
	}
	if (code < 0)
		return error_git("cannot find the merge base of '%s' and '%s'",
				 ws_oid_hex(ours, hex1), ws_oid_hex(theirs, hex2));
	if (bases.count != 1) {
		/*
		 * criss-cross history: git merges from a virtual base made
		 * of them all, whose changes one base does not tell
		 */
		git_oidarray_dispose(&bases);
		return 1;
	}
	git_oid_cpy(&mb, &bases.ids[0]);
	git_oidarray_dispose(&bases);
	if (git_oid_equal(&mb, ours) || git_oid_equal(&mb, theirs))
		return 0; /* a fast-forward cannot conflict */
	x = side_get(cache, r, &mb, ours);
	y = x ? side_get(cache, r, &mb, theirs) : NULL;
	if (!x || !y)
		return -1;
	return may_conflict(x, y);
}

/* Run the pending merges; append those that conflict to out. */
static int run_merges(const struct ws_repo *r, struct pending *p, size_t nr,
		      struct ws_conflicts *out)
{
	git_oid *ours = xcalloc(nr + 1, sizeof(*ours));
	git_oid *theirs = xcalloc(nr + 1, sizeof(*theirs));
	const struct strvec **t_owns = xcalloc(nr + 1, sizeof(*t_owns));
	const struct strvec **o_owns = xcalloc(nr + 1, sizeof(*o_owns));
	struct ws_merge_result *res = xcalloc(nr + 1, sizeof(*res));
	size_t k;
	int ret = 0;

	for (k = 0; k < nr; k++) {
		struct ws_merge_result init = WS_MERGE_RESULT_INIT;

		ours[k] = p[k].ours;
		theirs[k] = p[k].theirs;
		t_owns[k] = p[k].theirs_owns;
		o_owns[k] = &p[k].ours_owns;
		res[k] = init;
	}
	if (ws_merge_compute_many(r, nr, ours, theirs, t_owns, o_owns, res) < 0) {
		/* one by one: the one git cannot merge is named */
		for (k = 0; k < nr && !ret; k++) {
			struct ws_merge_result init = WS_MERGE_RESULT_INIT;

			res[k] = init;
			ret = ws_merge_compute(r, &ours[k], &theirs[k],
					       t_owns[k], o_owns[k], &res[k]);
		}
	}
	for (k = 0; k < nr; k++) {
		if (!ret && !res[k].clean) {
			struct ws_conflict *c;

			ALLOC_GROW(out->v, out->nr + 1, out->alloc);
			c = &out->v[out->nr++];
			c->a = p[k].a;
			c->b = p[k].b;
			strvec_init(&c->paths);
			strvec_pushv(&c->paths, (const char **)res[k].conflicts.v);
		}
		ws_merge_result_release(&res[k]);
	}
	free(ours);
	free(theirs);
	free(t_owns);
	free(o_owns);
	free(res);
	return ret;
}

int ws_conflicts_compute(const struct ws_repo *r, const struct plan *plan,
			 const struct ws_state *st, const int *want,
			 struct ws_conflicts *out)
{
	struct active *act = xcalloc(plan->nr + 1, sizeof(*act));
	struct pending *p = NULL;
	struct side_cache cache = { NULL, 0, 0 };
	size_t nr, pnr = 0, palloc = 0, x, y;
	git_oid base_tip;
	int ret = -1, code;

	if (ws_branch_tip(r, plan->base, &base_tip) < 0) {
		error("base branch '%s' does not exist", plan->base);
		goto cleanup;
	}
	nr = find_active(r, plan, st, &base_tip, act);
	out->active = nr;
	for (x = 0; x < nr; x++)
		for (y = x + 1; y <= nr; y++) {
			int base = y == nr;
			const git_oid *ours = base ? &base_tip : &act[x].tip;
			const git_oid *theirs = base ? &act[x].tip : &act[y].tip;

			if (want && !want[act[x].i] && (base || !want[act[y].i]))
				continue;
			out->pairs++;
			code = needs_merge(r, &cache, ours, theirs);
			if (code < 0)
				goto cleanup;
			if (!code)
				continue;
			ALLOC_GROW(p, pnr + 1, palloc);
			p[pnr].a = act[x].i;
			p[pnr].b = base ? WS_CONFLICT_BASE : act[y].i;
			p[pnr].ours = *ours;
			p[pnr].theirs = *theirs;
			strvec_init(&p[pnr].ours_owns);
			if (base) {
				/* as git ws-merge would merge it now */
				ws_merged_contracts(plan, st, act[x].i,
						    &p[pnr].ours_owns, NULL);
				p[pnr].theirs_owns = &plan->ws[act[x].i].contract;
			} else {
				strvec_pushv(&p[pnr].ours_owns, (const char **)
					     plan->ws[act[x].i].contract.v);
				p[pnr].theirs_owns = &plan->ws[act[y].i].contract;
			}
			pnr++;
		}
	out->merged = pnr;
	ret = run_merges(r, p, pnr, out);
	if (!ret) {
		/* the pairs first, then the conflicts with the base */
		size_t k, w = 0;
		struct ws_conflict *sorted = xcalloc(out->nr + 1, sizeof(*sorted));

		for (k = 0; k < out->nr; k++)
			if (out->v[k].b != WS_CONFLICT_BASE)
				sorted[w++] = out->v[k];
		for (k = 0; k < out->nr; k++)
			if (out->v[k].b == WS_CONFLICT_BASE)
				sorted[w++] = out->v[k];
		if (out->nr)
			memcpy(out->v, sorted, out->nr * sizeof(*sorted));
		free(sorted);
	}
cleanup:
	if (ret < 0)
		ws_conflicts_release(out);
	for (x = 0; x < pnr; x++)
		strvec_clear(&p[x].ours_owns);
	free(p);
	side_cache_release(&cache);
	free(act);
	return ret;
}

void ws_conflicts_release(struct ws_conflicts *c)
{
	size_t k;

	for (k = 0; k < c->nr; k++)
		strvec_clear(&c->v[k].paths);
	free(c->v);
	c->v = NULL;
	c->nr = c->alloc = c->active = c->pairs = c->merged = 0;
}

/* "conflict: ws-1 and ws-2 in " (or "and base 'main'"), into sb. */
static void add_pair(struct strbuf *sb, const struct plan *plan,
		     const struct ws_conflict *c)
{
	strbuf_addf(sb, "conflict: %s and ", plan->ws[c->a].id);
	if (c->b == WS_CONFLICT_BASE)
		strbuf_addf(sb, "base '%s' in ", plan->base);
	else
		strbuf_addf(sb, "%s in ", plan->ws[c->b].id);
}

/* Append a path as a porcelain field: control characters harmless, tabs as spaces. */
static void add_path_field(struct strbuf *sb, const char *path)
{
	size_t start = sb->len, i;

	strbuf_add_sanitized(sb, path);
	for (i = start; i < sb->len; i++)
		if (sb->buf[i] == '\t')
			sb->buf[i] = ' ';
}

void ws_conflicts_print(const struct ws_conflicts *c, const struct plan *plan,
			int porcelain, int nul)
{
	struct strbuf sb = STRBUF_INIT;
	size_t k, n;

	for (k = 0; k < c->nr; k++) {
		const struct ws_conflict *x = &c->v[k];

		for (n = 0; porcelain && n < x->paths.nr; n++) {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "conflict\t%s\t%s\t", plan->ws[x->a].id,
				    x->b == WS_CONFLICT_BASE ? "base" :
				    plan->ws[x->b].id);
			if (nul)
				strbuf_addstr(&sb, x->paths.v[n]);
			else
				add_path_field(&sb, x->paths.v[n]);
			strbuf_addch(&sb, nul ? '\0' : '\n');
			fwrite(sb.buf, 1, sb.len, stdout);
		}
		if (porcelain)
			continue;
		strbuf_reset(&sb);
		add_pair(&sb, plan, x);
		for (n = 0; n < x->paths.nr; n++) {
			if (n)
				strbuf_addstr(&sb, ", ");
			strbuf_add_sanitized(&sb, x->paths.v[n]);
		}
		puts(sb.buf);
	}
	if (!porcelain)
		printf("%zu pair%s in conflict among %zu active workstream%s and base '%s' (%zu of %zu pairs needed a merge)\n",
		       c->nr, c->nr == 1 ? "" : "s", c->active,
		       c->active == 1 ? "" : "s", plan->base, c->merged,
		       c->pairs);
	strbuf_release(&sb);
}

void ws_conflicts_tips(const struct ws_repo *r, const struct plan *plan,
		       const struct ws_state *st, struct strbuf *out)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid tip;
	size_t i;

	strbuf_reset(out);
	if (!ws_branch_tip(r, plan->base, &tip))
		strbuf_addstr(out, ws_oid_hex(&tip, hex));
	for (i = 0; i < plan->nr; i++) {
		const char *id = plan->ws[i].id;
		const char *branch = ws_state_get(st, id, WS_KEY_BRANCH);

		if (ws_is_merged(st, id) ||
		    ws_branch_tip(r, branch ? branch : plan->ws[i].branch, &tip))
			continue;
		strbuf_addf(out, " %s=%s", id, ws_oid_hex(&tip, hex));
	}
}

int ws_conflict_watch_update(struct ws_conflict_watch *w,
			     const struct ws_repo *r, const struct plan *plan,
			     const struct ws_state *st, struct strvec *lines)
{
	struct ws_conflicts c = WS_CONFLICTS_INIT;
	struct strvec known = STRVEC_INIT;
	struct strbuf tips = STRBUF_INIT, line = STRBUF_INIT;
	size_t k, n;
	int ret = 0;

	ws_conflicts_tips(r, plan, st, &tips);
	if (w->tips.len && !strcmp(tips.buf, w->tips.buf))
		goto cleanup;
	/* a failure is said once, not again until the tips move */
	strbuf_reset(&w->tips);
	strbuf_addbuf(&w->tips, &tips);
	if (ws_conflicts_compute(r, plan, st, NULL, &c) < 0) {
		ret = -1;
		goto cleanup;
	}
	ret = 1;
	for (k = 0; k < c.nr; k++) {
		const char *a = plan->ws[c.v[k].a].id;
		const char *b = c.v[k].b == WS_CONFLICT_BASE ? NULL :
				plan->ws[c.v[k].b].id;
		size_t added = 0;

		strbuf_reset(&line);
		add_pair(&line, plan, &c.v[k]);
		for (n = 0; n < c.v[k].paths.nr; n++) {
			const char *key = strvec_pushf(&known, "%s\t%s\t%s", a,
						       b ? b : "base",
						       c.v[k].paths.v[n]);

			if (strvec_find(&w->known, key) >= 0)
				continue;
			strbuf_addf(&line, "%s%s", added++ ? ", " : "",
				    c.v[k].paths.v[n]);
		}
		if (added)
			strvec_push(lines, line.buf);
	}
	strvec_clear(&w->known);
	w->known = known;
	strvec_init(&known);
	w->count = c.nr;
cleanup:
	ws_conflicts_release(&c);
	strvec_clear(&known);
	strbuf_release(&tips);
	strbuf_release(&line);
	return ret;
}

void ws_conflict_watch_release(struct ws_conflict_watch *w)
{
	strbuf_release(&w->tips);
	strvec_clear(&w->known);
	w->count = 0;
}
