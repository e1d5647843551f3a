#ifndef REPO_H
#define REPO_H

#include "compat.h"
#include "strbuf.h"
#include <git2.h>

/*
 * The repository a git-ws command runs in, found as git finds it: from
 * the current directory upwards (any worktree, any subdirectory), or from
 * GIT_DIR when git was given --git-dir, with GIT_WORK_TREE and
 * GIT_CEILING_DIRECTORIES honoured. git -C has already chdir()ed.
 *
 * State lives in <common dir>/ws/ (git rev-parse --git-common-dir), so
 * that every worktree of the repository sees the same plan.
 */
struct ws_repo {
	git_repository *repo;
	char *commondir;     /* absolute, no trailing slash */
	char *ws_dir;        /* <commondir>/ws */
	char *workdir;       /* this worktree's top, no trailing slash; NULL if bare */
	char *main_worktree; /* the main worktree's top; NULL if bare */
};
#define WS_REPO_INIT { NULL, NULL, NULL, NULL, NULL }

/*
 * Open the repository or die "not a git repository (or any of the parent
 * directories)" (exit 128), as git does.
 */
void ws_repo_open(struct ws_repo *r);
void ws_repo_close(struct ws_repo *r);

/* Create ws/ and its subdirectories (logs, coordination, reports, archive). */
void ws_repo_ensure_dirs(const struct ws_repo *r);

/*
 * A path under ws/: ws_path(r, "logs/%s.log", id). Returns a new string
 * (caller frees).
 */
char *ws_path(const struct ws_repo *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * git config values (all scopes, as `git config --get`): what `git -c`
 * gave first (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT), then the files,
 * read through libgit2 each call. Return the value as a new string (caller frees) or
 * NULL when unset; _int returns `def` when unset and dies on a bad value.
 */
char *ws_config_get(const struct ws_repo *r, const char *key);
int ws_config_get_int(const struct ws_repo *r, const char *key, int def);

/*
 * How long to wait for the state lock, in milliseconds: GIT_WS_LOCK_TIMEOUT
 * (ms) from the environment, else ws.lockTimeout (ms), else 10 000.
 */
long ws_lock_timeout_ms(const struct ws_repo *r);

/*
 * Resolve `branch` (a short name) to its tip. Returns 0 and *oid, or
 * GIT_ENOTFOUND when the branch does not exist, or another libgit2 error.
 */
int ws_branch_tip(const struct ws_repo *r, const char *branch, git_oid *oid);

/* The short name of the branch HEAD points at (caller frees), or NULL. */
char *ws_current_branch(const struct ws_repo *r);

/*
 * Whether the repository has no commits yet, as just after `git init`:
 * HEAD is unborn (git_repository_head_unborn()) and no ref exists at
 * all. Returns 1 or 0; an error reading the refs counts as 0.
 */
int ws_repo_has_no_commits(const struct ws_repo *r);

/*
 * Count commits on `branch_tip` that `base_tip` does not have, as `git
 * rev-list --count base..branch` (libgit2's git_graph_ahead_behind).
 * Returns the count, or -1 on error.
 */
long ws_commits_ahead(const struct ws_repo *r, const git_oid *branch_tip,
		      const git_oid *base_tip);

/* oid as a 40-hex string into buf[GIT_OID_HEXSZ + 1]; returns buf. */
char *ws_oid_hex(const git_oid *oid, char *buf);

/*
 * The functions on worktrees that were declared here
 * (ws_worktree_is_dirty(), ws_unfinished_worktree_admin()) are in
 * worktree.h, which needs struct ws_repo first.
 */
#include "worktree.h"

#endif
