#!/bin/sh

test_description='git ws-merge: dependency order, merge commits, state and archive'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

test_expect_success 'setup: a diamond ws-1 <- ws-2, ws-3 <- ws-4' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = demo
		base = main
		command = true
		test = test -f README
	[workstream "ws-1"]
		title = WebSocket Server
		contract = src/ws/api.h
	[workstream "ws-2"]
		title = Frontend Client
		depends = ws-1
	[workstream "ws-3"]
		title = Docs
		depends = ws-1
	[workstream "ws-4"]
		title = Integration tests
		depends = ws-2 ws-3
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work ws-1 src/ws/api.h &&
		work ws-2 client.c &&
		work ws-3 doc.txt &&
		work ws-4 it.sh &&
		mkdir -p .git/ws/reports &&
		printf "ws-1 on x: converged\nPASS  dispatch   ok\nPASS  clean      ok\nPASS  tests      PASS\nSKIP  todo       allowed\nNext: ...\n" >.git/ws/reports/ws-1 &&
		echo "{}" >.git/ws/coordination/ws-1.done
	)
'

test_expect_success '-h prints the usage on stdout' '
	git ws-merge -h >out &&
	grep "^usage: git ws-merge \[-n | --dry-run\] \[--batch\[=<n>\]\] \[--no-verify\] \[--push\[=<remote>\]\] \[--porcelain\] \[<id>...\]" out
'

test_expect_success 'the man page SYNOPSIS is the usage line; every option is documented' '
	git ws-merge -h >out &&
	sed -n -e "s/^usage: //p" -e "s/^ *or: //p" out >expect &&
	sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" "$WS_SOURCE_DIR/Documentation/git-ws-merge.adoc" |
		grep "^git ws-merge" >actual &&
	test_cmp expect actual &&
	for opt in --dry-run "--batch\[=<n>\]" --no-verify "--push\[=<remote>\]" --porcelain --final-test \
		--undo "--rollback-to <checkpoint>"
	do
		grep "^$opt::" "$WS_SOURCE_DIR/Documentation/git-ws-merge.adoc" || return 1
	done
'

test_expect_success 'an unknown option is a usage error' '
	(cd repo && test_expect_code 129 git ws-merge --frobnicate 2>../err) &&
	grep "^usage: " err
'

test_expect_success 'an empty queue: nothing to merge' '
	(cd repo && git ws-merge >../out) &&
	grep "queue is empty" out &&
	test "$(git -C repo rev-parse main)" = "$(git -C repo rev-parse main@{0})"
'

test_expect_success 'merging ws-1 alone makes ws-2 and ws-3 ready, ws-4 still waits' '
	(
		cd repo &&
		queue ws-1 &&
		git ws-merge >../out &&
		test "$(ws_state ws-1 status)" = merged &&
		test "$(ws_state ws-1 merge-oid)" = "$(git rev-parse main)" &&
		test "$(ws_state ws-2 status)" = ready &&
		test "$(ws_state ws-3 status)" = ready &&
		test "$(ws_state ws-4 status)" = blocked &&
		test "$(ws_state ws-4 reason)" = "waiting for ws-2, ws-3 to merge" &&
		test_must_fail git config -f .git/ws/queue --get-all queue.item
	) &&
	grep "^ws-1: merged into main as" out &&
	grep "Next: ws-2, ws-3 can now proceed" out
'

test_expect_success 'the merge commit: --no-ff, both parents, the message' '
	(
		cd repo &&
		test "$(git rev-parse main^1)" = "$(git rev-parse main~1)" &&
		test "$(git rev-parse main^1)" = "$(git rev-parse HEAD@{1})" &&
		test "$(git rev-parse main^2)" = "$(git rev-parse feature/ws-1-websocket-server)" &&
		git log -1 --format=%B main >../actual &&
		git log -1 --format="%an <%ae>|%cn <%ce>" main >../who
	) &&
	cat >expect <<-\EOF &&
	Merge ws-1: WebSocket Server

	Implements ws-1 of plan demo.
	Contracts: src/ws/api.h
	Dependencies: none
	Gates: 3 passed, 1 skipped (todo)
	Next: ws-2, ws-3 can now proceed

	EOF
	test_cmp expect actual &&
	echo "A U Thor <author@example.com>|C O Mitter <committer@example.com>" >expect &&
	test_cmp expect who
