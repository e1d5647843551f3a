#!/bin/sh

test_description='git ws-clean: one line per workstream and a total; every step with -v'

. ./lib-ws.sh

SQ="'"

test_expect_success 'setup: six merged workstreams, each with a log and a report' '
	setup_repo &&
	{
		printf "[plan]\n\tname = six\n\tbase = main\n\tcommand = true\n" &&
		for i in 1 2 3 4 5 6
		do
			printf "[workstream \"ws-%s\"]\n\ttitle = Part %s\n" $i $i
		done
	} >plan &&
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		for i in 1 2 3 4 5 6
		do
			(cd ../repo-ws-$i && test_commit part$i part$i) &&
			test_tick &&
			git merge -q --no-ff -m "merge ws-$i" feature/ws-$i-part-$i &&
			ws_set_state ws-$i status merged &&
			echo log >.git/ws/logs/ws-$i.log &&
			echo report >.git/ws/reports/ws-$i || return 1
		done
	)
'

test_expect_success '-n -v says every step: five lines per workstream' '
	(cd repo && git ws-clean -n -v >../verbose) &&
	test_line_count = 30 verbose &&
	test $(grep -c "would archive 2 records" verbose) = 6 &&
	(cd repo && git ws-clean -n --verbose >../verbose2) &&
	test_cmp verbose verbose2
'

test_expect_success '--porcelain is step by step, as before' '
	(cd repo && git ws-clean -n --porcelain >../porcelain) &&
	test_line_count = 30 porcelain &&
	for k in backup remove-worktree delete-branch archive cleaned
	do
		test $(grep -c "^$k	" porcelain) = 6 || return 1
	done &&
	(cd repo && git ws-clean -n -v --porcelain >../porcelain2) &&
	test_cmp porcelain porcelain2
'

test_expect_success '-n: one line per workstream, then the total' '
	(cd repo && git ws-clean -n >../dry) &&
	for i in 1 2 3 4 5 6
	do
		echo "ws-$i: would remove worktree, delete branch ${SQ}feature/ws-$i-part-$i${SQ} (merged by ancestry)" || return 1
	done >expect &&
	echo "Would clean 6 workstreams: 6 worktrees and 6 branches to remove (saved first as refs/ws/backup/<id>), 12 records to archive" >>expect &&
	test_cmp expect dry
'

test_expect_success 'clean: seven lines for six workstreams' '
	(cd repo && git ws-clean >../out 2>../err) &&
	test_must_be_empty err &&
	test_line_count = 7 out &&
	for i in 1 2 3 4 5 6
	do
		echo "ws-$i: removed worktree, deleted branch ${SQ}feature/ws-$i-part-$i${SQ} (merged by ancestry)" || return 1
	done >expect &&
	echo "Cleaned 6 workstreams: 6 worktrees and 6 branches removed (saved as refs/ws/backup/<id>), 12 records archived" >>expect &&
	test_cmp expect out &&
	! grep "0 records" out &&
	for i in 1 2 3 4 5 6
	do
		test_path_is_missing repo-ws-$i &&
		git -C repo rev-parse --verify -q refs/ws/backup/ws-$i >/dev/null &&
		test_must_fail git -C repo rev-parse --verify -q feature/ws-$i-part-$i &&
		test "$(cd repo && ws_state ws-$i status)" = cleaned || return 1
	done
'

test_expect_success 'a refusal is counted in the total; its error is on stderr' '
	git init -q -b main r2 &&
	(cd r2 && test_commit initial README hello) &&
	cat >plan2 <<-\EOF &&
	[plan]
		name = two
		command = true
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	(
		cd r2 &&
		git ws-alloc ../plan2 >/dev/null &&
		(cd ../r2-a && test_commit a a) &&
		(cd ../r2-b && test_commit b b) &&
		git merge -q --no-ff -m "merge a" feature/a-a &&
		ws_set_state a status merged &&
		ws_set_state b status merged &&
		test_expect_code 1 git ws-clean >../out 2>../err
	) &&
	cat >expect <<-\EOF &&
	a: removed worktree, deleted branch '"'feature/a-a'"' (merged by ancestry)
	Cleaned 1 workstream: 1 worktree and 1 branch removed (saved as refs/ws/backup/<id>); 1 refused
	EOF
	test_cmp expect out &&
	grep "^error: not cleaning .b.: branch .feature/b-b. has 1 commit not in .main." err
'

test_done
