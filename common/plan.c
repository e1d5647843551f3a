#include "compat.h"
#include "plan.h"
#include "cfgfile.h"
#include "include.h"
#include "cost.h"
#include "runner.h"
#include "shell-words.h"
#include "usage.h"
#include "wrapper.h"
#include <ctype.h>
#include <fnmatch.h>
#include <libgen.h>
#include <git2.h>

#define PLAN_ID_MAX 100
#define SLUG_MAX 40

int plan_id_is_valid(const char *id)
{
	size_t n = 0;

	if (!isalnum((unsigned char)*id) || !isascii((unsigned char)*id))
		return 0;
	for (; *id; id++, n++)
		if (!isascii((unsigned char)*id) ||
		    (!isalnum((unsigned char)*id) && !strchr("._-", *id)))
			return 0;
	return n <= PLAN_ID_MAX;
}

/*
 * The ASCII spelling of the Latin letters U+00C0 to U+017F (Latin-1
 * Supplement and Latin Extended-A), lower case: a letter loses its
 * diacritics, a ligature is spelt out, and "" marks a sign that is no
 * letter (U+00D7 and U+00F7). A fixed table and not iconv's //TRANSLIT,
 * whose answer depends on the locale: a branch name must be the same on
 * every machine that reads the plan.
 */
static const char *const latin[0x180 - 0xc0] = {
	/* U+00C0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00C8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00D0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00D8 */ "o", "u", "u", "u", "u", "y", "th", "ss",
	/* U+00E0 */ "a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00E8 */ "e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00F0 */ "d", "n", "o", "o", "o", "o", "o", "",
	/* U+00F8 */ "o", "u", "u", "u", "u", "y", "th", "y",
	/* U+0100 */ "a", "a", "a", "a", "a", "a", "c", "c",
	/* U+0108 */ "c", "c", "c", "c", "c", "c", "d", "d",
	/* U+0110 */ "d", "d", "e", "e", "e", "e", "e", "e",
	/* U+0118 */ "e", "e", "e", "e", "g", "g", "g", "g",
	/* U+0120 */ "g", "g", "g", "g", "h", "h", "h", "h",
	/* U+0128 */ "i", "i", "i", "i", "i", "i", "i", "i",
	/* U+0130 */ "i", "i", "ij", "ij", "j", "j", "k", "k",
	/* U+0138 */ "k", "l", "l", "l", "l", "l", "l", "l",
	/* U+0140 */ "l", "l", "l", "n", "n", "n", "n", "n",
	/* U+0148 */ "n", "n", "n", "n", "o", "o", "o", "o",
	/* U+0150 */ "o", "o", "oe", "oe", "r", "r", "r", "r",
	/* U+0158 */ "r", "r", "s", "s", "s", "s", "s", "s",
	/* U+0160 */ "s", "s", "t", "t", "t", "t", "t", "t",
	/* U+0168 */ "u", "u", "u", "u", "u", "u", "u", "u",
	/* U+0170 */ "u", "u", "u", "u", "w", "w", "y", "y",
	/* U+0178 */ "y", "z", "z", "z", "z", "z", "z", "s",
};

/*
 * Decode the two-byte UTF-8 sequence at *s (U+0080 to U+07FF), the only
 * length that holds the letters above and the combining diacritical
 * marks. Returns the code point and advances *s past it; 0 (and *s
 * unchanged) for anything else.
 */
static unsigned two_byte_code_point(const char **s)
{
	const unsigned char *u = (const unsigned char *)*s;
	unsigned cp;

	if ((u[0] & 0xe0) != 0xc0 || (u[1] & 0xc0) != 0x80)
		return 0;
	cp = (u[0] & 0x1fu) << 6 | (u[1] & 0x3fu);
	if (cp < 0x80)
		return 0; /* an overlong form is no letter */
	*s += 2;
	return cp;
}

