#ifndef PLAN_H
#define PLAN_H

#include "compat.h"
#include "strbuf.h"
#include "strvec.h"
#include "graph.h"

/*
 * The plan (git-ws(7), THE PLAN): a git-config-style file with one [plan]
 * section and one [workstream "ID"] section per workstream.
 *
 * plan_read() parses and validates it completely; a plan that comes back
 * is safe to act on: ids valid and unique, every dependency known, no
 * cycle, shares well-formed, branch names valid refs. Every problem is
 * reported as "<file>:<line>: <what>", the first one only, and nothing
 * is ever written by this module.
 */

/* Keys a [workstream] may override; PLAN_KEY_* bits say which it set. */
#define PLAN_KEY_COMMAND (1u << 0)
#define PLAN_KEY_TEST (1u << 1)
#define PLAN_KEY_CHECK (1u << 2)
#define PLAN_KEY_TIMEOUT (1u << 3)
#define PLAN_KEY_TODO (1u << 4)
#define PLAN_KEY_MAX_ITERATIONS (1u << 5)
#define PLAN_KEY_SPARSE (1u << 8)
#define PLAN_KEY_LFS (1u << 9)
#define PLAN_KEY_SETUP (1u << 10)
#define PLAN_KEY_TEARDOWN (1u << 11)
#define PLAN_KEY_RUNNER (1u << 12)
#define PLAN_KEY_GATE_RUNNER (1u << 13)

struct plan_workstream {
	char *id;
	char *title;
	char *slug;         /* from the title: [a-z0-9-], at most 40 chars */
	char *spec;         /* NULL when not given */
	struct strvec paths;
	struct strvec contract;
	struct strvec depends;   /* ids, as written */
	int *depends_line;  /* line of each depends[] entry */
	char *share;        /* `worktree = ID`, or NULL */
	int share_line;
	int lineno;         /* of the section header */

	/* effective values: the workstream's own, else the plan's */
	char *command;
	char *test;
	struct strvec check;
	long timeout;       /* seconds; 0 = none */
	int todo_allow;
	int max_iterations;
	struct strvec sparse; /* cone directories; empty: as the main worktree */
	int lfs_skip;       /* `lfs = skip`: Git LFS pointer files, not contents */
	char *setup;        /* run in a new worktree (setup.h); NULL: none */
	char *teardown;     /* run before git ws-clean removes it; NULL: none */
	char *runner;       /* `runner` (runner.h); NULL: ws.runner, else local */
	char *gate_runner;  /* `gate-runner`; NULL: as `runner` */
	unsigned overrides; /* PLAN_KEY_* set in this section */

	/* resolved by plan_read() */
	size_t *dep_idx;    /* indices of depends[] */
	size_t dep_nr;
	size_t *rdep_idx;   /* the workstreams that depend on this one
			     * directly, each once, in plan order */
	size_t rdep_nr;
	char *branch;       /* <prefix><id>-<slug> */
};

struct plan {
	char *file;         /* path as given, for messages */
	char *name;
	char *base;         /* NULL: the caller chooses (current branch) */
	char *command;
	char *test;
	struct strvec check;
	long timeout;
	int todo_allow;
	int jobs;           /* 0 when not given */
	int max_iterations; /* default 3 */
	struct strvec include; /* patterns of ignored files to copy (include.h) */
	struct strvec sparse; /* cone directories of every worktree, or empty */
	int lfs_skip;       /* `lfs = skip` */
	char *setup, *teardown; /* NULL: none */
	char *runner, *gate_runner; /* NULL: not given (runner.h) */
	int ports;          /* TCP ports per workstream (ports.h); 0: none */
	int ports_line;     /* where `ports` was given, for messages */
	int pool;           /* worktree slots (pool.h); 0: a worktree each */
	int pool_line;      /* where `pool` was given, for messages */
	uint64_t max_cost;  /* budget in millionths of a dollar (cost.h); 0: none */
	char *srun_args;    /* `srun-args`: srun options (runner-srun.c); NULL: none */
	struct strvec ssh_hosts; /* `ssh-hosts` (runner-ssh.c) */
	int ssh_jobs;       /* `ssh-jobs`: commands at once per host; 0: no limit */
	int batch;          /* git ws-merge --batch's size; 0: not given */
	char *final_test;   /* run once on the base after the last merge; NULL: none */
	unsigned given;     /* PLAN_KEY_* set in [plan] */

	struct plan_workstream *ws;
	size_t nr, alloc;
	struct graph graph; /* ws[i] depends on ws[graph.deps[i][..]] */
	size_t *order;      /* topological order, dependencies first */
	size_t *by_id;      /* indices sorted by id, for plan_find() */
	size_t *owners;     /* indices of the workstreams with a `contract`,
			     * in plan order */
	size_t owner_nr;
};
#define PLAN_INIT { 0 }

#define PLAN_DEFAULT_MAX_ITERATIONS 3
#define PLAN_PORT_MAX 65535
#define PLAN_POOL_MAX 1000
#define PLAN_DEFAULT_BRANCH_PREFIX "feature/"

/*
 * Read and validate the plan at `path`. `branch_prefix` (e.g.
 * "feature/", from ws.branchPrefix) makes each branch name. Returns 0;
 * or -1 with "<file>:<line>: <what>" in *err and `plan` released.
 */
int plan_read(struct plan *plan, const char *path, const char *branch_prefix,
	      struct strbuf *err);
/* The same for text in memory; `name` stands for the file in messages. */
int plan_read_buf(struct plan *plan, const char *name, const char *buf,
		  size_t len, const char *branch_prefix, struct strbuf *err);

/* Index of the workstream `id`, or -1 (binary search, O(log n)). */
ssize_t plan_find(const struct plan *plan, const char *id);

/*
 * The plan in normalised form (git-config syntax: [plan] then every
 * [workstream] with only the keys it set), appended to out.
 */
void plan_format(const struct plan *plan, struct strbuf *out);

void plan_release(struct plan *plan);

/* 1 when `id` matches [A-Za-z0-9][A-Za-z0-9._-]* (and is not too long). */
int plan_id_is_valid(const char *id);

/*
 * The branch slug of a title: lower case, the Latin letters of UTF-8
 * text (U+00C0 to U+017F) spelt in ASCII without their diacritics
 * ("Ünïcödé" gives "unicode", "Straße" "strasse"), combining marks
 * dropped, and runs of anything else outside [a-z0-9] made one '-', with
 * no '-' at either end; at most 40 characters. Returns a new string
 * (caller frees); "" for a title with no letters.
 */
char *plan_slugify(const char *title);

/*
 * 1 when the path globs `a` and `b` may match a common file: one matches
 * the other as a path (fnmatch both ways), or one's literal prefix (before
 * the first glob character) is a directory prefix of the other's.
 */
int plan_globs_overlap(const char *a, const char *b);

/*
 * The length of the literal prefix of a path glob: the bytes before its
 * first *, ?, [ or \ (an escape: fnmatch(3) reads "a\b" as "ab").
 */
size_t plan_glob_literal_prefix(const char *glob);
/* 1 when any glob of `a` overlaps any glob of `b`. */
int plan_paths_overlap(const struct strvec *a, const struct strvec *b);

#endif
