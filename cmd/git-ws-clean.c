/*
 * git ws-clean: remove the worktrees and branches of merged workstreams
 * and archive their records, without ever destroying work the base does
 * not have: every removal is checked first (unless --force), and every
 * branch is saved under refs/ws/backup/<id> before it is deleted.
 *
 * The actions record what they did (or, with -n, would do) as events;
 * print_events() prints them at the end: a line per workstream and a
 * total (print_summary()), every step with --verbose, or --porcelain.
 */
#include "compat.h"
#include "archive.h"
#include "lockfile.h"
#include "merged.h"
#include "parse-options.h"
#include "plan.h"
#include "recover.h"
#include "repo.h"
#include "scratch.h"
#include "setup.h"
#include "state.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include "ws.h"

static const char * const clean_usage[] = {
	"git ws-clean [-n | --dry-run] [-f | --force] [-v | --verbose] [--keep-branches] [--porcelain] [<id>...]",
	"git ws-clean [-n | --dry-run] [-f | --force] [-v | --verbose] [--keep-branches] [--porcelain] --all",
	"git ws-clean [-n | --dry-run] [-f | --force] [-v | --verbose] [--keep-branches] [--porcelain] --abandoned <age> [<id>...]",
	NULL
};

/* Why a workstream is not cleaned; all but the last three yield to --force. */
enum refusal {
	R_NOT_MERGED,
	R_RUNNING,
	R_DIRTY,
	R_LOCKED,
	R_UNMERGED,
	R_CHECKED_OUT, /* its branch is checked out in another worktree */
	R_NESTED,      /* a half-removed worktree holds a repository */
	R_FAILED,      /* an action failed; the error says which */
	R_NR
};

static const char *const refusal_name[R_NR] = {
	"not-merged", "running", "dirty", "locked", "unmerged", "checked-out",
	"nested-repository", "failed",
};

static const char *const refusal_hint[R_NR] = {
	"only merged workstreams are cleaned; merge it first ('git ws-merge')",
	"wait for the process to finish, or stop it",
	"commit what is worth keeping on the branch and merge it, or remove the files yourself",
	"unlock the worktree with 'git worktree unlock <path>' once nobody needs it",
	"merge the branch into the base first",
	"check out another branch in that worktree, or run from another worktree",
	"move that repository out of the worktree, then run git ws-clean again",
	NULL,
};

#define FORCEABLE(kind) ((kind) < R_CHECKED_OUT)

/*
 * What happened (with -n: would happen), in the order it happened. Each
 * kind is one porcelain record (git-ws-clean(1), PORCELAIN FORMAT) of
 * `fields` fields; the fields after those are for humans only.
 */
enum event_kind {
	EV_SAY,             /* a line for humans only */
	EV_ABANDONED,       /* id, status, last activity, idle seconds; of what */
	EV_REFUSE,          /* id, refusal_name[], message */
	EV_FORCE,           /* the same, overridden */
	EV_BACKUP,          /* id, branch, oid, backup ref */
	EV_REMOVE_WORKTREE, /* id, path; n: 1 when finishing an interrupted removal */
	EV_PRUNE_WORKTREE,  /* id, path */
	EV_KEEP_WORKTREE,   /* id, path, who still uses it; branch */
	EV_DELETE_BRANCH,   /* id, branch, oid; how it was merged */
	EV_KEEP_BRANCH,     /* id, branch */
	EV_ARCHIVE,         /* id, archive directory; n: records */
	EV_CLEANED,         /* id */
	EV_ARCHIVE_PLAN,    /* plan, archive directory */
	EV_REMOVE_SCRATCH,  /* path */
};

static const struct {
	const char *name;
	size_t fields;
} event_info[] = {
	{ NULL, 0 }, { "abandoned", 4 }, { "refuse", 3 }, { "force", 3 },
	{ "backup", 4 }, { "remove-worktree", 2 }, { "prune-worktree", 2 },
	{ "keep-worktree", 3 }, { "delete-branch", 3 }, { "keep-branch", 2 },
	{ "archive", 2 }, { "cleaned", 1 }, { "archive-plan", 2 },
	{ "remove-scratch", 1 },
};

/* One event; its strings are owned by clean_ctx.strings. */
struct event {
	enum event_kind kind;
	const char *f[5];
	long n;
};

/* One workstream of the state. Strings are borrowed from ctx.st. */
struct item {
	const char *id, *worktree, *branch;
	enum ws_status status;
	long pid;
	size_t group;
	int selected;
	struct strvec refusals; /* "<kind>\t<message>", not overridden */
	struct strvec forced;   /* the same, overridden by --force */
	int cleaned;            /* made it through; archived in phase 3 */
};

/* Workstreams that share a worktree (and so a branch). */
struct group {
	const char *worktree, *branch;
	size_t *members, nr, alloc;
	struct ws_worktree *wt; /* NULL: git does not know the worktree */
	int wt_exists;
	int remove;             /* worktree and branch go (if not refused) */
	struct strbuf kept_for; /* "ws-3 (in_progress)": why they stay */
	int wt_force;           /* --force count for git worktree remove */
	int has_tip;
	git_oid tip;
	int merged;             /* enum ws_merged, or -1 */
	int saved, done;        /* save_group(), clean_group() ran */
	/* the removal of the worktree that an earlier run recorded, or NULL */
	const struct ws_intent *removal;
	int finish;             /* delete what is left ourselves (.git may be gone) */
	struct ws_worktree *remains; /* its admin directory, without gitdir */
};

struct clean_ctx {
	struct ws_repo repo;
	struct plan plan;
	struct ws_state st;
	git_oid base_tip;
	struct item *items;
	size_t nr;
	struct group *groups;
	size_t group_nr;
	struct ws_worktree **worktrees;
	struct ws_intent *intents;
	size_t intent_nr;
	char *current;          /* the worktree we run in, normalised */
	int dry_run, force, keep_branches, porcelain, all, verbose;
	const char *abandoned;
	long max_idle;
	int refused;
	unsigned hints;         /* 1 << enum refusal, for the hints at the end */
	struct event *events;
	size_t event_nr, event_alloc, printed;
	struct strvec strings;
};