char *plan_slugify(const char *title)
{
	struct strbuf sb = STRBUF_INIT;
	int dash = 0;

	while (*title && sb.len < SLUG_MAX) {
		unsigned char c = *title;
		const char *letters = NULL;
		char ascii[2] = { 0, 0 };
		unsigned cp;

		if (isascii(c) && isalnum(c)) {
			ascii[0] = tolower(c);
			letters = ascii;
			title++;
		} else if ((cp = two_byte_code_point(&title))) {
			if (cp >= 0x300 && cp < 0x370)
				continue; /* a combining mark: the letter before it stands */
			if (cp >= 0xc0 && cp < 0x180 && *latin[cp - 0xc0])
				letters = latin[cp - 0xc0];
		} else {
			title++;
		}
		if (!letters) {
			dash = 1;
			continue;
		}
		if (dash && sb.len)
			strbuf_addch(&sb, '-');
		dash = 0;
		strbuf_addstr(&sb, letters);
	}
	strbuf_setlen(&sb, sb.len < SLUG_MAX ? sb.len : SLUG_MAX);
	while (sb.len && sb.buf[sb.len - 1] == '-')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

size_t plan_glob_literal_prefix(const char *glob)
{
	return strcspn(glob, "*?[\\");
}

static int prefix_overlap(const char *shorter, size_t slen, int sglob,
			  const char *longer)
{
	if (strncmp(shorter, longer, slen))
		return 0;
	return sglob || !slen || shorter[slen - 1] == '/' ||
	       longer[slen] == '/' || longer[slen] == '\0';
}

int plan_globs_overlap(const char *a, const char *b)
{
	size_t la = plan_glob_literal_prefix(a), lb = plan_glob_literal_prefix(b);

	if (!fnmatch(a, b, 0) || !fnmatch(b, a, 0))
		return 1;
	if (la <= lb)
		return prefix_overlap(a, la, a[la] != '\0', b);
	return prefix_overlap(b, lb, b[lb] != '\0', a);
}

int plan_paths_overlap(const struct strvec *a, const struct strvec *b)
{
	size_t i, j;

	for (i = 0; i < a->nr; i++)
		for (j = 0; j < b->nr; j++)
			if (plan_globs_overlap(a->v[i], b->v[j]))
				return 1;
	return 0;
}

/* Context for one plan_read(): where errors go. */
struct reader {
	struct plan *plan;
	struct strbuf *err;
	const char *file;
	int quote_hint_given; /* warn_cut_commands() gives its hint once */
};

static int fail(struct reader *r, int lineno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct reader *r, int lineno, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(r->err);
	strbuf_addf(r->err, "%s:%d: ", r->file, lineno);
	va_start(ap, fmt);
	strbuf_vaddf(r->err, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const plan_keys[] = {
	"name", "base", "command", "test", "check", "jobs", "max-iterations",
	"timeout", "todo", "include", "ports", "sparse", "lfs",
	"setup", "teardown", "max-cost", "runner", "gate-runner",
	"srun-args", "ssh-hosts", "ssh-jobs", "batch", "final-test",
	"pool", NULL
};
static const char *const ws_keys[] = {
	"title", "spec", "paths", "contract", "depends", "worktree",
	"command", "test", "check", "timeout", "todo", "max-iterations",
	"sparse", "lfs", "setup", "teardown", "runner", "gate-runner", NULL
};
/* keys that may be repeated (their values accumulate) */
static const char *const multi_keys[] = {
	"check", "paths", "contract", "depends", "include", NULL
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

/* Unknown keys and repeated single-valued keys. */
static int check_keys(struct reader *r, const struct cfg_section *s,
		      const char *const *known, const char *where)
{
	size_t i, j;

	for (i = 0; i < s->nr; i++) {
		const struct cfg_entry *e = &s->entries[i];

		if (!in_list(known, e->key))
			return fail(r, e->lineno, "unknown key '%s' in %s", e->key, where);
		if (in_list(multi_keys, e->key))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(s->entries[j].key, e->key))
				return fail(r, e->lineno,
					    "key '%s' given twice in %s (first on line %d)",
					    e->key, where, s->entries[j].lineno);
	}
	return 0;
}

/*
 * Keys whose value is a shell command (run with sh -c). The warnings
 * below look at these; a new command-valued key joins them here.
 */
static const char *const command_keys[] = {
	"command", "test", "check", "setup", "teardown", "final-test", NULL
};

/*
 * Two ways git's config syntax silently changes a command, each almost
 * always a mistake; warn, naming file, line and key, and say how to keep
 * the command. Only warns; the plan is still valid.
 *
 * A ';' or '#' after text starts a comment: "test = make a;make b" runs
 * "make a". Unescaped double quotes are removed: `git commit -qm "$X y"`
 * runs `git commit -qm $X y`. Quoting the whole value (what the first
 * warning advises) is fine; `\"` keeps a quote, and single quotes are
 * not special to git's syntax, so the shell still sees them.
 */
static void warn_cut_commands(struct reader *r, const struct cfg_section *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		const struct cfg_entry *e = &s->entries[i];

		if (!in_list(command_keys, e->key))
			continue;
		if (e->cut_by_comment)
			warning("%s:%d: ';' or '#' starts a comment: '%s' is only '%s'; quote the whole value to keep it",
				r->file, e->lineno, e->key, e->value);
		if (e->drops_quotes) {
			warning("%s:%d: double quotes are removed from '%s': it runs '%s'",
				r->file, e->lineno, e->key, e->value);
			if (!r->quote_hint_given++)
				advise("write \\\" for a quote the command should see, or use single quotes, which the plan keeps");
		}
	}
}

/*
 * Parse the keys that [plan] and [workstream] share into the given
 * fields; `given` collects PLAN_KEY_* bits.
 */
static int read_common(struct reader *r, const struct cfg_section *s,
		       char **command, char **test, struct strvec *check,
		       long *timeout, int *todo_allow, int *max_iterations,
		       unsigned *given)
{
	size_t i;

	warn_cut_commands(r, s);
	for (i = 0; i < s->nr; i++) {
		const struct cfg_entry *e = &s->entries[i];

		if (!strcmp(e->key, "command")) {
			if (!*e->value)
				return fail(r, e->lineno, "empty 'command'");
			*command = xstrdup(e->value);
			*given |= PLAN_KEY_COMMAND;
		} else if (!strcmp(e->key, "test")) {
			*test = xstrdup(e->value);
			*given |= PLAN_KEY_TEST;
		} else if (!strcmp(e->key, "check")) {
			if (!(*given & PLAN_KEY_CHECK))
				strvec_clear(check);
			if (*e->value)
				strvec_push(check, e->value);
			*given |= PLAN_KEY_CHECK;
		} else if (!strcmp(e->key, "timeout")) {
			if (parse_duration(e->value, timeout) < 0)
				return fail(r, e->lineno,
					    "bad timeout '%s' (expected e.g. 90s, 30m, 2h)",
					    e->value);
			*given |= PLAN_KEY_TIMEOUT;
		} else if (!strcmp(e->key, "todo")) {
			if (!strcmp(e->value, "allow"))
				*todo_allow = 1;
			else if (!strcmp(e->value, "deny"))
				*todo_allow = 0;
			else
				return fail(r, e->lineno,
					    "bad todo '%s' (expected 'allow' or 'deny')",
					    e->value);
			*given |= PLAN_KEY_TODO;
		} else if (!strcmp(e->key, "max-iterations")) {
			if (parse_nonneg_int(e->value, max_iterations) < 0 ||
			    !*max_iterations)
				return fail(r, e->lineno,
					    "bad max-iterations '%s' (expected a positive integer)",
					    e->value);
			*given |= PLAN_KEY_MAX_ITERATIONS;
		}
	}
	return 0;
}

static int valid_branch(const char *name)
{
	char *ref = xstrfmt("refs/heads/%s", name);
	int valid = 0;

	if (git_reference_name_is_valid(&valid, ref) < 0)
		valid = 0;
	free(ref);
	return valid && strcmp(name, "HEAD") && *name != '-';
}

static int valid_relative_path(const char *p)
{
	const char *c;

	if (*p == '/')
		return 0;
	for (c = p; *c; ) {
		size_t n = strcspn(c, "/");
		if (n == 2 && !strncmp(c, "..", 2))
			return 0;
		c += n;
		if (*c)
			c++;
	}
	return 1;
}

/*
 * `sparse`: the directories of a cone-mode sparse checkout, words
 * relative to the top of the repository. Returns 1 when given, 0 when
 * not, -1 after an error.
 */
static int read_sparse(struct reader *r, const struct cfg_section *s,
		       struct strvec *dirs)
{
	const struct cfg_entry *e = cfg_get_entry(s, "sparse");
	size_t i;

	if (!e)
		return 0;
	strvec_split_words(dirs, e->value);
	for (i = 0; i < dirs->nr; i++)
		if (!valid_relative_path(dirs->v[i]) ||
		    strcspn(dirs->v[i], "*?[\\") != strlen(dirs->v[i]))
			return fail(r, e->lineno,
				    "bad sparse '%s': directories relative to the top of the repository, without '..' or glob characters",
				    dirs->v[i]);
	if (!dirs->nr)
		return fail(r, e->lineno, "sparse is empty (name the directories to check out)");
	return 1;
}

/*
 * `lfs`: "checkout" (Git LFS files with their contents, the default) or
 * "skip" (pointer files). Returns 1 when given, 0 when not, -1 after an
 * error.
 */
static int read_lfs(struct reader *r, const struct cfg_section *s, int *skip)
{
	const struct cfg_entry *e = cfg_get_entry(s, "lfs");

	if (!e)
		return 0;
	if (!strcmp(e->value, "skip"))
		*skip = 1;
	else if (!strcmp(e->value, "checkout"))
		*skip = 0;
	else
		return fail(r, e->lineno, "bad lfs '%s' (expected checkout or skip)",
			    e->value);
	return 1;
}

/*
 * A command-valued key that may be empty (`setup`, `teardown`): *value
 * gets a copy, NULL when empty. Returns the bit `key_bit` when given, else 0.
 */
static unsigned read_command_key(const struct cfg_section *s, const char *key,
				 char **value, unsigned key_bit)
{
	const struct cfg_entry *e = cfg_get_entry(s, key);

	if (!e)
		return 0;
	free(*value);
	*value = *e->value ? xstrdup(e->value) : NULL;
	return key_bit;
}

/*
 * `runner` or `gate-runner` (`key`): the name of a runner (runner.h).
 * Returns `key_bit` when given, 0 when not, -1 after an error.
 */
static int read_runner(struct reader *r, const struct cfg_section *s,
		       const char *key, char **value, unsigned key_bit)
{
	const struct cfg_entry *e = cfg_get_entry(s, key);
	struct strbuf names = STRBUF_INIT;

	if (!e)
		return 0;
	if (!ws_runner_find(e->value)) {
		ws_runner_names(&names);
		fail(r, e->lineno, "bad %s '%s' (expected one of %s)", key,
		     e->value, names.buf);
		strbuf_release(&names);
		return -1;
	}
	free(*value);
	*value = xstrdup(e->value);
	return (int)key_bit;
}

/*
 * The remote runners' keys of [plan]: `srun-args` (checked to split into
 * words as the shell would: runner-srun.c), `ssh-hosts` (words) and
 * `ssh-jobs` (runner-ssh.c). Returns 0, or -1 after an error.
 */
static int read_remote_runner_keys(struct reader *r, const struct cfg_section *s)
{
	struct plan *p = r->plan;
	const struct cfg_entry *e;

	if ((e = cfg_get_entry(s, "srun-args")) && *e->value) {
		struct strvec words = STRVEC_INIT;
		struct strbuf why = STRBUF_INIT;
		int bad = split_shell_words(e->value, &words, &why) < 0;

		strvec_clear(&words);
		if (bad) {
			fail(r, e->lineno, "bad srun-args '%s': %s", e->value, why.buf);
			strbuf_release(&why);
			return -1;
		}
		p->srun_args = xstrdup(e->value);
	}
	if ((e = cfg_get_entry(s, "ssh-hosts")))
		strvec_split_words(&p->ssh_hosts, e->value);
	if ((e = cfg_get_entry(s, "ssh-jobs")) &&
	    (parse_nonneg_int(e->value, &p->ssh_jobs) < 0 || !p->ssh_jobs))
		return fail(r, e->lineno, "bad ssh-jobs '%s' (expected a positive integer)",
			    e->value);
	return 0;
}

static int read_plan_section(struct reader *r, const struct cfg_section *s)
{
	struct plan *p = r->plan;
	const struct cfg_entry *e;
	size_t i;

	if (s->sub)
		return fail(r, s->lineno, "[plan] takes no subsection");
	if (check_keys(r, s, plan_keys, "[plan]"))
		return -1;
	if (read_common(r, s, &p->command, &p->test, &p->check, &p->timeout,
			&p->todo_allow, &p->max_iterations, &p->given))
		return -1;
	for (i = 0; i < s->nr; i++) {
		e = &s->entries[i];
		if (strcmp(e->key, "include") || !*e->value)
			continue;
		if (ws_include_pattern_escapes(e->value))
			return fail(r, e->lineno,
				    "bad include '%s': a '..' component leaves the repository",
				    e->value);
		strvec_push(&p->include, e->value);
	}
	if ((e = cfg_get_entry(s, "name"))) {
		if (!plan_id_is_valid(e->value))
			return fail(r, e->lineno,
				    "bad plan name '%s' (use letters, digits, '.', '_' and '-')",
				    e->value);
		p->name = xstrdup(e->value);
	}
	if ((e = cfg_get_entry(s, "base"))) {
		if (!valid_branch(e->value))
			return fail(r, e->lineno, "bad base '%s': not a valid branch name",
				    e->value);
		p->base = xstrdup(e->value);
	}
	if (read_sparse(r, s, &p->sparse) < 0 || read_lfs(r, s, &p->lfs_skip) < 0)
		return -1;
	read_command_key(s, "setup", &p->setup, PLAN_KEY_SETUP);
	read_command_key(s, "teardown", &p->teardown, PLAN_KEY_TEARDOWN);
	if (read_runner(r, s, "runner", &p->runner, PLAN_KEY_RUNNER) < 0 ||
	    read_runner(r, s, "gate-runner", &p->gate_runner,
			PLAN_KEY_GATE_RUNNER) < 0)
		return -1;
	read_command_key(s, "final-test", &p->final_test, 0);
	if ((e = cfg_get_entry(s, "batch")) &&
	    (parse_nonneg_int(e->value, &p->batch) < 0 || !p->batch))
		return fail(r, e->lineno, "bad batch '%s' (expected a positive integer)",
			    e->value);
	if ((e = cfg_get_entry(s, "ports"))) {
		if (parse_nonneg_int(e->value, &p->ports) < 0 || !p->ports ||
		    p->ports > PLAN_PORT_MAX)
			return fail(r, e->lineno,
				    "bad ports '%s' (expected a positive integer, at most %d)",
				    e->value, PLAN_PORT_MAX);
		p->ports_line = e->lineno;
	}
	if ((e = cfg_get_entry(s, "pool"))) {
		if (parse_nonneg_int(e->value, &p->pool) < 0 || !p->pool ||
		    p->pool > PLAN_POOL_MAX)
			return fail(r, e->lineno,
				    "bad pool '%s' (expected a positive integer, at most %d)",
				    e->value, PLAN_POOL_MAX);
		p->pool_line = e->lineno;
	}
	if ((e = cfg_get_entry(s, "jobs")) &&
	    (parse_nonneg_int(e->value, &p->jobs) < 0 || !p->jobs))
		return fail(r, e->lineno, "bad jobs '%s' (expected a positive integer)",
			    e->value);
	if ((e = cfg_get_entry(s, "max-cost")) &&
	    (ws_cost_parse(e->value, &p->max_cost) < 0 || !p->max_cost ||
	     p->max_cost > (uint64_t)WS_USAGE_COST_MAX_USD * 1000000))
		return fail(r, e->lineno,
			    "bad max-cost '%s' (expected a positive amount in US dollars, e.g. 5 or 2.50)",
			    e->value);
	if (read_remote_runner_keys(r, s) < 0)
		return -1;
	return 0;
}

static int read_paths(struct reader *r, const struct cfg_section *s,
		      const char *key, struct strvec *out)
{
	size_t i, j;

	for (i = 0; i < s->nr; i++) {
		const struct cfg_entry *e = &s->entries[i];
		size_t first = out->nr;

		if (strcmp(e->key, key))
			continue;
		strvec_split_words(out, e->value);
		for (j = first; j < out->nr; j++)
			if (!valid_relative_path(out->v[j]))
				return fail(r, e->lineno,
					    "bad %s '%s': must be relative to the repository, without '..'",
					    key, out->v[j]);
	}
	return 0;
}

static int read_ws_section(struct reader *r, const struct cfg_section *s,
			   struct plan_workstream *w)
{
	const struct cfg_entry *e;
	size_t i;
	char *where;
	int ret = -1;

	w->lineno = s->lineno;
	strvec_init(&w->paths);
	strvec_init(&w->contract);
	strvec_init(&w->depends);
	strvec_init(&w->check);
	if (!s->sub)
		return fail(r, s->lineno, "workstream section needs an id: [workstream \"ID\"]");
	if (!plan_id_is_valid(s->sub))
		return fail(r, s->lineno,
			    "bad workstream id '%s' (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most %d characters)",
			    s->sub, PLAN_ID_MAX);
	w->id = xstrdup(s->sub);
	where = xstrfmt("[workstream \"%s\"]", w->id);
	if (check_keys(r, s, ws_keys, where))
		goto out;
	if (!(e = cfg_get_entry(s, "title")) || !*e->value) {
		fail(r, e ? e->lineno : s->lineno, "workstream '%s' has no title", w->id);
		goto out;
	}
	w->title = xstrdup(e->value);
	w->slug = plan_slugify(w->title);
	if ((e = cfg_get_entry(s, "spec")))
		w->spec = xstrdup(e->value);
	if ((e = cfg_get_entry(s, "worktree"))) {
		w->share = xstrdup(e->value);
		w->share_line = e->lineno;
	}
	for (i = 0; i < s->nr; i++) {
		size_t first = w->depends.nr, j;

		if (strcmp(s->entries[i].key, "depends"))
			continue;
		strvec_split_words(&w->depends, s->entries[i].value);
		w->depends_line = xrealloc(w->depends_line,
					   (w->depends.nr + 1) * sizeof(int));
		for (j = first; j < w->depends.nr; j++)
			w->depends_line[j] = s->entries[i].lineno;
	}
	if (read_paths(r, s, "paths", &w->paths) ||
	    read_paths(r, s, "contract", &w->contract))
		goto out;
	if (read_common(r, s, &w->command, &w->test, &w->check, &w->timeout,
			&w->todo_allow, &w->max_iterations, &w->overrides))
		goto out;
	switch (read_sparse(r, s, &w->sparse)) {
	case -1:
		goto out;
	case 1:
		w->overrides |= PLAN_KEY_SPARSE;
	}
	switch (read_lfs(r, s, &w->lfs_skip)) {
	case -1:
		goto out;
	case 1:
		w->overrides |= PLAN_KEY_LFS;
	}
	w->overrides |= read_command_key(s, "setup", &w->setup, PLAN_KEY_SETUP);
	w->overrides |= read_command_key(s, "teardown", &w->teardown,
					 PLAN_KEY_TEARDOWN);
	for (i = 0; i < 2; i++) {
		int bit = i ? read_runner(r, s, "gate-runner", &w->gate_runner,
					  PLAN_KEY_GATE_RUNNER) :
			      read_runner(r, s, "runner", &w->runner,
					  PLAN_KEY_RUNNER);

		if (bit < 0)
			goto out;
		w->overrides |= (unsigned)bit;
	}
	ret = 0;
out:
	free(where);
	return ret;
}

/* Fill what a workstream did not set from the plan. */
static void inherit(struct plan *p, struct plan_workstream *w)
{
	size_t i;

	if (!(w->overrides & PLAN_KEY_COMMAND))
		w->command = xstrdup_or_null(p->command);
	if (!(w->overrides & PLAN_KEY_TEST))
		w->test = xstrdup_or_null(p->test);
	if (!(w->overrides & PLAN_KEY_CHECK))
		for (i = 0; i < p->check.nr; i++)
			strvec_push(&w->check, p->check.v[i]);
	if (!(w->overrides & PLAN_KEY_TIMEOUT))
		w->timeout = p->timeout;
	if (!(w->overrides & PLAN_KEY_TODO))
		w->todo_allow = p->todo_allow;
	if (!(w->overrides & PLAN_KEY_MAX_ITERATIONS))
		w->max_iterations = p->max_iterations;
	if (!(w->overrides & PLAN_KEY_LFS))
		w->lfs_skip = p->lfs_skip;
	if (!(w->overrides & PLAN_KEY_SETUP))
		w->setup = xstrdup_or_null(p->setup);
	if (!(w->overrides & PLAN_KEY_TEARDOWN))
		w->teardown = xstrdup_or_null(p->teardown);
	if (!(w->overrides & PLAN_KEY_RUNNER))
		w->runner = xstrdup_or_null(p->runner);
	if (!(w->overrides & PLAN_KEY_GATE_RUNNER))
		w->gate_runner = xstrdup_or_null(p->gate_runner);
	if (!(w->overrides & PLAN_KEY_SPARSE))
		for (i = 0; i < p->sparse.nr; i++)
			strvec_push(&w->sparse, p->sparse.v[i]);
}

/* The index of workstreams sorted by id, for plan_find(). */
static const struct plan *sort_plan;
static int cmp_by_id(const void *a, const void *b)
{
	return strcmp(sort_plan->ws[*(const size_t *)a].id,
		      sort_plan->ws[*(const size_t *)b].id);
}

ssize_t plan_find(const struct plan *plan, const char *id)
{
	size_t lo = 0, hi = plan->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(plan->ws[plan->by_id[mid]].id, id);

		if (!c)
			return (ssize_t)plan->by_id[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int resolve(struct reader *r)
{
	struct plan *p = r->plan;
	size_t i, j, *cycle = NULL, cycle_nr = 0;

	p->by_id = xmalloc((p->nr + 1) * sizeof(*p->by_id));
	for (i = 0; i < p->nr; i++)
		p->by_id[i] = i;
	sort_plan = p;
	qsort(p->by_id, p->nr, sizeof(*p->by_id), cmp_by_id);
	for (i = 1; i < p->nr; i++) {
		const struct plan_workstream *a = &p->ws[p->by_id[i - 1]];
		const struct plan_workstream *b = &p->ws[p->by_id[i]];
		if (!strcmp(a->id, b->id)) {
			const struct plan_workstream *later = a->lineno > b->lineno ? a : b;
			const struct plan_workstream *first = later == a ? b : a;
			return fail(r, later->lineno,
				    "duplicate workstream '%s' (first on line %d)",
				    later->id, first->lineno);
		}
	}

	graph_init(&p->graph, p->nr);
	for (i = 0; i < p->nr; i++) {
		struct plan_workstream *w = &p->ws[i];

		w->dep_idx = xmalloc((w->depends.nr + 1) * sizeof(*w->dep_idx));
		for (j = 0; j < w->depends.nr; j++) {
			ssize_t d = plan_find(p, w->depends.v[j]);
			int line = w->depends_line[j];

			if (d < 0)
				return fail(r, line,
					    "workstream '%s' depends on unknown workstream '%s'",
					    w->id, w->depends.v[j]);
			if ((size_t)d == i)
				return fail(r, line, "workstream '%s' depends on itself", w->id);
			w->dep_idx[w->dep_nr++] = d;
			graph_add_dep(&p->graph, i, d);
		}
	}
	p->owners = xmalloc((p->nr + 1) * sizeof(*p->owners));
	for (i = 0; i < p->nr; i++)
		if (p->ws[i].contract.nr)
			p->owners[p->owner_nr++] = i;
	/* the reverse edges, so that finding a workstream's dependents is O(1) */
	for (i = 0; i < p->nr; i++)
		for (j = 0; j < p->ws[i].dep_nr; j++)
			p->ws[p->ws[i].dep_idx[j]].rdep_nr++;
	for (i = 0; i < p->nr; i++) {
		p->ws[i].rdep_idx = xmalloc((p->ws[i].rdep_nr + 1) * sizeof(size_t));
		p->ws[i].rdep_nr = 0;
	}
	for (i = 0; i < p->nr; i++)
		for (j = 0; j < p->ws[i].dep_nr; j++) {
			struct plan_workstream *d = &p->ws[p->ws[i].dep_idx[j]];

			/* `depends = a a` names a once */
			if (!d->rdep_nr || d->rdep_idx[d->rdep_nr - 1] != i)
				d->rdep_idx[d->rdep_nr++] = i;
		}
	for (i = 0; i < p->nr; i++) {
		struct plan_workstream *w = &p->ws[i];
		ssize_t o;

		if (!w->share)
			continue;
		o = plan_find(p, w->share);
		if (o < 0)
			return fail(r, w->share_line,
				    "workstream '%s' shares the worktree of unknown workstream '%s'",
				    w->id, w->share);
		if ((size_t)o == i)
			return fail(r, w->share_line,
				    "workstream '%s' shares its own worktree", w->id);
		if (p->ws[o].share)
			return fail(r, w->share_line,
				    "workstream '%s' shares the worktree of '%s', which itself shares '%s' (name '%s' instead)",
				    w->id, w->share, p->ws[o].share, p->ws[o].share);
	}

	p->order = xmalloc((p->nr + 1) * sizeof(*p->order));
	if (graph_topo_order(&p->graph, p->order, &cycle, &cycle_nr)) {
		struct strbuf path = STRBUF_INIT;

		for (i = 0; i < cycle_nr; i++)
			strbuf_addf(&path, "%s%s", i ? " -> " : "", p->ws[cycle[i]].id);
		fail(r, p->ws[cycle[0]].lineno, "dependency cycle: %s", path.buf);
		strbuf_release(&path);
		free(cycle);
		return -1;
	}
	return 0;
}

static int read_sections(struct reader *r, const struct cfg_file *cf,
			 const char *branch_prefix)
{
	struct plan *p = r->plan;
	size_t i;
	int seen_plan = 0;

	p->max_iterations = PLAN_DEFAULT_MAX_ITERATIONS;
	strvec_init(&p->check);
	strvec_init(&p->ssh_hosts);
	for (i = 0; i < cf->nr; i++) {
		const struct cfg_section *s = &cf->sections[i];

		if (!strcmp(s->name, "plan")) {
			if (seen_plan++)
				return fail(r, s->lineno, "more than one [plan] section");
			if (read_plan_section(r, s))
				return -1;
		} else if (!strcmp(s->name, "workstream")) {
			struct plan_workstream *w;

			ALLOC_GROW(p->ws, p->nr + 1, p->alloc);
			w = &p->ws[p->nr++];
			memset(w, 0, sizeof(*w));
			if (read_ws_section(r, s, w))
				return -1;
		} else {
			return fail(r, s->lineno, "unknown section '[%s]' (expected [plan] or [workstream \"ID\"])",
				    s->name);
		}
	}
	if (!p->nr)
		return fail(r, cf->nr ? cf->sections[0].lineno : 1, "plan has no workstreams");
	for (i = 0; i < p->nr; i++) {
		struct plan_workstream *w = &p->ws[i];

		inherit(p, w);
		w->branch = *w->slug ? xstrfmt("%s%s-%s", branch_prefix, w->id, w->slug)
				     : xstrfmt("%s%s", branch_prefix, w->id);
		if (!valid_branch(w->branch))
			return fail(r, w->lineno,
				    "workstream '%s' makes branch name '%s', which is not a valid ref name",
				    w->id, w->branch);
	}
	return resolve(r);
}

static char *default_name(const char *file)
{
	char *copy = xstrdup(file), *base = basename(copy), *dot, *ret;

	if ((dot = strrchr(base, '.')) && dot != base)
		*dot = '\0';
	ret = plan_slugify(base);
	free(copy);
	if (!*ret || !plan_id_is_valid(ret)) {
		free(ret);
		ret = xstrdup("plan");
	}
	return ret;
}

int plan_read_buf(struct plan *plan, const char *name, const char *buf,
		  size_t len, const char *branch_prefix, struct strbuf *err)
{
	struct cfg_file cf = CFG_FILE_INIT;
	struct reader r = { plan, err, name };
	int ret;

	memset(plan, 0, sizeof(*plan));
	plan->file = xstrdup(name);
	if (cfg_parse_buf(&cf, name, buf, len, err) < 0) {
		plan_release(plan);
		return -1;
	}
	ret = read_sections(&r, &cf, branch_prefix ? branch_prefix : PLAN_DEFAULT_BRANCH_PREFIX);
	cfg_file_release(&cf);
	if (ret) {
		plan_release(plan);
		return -1;
	}
	if (!plan->name)
		plan->name = default_name(name);
	return 0;
}

int plan_read(struct plan *plan, const char *path, const char *branch_prefix,
	      struct strbuf *err)
{
	char *buf;
	size_t len;
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (read_file(path, &buf, &len) < 0) {
		strbuf_reset(err);
		strbuf_addf(err, "cannot read plan '%s': %s", path, strerror(errno));
		return -1;
	}
	ret = plan_read_buf(plan, path, buf, len, branch_prefix, err);
	free(buf);
	return ret;
}

static void add_kv(struct strbuf *out, const char *key, const char *value)
{
	strbuf_addf(out, "\t%s = ", key);
	cfg_quote_value(out, value);
	strbuf_addch(out, '\n');
}

static void add_common(struct strbuf *out, unsigned given, const char *command,
		       const char *test, const struct strvec *check, long timeout,
		       int todo_allow, int max_iterations)
{
	size_t i;
	char num[32];

	if ((given & PLAN_KEY_COMMAND) && command)
		add_kv(out, "command", command);
	if ((given & PLAN_KEY_TEST) && test)
		add_kv(out, "test", test);
	if (given & PLAN_KEY_CHECK) {
		for (i = 0; i < check->nr; i++)
			add_kv(out, "check", check->v[i]);
		if (!check->nr)
			add_kv(out, "check", "");
	}
	if (given & PLAN_KEY_TIMEOUT) {
		snprintf(num, sizeof(num), "%lds", timeout);
		add_kv(out, "timeout", num);
	}
	if (given & PLAN_KEY_TODO)
		add_kv(out, "todo", todo_allow ? "allow" : "deny");
	if (given & PLAN_KEY_MAX_ITERATIONS) {
		snprintf(num, sizeof(num), "%d", max_iterations);
		add_kv(out, "max-iterations", num);
	}
}

static void add_list(struct strbuf *out, const char *key, const struct strvec *v)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		add_kv(out, key, v->v[i]);
}

/* One `key = word word...` line, when there are words. */
static void add_words(struct strbuf *out, const char *key, const struct strvec *v)
{
	struct strbuf words = STRBUF_INIT;
	size_t i;

	if (!v->nr)
		return;
	/* byte for byte (strvec_join() makes words safe to print instead) */
	for (i = 0; i < v->nr; i++) {
		if (i)
			strbuf_addch(&words, ' ');
		strbuf_addstr(&words, v->v[i]);
	}
	add_kv(out, key, words.buf);
	strbuf_release(&words);
}

void plan_format(const struct plan *p, struct strbuf *out)
{
	size_t i;
	char num[32];

	strbuf_addstr(out, "[plan]\n");
	add_kv(out, "name", p->name);
	if (p->base)
		add_kv(out, "base", p->base);
	if (p->jobs) {
		snprintf(num, sizeof(num), "%d", p->jobs);
		add_kv(out, "jobs", num);
	}
	if (p->ports) {
		snprintf(num, sizeof(num), "%d", p->ports);
		add_kv(out, "ports", num);
	}
	if (p->pool) {
		snprintf(num, sizeof(num), "%d", p->pool);
		add_kv(out, "pool", num);
	}
	if (p->max_cost) {
		struct strbuf sb = STRBUF_INIT;

		ws_cost_format(&sb, p->max_cost, 0);
		add_kv(out, "max-cost", sb.buf);
		strbuf_release(&sb);
	}
	add_common(out, p->given, p->command, p->test, &p->check, p->timeout,
		   p->todo_allow, p->max_iterations);
	add_list(out, "include", &p->include);
	add_words(out, "sparse", &p->sparse);
	if (p->lfs_skip)
		add_kv(out, "lfs", "skip");
	if (p->setup)
		add_kv(out, "setup", p->setup);
	if (p->teardown)
		add_kv(out, "teardown", p->teardown);
	if (p->runner)
		add_kv(out, "runner", p->runner);
	if (p->gate_runner)
		add_kv(out, "gate-runner", p->gate_runner);
	if (p->srun_args)
		add_kv(out, "srun-args", p->srun_args);
	if (p->ssh_hosts.nr)
		add_words(out, "ssh-hosts", &p->ssh_hosts);
	if (p->ssh_jobs) {
		snprintf(num, sizeof(num), "%d", p->ssh_jobs);
		add_kv(out, "ssh-jobs", num);
	}
	if (p->batch) {
		snprintf(num, sizeof(num), "%d", p->batch);
		add_kv(out, "batch", num);
	}
	if (p->final_test)
		add_kv(out, "final-test", p->final_test);
	for (i = 0; i < p->nr; i++) {
		const struct plan_workstream *w = &p->ws[i];
		struct cfg_file one = CFG_FILE_INIT;

		cfg_section_add(&one, "workstream", w->id);
		cfg_format(&one, out);
		cfg_file_release(&one);
		add_kv(out, "title", w->title);
		if (w->spec)
			add_kv(out, "spec", w->spec);
		add_list(out, "paths", &w->paths);
		add_list(out, "contract", &w->contract);
		add_list(out, "depends", &w->depends);
		if (w->share)
			add_kv(out, "worktree", w->share);
		add_common(out, w->overrides, w->command, w->test, &w->check,
			   w->timeout, w->todo_allow, w->max_iterations);
		if (w->overrides & PLAN_KEY_SPARSE)
			add_words(out, "sparse", &w->sparse);
		if (w->overrides & PLAN_KEY_LFS)
			add_kv(out, "lfs", w->lfs_skip ? "skip" : "checkout");
		if (w->overrides & PLAN_KEY_SETUP)
			add_kv(out, "setup", w->setup ? w->setup : "");
		if (w->overrides & PLAN_KEY_TEARDOWN)
			add_kv(out, "teardown", w->teardown ? w->teardown : "");
		if (w->overrides & PLAN_KEY_RUNNER)
			add_kv(out, "runner", w->runner);
		if (w->overrides & PLAN_KEY_GATE_RUNNER)
			add_kv(out, "gate-runner", w->gate_runner);
	}
}

void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		struct plan_workstream *w = &p->ws[i];

		free(w->id);
		free(w->title);
		free(w->slug);
		free(w->spec);
		strvec_clear(&w->paths);
		strvec_clear(&w->contract);
		strvec_clear(&w->depends);
		free(w->depends_line);
		free(w->share);
		free(w->command);
		free(w->test);
		strvec_clear(&w->check);
		strvec_clear(&w->sparse);
		free(w->setup);
		free(w->teardown);
		free(w->runner);
		free(w->gate_runner);
		free(w->dep_idx);
		free(w->rdep_idx);
		free(w->branch);
	}
	free(p->ws);
	free(p->file);
	free(p->name);
	free(p->base);
	free(p->command);
	free(p->test);
	strvec_clear(&p->check);
	strvec_clear(&p->include);
	strvec_clear(&p->sparse);
	free(p->setup);
	free(p->teardown);
	free(p->runner);
	free(p->gate_runner);
	free(p->srun_args);
	strvec_clear(&p->ssh_hosts);
	free(p->final_test);
	free(p->by_id);
	free(p->owners);
	free(p->order);
	graph_clear(&p->graph);
	memset(p, 0, sizeof(*p));
}
