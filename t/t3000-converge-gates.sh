#!/bin/sh

test_description='git ws-converge: each gate failing alone, the others passing'

. ./lib-ws.sh

GATES="dispatch clean commits deps mergeable markers todo contracts tests check-1"

# write_done <id> [<status>]: the done file a dispatch would leave.
write_done () {
	printf '{"status":"%s","timestamp":"2005-04-01T00:00:00Z","workstream_id":"%s","summary":"all done"}\n' \
		"${2:-success}" "$1" >"repo/.git/ws/coordination/$1.done"
}

# expect_alone <gate>: the gate results when <gate> alone fails (the test
# and check commands are not run after a failure); "none": all pass.
expect_alone () {
	after=
	for g in $GATES
	do
		if test "$g" = "$1"
		then
			printf '%s\tFAIL\n' "$g"
			after=1
		elif test -n "$after" && { test $g = tests || test $g = check-1; }
		then
			printf '%s\tSKIP\n' "$g"
		else
			printf '%s\tPASS\n' "$g"
		fi
	done
}

# converge_ws <id> <exit code>: run converge with --porcelain into out.
converge_ws () {
	test_expect_code "$2" git -C repo ws-converge --porcelain "$1" >out &&
	cut -f2,3 out >actual
}

# reset_ws <id>: back to done with no failed iterations.
reset_ws () {
	(
		cd repo &&
		ws_set_state "$1" status done &&
		ws_set_state "$1" iterations 0
	) &&
	write_done "$1"
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	write_script bin/gate-test <<-\EOF &&
	echo "$WS_ID" >>../runs.test
	test -f ../fail.test.$WS_ID && exit 3
	exit 0
	EOF
	write_script bin/gate-check <<-\EOF &&
	echo "$WS_ID" >>../runs.check
	! test -f ../fail.check.$WS_ID
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = gates
		base = main
		command = true
		test = ../bin/gate-test
		check = ../bin/gate-check
		max-iterations = 50
	[workstream "ws-ok"]
		title = Passes every gate
		contract = api.h
		contract = src/*.c
	[workstream "ws-empty"]
		title = Has no commits
		contract = README
	[workstream "ws-dep"]
		title = Depends on ws-ok
		depends = ws-ok
		contract = dep.txt
	EOF
	(cd repo && git ws-alloc ../plan) &&
	(
		cd repo-ws-ok &&
		test_commit api api.h "int api(void);" &&
		test_commit impl src/impl.c "int api(void) { return 0; }"
	) &&
	(cd repo-ws-dep && test_commit dep dep.txt) &&
	for id in ws-ok ws-empty ws-dep
	do
		reset_ws $id || return 1
	done
'

test_expect_success '-h prints the usage on stdout and exits 0' '
	git ws-converge -h >out &&
	grep "^usage: git ws-converge \[--porcelain\]" out
'

test_expect_success 'an unknown option is a usage error' '
	test_expect_code 129 git -C repo ws-converge --frobnicate 2>err &&
	grep "^usage: " err
'

test_expect_success '--max-iterations 0 is a usage error' '
	test_expect_code 129 git -C repo ws-converge --max-iterations 0 ws-ok 2>err &&
	grep "at least 1" err
'

test_expect_success 'an unknown id is fatal and changes nothing' '
	cp repo/.git/ws/state state.before &&
	test_expect_code 128 git -C repo ws-converge ws-nope 2>err &&
	grep "no workstream .ws-nope." err &&
	test_cmp state.before repo/.git/ws/state
'

test_expect_success 'all gates pass: converged, queued, report kept' '
	converge_ws ws-ok 0 &&
	expect_alone none >expect &&
	test_cmp expect actual &&
	(
		cd repo &&
		test "$(ws_state ws-ok status)" = converged &&
		test_must_fail ws_state ws-ok reason &&
		git config -f .git/ws/queue --get-all queue.item >../queue
	) &&
	echo ws-ok >expect &&
	test_cmp expect queue &&
	grep "^ws-ok	tests	PASS	../bin/gate-test (" out &&
	grep "^ws-ok	contracts	PASS	present: api.h, src/\*.c$" out &&
	head -n 1 repo/.git/ws/reports/ws-ok >head &&
	grep "^ws-ok .Passes every gate. on feature/ws-ok-passes-every-gate (tree [0-9a-f]\{7\}): converged$" head &&
	grep "^PASS  tests      ../bin/gate-test (" repo/.git/ws/reports/ws-ok &&
	grep "git ws-merge" repo/.git/ws/reports/ws-ok &&
	test_path_is_file repo/.git/ws/logs/ws-ok.test.log &&
	test_path_is_file repo/.git/ws/logs/ws-ok.check-1.log
'

test_expect_success 'the human report is printed without --porcelain' '
	reset_ws ws-ok &&
	git -C repo ws-converge ws-ok >out &&
	test_cmp repo/.git/ws/reports/ws-ok out
'

test_expect_success 'dispatch fails alone: the done file says failed' '
	reset_ws ws-ok &&
	write_done ws-ok failed &&
	converge_ws ws-ok 1 &&
	expect_alone dispatch >expect &&
	test_cmp expect actual &&
	grep "dispatch	FAIL	done file says .failed.: all done" out &&
	(
		cd repo &&
		test "$(ws_state ws-ok status)" = done &&
		test "$(ws_state ws-ok iterations)" = 1 &&
		ws_state ws-ok reason >../reason
	) &&
	grep "^gate .dispatch. failed: " reason &&
	grep "^FAIL  dispatch" repo/.git/ws/reports/ws-ok &&
	test_expect_code 1 git -C repo config -f .git/ws/queue --get-all queue.item
'

test_expect_success 'dispatch fails: malformed JSON, and a done file of another id' '
	reset_ws ws-ok &&
	echo "{\"status\": " >repo/.git/ws/coordination/ws-ok.done &&
	converge_ws ws-ok 1 &&
	grep "dispatch	FAIL	done file .*JSON" out &&
	write_done ws-empty &&
	cp repo/.git/ws/coordination/ws-empty.done repo/.git/ws/coordination/ws-ok.done &&
	converge_ws ws-ok 1 &&
	grep "dispatch	FAIL	.*ws-empty" out
'

test_expect_success 'dispatch fails when a done workstream has no done file' '
	reset_ws ws-ok &&
	rm repo/.git/ws/coordination/ws-ok.done &&
	converge_ws ws-ok 1 &&
	expect_alone dispatch >expect &&
	test_cmp expect actual
'

test_expect_success 'dispatch is skipped, with a note, for work done by hand' '
	reset_ws ws-ok &&
	rm repo/.git/ws/coordination/ws-ok.done &&
	(cd repo && ws_set_state ws-ok status in_progress) &&
	converge_ws ws-ok 0 &&
	grep "^ws-ok	dispatch	SKIP	status .in_progress., no done file: work done by hand$" out &&
	test "$(cd repo && ws_state ws-ok status)" = converged
'

test_expect_success 'clean fails alone: an untracked file' '
	reset_ws ws-ok &&
	test_when_finished "rm -f repo-ws-ok/stray" &&
	echo stray >repo-ws-ok/stray &&
	converge_ws ws-ok 1 &&
	expect_alone clean >expect &&
	test_cmp expect actual &&
	grep "clean	FAIL	1 uncommitted or untracked file: stray$" out &&
	grep "^tests	SKIP" actual &&
	grep "	tests	SKIP	not run: clean failed$" out
'

test_expect_success 'clean fails alone: a modified tracked file' '
	reset_ws ws-ok &&
	test_when_finished "git -C repo-ws-ok checkout -- api.h" &&
	echo changed >>repo-ws-ok/api.h &&
	converge_ws ws-ok 1 &&
	expect_alone clean >expect &&
	test_cmp expect actual
'

test_expect_success 'clean fails when the worktree is not at the branch tip' '
	reset_ws ws-ok &&
	test_when_finished "git -C repo-ws-ok checkout -q feature/ws-ok-passes-every-gate" &&
	git -C repo-ws-ok checkout -q --detach HEAD~1 &&
	converge_ws ws-ok 1 &&
	grep "clean	FAIL	the worktree is not at the tip" out
'

test_expect_success 'commits fails alone: a branch without commits' '
	converge_ws ws-empty 1 &&
	expect_alone commits >expect &&
	test_cmp expect actual &&
	grep "commits	FAIL	.feature/ws-empty-has-no-commits. has no commit that .main. does not have" out &&
	test "$(cd repo && ws_state ws-empty status)" = done
'

test_expect_success 'deps fails alone: the dependency is not merged' '
	reset_ws ws-ok &&
	converge_ws ws-dep 1 &&
	expect_alone deps >expect &&
	test_cmp expect actual &&
	grep "deps	FAIL	not merged yet: ws-ok (done)$" out
'

test_expect_success 'deps passes once the dependency is merged' '
	test_when_finished "(cd repo && ws_set_state ws-ok status done)" &&
	(cd repo && ws_set_state ws-ok status merged) &&
	reset_ws ws-dep &&
	converge_ws ws-dep 0 &&
	grep "deps	PASS	merged: ws-ok$" out
'

test_expect_success 'deps fails for a dependency cleaned by force without a merge' '
	test_when_finished "(cd repo && ws_set_state ws-ok status done)" &&
	(cd repo && ws_set_state ws-ok status cleaned) &&
	test -z "$(cd repo && ws_state ws-ok merge-oid)" &&
	reset_ws ws-dep &&
	converge_ws ws-dep 1 &&
	grep "deps	FAIL	not merged yet: ws-ok (cleaned without a merge)$" out
'

test_expect_success 'deps passes for a dependency cleaned after its merge' '
	test_when_finished "(cd repo && ws_set_state ws-ok status done && git config -f .git/ws/state --unset workstream.ws-ok.merge-oid)" &&
	(cd repo && ws_set_state ws-ok status cleaned && ws_set_state ws-ok merge-oid "$(git rev-parse main)") &&
	reset_ws ws-dep &&
	converge_ws ws-dep 0 &&
	grep "deps	PASS	merged: ws-ok$" out
'

test_expect_success 'mergeable fails alone: the base changed the same lines' '
	reset_ws ws-ok &&
	(cd repo-ws-ok && test_commit readme-ws README "from the workstream") &&
	(cd repo && test_commit readme-main README "from main") &&
	test_when_finished "git -C repo reset -q --hard HEAD~1 && git -C repo-ws-ok reset -q --hard HEAD~1" &&
	converge_ws ws-ok 1 &&
	expect_alone mergeable >expect &&
	test_cmp expect actual &&
	grep "mergeable	FAIL	conflicts with .main. in README$" out &&
	grep "^  - mergeable: merge .main. into" repo/.git/ws/reports/ws-ok &&
	git -C repo status --porcelain >status &&
	test_must_be_empty status &&
	git -C repo-ws-ok status --porcelain >status &&
	test_must_be_empty status
'

test_expect_success 'mergeable: a conflict on a contract path the workstream owns does not count' '
	reset_ws ws-ok &&
	(cd repo && test_commit api-main api.h "int api(int);") &&
	test_when_finished "git -C repo reset -q --hard HEAD~1" &&
	converge_ws ws-ok 0 &&
	grep "mergeable	PASS	merges cleanly into .main. (.*); by contract: api.h$" out
'

test_expect_success 'markers fails alone: an added conflict marker' '
	reset_ws ws-ok &&
	(
		cd repo-ws-ok &&
		printf "a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> other\n" >merged.txt &&
		git add merged.txt &&
		test_tick &&
		git commit -q -m "half a merge"
	) &&
	test_when_finished "git -C repo-ws-ok reset -q --hard HEAD~1" &&
	converge_ws ws-ok 1 &&
	expect_alone markers >expect &&
	test_cmp expect actual &&
	grep "markers	FAIL	conflict marker at merged.txt:2 (3 added lines)$" out
'

test_expect_success 'markers: lines that only look like markers pass' '
	reset_ws ws-ok &&
	(
		cd repo-ws-ok &&
		printf "Title\n========\n<<<<<<<<< no\n>>>>>>>x\n" >doc.txt &&
		git add doc.txt &&
		test_tick &&
		git commit -q -m "doc"
	) &&
	test_when_finished "git -C repo-ws-ok reset -q --hard HEAD~1" &&
	converge_ws ws-ok 0
'

test_expect_success 'todo fails alone: an added TODO line' '
	reset_ws ws-ok &&
	(
		cd repo-ws-ok &&
		printf "one\ntwo /* FIXME */\n" >src/later.c &&
		git add src/later.c &&
		test_tick &&
		git commit -q -m later
	) &&
	converge_ws ws-ok 1 &&
	expect_alone todo >expect &&
	test_cmp expect actual &&
	grep "todo	FAIL	TODO or FIXME at src/later.c:2 (1 added line)$" out &&
	(cd repo && ws_state ws-ok reason) >reason &&
	grep "^gate .todo. failed: TODO or FIXME at src/later.c:2" reason