/* Text for a porcelain field: no control characters, no tabs. */
static const char *field(const char *s)
{
	static struct strbuf ring[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT,
					 STRBUF_INIT };
	static int k;
	struct strbuf *sb = &ring[k++ % 4];
	size_t i;

	strbuf_reset(sb);
	strbuf_add_sanitized(sb, s ? s : "");
	for (i = 0; i < sb->len; i++)
		if (sb->buf[i] == '\t')
			sb->buf[i] = ' ';
	return sb->buf;
}

/* --- what happened, and printing it ----------------------------------- */

/* Record an event of `kind` with its `nr` fields (up to 5; NULL: none). */
static struct event *add_event(struct clean_ctx *c, enum event_kind kind,
			       size_t nr, ...)
{
	struct event *ev;
	va_list ap;
	size_t i;

	ALLOC_GROW(c->events, c->event_nr + 1, c->event_alloc);
	ev = &c->events[c->event_nr++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	va_start(ap, nr);
	for (i = 0; i < nr && i < ARRAY_SIZE(ev->f); i++) {
		const char *f = va_arg(ap, const char *);
		ev->f[i] = f ? strvec_push(&c->strings, f) : NULL;
	}
	va_end(ap);
	return ev;
}

/* A line for humans only (EV_SAY). */
static void say(struct clean_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct clean_ctx *c, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	add_event(c, EV_SAY, 1, sb.buf);
	strbuf_release(&sb);
}

static void print_porcelain(const struct event *ev)
{
	size_t i;

	if (!event_info[ev->kind].name)
		return;
	fputs(event_info[ev->kind].name, stdout);
	for (i = 0; i < event_info[ev->kind].fields; i++)
		printf("\t%s", field(ev->f[i]));
	putchar('\n');
}

/* Refusals are not printed here: they go to stderr as they are found. */
static void print_human(const struct event *ev, int n)
{
	const char *const *f = ev->f;

	switch (ev->kind) {
	case EV_SAY:
		printf("%s\n", f[0]);
		break;
	case EV_ABANDONED:
		printf("%s: abandoned (%s), last activity %s (%s), %ld days ago\n",
		       f[0], f[1] ? f[1] : "no status", f[2], f[4],
		       ev->n < 0 ? -1L : ev->n / 86400);
		break;
	case EV_REFUSE:
	case EV_FORCE:
		break;
	case EV_BACKUP:
		printf("%s: %s branch '%s' (%.7s) as %s; 'git branch %s %s' restores it\n",
		       f[0], n ? "would save" : "saved", f[1], f[2], f[3], f[1], f[3]);
		break;
	case EV_REMOVE_WORKTREE:
		printf(ev->n ? "%s: %s what is left of worktree '%s' (an interrupted git ws-clean was removing it)\n" :
		       "%s: %s worktree '%s'\n", f[0],
		       n ? "would remove" : "removing", field(f[1]));
		break;
	case EV_PRUNE_WORKTREE:
		printf("%s: %s worktree '%s' (its directory is already gone)\n",
		       f[0], n ? "would prune" : "pruning", field(f[1]));
		break;
	case EV_KEEP_WORKTREE:
		printf("%s: keeping worktree '%s' and branch '%s': still used by %s\n",
		       f[0], field(f[1]), field(f[3]), field(f[2]));
		break;
	case EV_DELETE_BRANCH:
		printf("%s: %s branch '%s' (was %.7s, %s)\n", f[0],
		       n ? "would delete" : "deleting", f[1], f[2], f[3]);
		break;
	case EV_KEEP_BRANCH:
		printf("%s: keeping branch '%s'\n", f[0], f[1]);
		break;
	case EV_ARCHIVE:
		printf("%s: %s %ld record%s and its state to '%s'\n", f[0],
		       n ? "would archive" : "archived", ev->n,
		       ev->n == 1 ? "" : "s", field(f[1]));
		break;
	case EV_CLEANED:
		printf("%s: %s\n", f[0], n ? "would be cleaned" : "cleaned");
		break;
	case EV_ARCHIVE_PLAN:
		printf("%s plan '%s' to '%s'\n", n ? "Would archive" : "Archived",
		       f[0], field(f[1]));
		break;
	case EV_REMOVE_SCRATCH:
		printf("%s git ws-merge's scratch worktree '%s'\n",
		       n ? "Would remove" : "Removing", field(f[0]));
		break;
	}
}

/*
 * What one event adds to its workstream's summary line, in the past
 * tense, or (n) in the infinitive, for after "would".
 */
static void summary_phrase(struct strbuf *sb, const struct event *ev, int n)
{
	const char *const *f = ev->f;

	if (sb->len)
		strbuf_addstr(sb, ", ");
	switch (ev->kind) {
	case EV_REMOVE_WORKTREE:
		strbuf_addstr(sb, ev->n ?
			      (n ? "remove what is left of its worktree" :
			       "removed what was left of its worktree") :
			      (n ? "remove worktree" : "removed worktree"));
		break;
	case EV_PRUNE_WORKTREE:
		strbuf_addstr(sb, n ? "prune worktree (its directory is already gone)" :
			      "pruned worktree (its directory was already gone)");
		break;
	case EV_KEEP_WORKTREE:
		strbuf_addf(sb, "%s worktree and branch '%s': still used by %s",
			    n ? "keep" : "kept", field(f[3]), field(f[2]));
		break;
	case EV_DELETE_BRANCH:
		strbuf_addf(sb, "%s branch '%s' (%s)", n ? "delete" : "deleted",
			    f[1], f[3]);
		break;
	case EV_KEEP_BRANCH:
		strbuf_addf(sb, "%s branch '%s'", n ? "keep" : "kept", f[1]);
		break;
	default:
		BUG("no summary phrase for event %d", (int)ev->kind);
	}
}

/* "1 branch", "2 branches": the count, then the noun for one or for many. */
static void add_count(struct strbuf *sb, long nr, const char *one,
		      const char *many)
{
	strbuf_addf(sb, "%ld %s", nr, nr == 1 ? one : many);
}

/*
 * The human output without --verbose, as git summarises: the lines for
 * humans (EV_SAY, EV_ABANDONED) as they came, one line per workstream
 * this run acted on, saying what happened to its worktree and branch,
 * then the plan and the scratch worktree, then a total. The backups and
 * archived records are counted in the total; refusals and --force were
 * said on stderr as they were found.
 */
static void print_summary(struct clean_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;
	const char *would = c->dry_run ? "would " : "";
	long cleaned = 0, worktrees = 0, deleted = 0, kept = 0, records = 0,
	     backups = 0, refused = 0;
	size_t i, e;

	for (e = 0; e < c->event_nr; e++) {
		const struct event *ev = &c->events[e];

		switch (ev->kind) {
		case EV_SAY:
		case EV_ABANDONED:
			print_human(ev, c->dry_run);
			break;
		case EV_BACKUP: backups++; break;
		case EV_REMOVE_WORKTREE:
		case EV_PRUNE_WORKTREE: worktrees++; break;
		case EV_DELETE_BRANCH: deleted++; break;
		case EV_KEEP_BRANCH: kept++; break;
		case EV_ARCHIVE: records += ev->n; break;
		case EV_CLEANED: cleaned++; break;
		default: break;
		}
	}
	for (i = 0; i < c->nr; i++) {
		const struct item *it = &c->items[i];
		int acted = 0, done = 0;

		strbuf_reset(&sb);
		for (e = 0; e < c->event_nr; e++) {
			const struct event *ev = &c->events[e];

			if (!ev->f[0] || strcmp(ev->f[0], it->id))
				continue;
			switch (ev->kind) {
			case EV_REMOVE_WORKTREE:
			case EV_PRUNE_WORKTREE:
			case EV_KEEP_WORKTREE:
			case EV_DELETE_BRANCH:
			case EV_KEEP_BRANCH:
				summary_phrase(&sb, ev, c->dry_run);
				acted = 1;
				break;
			case EV_BACKUP:
			case EV_ARCHIVE:
				acted = 1;
				break;
			case EV_CLEANED:
				done = 1;
				break;
			default:
				break;
			}
		}
		if (it->selected && it->refusals.nr)
			refused++;
		if (!acted && !done)
			continue;
		if (!done)
			/* an action failed, or a die() stopped the run */
			printf("%s: %s%s%snot cleaned (see the error)\n", it->id,
			       sb.len ? would : "", sb.buf, sb.len ? "; " : "");
		else if (!sb.len)
			/* its shared worktree went with another one's line */
			printf("%s: %s\n", it->id,
			       c->dry_run ? "would be cleaned" : "cleaned");
		else
			printf("%s: %s%s\n", it->id, would, sb.buf);
	}
	for (e = 0; e < c->event_nr; e++)
		if (c->events[e].kind == EV_ARCHIVE_PLAN ||
		    c->events[e].kind == EV_REMOVE_SCRATCH)
			print_human(&c->events[e], c->dry_run);
	if (cleaned) {
		const char *sep = ": ";

		strbuf_reset(&sb);
		strbuf_addstr(&sb, c->dry_run ? "Would clean " : "Cleaned ");
		add_count(&sb, cleaned, "workstream", "workstreams");
		if (worktrees || deleted) {
			strbuf_addstr(&sb, sep);
			if (worktrees)
				add_count(&sb, worktrees, "worktree", "worktrees");
			if (worktrees && deleted)
				strbuf_addstr(&sb, " and ");
			if (deleted)
				add_count(&sb, deleted, "branch", "branches");
			strbuf_addstr(&sb, c->dry_run ? " to remove" : " removed");
			sep = ", ";
		}
		if (backups) {
			strbuf_addf(&sb, " (%s as refs/ws/backup/<id>)",
				    c->dry_run ? "saved first" : "saved");
		}
		if (kept) {
			strbuf_addstr(&sb, sep);
			add_count(&sb, kept, "branch", "branches");
			strbuf_addstr(&sb, c->dry_run ? " to keep" : " kept");
			sep = ", ";
		}
		if (records) {
			strbuf_addstr(&sb, sep);
			add_count(&sb, records, "record", "records");
			strbuf_addstr(&sb, c->dry_run ? " to archive" : " archived");
		}
		if (refused) {
			strbuf_addf(&sb, "; %ld ", refused);
			strbuf_addstr(&sb, c->dry_run ? "would be refused" : "refused");
		}
		printf("%s\n", sb.buf);
	}
	strbuf_release(&sb);
}

/* Print the events not printed yet, in the format asked for. */
static void print_events(struct clean_ctx *c)
{
	if (!c->porcelain && !c->verbose) {
		if (c->printed < c->event_nr)
			print_summary(c);
		c->printed = c->event_nr;
		return;
	}
	for (; c->printed < c->event_nr; c->printed++) {
		if (c->porcelain)
			print_porcelain(&c->events[c->printed]);
		else
			print_human(&c->events[c->printed], c->dry_run);
	}
}

/* A die() half way (the state lock busy) still says what was done. */
static struct clean_ctx *the_ctx;
static void print_events_on_die(void)
{
	if (the_ctx)
		print_events(the_ctx);
}

static void print_hints(struct clean_ctx *c)
{
	int k;

	for (k = 0; k < R_NR; k++)
		if ((c->hints & (1u << k)) && refusal_hint[k])
			advise("%s", refusal_hint[k]);
}

/* --- the workstreams ---------------------------------------------------- */

/* Collect the workstreams of the state and group them by worktree. */
static void read_items(struct clean_ctx *c)
{
	size_t i, g;

	c->items = xcalloc(c->st.state.nr + 1, sizeof(*c->items));
	c->groups = xcalloc(c->st.state.nr + 1, sizeof(*c->groups));
	for (i = 0; i < c->st.state.nr; i++) {
		const struct cfg_section *s = &c->st.state.sections[i];
		const char *pid = cfg_get(s, WS_KEY_PID);
		struct item *it;

		if (!s->sub)
			continue; /* the plan-level section */
		it = &c->items[c->nr++];

		it->id = s->sub;
		it->status = ws_state_status(&c->st, s->sub);
		it->worktree = cfg_get(s, WS_KEY_WORKTREE);
		it->branch = cfg_get(s, WS_KEY_BRANCH);
		it->pid = pid ? atol(pid) : 0;
		strvec_init(&it->refusals);
		strvec_init(&it->forced);

		for (g = 0; g < c->group_nr; g++) {
			const struct group *gr = &c->groups[g];
			if ((it->worktree && gr->worktree &&
			     !strcmp(it->worktree, gr->worktree)) ||
			    (it->branch && gr->branch && !strcmp(it->branch, gr->branch)))
				break;
		}
		if (g == c->group_nr) {
			c->groups[g].worktree = it->worktree;
			c->groups[g].branch = it->branch;
			strbuf_init(&c->groups[g].kept_for, 0);
			c->group_nr++;
		}
		it->group = g;
		ALLOC_GROW(c->groups[g].members, c->groups[g].nr + 1,
			   c->groups[g].alloc);
		c->groups[g].members[c->groups[g].nr++] = c->nr - 1;
	}
}

static struct item *find_item(struct clean_ctx *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!strcmp(c->items[i].id, id))
			return &c->items[i];
	return NULL;
}

