#ifndef MERGE_OUTCOME_H
#define MERGE_OUTCOME_H

#include "compat.h"
#include "repo.h"
#include "strvec.h"

/*
 * What came of one workstream in a run of git ws-merge (or would, with
 * -n), and how it is said on stdout.
 */
enum ws_merge_outcome {
	WS_OUTCOME_MERGED,
	WS_OUTCOME_CONFLICT,
	WS_OUTCOME_TESTS_FAILED,
	WS_OUTCOME_SKIPPED,  /* waiting for a dependency, or no longer queued */
	WS_OUTCOME_REFUSED,  /* the base's worktree has changes in its way */
	WS_OUTCOME_FAILED,   /* an error; the workstream stays queued */
};

/*
 * Its name in porcelain output: "merged", "conflict", "tests-failed",
 * "skipped", "refused", "error".
 */
const char *ws_merge_outcome_name(enum ws_merge_outcome o);

/*
 * Print what came of the workstream `id` on stdout, as it happens: with
 * `porcelain`, the line "<outcome>\t<id>\t<oid>\t<detail>" (oid empty
 * when NULL, detail sanitized); else the `human` text, each line
 * sanitized, when there is any (none when an error said it already).
 */
void ws_merge_outcome_print(int porcelain, enum ws_merge_outcome o,
			    const char *id, const git_oid *oid,
			    const char *detail, const char *human);

/*
 * ws_merge_outcome_print(), with a fifth porcelain field after the
 * detail when `with` is not NULL: its entries (ids), space-separated
 * and sanitized; git ws-merge -n's conflict line names so the queued
 * workstreams whose merges it would conflict with.
 */
void ws_merge_outcome_print_with(int porcelain, enum ws_merge_outcome o,
				 const char *id, const git_oid *oid,
				 const char *detail, const struct strvec *with,
				 const char *human);

#endif
