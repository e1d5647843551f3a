#include "compat.h"
#include "guard.h"
#include "usage.h"
#include "wrapper.h"

#define GUARD_HOOKS_REL "/../share/git-ws/hooks"

char *ws_guard_hooks_dir(void)
{
	char *exe = realpath("/proc/self/exe", NULL);
	char *slash, *rel, *dir = NULL, *hook = NULL;

	if (!exe)
		return NULL;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	rel = xstrfmt("%s%s", exe, GUARD_HOOKS_REL);
	dir = realpath(rel, NULL);
	if (dir) {
		hook = xstrfmt("%s/reference-transaction", dir);
		if (access(hook, X_OK))
			FREE_AND_NULL(dir);
	}
	free(hook);
	free(rel);
	free(exe);
	return dir;
}

/*
 * ws.guard: 1 unless git config says false. A value that is not a
 * boolean keeps the guard on, with a warning: it is read as each command
 * starts, when dying would leave the commands already started behind.
 */
static int guard_enabled(const struct ws_repo *r)
{
	static int warned;
	char *v = ws_config_get(r, "ws.guard");
	int on = 1;

	if (v && git_config_parse_bool(&on, v) < 0) {
		if (!warned++)
			warning("bad boolean config value '%s' for 'ws.guard': "
				"the base branch stays guarded", v);
		on = 1;
	}
	free(v);
	return on;
}

/* Whether our environment already has core.hooksPath=dir among its n pairs. */
static int has_pair(int n, const char *dir)
{
	int i;

	for (i = 0; i < n; i++) {
		char name[64];
		const char *k, *v;

		snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%d", i);
		k = getenv(name);
		snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%d", i);
		v = getenv(name);
		if (k && v && !strcasecmp(k, "core.hooksPath") && !strcmp(v, dir))
			return 1;
	}
	return 0;
}

void ws_guard_push_env(const struct ws_repo *r, struct strvec *env)
{
	static int warned;
	const char *count = getenv("GIT_CONFIG_COUNT");
	char *dir = NULL;
	int n = 0;

	if (!guard_enabled(r))
		return;
	if (count && *count && (parse_nonneg_int(count, &n) < 0 || n == INT_MAX)) {
		if (!warned++)
			warning("GIT_CONFIG_COUNT '%s' is not a number: the base "
				"branch is not guarded", count);
		return;
	}
	dir = ws_guard_hooks_dir();
	if (!dir) {
		if (!warned++) {
			warning("git-ws's hooks are not installed beside its "
				"binaries: the base branch is not guarded");
			advise("they belong in <prefix>/share/git-ws/hooks "
			       "('make install' puts them there)");
		}
		return;
	}
	if (!has_pair(n, dir)) {
		strvec_pushf(env, "GIT_CONFIG_KEY_%d=core.hooksPath", n);
		strvec_pushf(env, "GIT_CONFIG_VALUE_%d=%s", n, dir);
		strvec_pushf(env, "GIT_CONFIG_COUNT=%d", n + 1);
	}
	free(dir);
}