static int is_cleaned(const struct item *it)
{
	return it->status == WS_STATUS_CLEANED;
}

/* Choose the workstreams this run is about. */
static void select_items(struct clean_ctx *c, int argc, const char **argv)
{
	size_t i;
	int k;

	for (k = 0; k < argc; k++) {
		struct item *it = find_item(c, argv[k]);

		if (!it)
			die("no workstream '%s' in plan '%s'", argv[k], c->plan.name);
		if (is_cleaned(it))
			say(c, "%s: already cleaned", it->id);
		else
			it->selected = 1;
	}
	for (i = 0; !argc && i < c->nr; i++) {
		struct item *it = &c->items[i];

		if (c->all || c->abandoned)
			it->selected = !is_cleaned(it);
		else
			it->selected = it->status == WS_STATUS_MERGED;
	}
}

/*
 * --abandoned: keep only the workstreams idle for at least c->max_idle,
 * and list them. Returns how many.
 */
static int select_abandoned(struct clean_ctx *c)
{
	time_t now = time(NULL);
	size_t i;
	int nr = 0;

	for (i = 0; i < c->nr; i++) {
		struct item *it = &c->items[i];
		const char *what;
		time_t last;
		long idle;
		char when[32], secs[32];
		struct tm tm;

		if (!it->selected)
			continue;
		last = ws_last_activity(&c->repo, &c->st, it->id, &what);
		if (last && now - last < c->max_idle) {
			it->selected = 0;
			continue;
		}
		nr++;
		if (last)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
				 gmtime_r(&last, &tm));
		else
			snprintf(when, sizeof(when), "-");
		idle = last ? (long)(now - last) : -1L;
		snprintf(secs, sizeof(secs), "%ld", idle);
		add_event(c, EV_ABANDONED, 5, it->id, ws_status_name(it->status),
			  when, secs, what)->n = idle;
	}
	return nr;
}

