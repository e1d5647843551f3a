#ifndef MERGE_COMMIT_H
#define MERGE_COMMIT_H

#include "compat.h"
#include "plan.h"
#include "repo.h"
#include "strbuf.h"
#include "strvec.h"

/*
 * The merge commit git ws-merge makes of a workstream: two parents (the
 * base's tip, then the workstream's branch tip), as `git merge --no-ff`
 * makes it, its tree computed by ws_merge_compute() (mergetree.h), and a
 * message saying what was merged and why it may be:
 *
 *	Merge <id>: <title>
 *
 *	Implements <id> of plan <plan>.
 *	Contracts: <paths>[; conflicts resolved for the owner: <notes>]
 *	Dependencies: <deps>
 *	Gates: <summary of the convergence report>
 *	Next: <ids> can now proceed
 *
 * The subject is what ws_merge_touched_by() (merge-history.h) reads back.
 */
struct ws_merge_commit {
	const struct plan *plan;
	size_t i;                       /* plan->ws[i] is merged */
	git_oid base_tip, branch_tip;   /* the parents */
	git_oid tree;                   /* the merge's tree */
	const struct strvec *owners;    /* "path (owned by ...)", may be empty */
	const char *deps;               /* "ws-1 (merged as abc1234), ...", or "" */
	const struct strvec *next;      /* dependents this merge unblocks */
	int untested;                   /* --no-verify: say so in Gates */
};

/*
 * The message above into msg. The Gates line sums up
 * <ws dir>/reports/<id>, written by git ws-converge (one "PASS|FAIL|SKIP
 * <gate> <detail>" line per gate): "9 passed, 1 skipped (todo)"; else
 * its first line. Every text from the plan or the report is sanitized
 * (strbuf_add_sanitized()).
 */
void ws_merge_commit_message(const struct ws_repo *r,
			     const struct ws_merge_commit *mc,
			     struct strbuf *msg);

/*
 * Write the merge commit (no ref moves) and put its id in *out. Author
 * and committer are `git var GIT_AUTHOR_IDENT` and GIT_COMMITTER_IDENT,
 * from config and environment, as for `git merge`. Dies when git does
 * not know who the user is (with a hint saying how to tell it) or when
 * the commit cannot be written.
 */
void ws_merge_commit_create(const struct ws_repo *r,
			    const struct ws_merge_commit *mc, git_oid *out);

/*
 * The signature of `who` ("AUTHOR" or "COMMITTER") as `git var
 * GIT_<who>_IDENT` says it, as for the merge commit above (dies the
 * same way). Free with git_signature_free().
 */
git_signature *ws_merge_ident(const struct ws_repo *r, const char *who);

#endif
