#include "compat.h"
#include "recover.h"
#include "pool.h"
#include "reap.h"
#include "usage.h"
#include "wrapper.h"
#include "worktree.h"

static const char *const follow_keys[] = {
	WS_KEY_FOLLOW_FROM, WS_KEY_FOLLOW_TO, WS_KEY_FOLLOW_WORKTREE,
};
static const char *const undo_keys[] = {
	WS_KEY_UNDO_FROM, WS_KEY_UNDO_TO,
};
static const char *const remove_keys[] = {
	WS_KEY_REMOVING, WS_KEY_REMOVING_ADMIN, WS_KEY_REMOVING_HEAD,
};
static const char *const slot_keys[] = {
	WS_KEY_SLOT_TAKING, WS_KEY_SLOT_TO, WS_KEY_SLOT_FROM,
};

void ws_intent_record(struct ws_state *st, const struct ws_intent *in)
{
	struct cfg_section *s;
	size_t k;

	switch (in->kind) {
	case WS_INTENT_ALLOCATE:
		ws_state_set(st, in->id, WS_KEY_ALLOCATING, in->role);
		break;
	case WS_INTENT_FOLLOW:
		ws_state_set(st, in->id, WS_KEY_FOLLOW_FROM, in->from);
		ws_state_set(st, in->id, WS_KEY_FOLLOW_TO, in->to);
		ws_state_set(st, in->id, WS_KEY_FOLLOW_WORKTREE, NULL);
		s = ws_state_find(st, in->id);
		for (k = 0; s && k < in->worktrees.nr; k++)
			cfg_add(s, WS_KEY_FOLLOW_WORKTREE, in->worktrees.v[k]);
		break;
	case WS_INTENT_REMOVE:
		ws_state_set(st, in->id, WS_KEY_REMOVING, in->worktree);
		ws_state_set(st, in->id, WS_KEY_REMOVING_ADMIN, in->admin);
		ws_state_set(st, in->id, WS_KEY_REMOVING_HEAD, in->head);
		break;
	case WS_INTENT_START:
		ws_state_set_status(st, in->id, WS_STATUS_IN_PROGRESS, WS_REASON_QUEUED);
		ws_state_setf(st, in->id, WS_KEY_PID, "%ld", in->pid);
		/* the keys of a command that ran (reap.h) */
		ws_state_set(st, in->id, WS_KEY_PID_START, NULL);
		ws_state_set(st, in->id, WS_KEY_DISPATCHER, NULL);
		break;
	case WS_INTENT_UNDO:
		ws_state_set(st, in->id, WS_KEY_UNDO_FROM, in->from);
		ws_state_set(st, in->id, WS_KEY_UNDO_TO, in->to);
		break;
	case WS_INTENT_SLOT:
		ws_state_set(st, in->id, WS_KEY_SLOT_TAKING, in->role);
		ws_state_set(st, in->id, WS_KEY_SLOT_TO, in->to);
		ws_state_set(st, in->id, WS_KEY_SLOT_FROM, in->from);
		break;
	default:
		BUG("unknown intent kind %d", (int)in->kind);
	}
}

int ws_intent_exists(const struct ws_state *st, const char *id,
		     enum ws_intent_kind kind)
{
	const struct cfg_section *s = ws_state_find(st, id);
	const char *reason;
	size_t k;

	if (!s)
		return 0;
	switch (kind) {
	case WS_INTENT_ALLOCATE:
		return !!cfg_get(s, WS_KEY_ALLOCATING);
	case WS_INTENT_FOLLOW:
		for (k = 0; k < ARRAY_SIZE(follow_keys); k++)
			if (cfg_get(s, follow_keys[k]))
				return 1;
		return 0;
	case WS_INTENT_REMOVE:
		for (k = 0; k < ARRAY_SIZE(remove_keys); k++)
			if (cfg_get(s, remove_keys[k]))
				return 1;
		return 0;
	case WS_INTENT_START:
		reason = cfg_get(s, WS_KEY_REASON);
		return ws_state_status(st, id) == WS_STATUS_IN_PROGRESS &&
		       reason && !strcmp(reason, WS_REASON_QUEUED);
	case WS_INTENT_UNDO:
		for (k = 0; k < ARRAY_SIZE(undo_keys); k++)
			if (cfg_get(s, undo_keys[k]))
				return 1;
		return 0;
	case WS_INTENT_SLOT:
		return !!cfg_get(s, WS_KEY_SLOT_TAKING);
	default:
		return 0;
	}
}

