#!/bin/sh

test_description='setup: a new worktree made ready (dependencies, ignored configuration) before any command or gate runs there'

. ./lib-ws.sh

# The project: its test needs an ignored .env (copied by .worktreeinclude)
# and a dependency directory that only setup makes.
project () {
	setup_repo "$1" &&
	(
		cd "$1" &&
		printf ".env\ndeps/\n" >.gitignore &&
		git add .gitignore && git commit -q -m ignore &&
		echo SECRET=1 >.env &&
		echo .env >.worktreeinclude
	)
}

test_expect_success 'setup' '
	cat >plan <<-\EOF
	[plan]
		setup = mkdir -p deps && echo "$WS_ID" >deps/ready && echo installed dependencies
		teardown = echo $WS_ID >>$GIT_WS_DIR/../../../teardown.marks
		command = echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" && git commit -qm "$WS_ID"
		test = test -f deps/ready && grep SECRET=1 .env
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
		depends = a b
	EOF
	project repo
'

test_expect_success 'git ws-alloc runs setup in each new worktree, with the workstream environment, and logs it' '
	(cd repo && git ws-alloc ../plan >../out) &&
	echo a >expect && test_cmp expect repo-a/deps/ready &&
	echo b >expect && test_cmp expect repo-b/deps/ready &&
	grep "^installed dependencies$" repo/.git/ws/logs/a.setup.log &&
	grep "exit status 0" repo/.git/ws/logs/b.setup.log &&
	(cd repo && test_must_fail ws_state a setup && test "$(ws_state a status)" = ready)
'

test_expect_success 'the plan runs to the end: the gates and the merge test see what setup made' '
	(cd repo && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd repo && for id in a b c
	do
		test "$(ws_state $id status)" = merged || exit 1
	done) &&
	cat repo/.git/ws/archive/plan/logs/*.merge-setup.log >merge-setup &&
	test_line_count = 3 merge-setup &&
	grep "installed dependencies" merge-setup
'

test_expect_success 'a failed setup: the workstream is failed with the reason and the log, its worktree kept, exit 1' '
	project bad &&
	sed -e "/^[	 ]*setup = /d" -e "/^\[plan\]/a\\
	setup = test \$WS_ID != b \&\& mkdir -p deps \&\& echo ok >deps/ready" plan >bad.plan &&
	grep "setup = test .WS_ID != b && mkdir" bad.plan &&
	(cd bad && test_expect_code 1 git ws-alloc ../bad.plan >../out 2>../err) &&
	grep "error: the setup of .b. failed (exit status 1); see .*/logs/b.setup.log" err &&
	grep "git ws-dispatch --retry" err &&
	(cd bad && test "$(ws_state b status)" = failed &&
	 test "$(ws_state c status)" = blocked &&
	 ws_state b reason | grep "^setup failed: exit status 1; see .*b.setup.log" &&
	 test "$(ws_state b setup)" = failed &&
	 test "$(ws_state a status)" = ready) &&
	test_path_is_dir bad-b &&
	test_path_is_file bad-a/deps/ready &&
	(cd bad && git ws-status >../st) &&
	grep "b .*failed .*setup failed" st
'

test_expect_success 'a setup that fails in the merge scratch worktree fails the merge test, and runs again next time' '
	project sc &&
	write_script sc/setup.sh <<-\EOF &&
	if test -f "$GIT_WS_DIR/../../../fail-scratch" &&
	   test "$WS_WORKTREE" != "${WS_WORKTREE%scratch}"
	then
		exit 3
	fi
	mkdir -p deps && touch deps/ready
	EOF
	git -C sc add setup.sh && git -C sc commit -q -m setup &&
	cat >sc.plan <<-\EOF &&
	[plan]
		setup = ./setup.sh
		command = echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" && git commit -qm "$WS_ID"
		test = test -f deps/ready
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	(cd sc && git ws-alloc ../sc.plan >/dev/null &&
	 git ws-dispatch a b >/dev/null 2>&1 && git ws-converge >/dev/null 2>&1) &&
	touch fail-scratch &&
	(cd sc && test_might_fail git ws-merge >../out 2>&1) &&
	grep "setup of the scratch worktree failed (exit status 3)" out &&
	(cd sc && test "$(ws_state b status)" != merged) &&
	rm fail-scratch &&
	(cd sc && git ws-converge >/dev/null 2>&1; git ws-merge >../out 2>&1 &&
	 test "$(ws_state a status)" = merged &&
	 test "$(ws_state b status)" = merged) || { cat out; false; }
'

test_expect_success 'git ws-dispatch --retry runs a failed setup again, then the command' '
	(cd bad && test_expect_code 128 git ws-dispatch --retry b >../out 2>../err) &&
	grep "the setup of .b. failed" err &&
	(cd bad && test "$(ws_state b status)" = failed) &&
	sed -e "/^[	 ]*setup = /d" -e "/^\[plan\]/a\\
	setup = mkdir -p deps \&\& echo fixed >deps/ready" bad.plan >fixed.plan &&
	cp fixed.plan bad/.git/ws/plan &&
	(cd bad && git ws-dispatch --retry b >../out 2>../err) &&
	echo fixed >expect && test_cmp expect bad-b/deps/ready &&
	(cd bad && test_must_fail ws_state b setup &&
	 test "$(ws_state b status)" = done)
'

test_expect_success 'a setup left pending by a killed git ws-alloc runs before the first command' '
	(cd bad && ws_set_state a setup pending && rm -r ../bad-a/deps &&
	 git ws-dispatch a >../out 2>../err) &&
	grep "a: running its setup" err &&
	test_path_is_file bad-a/deps/ready &&
	(cd bad && test_must_fail ws_state a setup)
'

test_expect_success 'git ws-clean runs teardown in each worktree before removing it' '
	(cd repo && git ws-clean >../out 2>&1) &&
	sort teardown.marks >actual &&
	printf "a\nb\nc\n" >expect &&
	test_cmp expect actual &&
	test_path_is_missing repo-a &&
	test_path_is_missing repo-c
'

test_expect_success 'a failed teardown keeps the worktree and says so; --force removes it anyway' '
	project td &&
	cat >td.plan <<-\EOF &&
	[plan]
		command = echo x >x.txt && git add x.txt && git commit -qm x
		teardown = echo stopping && exit 4
	[workstream "a"]
		title = A
	EOF
	(cd td && git ws-alloc ../td.plan >/dev/null &&
	 timeout 300 git ws-dispatch --loop >/dev/null 2>&1 &&
	 test "$(ws_state a status)" = merged) &&
	(cd td && test_must_fail git ws-clean >../out 2>../err) &&
	grep "the teardown of .a. failed (exit status 4, see .*a.teardown.log); its worktree .*td-a. is kept" err &&
	test_path_is_dir td-a &&
	grep "^stopping$" td/.git/ws/logs/a.teardown.log &&
	(cd td && git ws-clean --force >../out 2>../err) &&
	grep "removing its worktree anyway (--force)" err &&
	test_path_is_missing td-a
'

test_done
