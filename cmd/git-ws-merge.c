/*
 * git ws-merge: the local merge queue. Each queued workstream, dependencies
 * first, is merged into the base branch as `git merge --no-ff` would
 * merge it, the exact result is tested in a scratch worktree, and only
 * then is the base moved, by compare-and-swap.
 */
#include "compat.h"
#include "archive.h"
#include "changed-paths.h"
#include "final-test.h"
#include "follow.h"
#include "lockfile.h"
#include "merge-commit.h"
#include "merge-forecast.h"
#include "merge-job.h"
#include "merge-order.h"
#include "merge-outcome.h"
#include "merge-undo.h"
#include "parse-options.h"
#include "plan.h"
#include "push.h"
#include "recover.h"
#include "repo.h"
#include "scratch.h"
#include "state.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

static const char * const merge_usage[] = {
	"git ws-merge [-n | --dry-run] [--batch[=<n>]] [--no-verify] [--push[=<remote>]] [--porcelain] [<id>...]",
	"git ws-merge [-n | --dry-run] [--no-verify] [--porcelain] --undo <id>...",
	"git ws-merge [-n | --dry-run] [--no-verify] [--porcelain] --rollback-to <checkpoint>",
	"git ws-merge --final-test [--porcelain]",
	NULL
};

/* How often a merge starts over because the base moved under it. */
#define MAX_TRIES 5

/* The size of a batch of a bare --batch when the plan gives none. */
#define DEFAULT_BATCH 4

struct merge_ctx {
	struct ws_repo repo;
	struct plan plan;
	struct ws_state st;
	const char *base;
	int dry_run, no_verify, porcelain, final_test;
	const char *push;
	int undo;                /* --undo */
	const char *rollback_to; /* --rollback-to */
	int *done_in_run;   /* per plan index: 1 merged, -1 did not merge */
	int batch;          /* --batch: workstreams per chain; 0: one by one */
	int *in_chain;      /* --batch: per plan index, 1 while on the chain */
	long test_runs;     /* test runs in this run */
	struct strvec stop; /* base-oids the plan was allocated on */
	int lock_fd;        /* merge.lock, -1 when not held (-n) */
};

static const char *id_of(struct merge_ctx *c, size_t i)
{
	return c->plan.ws[i].id;
}

/* Print what came of ws[i] (ws_merge_outcome_print()). */
static void report(struct merge_ctx *c, enum ws_merge_outcome o, size_t i,
		   const git_oid *oid, const char *detail, const char *human)
{
	ws_merge_outcome_print(c->porcelain, o, id_of(c, i), oid, detail,
			       human);
}

/* Lock and re-read the state (the last read is dropped). */
static void state_lock(struct merge_ctx *c)
{
	ws_state_release(&c->st);
	ws_state_lock_repo(&c->st, &c->repo);
}

static void state_commit(struct merge_ctx *c)
{
	ws_state_commit_or_die(&c->st);
}

/* Read the state without locking (for -n and the ordering). */
static void state_read(struct merge_ctx *c)
{
	struct strbuf err = STRBUF_INIT;

	ws_state_release(&c->st);
	if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
}

