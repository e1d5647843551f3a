#ifndef WS_H
#define WS_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"

/*
 * Glue that every git-ws command shares: the allocated plan, worktree
 * locations, and the blocked/ready rule (a workstream is ready once every
 * dependency is merged).
 */

/*
 * Read the allocated plan (.git/ws/plan, written by git ws-alloc). Dies
 * "no plan is allocated" with a hint when there is none, or with the
 * file:line of a bad one. Branch names come from the state, not from
 * the plan's computed `branch`. What the plan does not set comes from
 * git config when given there: `jobs` from ws.jobs, `max-iterations`
 * (of the plan and of every workstream that does not set it) from
 * ws.maxIterations.
 */
void ws_load_plan(const struct ws_repo *r, struct plan *plan);

/* The branch prefix: ws.branchPrefix, else "feature/". Caller frees. */
char *ws_branch_prefix(const struct ws_repo *r);

/*
 * Where the worktree of workstream `id` goes: <ws.worktreeDir or the
 * parent of the main worktree>/<repo name>-<id>. Caller frees.
 */
char *ws_worktree_path(const struct ws_repo *r, const char *id);

/*
 * What ws_worktree_path() puts before the id: "<dir>/<repo name>-". It
 * reads the git config (ws.worktreeDir) once, so that a caller naming the
 * worktrees of many workstreams appends each id to it rather than reading
 * the config per workstream. Caller frees.
 */
char *ws_worktree_path_prefix(const struct ws_repo *r);

/*
 * Set every `blocked` (or, when `allocating`, status-less) workstream
 * whose dependencies are all `merged` to `ready`; the others to `blocked`
 * with reason "waiting for ws-1, ws-2 to merge". Returns how many became
 * ready. The caller holds the state lock.
 */
int ws_update_blocked(const struct plan *plan, struct ws_state *st);

/*
 * The ids of the workstreams that depend directly on ws[i] (in plan
 * order), space-separated, into out.
 */
void ws_dependents(const struct plan *plan, size_t i, struct strbuf *out);

/*
 * git's variables that name a repository ("GIT_DIR", ...), NULL-ended:
 * a command that git-ws runs in a worktree gets them unset, so that git
 * there finds that worktree, not the repository git-ws was called in.
 */
extern const char *const ws_local_git_env[];

/*
 * The environment of every command git-ws runs for workstream
 * plan->ws[idx] (git-ws(7), DISPATCH ENVIRONMENT), appended to `env`:
 * ws_local_git_env unset, then WS_ID WS_TITLE WS_SLUG WS_BRANCH WS_BASE
 * WS_WORKTREE WS_SPEC WS_PLAN (the path of .git/ws/plan) WS_DEPENDS
 * GIT_WS_DIR, WS_PORT and WS_PORTS when the plan gives `ports` (the
 * workstream's block, from the state: ports.h), and the guard of the
 * base (ws_guard_push_env(), guard.h: git there cannot move the base or
 * another workstream's branch). `branch` and `worktree` come from the
 * state (the worktree may be another directory the command runs in, as
 * merge's scratch worktree). Callers add their own (WS_ATTEMPT, WS_LOG,
 * WS_REPORT, ...).
 * Plan values reach commands only this way, never in the command text.
 */
void ws_push_env(const struct ws_repo *r, const struct plan *plan, size_t idx,
		 const char *branch, const char *worktree, struct strvec *env);

#endif
