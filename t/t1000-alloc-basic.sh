#!/bin/sh

test_description='git ws-alloc: allocation of a valid plan'

. ./lib-ws.sh

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF
	[plan]
		name = demo   ; a comment
		base = main
		command = true
	[workstream "ws-1"]
		title = WebSocket Server
		paths = src/websocket/*
	[workstream "ws-2"]
		title = Frontend Client
		depends = ws-1
	[workstream "ws-3"]
		title = Integration tests
		depends = ws-1, ws-2
		worktree = ws-1
	EOF
'

test_expect_success '-h prints the usage on stdout and exits 0' '
	git ws-alloc -h >out &&
	grep "^usage: git ws-alloc" out
'

test_expect_success 'an unknown option is a usage error (129)' '
	test_expect_code 129 git ws-alloc --frobnicate plan 2>err &&
	grep "unknown option" err &&
	grep "^usage: " err
'

test_expect_success 'no plan argument is a usage error' '
	(cd repo && test_expect_code 129 git ws-alloc)
'

test_expect_success 'alloc creates real worktrees and branches' '
	(cd repo && git ws-alloc ../plan >../out) &&
	test_path_is_dir repo-ws-1 &&
	test_path_is_dir repo-ws-2 &&
	test_path_is_missing repo-ws-3 &&
	(cd repo && git worktree list --porcelain >../list) &&
	grep "^worktree .*/repo-ws-1$" list &&
	grep "^branch refs/heads/feature/ws-1-websocket-server$" list &&
	grep "^branch refs/heads/feature/ws-2-frontend-client$" list &&
	(cd repo-ws-1 && git status --porcelain >../st && test_must_be_empty ../st) &&
	test "$(cd repo-ws-1 && git rev-parse HEAD)" = "$(cd repo && git rev-parse main)"
'

test_expect_success 'alloc records the state, readable with git config -f' '
	(
		cd repo &&
		test "$(ws_state ws-1 status)" = ready &&
		test "$(ws_state ws-2 status)" = blocked &&
		test "$(ws_state ws-2 reason)" = "waiting for ws-1 to merge" &&
		test "$(ws_state ws-3 worktree)" = "$(ws_state ws-1 worktree)" &&
		test "$(ws_state ws-3 branch)" = feature/ws-1-websocket-server &&
		test "$(ws_state ws-1 base-oid)" = "$(git rev-parse main)" &&
		git config -f .git/ws/plan plan.name >name &&
		echo demo >expect &&
		test_cmp expect name
	)
'

test_expect_success 'the shared worktree is reported with its reason' '
	grep "ws-3 .*shares ws-1.s worktree" out
'

test_expect_success 'alloc again changes nothing and says so' '
	cp repo/.git/ws/state state.before &&
	(cd repo && git ws-alloc ../plan >../out2) &&
	grep "already allocated; nothing to do" out2 &&
	test_cmp state.before repo/.git/ws/state
'

test_expect_success 'state is visible from inside a worktree and a subdirectory' '
	mkdir -p repo-ws-2/sub &&
	(cd repo-ws-2/sub && test "$(ws_state ws-1 status)" = ready) &&
	(cd repo-ws-2/sub && git ws-alloc ../../plan >../../out3) &&
	grep "nothing to do" out3
'

test_expect_success 'git worktree remove removes an allocated worktree' '
	git -C repo worktree add -q ../scratch &&
	git -C repo worktree remove ../scratch &&
	test_path_is_missing scratch
'

test_expect_success 'the post-checkout hook runs in each new worktree, as with git worktree add' '
	setup_repo hooked &&
	write_script hooked/.git/hooks/post-checkout <<-\EOF &&
	echo "$1 $2 $3" >>"$(git rev-parse --git-common-dir)/../../hook.log"
	EOF
	(cd hooked && git ws-alloc ../plan >/dev/null) &&
	test_line_count = 2 hook.log &&
	base=$(git -C hooked rev-parse main) &&
	echo "0000000000000000000000000000000000000000 $base 1" >expect &&
	sort -u hook.log >actual &&
	test_cmp expect actual
'

test_expect_success 'a command cut short by a comment character is warned about' '
	setup_repo cut &&
	cat >cut.plan <<-\EOF &&
	[plan]
		test = make a;make b
		command = "echo a;echo b"
	[workstream "w"]
		title = W
	EOF
	(cd cut && git ws-alloc -n ../cut.plan 2>../err >/dev/null) &&
	grep "^warning: ../cut.plan:2: .*.test. is only .make a.; quote" err &&
	! grep ":3:" err
'

test_expect_success 'a title in Latin letters with diacritics keeps its letters in the branch' '
	setup_repo latin &&
	cat >latin.plan <<-\EOF &&
	[workstream "u"]
		title = Ünïcödé Straße
	EOF
	(cd latin && git ws-alloc ../latin.plan >/dev/null &&
	 git rev-parse --verify -q refs/heads/feature/u-unicode-strasse)
'

test_done