/* The dependencies of ws[i] that are not merged, or NULL (caller frees). */
static char *unmerged_deps(struct merge_ctx *c, size_t i)
{
	const struct plan_workstream *w = &c->plan.ws[i];
	struct strbuf sb = STRBUF_INIT;
	size_t j;

	for (j = 0; j < w->dep_nr; j++) {
		size_t d = w->dep_idx[j];
		enum ws_status status = ws_state_status(&c->st, id_of(c, d));

		if ((ws_is_merged(&c->st, id_of(c, d)) && c->done_in_run[d] >= 0) ||
		    c->in_chain[d])
			continue; /* merged, or merged below it on the chain */
		strbuf_addf(&sb, "%s%s (%s)", sb.len ? ", " : "", id_of(c, d),
			    c->done_in_run[d] < 0 ? "did not merge in this run" :
			    ws_status_name(status) ?: "not started");
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/*
 * Refuse when a worktree with the base checked out has uncommitted
 * changes in paths the merge changes. Returns 0 when it may go on.
 */
static int check_base_worktrees(struct merge_ctx *c, struct ws_merge_job *j,
				const struct strvec *wts)
{
	struct strvec both = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT;
	ssize_t k = ws_first_overwritten_worktree(&c->repo, &j->base_tip,
						  &j->res.tree, wts, &both);

	if (k >= 0) {
		strvec_join(&list, &both, ", ");
		error("'%s' is checked out in '%s', which has uncommitted changes that the merge of '%s' would overwrite: %s",
		      c->base, wts->v[k], id_of(c, j->i), list.buf);
		advise("commit or stash them there, then run 'git ws-merge' again");
		report(c, WS_OUTCOME_REFUSED, j->i, NULL, list.buf, "");
	}
	strvec_clear(&both);
	strbuf_release(&list);
	return k == -1 ? 0 : -1;
}

/*
 * Move the done file, logs and report of a merged workstream to
 * .git/ws/archive/<plan>/ (the same layout and never-overwrite rules as
 * git ws-clean), and record where.
 */
static void archive(struct merge_ctx *c, size_t i)
{
	char *dir = ws_archive_dir(&c->repo, c->plan.name);

	if (!ws_archive_workstream(&c->repo, &c->st, c->plan.name, id_of(c, i), NULL))
		ws_state_set(&c->st, id_of(c, i), WS_KEY_ARCHIVE, dir);
	free(dir);
}

/*
 * Write .git/ws/reports/<id>, the last report of ws[i], so that its next
 * iteration reads (through WS_REPORT) why the merge sent it back: the
 * reason, what to do, and the end of the test log when there is one.
 */
static void write_merge_report(struct merge_ctx *c, size_t i,
			       const char *reason, const char *log)
{
	char *path = ws_path(&c->repo, "reports/%s", id_of(c, i));
	struct strbuf sb = STRBUF_INIT;
	char now[32];

	iso8601_now(now);
	strbuf_addf(&sb, "git ws-merge report for %s (%s)\n\n", id_of(c, i), now);
	strbuf_addf(&sb, "FAIL  merge  %s\n\n", reason);
	if (!log) {
		strbuf_addf(&sb, "What to do: bring '%s' into your branch (git merge %s),\n"
			    "resolve the conflicts in the files above, commit, and converge again.\n",
			    c->base, c->base);
	} else {
		char *text = NULL;
		size_t len = 0, start, lines = 0;

		strbuf_addf(&sb, "What to do: the tests pass on your branch but fail once it is merged\n"
			    "with '%s': bring '%s' into your branch, fix, commit, and converge again.\n",
			    c->base, c->base);
		if (!read_file(log, &text, &len)) {
			for (start = len; start > 0 && lines <= 40; start--)
				if (text[start - 1] == '\n')
					lines++;
			strbuf_addf(&sb, "\nThe end of %s:\n%s", log, text + start);
			free(text);
		}
	}
	if (write_file_atomically(path, sb.buf, sb.len, LOCK_BREAK_STALE) < 0)
		warning("cannot write '%s': %s", path, strerror(errno));
	strbuf_release(&sb);
	free(path);
}

/*
 * Take ws[i] out of the queue and back to `done` with `reason`: it must
 * converge again. `log` is the test log when the tests failed.
 */
static void send_back(struct merge_ctx *c, size_t i, const char *reason,
		      const char *log)
{
	write_merge_report(c, i, reason, log);
	state_lock(c);
	if (ws_queue_contains(&c->st, id_of(c, i)) ||
	    ws_state_status(&c->st, id_of(c, i)) == WS_STATUS_CONVERGED) {
		ws_state_set_status(&c->st, id_of(c, i), WS_STATUS_DONE, reason);
		/* for git ws-dispatch --loop, which counts it as an iteration */
		ws_state_set(&c->st, id_of(c, i), WS_KEY_SENT_BACK, "merge");
		ws_queue_remove(&c->st, id_of(c, i));
	}
	state_commit(c);
}

/* Read the state under its lock and check ws[i] may still merge. */
static int still_mergeable(struct merge_ctx *c, struct ws_merge_job *j)
{
	const char *id = id_of(c, j->i);
	enum ws_status status;
	char *waiting;
	struct strbuf sb = STRBUF_INIT;

	state_lock(c);
	status = ws_state_status(&c->st, id);
	if (!ws_queue_contains(&c->st, id) || status != WS_STATUS_CONVERGED) {
		strbuf_addf(&sb, "%s: no longer queued (status: %s)", id,
			    ws_status_name(status) ?: "none");
		report(c, WS_OUTCOME_SKIPPED, j->i, NULL, "no longer queued", sb.buf);
		goto no;
	}
	if ((waiting = unmerged_deps(c, j->i))) {
		strbuf_addf(&sb, "%s: skipped, waiting for %s; it stays queued",
			    id, waiting);
		report(c, WS_OUTCOME_SKIPPED, j->i, NULL, waiting, sb.buf);
		free(waiting);
		goto no;
	}
	ws_merge_job_read(j, &c->plan, &c->st);
	ws_state_release(&c->st);
	strbuf_release(&sb);
	return 1;
no:
	ws_state_release(&c->st);
	strbuf_release(&sb);
	return 0;
}

/* 1 when the base is at `oid`. */
static int base_is(struct merge_ctx *c, const git_oid *oid)
{
	git_oid tip;

	return !ws_branch_tip(&c->repo, c->base, &tip) && git_oid_equal(&tip, oid);
}

/*
 * Say that ws[j->i] merged at `oid` (already: the base had everything),
 * what was resolved for the owner and what it unblocks.
 */
static void say_merged(struct merge_ctx *c, struct ws_merge_job *j,
		       const git_oid *oid, int already)
{
	const char *id = id_of(c, j->i);
	char hex[GIT_OID_HEXSZ + 1];
	struct strbuf sb = STRBUF_INIT, detail = STRBUF_INIT;

	ws_oid_hex(oid, hex);
	if (already)
		strbuf_addf(&sb, "%s: already in %s at %.7s, nothing to merge (",
			    id, c->base, hex);
	else
		strbuf_addf(&sb, "%s: merged into %s as %.7s (", id, c->base, hex);
	strbuf_add_sanitized(&sb, c->plan.ws[j->i].title);
	strbuf_addch(&sb, ')');
	if (j->owners_note.nr) {
		strbuf_addstr(&sb, "\n  resolved for the owner: ");
		strvec_join(&sb, &j->owners_note, ", ");
	}
	if (j->next.nr) {
		strbuf_addstr(&sb, "\n  Next: ");
		strvec_join(&sb, &j->next, ", ");
		strbuf_addstr(&sb, " can now proceed");
	}
	strvec_join(&detail, &j->next, " ");
	report(c, WS_OUTCOME_MERGED, j->i, oid, detail.buf, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&detail);
}

/*
 * Record ws[j->i] as merged at `oid` (its merge commit, or the base tip
 * when the base already had everything), archive its files, unblock its
 * dependents, and say so.
 */
static void record_merged(struct merge_ctx *c, struct ws_merge_job *j,
			  const git_oid *oid, int already)
{
	const char *id = id_of(c, j->i);
	char hex[GIT_OID_HEXSZ + 1];

	ws_oid_hex(oid, hex);
	state_lock(c);
	ws_intent_clear(&c->st, id, WS_INTENT_FOLLOW);
	ws_state_set_status(&c->st, id, WS_STATUS_MERGED, NULL);
	ws_state_set(&c->st, id, WS_KEY_MERGE_OID, hex);
	ws_queue_remove(&c->st, id);
	archive(c, j->i);
	ws_update_blocked(&c->plan, &c->st);
	state_commit(c);
	c->done_in_run[j->i] = 1;
	say_merged(c, j, oid, already);
}

/*
 * Say that ws[j->i] went back to done because of `reason` (the conflict,
 * or the failed tests: then oid is the merge commit and log their log).
 */
static void say_sent_back(struct merge_ctx *c, struct ws_merge_job *j,
			  enum ws_merge_outcome o, const git_oid *oid,
			  const char *reason, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s: %s; back to done, it must converge again",
		    id_of(c, j->i), reason);
	report(c, o, j->i, oid, detail, sb.buf);
	strbuf_release(&sb);
}

/* The merge of ws[j->i] conflicts: back to done. */
static enum ws_merge_outcome send_back_conflict(struct merge_ctx *c,
				       struct ws_merge_job *j)
{
	struct strbuf reason = STRBUF_INIT;

	ws_merge_job_conflict_reason(j, &c->repo, &c->plan, &c->stop, &reason);
	send_back(c, j->i, reason.buf, NULL);
	say_sent_back(c, j, WS_OUTCOME_CONFLICT, NULL, reason.buf, reason.buf);
	strbuf_release(&reason);
	return WS_OUTCOME_CONFLICT;
}

/* The tests fail on the merge of ws[j->i] (their output in log): back to done. */
static enum ws_merge_outcome send_back_failed_tests(struct merge_ctx *c,
					   struct ws_merge_job *j,
					   const char *log)
{
	struct strbuf reason = STRBUF_INIT;

	strbuf_addf(&reason, "tests failed on the merge result: see %s", log);
	send_back(c, j->i, reason.buf, log);
	say_sent_back(c, j, WS_OUTCOME_TESTS_FAILED, &j->commit, reason.buf,
		      log);
	strbuf_release(&reason);
	return WS_OUTCOME_TESTS_FAILED;
}

/*
 * Test the merge commit of j in the scratch worktree (ws_scratch_test(),
 * its output in `log`), and count the run in the state's test-runs of
 * ws[j->i] and in the run's total. Returns what ws_scratch_test() does.
 */
static int test_merge(struct merge_ctx *c, struct ws_merge_job *j,
		      const char *log)
{
	const char *id = id_of(c, j->i);
	int t = ws_scratch_test(&c->repo, &c->plan, j->i, j->branch,
				&j->commit, log, c->lock_fd,
				!c->porcelain && isatty(2));

	if (t >= 0 && c->plan.ws[j->i].test && *c->plan.ws[j->i].test) {
		state_lock(c);
		ws_state_setf(&c->st, id, WS_KEY_TEST_RUNS, "%ld",
			      ws_state_get_long(&c->st, id, WS_KEY_TEST_RUNS, 0) + 1);
		state_commit(c);
		c->test_runs++;
	}
	return t;
}

/*
 * Before the base moves: the worktrees in wts that have it checked out
 * must not lose changes, and the merge commit must pass the tests (unless
 * --no-verify). Returns 0 when the merge may go on, else -1 with *o set.
 */
static int vet_merge(struct merge_ctx *c, struct ws_merge_job *j,
		     const struct strvec *wts, const char *log,
		     enum ws_merge_outcome *o)
{
	if (check_base_worktrees(c, j, wts) < 0) {
		*o = WS_OUTCOME_REFUSED;
		return -1;
	}
	if (!c->no_verify) {
		int t = test_merge(c, j, log);

		if (t < 0) {
			*o = WS_OUTCOME_FAILED;
			return -1;
		}
		if (t > 0) {
			*o = send_back_failed_tests(c, j, log);
			return -1;
		}
	}
	/* the worktree may have changed while the tests ran */
	if (check_base_worktrees(c, j, wts) < 0) {
		*o = WS_OUTCOME_REFUSED;
		return -1;
	}
	return 0;
}

/*
 * Record, under the state lock, that the worktrees in wts, which have
 * the base checked out, are to follow it from j->base_tip to j->commit
 * (follow.h): written before the base moves. With wts NULL, drop that
 * record again, when the base did not move.
 */
static void record_follow(struct merge_ctx *c, struct ws_merge_job *j,
			  const struct strvec *wts)
{
	struct ws_intent in = WS_INTENT_INIT;
	char from[GIT_OID_HEXSZ + 1], to[GIT_OID_HEXSZ + 1];

	state_lock(c);
	if (wts) {
		in.kind = WS_INTENT_FOLLOW;
		in.id = id_of(c, j->i);
		in.from = ws_oid_hex(&j->base_tip, from);
		in.to = ws_oid_hex(&j->commit, to);
		in.worktrees = *wts;
		ws_intent_record(&c->st, &in);
	} else {
		ws_intent_clear(&c->st, id_of(c, j->i), WS_INTENT_FOLLOW);
	}
	state_commit(c);
}

/* Make the merge commit of j, from what the job says (merge-commit.h). */
static void create_merge_commit(struct merge_ctx *c, struct ws_merge_job *j)
{
	struct ws_merge_commit mc = { &c->plan, j->i };

	ws_merge_job_note_owners(j, &c->plan);
	mc.base_tip = j->base_tip;
	mc.branch_tip = j->branch_tip;
	mc.tree = j->res.tree;
	mc.owners = &j->owners_note;
	mc.deps = j->deps.buf;
	mc.next = &j->next;
	mc.untested = c->no_verify;
	ws_merge_commit_create(&c->repo, &mc, &j->commit);
}

/*
 * Move the base from j->base_tip to j->commit by compare-and-swap, and
 * the worktrees in wts, which have it checked out, along. Returns 0 when
 * it moved, 1 when the base moved under the merge (it must start over),
 * -1 after an error.
 */
static int move_base(struct merge_ctx *c, struct ws_merge_job *j,
		     const struct strvec *wts)
{
	const char *id = id_of(c, j->i);
	char *ref = xstrfmt("refs/heads/%s", c->base);
	char *reflog = xstrfmt("ws-merge: merge %s", id);
	git_reference *new_ref = NULL;
	size_t k;
	int err, ret = 0;

	if (wts->nr)
		record_follow(c, j, wts);
	err = git_reference_create_matching(&new_ref, c->repo.repo, ref,
					    &j->commit, 1, &j->base_tip, reflog);
	git_reference_free(new_ref);
	if (err < 0 && wts->nr && !base_is(c, &j->commit))
		record_follow(c, j, NULL);
	if (err == GIT_EMODIFIED) {
		fprintf(stderr, "'%s' moved while '%s' was being merged; starting over\n",
			c->base, id);
		ret = 1;
	} else if (err < 0) {
		ret = error_git("cannot update '%s'", c->base);
	} else {
		for (k = 0; k < wts->nr; k++)
			ws_follow(&c->repo, c->base, wts->v[k], &j->base_tip,
				  &j->commit, c->lock_fd);
	}
	free(reflog);
	free(ref);
	return ret;
}

/*
 * One try at merging ws[j->i] against the base's tip of now: check it
 * may still merge, compute the merge, make the commit, vet it, move the
 * base. *o is what came of it. Returns 1 when the base moved meanwhile
 * and the merge must start over, else 0.
 */
static int try_merge(struct merge_ctx *c, struct ws_merge_job *j,
		     const char *log, enum ws_merge_outcome *o)
{
	struct strvec wts = STRVEC_INIT;
	int again = 0;

	*o = WS_OUTCOME_FAILED;
	if (!still_mergeable(c, j)) {
		*o = WS_OUTCOME_SKIPPED;
		return 0;
	}
	if (ws_merge_job_tips(j, &c->repo, &c->plan) < 0)
		return 0;
	if (git_oid_equal(&j->branch_tip, &j->base_tip) ||
	    git_graph_descendant_of(c->repo.repo, &j->base_tip,
				    &j->branch_tip) == 1) {
		/* git merge: "Already up to date"; no empty merge commit */
		record_merged(c, j, &j->base_tip, 1);
		*o = WS_OUTCOME_MERGED;
		return 0;
	}
	if (ws_merge_job_compute(j, &c->repo, &c->plan) < 0)
		return 0;
	if (!j->res.clean) {
		*o = send_back_conflict(c, j);
		return 0;
	}

	create_merge_commit(c, j);
	ws_branch_worktrees(&c->repo, c->base, &wts);
	if (!vet_merge(c, j, &wts, log, o)) {
		switch (move_base(c, j, &wts)) {
		case 0:
			record_merged(c, j, &j->commit, 0);
			*o = WS_OUTCOME_MERGED;
			break;
		case 1:
			again = 1;
			break;
		}
	}
	strvec_clear(&wts);
	return again;
}

/*
 * Merge ws[i] into the base, starting over while the base moves under
 * the merge (at most MAX_TRIES times), and say what came of it.
 */
static enum ws_merge_outcome merge_one(struct merge_ctx *c, size_t i)
{
	struct ws_merge_job j = WS_MERGE_JOB_INIT(i);
	const char *id = id_of(c, i);
	char *log = ws_path(&c->repo, "logs/%s.merge.log", id);
	enum ws_merge_outcome o = WS_OUTCOME_FAILED;
	int tries;

	for (tries = 0; tries < MAX_TRIES; tries++)
		if (!try_merge(c, &j, log, &o))
			break;
	if (tries == MAX_TRIES) {
		error("'%s' kept moving; gave up merging '%s' after %d tries",
		      c->base, id, MAX_TRIES);
		advise("run 'git ws-merge' again when nobody is committing to it");
	}
	if (o == WS_OUTCOME_FAILED)
		report(c, WS_OUTCOME_FAILED, i, NULL, "see the error above", "");
	ws_merge_job_release(&j);
	free(log);
	return o;
}

/* -n: say what would come of merging j, as ws_forecast_one() found it. */
static void say_would(struct merge_ctx *c, struct ws_merge_job *j,
		      enum ws_merge_outcome o, const char *detail,
		      const struct strvec *with)
{
	const char *id = id_of(c, j->i);
	struct strbuf sb = STRBUF_INIT;

	switch (o) {
	case WS_OUTCOME_SKIPPED:
		strbuf_addf(&sb, "%s: would wait for %s", id, detail);
		report(c, WS_OUTCOME_SKIPPED, j->i, NULL, detail, sb.buf);
		break;
	case WS_OUTCOME_CONFLICT:
		/* the merge's own messages only for humans */
		strbuf_addf(&sb, "%s: would not merge: %s\n", id, detail);
		strbuf_addbuf(&sb, &j->res.messages);
		strbuf_rtrim(&sb);
		ws_merge_outcome_print_with(c->porcelain, WS_OUTCOME_CONFLICT,
					    id_of(c, j->i), NULL, detail, with,
					    sb.buf);
		break;
	case WS_OUTCOME_MERGED:
		strbuf_addf(&sb, "%s: would merge cleanly into %s", id, c->base);
		if (*detail)
			strbuf_addf(&sb, " (resolved for the owner: %s)", detail);
		report(c, WS_OUTCOME_MERGED, j->i, &j->res.tree, detail,
		       sb.buf);
		break;
	default:
		report(c, WS_OUTCOME_FAILED, j->i, NULL, "see the error above", "");
		break;
	}
	strbuf_release(&sb);
}

/*
 * -n: whether each workstream would merge, in order and cumulatively
 * (merge-forecast.h), and what would conflict with whom; nothing is
 * written but objects (the merged trees and the forecast's merge
 * commits, which no ref points to). Returns 1 when any would not merge.
 */
static int dry_run(struct merge_ctx *c, const size_t *order, size_t nr)
{
	struct ws_merge_job *jobs = xcalloc(nr + 1, sizeof(*jobs));
	int *ok = xcalloc(nr + 1, sizeof(*ok));
	struct ws_forecast f = { &c->repo, &c->plan, &c->st, &c->stop,
				 c->done_in_run, 0, { { 0 } }, { { 0 } } };
	size_t n;
	int ret = 0;

	ws_forecast_compute(&f, order, nr, jobs, ok);
	for (n = 0; n < nr; n++) {
		struct strbuf detail = STRBUF_INIT;
		struct strvec with = STRVEC_INIT;
		enum ws_merge_outcome o = ws_forecast_one(&f, &jobs[n], ok[n],
							  &detail, &with);

		say_would(c, &jobs[n], o, detail.buf, &with);
		strvec_clear(&with);
		c->done_in_run[order[n]] = o == WS_OUTCOME_MERGED ? 1 : -1;
		if (o != WS_OUTCOME_MERGED)
			ret = 1;
		strbuf_release(&detail);
	}
	for (n = 0; n < nr; n++)
		ws_merge_job_release(&jobs[n]);
	free(jobs);
	free(ok);
	return ret;
}

/* Serialise whole runs: a second git ws-merge waits (bounded), then gives up. */
static int merge_lock(struct merge_ctx *c)
{
	char *path = ws_path(&c->repo, "merge.lock");
	long timeout = ws_lock_timeout_ms(&c->repo);
	int fd = hold_flock(path, 0);

	if (fd < 0 && errno == EWOULDBLOCK) {
		fprintf(stderr, "Waiting for another git ws-merge to finish (at most %ld ms)...\n",
			timeout);
		fd = hold_flock(path, timeout);
	}
	if (fd < 0) {
		if (errno == EWOULDBLOCK) {
			error("another git ws-merge is running in this repository");
			advise("wait for it to finish; it merges the whole queue\n"
			       "(the wait is bounded by ws.lockTimeout, in milliseconds)");
			exit(WS_EXIT_FATAL);
		}
		die_errno("cannot lock '%s'", path);
	}
	free(path);
	return fd;
}

/*
 * Open the repository and the plan, and take merge.lock, unless -n (the
 * state is read by the next step: recover(), or state_read() for -n).
 */
static void start_run(struct merge_ctx *c)
{
	ws_repo_open(&c->repo);
	ws_load_plan(&c->repo, &c->plan);
	c->base = c->plan.base;
	if (!c->base)
		die("plan '%s' names no base branch", c->plan.name);
	c->done_in_run = xcalloc(c->plan.nr + 1, sizeof(*c->done_in_run));
	c->in_chain = xcalloc(c->plan.nr + 1, sizeof(*c->in_chain));
	if (!c->dry_run) {
		ws_repo_ensure_dirs(&c->repo);
		c->lock_fd = merge_lock(c);
	}
}

/*
 * The first step under merge.lock: finish what a killed run left
 * (recover.h), the follows it recorded before moving the base
 * (follow.h). Leaves the state read in c->st, unlocked. It is read
 * without its lock first: with no record, the common case, that read
 * is all it costs. With one, the state stays locked while git read-tree
 * brings each worktree along, so that no other command reads a record
 * that is being finished; they wait for it as for any writer (at most
 * ws.lockTimeout), and git read-tree of the base's checked-out worktree
 * is as bounded as the `git merge` that would otherwise have updated it.
 */
static void recover(struct merge_ctx *c)
{
	struct ws_recover rc = WS_RECOVER_INIT;
	size_t pos = 0;
	const char *id;

	state_read(c);
	while ((id = ws_state_next(&c->st, &pos)))
		if (ws_intent_exists(&c->st, id, WS_INTENT_FOLLOW) ||
		    ws_intent_exists(&c->st, id, WS_INTENT_UNDO))
			break;
	if (!id)
		return;
	state_lock(c);
	rc.repo = &c->repo;
	rc.plan = &c->plan;
	rc.st = &c->st;
	rc.hold_fd = c->lock_fd;
	rc.kinds = 1u << WS_INTENT_FOLLOW | 1u << WS_INTENT_UNDO;
	rc.repair[WS_INTENT_FOLLOW] = ws_follow_repair;
	rc.repair[WS_INTENT_UNDO] = ws_undo_repair;
	if (ws_recover(&rc) < 0)
		exit(WS_EXIT_FATAL);
	state_commit(c);
}

/*
 * Note the base-oids the plan was allocated on, where the base's own
 * changes start (for ws_merge_job_conflict_reason()).
 */
static void note_allocation_bases(struct merge_ctx *c)
{
	size_t i;

	for (i = 0; i < c->plan.nr; i++) {
		const char *b = ws_state_get(&c->st, id_of(c, i), WS_KEY_BASE_OID);

		if (b && strvec_find(&c->stop, b) < 0)
			strvec_push(&c->stop, b);
	}
}

/* Merge order[0..nr-1], one after the other. Returns 1 when any did not merge. */
static int merge_all(struct merge_ctx *c, const size_t *order, size_t nr)
{
	size_t n;
	int bad = 0;

	for (n = 0; n < nr; n++) {
		size_t k = order[n];

		if (merge_one(c, k) != WS_OUTCOME_MERGED) {
			c->done_in_run[k] = -1;
			bad = 1;
		}
	}
	return bad;
}

/* ------------------------------------------------------------ --batch */

/*
 * --batch: the contracts of the workstreams on the chain below j count
 * as merged ones in j's merge, as they will once the chain lands.
 */
static void add_chain_contracts(struct merge_ctx *c, struct ws_merge_job *j)
{
	size_t k, m;

	for (k = 0; k < c->plan.nr; k++) {
		const struct plan_workstream *o = &c->plan.ws[k];

		if (k == j->i || !c->in_chain[k])
			continue;
		for (m = 0; m < o->contract.nr; m++) {
			strvec_push(&j->ours_owns, o->contract.v[m]);
			strvec_push(&j->ours_owner, o->id);
		}
	}
}

/*
 * --batch: the chain of the next c->batch queued workstreams from
 * order[*n] on (those not handled[] yet), each one's `--no-ff` merge
 * commit made on the one below it, the first on the base's tip (put in
 * *base_tip). What cannot go on the chain is dealt with as one by one
 * would: skipped (a dependency neither merged nor below it on the
 * chain), already merged, sent back with its conflict. Fills links[]
 * (each initialised here; the caller releases them) and pos[] (their
 * index in order[]), and returns how many; *n moves past the workstreams
 * taken.
 */
static size_t build_chain(struct merge_ctx *c, const size_t *order,
			  size_t nr, size_t *n, int *handled,
			  struct ws_merge_job *links, size_t *pos,
			  git_oid *base_tip)
{
	size_t k = 0, taken = 0;
	git_oid tip;

	if (ws_branch_tip(&c->repo, c->base, &tip) < 0) {
		error("base branch '%s' does not exist", c->base);
		*n = nr;
		return 0;
	}
	*base_tip = tip;
	for (; *n < nr && taken < (size_t)c->batch; (*n)++) {
		struct ws_merge_job init = WS_MERGE_JOB_INIT(order[*n]);
		struct ws_merge_job *j = &links[k];

		if (handled[*n])
			continue;
		handled[*n] = 1;
		taken++;
		*j = init;
		if (!still_mergeable(c, j))
			goto drop;
		if (ws_merge_job_tips(j, &c->repo, &c->plan) < 0)
			goto fail;
		if (git_oid_equal(&j->branch_tip, &j->base_tip) ||
		    git_graph_descendant_of(c->repo.repo, &j->base_tip,
					    &j->branch_tip) == 1) {
			record_merged(c, j, &j->base_tip, 1);
			goto drop;
		}
		j->base_tip = tip;
		add_chain_contracts(c, j);
		if (ws_merge_job_compute(j, &c->repo, &c->plan) < 0)
			goto fail;
		if (!j->res.clean) {
			send_back_conflict(c, j);
			goto drop;
		}
		create_merge_commit(c, j);
		tip = j->commit;
		c->in_chain[j->i] = 1;
		pos[k++] = *n;
		continue;
fail:
		report(c, WS_OUTCOME_FAILED, j->i, NULL, "see the error above", "");
drop:
		if (c->done_in_run[j->i] != 1)
			c->done_in_run[j->i] = -1;
		ws_merge_job_release(j);
	}
	return k;
}

/*
 * --batch: say that the tests of ws[j->i]'s merge failed, then passed
 * when run again on the same tree (its first log kept as `flaky_log`).
 */
static void say_flaky(struct merge_ctx *c, struct ws_merge_job *j,
		      const char *flaky_log)
{
	struct strbuf sb = STRBUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];

	if (c->porcelain) {
		strbuf_addf(&sb, "flaky\t%s\t%s\t", id_of(c, j->i),
			    ws_oid_hex(&j->commit, hex));
		strbuf_add_sanitized(&sb, flaky_log);
		printf("%s\n", sb.buf);
	} else {
		strbuf_addf(&sb, "%s: flaky tests: they failed on its merge (%.7s), then passed when run again on the same tree; see ",
			    id_of(c, j->i), ws_oid_hex(&j->commit, hex));
		strbuf_add_sanitized(&sb, flaky_log);
		printf("%s\n", sb.buf);
	}
	strbuf_release(&sb);
}

