#include "compat.h"
#include "state.h"
#include "lockfile.h"
#include "strvec.h"
#include "usage.h"
#include "wrapper.h"

static const char *const status_names[] = {
	[WS_STATUS_NONE] = NULL,
	[WS_STATUS_BLOCKED] = "blocked",
	[WS_STATUS_READY] = "ready",
	[WS_STATUS_IN_PROGRESS] = "in_progress",
	[WS_STATUS_DONE] = "done",
	[WS_STATUS_CONVERGED] = "converged",
	[WS_STATUS_MERGED] = "merged",
	[WS_STATUS_FAILED] = "failed",
	[WS_STATUS_CLEANED] = "cleaned",
};

const char *ws_status_name(enum ws_status status)
{
	if ((size_t)status >= ARRAY_SIZE(status_names))
		BUG("status %d", (int)status);
	return status_names[status];
}

int ws_status_parse(const char *text, enum ws_status *out)
{
	size_t i;

	for (i = 1; text && i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(status_names[i], text)) {
			*out = (enum ws_status)i;
			return 0;
		}
	return -1;
}

int ws_status_is_finished(enum ws_status status)
{
	return status == WS_STATUS_MERGED || status == WS_STATUS_CLEANED;
}

static void set_paths(struct ws_state *st, const char *ws_dir)
{
	st->dir = xstrdup(ws_dir);
	st->state_path = xstrfmt("%s/state", ws_dir);
	st->queue_path = xstrfmt("%s/queue", ws_dir);
}

