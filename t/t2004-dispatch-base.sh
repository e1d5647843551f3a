#!/bin/sh

test_description='git ws-dispatch: a first dispatch starts from the current base'

. ./lib-ws.sh

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	# ws-1 builds a library and commits it
	write_script bin/make-lib <<-\EOF &&
	echo "lib v1" >lib.txt &&
	git add lib.txt &&
	git commit -q -m "ws-1: the library"
	EOF
	# the others record what they find
	write_script bin/look <<-\EOF &&
	{
		echo "report=$WS_REPORT"
		test -f lib.txt && echo "lib=$(cat lib.txt)"
		test -n "$WS_REPORT" && cat "$WS_REPORT"
	} >"$WS_ID.seen"
	exit 0
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = base
		base = main
		command = look
	[workstream "ws-1"]
		title = Library
		command = make-lib
	[workstream "ws-2"]
		title = Uses the library
		depends = ws-1
	[workstream "ws-3"]
		title = Conflicting
	[workstream "ws-4"]
		title = Clean merge
	[workstream "ws-5"]
		title = Dirty worktree
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success 'a workstream dispatched after its dependency merged finds its files' '
	(
		cd repo &&
		git ws-dispatch ws-1 >/dev/null 2>&1 &&
		test "$(ws_state ws-1 status)" = done &&
		# what git ws-merge would do
		git merge -q --no-ff --no-edit "$(ws_state ws-1 branch)" &&
		ws_set_state ws-1 status merged &&
		ws_set_state ws-2 status ready &&
		git ws-dispatch ws-2 >/dev/null 2>&1 &&
		test "$(ws_state ws-2 status)" = done &&
		# fast-forwarded: its branch is the base now
		test "$(git rev-parse "$(ws_state ws-2 branch)")" = "$(git rev-parse main)"
	) &&
	cat >expect <<-\EOF &&
	report=
	lib=lib v1
	EOF
	test_cmp expect repo-ws-2/ws-2.seen &&
	(cd repo-ws-2 && git status --porcelain --untracked-files=no >../st) &&
	test_must_be_empty st
'

test_expect_success 'a branch with its own commits gets the base merged in when clean' '
	(
		cd repo-ws-4 &&
		test_commit own-work own.txt &&
		git rev-parse HEAD >../own
	) &&
	(
		cd repo &&
		git ws-dispatch ws-4 >/dev/null 2>&1 &&
		test "$(ws_state ws-4 status)" = done &&
		b=$(ws_state ws-4 branch) &&
		test "$(git rev-parse $b^1)" = "$(cat ../own)" &&
		test "$(git rev-parse $b^2)" = "$(git rev-parse main)"
	) &&
	grep "^lib=lib v1$" repo-ws-4/ws-4.seen &&
	grep "^report=$" repo-ws-4/ws-4.seen
'

test_expect_success 'a conflict leaves the branch alone; WS_REPORT names the files' '
	(
		cd repo-ws-3 &&
		test_commit "own lib" lib.txt "lib by ws-3" &&
		git rev-parse HEAD >../before
	) &&
	(
		cd repo &&
		git ws-dispatch ws-3 >/dev/null 2>&1 &&
		test "$(ws_state ws-3 status)" = done &&
		test "$(git rev-parse "$(ws_state ws-3 branch)")" = "$(cat ../before)"
	) &&
	grep "^report=$PWD/repo/.git/ws/reports/ws-3$" repo-ws-3/ws-3.seen &&
	grep "conflicts in these files" repo-ws-3/ws-3.seen &&
	grep "^	lib.txt$" repo-ws-3/ws-3.seen &&
	test "$(cat repo-ws-3/lib.txt)" = "lib by ws-3" &&
	test_path_is_missing repo/.git/worktrees/repo-ws-3/MERGE_HEAD &&
	(cd repo-ws-3 && git status --porcelain --untracked-files=no >../st) &&
	test_must_be_empty st
'

test_expect_success 'a dirty worktree is never checked out over' '
	echo "scratch" >repo-ws-5/notes.txt &&
	(
		cd repo &&
		before=$(git rev-parse "$(ws_state ws-5 branch)") &&
		git ws-dispatch ws-5 >/dev/null 2>&1 &&
		test "$(ws_state ws-5 status)" = done &&
		test "$(git rev-parse "$(ws_state ws-5 branch)")" = "$before"
	) &&
	test_path_is_missing repo-ws-5/lib.txt &&
	grep "uncommitted changes" repo-ws-5/ws-5.seen &&
	test "$(cat repo-ws-5/notes.txt)" = scratch
'

test_expect_success 'later dispatches leave the branch alone' '
	(
		cd repo &&
		test_commit more more.txt &&
		before=$(git rev-parse "$(ws_state ws-2 branch)") &&
		ws_set_state ws-2 status ready &&
		git ws-dispatch ws-2 >/dev/null 2>&1 &&
		test "$(git rev-parse "$(ws_state ws-2 branch)")" = "$before"
	)
'

test_done