'

test_expect_success 'todo = allow turns the todo gate off' '
	reset_ws ws-ok &&
	git -C repo config -f .git/ws/plan workstream.ws-ok.todo allow &&
	test_when_finished "git -C repo config -f .git/ws/plan --unset workstream.ws-ok.todo" &&
	converge_ws ws-ok 0 &&
	grep "todo	SKIP	allowed by the plan (todo = allow)$" out
'

test_expect_success 'todo: a TODO that was already on the base does not count' '
	git -C repo-ws-ok reset -q --hard HEAD~1 &&
	(cd repo && test_commit base-todo notes.txt "TODO: old") &&
	test_when_finished "git -C repo reset -q --hard HEAD~1" &&
	(
		cd repo-ws-ok &&
		git merge -q --no-edit main &&
		test_commit more src/more.c "int more;"
	) &&
	test_when_finished "git -C repo-ws-ok reset -q --hard HEAD~2" &&
	reset_ws ws-ok &&
	converge_ws ws-ok 0 &&
	grep "todo	PASS" out
'

test_expect_success 'contracts fails alone: a promised path is missing' '
	reset_ws ws-ok &&
	git -C repo config -f .git/ws/plan --add workstream.ws-ok.contract include/missing.h &&
	test_when_finished "git -C repo config -f .git/ws/plan --unset workstream.ws-ok.contract include/missing.h" &&
	converge_ws ws-ok 1 &&
	expect_alone contracts >expect &&
	test_cmp expect actual &&
	grep "contracts	FAIL	missing on .feature/ws-ok-passes-every-gate.: include/missing.h$" out