'

test_expect_success 'the base moved with a reflog entry, the main worktree followed' '
	(
		cd repo &&
		git reflog -1 --format=%gs main >../reflog &&
		test_path_is_file src/ws/api.h &&
		git status --porcelain >../st
	) &&
	echo "ws-merge: merge ws-1" >expect &&
	test_cmp expect reflog &&
	test_must_be_empty st
'

test_expect_success 'the done file, report and logs went to the archive' '
	(
		cd repo &&
		test_path_is_file .git/ws/archive/demo/coordination/ws-1.done &&
		test_path_is_file .git/ws/archive/demo/reports/ws-1 &&
		test_path_is_file .git/ws/archive/demo/logs/ws-1.merge.log &&
		test "$(git config -f .git/ws/archive/demo/state workstream.ws-1.status)" = merged &&
		test_path_is_missing .git/ws/coordination/ws-1.done &&
		test_path_is_missing .git/ws/reports/ws-1 &&
		test_path_is_missing .git/ws/logs/ws-1.merge.log &&
		test "$(ws_state ws-1 archive)" = "$(pwd)/.git/ws/archive/demo"
	)
'

test_expect_success '-n says what would merge and writes nothing' '
	(
		cd repo &&
		queue ws-4 ws-3 ws-2 &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../before &&
		git rev-parse main >../main.before &&
		git ws-merge -n >../out &&
		git ws-merge -n --porcelain >../porcelain &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../after &&
		git rev-parse main >../main.after &&
		git status --porcelain >../st
	) &&
	test_cmp before after &&
	test_cmp main.before main.after &&
	test_must_be_empty st &&
	cat >expect <<-\EOF &&
	ws-3: would merge cleanly into main
	ws-2: would merge cleanly into main
	ws-4: would merge cleanly into main
	EOF
	test_cmp expect out &&
	cut -f1,2 porcelain >actual &&
	printf "merged\tws-3\nmerged\tws-2\nmerged\tws-4\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'dependencies first, then queue order; one merge per workstream' '
	(
		cd repo &&
		git ws-merge --porcelain >../porcelain &&
		git log --first-parent --format=%s main >../log &&
		test "$(ws_state ws-4 status)" = merged &&
		test "$(ws_state ws-4 merge-oid)" = "$(git rev-parse main)" &&
		test_path_is_file it.sh &&
		test_path_is_file doc.txt &&
		test_path_is_file client.c
	) &&
	cat >expect <<-\EOF &&
	Merge ws-4: Integration tests
	Merge ws-2: Frontend Client
	Merge ws-3: Docs
	Merge ws-1: WebSocket Server
	initial
	EOF
	test_cmp expect log &&
	cut -f1,2,4 porcelain >actual &&
	printf "merged\tws-3\t\nmerged\tws-2\tws-4\nmerged\tws-4\t\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the message names dependencies with their merges, and what comes next' '
	(
		cd repo &&
		git log -1 --format=%B main >../actual &&
		echo "Dependencies: ws-2 (merged as $(git rev-parse --short=7 main^1)), ws-3 (merged as $(git rev-parse --short=7 main~2))" >../expect.deps
	) &&
	grep "^Dependencies: " actual >deps &&
	test_cmp expect.deps deps &&
	grep "^Next: nothing waits for this$" actual &&
	grep "^Gates: no convergence report$" actual
'

test_expect_success 'a branch already in the base: merged, no empty merge commit' '
	(
		cd repo &&
		git rev-parse main >../before &&
		queue ws-3 &&
		git ws-merge >../out &&
		git rev-parse main >../after &&
		test "$(ws_state ws-3 status)" = merged &&
		test "$(ws_state ws-3 merge-oid)" = "$(git rev-parse main)"
	) &&
	test_cmp before after &&
	grep "^ws-3: already in main at .*, nothing to merge" out
'

test_expect_success 'an id that is not queued is refused (exit 1)' '
	(cd repo && test_expect_code 1 git ws-merge ws-2 2>../err) &&
	grep "not in the merge queue (status: merged)" err
'

test_expect_success 'an unknown id is fatal' '
	(cd repo && test_expect_code 128 git ws-merge ws-9 2>../err) &&
	grep "not a workstream of plan" err
'

test_done
