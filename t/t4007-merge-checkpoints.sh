#!/bin/sh

test_description='git ws-status --checkpoints and git ws-merge --rollback-to'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

done_file () {
	for id
	do
		printf "{\"status\":\"success\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"workstream_id\":\"%s\",\"summary\":\"ok\"}\n" "$id" \
			>.git/ws/coordination/$id.done &&
		ws_set_state $id status done || return 1
	done
}

test_expect_success 'setup: a, b, c, d merged in that order' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = demo
		base = main
		command = true
		test = test -f README
	[workstream "a"]
		title = Alpha
	[workstream "b"]
		title = Beta
	[workstream "c"]
		title = Gamma
	[workstream "d"]
		title = Delta
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		for id in a b c d
		do
			work $id $id.txt || return 1
		done &&
		done_file a b c d &&
		queue a b c d &&
		git ws-merge >/dev/null &&
		test "$(ws_state d merge-oid)" = "$(git rev-parse main)"
	)
'

test_expect_success '--checkpoints takes no ids' '
	(cd repo && test_expect_code 129 git ws-status --checkpoints a 2>../err) &&
	grep "^usage: " err
'

test_expect_success '--checkpoints lists the base after each merge, newest first' '
	(
		cd repo &&
		git ws-status --checkpoints >../out &&
		git ws-status --checkpoints --porcelain >../porcelain &&
		when=$(date -u -d @$(git log -1 --format=%ct main) +%Y-%m-%dT%H:%M:%SZ) &&
		printf "checkpoint\t%s\t$when\td\ttip\n" $(git rev-parse main) >../expect &&
		printf "checkpoint\t%s\t$when\tc\tbase\n" $(git rev-parse main~1) >>../expect &&
		printf "checkpoint\t%s\t$when\tb\tbase\n" $(git rev-parse main~2) >>../expect &&
		printf "checkpoint\t%s\t$when\ta\tbase\n" $(git rev-parse main~3) >>../expect &&
		echo "  $(git rev-parse --short=7 main~2)  $when  b: Beta" >../expect.b
	) &&
	test_cmp expect porcelain &&
	grep "^Checkpoints of plan '\''demo'\'' on '\''main'\'', newest first:" out &&
	grep -F -x -f expect.b out &&
	grep "d: Delta  (the tip of '\''main'\'')" out
'

test_expect_success '--rollback-to -n: what it would undo, nothing changed' '
	(
		cd repo &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../before &&
		git ws-merge -n --porcelain --rollback-to b >../out &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../after &&
		printf "would-undo\td\treset\t%s\t%s\nwould-undo\tc\treset\t%s\t%s\n" \
			$(git rev-parse main main~2 main~1 main~2) >../expect
	) &&
	test_cmp before after &&
	test_cmp expect out
'

test_expect_success '--rollback-to <id>: the merges on top go by one move back' '
	(
		cd repo &&
		git rev-parse main~2 >../expect &&
		git ws-merge --rollback-to b >../out &&
		git rev-parse main >../actual &&
		test "$(ws_state c status)" = done &&
		test "$(ws_state d status)" = done &&
		test "$(ws_state b status)" = merged &&
		git reflog -1 --format=%gs main >../reflog &&
		test_path_is_missing c.txt &&
		git ws-status --checkpoints --porcelain >../cps
	) &&
	test_cmp expect actual &&
	echo "ws-merge: undo d c" >expect &&
	test_cmp expect reflog &&
	cut -f4,5 cps >actual &&
	printf "b\ttip\na\tbase\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--rollback-to <oid> below a commit made by hand: tested reverts' '
	(
		cd repo &&
		git ws-converge c d >/dev/null 2>&1 &&
		git ws-merge >/dev/null &&
		test_commit hotfix hotfix.txt &&
		b=$(git rev-parse --short main~3) &&
		test "$b" = "$(git rev-parse --short $(ws_state b merge-oid))" &&
		git ws-merge --porcelain --rollback-to $b >../out &&
		git log --first-parent --format=%s -3 main >../log &&
		git ls-tree --name-only main >../files &&
		test "$(ws_state c status)" = done &&
		test "$(ws_state d status)" = done
	) &&
	cut -f1-3 out >actual &&
	printf "undone\td\trevert\nundone\tc\trevert\n" >expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	Revert "Merge c: Gamma"
	Revert "Merge d: Delta"
	hotfix
	EOF
	test_cmp expect log &&
	printf "README\na.txt\nb.txt\nhotfix.txt\n" >expect &&
	test_cmp expect files
'

test_expect_success 'nothing after the checkpoint: nothing to roll back' '
	(
		cd repo &&
		git rev-parse main >../before &&
		git ws-merge --rollback-to main >../out &&
		git rev-parse main >../after
	) &&
	test_cmp before after &&
	grep "Nothing to roll back" out
'

test_expect_success 'a checkpoint that is not on the base is refused' '
	(
		cd repo &&
		test_expect_code 1 git ws-merge --rollback-to no-such-thing 2>../err1 &&
		test_expect_code 1 git ws-merge --rollback-to feature/c-gamma 2>../err2
	) &&
	grep "neither a checkpoint'\''s workstream nor a commit" err1 &&
	grep "not on the first-parent history of '\''main'\''" err2
'

test_expect_success 'a merge reset away by hand is listed as gone' '
	(
		cd repo &&
		git ws-converge d >/dev/null 2>&1 &&
		git ws-merge >/dev/null &&
		git reset -q --hard main~1 &&
		git ws-status --checkpoints --porcelain >../cps &&
		git ws-status --checkpoints >../out 2>../err
	) &&
	cut -f4,5 cps >actual &&
	printf "b\tbase\na\tbase\nd\tgone\n" >expect &&
	test_cmp expect actual &&
	grep "d: Delta  (gone: no longer in '\''main'\'')" out
'

test_done