/*
 * --batch: test links[at] (the chain up to it). Returns 0 when it
 * passes, 1 when it fails, -1 after an error.
 */
static int test_link(struct merge_ctx *c, struct ws_merge_job *links,
		     size_t at)
{
	char *log = ws_path(&c->repo, "logs/%s.merge.log", id_of(c, links[at].i));
	int t = test_merge(c, &links[at], log);

	free(log);
	return t;
}

/*
 * --batch: which prefix of the chain links[0..k) passes the tests. The
 * top is tested; when it fails, the chain is bisected (the middle, then
 * the half that fails) down to the first link whose merge breaks the
 * tests, *culprit (else -1). A culprit that failed only once (the top,
 * everything under it passing) is tested again on the same tree: passing
 * then, it is flaky, said so, and not a culprit. Returns the index of
 * the top link that passed (-1: none), or -2 after an error.
 */
static ssize_t passing_prefix(struct merge_ctx *c, struct ws_merge_job *links,
			      size_t k, ssize_t *culprit)
{
	ssize_t good = -1, bad = (ssize_t)k - 1;
	int t;

	*culprit = -1;
	if (c->no_verify)
		return bad;
	t = test_link(c, links, k - 1);
	if (t < 0)
		return -2;
	if (!t)
		return bad;
	while (bad - good > 1) {
		ssize_t mid = (good + bad) / 2;

		t = test_link(c, links, mid);
		if (t < 0)
			return -2;
		if (t)
			bad = mid;
		else
			good = mid;
	}
	if (bad == (ssize_t)k - 1) {
		const char *id = id_of(c, links[bad].i);
		char *log = ws_path(&c->repo, "logs/%s.merge.log", id);
		char *flaky_log = ws_path(&c->repo, "logs/%s.merge-flaky.log", id);

		if (rename(log, flaky_log) < 0)
			warning("cannot keep '%s' as '%s': %s", log, flaky_log,
				strerror(errno));
		t = test_link(c, links, bad);
		if (!t)
			say_flaky(c, &links[bad], flaky_log);
		free(log);
		free(flaky_log);
		if (t < 0)
			return -2;
		if (!t)
			return bad;
	}
	*culprit = bad;
	return good;
}

