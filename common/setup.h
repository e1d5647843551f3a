#ifndef SETUP_H
#define SETUP_H

#include "compat.h"
#include "plan.h"
#include "repo.h"

/*
 * The plan's `setup` and `teardown` commands (git-ws(7), SETUP AND
 * TEARDOWN): `setup` makes a new worktree ready to work in (install
 * dependencies, generate files) before any command or gate runs there;
 * `teardown` runs before git ws-clean removes a worktree (stop a
 * service, release what setup took). Both run as `/bin/sh -c` in the
 * worktree with the workstream's environment (ws_push_env()), stdin from
 * /dev/null, and stdout and stderr in logs/<id>.setup.log or
 * logs/<id>.teardown.log (a header line, then the output, then a
 * footer with the result), in git ws-alloc's process group: Ctrl-C
 * stops them.
 *
 * The state key WS_KEY_SETUP says a workstream's worktree still needs its
 * setup: "pending" from the allocation until the setup has passed (a
 * killed git ws-alloc leaves it so, and git ws-dispatch runs it before
 * the first command), "failed" when it failed (the workstream is then
 * `failed`; `git ws-dispatch --retry` runs it again).
 */
#define WS_KEY_SETUP "setup"
#define WS_SETUP_PENDING "pending"
#define WS_SETUP_FAILED "failed"

/* One setup to run: in `worktree`, for plan->ws[idx] on `branch`. */
struct ws_setup_job {
	size_t idx;
	const char *branch;
	const char *worktree;
	const char *log;     /* NULL: ws_setup_log() */
	int failed;          /* out: 1 when the setup failed */
	char *result;        /* out: "exit status 2", ...; caller frees */
};

/*
 * Run the `setup` of each of jobs[0..nr) (none for a workstream without
 * one: it passes), up to one per CPU at a time. Returns how many failed.
 * Waits with waitpid(-1): the caller must have no other child running.
 */
size_t ws_setup_run(const struct ws_repo *r, const struct plan *plan,
		    struct ws_setup_job *jobs, size_t nr);

/*
 * Run the `setup` of one job, to its end, waiting for that process only
 * (so that a caller with other children running, git ws-dispatch --loop
 * taking a worktree slot (pool.h), may call it). Sets job->failed and
 * job->result (caller frees) as ws_setup_run() does, and writes the same
 * log. Returns 0 when it passed or there is none, else -1.
 */
int ws_setup_run_one(const struct ws_repo *r, const struct plan *plan,
		     struct ws_setup_job *job);

/*
 * Run plan->ws[idx]'s `teardown` in `worktree`, to its end. Returns 0
 * when it passed or there is none; else -1 with the result ("exit status
 * 1, see <log>") in *err.
 */
int ws_teardown_run(const struct ws_repo *r, const struct plan *plan,
		    size_t idx, const char *branch, const char *worktree,
		    struct strbuf *err);

/* The path of a workstream's setup log (caller frees). */
char *ws_setup_log(const struct ws_repo *r, const char *id);

#endif
