#!/bin/sh

test_description='git ws-status --conflicts: pairs of active workstreams, and each with the base, that would conflict; git ws-dispatch --loop counts them'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

SQ="'"

# expect_conflicts <ours> <theirs>: the conflicted files of git's own
# merge of the two, as git merge-tree --write-tree --name-only lists them.
git_conflicts () {
	git merge-tree --write-tree --name-only "$1" "$2" >mt.out
	sed -e 1d -e "/^\$/,\$d" mt.out
}

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		printf "base\n" >shared.txt &&
		printf "line %s\n" 1 2 3 4 5 6 7 8 9 >lines.txt &&
		printf "owned\n" >owned.txt &&
		mkdir d &&
		printf "line %s\n" 1 2 3 4 5 6 7 8 9 >d/x &&
		git add . &&
		test_tick &&
		git commit -q -m initial
	) &&
	cat >plan <<-\EOF &&
	[plan]
		name = conflicts
		base = main
		command = true
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
	[workstream "ws-5"]
		title = Five
	[workstream "ws-6"]
		title = Six
	[workstream "ws-7"]
		title = Seven
	[workstream "ws-8"]
		title = Eight
	[workstream "ws-9"]
		title = Nine
		contract = owned.txt
	[workstream "ws-10"]
		title = Ten
	[workstream "ws-11"]
		title = Eleven
		worktree = ws-1
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work ws-1 shared.txt one &&
		work ws-2 shared.txt two &&
		(
			cd ../repo-ws-3 &&
			sed s/1/one/ lines.txt >new && mv new lines.txt &&
			git commit -q -am "ws-3 line 1"
		) &&
		(
			cd ../repo-ws-8 &&
			sed s/9/nine/ lines.txt >new && mv new lines.txt &&
			git commit -q -am "ws-8 line 9"
		) &&
		work ws-4 README.md four &&
		(
			cd ../repo-ws-5 &&
			git mv d e &&
			test_tick &&
			git commit -q -m "ws-5 renames d to e"
		) &&
		work ws-6 d/new six &&
		work ws-9 owned.txt nine &&
		work ws-10 owned.txt ten &&
		test_commit "main moves" README.md main
	)
'

test_expect_success 'pairs that conflict, with their files; the base too' '
	(
		cd repo &&
		test_expect_code 1 git ws-status --conflicts >../out
	) &&
	(
		cd repo &&
		printf "conflict: ws-1 and ws-2 in %s\n" \
			"$(git_conflicts feature/ws-1-one feature/ws-2-two | paste -s -d, | sed "s/,/, /g")" &&
		printf "conflict: ws-5 and ws-6 in %s\n" \
			"$(git_conflicts feature/ws-5-five feature/ws-6-six | paste -s -d, | sed "s/,/, /g")" &&
		echo "conflict: ws-4 and base ${SQ}main${SQ} in README.md"
	) >expect.body &&
	grep -v "^[0-9]* pair" out >body &&
	test_cmp expect.body body &&
	# 9 active (ws-11 is ws-1: they share a branch): 36 pairs and 9 with
	# the base; only ws-1/ws-2, ws-3/ws-8, ws-5/ws-6, ws-9/ws-10 and
	# ws-4/base change common paths (or, for ws-5/ws-6, a directory one
	# of them renamed): the others are not merged
	echo "3 pairs in conflict among 9 active workstreams and base ${SQ}main${SQ} (5 of 45 pairs needed a merge)" >expect.count &&
	grep "^[0-9]* pair" out >count &&
	test_cmp expect.count count
'

test_expect_success 'the directory rename conflict is the one git merge-tree finds' '
	(
		cd repo &&
		test_must_fail git merge-tree --write-tree feature/ws-5-five feature/ws-6-six >/dev/null
	) &&
	grep "ws-5 and ws-6 in .*new" out
'

test_expect_success 'a pair that merges cleanly is not listed, even on one file' '
	(
		cd repo &&
		git merge-tree --write-tree feature/ws-3-three feature/ws-8-eight >/dev/null
	) &&
	! grep "ws-3\|ws-8" out &&
	! grep "ws-7" out
'

