/*
 * Unit tests of common/mergetree.c: ws_merge_compute() against small
 * repositories made with git in a temporary directory.
 */
#include "compat.h"
#include <setjmp.h>
#include <cmocka.h>
#include "mergetree.h"
#include "strbuf.h"
#include "wrapper.h"

static char tmpdir[] = "/tmp/ws-mergetree-XXXXXX";
static struct ws_repo repo = WS_REPO_INIT;

/* Run a shell script in the test repository; fail the test if it fails. */
static void sh(const char *script)
{
	char *cmd = xstrfmt("cd '%s/r' && ( %s ) >/dev/null 2>&1", tmpdir, script);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void rev(const char *name, git_oid *oid)
{
	git_object *obj = NULL;

	assert_int_equal(git_revparse_single(&obj, repo.repo, name), 0);
	git_oid_cpy(oid, git_object_id(obj));
	git_object_free(obj);
}

/* The blob id of `path` in tree `tree`, or all-zero when absent. */
static void blob_at(const git_oid *tree_oid, const char *path, git_oid *out)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;

	memset(out, 0, sizeof(*out));
	assert_int_equal(git_tree_lookup(&tree, repo.repo, tree_oid), 0);
	if (!git_tree_entry_bypath(&e, tree, path))
		git_oid_cpy(out, git_tree_entry_id(e));
	git_tree_entry_free(e);
	git_tree_free(tree);
}