/* --abandoned without --force only lists them: say what may come next. */
static void say_next_step(struct clean_ctx *c, int nr)
{
	if (nr) {
		advise("to clean them (their branches are saved under refs/ws/backup/),\n"
		       "run 'git ws-clean --force --abandoned %s'", c->abandoned);
		return;
	}
	say(c, "No workstream has been idle for %s.", c->abandoned);
}

/* --- the checks: phase 1, which only reads -------------------------------- */

static void refuse(struct clean_ctx *c, struct item *it, enum refusal kind,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void refuse(struct clean_ctx *c, struct item *it, enum refusal kind,
		   const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "%s\t", refusal_name[kind]);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (c->force && FORCEABLE(kind)) {
		strvec_push(&it->forced, sb.buf);
	} else {
		strvec_push(&it->refusals, sb.buf);
		c->hints |= 1u << kind;
	}
	strbuf_release(&sb);
}

/* refuse() every selected workstream of the group. */
static void refuse_group(struct clean_ctx *c, struct group *g,
			 enum refusal kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void refuse_group(struct clean_ctx *c, struct group *g,
			 enum refusal kind, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	size_t m;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	for (m = 0; m < g->nr; m++) {
		struct item *it = &c->items[g->members[m]];
		if (it->selected)
			refuse(c, it, kind, "%s", msg.buf);
	}
	strbuf_release(&msg);
}

/* Checks of one workstream itself: its status and its process. */
static void check_item(struct clean_ctx *c, struct item *it)
{
	if (it->status != WS_STATUS_MERGED)
		refuse(c, it, R_NOT_MERGED, "its status is '%s', not merged",
		       ws_status_name(it->status) ?: "(none)");
	if (it->pid > 0 && process_is_alive((pid_t)it->pid))
		refuse(c, it, R_RUNNING, "its process %ld is still running",
		       it->pid);
}

/*
 * Whether the group's worktree and branch go: not while any workstream
 * sharing them is neither cleaned nor about to be (g->kept_for says
 * which), nor when none of them is selected.
 */
static int group_goes(struct clean_ctx *c, struct group *g)
{
	size_t m;
	int any = 0;

	for (m = 0; m < g->nr; m++) {
		struct item *it = &c->items[g->members[m]];

		if (it->selected)
			any = 1;
		if (is_cleaned(it) || (it->selected && !it->refusals.nr))
			continue;
		strbuf_addf(&g->kept_for, "%s%s (%s)", g->kept_for.len ? ", " : "",
			    it->id, ws_status_name(it->status) ?: "no status");
	}
	return any && !g->kept_for.len;
}

/*
 * Find the group's worktree as git knows it, and the removal of it that
 * an earlier run recorded (ws_intent_record() in record_removal()), from
 * the first member that has one.
 */
static void find_worktree(struct clean_ctx *c, struct group *g)
{
	size_t i, m;

	g->wt = ws_worktree_find_path(c->worktrees, g->worktree);
	if (g->wt && g->wt->is_main)
		g->wt = NULL;
	g->wt_exists = path_exists(g->worktree);
	for (m = 0; m < g->nr && !g->removal; m++) {
		const char *id = c->items[g->members[m]].id;

		for (i = 0; i < c->intent_nr && !g->removal; i++) {
			const struct ws_intent *in = &c->intents[i];

			if (in->kind == WS_INTENT_REMOVE && !strcmp(in->id, id) &&
			    in->worktree && in->admin &&
			    !strcmp(in->worktree, g->worktree))
				g->removal = in;
		}
	}
	/*
	 * A killed `git worktree remove` deletes the admin directory last,
	 * file by file: once gitdir is gone, git no longer finds it by its
	 * path, and only the recorded name leads to it.
	 */
	if (!g->wt && !g->wt_exists && g->removal) {
		struct ws_worktree *wt = ws_worktree_find_id(c->worktrees,
							     g->removal->admin);
		if (wt && !wt->path)
			g->remains = wt;
	}
}

/*
 * The worktree goes: not the one we run in, not a locked one, not one
 * with changes. One whose removal an earlier run recorded is finished
 * (g->finish) when what is left is as it was checked.
 */
static void check_worktree(struct clean_ctx *c, struct group *g)
{
	struct strbuf msg = STRBUF_INIT;
	enum refusal kind = R_DIRTY;
	int dirty;

	if (c->current && g->wt->real && !strcmp(c->current, g->wt->real))
		refuse_group(c, g, R_CHECKED_OUT,
			     "it is the worktree this command runs in");
	if (g->wt->lock_reason) {
		refuse_group(c, g, R_LOCKED, "worktree '%s' is locked%s%s",
			     g->worktree, *g->wt->lock_reason ? ": " : "",
			     g->wt->lock_reason);
		g->wt_force = 2;
	}
	if (!g->wt_exists)
		return;
	dirty = ws_worktree_is_dirty(g->worktree);
	if (dirty && g->removal && !strcmp(g->wt->id, g->removal->admin)) {
		/* a removal we started: finish it, if that is safe */
		g->finish = 1;
		if (ws_worktree_check_half_removed(g->worktree, g->wt->admin_dir,
						   g->removal->head, &msg) ==
		    WS_HALF_REMOVED_NESTED)
			kind = R_NESTED;
	} else if (dirty > 0) {
		strbuf_addf(&msg, "worktree '%s' has uncommitted or untracked files",
			    g->worktree);
	} else if (dirty < 0) {
		strbuf_addf(&msg, "cannot read the status of worktree '%s'",
			    g->worktree);
	}
	if (msg.len) {
		refuse_group(c, g, kind, "%s", msg.buf);
		if (!g->wt_force)
			g->wt_force = 1;
	}
	strbuf_release(&msg);
}

/* A detached HEAD in the worktree must not hold commits found nowhere else. */
static void check_detached_head(struct clean_ctx *c, struct group *g)
{
	const git_oid *head = &g->wt->head_oid;
	char hex[GIT_OID_HEXSZ + 1];

	if (!g->wt->is_detached || !g->wt->has_head_oid)
		return;
	if (g->has_tip && (git_oid_equal(head, &g->tip) ||
			   git_graph_descendant_of(c->repo.repo, &g->tip, head) > 0))
		return;
	if (ws_commit_is_merged(&c->repo, &c->base_tip, head) > 0)
		return;
	refuse_group(c, g, R_UNMERGED,
		     "worktree '%s' has a detached HEAD at %.7s with commits not in '%s'",
		     g->worktree, ws_oid_hex(head, hex), c->plan.base);
}

/*
 * The branch is deleted: it must be merged, and checked out nowhere but
 * in the group's worktree (git's find_shared_symref()).
 */
static void check_branch(struct clean_ctx *c, struct group *g)
{
	struct ws_worktree *wt;
	size_t pos = 0;
	long ahead;

	while ((wt = ws_worktree_find_branch(c->worktrees, g->branch, &pos)))
		if (wt != g->wt)
			refuse_group(c, g, R_CHECKED_OUT,
				     "branch '%s' is checked out at '%s'",
				     g->branch, wt->path);
	g->merged = ws_commit_is_merged(&c->repo, &c->base_tip, &g->tip);
	if (g->merged < 0) {
		refuse_group(c, g, R_UNMERGED,
			     "cannot tell whether branch '%s' is merged into '%s'",
			     g->branch, c->plan.base);
	} else if (!g->merged) {
		ahead = ws_commits_ahead(&c->repo, &g->tip, &c->base_tip);
		refuse_group(c, g, R_UNMERGED, "branch '%s' has %ld commit%s not in '%s'",
			     g->branch, ahead, ahead == 1 ? "" : "s", c->plan.base);
	}
}

/* Decide what happens to a group's worktree and branch, and check it. */
static void check_group(struct clean_ctx *c, struct group *g)
{
	if (!group_goes(c, g))
		return;
	g->remove = 1;
	if (g->worktree)
		find_worktree(c, g);
	if (g->wt)
		check_worktree(c, g);
	if (g->branch && !ws_branch_tip(&c->repo, g->branch, &g->tip))
		g->has_tip = 1;
	if (g->wt)
		check_detached_head(c, g);
	if (g->has_tip && !c->keep_branches)
		check_branch(c, g);
}

/* Phase 1: check every selected workstream. Returns how many there are. */
static size_t check_items(struct clean_ctx *c)
{
	size_t i, selected = 0;

	for (i = 0; i < c->nr; i++)
		if (c->items[i].selected) {
			check_item(c, &c->items[i]);
			selected++;
		}
	for (i = 0; i < c->group_nr; i++)
		check_group(c, &c->groups[i]);
	return selected;
}

/* --- the actions: phase 2 --------------------------------------------- */

/* Say what was refused, and what --force overrode. */
static void report_refusals(struct clean_ctx *c, const struct item *it)
{
	const struct strvec *lists[2] = { &it->forced, &it->refusals };
	size_t i, l;

	for (l = 0; l < 2; l++)
		for (i = 0; i < lists[l]->nr; i++) {
			const char *e = lists[l]->v[i], *msg = strchr(e, '\t') + 1;
			char *kind = xstrndup(e, msg - 1 - e);

			add_event(c, l ? EV_REFUSE : EV_FORCE, 3, it->id, kind, msg);
			if (l)
				error("not cleaning '%s': %s", it->id, msg);
			else
				warning("cleaning '%s' anyway (--force): %s", it->id, msg);
			free(kind);
		}
}

/* Save the branch of a group being removed under each id being cleaned. */
static int save_group(struct clean_ctx *c, struct group *g)
{
	char hex[GIT_OID_HEXSZ + 1];
	size_t m;

	if (!g->has_tip || c->keep_branches)
		return 0;
	ws_oid_hex(&g->tip, hex);
	for (m = 0; m < g->nr; m++) {
		const struct item *it = &c->items[g->members[m]];
		char *ref;

		if (!it->selected)
			continue;
		if (!c->dry_run &&
		    ws_backup_branch(&c->repo, it->id, g->branch, &g->tip) < 0)
			return -1;
		ref = xstrfmt("refs/ws/backup/%s", it->id);
		add_event(c, EV_BACKUP, 4, it->id, g->branch, hex, ref);
		free(ref);
	}
	return 0;
}

/*
 * Before git worktree remove starts deleting, record the removal
 * (WS_INTENT_REMOVE: the worktree, its admin directory, the commit it was
 * checked clean at) for each workstream being cleaned with it, so that a
 * rerun after a kill may finish the job (check_worktree()). Phase 3 drops
 * the record with the rest. Returns 0, or -1 after an error.
 */
static int record_removal(struct clean_ctx *c, struct group *g)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_intent in = WS_INTENT_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	size_t m;
	int ret = 0;

	in.kind = WS_INTENT_REMOVE;
	in.worktree = g->worktree;
	in.admin = g->wt->id;
	in.head = g->wt->has_head_oid ? ws_oid_hex(&g->wt->head_oid, hex) : NULL;
	ws_repo_ensure_dirs(&c->repo);
	ws_state_lock_repo(&st, &c->repo);
	for (m = 0; m < g->nr; m++) {
		const struct item *it = &c->items[g->members[m]];

		if (!it->selected || it->refusals.nr || !ws_state_find(&st, it->id))
			continue;
		in.id = it->id;
		ws_intent_record(&st, &in);
	}
	if (ws_state_commit(&st) < 0)
		ret = error_errno("cannot write '%s'", st.state_path);
	ws_state_release(&st);
	return ret;
}

