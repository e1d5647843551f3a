#!/bin/sh

test_description='git ws-alloc: new worktrees of a sparse main worktree are as sparse; sparse = <dirs> overrides'

. ./lib-ws.sh

# files_in <worktree>: how many files it holds, .git aside.
files_in () {
	find "$1" -path "$1/.git" -prune -o -type f -print | wc -l
}

test_expect_success 'setup: 5,000 files in 50 directories, checked out sparse (2 of them)' '
	git init -q big &&
	(
		cd big &&
		for d in $(seq 1 50)
		do
			mkdir d$d &&
			for f in $(seq 1 100)
			do
				echo "$d.$f" >d$d/f$f || exit 1
			done
		done &&
		echo top >top.txt &&
		git add . && test_tick && git commit -q -m files &&
		git sparse-checkout set --cone d1 d2 &&
		test "$(files_in .)" = 201
	) &&
	cat >plan <<-\EOF
	[plan]
		command = echo "$WS_ID" >"d1/$WS_ID.txt" && git add d1 && git commit -qm "$WS_ID"
		test = test -f d1/f1 && test ! -e d3/f1
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	[workstream "c"]
		title = C
		sparse = d7
		command = echo c >d7/c.txt && git add d7 && git commit -qm c
		test = test -f d7/f1
	EOF
'

test_expect_success 'each new worktree holds only the files of the main worktree'"'"'s cone' '
	(cd big && git ws-alloc ../plan >/dev/null) &&
	test "$(files_in big-a)" = 201 &&
	test "$(files_in big-b)" = 201 &&
	test_path_is_file big-a/d2/f100 &&
	test_path_is_missing big-a/d3 &&
	git -C big-a status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'sparse = <dirs> gives a workstream its own cone, and leaves the main worktree as it was' '
	test "$(files_in big-c)" = 101 &&
	test_path_is_file big-c/d7/f1 &&
	test_path_is_missing big-c/d1 &&
	git -C big sparse-checkout list >main-cone &&
	printf "d1\nd2\n" >expect &&
	test_cmp expect main-cone &&
	test "$(files_in big)" = 201
'

test_expect_success 'the plan runs to the end and merges, its gates and merge tests in sparse worktrees' '
	(cd big && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd big && for id in a b c
	do
		test "$(ws_state $id status)" = merged || exit 1
	done) &&
	git -C big show main:d1/a.txt &&
	git -C big show main:d7/c.txt
'

test_expect_success 'sparse that leaves the repository, or is empty: file, line and key' '
	setup_repo bad &&
	for v in ../up /abs "src/*" ""
	do
		printf "[plan]\n\tcommand = true\n[workstream \"a\"]\n\ttitle = A\n\tsparse = %s\n" "$v" >bad.plan &&
		(cd bad && test_expect_code 128 git ws-alloc ../bad.plan 2>../err) &&
		grep "bad.plan:5: .*sparse" err &&
		test_path_is_missing bad-a || return 1
	done
'

test_done