static int read_files(struct ws_state *st, struct strbuf *err)
{
	size_t i, j;

	if (cfg_parse_file(&st->state, st->state_path, CFG_MISSING_OK, err) < 0 ||
	    cfg_parse_file(&st->queue, st->queue_path, CFG_MISSING_OK, err) < 0)
		return -1;
	for (i = 0; i < st->state.nr; i++) {
		const struct cfg_section *s = &st->state.sections[i];

		if (!strcmp(s->name, "plan") && !s->sub) {
			/* the plan-level section: its keys only */
			static const char *const keys[] = {
				WS_PLAN_KEY_FINAL_TEST,
				WS_PLAN_KEY_FINAL_TEST_OID,
				WS_PLAN_KEY_FINAL_TEST_LOG,
			};

			for (j = 0; j < s->nr; j++) {
				size_t k;

				for (k = 0; k < ARRAY_SIZE(keys); k++)
					if (!strcmp(s->entries[j].key, keys[k]))
						break;
				if (k < ARRAY_SIZE(keys))
					continue;
				strbuf_addf(err, "%s:%d: unknown key '%s' in [plan]",
					    st->state_path, s->entries[j].lineno,
					    s->entries[j].key);
				return -1;
			}
			continue;
		}
		if (strcmp(s->name, "workstream") || !s->sub) {
			strbuf_addf(err, "%s:%d: unexpected section '[%s]'",
				    st->state_path, s->lineno, s->name);
			return -1;
		}
		for (j = 0; j < s->nr; j++) {
			const struct cfg_entry *e = &s->entries[j];

			enum ws_status unused;

			if (strcmp(e->key, WS_KEY_STATUS) ||
			    !ws_status_parse(e->value, &unused))
				continue;
			strbuf_addf(err, "%s:%d: unknown status '%s' for '%s'",
				    st->state_path, e->lineno, e->value, s->sub);
			return -1;
		}
	}
	for (i = 0; i < st->queue.nr; i++) {
		const struct cfg_section *s = &st->queue.sections[i];

		if (strcmp(s->name, "queue") || s->sub) {
			strbuf_addf(err, "%s:%d: unexpected section '[%s]' (expected [queue])",
				    st->queue_path, s->lineno, s->name);
			return -1;
		}
		for (j = 0; j < s->nr; j++) {
			const struct cfg_entry *e = &s->entries[j];

			if (strcmp(e->key, "item")) {
				strbuf_addf(err, "%s:%d: unknown key '%s' in [queue]",
					    st->queue_path, e->lineno, e->key);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * The queue is, by construction, the converged workstreams in the order
 * they converged; the state and the queue are two files replaced one after
 * the other, so a command killed between the two renames leaves them
 * disagreeing. Bring the queue back in line: drop items that are not
 * `converged` (already merged, or sent back), append converged
 * workstreams it lacks (in state order). Changes are written by the next
 * ws_state_commit(); a reader only sees the repaired view.
 */
static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void reconcile_queue(struct ws_state *st)
{
	struct cfg_section *q = cfg_section_get(&st->queue, "queue", NULL);
	const char **kept = NULL;
	size_t i, out = 0, kept_nr = 0;

	/* one pass each way, and a sorted copy to look ids up in: O(n log n) */
	for (i = 0; q && i < q->nr; i++) {
		struct cfg_entry *e = &q->entries[i];

		if (!strcmp(e->key, "item") &&
		    ws_state_status(st, e->value) != WS_STATUS_CONVERGED) {
			free(e->key);
			free(e->value);
			st->queue_dirty = 1;
			continue;
		}
		q->entries[out++] = *e;
	}
	if (q)
		q->nr = out;
	kept = xcalloc(out + 1, sizeof(*kept));
	for (i = 0; i < out; i++)
		if (!strcmp(q->entries[i].key, "item"))
			kept[kept_nr++] = q->entries[i].value;
	qsort(kept, kept_nr, sizeof(*kept), cmp_str_ptr);
	for (i = 0; i < st->state.nr; i++) {
		const struct cfg_section *s = &st->state.sections[i];

		if (!s->sub || ws_state_status(st, s->sub) != WS_STATUS_CONVERGED ||
		    bsearch(&s->sub, kept, kept_nr, sizeof(*kept), cmp_str_ptr))
			continue;
		/* ids are unique among sections: no need to add s->sub to kept */
		cfg_add(cfg_section_get_or_add(&st->queue, "queue", NULL),
			"item", s->sub);
		st->queue_dirty = 1;
	}
	free(kept);
}

int ws_state_read(struct ws_state *st, const char *ws_dir, struct strbuf *err)
{
	set_paths(st, ws_dir);
	if (read_files(st, err) < 0)
		return -1;
	reconcile_queue(st);
	return 0;
}

void ws_state_lock(struct ws_state *st, const char *ws_dir, long timeout_ms)
{
	struct strbuf err = STRBUF_INIT;
	char *lock;

	set_paths(st, ws_dir);
	if (mkdir(ws_dir, 0777) < 0 && errno != EEXIST)
		die_errno("cannot create '%s'", ws_dir);
	lock = xstrfmt("%s/lock", ws_dir);
	st->lock_fd = hold_flock(lock, timeout_ms);
	if (st->lock_fd < 0) {
		if (errno == EWOULDBLOCK) {
			error("another git-ws command is updating '%s' (waited %ld ms)",
			      lock, timeout_ms);
			advise("wait for it to finish, or raise ws.lockTimeout (milliseconds)");
			exit(WS_EXIT_FATAL);
		}
		die_errno("cannot lock '%s'", lock);
	}
	free(lock);
	if (read_files(st, &err) < 0)
		die("%s", err.buf);
	reconcile_queue(st);
	strbuf_release(&err);
}

int ws_state_write(struct ws_state *st)
{
	if (st->lock_fd < 0)
		BUG("ws_state_write() without ws_state_lock()");
	/* we hold the flock, so a leftover FILE.lock is from a killed process */
	if (st->state_dirty &&
	    cfg_write_file(&st->state, st->state_path, LOCK_BREAK_STALE) < 0)
		return -1;
	st->state_dirty = 0;
	if (st->queue_dirty &&
	    cfg_write_file(&st->queue, st->queue_path, LOCK_BREAK_STALE) < 0)
		return -1;
	st->queue_dirty = 0;
	return 0;
}

int ws_state_commit(struct ws_state *st)
{
	int ret = ws_state_write(st);

	{
		int saved = errno;
		release_flock(st->lock_fd);
		st->lock_fd = -1;
		errno = saved;
	}
	return ret;
}

void ws_state_lock_repo(struct ws_state *st, const struct ws_repo *r)
{
	ws_state_lock(st, r->ws_dir, ws_lock_timeout_ms(r));
}

void ws_state_commit_or_die(struct ws_state *st)
{
	if (ws_state_commit(st) < 0)
		die_errno("cannot write '%s'", st->state_path);
}

void ws_state_write_or_die(struct ws_state *st)
{
	if (ws_state_write(st) < 0)
		die_errno("cannot write '%s'", st->state_path);
}

void ws_state_release(struct ws_state *st)
{
	if (st->lock_fd >= 0)
		release_flock(st->lock_fd);
	st->lock_fd = -1;
	cfg_file_release(&st->state);
	cfg_file_release(&st->queue);
	FREE_AND_NULL(st->dir);
	FREE_AND_NULL(st->state_path);
	FREE_AND_NULL(st->queue_path);
	st->state_dirty = st->queue_dirty = 0;
}

struct cfg_section *ws_state_find(const struct ws_state *st, const char *id)
{
	return cfg_section_get(&st->state, "workstream", id);
}

const char *ws_state_get(const struct ws_state *st, const char *id,
			 const char *key)
{
	return cfg_get(ws_state_find(st, id), key);
}

enum ws_status ws_state_status(const struct ws_state *st, const char *id)
{
	enum ws_status status;

	if (ws_status_parse(ws_state_get(st, id, WS_KEY_STATUS), &status) < 0)
		return WS_STATUS_NONE;
	return status;
}

const char *ws_state_next(const struct ws_state *st, size_t *pos)
{
	while (*pos < st->state.nr) {
		const struct cfg_section *s = &st->state.sections[(*pos)++];

		if (s->sub)
			return s->sub;
	}
	return NULL;
}

int ws_is_merged(const struct ws_state *st, const char *id)
{
	enum ws_status status = ws_state_status(st, id);

	return status == WS_STATUS_MERGED ||
	       (status == WS_STATUS_CLEANED &&
		ws_state_get(st, id, WS_KEY_MERGE_OID));
}

long ws_state_get_long(const struct ws_state *st, const char *id,
		       const char *key, long def)
{
	const char *v = ws_state_get(st, id, key);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	return errno || *end || n < 0 || n > WS_STATE_LONG_MAX ? def : n;
}

void ws_state_set(struct ws_state *st, const char *id, const char *key,
		  const char *value)
{
	struct cfg_section *s = ws_state_find(st, id);

	if (!s) {
		if (!value)
			return;
		s = cfg_section_add(&st->state, "workstream", id);
	}
	cfg_set(s, key, value);
	st->state_dirty = 1;
}

void ws_state_setf(struct ws_state *st, const char *id, const char *key,
		   const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ws_state_set(st, id, key, sb.buf);
	strbuf_release(&sb);
}

void ws_state_set_status(struct ws_state *st, const char *id,
			 enum ws_status status, const char *reason)
{
	ws_state_set(st, id, WS_KEY_STATUS, ws_status_name(status));
	ws_state_set(st, id, WS_KEY_REASON, reason);
}

void ws_state_remove(struct ws_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->state.nr; i++)
		if (st->state.sections[i].sub &&
		    !strcmp(st->state.sections[i].sub, id)) {
			cfg_section_remove(&st->state, i);
			st->state_dirty = 1;
			return;
		}
}

const char *ws_state_plan_get(const struct ws_state *st, const char *key)
{
	struct cfg_section *s = cfg_section_get(&st->state, "plan", NULL);

	return s ? cfg_get(s, key) : NULL;
}

void ws_state_plan_set(struct ws_state *st, const char *key,
		       const char *value)
{
	struct cfg_section *s = cfg_section_get(&st->state, "plan", NULL);

	if (!s) {
		if (!value)
			return;
		s = cfg_section_add(&st->state, "plan", NULL);
	}
	cfg_set(s, key, value);
	st->state_dirty = 1;
}

static struct cfg_section *queue_section(const struct ws_state *st)
{
	return cfg_section_get(&st->queue, "queue", NULL);
}

size_t ws_queue_nr(const struct ws_state *st)
{
	struct cfg_section *q = queue_section(st);
	size_t i, n = 0;

	for (i = 0; q && i < q->nr; i++)
		if (!strcmp(q->entries[i].key, "item"))
			n++;
	return n;
}

const char *ws_queue_item(const struct ws_state *st, size_t idx)
{
	struct cfg_section *q = queue_section(st);
	size_t i, n = 0;

	for (i = 0; q && i < q->nr; i++)
		if (!strcmp(q->entries[i].key, "item") && n++ == idx)
			return q->entries[i].value;
	return NULL;
}

const char **ws_queue_items(const struct ws_state *st, size_t *nr)
{
	struct cfg_section *q = queue_section(st);
	const char **v = xcalloc((q ? q->nr : 0) + 1, sizeof(*v));
	size_t i;

	*nr = 0;
	for (i = 0; q && i < q->nr; i++)
		if (!strcmp(q->entries[i].key, "item"))
			v[(*nr)++] = q->entries[i].value;
	return v;
}

int ws_queue_contains(const struct ws_state *st, const char *id)
{
	struct cfg_section *q = queue_section(st);
	size_t i;

	for (i = 0; q && i < q->nr; i++)
		if (!strcmp(q->entries[i].key, "item") &&
		    !strcmp(q->entries[i].value, id))
			return 1;
	return 0;
}

void ws_queue_push(struct ws_state *st, const char *id)
{
	if (ws_queue_contains(st, id))
		return;
	cfg_add(cfg_section_get_or_add(&st->queue, "queue", NULL), "item", id);
	st->queue_dirty = 1;
}

void ws_queue_remove(struct ws_state *st, const char *id)
{
	struct cfg_section *q = queue_section(st);
	size_t i, out = 0;

	if (!q)
		return;
	for (i = 0; i < q->nr; i++) {
		struct cfg_entry *e = &q->entries[i];

		if (!strcmp(e->key, "item") && !strcmp(e->value, id)) {
			free(e->key);
			free(e->value);
			st->queue_dirty = 1;
			continue;
		}
		q->entries[out++] = *e;
	}
	q->nr = out;
}
