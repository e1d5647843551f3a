#include "compat.h"
#include "allocate.h"
#include "wrapper.h"

static size_t find_root(size_t *parent, size_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]];
		x = parent[x];
	}
	return x;
}

/*
 * The conflict-risk pass, without comparing every pair of workstreams:
 * two `paths` globs can only overlap when the literal prefix of one (up to
 * its first *, ? or [) is a prefix of the other's (plan_globs_overlap()
 * compares those prefixes, or matches one glob against the other as a
 * string, which starts with both; plan_glob_literal_prefix()). The
 * prefixes are sorted, so that those
 * that start with a given one form a run, and each workstream is compared
 * only with the workstreams such a run, or a shorter prefix of its own,
 * brings: `git ws-alloc -n` of 10 000 workstreams with disjoint paths
 * (many-10000-paths.plan of t/corpus/plans/generate.sh) took 2.3 s with
 * every pair compared, 0.17 s so. Risks come out in the order of the pairs
 * (a, b), a < b, as a loop over all pairs would give them.
 */
struct path_key {
	const char *s;
	size_t len;  /* of the literal prefix */
	size_t ws;
};

static int cmp_key(const void *va, const void *vb)
{
	const struct path_key *a = va, *b = vb;
	int c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The first key not less than the prefix (s, len). */
static size_t lower_bound(const struct path_key *key, size_t nr,
			  const char *s, size_t len)
{
	struct path_key want = { s, len, 0 };
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(&key[mid], &want) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_size(const void *va, const void *vb)
{
	size_t a = *(const size_t *)va, b = *(const size_t *)vb;

	return a < b ? -1 : a > b;
}

/* Note w as a candidate partner of i, once, when it comes after i. */
static void add_candidate(size_t w, size_t i, size_t *stamp, size_t *cand,
			  size_t *cand_nr)
{
	if (w > i && stamp[w] != i + 1) {
		stamp[w] = i + 1;
		cand[(*cand_nr)++] = w;
	}
}

static void find_conflict_risks(const struct plan *p, struct ws_allocation *out)
{
	struct path_key *key = NULL;
	size_t key_nr = 0, key_alloc = 0, *cand, *stamp, i, j, k, x;

	for (i = 0; i < p->nr; i++)
		for (j = 0; j < p->ws[i].paths.nr; j++) {
			const char *glob = p->ws[i].paths.v[j];

			ALLOC_GROW(key, key_nr + 1, key_alloc);
			key[key_nr].s = glob;
			key[key_nr].len = plan_glob_literal_prefix(glob);
			key[key_nr++].ws = i;
		}
	if (!key_nr)
		return;
	qsort(key, key_nr, sizeof(*key), cmp_key);
	cand = xmalloc(p->nr * sizeof(*cand));
	stamp = xcalloc(p->nr, sizeof(*stamp)); /* i + 1: a candidate of i */

	for (i = 0; i < p->nr; i++) {
		size_t cand_nr = 0;

		for (j = 0; j < p->ws[i].paths.nr; j++) {
			const char *glob = p->ws[i].paths.v[j];
			size_t len = plan_glob_literal_prefix(glob);

			/* prefixes that start with this one */
			for (x = lower_bound(key, key_nr, glob, len);
			     x < key_nr && key[x].len >= len &&
			     !memcmp(key[x].s, glob, len); x++)
				add_candidate(key[x].ws, i, stamp, cand, &cand_nr);
			/* prefixes this one starts with */
			for (k = 0; k < len; k++)
				for (x = lower_bound(key, key_nr, glob, k);
				     x < key_nr && key[x].len == k &&
				     !memcmp(key[x].s, glob, k); x++)
					add_candidate(key[x].ws, i, stamp, cand, &cand_nr);
		}
		qsort(cand, cand_nr, sizeof(*cand), cmp_size);
		for (j = 0; j < cand_nr; j++) {
			size_t b = cand[j];
			struct ws_conflict_risk *risk;

			if (out->owner[i] == out->owner[b] ||
			    !plan_paths_overlap(&p->ws[i].paths, &p->ws[b].paths) ||
			    graph_depends_on(&p->graph, i, b) ||
			    graph_depends_on(&p->graph, b, i))
				continue;
			ALLOC_GROW(out->risks, out->risk_nr + 1, out->risk_alloc);
			risk = &out->risks[out->risk_nr++];
			risk->a = i;
			risk->b = b;
		}
	}
	free(stamp);
	free(cand);
	free(key);
}

void ws_allocate(const struct plan *p, struct ws_allocation *out)
{
	size_t *parent = xmalloc((p->nr + 1) * sizeof(*parent));
	size_t *rank = xcalloc(p->nr + 1, sizeof(*rank)); /* topo position */
	size_t *best = xmalloc((p->nr + 1) * sizeof(*best));
	char *is_target = xcalloc(p->nr + 1, 1);
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->owner = xmalloc((p->nr + 1) * sizeof(*out->owner));
	out->why = xcalloc(p->nr + 1, sizeof(*out->why));
	for (i = 0; i < p->nr; i++) {
		parent[i] = i;
		rank[p->order[i]] = i;
	}

	for (i = 0; i < p->nr; i++) {
		const struct plan_workstream *w = &p->ws[i];

		if (w->share) {
			size_t t = (size_t)plan_find(p, w->share);
			is_target[t] = 1;
			out->why[i] = SHARE_EXPLICIT;
			parent[find_root(parent, i)] = find_root(parent, t);
		}
	}
	for (i = 0; i < p->nr; i++) {
		const struct plan_workstream *w = &p->ws[i];

		for (j = 0; j < w->dep_nr; j++) {
			size_t d = w->dep_idx[j];
			size_t ri, rd;

			if (!w->paths.nr || !p->ws[d].paths.nr ||
			    !plan_paths_overlap(&w->paths, &p->ws[d].paths))
				continue;
			ri = find_root(parent, i);
			rd = find_root(parent, d);
			if (ri == rd)
				continue;
			parent[ri] = rd;
			if (out->why[i] == SHARE_NONE)
				out->why[i] = SHARE_OVERLAP;
		}
	}

	/* each group's owner: a `worktree =` target first, then topo order */
	for (i = 0; i < p->nr; i++)
		best[i] = SIZE_MAX;
	for (i = 0; i < p->nr; i++) {
		size_t r = find_root(parent, i), b = best[r];

		if (b == SIZE_MAX || (is_target[i] && !is_target[b]) ||
		    (is_target[i] == is_target[b] && rank[i] < rank[b]))
			best[r] = i;
	}
	for (i = 0; i < p->nr; i++) {
		out->owner[i] = best[find_root(parent, i)];
		if (out->owner[i] == i)
			out->why[i] = SHARE_NONE;
		else if (out->why[i] == SHARE_NONE)
			out->why[i] = SHARE_OVERLAP; /* joined through another member */
	}

	find_conflict_risks(p, out);
	free(parent);
	free(rank);
	free(best);
	free(is_target);
}

void ws_allocation_release(struct ws_allocation *a)
{
	free(a->owner);
	free(a->why);
	free(a->risks);
	memset(a, 0, sizeof(*a));
}