/*
 * The plan's `teardown` in the worktree before it goes (setup.h): when
 * it fails the worktree stays, unless --force.
 */
static int teardown(struct clean_ctx *c, struct group *g, const struct item *lead)
{
	struct strbuf err = STRBUF_INIT;
	ssize_t idx = plan_find(&c->plan, lead->id);
	int ret = 0;

	if (idx < 0 || !c->plan.ws[idx].teardown)
		return 0;
	if (ws_teardown_run(&c->repo, &c->plan, idx, g->branch, g->worktree,
			    &err) < 0) {
		if (c->force) {
			warning("the teardown of '%s' failed (%s); removing its worktree anyway (--force)",
				lead->id, err.buf);
		} else {
			ret = error("the teardown of '%s' failed (%s); its worktree '%s' is kept",
				    lead->id, err.buf, g->worktree);
			advise("fix it and run git ws-clean again, or remove the worktree anyway with --force");
		}
	}
	strbuf_release(&err);
	return ret;
}

/*
 * `git worktree remove`, which also prunes a directory deleted by hand.
 * What a killed removal left (g->finish, checked by check_worktree(), or
 * --force) we delete ourselves first, since git refuses a worktree whose
 * .git file it had already deleted; git then removes the admin directory.
 */
static int remove_worktree(struct clean_ctx *c, struct group *g,
			   const struct item *lead)
{
	struct strbuf err = STRBUF_INIT;
	const char *verb = g->wt_exists ? "remove" : "prune";
	int ret = 0;

	if (g->wt_exists)
		add_event(c, EV_REMOVE_WORKTREE, 2, lead->id,
			  g->worktree)->n = g->finish;
	else
		add_event(c, EV_PRUNE_WORKTREE, 2, lead->id, g->worktree);
	if (c->dry_run)
		return 0;
	if (g->wt_exists && !g->finish && teardown(c, g, lead) < 0)
		return -1;
	/* (a finished removal keeps the record it was checked against) */
	if (!g->finish && record_removal(c, g) < 0)
		return -1;
	if (g->finish && ws_worktree_remove_files(g->worktree) < 0)
		return error("cannot remove worktree '%s'", g->worktree);
	switch (ws_worktree_remove(&c->repo, g->wt->path,
				   c->force ? g->wt_force : 0, -1, &err)) {
	case WS_WT_REMOVED:
		break;
	case WS_WT_REMOVE_FAILED:
		ret = error("cannot %s worktree '%s': %s", verb, g->worktree,
			    err.len ? err.buf : "git worktree remove failed");
		break;
	case WS_WT_STILL_THERE:
		ret = error("cannot %s worktree '%s': it is still there", verb,
			    g->worktree);
		break;
	}
	strbuf_release(&err);
	return ret;
}

