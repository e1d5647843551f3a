#!/bin/sh

test_description='git ws-merge --batch: chains of merges, one test run, bisection'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

# work <id> <file> [<content>]: commit a file on a workstream's branch,
# in the worktree beside the repository the test is in.
work () {
	(cd "../$(basename "$PWD")-$1" && test_commit "$1 $2" "$2" "${3:-$1}")
}

# new_repo <dir> <ids>...: a repository with one independent workstream
# per id, allocated, each adding <id>.txt; "bad" in an id makes it add
# bad.txt too (which breaks the tests), "flaky" flaky.txt (whose tests
# fail once per tree). All are queued in the order given. $BATCH, when
# set, is the plan's batch.
new_repo () {
	dir=$1 && shift &&
	setup_repo "$dir" &&
	{
		printf "[plan]\n\tname = batch\n\tbase = main\n\tcommand = true\n\ttest = merge-test\n" &&
		if test -n "$BATCH"
		then
			printf "\tbatch = %s\n" "$BATCH"
		fi &&
		for id
		do
			printf "[workstream \"%s\"]\n\ttitle = %s\n" $id $id || return 1
		done
	} >"$dir.plan" &&
	(
		cd "$dir" &&
		git ws-alloc "../$dir.plan" >/dev/null &&
		for id
		do
			work $id $id.txt &&
			case $id in
			*bad*) work $id bad.txt ;;
			*flaky*) work $id flaky.txt ;;
			esac || return 1
		done &&
		queue "$@"
	)
}

test_expect_success 'setup' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	write_script bin/merge-test <<-\EOF
	echo "$WS_ID $WS_MERGE_OID" >>"$TRASH/runs"
	! test -f bad.txt || exit 1
	if test -f flaky.txt && ! test -f "$TRASH/seen-$WS_MERGE_OID"
	then
		>"$TRASH/seen-$WS_MERGE_OID"
		exit 1
	fi
	EOF
'

test_expect_success 'a passing batch: one test run, one merge commit each, in queue order' '
	new_repo one a b c d &&
	(
		cd one &&
		git rev-parse main >../base &&
		git ws-merge --batch --porcelain >../out &&
		for id in a b c d
		do
			test "$(ws_state $id status)" = merged || return 1
		done &&
		git log --first-parent --format=%s main >../log &&
		printf "Merge %s: %s\n" d d c c b b a a >../expect &&
		echo initial >>../expect &&
		test_cmp ../expect ../log &&
		# each merge commit has its own workstream as second parent
		test "$(git rev-parse main^2)" = "$(git rev-parse feature/d-d)" &&
		test "$(git rev-parse main~3^2)" = "$(git rev-parse feature/a-a)" &&
		test "$(ws_state d merge-oid)" = "$(git rev-parse main)" &&
		test "$(ws_state a merge-oid)" = "$(git rev-parse main~3)" &&
		test "$(ws_state d test-runs)" = 1 &&
		test_must_fail ws_state a test-runs
	) &&
	test_line_count = 1 runs &&
	grep "^test-runs	1$" out &&
	test "$(cut -f1 out | sort | uniq -c | tr -s " ")" = "$(printf " 4 merged\n 1 test-runs")"
'

test_expect_success 'the plan key batch batches without --batch; the summary says the runs' '
	rm -f runs &&
	BATCH=2 && new_repo two e f && unset BATCH &&
	(
		cd two &&
		git ws-merge >../out &&
		test "$(ws_state e status)" = merged &&
		test "$(ws_state f status)" = merged
	) &&
	test_line_count = 1 runs &&
	grep "^Test runs: 1 (batches of 2)$" out
'

test_expect_success 'a culprit in the middle: bisected, the prefix merged, the culprit sent back, the rest merged' '
	rm -f runs &&
	new_repo three a b c-bad d e f &&
	(
		cd three &&
		test_expect_code 1 git ws-merge --batch=6 --porcelain >../out &&
		for id in a b d e f
		do
			test "$(ws_state $id status)" = merged || return 1
		done &&
		test "$(ws_state c-bad status)" = done &&
		test "$(ws_state c-bad sent-back)" = merge &&
		ws_state c-bad reason >../reason &&
		grep "^FAIL  merge  tests failed on the merge result" .git/ws/reports/c-bad &&
		git log --first-parent --format=%s main >../log &&
		printf "Merge %s: %s\n" f f e e d d b b a a >../expect &&
		echo initial >>../expect &&
		test_cmp ../expect ../log &&
		! git cat-file -e main:bad.txt &&
		test "$(ws_state f test-runs)" = 2 &&
		test "$(ws_state c-bad test-runs)" = 1 &&
		git rev-parse main^{tree} >../batch-tree
	) &&
	grep "^tests failed on the merge result: see .*c-bad.merge.log" reason &&
	grep "^tests-failed	c-bad	" out &&
	# top, then bisection c-bad, a, b; then the rest d e f
	test_line_count = 5 runs &&
	grep "^test-runs	5$" out
'

test_expect_success 'the final tree is the one merging one by one makes' '
	rm -f runs &&
	new_repo four a b c-bad d e f &&
	(
		cd four &&
		test_expect_code 1 git ws-merge >/dev/null &&
		test "$(ws_state c-bad status)" = done &&
		git rev-parse main^{tree} >../one-tree &&
		test "$(ws_state a test-runs)" = 1
	) &&
	test_line_count = 6 runs &&
	test_cmp batch-tree one-tree
'

test_expect_success 'a failure that passes when run again on the same tree is reported flaky' '
	rm -f runs &&
	new_repo five x y-flaky &&
	(
		cd five &&
		git ws-merge --batch=2 --porcelain >../out &&
		test "$(ws_state x status)" = merged &&
		test "$(ws_state y-flaky status)" = merged &&
		test "$(ws_state y-flaky test-runs)" = 2
	) &&
	grep "^flaky	y-flaky	[0-9a-f]*	.*y-flaky.merge-flaky.log$" out &&
	# archived with the merged workstream'"'"'s other logs
	test -f five/.git/ws/archive/batch/logs/y-flaky.merge-flaky.log
'

test_expect_success '--batch takes a positive number' '
	(cd five && test_expect_code 129 git ws-merge --batch=0 2>../err) &&
	grep "positive number" err &&
	(cd five && test_expect_code 129 git ws-merge --batch=x 2>/dev/null)
'

test_done
