#include "compat.h"
#include "repo.h"
#include "usage.h"
#include "wrapper.h"

static char *strip_slash(const char *p)
{
	char *s = xstrdup(p);
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

void ws_repo_open(struct ws_repo *r)
{
	const char *git_dir = getenv("GIT_DIR");
	const char *work_tree = getenv("GIT_WORK_TREE");
	const char *ceiling = getenv("GIT_CEILING_DIRECTORIES");
	int err;

	memset(r, 0, sizeof(*r));
	if (git_dir && *git_dir)
		err = git_repository_open_ext(&r->repo, git_dir,
					      GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	else
		err = git_repository_open_ext(&r->repo, ".", 0, ceiling);
	if (err == GIT_ENOTFOUND)
		die("not a git repository (or any of the parent directories): .git");
	if (err < 0)
		die_git("cannot open the repository");
	if (work_tree && *work_tree &&
	    git_repository_set_workdir(r->repo, work_tree, 0) < 0)
		die_git("cannot use work tree '%s'", work_tree);

	r->commondir = strip_slash(git_repository_commondir(r->repo));
	r->ws_dir = xstrfmt("%s/ws", r->commondir);
	if (git_repository_workdir(r->repo))
		r->workdir = strip_slash(git_repository_workdir(r->repo));
	if (!git_repository_is_bare(r->repo)) {
		if (!git_repository_is_worktree(r->repo)) {
			r->main_worktree = xstrdup_or_null(r->workdir);
		} else {
			/* the main worktree is the parent of the common dir */
			size_t n = strlen(r->commondir);
			if (n > 5 && !strcmp(r->commondir + n - 5, "/.git"))
				r->main_worktree = xstrndup(r->commondir, n - 5);
		}
	}
}

void ws_repo_close(struct ws_repo *r)
{
	git_repository_free(r->repo);
	free(r->commondir);
	free(r->ws_dir);
	free(r->workdir);
	free(r->main_worktree);
	memset(r, 0, sizeof(*r));
}

void ws_repo_ensure_dirs(const struct ws_repo *r)
{
	static const char *const sub[] = { "", "/logs", "/coordination",
					   "/reports", "/archive" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		char *p = xstrfmt("%s%s", r->ws_dir, sub[i]);

		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			die_errno("cannot create '%s'", p);
		free(p);
	}
}

char *ws_path(const struct ws_repo *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&sb, "%s/", r->ws_dir);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);
}

/*
 * Read one shell single-quoted word at *p (git's sq_quote: ' becomes
 * '\''), appending it to out; stops at whitespace or '=' outside quotes.
 * Returns 0, or -1 when the text is not such a word.
 */
static int sq_dequote_word(const char **p, struct strbuf *out)
{
	const char *s = *p;

	if (*s != '\'')
		return -1;
	for (;;) {
		s++;
		while (*s && *s != '\'')
			strbuf_addch(out, *s++);
		if (*s != '\'')
			return -1;
		s++;
		if (s[0] == '\\' && s[1] == '\'' && s[2] == '\'') {
			strbuf_addch(out, '\'');
			s += 2;
			continue;
		}
		break;
	}
	*p = s;
	return 0;
}

/* 1 when config key `a` is `b`: section and name case-insensitively. */
static int same_key(const char *a, const char *b)
{
	const char *da = strchr(a, '.'), *la = strrchr(a, '.');
	const char *db = strchr(b, '.'), *lb = strrchr(b, '.');

	if (!da || !db || (da - a) != (db - b) || strncasecmp(a, b, da - a) ||
	    strcasecmp(la, lb))
		return 0;
	/* a subsection is case-sensitive */
	return (la - da) == (lb - db) && !strncmp(da, db, la - da);
}

/*
 * The value `git -c key=value` gave for `key` (git passes those to
 * commands in GIT_CONFIG_PARAMETERS, and `--config-env` or
 * GIT_CONFIG_COUNT in GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n>; libgit2 1.5
 * reads neither). The last one wins. Returns a new string or NULL.
 */