/*
 * The admin directory that a killed `git worktree remove` of ours left
 * without its gitdir file (git worktree prune would remove it, as
 * remains of no worktree): remove exactly it, as prune would.
 */
static int remove_remains(struct clean_ctx *c, struct group *g,
			  const struct item *lead)
{
	add_event(c, EV_PRUNE_WORKTREE, 2, lead->id, g->worktree);
	if (!c->dry_run &&
	    ws_worktree_remove_admin(&c->repo, g->remains->admin_dir) < 0)
		return error_errno("cannot prune worktree '%s': cannot remove '%s'",
				   g->worktree, g->remains->admin_dir);
	return 0;
}

/*
 * Remove the worktree, delete the branch (saved by save_group()) if it is
 * still where it was saved: the actions of a group whose workstreams are
 * all being cleaned. They are reported under the first of them (`lead`).
 */
static int clean_group(struct clean_ctx *c, struct group *g,
		       const struct item *lead)
{
	char hex[GIT_OID_HEXSZ + 1];

	if (g->wt && remove_worktree(c, g, lead) < 0)
		return -1;
	if (g->remains && remove_remains(c, g, lead) < 0)
		return -1;
	if (!g->wt && g->wt_exists)
		warning("leaving '%s' in place: git does not know it as a worktree",
			g->worktree);
	if (!g->has_tip)
		return 0;
	if (c->keep_branches) {
		add_event(c, EV_KEEP_BRANCH, 2, lead->id, g->branch);
		return 0;
	}
	add_event(c, EV_DELETE_BRANCH, 4, lead->id, g->branch,
		  ws_oid_hex(&g->tip, hex), ws_merged_how(g->merged));
	if (c->dry_run)
		return 0;
	return ws_branch_delete_saved(&c->repo, g->branch, &g->tip);
}

