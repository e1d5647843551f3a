#!/bin/sh

test_description='git ws-merge --undo: reset at the tip, tested revert below it, back to done'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

# done <id>: the done file a successful dispatch leaves, status done
done_file () {
	printf "{\"status\":\"success\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"workstream_id\":\"%s\",\"summary\":\"ok\"}\n" "$1" \
		>.git/ws/coordination/$1.done &&
	ws_set_state $1 status done
}

# main_files: the files of main's tip, one a line
main_files () {
	git ls-tree --name-only main
}

test_expect_success 'setup: a, then b on a; c and d apart' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = demo
		base = main
		command = true
		test = "test -f README && { ! test -f requires-a || test -f a.txt; }"
	[workstream "a"]
		title = Alpha
	[workstream "b"]
		title = Beta
		depends = a
	[workstream "c"]
		title = Gamma
	[workstream "d"]
		title = Delta
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work a a.txt &&
		work c c.txt &&
		work d d.txt &&
		done_file a && done_file c && done_file d &&
		queue a c &&
		git ws-merge >/dev/null &&
		test "$(ws_state c merge-oid)" = "$(git rev-parse main)"
	)
'

test_expect_success '--undo needs ids; --undo and --rollback-to do not mix' '
	(
		cd repo &&
		test_expect_code 129 git ws-merge --undo 2>../err &&
		grep "needs the ids" ../err &&
		test_expect_code 129 git ws-merge --undo a --rollback-to a 2>../err &&
		grep "cannot be used together" ../err &&
		test_expect_code 1 git ws-merge --undo d 2>../err &&
		grep "'\''d'\'' is not merged (status: done)" ../err
	)
'

test_expect_success 'dry run: says what it would do and changes nothing' '
	(
		cd repo &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../before &&
		git ws-merge -n --undo c >../out &&
		git ws-merge -n --porcelain --undo a c >../porcelain &&
		(cd .git && find . -path ./objects -prune -o -type f -print | sort | xargs cat) >../after &&
		git status --porcelain >../st &&
		echo "c: would move '\''main'\'' back to $(git rev-parse --short=7 main^1), before its merge $(git rev-parse --short=7 main)" >../expect &&
		printf "would-undo\tc\treset\t%s\t%s\nwould-undo\ta\treset\t%s\t%s\n" \
			$(git rev-parse main main~2 main^1 main~2) >../expect.porcelain
	) &&
	test_cmp before after &&
	test_must_be_empty st &&
	head -1 out >first &&
	test_cmp expect first &&
	test_cmp expect.porcelain porcelain
'

test_expect_success 'the tip: main moves back to its first parent; c back to done' '
	(
		cd repo &&
		git rev-parse main^1 >../expect &&
		git rev-parse main >../merge &&
		git ws-merge --undo c >../out &&
		git rev-parse main >../actual &&
		test "$(ws_state c status)" = done &&
		test_must_fail ws_state c merge-oid &&
		test "$(ws_state c reason)" = "its merge $(cut -c1-7 ../merge) was undone; converge it again" &&
		test_path_is_missing c.txt &&
		git status --porcelain >../st &&
		git reflog -1 --format=%gs main >../reflog &&
		git rev-parse --verify feature/c-gamma &&
		test_path_is_file .git/ws/coordination/c.done
	) &&
	test_cmp expect actual &&
	test_must_be_empty st &&
	echo "ws-merge: undo c" >expect &&
	test_cmp expect reflog &&
	grep "went back to done" out
'

test_expect_success 're-merge after undo: converge and merge again' '
	(
		cd repo &&
		git ws-converge c >../out 2>&1 &&
		test "$(ws_state c status)" = converged &&
		git ws-merge >../out &&
		test "$(ws_state c status)" = merged &&
		test "$(ws_state c merge-oid)" = "$(git rev-parse main)" &&
		test_path_is_file c.txt
	)
'

test_expect_success 'uncommitted changes in the base'\''s worktree in its way: refused' '
	(
		cd repo &&
		git rev-parse main >../before &&
		echo local >c.txt &&
		test_expect_code 1 git ws-merge --porcelain --undo c >../out 2>../err &&
		git rev-parse main >../after &&
		test "$(ws_state c status)" = merged &&
		test "$(cat c.txt)" = local &&
		! git config -f .git/ws/state --get-regexp "undo-|follow-" &&
		git checkout c.txt
	) &&
	test_cmp before after &&
	grep "uncommitted changes that the undo of '\''c'\'' would overwrite: c.txt" err &&
	printf "refused\tc\tdirty\tc.txt\n" >expect &&
	test_cmp expect out
'

test_expect_success 'below the tip: a tested revert of the merge is committed on main' '
	(
		cd repo &&
		git rev-parse main >../old &&
		merge_a=$(ws_state a merge-oid) &&
		git ws-merge --undo a >../out &&
		test "$(git rev-parse main^1)" = "$(cat ../old)" &&
		test "$(git rev-list --count main^@ --not main^1)" = 0 &&
		git log -1 --format=%B main >../msg &&
		test_path_is_file .git/ws/logs/a.undo.log &&
		test "$(ws_state a status)" = done &&
		main_files >../files &&
		echo "This reverts commit $merge_a, reversing" >../expect.line
	) &&
	head -1 msg >subject &&
	echo "Revert \"Merge a: Alpha\"" >expect &&
	test_cmp expect subject &&
	grep -F -f expect.line msg &&
	printf "README\nc.txt\n" >expect &&
	test_cmp expect files &&
	grep "a: reverted its merge .* on '\''main'\'' as .* (tested)" out
