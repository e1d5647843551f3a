#ifndef INCLUDE_H
#define INCLUDE_H

#include "compat.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * Ignored files that every new worktree gets from the main worktree
 * (git-ws(7), WORKTREE INCLUDE): `.env`, local configuration, whatever a
 * build or a test needs and git does not track. The patterns are the
 * lines of `.worktreeinclude` at the top of the main worktree, in
 * gitignore syntax, plus the plan's `include` values. A file is copied
 * when it matches them *and* git ignores it; tracked files come from the
 * checkout and untracked files that are not ignored are nobody's to copy.
 * These are the semantics of Claude Code's `.worktreeinclude`.
 *
 *	struct ws_include inc = WS_INCLUDE_INIT;
 *	if (ws_include_read(&inc, repo, &plan->include, &err) < 0)
 *		die("%s", err.buf);        before anything is made
 *	...
 *	ws_include_copy(&inc, worktree, &copied);    for each new worktree
 *	ws_include_release(&inc);
 */
struct ws_include {
	char *from;          /* the main worktree's top; NULL: nothing to copy */
	struct strvec files; /* paths relative to `from`, sorted */
};
#define WS_INCLUDE_INIT { NULL, STRVEC_INIT }

/*
 * Check the patterns and list the files to copy. A pattern with a `..`
 * component would name files outside the repository: it is an error
 * naming `.worktreeinclude:<line>` or the plan's `include` key (`extra`
 * holds its values, already checked by plan_read()), and nothing is
 * listed. With no `.worktreeinclude` and no `extra`, inc->from stays NULL
 * and no git runs. The listing runs `git ls-files` twice in the main
 * worktree, so that the patterns mean exactly what they mean to git
 * (negation, anchoring, directories): the ignored untracked files, and
 * the untracked files that the patterns match; a file in both is copied.
 * Returns 0, or -1 with the reason in *err (inc released). A bare
 * repository has nothing to copy.
 */
int ws_include_read(struct ws_include *inc, const struct ws_repo *r,
		    const struct strvec *extra, struct strbuf *err);

/*
 * 1 when `pattern` (gitignore syntax) has a `..` component, which would
 * leave the repository, else 0. A leading `!` or `/` is not part of the
 * path.
 */
int ws_include_pattern_escapes(const char *pattern);

/*
 * Copy inc's files into the worktree at `dest`, each unless `dest`
 * already has something at that path: a file that is there is never
 * overwritten. Regular files are copied, never hard-linked (an in-place
 * edit in one worktree must not change the others): a reflink
 * (FICLONE, as `cp --reflink=auto`) where the file system shares
 * blocks, else copy_file_range(2), else read and write; the mode's
 * permission bits are kept. Symbolic links are made again with the
 * same target. Missing directories are made. *copied (when not NULL)
 * gets the number of files copied. Returns 0, or -1 after printing an
 * error that names the file; the files copied before it stay.
 */
int ws_include_copy(const struct ws_include *inc, const char *dest,
		    size_t *copied);

void ws_include_release(struct ws_include *inc);

#endif