'

test_expect_success 'contracts: a glob that matches nothing is missing' '
	reset_ws ws-ok &&
	git -C repo config -f .git/ws/plan --add workstream.ws-ok.contract "lib/*.h" &&
	test_when_finished "git -C repo config -f .git/ws/plan --unset workstream.ws-ok.contract lib/" &&
	converge_ws ws-ok 1 &&
	grep "contracts	FAIL	missing on .*: lib/\*.h$" out
'

test_expect_success 'tests fails alone: the test command exits non-zero' '
	reset_ws ws-ok &&
	touch fail.test.ws-ok &&
	test_when_finished "rm -f fail.test.ws-ok" &&
	converge_ws ws-ok 1 &&
	expect_alone tests >expect &&
	test_cmp expect actual &&
	grep "tests	FAIL	../bin/gate-test: exit 3 (" out &&
	grep "check-1	SKIP	not run: tests failed$" out &&
	grep "^  - tests: see the output in .*logs/ws-ok.test.log" repo/.git/ws/reports/ws-ok &&
	grep "^# exit 3 after" repo/.git/ws/logs/ws-ok.test.log &&
	(cd repo && ws_state ws-ok reason) >reason &&
	grep "^gate .tests. failed: ../bin/gate-test: exit 3" reason
'

test_expect_success 'check-1 fails alone: the check command exits non-zero' '
	reset_ws ws-ok &&
	touch fail.check.ws-ok &&
	test_when_finished "rm -f fail.check.ws-ok" &&
	converge_ws ws-ok 1 &&
	expect_alone check-1 >expect &&
	test_cmp expect actual &&
	grep "check-1	FAIL	../bin/gate-check: exit 1 (" out &&
	test_path_is_file repo/.git/ws/logs/ws-ok.check-1.log