'

test_expect_success 'the branch reapplies what the revert took out: it merges again' '
	(
		cd repo &&
		git -C ../repo-a log -1 --format=%s >../subject &&
		test "$(git -C ../repo-a rev-parse HEAD^)" = "$(git rev-parse main)" &&
		test_path_is_file ../repo-a/a.txt &&
		git ws-converge a >/dev/null 2>&1 &&
		git ws-merge >/dev/null &&
		test "$(ws_state a status)" = merged &&
		test_path_is_file a.txt
	) &&
	echo "Reapply \"Revert \"Merge a: Alpha\"\"" >expect &&
	test_cmp expect subject
'

test_expect_success 'a revert that fails the tests leaves main alone' '
	(
		cd repo &&
		test_commit "needs a" requires-a &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge --undo a 2>../err &&
		git rev-parse main >../after &&
		test "$(ws_state a status)" = merged &&
		git reset -q --hard main~1
	) &&
	test_cmp before after &&
	grep "the tests fail on '\''main'\'' without it" err
'

test_expect_success 'a merged dependent blocks the undo unless it is named too' '
	(
		cd repo &&
		(cd ../repo-b && git merge -q main && test_commit "b b.txt" b.txt b) &&
		done_file b &&
		queue b &&
		git ws-merge >/dev/null &&
		test "$(ws_state b status)" = merged &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge --undo a 2>../err &&
		git rev-parse main >../after &&
		test "$(ws_state a status)" = merged
	) &&
	test_cmp before after &&
	grep "cannot undo '\''a'\'': '\''b'\'', merged after it, depends on it" err &&
	grep "git ws-merge --undo b a" err
'

test_expect_success 'named together: newest first, one move back when both are on top' '
	(
		cd repo &&
		git rev-parse main~2 >../expect &&
		git ws-merge --porcelain --undo a b >../out &&
		git rev-parse main >../actual &&
		test "$(ws_state a status)" = done &&
		test "$(ws_state b status)" = done &&
		test "$(ws_state b reason)" != "" &&
		git reflog -1 --format=%gs main >../reflog
	) &&
	test_cmp expect actual &&
	cut -f1-3 out >actual &&
	printf "undone\tb\treset\nundone\ta\treset\n" >expect &&
	test_cmp expect actual &&
	echo "ws-merge: undo b a" >expect &&
	test_cmp expect reflog
'

test_expect_success 'a cleaned workstream comes back from refs/ws/backup/<id>' '
	(
		cd repo &&
		git ws-converge d >/dev/null 2>&1 &&
		git ws-merge d >/dev/null &&
		git ws-clean d >/dev/null &&
		test "$(ws_state d status)" = cleaned &&
		test_must_fail git rev-parse --verify -q feature/d-delta &&
		test_path_is_missing ../repo-d &&
		git ws-merge --undo d >../out 2>../err &&
		test "$(ws_state d status)" = done &&
		test_must_fail ws_state d cleaned &&
		test "$(git rev-parse feature/d-delta)" = "$(git rev-parse refs/ws/backup/d)" &&
		test_path_is_file ../repo-d/d.txt &&
		test_path_is_file .git/ws/coordination/d.done &&
		test_path_is_missing d.txt
	) &&
	grep "branch '\''feature/d-delta'\'' made again" err
'

test_expect_success 'a base reset by hand: git ws-merge says so, --undo forgets the merge' '
	(
		cd repo &&
		git ws-converge d >/dev/null 2>&1 &&
		git ws-merge d >/dev/null &&
		git reset -q --hard main~1 &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge d 2>../err &&
		git ws-merge --undo d >../out &&
		git rev-parse main >../after &&
		test "$(ws_state d status)" = done
	) &&
	test_cmp before after &&
	grep "'\''d'\'' is recorded as merged at .*, but '\''main'\'' no longer contains that commit" err &&
	grep "git ws-merge --undo d" err &&
	grep "^d: forgot its merge .*: '\''main'\'' no longer has it and is left as it is" out
'

test_expect_success 'an undo killed after main moved is finished by the next run' '
	(
		cd repo &&
		git ws-converge d >/dev/null 2>&1 &&
		git ws-merge d >/dev/null &&
		merge=$(git rev-parse main) &&
		ws_set_state d undo-from $merge &&
		ws_set_state d undo-to $(git rev-parse main^1) &&
		git update-ref refs/heads/main main^1 $merge &&
		git reset -q --hard main &&
		git ws-merge 2>../err &&
		test "$(ws_state d status)" = done &&
		test_must_fail ws_state d undo-from &&
		test_must_fail ws_state d merge-oid
	) &&
	grep "finishing the undo" err
'

test_expect_success 'an undo killed before main moved leaves the workstream merged' '
	(
		cd repo &&
		git ws-converge d >/dev/null 2>&1 &&
		git ws-merge d >/dev/null &&
		ws_set_state d undo-from $(git rev-parse main) &&
		ws_set_state d undo-to $(git rev-parse main^1) &&
		git ws-merge 2>../err &&
		test "$(ws_state d status)" = merged &&
		test_must_fail ws_state d undo-to
	) &&
	grep "did not move" err
'

test_done
