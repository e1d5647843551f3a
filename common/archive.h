#ifndef ARCHIVE_H
#define ARCHIVE_H

#include "compat.h"
#include "repo.h"
#include "state.h"
#include "strvec.h"

/*
 * The archive of finished workstreams (git-ws(7), STATE FILES): where `git
 * ws-clean` (and `git ws-merge`, when it tidies up after a merge) put the
 * records of a workstream that is done with, so that .git/ws/ holds only
 * live work while nothing a person may want to read later is lost.
 *
 *	.git/ws/archive/<plan>/
 *		state                [workstream "ID"] sections, copied from
 *		                     ws/state (git-config syntax, as ws/state)
 *		logs/ID.log          moved from ws/logs/
 *		coordination/ID.done moved from ws/coordination/
 *		reports/ID           moved from ws/reports/
 *		plan, queue          the plan's own files, once the whole plan is
 *		                     archived (ws_archive_plan())
 *
 * The records of a workstream are the files in ws/logs, ws/coordination
 * and ws/reports named "ID" or "ID.<anything>" (ws-1.log, ws-1.done,
 * ws-1.2.log), except those that belong to a longer id that also matches
 * ("ws-1.2.log" is ws-1.2's when ws-1.2 is a workstream too), names
 * ending in ".lock" (a file being written) and dot files.
 *
 * Nothing in the archive is ever overwritten or deleted: a file whose name
 * is already taken there (the same plan name allocated again) is stored
 * as "<name>.1", "<name>.2", ...; files are moved with link(2) + unlink(2)
 * so that an existing file is never replaced. In archive/<plan>/state a
 * copy identical to one already there is not added again; a copy replaces
 * an older one of the same workstream only when that one is from the same
 * allocation (same `created` time) and not yet `cleaned` (e.g. archived by
 * `git ws-merge` as `merged`, then by `git ws-clean`); otherwise both are
 * kept, in archiving order (`git config -f ... --get` reads the last).
 *
 * Every function here changes files under .git/ws/: the caller holds the
 * state lock (ws_state_lock()), which also serialises writers of the
 * archive.
 */

/*
 * The archive directory of plan `plan_name`: <ws_dir>/archive/<name>. A
 * name that is not a valid plan name (plan_id_is_valid()) is replaced by
 * "plan", so the result is always inside archive/. Caller frees.
 */
char *ws_archive_dir(const struct ws_repo *r, const char *plan_name);

/*
 * Append to `out` the records of workstream `id` that exist now, as paths
 * relative to ws/ ("logs/ws-1.log", "coordination/ws-1.done"), sorted
 * within each directory. `st` supplies the other known ids (for the
 * longest-id rule above). Read-only: usable for a dry run, and to find the
 * files whose mtimes tell when a workstream was last active.
 */
void ws_records_list(const struct ws_repo *r, const struct ws_state *st,
		     const char *id, struct strvec *out);

/*
 * Archive workstream `id` into the archive of `plan_name`: move its
 * records (ws_records_list()) under the same relative paths, and copy its
 * state section, as it is in `st` now, into archive/<plan>/state. The
 * section stays in `st` (the caller decides what becomes of it: `git
 * ws-clean` sets status `cleaned`, before calling this so that the copy
 * says so too). When `moved` is not NULL the archive paths written are
 * appended to it (absolute).
 *
 * Returns 0, or -1 after error() naming the file; what was moved before
 * the failure stays moved, and nothing is ever deleted.
 */
int ws_archive_workstream(const struct ws_repo *r, const struct ws_state *st,
			  const char *plan_name, const char *id,
			  struct strvec *moved);

/*
 * ws_archive_workstream() in two steps, for many workstreams at once:
 * ws_archive_states() copies the state sections of ids[0..nr) into
 * archive/<plan>/state in one write (one fsynced rename, where one call
 * per workstream rewrites the growing file each time), and
 * ws_archive_records() then moves one workstream's records (and, once
 * they are moved, removes its runners' directories, runner/<id>.<what>/:
 * runner.h). Call the
 * first before the second, so that a record whose files moved is never
 * unaccounted for. Both return 0, or -1 after error(); the caller holds
 * the state lock.
 */
int ws_archive_states(const struct ws_repo *r, const struct ws_state *st,
		      const char *plan_name, const char *const *ids, size_t nr);
int ws_archive_records(const struct ws_repo *r, const struct ws_state *st,
		       const char *plan_name, const char *id,
		       struct strvec *moved);

/*
 * Archive the plan itself, so that a new plan can be allocated: copy
 * every section of ws/state into archive/<plan>/state (as above), store
 * ws/plan and ws/queue there, then empty the state and the queue in `st`
 * and write them (ws_state_write(): the lock stays held), and only then
 * remove ws/plan. Records of the workstreams are not moved here; archive
 * them first with ws_archive_workstream().
 *
 * Returns 0, or -1 after error(); on failure ws/plan and the state are
 * left in place (the archive may hold copies already).
 */
int ws_archive_plan(const struct ws_repo *r, struct ws_state *st,
		    const char *plan_name);

/*
 * Branches are archived as refs: git ws-clean saves a workstream's branch
 * tip as refs/ws/backup/<id> before it deletes the branch, so that
 * `git branch <name> refs/ws/backup/<id>` brings it back.
 */

/*
 * Write refs/ws/backup/<id> at `tip`, with a reflog entry naming `branch`
 * (the reflog is created first, so that a ref reused by a later
 * workstream of the same id keeps its earlier value there). Returns 0,
 * or -1 after an error naming the ref.
 */
int ws_backup_branch(const struct ws_repo *r, const char *id,
		     const char *branch, const git_oid *tip);

/*
 * Delete refs/heads/<branch> (and its reflog) when it still points at
 * `tip`, as a compare-and-swap on the target that was checked, then
 * remove its [branch "<branch>"] section from the repository's config,
 * as `git branch -d` does (a warning when that fails). A branch that is
 * gone already is no error; one that moved is left alone, with an error.
 * Whether it is checked out anywhere is the caller's to check first
 * (git's own `git branch -d` refuses such a branch): git_branch_delete()
 * of libgit2 1.5 is not used, since its test misfires on a broken
 * worktree entry and its config-section rename leaks. Returns 0, or -1
 * after an error.
 */
int ws_branch_delete_saved(const struct ws_repo *r, const char *branch,
			   const git_oid *tip);

/*
 * When workstream `id` was last active, for git ws-clean --abandoned: the
 * latest of its branch tip's commit time, the modification times of its
 * records (ws_records_list()), its `created`, `started` and `finished`
 * times in `st`, and the modification times of the uncommitted files in
 * its worktree (ws_worktree_changes()). Returns 0 when there is none;
 * *what says which it was: "commit", "record", "state", "worktree", or
 * "nothing". Read-only.
 */
time_t ws_last_activity(const struct ws_repo *r, const struct ws_state *st,
			const char *id, const char **what);

#endif
