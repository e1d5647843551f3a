#include "compat.h"
#include "archive.h"
#include "cfgfile.h"
#include "checkpoints.h"
#include "usage.h"
#include "wrapper.h"

int ws_first_parent_positions(const struct ws_repo *r, const git_oid *tip,
			      const git_oid *oids, size_t nr, long *pos)
{
	git_commit *c = NULL;
	git_oid cur = *tip;
	size_t k, left = nr;
	long n = 0;
	int ret = 0;

	for (k = 0; k < nr; k++)
		pos[k] = -1;
	while (left) {
		for (k = 0; k < nr; k++) {
			if (pos[k] < 0 && git_oid_equal(&oids[k], &cur)) {
				pos[k] = n;
				left--;
			}
		}
		if (!left)
			break;
		if (git_commit_lookup(&c, r->repo, &cur) < 0) {
			ret = error_git("cannot read the history of the base");
			break;
		}
		if (!git_commit_parentcount(c)) {
			git_commit_free(c);
			break;
		}
		cur = *git_commit_parent_id(c, 0);
		git_commit_free(c);
		c = NULL;
		n++;
	}
	return ret;
}

/* Add the checkpoint of `id` at hex `merge` unless it is no merge commit. */
static void add(const struct ws_repo *r, struct ws_checkpoints *cps,
		const char *id, const char *merge, int archived)
{
	struct ws_checkpoint *cp;
	git_commit *c = NULL;
	git_oid oid;

	if (!merge || git_oid_fromstr(&oid, merge) < 0 ||
	    git_commit_lookup(&c, r->repo, &oid) < 0)
		return;
	if (git_commit_parentcount(c) == 2) {
		ALLOC_GROW(cps->v, cps->nr + 1, cps->alloc);
		cp = &cps->v[cps->nr++];
		cp->id = xstrdup(id);
		cp->oid = oid;
		cp->time = git_commit_time(c);
		cp->archived = archived;
		cp->pos = -1;
	}
	git_commit_free(c);
}

static int has(const struct ws_checkpoints *cps, const char *id)
{
	size_t k;

	for (k = 0; k < cps->nr; k++)
		if (!strcmp(cps->v[k].id, id))
			return 1;
	return 0;
}

/* Newest first: on the line by position, then the gone ones by time. */
static int cmp_checkpoint(const void *va, const void *vb)
{
	const struct ws_checkpoint *a = va, *b = vb;

	if ((a->pos < 0) != (b->pos < 0))
		return a->pos < 0 ? 1 : -1;
	if (a->pos >= 0 && a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	if (a->time != b->time)
		return a->time > b->time ? -1 : 1;
	return strcmp(a->id, b->id);
}

/*
 * The workstreams of the archive that the state no longer has: the
 * last copy of each (ws_archive_workstream() appends newer copies).
 */
static void add_archived(const struct ws_repo *r, const struct plan *plan,
			 const struct ws_state *st, struct ws_checkpoints *cps)
{
	char *dir = ws_archive_dir(r, plan->name);
	char *path = xstrfmt("%s/state", dir);
	struct cfg_file cf = CFG_FILE_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t k;

	if (cfg_parse_file(&cf, path, CFG_MISSING_OK, &err) < 0) {
		warning("%s", err.buf);
		goto out;
	}
	for (k = cf.nr; k-- > 0; ) {
		const struct cfg_section *s = &cf.sections[k];

		if (!s->sub || strcmp(s->name, "workstream") ||
		    ws_state_find(st, s->sub) || has(cps, s->sub))
			continue;
		add(r, cps, s->sub, cfg_get(s, WS_KEY_MERGE_OID), 1);
	}
out:
	cfg_file_release(&cf);
	strbuf_release(&err);
	free(path);
	free(dir);
}

int ws_checkpoints_get(const struct ws_repo *r, const struct plan *plan,
		       const struct ws_state *st, const char *base,
		       struct ws_checkpoints *out)
{
	size_t pos = 0, k;
	const char *id;
	git_oid *oids;
	long *p;
	int ret;

	if (ws_branch_tip(r, base, &out->tip) < 0)
		return error_git("cannot read branch '%s'", base);
	while ((id = ws_state_next(st, &pos)))
		if (ws_is_merged(st, id))
			add(r, out, id, ws_state_get(st, id, WS_KEY_MERGE_OID), 0);
	add_archived(r, plan, st, out);

	oids = xcalloc(out->nr + 1, sizeof(*oids));
	p = xcalloc(out->nr + 1, sizeof(*p));
	for (k = 0; k < out->nr; k++)
		oids[k] = out->v[k].oid;
	ret = ws_first_parent_positions(r, &out->tip, oids, out->nr, p);
	for (k = 0; k < out->nr; k++)
		out->v[k].pos = p[k];
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_checkpoint);
	free(oids);
	free(p);
	return ret;
}

