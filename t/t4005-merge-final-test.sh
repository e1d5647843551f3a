#!/bin/sh

test_description='the final-test plan key: git ws-merge, --final-test, git ws-status, git ws-dispatch --loop (and --push)'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

# new_plan <dir> <final-test> [<command>]: a repository <dir> with the
# independent workstreams a and b allocated.
new_plan () {
	setup_repo "$1" &&
	cat >"$1.plan" <<-EOF &&
	[plan]
		name = final
		base = main
		command = ${3:-true}
		test = true
		final-test = $2
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null)
}

# work <id> <file> [<content>]: commit a file on a workstream's branch,
# in the worktree beside the repository the test is in.
work () {
	(cd "../$(basename "$PWD")-$1" && test_commit "$1 $2" "$2" "${3:-$1}")
}

test_expect_success 'setup' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	# the integration test: fails while the tree has a file "broken",
	# and says where it ran
	write_script bin/integration <<-\EOF &&
	echo "$WS_MERGE_OID" >>"$TRASH/final-runs"
	pwd >"$TRASH/final-pwd"
	! test -f broken
	EOF
	# an agent: one file per workstream; b breaks the integration
	write_script bin/agent <<-\EOF
	echo "$WS_ID" >"$WS_ID.txt" &&
	if test "$WS_ID" = b && test -n "$BREAK"
	then
		echo >broken
	fi &&
	git add . && git commit -q -m "$WS_ID"
	EOF
'

test_expect_success 'the final test waits for the last merge of the plan' '
	new_plan one integration &&
	(
		cd one &&
		work a a.txt &&
		work b b.txt &&
		queue a &&
		git ws-merge >../out &&
		test_must_fail git config -f .git/ws/state plan.final-test
	) &&
	! test -f final-runs &&
	! grep "Final test" out
'

test_expect_success 'after the last merge it runs once, in the scratch worktree, and passes' '
	(
		cd one &&
		queue b &&
		git ws-merge >../out &&
		test "$(git config -f .git/ws/state plan.final-test)" = passed &&
		test "$(git config -f .git/ws/state plan.final-test-oid)" = "$(git rev-parse main)" &&
		git rev-parse main >../expect
	) &&
	test_cmp expect final-runs &&
	grep "/ws/scratch$" final-pwd &&
	grep "^Final test passed on main" out &&
	(cd one && git ws-status >../status) &&
	grep "final test passed on .main." status &&
	# nothing merged since: it does not run again
	(cd one && git ws-merge >/dev/null) &&
	test_line_count = 1 final-runs
'

test_expect_success 'a failing final test: exit 1, integration failed in git ws-status' '
	rm -f final-runs &&
	new_plan two integration &&
	(
		cd two &&
		work a a.txt &&
		work b broken &&
		queue a b &&
		test_expect_code 1 git ws-merge >../out 2>../err &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state b status)" = merged &&
		test "$(git config -f .git/ws/state plan.final-test)" = failed &&
		git ws-status >../status
	) &&
	grep "integration failed: the final test fails on .main." err &&
	grep "^integration failed: the final test fails on .main. (.......); see .*/ws/logs/final-test.log$" status
'

test_expect_success '--porcelain says final-test TAB failed TAB <oid> TAB <log>' '
	(
		cd two &&
		test_expect_code 1 git ws-merge --final-test --porcelain >../out 2>/dev/null &&
		printf "final-test\tfailed\t%s\t%s\n" "$(git rev-parse main)" \
			"$(git config -f .git/ws/state plan.final-test-log)" >../expect
	) &&
	test_cmp expect out
'

test_expect_success 'git ws-merge --final-test runs it again: fixed on the base, it passes' '
	(
		cd two &&
		git rm -q broken &&
		test_tick &&
		git commit -q -m "fix the integration" &&
		git ws-merge --final-test >../out &&
		test "$(git config -f .git/ws/state plan.final-test)" = passed &&
		git ws-status >../status
	) &&
	grep "^Final test passed" out &&
	! grep "integration failed" status
'

test_expect_success '--final-test is a usage error with ids or -n; an error without a final-test' '
	(cd two && test_expect_code 129 git ws-merge --final-test a 2>/dev/null) &&
	(cd two && test_expect_code 129 git ws-merge --final-test -n 2>/dev/null) &&
	setup_repo three &&
	cat >three.plan <<-\EOF &&
	[plan]
		name = nofinal
		base = main
		command = true
	[workstream "a"]
		title = A
	EOF
	(
		cd three &&
		git ws-alloc ../three.plan >/dev/null &&
		test_expect_code 128 git ws-merge --final-test 2>../err
	) &&
	grep "has no final-test" err
'

test_expect_success 'git ws-dispatch --loop exits 1 when the final test fails' '
	new_plan four integration agent &&
	(
		cd four &&
		BREAK=1 && export BREAK &&
		test_expect_code 1 timeout 120 git ws-dispatch --loop >../out 2>../err &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state b status)" = merged &&
		test "$(git config -f .git/ws/state plan.final-test)" = failed
	) &&
	grep "^2/2 merged" out &&
	grep "^integration failed: the final test fails on .main.; see .*final-test.log" out
'

test_expect_success 'git ws-dispatch --loop --push pushes the base to a bare remote' '
	git init -q --bare remote.git &&
	new_plan five integration agent &&
	(
		cd five &&
		git remote add origin ../remote.git &&
		timeout 120 git ws-dispatch --loop --push >../out 2>../err &&
		test "$(git config -f .git/ws/state plan.final-test)" = passed &&
		git rev-parse main >../expect
	) &&
	git -C remote.git rev-parse main >actual &&
	test_cmp expect actual &&
	grep "^2/2 merged" out &&
	grep "Pushed .main. to .origin." five/.git/ws/logs/_merge.loop.log
'

test_expect_success '--push without --loop is a usage error' '
	(cd five && test_expect_code 129 git ws-dispatch --push 2>../err) &&
	grep "use it with --loop" err
'

test_done
