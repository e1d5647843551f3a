#ifndef BASE_UPDATE_H
#define BASE_UPDATE_H

#include "compat.h"
#include "dispatch.h"
#include "repo.h"
#include "strbuf.h"

/*
 * A workstream starts from its dependencies' work: before its first
 * dispatch, git ws-dispatch brings its branch up to the base tip, as a
 * person would with `git merge --ff-only <base>` or `git merge <base>`
 * in the worktree. Later iterations leave the branch alone.
 */

/*
 * Bring job->branch, checked out in job->worktree, up to the tip of
 * `base`: nothing when it already contains the base; a fast-forward
 * when it has no commits of its own; otherwise a merge of the base when
 * `git merge-tree --write-tree` (merge-ort, as `git merge`) says it is
 * clean. git runs in the worktree, in a process group of its own (a kill
 * of git-ws does not stop it half way through writing files the command
 * would then find and commit), with its output and a note of each step
 * in the job's log (ws_job_log()). On success job->prepare_note says
 * what was done ("fast-forwarded to main", "merged main").
 *
 * A worktree on another branch, uncommitted changes, a conflict or a
 * failed git leave the branch and the worktree as they were: the return
 * value is then the text of a report for the command to read (what
 * stopped it and what to do; the caller's to free), and `why` gets the
 * same in a few words. Returns NULL otherwise, including when the base
 * or the branch cannot be resolved (the log says so).
 */
char *ws_bring_up_to_base(const struct ws_repo *r, const char *base,
			  struct ws_job *job, struct strbuf *why);

#endif
