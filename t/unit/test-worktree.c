/*
 * Unit tests for common/worktree.c and common/recover.c, on a repository
 * made with git in a temporary directory: the listing, finding by
 * branch, the status of a worktree, add and remove, and ws_recover().
 */
#include "compat.h"
#include "recover.h"
#include "usage.h"
#include "worktree.h"
#include "wrapper.h"
#include <setjmp.h>
#include <cmocka.h>

static char *top;       /* the temporary directory */
static char *main_wt;   /* top/main: the main worktree */
static struct ws_repo repo;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	struct strbuf cmd = STRBUF_INIT;
	va_list ap;

	strbuf_addf(&cmd, "cd '%s' && (", main_wt);
	va_start(ap, fmt);
	strbuf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	strbuf_addstr(&cmd, ") >/dev/null 2>&1");
	assert_int_equal(system(cmd.buf), 0);
	strbuf_release(&cmd);
}

static char *at(const char *name)
{
	return xstrfmt("%s/%s", top, name);
}

static int setup(void **unused)
{
	char tmpl[] = "/tmp/ws-worktree-XXXXXX";
	char *cwd;

	git_libgit2_init();
	top = xstrdup(mkdtemp(tmpl));
	main_wt = at("main");
	setenv("GIT_AUTHOR_NAME", "A", 1);
	setenv("GIT_AUTHOR_EMAIL", "a@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "A", 1);
	setenv("GIT_COMMITTER_EMAIL", "a@example.com", 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	mkdir(main_wt, 0777);
	sh("git init -q -b main . && echo a >a && git add a && git commit -q -m one");
	cwd = getcwd(NULL, 0);
	assert_int_equal(chdir(main_wt), 0);
	ws_repo_open(&repo);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	return 0;
}

static int teardown(void **unused)
{
	char *cmd = xstrfmt("rm -rf '%s'", top);

	ws_repo_close(&repo);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(main_wt);
	free(top);
	return 0;
}

static void add_branch_worktree(const char *name, const char *branch)
{
	struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;
	char *path = at(name);

	add.path = path;
	add.new_branch = branch;
	add.commit = "main";
	assert_int_equal(ws_worktree_add(&repo, &add), 0);
	free(path);
}

static void test_list_and_find(void **unused)
{
	struct ws_worktree **list;
	struct ws_worktree *wt;
	char *path = at("wt-a");
	size_t pos = 0, n;

	add_branch_worktree("wt-a", "a");
	list = ws_worktrees_get(&repo);
	assert_non_null(list[0]);
	assert_true(list[0]->is_main);
	assert_string_equal(list[0]->head_ref, "refs/heads/main");
	assert_true(list[0]->has_head_oid);
	for (n = 0; list[n]; n++)
		;
	assert_int_equal(n, 2);

	wt = ws_worktree_find_path(list, path);
	assert_non_null(wt);
	assert_string_equal(wt->id, "wt-a");
	assert_string_equal(wt->head_ref, "refs/heads/a");
	assert_null(wt->lock_reason);
	assert_false(wt->is_detached);
	assert_ptr_equal(ws_worktree_find_id(list, "wt-a"), wt);
	assert_ptr_equal(ws_worktree_find_by_dotgit(list, path), wt);

	assert_ptr_equal(ws_worktree_find_branch(list, "a", &pos), wt);
	assert_null(ws_worktree_find_branch(list, "a", &pos));
	pos = 0;
	assert_ptr_equal(ws_worktree_find_branch(list, "main", &pos), list[0]);
	pos = 0;
	assert_null(ws_worktree_find_branch(list, "ma", &pos));
	ws_worktrees_free(list);

	sh("git worktree lock --reason testing '%s'", path);
	list = ws_worktrees_get(&repo);
	assert_string_equal(ws_worktree_find_path(list, path)->lock_reason, "testing");
	ws_worktrees_free(list);
	sh("git worktree unlock '%s'", path);
	free(path);
}

/* A broken worktrees/ entry (no gitdir) is listed and checks nothing out. */
static void test_broken_entry(void **unused)
{
	struct ws_worktree **list;
	struct strvec out = STRVEC_INIT;
	size_t pos = 0;

	sh("mkdir -p .git/worktrees/broken && echo 'ref: refs/heads/main' >.git/worktrees/broken/HEAD");
	list = ws_worktrees_get(&repo);
	assert_non_null(ws_worktree_find_id(list, "broken"));
	assert_null(ws_worktree_find_id(list, "broken")->path);
	assert_ptr_equal(ws_worktree_find_branch(list, "main", &pos), list[0]);
	assert_null(ws_worktree_find_branch(list, "main", &pos));
	ws_worktrees_free(list);
	ws_branch_worktrees(&repo, "main", &out);
	assert_int_equal(out.nr, 1);
	strvec_clear(&out);
	sh("rm -rf .git/worktrees/broken");
}

static void test_status(void **unused)
{
	struct ws_worktree_status_opts opts = WS_WORKTREE_STATUS_OPTS_INIT;
	struct strvec paths = STRVEC_INIT;
	char *path = at("wt-s"), *gone = at("nowhere");

	add_branch_worktree("wt-s", "s");
	assert_int_equal(ws_worktree_status(&repo, path, NULL), WS_WT_CLEAN);
	assert_int_equal(ws_worktree_status(&repo, gone, NULL), WS_WT_MISSING);
	sh("echo b >'%s/b'", path);
	opts.paths = &paths;
	opts.max_paths = 10;
	assert_int_equal(ws_worktree_status(&repo, path, &opts), WS_WT_DIRTY);
	assert_int_equal(opts.nr_changes, 1);
	assert_int_equal(paths.nr, 1);
	assert_string_equal(paths.v[0], "b");
	assert_string_equal(ws_worktree_state_name(WS_WT_DIRTY), "dirty");

	/* a removal recorded, killed after git deleted the .git file */
	opts = (struct ws_worktree_status_opts)WS_WORKTREE_STATUS_OPTS_INIT;
	opts.removing_admin = "wt-s";
	sh("rm '%s/b' '%s/.git'", path, path);
	assert_int_equal(ws_worktree_status(&repo, path, NULL), WS_WT_BROKEN);
	assert_int_equal(ws_worktree_status(&repo, path, &opts), WS_WT_HALF_REMOVED);

	/* a `git worktree add` killed: its admin directory still locked */
	sh("mkdir '%s/half' && mkdir -p .git/worktrees/half && echo initializing >.git/worktrees/half/locked", top);
	free(gone);
	gone = at("half");
	assert_int_equal(ws_worktree_status(&repo, gone, NULL), WS_WT_HALF_MADE);
	sh("rm -rf '%s' .git/worktrees/half '%s' && git worktree prune", gone, path);
	strvec_clear(&paths);
	free(gone);
	free(path);
}

static void test_add_detached_remove(void **unused)
{
	struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;
	struct ws_worktree **list;
	struct strbuf err = STRBUF_INIT;
	char *path = at("scratch");
	git_oid head;

	add.path = path;
	add.commit = "main";
	assert_int_equal(ws_worktree_add(&repo, &add), 0);
	list = ws_worktrees_get(&repo);
	assert_true(ws_worktree_find_path(list, path)->is_detached);
	assert_true(ws_worktree_find_path(list, path)->has_head_oid);
	ws_worktrees_free(list);
	assert_null(ws_worktree_branch_at(path));
	assert_int_equal(ws_worktree_head_at(path, &head), 0);

	sh("echo x >'%s/a'", path);
	assert_int_equal(ws_worktree_remove(&repo, path, 0, -1, &err),
			 WS_WT_REMOVE_FAILED);
	assert_true(err.len > 0);
	assert_int_equal(ws_worktree_remove(&repo, path, 1, -1, NULL), WS_WT_REMOVED);
	assert_false(path_exists(path));
	strbuf_release(&err);
	free(path);
}

static void test_populate_and_recreate(void **unused)
{
	struct ws_worktree_add add = WS_WORKTREE_ADD_INIT;
	char *path = at("wt-p"), *file = at("wt-p/a");
	const char *paths[] = { path };
	int failed[1] = { 0 };

	add.path = path;
	add.new_branch = "p";
	add.commit = "main";
	add.no_checkout = 1;
	assert_int_equal(ws_worktree_add(&repo, &add), 0);
	assert_false(path_exists(file));
	assert_int_equal(ws_worktrees_populate(paths, 1, failed), 0);
	assert_true(path_exists(file));

	/* removed by hand, made again from its branch */
	sh("rm -rf '%s'", path);
	assert_int_equal(ws_worktree_status(&repo, path, NULL), WS_WT_MISSING);
	assert_int_equal(ws_worktree_recreate(&repo, path, "p", -1), 0);
	assert_int_equal(ws_worktree_status(&repo, path, NULL), WS_WT_CLEAN);
	free(ws_worktree_branch_at(path));

	/* moved by hand: found by its .git file, repaired by git */
	sh("mv '%s' '%s/moved'", path, top);
	free(file);
	file = at("moved");
	assert_int_equal(ws_worktree_repair(&repo, file, -1), 0);
	{
		struct ws_worktree **list = ws_worktrees_get(&repo);

		assert_non_null(ws_worktree_find_path(list, file));
		ws_worktrees_free(list);
	}
	assert_int_equal(ws_worktree_remove(&repo, file, 0, -1, NULL), WS_WT_REMOVED);
	free(file);
	free(path);
}

static int repair_calls;
static int count_repair(struct ws_recover *rc, const struct ws_intent *in)
{
	repair_calls++;
	assert_string_equal(in->from, "1111111111111111111111111111111111111111");
	assert_int_equal(in->worktrees.nr, 2);
	return 1;
}

static void test_intents(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_intent in = WS_INTENT_INIT, *list;
	size_t nr;

	in.kind = WS_INTENT_FOLLOW;
	in.id = "ws-1";
	in.from = "1111111111111111111111111111111111111111";
	in.to = "2222222222222222222222222222222222222222";
	strvec_push(&in.worktrees, "/a");
	strvec_push(&in.worktrees, "/b");
	ws_intent_record(&st, &in);
	strvec_clear(&in.worktrees);
	in = (struct ws_intent)WS_INTENT_INIT;
	in.kind = WS_INTENT_START;
	in.id = "ws-2";
	in.pid = 12345;
	ws_intent_record(&st, &in);

	assert_string_equal(ws_state_get(&st, "ws-1", "follow-to"),
			    "2222222222222222222222222222222222222222");
	assert_string_equal(ws_state_get(&st, "ws-2", "reason"), "queued");
	assert_true(ws_intent_exists(&st, "ws-1", WS_INTENT_FOLLOW));
	assert_false(ws_intent_exists(&st, "ws-1", WS_INTENT_REMOVE));
	nr = ws_intents_get(&st, &list);
	assert_int_equal(nr, 2);
	assert_int_equal(list[0].kind, WS_INTENT_FOLLOW);
	assert_int_equal(list[1].kind, WS_INTENT_START);
	assert_int_equal(list[1].pid, 12345);
	ws_intents_free(list, nr);

	ws_intent_clear(&st, "ws-2", WS_INTENT_START);
	assert_null(ws_state_get(&st, "ws-2", "reason"));

	/* an undo: undo-from and undo-to, read back and cleared */
	in = (struct ws_intent)WS_INTENT_INIT;
	in.kind = WS_INTENT_UNDO;
	in.id = "ws-3";
	in.from = "3333333333333333333333333333333333333333";
	in.to = "4444444444444444444444444444444444444444";
	ws_intent_record(&st, &in);
	assert_string_equal(ws_state_get(&st, "ws-3", "undo-from"), in.from);
	assert_true(ws_intent_exists(&st, "ws-3", WS_INTENT_UNDO));
	assert_false(ws_intent_exists(&st, "ws-3", WS_INTENT_FOLLOW));
	nr = ws_intents_get(&st, &list);
	assert_int_equal(nr, 2);
	assert_int_equal(list[1].kind, WS_INTENT_UNDO);
	assert_string_equal(list[1].to, "4444444444444444444444444444444444444444");
	ws_intents_free(list, nr);
	ws_intent_clear(&st, "ws-3", WS_INTENT_UNDO);
	assert_null(ws_state_get(&st, "ws-3", "undo-from"));
	assert_null(ws_state_get(&st, "ws-3", "undo-to"));
	assert_false(ws_intent_exists(&st, "ws-3", WS_INTENT_UNDO));
	ws_state_release(&st);
}

static void test_recover_dispatch(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_recover rc = WS_RECOVER_INIT;
	struct ws_intent in = WS_INTENT_INIT;
	char *path = at("wt-r");
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;

	/* an allocation killed after its `git worktree add` */
	assert_int_equal(ws_branch_tip(&repo, "main", &oid), 0);
	ws_oid_hex(&oid, hex);
	in.kind = WS_INTENT_ALLOCATE;
	in.id = "ws-r";
	in.role = WS_ALLOCATING_OWNER;
	ws_intent_record(&st, &in);
	ws_state_set(&st, "ws-r", WS_KEY_WORKTREE, path);
	ws_state_set(&st, "ws-r", WS_KEY_BRANCH, "r");
	ws_state_set(&st, "ws-r", WS_KEY_BASE_OID, hex);
	add_branch_worktree("wt-r", "r");
	/* and a follow, which only the caller's repair handles */
	in = (struct ws_intent)WS_INTENT_INIT;
	in.kind = WS_INTENT_FOLLOW;
	in.id = "ws-f";
	in.from = "1111111111111111111111111111111111111111";
	in.to = "2222222222222222222222222222222222222222";
	strvec_push(&in.worktrees, "/a");
	strvec_push(&in.worktrees, "/b");
	ws_intent_record(&st, &in);
	strvec_clear(&in.worktrees);

	rc.repo = &repo;
	rc.st = &st;
	rc.kinds = 1u << WS_INTENT_ALLOCATE;
	assert_int_equal(ws_recover(&rc), 0);
	assert_int_equal(rc.changed, 1);
	assert_null(ws_state_find(&st, "ws-r"));
	assert_false(path_exists(path));
	assert_int_not_equal(ws_branch_tip(&repo, "r", &oid), 0);
	assert_true(ws_intent_exists(&st, "ws-f", WS_INTENT_FOLLOW));

	rc.kinds = WS_INTENT_ALL & ~(1u << WS_INTENT_START);
	rc.repair[WS_INTENT_FOLLOW] = count_repair;
	rc.changed = 0;
	assert_int_equal(ws_recover(&rc), 0);
	assert_int_equal(repair_calls, 1);
	assert_false(ws_intent_exists(&st, "ws-f", WS_INTENT_FOLLOW));
	ws_state_release(&st);
	free(path);
}

/* A removal killed half way is finished when nothing in it changed. */
static void test_recover_remove(void **unused)
{
	struct ws_state st = WS_STATE_INIT;
	struct ws_recover rc = WS_RECOVER_INIT;
	struct ws_intent in = WS_INTENT_INIT;
	char *path = at("wt-x");
	char hex[GIT_OID_HEXSZ + 1];
	git_oid oid;

	add_branch_worktree("wt-x", "x");
	assert_int_equal(ws_branch_tip(&repo, "x", &oid), 0);
	in.kind = WS_INTENT_REMOVE;
	in.id = "ws-x";
	in.worktree = path;
	in.admin = "wt-x";
	in.head = ws_oid_hex(&oid, hex);
	ws_intent_record(&st, &in);
	sh("rm '%s/a' '%s/.git'", path, path);

	rc.repo = &repo;
	rc.st = &st;
	rc.kinds = 1u << WS_INTENT_REMOVE;
	assert_int_equal(ws_recover(&rc), 0);
	assert_int_equal(rc.changed, 1);
	assert_false(path_exists(path));
	assert_false(ws_intent_exists(&st, "ws-x", WS_INTENT_REMOVE));
	ws_state_release(&st);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_and_find),
		cmocka_unit_test(test_broken_entry),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_add_detached_remove),
		cmocka_unit_test(test_populate_and_recreate),
		cmocka_unit_test(test_intents),
		cmocka_unit_test(test_recover_dispatch),
		cmocka_unit_test(test_recover_remove),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