void ws_checkpoints_release(struct ws_checkpoints *cps)
{
	size_t k;

	for (k = 0; k < cps->nr; k++)
		free(cps->v[k].id);
	free(cps->v);
	cps->v = NULL;
	cps->nr = cps->alloc = 0;
}

int ws_checkpoint_resolve(const struct ws_repo *r,
			  const struct ws_checkpoints *cps, const char *base,
			  const char *arg, git_oid *out)
{
	git_object *obj = NULL, *peeled = NULL;
	long pos;
	size_t k;

	for (k = 0; k < cps->nr; k++) {
		if (strcmp(cps->v[k].id, arg))
			continue;
		if (cps->v[k].pos < 0)
			return error("the merge of '%s' is no longer on '%s'",
				     arg, base);
		*out = cps->v[k].oid;
		return 0;
	}
	if (git_revparse_single(&obj, r->repo, arg) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		error("'%s' is neither a checkpoint's workstream nor a commit",
		      arg);
		advise("'git ws-status --checkpoints' lists them");
		return -1;
	}
	*out = *git_object_id(peeled);
	git_object_free(peeled);
	git_object_free(obj);
	if (ws_first_parent_positions(r, &cps->tip, out, 1, &pos) < 0)
		return -1;
	if (pos < 0) {
		error("'%s' is not on the first-parent history of '%s'", arg, base);
		advise("'git ws-status --checkpoints' lists the checkpoints");
		return -1;
	}
	return 0;
}

void ws_checkpoints_print(const struct ws_checkpoints *cps,
			  const struct plan *plan, const char *base,
			  int porcelain, int nul)
{
	size_t k;

	if (!porcelain && !cps->nr) {
		printf("No checkpoints: no workstream of plan '%s' is merged into '%s'.\n",
		       plan->name, base);
		return;
	}
	if (!porcelain)
		printf("Checkpoints of plan '%s' on '%s', newest first:\n",
		       plan->name, base);
	for (k = 0; k < cps->nr; k++) {
		const struct ws_checkpoint *cp = &cps->v[k];
		const char *where = cp->pos == 0 ? "tip" : cp->pos > 0 ? "base" : "gone";
		char when[32], hex[GIT_OID_HEXSZ + 1];
		time_t t = (time_t)cp->time;
		struct tm tm;
		ssize_t x = plan_find(plan, cp->id);
		struct strbuf sb = STRBUF_INIT;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ws_oid_hex(&cp->oid, hex);
		if (porcelain) {
			printf("checkpoint\t%s\t%s\t%s\t%s%c", hex, when, cp->id,
			       where, nul ? '\0' : '\n');
			continue;
		}
		strbuf_addf(&sb, "  %.7s  %s  %s", hex, when, cp->id);
		if (x >= 0) {
			strbuf_addstr(&sb, ": ");
			strbuf_add_sanitized(&sb, plan->ws[x].title);
		}
		if (cp->pos == 0)
			strbuf_addf(&sb, "  (the tip of '%s')", base);
		else if (cp->pos < 0)
			strbuf_addf(&sb, "  (gone: no longer in '%s')", base);
		if (cp->archived)
			strbuf_addstr(&sb, "  [archived]");
		printf("%s\n", sb.buf);
		strbuf_release(&sb);
	}
	if (!porcelain)
		printf("Roll back with 'git ws-merge --rollback-to <checkpoint>'.\n");
}