static char *command_line_config(const char *key)
{
	const char *params = getenv("GIT_CONFIG_PARAMETERS");
	const char *count = getenv("GIT_CONFIG_COUNT");
	char *ret = NULL;
	int n, i;

	while (params && *params) {
		struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
		int has_value = 0;

		while (*params == ' ')
			params++;
		if (!*params || sq_dequote_word(&params, &k) < 0) {
			strbuf_release(&k);
			break;
		}
		if (*params == '=') {
			params++;
			if (sq_dequote_word(&params, &v) < 0) {
				strbuf_release(&k);
				strbuf_release(&v);
				break;
			}
			has_value = 1;
		} else {
			char *eq = strchr(k.buf, '=');
			if (eq) {
				strbuf_addstr(&v, eq + 1);
				strbuf_setlen(&k, eq - k.buf);
				has_value = 1;
			}
		}
		if (same_key(k.buf, key)) {
			free(ret);
			ret = has_value ? xstrdup(v.buf) : xstrdup("true");
		}
		strbuf_release(&k);
		strbuf_release(&v);
	}
	if (count && !parse_nonneg_int(count, &n)) {
		for (i = 0; i < n; i++) {
			char name[64];
			const char *k, *v;

			snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%d", i);
			k = getenv(name);
			snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%d", i);
			v = getenv(name);
			if (k && v && same_key(k, key)) {
				free(ret);
				ret = xstrdup(v);
			}
		}
	}
	return ret;
}

char *ws_config_get(const struct ws_repo *r, const char *key)
{
	git_config *cfg = NULL, *snap = NULL;
	const char *v = NULL;
	char *ret = command_line_config(key);

	if (ret)
		return ret;
	if (git_repository_config(&cfg, r->repo) < 0)
		die_git("cannot read the git config");
	if (git_config_snapshot(&snap, cfg) < 0)
		die_git("cannot read the git config");
	if (!git_config_get_string(&v, snap, key))
		ret = xstrdup(v);
	git_config_free(snap);
	git_config_free(cfg);
	return ret;
}

int ws_config_get_int(const struct ws_repo *r, const char *key, int def)
{
	char *v = ws_config_get(r, key);
	int n;

	if (!v)
		return def;
	if (parse_nonneg_int(v, &n) < 0)
		die("bad config value '%s' for '%s': expected a non-negative integer",
		    v, key);
	free(v);
	return n;
}

long ws_lock_timeout_ms(const struct ws_repo *r)
{
	const char *env = getenv("GIT_WS_LOCK_TIMEOUT");
	int n;

	if (env && *env) {
		if (parse_nonneg_int(env, &n) < 0)
			die("bad GIT_WS_LOCK_TIMEOUT '%s': expected milliseconds", env);
		return n;
	}
	return ws_config_get_int(r, "ws.locktimeout", 10000);
}

int ws_branch_tip(const struct ws_repo *r, const char *branch, git_oid *oid)
{
	char *ref = xstrfmt("refs/heads/%s", branch);
	int err = git_reference_name_to_id(oid, r->repo, ref);

	free(ref);
	return err;
}

int ws_repo_has_no_commits(const struct ws_repo *r)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	int err;

	if (git_repository_head_unborn(r->repo) != 1)
		return 0;
	if (git_reference_iterator_new(&it, r->repo) < 0)
		return 0;
	err = git_reference_next(&ref, it);
	git_reference_free(ref);
	git_reference_iterator_free(it);
	return err == GIT_ITEROVER;
}

char *ws_current_branch(const struct ws_repo *r)
{
	git_reference *head = NULL;
	char *ret = NULL;
	const char *target;

	if (git_reference_lookup(&head, r->repo, "HEAD") < 0)
		return NULL;
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    (target = git_reference_symbolic_target(head)) &&
	    !strncmp(target, "refs/heads/", 11))
		ret = xstrdup(target + 11);
	git_reference_free(head);
	return ret;
}

long ws_commits_ahead(const struct ws_repo *r, const git_oid *branch_tip,
		      const git_oid *base_tip)
{
	size_t ahead = 0, behind = 0;

	if (git_oid_equal(branch_tip, base_tip))
		return 0;
	if (git_graph_ahead_behind(&ahead, &behind, r->repo, branch_tip, base_tip) < 0)
		return -1;
	return (long)ahead;
}

char *ws_oid_hex(const git_oid *oid, char *buf)
{
	return git_oid_tostr(buf, GIT_OID_HEXSZ + 1, oid);
}
