#!/bin/sh

test_description='a workstream worktree removed or moved by hand is brought back'

. ./lib-ws.sh

SQ="'"

# work <worktree> <file>: commit a file in a workstream's worktree.
work () {
	(cd "$1" && test_commit "work in $2" "$2.txt" good)
}

test_expect_success 'setup: a plan of two independent workstreams' '
	setup_repo &&
	cat >p.plan <<-\EOF &&
	[plan]
		name = lost
		base = main
		command = true
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	EOF
	(cd repo && git ws-alloc ../p.plan >/dev/null) &&
	work repo-ws-1 one &&
	git -C repo-ws-1 rev-parse HEAD >tip1
'

test_expect_success 'rm -rf of a worktree: status says missing' '
	rm -rf repo-ws-1 &&
	(cd repo && git ws-status --porcelain >../out) &&
	grep "^ws-1	ready	feature/ws-1-one	.*	missing	" out
'

test_expect_success 'git ws-alloc makes it again from its branch, and says so' '
	(cd repo && git ws-alloc ../p.plan >../out 2>&1) &&
	grep "^ws-1: made the worktree ${SQ}$PWD/repo-ws-1${SQ} again from branch ${SQ}feature/ws-1-one${SQ}$" out &&
	test_path_is_dir repo-ws-1 &&
	git -C repo-ws-1 rev-parse HEAD >actual &&
	test_cmp tip1 actual &&
	echo feature/ws-1-one >expect &&
	git -C repo-ws-1 symbolic-ref --short HEAD >actual &&
	test_cmp expect actual &&
	test_path_is_file repo-ws-1/one.txt &&
	(cd repo && git ws-status --porcelain >../out) &&
	grep "^ws-1	ready	feature/ws-1-one	.*	clean	" out &&
	git -C repo worktree list --porcelain >list &&
	test $(grep -c "^worktree .*repo-ws-1$" list) = 1
'

test_expect_success 'a second git ws-alloc has nothing to bring back' '
	(cd repo && git ws-alloc ../p.plan >../out 2>&1) &&
	! grep -i "again" out
'

test_expect_success 'git ws-alloc --porcelain records what it made again' '
	rm -rf repo-ws-1 &&
	(cd repo && git ws-alloc --porcelain ../p.plan >../out 2>../err) &&
	printf "recreate\tws-1\t%s\n" "$PWD/repo-ws-1" >expect &&
	grep "^recreate" out >actual &&
	test_cmp expect actual &&
	grep "^ws-1: made the worktree" err &&
	test_path_is_file repo-ws-1/one.txt
'

test_expect_success 'a file at the path is never replaced, and the worktree is not made' '
	rm -rf repo-ws-1 &&
	echo mine >repo-ws-1 &&
	(cd repo && git ws-alloc ../p.plan >../out 2>&1) &&
	! grep "again" out &&
	echo mine >expect &&
	test_cmp expect repo-ws-1 &&
	rm repo-ws-1 &&
	(cd repo && git ws-alloc ../p.plan >/dev/null 2>&1) &&
	test_path_is_file repo-ws-1/one.txt
'

test_expect_success 'a merged or cleaned workstream is never brought back' '
	rm -rf repo-ws-1 &&
	(cd repo && ws_set_state ws-1 status merged &&
	 git ws-alloc ../p.plan >../out 2>&1) &&
	! grep "again" out &&
	test_path_is_missing repo-ws-1 &&
	(cd repo && ws_set_state ws-1 status ready &&
	 git ws-alloc ../p.plan >/dev/null 2>&1) &&
	test_path_is_dir repo-ws-1
'

test_expect_success 'git ws-alloc --dry-run says it would, and makes nothing' '
	rm -rf repo-ws-2 &&
	(cd repo && git ws-alloc --dry-run ../p.plan >../out 2>&1) &&
	grep "^ws-2: would make the worktree .*/repo-ws-2${SQ} again from branch ${SQ}feature/ws-2-two${SQ}$" out &&
	test_path_is_missing repo-ws-2
'

test_expect_success 'git ws-dispatch --retry of a workstream that failed for its lost worktree' '
	(
		cd repo &&
		test_might_fail git ws-dispatch ws-2 >../out 2>&1 &&
		ws_set_state ws-2 status failed &&
		ws_set_state ws-2 reason "worktree gone" &&
		rm -rf ../repo-ws-2 &&
		git ws-dispatch --retry ws-2 >../out 2>&1
	) &&
	grep "^ws-2: made the worktree .*/repo-ws-2${SQ} again from branch ${SQ}feature/ws-2-two${SQ}$" out &&
	test_path_is_dir repo-ws-2 &&
	echo done >expect &&
	(cd repo && ws_state ws-2 status >../actual) &&
	test_cmp expect actual
'

test_expect_success 'a worktree moved by hand is found again' '
	mv repo-ws-1 moved-ws-1 &&
	(cd moved-ws-1 && git worktree repair) &&
	(cd repo && git ws-alloc ../p.plan >../out 2>&1) &&
	test_path_is_missing repo-ws-1 &&
	(cd repo && ws_state ws-1 worktree >../actual) &&
	echo "$PWD/moved-ws-1" >expect &&
	test_cmp expect actual &&
	grep "^ws-1: the worktree moved to ${SQ}$PWD/moved-ws-1${SQ}$" out &&
	git -C moved-ws-1 rev-parse HEAD >actual &&
	test_cmp tip1 actual
'

test_expect_success 'the moved worktree stays allocated where it is now' '
	(cd repo && git ws-alloc ../p.plan >../out 2>&1) &&
	grep "already allocated; nothing to do" out &&
	! grep "again\|the worktree moved" out &&
	test_path_is_missing repo-ws-1
'

test_expect_success 'workstreams that share a worktree share its re-creation' '
	setup_repo r2 &&
	cat >s.plan <<-\EOF &&
	[plan]
		name = shared
		base = main
		command = true
	[workstream "a"]
		title = Api
	[workstream "b"]
		title = Bee
		worktree = a
	EOF
	(cd r2 && git ws-alloc ../s.plan >/dev/null) &&
	rm -rf r2-a &&
	(cd r2 && git ws-alloc ../s.plan >../out 2>&1) &&
	grep "^a, b: made the worktree ${SQ}$PWD/r2-a${SQ} again from branch ${SQ}feature/a-api${SQ}$" out &&
	test $(grep -c "again" out) = 1 &&
	test_path_is_dir r2-a
'

test_done