/* An action of the group failed: its workstreams are not cleaned. */
static void fail_group(struct clean_ctx *c, struct group *g)
{
	size_t m;

	for (m = 0; m < g->nr; m++) {
		struct item *o = &c->items[g->members[m]];
		if (o->selected && !o->refusals.nr)
			strvec_pushf(&o->refusals, "%s\tsee above",
				     refusal_name[R_FAILED]);
	}
}

/*
 * Phase 2: act on every workstream that passed its checks. Every branch
 * is saved before any worktree is removed, so that a run that stops half
 * way (the state lock busy in record_removal(), a kill) has saved all
 * the branches it was going to delete.
 */
static void clean_items(struct clean_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		struct item *it = &c->items[i];
		struct group *g = &c->groups[it->group];

		if (!it->selected)
			continue;
		report_refusals(c, it);
		if (it->refusals.nr || !g->remove || g->saved)
			continue;
		g->saved = 1;
		if (save_group(c, g) < 0)
			fail_group(c, g);
	}
	for (i = 0; i < c->nr; i++) {
		struct item *it = &c->items[i];
		struct group *g = &c->groups[it->group];

		if (!it->selected || it->refusals.nr)
			continue;
		if (g->remove && !g->done) {
			g->done = 1;
			if (clean_group(c, g, it) < 0) {
				fail_group(c, g);
				continue;
			}
		} else if (!g->remove) {
			add_event(c, EV_KEEP_WORKTREE, 4, it->id, g->worktree,
				  g->kept_for.buf, g->branch);
		}
		it->cleaned = 1;
	}
	for (i = 0; i < c->nr; i++)
		if (c->items[i].selected && c->items[i].refusals.nr)
			c->refused = 1;
}

/* --- phase 3: the state and the archive -------------------------------- */

/*
 * Mark one cleaned workstream so in `sp`. Returns 0, or -1 when it is no
 * longer in the state (said, and c->refused set).
 */
static int mark_item(struct clean_ctx *c, struct ws_state *sp,
		     const struct item *it, const char *now)
{
	if (!ws_state_find(sp, it->id)) {
		error("'%s' vanished from the state while it was being cleaned",
		      it->id);
		c->refused = 1;
		return -1;
	}
	if (!c->dry_run) {
		ws_state_set_status(sp, it->id, WS_STATUS_CLEANED, NULL);
		ws_state_set(sp, it->id, WS_KEY_CLEANED, now);
		ws_intent_clear(sp, it->id, WS_INTENT_REMOVE);
		ws_queue_remove(sp, it->id);
	}
	return 0;
}

/* Move the records of one marked workstream (their state copied before). */
static void archive_item(struct clean_ctx *c, struct ws_state *sp,
			 const struct item *it, const char *archive, int moving)
{
	struct strvec records = STRVEC_INIT;

	if (c->dry_run)
		ws_records_list(&c->repo, sp, it->id, &records);
	else if (moving && ws_archive_records(&c->repo, sp, c->plan.name, it->id,
				    &records) < 0)
		c->refused = 1;
	add_event(c, EV_ARCHIVE, 2, it->id, archive)->n = (long)records.nr;
	add_event(c, EV_CLEANED, 1, it->id);
	strvec_clear(&records);
}

/* --all: archive the plan once every workstream is cleaned. */
static void archive_plan(struct clean_ctx *c, struct ws_state *sp,
			 const char *archive)
{
	size_t i, left = 0;

	for (i = 0; i < c->nr; i++)
		if (!c->items[i].cleaned &&
		    ws_state_status(sp, c->items[i].id) != WS_STATUS_CLEANED)
			left++;
	if (left) {
		error("not archiving plan '%s': %zu workstream%s not cleaned",
		      c->plan.name, left, left == 1 ? " is" : "s are");
		c->refused = 1;
		return;
	}
	if (c->refused)
		return;
	add_event(c, EV_ARCHIVE_PLAN, 2, c->plan.name, archive);
	if (!c->dry_run && ws_archive_plan(&c->repo, sp, c->plan.name) < 0)
		c->refused = 1;
}

/*
 * Phase 3, under the state lock: mark the cleaned workstreams and move
 * their records to the archive; with --all, archive the plan too.
 */
static void archive_items(struct clean_ctx *c)
{
	struct ws_state st = WS_STATE_INIT;
	char *archive = ws_archive_dir(&c->repo, c->plan.name);
	struct ws_state *sp = &c->st;
	const char **marked;
	char now[32];
	size_t i, k, nr = 0;
	int moving = 1;

	if (!c->dry_run) {
		ws_repo_ensure_dirs(&c->repo);
		ws_state_lock_repo(&st, &c->repo);
		sp = &st;
	}
	iso8601_now(now);
	/*
	 * All marked first, their state copied to the archive in one write
	 * (not one growing rewrite per workstream), then their records moved.
	 */
	marked = xcalloc(c->nr + 1, sizeof(*marked));
	for (i = 0; i < c->nr; i++)
		if (c->items[i].cleaned && !mark_item(c, sp, &c->items[i], now))
			marked[nr++] = c->items[i].id;
	if (!c->dry_run &&
	    ws_archive_states(&c->repo, sp, c->plan.name, marked, nr) < 0) {
		/* no record moves while its state is not in the archive */
		c->refused = 1;
		moving = 0;
	}
	for (i = 0, k = 0; i < c->nr && k < nr; i++)
		if (c->items[i].cleaned && c->items[i].id == marked[k]) {
			archive_item(c, sp, &c->items[i], archive, moving);
			k++;
		}
	free(marked);
	if (c->all)
		archive_plan(c, sp, archive);
	if (!c->dry_run) {
		ws_state_commit_or_die(sp);
		ws_state_release(sp);
	}
	free(archive);
}