/*
 * --batch: land the chain links[0..k) built on base_tip: test it
 * (passing_prefix()), move the base to the top link that passed by
 * compare-and-swap (the worktrees that have it checked out along, as
 * one merge does: move_base()), record each link below it merged with
 * its own merge commit, and send the culprit back with its test log.
 * Returns the index of the first link left for the next chain (k when
 * none), or -1 when the base moved under the chain (the caller builds it
 * again).
 */
static ssize_t land_chain(struct merge_ctx *c, struct ws_merge_job *links,
			  size_t k, const git_oid *base_tip)
{
	struct strvec wts = STRVEC_INIT;
	struct ws_merge_job top;
	ssize_t good, culprit = -1, m, next = k;
	size_t said;

	ws_branch_worktrees(&c->repo, c->base, &wts);
	top = links[k - 1];
	top.base_tip = *base_tip;
	said = top.i;
	if (check_base_worktrees(c, &top, &wts) < 0)
		goto refused;
	good = passing_prefix(c, links, k, &culprit);
	if (good == -2) {
		for (m = 0; m < (ssize_t)k; m++)
			report(c, WS_OUTCOME_FAILED, links[m].i, NULL,
			       "see the error above", "");
		goto out;
	}
	if (good >= 0) {
		top = links[good];
		top.base_tip = *base_tip;
		/* the worktree may have changed while the tests ran */
		if (check_base_worktrees(c, &top, &wts) < 0) {
			said = top.i;
			goto refused;
		}
		switch (move_base(c, &top, &wts)) {
		case 0:
			for (m = 0; m <= good; m++)
				record_merged(c, &links[m], &links[m].commit, 0);
			break;
		case 1:
			next = -1;
			goto out;
		default:
			for (m = 0; m < (ssize_t)k; m++)
				report(c, WS_OUTCOME_FAILED, links[m].i, NULL,
				       "see the error above", "");
			goto out;
		}
	}
	if (culprit >= 0) {
		char *log = ws_path(&c->repo, "logs/%s.merge.log",
				    id_of(c, links[culprit].i));

		c->in_chain[links[culprit].i] = 0;
		send_back_failed_tests(c, &links[culprit], log);
		free(log);
		next = culprit + 1;
	}
	goto out;
refused:
	/* the error named one of them; they all stay queued */
	for (m = 0; m < (ssize_t)k; m++)
		if (links[m].i != said)
			report(c, WS_OUTCOME_REFUSED, links[m].i, NULL,
			       "see the error above", "");
out:
	strvec_clear(&wts);
	for (m = 0; m < (ssize_t)k; m++) {
		c->in_chain[links[m].i] = 0;
		/* what this chain decided and did not merge */
		if ((next < 0 || m < next) && c->done_in_run[links[m].i] != 1)
			c->done_in_run[links[m].i] = next < 0 ? 0 : -1;
	}
	return next;
}

