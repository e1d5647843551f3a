#include "compat.h"
#include "ws.h"
#include "ports.h"
#include "guard.h"
#include "usage.h"
#include "wrapper.h"
#include <libgen.h>

char *ws_branch_prefix(const struct ws_repo *r)
{
	char *p = ws_config_get(r, "ws.branchprefix");

	return p ? p : xstrdup(PLAN_DEFAULT_BRANCH_PREFIX);
}

/*
 * The user's defaults from git config for what the plan does not say:
 * ws.jobs and ws.maxIterations (0 or unset: no default).
 */
static void apply_config_defaults(const struct ws_repo *r, struct plan *plan)
{
	int n;
	size_t i;

	if (!plan->jobs && (n = ws_config_get_int(r, "ws.jobs", 0)) > 0)
		plan->jobs = n;
	if (!(plan->given & PLAN_KEY_MAX_ITERATIONS) &&
	    (n = ws_config_get_int(r, "ws.maxiterations", 0)) > 0) {
		plan->max_iterations = n;
		for (i = 0; i < plan->nr; i++)
			if (!(plan->ws[i].overrides & PLAN_KEY_MAX_ITERATIONS))
				plan->ws[i].max_iterations = n;
	}
}

void ws_load_plan(const struct ws_repo *r, struct plan *plan)
{
	char *path = ws_path(r, "plan");
	char *prefix = ws_branch_prefix(r);
	struct strbuf err = STRBUF_INIT;

	if (!path_exists(path)) {
		error("no plan is allocated in this repository");
		advise("allocate one with 'git ws-alloc <plan>'");
		exit(WS_EXIT_FATAL);
	}
	if (plan_read(plan, path, prefix, &err) < 0)
		die("%s", err.buf);
	apply_config_defaults(r, plan);
	free(prefix);
	free(path);
	strbuf_release(&err);
}

char *ws_worktree_path_prefix(const struct ws_repo *r)
{
	char *dir = ws_config_get(r, "ws.worktreedir");
	const char *top = r->main_worktree ? r->main_worktree : r->commondir;
	char *copy1 = xstrdup(top), *copy2 = xstrdup(top);
	char *name = basename(copy1), *parent = dirname(copy2);
	char *ret;
	size_t n = strlen(name);

	if (!r->main_worktree && n > 4 && !strcmp(name + n - 4, ".git"))
		name[n - 4] = '\0';
	if (dir && *dir != '/') {
		/* relative to the main worktree, as paths in git config are */
		char *abs = xstrfmt("%s/%s", top, dir);
		free(dir);
		dir = abs;
	}
	if (dir) {
		/* one spelling for one place: "a/../b" and "b" are the same dir */
		char *real = realpath(dir, NULL);
		if (real) {
			free(dir);
			dir = real;
		}
	}
	ret = xstrfmt("%s/%s-", dir ? dir : parent, name);
	free(dir);
	free(copy1);
	free(copy2);
	return ret;
}

char *ws_worktree_path(const struct ws_repo *r, const char *id)
{
	char *prefix = ws_worktree_path_prefix(r);
	char *ret = xstrfmt("%s%s", prefix, id);

	free(prefix);
	return ret;
}

int ws_update_blocked(const struct plan *plan, struct ws_state *st)
{
	size_t i, j;
	int became_ready = 0;

	for (i = 0; i < plan->nr; i++) {
		const struct plan_workstream *w = &plan->ws[i];
		enum ws_status status = ws_state_status(st, w->id);
		struct strbuf waiting = STRBUF_INIT;
		size_t nr_waiting = 0;

		if (status != WS_STATUS_NONE && status != WS_STATUS_BLOCKED)
			continue;
		for (j = 0; j < w->dep_nr; j++) {
			const char *dep = plan->ws[w->dep_idx[j]].id;

			if (ws_is_merged(st, dep))
				continue;
			strbuf_addf(&waiting, "%s%s", nr_waiting++ ? ", " : "", dep);
		}
		if (!nr_waiting) {
			ws_state_set_status(st, w->id, WS_STATUS_READY, NULL);
			became_ready++;
		} else {
			char *reason = xstrfmt("waiting for %s to merge", waiting.buf);
			const char *old = ws_state_get(st, w->id, WS_KEY_REASON);

			if (status == WS_STATUS_NONE || !old || strcmp(old, reason))
				ws_state_set_status(st, w->id, WS_STATUS_BLOCKED, reason);
			free(reason);
		}
		strbuf_release(&waiting);
	}
	return became_ready;
}

void ws_dependents(const struct plan *plan, size_t i, struct strbuf *out)
{
	size_t k, j;
	int first = 1;

	for (k = 0; k < plan->nr; k++)
		for (j = 0; j < plan->ws[k].dep_nr; j++)
			if (plan->ws[k].dep_idx[j] == i) {
				strbuf_addf(out, "%s%s", first ? "" : " ", plan->ws[k].id);
				first = 0;
				break;
			}
}

const char *const ws_local_git_env[] = {
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR",
	"GIT_PREFIX", "GIT_IMPLICIT_WORK_TREE", NULL
};

void ws_push_env(const struct ws_repo *r, const struct plan *plan, size_t idx,
		 const char *branch, const char *worktree, struct strvec *env)
{
	const struct plan_workstream *w = &plan->ws[idx];
	struct strbuf deps = STRBUF_INIT;
	size_t i;
	int port;

	for (i = 0; i < w->depends.nr; i++)
		strbuf_addf(&deps, "%s%s", i ? " " : "", w->depends.v[i]);
	strvec_pushv(env, (const char **)ws_local_git_env);
	strvec_pushf(env, "WS_ID=%s", w->id);
	strvec_pushf(env, "WS_TITLE=%s", w->title ? w->title : "");
	strvec_pushf(env, "WS_SLUG=%s", w->slug ? w->slug : "");
	strvec_pushf(env, "WS_BRANCH=%s", branch ? branch : "");
	strvec_pushf(env, "WS_BASE=%s", plan->base ? plan->base : "");
	strvec_pushf(env, "WS_WORKTREE=%s", worktree ? worktree : "");
	strvec_pushf(env, "WS_SPEC=%s", w->spec ? w->spec : "");
	strvec_pushf(env, "WS_PLAN=%s/plan", r->ws_dir);
	strvec_pushf(env, "WS_DEPENDS=%s", deps.buf);
	strvec_pushf(env, "GIT_WS_DIR=%s", r->ws_dir);
	if (plan->ports && (port = ws_port_of(r, w->id))) {
		strvec_pushf(env, "WS_PORT=%d", port);
		strvec_pushf(env, "WS_PORTS=%d", plan->ports);
	}
	ws_guard_push_env(r, env);
	strbuf_release(&deps);
}