/*
 * git ws-merge's scratch worktree (.git/ws/scratch, where it tests merge
 * results: checkouts of merge commits, never work) has no use once
 * nothing is queued to merge: remove it through git's bookkeeping. Under
 * merge.lock, tried once: a git ws-merge that runs keeps it, and none
 * starts until git is done (the keeper holds the lock).
 */
static void remove_scratch(struct clean_ctx *c)
{
	char *scratch = ws_scratch_path(&c->repo);
	char *lock = ws_path(&c->repo, "merge.lock");
	struct ws_state st = WS_STATE_INIT;
	struct strbuf err = STRBUF_INIT;
	int fd = -1;

	if (!path_exists(scratch))
		goto cleanup;
	/* -n writes nothing; without merge.lock no git ws-merge runs */
	if ((!c->dry_run || path_exists(lock)) && (fd = hold_flock(lock, 0)) < 0)
		goto cleanup;
	if (ws_state_read(&st, c->repo.ws_dir, &err) < 0 || ws_queue_nr(&st))
		goto cleanup;
	add_event(c, EV_REMOVE_SCRATCH, 1, scratch);
	if (!c->dry_run)
		ws_scratch_remove(&c->repo, fd);
cleanup:
	if (fd >= 0)
		release_flock(fd);
	ws_state_release(&st);
	strbuf_release(&err);
	free(lock);
	free(scratch);
}

/* --- the command ------------------------------------------------------ */

/*
 * Open the repository, the plan and its base; read the state (without
 * the lock: phase 1 only reads), git's worktrees, and the removals that
 * earlier runs recorded and did not finish (recover.h): check_worktree()
 * and remove_worktree() finish them, so that they are reported, checked
 * and --forced as the removals of this run.
 */
static void start_run(struct clean_ctx *c)
{
	struct strbuf err = STRBUF_INIT;

	ws_repo_open(&c->repo);
	ws_load_plan(&c->repo, &c->plan);
	if (!c->plan.base || ws_branch_tip(&c->repo, c->plan.base, &c->base_tip) < 0)
		die("base branch '%s' of plan '%s' does not exist",
		    c->plan.base ? c->plan.base : "(none)", c->plan.name);
	if (ws_state_read(&c->st, c->repo.ws_dir, &err) < 0)
		die("%s", err.buf);
	strbuf_release(&err);
	if (c->repo.workdir)
		c->current = ws_normalise_path(c->repo.workdir);
	c->worktrees = ws_worktrees_get(&c->repo);
	c->intent_nr = ws_intents_get(&c->st, &c->intents);
	read_items(c);
}

static void release_ctx(struct clean_ctx *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		strvec_clear(&c->items[i].refusals);
		strvec_clear(&c->items[i].forced);
	}
	for (i = 0; i < c->group_nr; i++) {
		free(c->groups[i].members);
		strbuf_release(&c->groups[i].kept_for);
	}
	free(c->items);
	free(c->groups);
	free(c->current);
	free(c->events);
	strvec_clear(&c->strings);
	ws_intents_free(c->intents, c->intent_nr);
	ws_worktrees_free(c->worktrees);
	ws_state_release(&c->st);
	plan_release(&c->plan);
	ws_repo_close(&c->repo);
}

int cmd_main(int argc, const char **argv)
{
	struct clean_ctx c;
	struct option options[] = {
		OPT__DRY_RUN(&c.dry_run),
		OPT__FORCE(&c.force,
			   "clean even what the checks refuse (branches are still backed up)"),
		OPT_BOOL(0, "keep-branches", &c.keep_branches,
			 "remove worktrees and archive records, but keep the branches"),
		OPT_STRING(0, "abandoned", &c.abandoned, "age",
			   "list workstreams idle for <age> (e.g. 7d); with --force, clean them"),
		OPT_BOOL(0, "all", &c.all,
			 "clean every workstream of the plan, then archive the plan"),
		OPT_BOOL('v', "verbose", &c.verbose,
			 "say every step: backups, removals, deletions, archived records"),
		OPT__PORCELAIN(&c.porcelain),
		OPT_END()
	};

	memset(&c, 0, sizeof(c));
	strvec_init(&c.strings);
	argc = parse_options(argc, argv, options, clean_usage);
	if (c.all && argc)
		usage_msg_opt("--all takes no workstream ids", clean_usage, options);
	if (c.all && c.abandoned)
		usage_msg_opt("--all and --abandoned cannot be used together",
			      clean_usage, options);
	if (c.abandoned && (parse_duration(c.abandoned, &c.max_idle) < 0 ||
			    c.max_idle <= 0))
		usage_msg_opt("--abandoned needs an age such as 7d, 12h or 30m",
			      clean_usage, options);
	the_ctx = &c;
	set_die_routine_cleanup(print_events_on_die);

	start_run(&c);
	select_items(&c, argc, argv);
	if (c.abandoned) {
		int nr = select_abandoned(&c);

		if (!c.force) {
			say_next_step(&c, nr);
			goto out;
		}
	}
	if (!check_items(&c) && !c.all) {
		say(&c, "Nothing to clean.");
	} else {
		clean_items(&c);
		archive_items(&c);
	}
	remove_scratch(&c);
out:
	print_events(&c);
	print_hints(&c);
	the_ctx = NULL;
	release_ctx(&c);
	return c.refused ? WS_EXIT_NO : WS_EXIT_OK;
}