'

test_expect_success 'a gate command gets the workstream in its environment' '
	reset_ws ws-ok &&
	git -C repo config -f .git/ws/plan workstream.ws-ok.test \
		"echo \"\$WS_ID|\$WS_BRANCH|\$WS_BASE|\$WS_GATE|\$GIT_WS_DIR|\$(pwd)\" >../env.out" &&
	test_when_finished "git -C repo config -f .git/ws/plan --unset workstream.ws-ok.test" &&
	converge_ws ws-ok 0 &&
	echo "ws-ok|feature/ws-ok-passes-every-gate|main|tests|$PWD/repo/.git/ws|$PWD/repo-ws-ok" >expect &&
	test_cmp expect env.out
'

test_expect_success 'several failing gates: each is reported, the reason names the first' '
	reset_ws ws-ok &&
	echo stray >repo-ws-ok/stray &&
	test_when_finished "rm -f repo-ws-ok/stray" &&
	write_done ws-ok partial &&
	converge_ws ws-ok 1 &&
	grep "^dispatch	FAIL$" actual &&
	grep "^clean	FAIL$" actual &&
	grep "^tests	SKIP$" actual &&
	(cd repo && ws_state ws-ok reason) >reason &&
	grep "^gate .dispatch. failed" reason
'

test_done
