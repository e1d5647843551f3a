#ifndef WORKTREE_H
#define WORKTREE_H

#include "compat.h"
#include "repo.h"
#include "run.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The repository's worktrees, as git's worktree.h sees them: the main
 * worktree and one linked worktree per <common dir>/worktrees/<id>, read
 * from git's own files (HEAD, gitdir, locked). libgit2 1.5 is not used
 * for the listing: its git_branch_is_checked_out() answers 1 for every
 * branch once one worktrees/ entry is broken, and git_worktree_list()
 * skips such entries, which are exactly the ones a killed git leaves.
 *
 * Everything that changes a worktree runs git's own `git worktree`
 * (add, remove, prune, repair) with --git-dir=<common dir>, in a process
 * group of its own, so that a kill of the git-ws command (Ctrl-C, a
 * supervisor's `kill -9 -<pgid>`) never stops git half way through
 * writing its admin files. `hold_fd` (-1: none) is a lock of the caller's
 * (the state lock, merge.lock) that a keeper process holds until git
 * ends (child_process.hold_fd), so that the next run waits for git
 * rather than repairs under it. A caller records its intent first
 * (recover.h), so that what a kill leaves is repaired on the next run.
 *
 * Functions that can fail return 0 or a negative value; unless said
 * otherwise they print nothing, and the message is the caller's.
 */

/* One worktree, as git's `struct worktree`. */
struct ws_worktree {
	char *path;        /* top, as git recorded it; NULL: no gitdir file */
	char *real;        /* path made comparable (ws_normalise_path()) */
	char *id;          /* <id> of worktrees/<id>; NULL for the main one */
	char *admin_dir;   /* <common dir>, or <common dir>/worktrees/<id> */
	char *head;        /* HEAD's contents, trimmed; NULL when unreadable */
	char *head_ref;    /* "refs/heads/..." when HEAD is symbolic, else NULL */
	git_oid head_oid;  /* what HEAD resolves to, when has_head_oid */
	char *lock_reason; /* NULL: not locked; "" locked without a reason */
	unsigned is_main:1, is_bare:1, is_detached:1, has_head_oid:1;
};

/*
 * The worktrees of the repository, as git's get_worktrees(): the main one
 * first (is_bare, with path NULL, in a bare repository), then the linked
 * ones in readdir() order, including those git would prune (path NULL, or
 * a directory that is gone). NULL-terminated; free with
 * ws_worktrees_free(). Never fails: an unreadable file leaves its field
 * NULL.
 */
struct ws_worktree **ws_worktrees_get(const struct ws_repo *r);
void ws_worktrees_free(struct ws_worktree **list);

/*
 * The worktree whose top is `path` (compared after ws_normalise_path(),
 * as git's find_worktree_by_path() compares real paths), or NULL.
 * Borrowed from `list`.
 */
struct ws_worktree *ws_worktree_find_path(struct ws_worktree **list,
					  const char *path);

/* The linked worktree worktrees/<id>, or NULL. Borrowed from `list`. */
struct ws_worktree *ws_worktree_find_id(struct ws_worktree **list,
					const char *id);

/*
 * The next worktree from list[*pos] on that has refs/heads/<branch>
 * checked out, as git's find_shared_symref(): *pos is advanced past it.
 * Entries without a gitdir file do not count (git does not count them).
 * Returns NULL at the end. Usage:
 *
 *	size_t pos = 0;
 *	while ((wt = ws_worktree_find_branch(list, branch, &pos))) ...
 */
struct ws_worktree *ws_worktree_find_branch(struct ws_worktree **list,
					    const char *branch, size_t *pos);

/*
 * The worktree whose admin directory the .git file at <path>/.git names:
 * how `git worktree repair <path>` finds a worktree moved by hand, whose
 * recorded path is stale. NULL when there is no such file or entry.
 */
struct ws_worktree *ws_worktree_find_by_dotgit(struct ws_worktree **list,
					       const char *path);

/*
 * The worktrees whose HEAD is refs/heads/<branch> and whose directory
 * exists, appended to `out` as their paths (the main worktree's as
 * r->main_worktree). What git ws-merge brings along when the base moves.
 */
void ws_branch_worktrees(const struct ws_repo *r, const char *branch,
			 struct strvec *out);

/*
 * `path` made comparable: realpath(3), or, when it does not exist, its
 * parent's realpath and its last component. Returns a new string.
 */
char *ws_normalise_path(const char *path);

/* --- one worktree, by path, through libgit2 ------------------------ */

/*
 * The branch checked out in the worktree at `path`, opened through its
 * .git (GIT_REPOSITORY_OPEN_NO_SEARCH): a new string without
 * "refs/heads/", or NULL (detached, unborn elsewhere, not a worktree).
 */
char *ws_worktree_branch_at(const char *path);

/* The commit HEAD resolves to in the worktree at `path`; 0, or -1. */
int ws_worktree_head_at(const char *path, git_oid *oid);

/* --- status ----------------------------------------------------------- */

enum ws_worktree_state {
	WS_WT_CLEAN,
	WS_WT_DIRTY,        /* uncommitted changes or untracked files */
	WS_WT_MISSING,      /* the directory is gone */
	WS_WT_BROKEN,       /* there, but git cannot read it */
	WS_WT_HALF_MADE,    /* a `git worktree add` that never finished */
	WS_WT_HALF_REMOVED, /* a recorded removal that never finished */
};

/* "clean", "dirty", "missing", "broken", "half-made", "half-removed". */
const char *ws_worktree_state_name(enum ws_worktree_state s);

struct ws_worktree_status_opts {
	/*
	 * The `removing-admin` of a removal recorded by git ws-clean
	 * (recover.h), or NULL: a worktree whose admin directory has that
	 * name and which is not clean is then HALF_REMOVED.
	 */
	const char *removing_admin;
	struct strvec *paths; /* when not NULL: up to max_paths changed paths */
	size_t max_paths;
	long nr_changes;      /* out: number of changes; -1 when not read */
};
#define WS_WORKTREE_STATUS_OPTS_INIT { NULL, NULL, 0, -1 }

/*
 * The state of the worktree at `path`. HALF_MADE is checked first
 * (ws_unfinished_worktree_admin()), then MISSING, then the removal
 * record, then what ws_worktree_changes() says. `opts` may be NULL.
 * Safe to call from several threads at once (each opens its own
 * repository).
 */
enum ws_worktree_state ws_worktree_status(const struct ws_repo *r,
					  const char *path,
					  struct ws_worktree_status_opts *opts);

/*
 * The uncommitted changes and untracked files of the worktree at `path`
 * (ignored files and submodules do not count), as libgit2's status with
 * INCLUDE_UNTRACKED, and as git status: the files that a sparse checkout
 * leaves out (skip-worktree) do not count either. Up to `max` of their paths are appended to `paths`
 * (may be NULL). Returns how many there are, or -1 when the worktree
 * cannot be opened or read.
 */
long ws_worktree_changes(const char *path, struct strvec *paths, size_t max);

/* 1 dirty, 0 clean, -1 unreadable: ws_worktree_changes() without paths. */
int ws_worktree_is_dirty(const char *path);

/*
 * The paths with uncommitted changes (staged or not) or untracked files
 * in the worktree at `path`, as `git status --porcelain` lists them (run
 * there; renames as both paths; submodules count, ignored files do not),
 * appended to out, sorted. Returns 0, or -1 after printing an error.
 */
int ws_worktree_changed_paths(const char *path, struct strvec *out);

/*
 * The paths whose staged version in the worktree `wt` differs from
 * `commit` (hex), as `git diff-index --cached`, appended to out. Returns
 * 0, or -1 after printing an error.
 */
int ws_worktree_staged_changes(const char *wt, const char *commit,
			       struct strvec *out);

/*
 * The admin directory (<common dir>/worktrees/<name>) of the worktree at
 * `path` when the `git worktree add` that made it never finished, or NULL;
 * the caller frees it. git locks the admin directory first (the reason,
 * "initializing", in the user's language) and unlocks it last
 * (builtin/worktree.c, add_worktree()), and git-ws never locks a worktree
 * it makes: so any lock there means git was stopped half way, perhaps
 * before it wrote the commondir file without which every `git worktree`
 * command dies. The admin directory is the one the worktree's .git file
 * names, else the one named after the worktree's last component; it
 * belongs to `path` when its gitdir, once git wrote it, names <path>/.git
 * (with the directory above resolved, as git writes it).
 */
char *ws_unfinished_worktree_admin(const struct ws_repo *r, const char *path);

/* 1 when `dir` holds nothing, or nothing but a regular file named .git. */
int ws_worktree_holds_only_git_file(const char *dir);

/* Why a half-removed worktree may not be finished off. */
enum ws_half_removed {
	WS_HALF_REMOVED_OK = 0,
	WS_HALF_REMOVED_DIRTY = -1,  /* changed or untracked files */
	WS_HALF_REMOVED_NESTED = -2, /* a repository inside, or unreadable */
};

/*
 * Whether what a killed `git worktree remove` left at `path` may go:
 * all of it as in commit `head` (hex, the `removing-head` recorded before
 * the removal; the files still there unchanged, nothing untracked, ignored
 * files go as with git worktree remove) and no repository inside. The
 * status is read through `admin_dir`, since the .git file may be gone.
 * Returns WS_HALF_REMOVED_OK, or another value with why in `msg` (the
 * text git ws-clean prints).
 */
enum ws_half_removed ws_worktree_check_half_removed(const char *path,
						    const char *admin_dir,
						    const char *head,
						    struct strbuf *msg);

/* --- changing worktrees, through `git worktree` ------------------------ */

/*
 * Prepare cp to run git inside the worktree `dir`: git_cmd, dir, and
 * git's variables that name a repository (ws_local_git_env) unset so
 * that git finds that worktree's repository itself. `dir` is borrowed.
 */
void ws_git_in(struct child_process *cp, const char *dir);

/*
 * Run cp (prepared by the caller) to its end in a process group of its
 * own, the keeper holding `hold_fd` (-1: none) until it ends. Returns
 * what run_command() returns. For the git commands that must not stop
 * half way in a worktree (git read-tree -u, a merge).
 */
int ws_run_to_the_end(struct child_process *cp, int hold_fd);

struct ws_worktree_add {
	const char *path;       /* the new worktree's top */
	const char *new_branch; /* -b <new_branch>, at `commit`, no tracking */
	const char *branch;     /* or an existing branch to check out */
	const char *commit;     /* the start point; alone: detached there */
	int no_checkout;        /* --no-checkout: ws_worktrees_populate() later */
	int hold_fd;            /* see above; -1: none */
};
#define WS_WORKTREE_ADD_INIT { NULL, NULL, NULL, NULL, 0, -1 }

/*
 * `git worktree add --quiet [--no-checkout] [--no-track -b <new_branch>
 * | --detach] <path> [<branch> | <commit>]`; git's errors go to stderr.
 * Returns git's exit code (0: made). git itself removes what it made
 * when it fails; when it is killed, ws_unfinished_worktree_admin() finds
 * the remains.
 */
int ws_worktree_add(const struct ws_repo *r, const struct ws_worktree_add *add);

/*
 * Make the worktree at `path`, added with `no_checkout`, a cone-mode
 * sparse checkout of `dirs` (`git sparse-checkout set --cone`, which
 * writes the patterns into that worktree's own config and files and
 * enables extensions.worktreeConfig, as it does for a person), so that
 * ws_worktrees_populate() writes only those directories and the files
 * at the top. Without a call, a new worktree has the main worktree's
 * sparse-checkout patterns: git copies those of the worktree that `git
 * worktree add` runs in, and ws_worktree_add() runs it on the common
 * directory, the main worktree's. Returns 0, or -1 after an error.
 */
int ws_worktree_sparse_set(const char *path, const struct strvec *dirs);

/*
 * Make Git LFS leave pointer files in the worktree at `path`, for every
 * git that runs there (a checkout, a merge, a person's `git switch`):
 * `filter.lfs.process` and `filter.lfs.smudge` with `--skip` in that
 * worktree's own config (`git config --worktree`, as `git lfs install
 * --skip-smudge` does for a repository). That needs
 * extensions.worktreeConfig, which it enables when it is not yet, as
 * `git sparse-checkout` does; other worktrees read their config as
 * before. A pointer file is what the index holds, so git status takes it
 * as unchanged. Call it before the checkout. Returns 0, or -1 after an
 * error.
 */
int ws_worktree_lfs_skip(const char *path);

/*
 * Undo ws_worktree_lfs_skip() in the worktree at `path`, when it was
 * done there (a pool's slot that served a workstream with `lfs = skip`):
 * unset the two keys in its own config. Returns 1 when they were set, 0
 * when not, -1 after an error. The pointer files already there stay:
 * call ws_worktree_lfs_fill() after the checkout.
 */
int ws_worktree_lfs_unskip(const char *path);

/*
 * `git lfs checkout` in the worktree at `path`: its pointer files
 * replaced by their contents, from the local LFS store (no fetch: a
 * file whose object is not there stays a pointer, with a message).
 * Returns 0, or -1 after an error.
 */
int ws_worktree_lfs_fill(const char *path);

/*
 * Give the existing worktree at `path` (git ws-merge's scratch worktree,
 * reused from one workstream to the next) the sparse checkout that a
 * new worktree of the workstream would have: the cone `dirs` when it has
 * any, else the main worktree's patterns (cone mode or not, as there),
 * else none (`git sparse-checkout disable` when it was sparse). Through
 * `git sparse-checkout`, which updates the files. Returns 0, or -1 after
 * an error.
 */
int ws_worktree_sparse_like(const struct ws_repo *r, const char *path,
			    const struct strvec *dirs);

/*
 * Check out the index and files of worktrees made with no_checkout:
 * `git reset --quiet --hard` in each of paths[0..nr), up to one per CPU
 * at a time (not in a group of their own: they only write the worktree).
 * Sets failed[i] to 1 for each that failed (failed may be NULL). Returns
 * 0, or -1 when any failed. Waits with waitpid(-1): the caller must have
 * no other child running.
 */
int ws_worktrees_populate(const char *const *paths, size_t nr, int *failed);

/*
 * The same, started one worktree at a time while the caller goes on
 * making the next ones, so that making worktrees (`git worktree add`, one
 * after the other) overlaps with checking out those already made:
 *
 *	struct ws_populate pop = WS_POPULATE_INIT;
 *	for each new worktree: make it; ws_populate_add(&pop, path);
 *	if (ws_populate_finish(&pop) < 0) ... pop.failed[k] for the k-th added
 *	ws_populate_release(&pop);
 *
 * ws_populate_add() starts `git reset --quiet --hard` in `path` (borrowed:
 * it must live until ws_populate_finish()), first waiting for one that
 * runs to end when one per CPU already run. ws_populate_finish() waits for
 * all; returns 0, or -1 when any failed (or could not start). Both wait
 * with waitpid(-1): between them the caller may run other children only
 * with run_command() and the like, which wait for their own pid; and it
 * must call ws_populate_finish() before it removes a worktree it added.
 */
struct ws_populate {
	struct child_process *cps;
	int *failed;           /* failed[k]: the k-th added failed */
	size_t nr, alloc, running, jobs;
	int ret;
};
#define WS_POPULATE_INIT { NULL, NULL, 0, 0, 0, 0, 0 }
void ws_populate_add(struct ws_populate *pop, const char *path);
int ws_populate_finish(struct ws_populate *pop);
void ws_populate_release(struct ws_populate *pop);

/*
 * What `git worktree add` runs after its checkout: the post-checkout hook
 * (null oid to `new_hex`, a branch checkout) in `path`. Warns "the
 * post-checkout hook failed in '<path>'" when it fails.
 */
void ws_worktree_post_checkout(const char *path, const char *new_hex);

/*
 * Whether git may find a hook `name` (e.g. "post-checkout") to run in the
 * worktree at `path`, looking where git does: core.hooksPath (an
 * absolute one, or one relative to the worktree), else
 * <common dir>/hooks. 1 when a file of that name is there (git runs it,
 * or says why it does not), or when the place cannot be known here (a
 * core.hooksPath starting with ~); 0 otherwise, so that a caller can skip
 * `git hook run` (a process) when nothing would run.
 */
int ws_worktree_may_have_hook(const struct ws_repo *r, const char *path,
			      const char *name);

/*
 * `git worktree remove` of the worktree at `path` (`force` times
 * --force: 2 also removes a locked one, such as one a killed `git
 * worktree add` left locked "initializing"). git's stderr goes to `err`
 * (trimmed; may be NULL).
 */
enum ws_worktree_removed {
	WS_WT_REMOVED = 0,
	WS_WT_REMOVE_FAILED = -1, /* git failed; why in err */
	WS_WT_STILL_THERE = -2,   /* git said yes, but the directory or its admin directory is there */
};
enum ws_worktree_removed ws_worktree_remove(const struct ws_repo *r,
					    const char *path, int force,
					    int hold_fd, struct strbuf *err);

/* `git worktree prune`: git's stale admin entries go. git's exit code. */
int ws_worktree_prune(const struct ws_repo *r, int hold_fd);

/*
 * Delete the worktree at `dir` as `rm -rf` would, but its .git file last,
 * so that git takes what is left for a worktree as long as possible.
 * Returns 0, or -1 after an error naming the path.
 */
int ws_worktree_remove_files(const char *dir);

/*
 * Remove an admin directory that lost its gitdir file (what a killed
 * `git worktree remove` leaves last), exactly as `git worktree prune`
 * would, and <common dir>/worktrees once empty. 0, or -1 with errno.
 */
int ws_worktree_remove_admin(const struct ws_repo *r, const char *admin_dir);

/*
 * Repair a worktree whose directory was removed by hand (`rm -rf`): prune
 * its stale admin entry (`git worktree prune`), then `git worktree add
 * <path> <branch>` again. Returns 0, or -1 after an error: `path` exists,
 * or git failed.
 */
int ws_worktree_recreate(const struct ws_repo *r, const char *path,
			 const char *branch, int hold_fd);

/*
 * `git worktree repair <path>`: for a worktree moved by hand to `path`,
 * git rewrites its admin directory's gitdir (and the .git file) to
 * match. Returns git's exit code.
 */
int ws_worktree_repair(const struct ws_repo *r, const char *path, int hold_fd);

/*
 * Delete refs/heads/<branch> when it still points at `expect_hex` (a
 * branch that gained commits, or that somebody else made, is never
 * touched). Returns 0 when deleted or absent, -1 after an error.
 */
int ws_branch_delete_if_at(const struct ws_repo *r, const char *branch,
			   const char *expect_hex);

/*
 * Remove the admin directory that a killed `git worktree add` of the
 * worktree at `path` left locked (ws_unfinished_worktree_admin()); do
 * this for every such worktree before any other `git worktree` command,
 * which may die on its half-written files. Returns 0 (also when there is
 * none), or -1 with errno and the directory's path in *admin (caller
 * frees; NULL otherwise).
 */
int ws_worktree_drop_unfinished(const struct ws_repo *r, const char *path,
				char **admin);

/*
 * Undo a `git worktree add -b <branch> <path> <base_hex>` recorded before
 * it ran (so that neither existed then, and what is there now is ours),
 * after ws_worktree_drop_unfinished(): the worktree goes through git (or,
 * when git does not know it, the directory if it holds nothing but its
 * .git file), then the branch if it is still at base_hex. Returns 0, -1
 * when the worktree is left (nothing printed), -2 when the branch is
 * (after an error).
 */
int ws_worktree_undo_add(const struct ws_repo *r, const char *path,
			 const char *branch, const char *base_hex, int hold_fd);

/* --- repairs for recover.h -------------------------------------------- */

struct ws_recover;
struct ws_intent;

/*
 * Undo an interrupted allocation (WS_INTENT_ALLOCATE, git ws-alloc's
 * `allocating`): for an owner, ws_worktree_undo_add() of its worktree,
 * branch and base-oid; then the workstream's whole state record goes
 * (git ws-alloc allocates it again). Warns "undid the interrupted
 * allocation of '<id>'" (with dry_run, "would undo ..." and the record
 * goes in memory only). Returns 1, or -1 after an error naming what is
 * left.
 */
int ws_worktree_recover_allocate(struct ws_recover *rc,
				 const struct ws_intent *in);

/*
 * Finish a removal that git ws-clean recorded (WS_INTENT_REMOVE) where
 * nothing can be lost: the remains of the admin directory once the
 * worktree is gone (as `git worktree prune`), a worktree whose directory
 * is gone, and a HALF_REMOVED worktree that
 * ws_worktree_check_half_removed() allows (what is left is deleted, its
 * .git file last, then `git worktree remove`). Says what it does on
 * stderr. Returns 1 when the worktree and its admin directory are gone,
 * 0 when it is left for git ws-clean to decide (a whole worktree, one
 * with changes: a warning says which), -1 after an error.
 */
int ws_worktree_recover_remove(struct ws_recover *rc,
			       const struct ws_intent *in);

#endif