/*
 * --batch: merge order[0..nr) a chain of c->batch at a time
 * (build_chain(), land_chain()); what a culprit leaves on its chain goes
 * on the next one. Returns 1 when any did not merge.
 */
static int merge_batched(struct merge_ctx *c, const size_t *order, size_t nr)
{
	struct ws_merge_job *links = xcalloc(c->batch + 1, sizeof(*links));
	size_t *pos = xcalloc(c->batch + 1, sizeof(*pos));
	int *handled = xcalloc(nr + 1, sizeof(*handled));
	size_t n = 0, k, m;
	int tries = 0, bad = 0;

	while (n < nr) {
		size_t start = n;
		git_oid base_tip;
		ssize_t next;

		k = build_chain(c, order, nr, &n, handled, links, pos, &base_tip);
		if (!k)
			continue;
		next = land_chain(c, links, k, &base_tip);
		if (next < 0 && ++tries < MAX_TRIES) {
			/* the base moved: the same workstreams again */
			for (m = 0; m < k; m++)
				handled[pos[m]] = 0;
			n = start;
		} else if (next < 0) {
			error("'%s' kept moving; gave up merging a batch after %d tries",
			      c->base, MAX_TRIES);
			advise("run 'git ws-merge' again when nobody is committing to it");
			for (m = 0; m < k; m++)
				report(c, WS_OUTCOME_FAILED, links[m].i, NULL,
				       "see the error above", "");
			tries = 0;
		} else if ((size_t)next < k) {
			for (m = next; m < k; m++)
				handled[pos[m]] = 0;
			n = pos[next];
			tries = 0;
		} else {
			tries = 0;
		}
		for (m = 0; m < k; m++)
			ws_merge_job_release(&links[m]);
	}
	for (n = 0; n < nr; n++)
		if (c->done_in_run[order[n]] != 1)
			bad = 1;
	free(links);
	free(pos);
	free(handled);
	return bad;
}

