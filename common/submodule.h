#ifndef SUBMODULE_H
#define SUBMODULE_H

#include "compat.h"
#include "repo.h"

/*
 * Submodules in the worktrees git-ws makes (git-ws(7), ALLOCATION).
 * Every submodule that the main worktree has initialised (its repository
 * is in <common dir>/modules/<name>) is checked out, recursively, at the
 * commit the worktree's HEAD records, with `git submodule update --init`
 * and its URL pointed at that local repository: the objects the
 * repository already has, and no network. A submodule the main worktree
 * has not initialised stays empty, as it is there.
 *
 * A workstream that moves a submodule to a commit made in its own
 * worktree has that commit only in its worktree's copy of the submodule;
 * ws_submodules_bring_commits() fetches such commits into the main
 * worktree's submodule repository, under refs/ws/submodule/<oid>, so
 * that the merge test, the other worktrees and the main worktree find
 * them.
 */

/*
 * Check out the submodules of the worktree at `worktree` (see above).
 * Returns 0 (also when it has none), or -1 after an error naming the
 * submodule.
 */
int ws_submodules_update(const struct ws_repo *r, const char *worktree);

/*
 * For each submodule of `commit` (a commit id, hex) whose recorded
 * commit the main worktree's submodule repository lacks, fetch it from
 * the same submodule in the worktree `from` (a workstream's worktree,
 * whose branch leads to `commit`) and keep it as
 * refs/ws/submodule/<oid>. Returns 0, or -1 after an error (a commit
 * that is in neither).
 */
int ws_submodules_bring_commits(const struct ws_repo *r, const char *commit,
				const char *from);

/*
 * Make the worktree at `worktree` (whose administrative directory is
 * `admin_dir`) one that `git worktree remove` takes: git refuses a
 * worktree with submodules ("working trees containing submodules cannot
 * be moved or removed"). Unless `force`, a submodule with uncommitted
 * changes (git status in it, nested ones included) stops it: -1 with the
 * reason in *err and nothing changed. Otherwise each populated
 * submodule's HEAD commit is first kept in the main worktree's
 * submodule repository (refs/ws/submodule/<oid>) when that lacks it, so
 * that no commit made there is lost; then the submodules' files and
 * their repositories (<admin_dir>/modules) are removed. Returns 0, or -1.
 */
int ws_submodules_remove(const struct ws_repo *r, const char *worktree,
			 const char *admin_dir, int force, struct strbuf *err);

#endif