test_expect_success 'a contract path is resolved for its owner, as git ws-merge does' '
	(
		cd repo &&
		test_must_fail git merge-tree --write-tree feature/ws-9-nine feature/ws-10-ten >/dev/null
	) &&
	! grep "ws-9\|ws-10" out
'

test_expect_success 'workstreams that share a branch are one' '
	! grep "ws-11" out
'

test_expect_success 'porcelain: one record per conflicted path' '
	(
		cd repo &&
		test_expect_code 1 git ws-status --conflicts --porcelain >../out
	) &&
	(
		cd repo &&
		git_conflicts feature/ws-1-one feature/ws-2-two |
			sed "s/^/conflict	ws-1	ws-2	/" &&
		git_conflicts feature/ws-5-five feature/ws-6-six |
			sed "s/^/conflict	ws-5	ws-6	/" &&
		printf "conflict\tws-4\tbase\tREADME.md\n"
	) >expect &&
	test_cmp expect out &&
	(
		cd repo &&
		test_expect_code 1 git ws-status --conflicts --porcelain -z >../out.z
	) &&
	tr "\000" "\n" <out.z >out.nl &&
	test_cmp expect out.nl
'

test_expect_success '<id>s narrow it to their pairs; none: exit 0' '
	(
		cd repo &&
		test_expect_code 1 git ws-status --conflicts --porcelain ws-4 >../out &&
		git ws-status --conflicts ws-3 ws-7 >../out.none
	) &&
	printf "conflict\tws-4\tbase\tREADME.md\n" >expect &&
	test_cmp expect out &&
	grep "^0 pairs in conflict among 9 active workstreams" out.none
'

test_expect_success 'a merged workstream is no longer active' '
	(
		cd repo &&
		ws_set_state ws-2 status merged &&
		ws_set_state ws-2 merge-oid $(git rev-parse main) &&
		test_when_finished "ws_set_state ws-2 status done" &&
		test_expect_code 1 git ws-status --conflicts --porcelain >../out
	) &&
	! grep ws-2 out &&
	grep "^conflict	ws-4	base	README.md\$" out
'

test_expect_success 'usage: --conflicts with --graph or --dot' '
	(
		cd repo &&
		test_expect_code 129 git ws-status --conflicts --graph 2>../err &&
		test_expect_code 129 git ws-status --conflicts --dot 2>>../err
	) &&
	grep "cannot be combined" err
'

# loop_repo <dir>: a plan of two workstreams whose commands each rewrite
# shared.txt and commit, and whose test gate fails, so that they stay
# active (failed after two iterations) and conflict from their first
# commits on.
loop_repo () {
	git init -q "$1" &&
	(
		cd "$1" &&
		printf "base\n" >shared.txt &&
		git add . &&
		test_tick &&
		git commit -q -m initial
	) &&
	cat >loop.plan <<-\EOF &&
	[plan]
		name = loop
		base = main
		command = echo \"$WS_ID $WS_ITERATION\" >shared.txt && git commit -qam \"$WS_ID $WS_ITERATION\"
		test = false
		max-iterations = 2
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	(cd "$1" && git ws-alloc ../loop.plan >/dev/null)
}

test_expect_success 'git ws-dispatch --loop: each new conflict is one event line' '
	loop_repo loop &&
	(
		cd loop &&
		test_expect_code 1 git ws-dispatch --loop >../out 2>../err
	) &&
	grep "^conflict: " err >lines &&
	echo "conflict: a and b in shared.txt" >expect &&
	test_cmp expect lines &&
	test "$(cd loop && ws_state a status)" = failed &&
	test "$(cd loop && ws_state b status)" = failed
'

if script -qec true /dev/null >/dev/null 2>&1
then
	test_set_prereq SCRIPT
else
	say "script(1) cannot run here: the board, drawn only on a terminal, is not checked"
fi

test_expect_success SCRIPT 'the board on a terminal counts the conflicts' '
	loop_repo board &&
	(
		cd board &&
		test_expect_code 1 script -qec "git ws-dispatch --loop" /dev/null >../tty.out 2>&1
	) &&
	grep "0 queued, 0 conflicts" tty.out &&
	grep "0 queued, 1 conflict" tty.out &&
	grep "conflict: a and b in shared.txt" tty.out
'

test_done