/* --batch: the run's test runs, after the merges. */
static void say_test_runs(struct merge_ctx *c)
{
	if (c->porcelain)
		printf("test-runs\t%ld\n", c->test_runs);
	else
		printf("Test runs: %ld (batches of %d)\n", c->test_runs,
		       c->batch);
}

/*
 * The scratch worktree does not outlive its use: once every workstream
 * of the plan is merged (or cleaned), it goes, while merge.lock is still
 * held, so that no other git ws-merge tests in it meanwhile. A plan that
 * grows later has it made again (ws_scratch_checkout()). A failure to
 * remove it is only a warning: the merges are done.
 */
static void drop_scratch_if_done(struct merge_ctx *c)
{
	size_t i;

	state_read(c);
	for (i = 0; i < c->plan.nr; i++) {
		const char *id = id_of(c, i);

		if (!ws_is_merged(&c->st, id) &&
		    !ws_status_is_finished(ws_state_status(&c->st, id)))
			return;
	}
	ws_scratch_remove(&c->repo, c->lock_fd);
}

/* --undo <id>... and --rollback-to <checkpoint> (merge-undo.h). */
static int undo(struct merge_ctx *c, int argc, const char **argv)
{
	struct ws_undo_opts o = { &c->repo, &c->plan, c->base, c->dry_run,
				  c->no_verify, c->porcelain, c->lock_fd };
	int ret;

	if (c->rollback_to)
		ret = ws_merge_rollback(&o, c->rollback_to);
	else
		ret = ws_merge_undo(&o, argv, argc);
	if (!c->dry_run)
		drop_scratch_if_done(c);
	return ret;
}