static int setup(void **state)
{
	char *cmd;

	assert_non_null(mkdtemp(tmpdir));
	cmd = xstrfmt("cd '%s' && git init -q -b main r && cd r && "
		      "mkdir d && echo a >d/x && printf '1\\n' >f && "
		      "echo k >keep && echo c >contract && git add . && "
		      "git commit -qm init && "
		      "git checkout -qb side && printf '2\\n' >f && "
		      "echo theirs >contract && echo s >g && git add . && "
		      "git commit -qm side && "
		      "git checkout -qb renamer main && git mv d e && git commit -qm mv && "
		      "git checkout -qb adder main && echo y >d/y && git add d/y && git commit -qm add && "
		      "git checkout -qb deleter main && git rm -q keep contract && git commit -qm del && "
		      "git checkout -qb modder main && echo k2 >keep && echo m >contract && git commit -qam mod && "
		      "git checkout -q main && printf '3\\n' >f && "
		      "echo ours >contract && git commit -qam main >/dev/null 2>&1",
		      tmpdir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cmd = xstrfmt("%s/r", tmpdir);
	assert_int_equal(git_repository_open(&repo.repo, cmd), 0);
	free(cmd);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xstrfmt("rm -rf '%s'", tmpdir);

	git_repository_free(repo.repo);
	repo.repo = NULL;
	if (system(cmd))
		return -1;
	free(cmd);
	return 0;
}

static void test_clean(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	git_oid a, b, blob, expect;

	rev("main", &a);
	rev("adder", &b);
	assert_int_equal(ws_merge_compute(&repo, &a, &b, NULL, NULL, &res), 0);
	assert_int_equal(res.clean, 1);
	assert_int_equal(res.conflicts.nr, 0);
	blob_at(&res.tree, "d/y", &blob);
	rev("adder:d/y", &expect);
	assert_true(git_oid_equal(&blob, &expect));
	blob_at(&res.tree, "f", &blob);
	rev("main:f", &expect);
	assert_true(git_oid_equal(&blob, &expect));
	ws_merge_result_release(&res);
}

static void test_conflict(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	git_oid a, b;

	rev("main", &a);
	rev("side", &b);
	assert_int_equal(ws_merge_compute(&repo, &a, &b, NULL, NULL, &res), 0);
	assert_int_equal(res.clean, 0);
	assert_int_equal(res.conflicts.nr, 2);
	assert_string_equal(res.conflicts.v[0], "contract");
	assert_string_equal(res.conflicts.v[1], "f");
	assert_int_equal(res.resolved.nr, 0);
	assert_non_null(strstr(res.messages.buf, "CONFLICT (content): Merge conflict in f"));
	ws_merge_result_release(&res);
}

static void test_owners(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	struct strvec theirs = STRVEC_INIT, ours = STRVEC_INIT;
	git_oid a, b, blob, expect;

	rev("main", &a);
	rev("side", &b);
	strvec_push(&theirs, "contr*");
	/* only one path resolved: still a conflict in f */
	assert_int_equal(ws_merge_compute(&repo, &a, &b, &theirs, NULL, &res), 0);
	assert_int_equal(res.clean, 0);
	assert_int_equal(res.conflicts.nr, 1);
	assert_string_equal(res.conflicts.v[0], "f");
	assert_int_equal(res.resolved.nr, 1);
	assert_string_equal(res.resolved.v[0], "contract");
	ws_merge_result_release(&res);

	/* theirs owns the contract, ours owns f: clean, each owner's version */
	strvec_push(&ours, "f");
	assert_int_equal(ws_merge_compute(&repo, &a, &b, &theirs, &ours, &res), 0);
	assert_int_equal(res.clean, 1);
	assert_int_equal(res.conflicts.nr, 0);
	assert_int_equal(res.resolved.nr, 2);
	blob_at(&res.tree, "contract", &blob);
	rev("side:contract", &expect);
	assert_true(git_oid_equal(&blob, &expect));
	blob_at(&res.tree, "f", &blob);
	rev("main:f", &expect);
	assert_true(git_oid_equal(&blob, &expect));
	blob_at(&res.tree, "g", &blob);
	rev("side:g", &expect);
	assert_true(git_oid_equal(&blob, &expect));
	ws_merge_result_release(&res);
	strvec_clear(&theirs);
	strvec_clear(&ours);
}

static void test_owner_deleted(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	struct strvec theirs = STRVEC_INIT;
	git_oid a, b, blob, zero;

	/* modder modified keep and contract; deleter (theirs) deleted them */
	memset(&zero, 0, sizeof(zero));
	rev("modder", &a);
	rev("deleter", &b);
	assert_int_equal(ws_merge_compute(&repo, &a, &b, NULL, NULL, &res), 0);
	assert_int_equal(res.clean, 0);
	assert_int_equal(res.conflicts.nr, 2);
	ws_merge_result_release(&res);

	strvec_push(&theirs, "contract");
	strvec_push(&theirs, "keep");
	assert_int_equal(ws_merge_compute(&repo, &a, &b, &theirs, NULL, &res), 0);
	assert_int_equal(res.clean, 1);
	blob_at(&res.tree, "contract", &blob);
	assert_true(git_oid_equal(&blob, &zero));
	blob_at(&res.tree, "keep", &blob);
	assert_true(git_oid_equal(&blob, &zero));
	ws_merge_result_release(&res);
	strvec_clear(&theirs);
}

static void test_directory_rename(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	git_oid a, b;

	/* d/ renamed to e/ on one side, d/y added on the other: ort conflicts */
	rev("renamer", &a);
	rev("adder", &b);
	assert_int_equal(ws_merge_compute(&repo, &a, &b, NULL, NULL, &res), 0);
	assert_int_equal(res.clean, 0);
	assert_int_equal(res.conflicts.nr, 1);
	assert_string_equal(res.conflicts.v[0], "e/y");
	assert_non_null(strstr(res.messages.buf, "CONFLICT (file location)"));
	ws_merge_result_release(&res);
}

static void test_error(void **state)
{
	struct ws_merge_result res = WS_MERGE_RESULT_INIT;
	git_oid a, b;

	/* an unrelated history is an error, not a conflict */
	sh("git checkout -q --orphan lone && git commit -qm lone && git checkout -q main");
	rev("main", &a);
	rev("lone", &b);
	assert_int_equal(ws_merge_compute(&repo, &a, &b, NULL, NULL, &res), -1);
	assert_int_equal(res.clean, 0);
	ws_merge_result_release(&res);
}

/* The batch gives each pair exactly what ws_merge_compute() gives it. */
static void test_many(void **state)
{
	static const char *const pairs[][2] = {
		{ "main", "adder" }, { "main", "side" }, { "main", "side" },
		{ "modder", "deleter" }, { "renamer", "adder" }, { "main", "main" },
	};
	enum { N = ARRAY_SIZE(pairs) };
	git_oid ours[N], theirs[N];
	struct ws_merge_result many[N], one = WS_MERGE_RESULT_INIT;
	struct strvec contract = STRVEC_INIT, fowner = STRVEC_INIT;
	const struct strvec *theirs_owns[N] = { NULL }, *ours_owns[N] = { NULL };
	size_t k, m;

	strvec_push(&contract, "contract");
	strvec_push(&fowner, "f");
	theirs_owns[2] = &contract; /* pair 2: resolved by ownership */
	ours_owns[2] = &fowner;
	for (k = 0; k < N; k++) {
		struct ws_merge_result init = WS_MERGE_RESULT_INIT;

		many[k] = init;
		rev(pairs[k][0], &ours[k]);
		rev(pairs[k][1], &theirs[k]);
	}
	assert_int_equal(ws_merge_compute_many(&repo, N, ours, theirs,
					       theirs_owns, ours_owns, many), 0);
	for (k = 0; k < N; k++) {
		assert_int_equal(ws_merge_compute(&repo, &ours[k], &theirs[k],
						  theirs_owns[k], ours_owns[k],
						  &one), 0);
		assert_int_equal(many[k].clean, one.clean);
		if (one.clean)
			assert_true(git_oid_equal(&many[k].tree, &one.tree));
		assert_int_equal(many[k].conflicts.nr, one.conflicts.nr);
		for (m = 0; m < one.conflicts.nr; m++)
			assert_string_equal(many[k].conflicts.v[m], one.conflicts.v[m]);
		assert_int_equal(many[k].resolved.nr, one.resolved.nr);
		assert_string_equal(many[k].messages.buf, one.messages.buf);
		ws_merge_result_release(&one);
		ws_merge_result_release(&many[k]);
	}
	assert_int_equal(many[0].clean, 0); /* released */

	/* one impossible merge (lone: made by test_error) fails the batch */
	rev("main", &ours[1]);
	rev("lone", &theirs[1]);
	assert_int_equal(ws_merge_compute_many(&repo, 3, ours, theirs, NULL,
					       NULL, many), -1);
	strvec_clear(&contract);
	strvec_clear(&fowner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_owner_deleted),
		cmocka_unit_test(test_directory_rename),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_many),
	};
	int ret;

	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "A U Thor", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "C O Mitter", 1);
	setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	git_libgit2_init();
	ret = cmocka_run_group_tests(tests, setup, teardown);
	git_libgit2_shutdown();
	return ret;
}