void ws_intent_clear(struct ws_state *st, const char *id,
		     enum ws_intent_kind kind)
{
	size_t k;

	if (!ws_intent_exists(st, id, kind))
		return;
	switch (kind) {
	case WS_INTENT_ALLOCATE:
		ws_state_set(st, id, WS_KEY_ALLOCATING, NULL);
		break;
	case WS_INTENT_FOLLOW:
		for (k = 0; k < ARRAY_SIZE(follow_keys); k++)
			ws_state_set(st, id, follow_keys[k], NULL);
		break;
	case WS_INTENT_REMOVE:
		for (k = 0; k < ARRAY_SIZE(remove_keys); k++)
			ws_state_set(st, id, remove_keys[k], NULL);
		break;
	case WS_INTENT_START:
		ws_state_set(st, id, WS_KEY_REASON, NULL);
		break;
	case WS_INTENT_UNDO:
		for (k = 0; k < ARRAY_SIZE(undo_keys); k++)
			ws_state_set(st, id, undo_keys[k], NULL);
		break;
	case WS_INTENT_SLOT:
		for (k = 0; k < ARRAY_SIZE(slot_keys); k++)
			ws_state_set(st, id, slot_keys[k], NULL);
		break;
	default:
		break;
	}
}

/* A copy of s (or NULL) that `in` owns: a repair may change the state. */
static const char *keep(struct ws_intent *in, const char *s)
{
	return s ? strvec_push(&in->owned, s) : NULL;
}

/* Fill `in` with the record of `kind` in section `s`. */
static void read_intent(const struct cfg_section *s, enum ws_intent_kind kind,
			const struct ws_state *st, struct ws_intent *in)
{
	size_t k;

	in->kind = kind;
	in->id = keep(in, s->sub);
	switch (kind) {
	case WS_INTENT_ALLOCATE:
		in->role = keep(in, cfg_get(s, WS_KEY_ALLOCATING));
		in->worktree = keep(in, cfg_get(s, WS_KEY_WORKTREE));
		in->branch = keep(in, cfg_get(s, WS_KEY_BRANCH));
		in->base_oid = keep(in, cfg_get(s, WS_KEY_BASE_OID));
		break;
	case WS_INTENT_FOLLOW:
		in->from = keep(in, cfg_get(s, WS_KEY_FOLLOW_FROM));
		in->to = keep(in, cfg_get(s, WS_KEY_FOLLOW_TO));
		for (k = 0; k < s->nr; k++)
			if (!strcmp(s->entries[k].key, WS_KEY_FOLLOW_WORKTREE))
				strvec_push(&in->worktrees, s->entries[k].value);
		break;
	case WS_INTENT_REMOVE:
		in->worktree = keep(in, cfg_get(s, WS_KEY_REMOVING));
		in->admin = keep(in, cfg_get(s, WS_KEY_REMOVING_ADMIN));
		in->head = keep(in, cfg_get(s, WS_KEY_REMOVING_HEAD));
		break;
	case WS_INTENT_START:
		in->pid = ws_state_get_long(st, s->sub, WS_KEY_PID, 0);
		break;
	case WS_INTENT_UNDO:
		in->from = keep(in, cfg_get(s, WS_KEY_UNDO_FROM));
		in->to = keep(in, cfg_get(s, WS_KEY_UNDO_TO));
		break;
	case WS_INTENT_SLOT:
		in->role = keep(in, cfg_get(s, WS_KEY_SLOT_TAKING));
		in->to = keep(in, cfg_get(s, WS_KEY_SLOT_TO));
		in->from = keep(in, cfg_get(s, WS_KEY_SLOT_FROM));
		in->branch = keep(in, cfg_get(s, WS_KEY_BRANCH));
		break;
	default:
		break;
	}
}