/*
 * The plan's final-test (final-test.h), when this run made the plan's
 * last merge or the base moved since it last ran: after the merges,
 * before the scratch worktree goes. Returns 1 when it failed or could
 * not run, else 0.
 */
static int final_test_if_due(struct merge_ctx *c)
{
	git_oid tip;
	int due;

	if (!c->plan.final_test)
		return 0;
	state_read(c);
	due = !ws_branch_tip(&c->repo, c->base, &tip) &&
	      ws_final_test_due(&c->plan, &c->st, &tip);
	return due ? ws_final_test_run(&c->repo, &c->plan, c->lock_fd,
				       c->porcelain) != 0 : 0;
}

/* Release merge.lock and what start_run() read. */
static void end_run(struct merge_ctx *c)
{
	if (c->lock_fd >= 0)
		release_flock(c->lock_fd);
	ws_state_release(&c->st);
	strvec_clear(&c->stop);
	free(c->done_in_run);
	free(c->in_chain);
	plan_release(&c->plan);
	ws_repo_close(&c->repo);
}

int cmd_main(int argc, const char **argv)
{
	struct merge_ctx c;
	const char *batch = NULL;
	struct option options[] = {
		OPT__DRY_RUN(&c.dry_run),
		OPT_BOOL(0, "no-verify", &c.no_verify,
			 "do not run the test command on the merge result"),
		OPT_STRING_OPTARG(0, "push", &c.push, "remote",
				  "push the base branch afterwards (default: its remote, else origin)",
				  ""),
		OPT__PORCELAIN(&c.porcelain),
		OPT_BOOL(0, "undo", &c.undo,
			 "take the merges of the named workstreams back out of the base"),
		OPT_STRING(0, "rollback-to", &c.rollback_to, "checkpoint",
			   "undo every merge after a checkpoint (git ws-status --checkpoints)"),
		OPT_STRING_OPTARG(0, "batch", &batch, "n",
				  "merge <n> queued workstreams at a time, testing the top of their chain (default: the plan's batch, else 4)",
				  ""),
		OPT_BOOL(0, "final-test", &c.final_test,
			 "run the plan's final-test on the base again, and nothing else"),
		OPT_END()
	};
	size_t *order = NULL, nr = 0;
	int bad = 0;

	memset(&c, 0, sizeof(c));
	c.lock_fd = -1;
	argc = parse_options(argc, argv, options, merge_usage);
	if (c.undo && c.rollback_to)
		usage_msg_opt("--undo and --rollback-to cannot be used together",
			      merge_usage, options);
	if ((c.undo || c.rollback_to) && c.push)
		usage_msg_opt("--push cannot be used with --undo or --rollback-to",
			      merge_usage, options);
	if ((c.undo && !argc) || (c.rollback_to && argc))
		usage_msg_opt(c.undo ? "--undo needs the ids of merged workstreams" :
			      "--rollback-to takes no workstream ids",
			      merge_usage, options);
	if (c.final_test && (argc || c.dry_run || c.no_verify || c.push))
		usage_msg_opt("--final-test runs the final test only: it takes no ids, -n, --no-verify or --push",
			      merge_usage, options);

	if (batch && *batch && (parse_nonneg_int(batch, &c.batch) < 0 || !c.batch))
		usage_msg_opt("--batch takes a positive number of workstreams",
			      merge_usage, options);
	if (c.final_test && (batch || c.undo || c.rollback_to))
		usage_msg_opt("--final-test runs the final test only: it takes no --batch, --undo or --rollback-to",
			      merge_usage, options);
	if (batch && (c.undo || c.rollback_to))
		usage_msg_opt("--batch cannot be used with --undo or --rollback-to",
			      merge_usage, options);

	start_run(&c);
	if (batch && !c.batch)
		c.batch = c.plan.batch ? c.plan.batch : DEFAULT_BATCH;
	else if (!batch)
		c.batch = c.plan.batch;
	if (c.final_test) {
		recover(&c);
		bad = ws_final_test_run(&c.repo, &c.plan, c.lock_fd,
					c.porcelain);
		end_run(&c);
		return bad < 0 ? WS_EXIT_FATAL : bad ? WS_EXIT_NO : WS_EXIT_OK;
	}
	if (c.dry_run)
		state_read(&c);
	else
		recover(&c);
	if (c.undo || c.rollback_to) {
		bad = undo(&c, argc, argv);
		end_run(&c);
		return bad ? WS_EXIT_NO : WS_EXIT_OK;
	}
	ws_undo_warn_lost(&c.repo, &c.plan, &c.st, c.base);
	note_allocation_bases(&c);
	ws_merge_order(&c.plan, &c.st, argc, argv, &order, &nr, &bad);
	if (!nr && !bad && !c.porcelain)
		printf("Nothing to merge: the merge queue is empty.\n");

	if (c.dry_run) {
		bad |= dry_run(&c, order, nr);
		if (c.push && !c.porcelain)
			printf("Would push '%s' afterwards.\n", c.base);
	} else {
		if (c.batch) {
			bad |= merge_batched(&c, order, nr);
			if (nr)
				say_test_runs(&c);
		} else {
			bad |= merge_all(&c, order, nr);
		}
		bad |= final_test_if_due(&c);
		drop_scratch_if_done(&c);
		if (c.push &&
		    ws_push_base(&c.repo, c.push, c.base, c.porcelain) < 0)
			bad = 1;
	}

	free(order);
	end_run(&c);
	return bad ? WS_EXIT_NO : WS_EXIT_OK;
}
