#ifndef CONFLICTS_H
#define CONFLICTS_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "state.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * Conflicts between the workstreams still at work (git ws-status
 * --conflicts, and the count and event lines of git ws-dispatch --loop):
 * every workstream that has commits of its own (its branch tip is not in
 * the base) and is not merged is an active one. Each pair of active
 * workstreams is merged, tip with tip, and each one with the base's
 * current tip, as `git merge-tree --write-tree <a> <b>` would merge them
 * (mergetree.h: git's merge-ort from their merge base, with the contract
 * ownership of git ws-merge), and what conflicts is listed with its
 * files. Nothing is written but the merged objects git merge-tree adds
 * to the object store.
 *
 * A pair is merged only when the paths each side changed since their
 * merge base meet (changed-paths.h), or when one side adds a file into a
 * directory that the other side removed files from (git's
 * directory-rename detection can make that a conflict), or when they have
 * more than one merge base (git then merges from a virtual base): two
 * changes that touch no common path cannot conflict, and most pairs are
 * decided by that comparison alone. The changed paths are computed once per merge
 * base and tip. All the merges that remain run in one git merge-tree
 * --stdin process.
 *
 * Workstreams that share a branch (a shared worktree) are one side: the
 * first of them in plan order stands for the branch.
 */

/* ws_conflict.b for a conflict with the base. */
#define WS_CONFLICT_BASE ((size_t)-1)

/* One pair that would conflict: plan->ws[a] with plan->ws[b], or the base. */
struct ws_conflict {
	size_t a;             /* plan index */
	size_t b;             /* plan index, after a in plan order, or WS_CONFLICT_BASE */
	struct strvec paths;  /* the conflicted paths, sorted */
};

struct ws_conflicts {
	struct ws_conflict *v; /* pairs first (by a, then b), then base ones */
	size_t nr, alloc;
	size_t active;         /* active workstreams (branches) found */
	size_t pairs;          /* pairs considered, base ones included */
	size_t merged;         /* of them, merged by git merge-tree */
};
#define WS_CONFLICTS_INIT { NULL, 0, 0, 0, 0, 0 }

/*
 * Compute the conflicts of the plan's active workstreams, as read from
 * `st` (read or locked by the caller; the branches are the state's),
 * against the tip of base branch `plan->base`. With `want` (NULL: all),
 * only pairs of which one side has want[i] set are checked. `out` must be
 * WS_CONFLICTS_INIT or released; it is filled in plan order. Returns 0,
 * or -1 after printing an error (the base branch or an object is
 * missing, git merge-tree failed); `out` is then empty.
 */
int ws_conflicts_compute(const struct ws_repo *r, const struct plan *plan,
			 const struct ws_state *st, const int *want,
			 struct ws_conflicts *out);

void ws_conflicts_release(struct ws_conflicts *c);

/*
 * Print c on stdout, as git ws-status --conflicts does. Human: one line
 * per pair, "conflict: ws-1 and ws-2 in a.c, b.c" (or "and base
 * 'main'"), then a count. With `porcelain`, one record per conflicted
 * path, "conflict TAB <id> TAB <id or base> TAB <path>", ended by a
 * newline, or by NUL with `nul`; without `nul` a path's control
 * characters are made harmless and its tabs become spaces, with `nul`
 * it is printed as it is (git-ws-status(1), PORCELAIN FORMAT).
 */
void ws_conflicts_print(const struct ws_conflicts *c, const struct plan *plan,
			int porcelain, int nul);

/*
 * The branch tips that decide the conflicts: "<base tip>" then
 * " <id>=<tip>" for each workstream not merged whose branch exists,
 * into `out` (reset first). Two equal strings mean equal conflicts, so
 * a caller that watches them recomputes only when this changes.
 * Cheap: reference lookups only.
 */
void ws_conflicts_tips(const struct ws_repo *r, const struct plan *plan,
		       const struct ws_state *st, struct strbuf *out);

/*
 * Conflicts watched over time (git ws-dispatch --loop): the last tips
 * (ws_conflicts_tips()), every conflict known as "<a> TAB <b> TAB
 * <path>" (b is "base"), and their count.
 */
struct ws_conflict_watch {
	struct strbuf tips;
	struct strvec known;
	size_t count;         /* pairs in conflict, at the last computation */
};
#define WS_CONFLICT_WATCH_INIT { STRBUF_INIT, STRVEC_INIT, 0 }

/*
 * When the tips changed since the last call (always on the first one),
 * compute the conflicts again and append to `lines` one event line per
 * pair that has conflicted paths not known before: "conflict: ws-1 and
 * ws-2 in a.c, b.c" or "conflict: ws-1 and base 'main' in a.c" (naming
 * the new paths only). A conflict that went away is forgotten, so it is
 * said again if it comes back. Returns 1 when it computed, 0 when
 * nothing changed, -1 when the computation failed (the error printed;
 * the known conflicts and their count are kept as they were, and it is
 * tried again once the tips move).
 */
int ws_conflict_watch_update(struct ws_conflict_watch *w,
			     const struct ws_repo *r, const struct plan *plan,
			     const struct ws_state *st, struct strvec *lines);

void ws_conflict_watch_release(struct ws_conflict_watch *w);

#endif