size_t ws_intents_get(const struct ws_state *st, struct ws_intent **out)
{
	struct ws_intent init = WS_INTENT_INIT;
	size_t i, nr = 0, alloc = 0;
	int kind;

	*out = NULL;
	for (i = 0; i < st->state.nr; i++) {
		const struct cfg_section *s = &st->state.sections[i];

		if (!s->sub)
			continue;
		for (kind = 0; kind < WS_INTENT_NR; kind++) {
			if (!ws_intent_exists(st, s->sub, kind))
				continue;
			ALLOC_GROW(*out, nr + 1, alloc);
			(*out)[nr] = init;
			read_intent(s, kind, st, &(*out)[nr++]);
		}
	}
	return nr;
}

void ws_intents_free(struct ws_intent *list, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		strvec_clear(&list[i].worktrees);
		strvec_clear(&list[i].owned);
	}
	free(list);
}

/*
 * Before any `git worktree` runs: drop the admin directories that killed
 * `git worktree add`s of recorded allocations left half written.
 */
static int drop_unfinished(struct ws_recover *rc, const struct ws_intent *list,
			   size_t nr)
{
	size_t i;

	for (i = 0; !rc->dry_run && i < nr; i++) {
		char *admin = NULL;

		if (list[i].kind != WS_INTENT_ALLOCATE || !list[i].worktree ||
		    strcmp(list[i].role, WS_ALLOCATING_OWNER))
			continue;
		if (ws_worktree_drop_unfinished(rc->repo, list[i].worktree,
						&admin) < 0) {
			error_errno("cannot remove '%s', left by an interrupted git worktree add",
				    admin);
			free(admin);
			return -1;
		}
	}
	return 0;
}

static ws_repair_fn repair_of(struct ws_recover *rc, enum ws_intent_kind kind)
{
	if (rc->repair[kind])
		return rc->repair[kind];
	if (kind == WS_INTENT_ALLOCATE)
		return ws_worktree_recover_allocate;
	if (kind == WS_INTENT_REMOVE)
		return ws_worktree_recover_remove;
	if (kind == WS_INTENT_SLOT)
		return ws_pool_recover;
	return NULL;
}

int ws_recover(struct ws_recover *rc)
{
	struct ws_intent *list;
	size_t nr = ws_intents_get(rc->st, &list), i;
	int ret = 0;

	if ((rc->kinds & (1u << WS_INTENT_ALLOCATE)) &&
	    drop_unfinished(rc, list, nr) < 0)
		ret = -1;
	for (i = 0; !ret && i < nr; i++) {
		ws_repair_fn fn = repair_of(rc, list[i].kind);
		int r;

		if (!(rc->kinds & (1u << list[i].kind)) || !fn)
			continue;
		r = fn(rc, &list[i]);
		if (r < 0) {
			ret = -1;
		} else if (r > 0) {
			ws_intent_clear(rc->st, list[i].id, list[i].kind);
			rc->changed++;
		}
	}
	/* the default of START: every in_progress whose process is gone */
	if (!ret && (rc->kinds & (1u << WS_INTENT_START)) &&
	    !rc->repair[WS_INTENT_START] && !rc->dry_run)
		rc->changed += ws_reap_vanished(rc->repo, rc->st);
	ws_intents_free(list, nr);
	if (rc->changed && !rc->dry_run && rc->st->lock_fd >= 0 &&
	    ws_state_write(rc->st) < 0)
		return error_errno("cannot write '%s'", rc->st->state_path);
	return ret;
}
