#!/bin/sh

test_description='git ws-dispatch: options, selection, environment, logs and done files'

. ./lib-ws.sh

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	write_script bin/show-env <<-\EOF &&
	for v in WS_ID WS_TITLE WS_SLUG WS_BRANCH WS_BASE WS_WORKTREE WS_SPEC \
		WS_PLAN WS_DEPENDS WS_ATTEMPT WS_ITERATION WS_LOG WS_DONE_FILE \
		WS_REPORT GIT_WS_DIR
	do
		eval "printf \"%s=%s\\n\" $v \"\$$v\""
	done >env.out
	pwd >pwd.out
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = demo
		base = main
		command = show-env
	[workstream "ws-1"]
		title = "She said \"hi\"; $(touch pwned) `touch pwned2` ${HOME}\nline two"
		spec = specs/ws-1.md
	[workstream "ws-2"]
		title = Frontend Client
		command = "echo out from $WS_ID; echo err from $WS_ID >&2; exit 0"
	[workstream "ws-3"]
		title = Integration
		depends = ws-1, ws-2
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success '-h prints the usage on stdout and exits 0' '
	git ws-dispatch -h >out &&
	grep "^usage: git ws-dispatch \[-j <n> | --jobs <n>\]" out &&
	grep -- "--detach" out
'

test_expect_success 'usage errors exit 129' '
	(
		cd repo &&
		test_expect_code 129 git ws-dispatch --frobnicate 2>err &&
		grep "^usage: " err &&
		test_expect_code 129 git ws-dispatch -j 0 2>err &&
		grep "jobs must be at least 1" err &&
		test_expect_code 129 git ws-dispatch --timeout soon 2>err &&
		grep "invalid --timeout" err &&
		test_expect_code 129 git ws-dispatch --retry 2>err &&
		grep "needs the ids" err &&
		test_expect_code 129 git ws-dispatch -- 2>err &&
		grep "no command after" err
	)
'

test_expect_success 'outside a repository it dies' '
	test_expect_code 128 git ws-dispatch 2>err &&
	grep "^fatal: not a git repository" err
'

test_expect_success 'without a plan it dies with a hint' '
	git init -q empty &&
	(cd empty && test_expect_code 128 git ws-dispatch 2>../err) &&
	grep "no plan is allocated" err &&
	grep "^hint: " err
'

test_expect_success '-n shows what would start and changes nothing' '
	cp repo/.git/ws/state state.before &&
	(cd repo && git ws-dispatch -n >../out 2>../err) &&
	grep "^would start ws-1 in .*/repo-ws-1: show-env$" out &&
	grep "^would start ws-2 in .*/repo-ws-2: echo out from" out &&
	! grep ws-3 out &&
	test_cmp state.before repo/.git/ws/state &&
	test_path_is_missing repo-ws-1/env.out &&
	test_path_is_missing repo/.git/ws/logs/ws-1.log
'

test_expect_success '-n --porcelain is tab-separated' '
	(cd repo && git ws-dispatch -n --porcelain ws-1 >../out) &&
	printf "would-start\tws-1\t%s\tshow-env\n" "$PWD/repo-ws-1" >expect &&
	test_cmp expect out
'

test_expect_success 'a named workstream that is not ready is an error saying why' '
	(
		cd repo &&
		test_expect_code 128 git ws-dispatch ws-3 2>../err
	) &&
	grep "^error: .ws-3. is not ready: it is blocked (waiting for ws-1, ws-2 to merge)" err &&
	grep "^hint: " err &&
	(cd repo && test_expect_code 128 git ws-dispatch nope 2>../err) &&
	grep "no workstream .nope. in plan .demo." err &&
	(cd repo && test "$(ws_state ws-1 status)" = ready)
'

test_expect_success 'dispatch runs the command in each ready worktree' '
	(cd repo && git ws-dispatch >../out 2>../err) &&
	grep "^  ws-1  *done " out &&
	grep "^  ws-2  *done " out &&
	grep "^2 workstreams dispatched: 2 done, 0 failed$" out &&
	grep "^ws-1: started (attempt 1, pid [0-9]*)$" err &&
	grep "^ws-1: done (exit status 0" err &&
	echo "$PWD/repo-ws-1" >expect &&
	test_cmp expect repo-ws-1/pwd.out &&
	(
		cd repo &&
		test "$(ws_state ws-1 status)" = done &&
		test "$(ws_state ws-2 status)" = done &&
		test "$(ws_state ws-1 attempts)" = 1 &&
		test "$(ws_state ws-1 iterations)" = 0 &&
		test "$(ws_state ws-3 status)" = blocked &&
		test_must_fail ws_state ws-1 pid &&
		test_must_fail ws_state ws-1 reason &&
		ws_state ws-1 started | grep "^20[0-9-]*T[0-9:]*Z$" &&
		ws_state ws-1 finished | grep "^20[0-9-]*T[0-9:]*Z$"
	)
'

test_expect_success 'the environment arrives exactly, and the title never reaches a shell' '
	ws=$PWD/repo-ws-1 gd=$PWD/repo/.git/ws &&
	cat >expect <<-EOF &&
	WS_ID=ws-1
	WS_TITLE=She said "hi"; \$(touch pwned) \`touch pwned2\` \${HOME}
	line two
	WS_SLUG=she-said-hi-touch-pwned-touch-pwned2-hom
	WS_BRANCH=feature/ws-1-she-said-hi-touch-pwned-touch-pwned2-hom
	WS_BASE=main
	WS_WORKTREE=$ws
	WS_SPEC=specs/ws-1.md
	WS_PLAN=$gd/plan
	WS_DEPENDS=
	WS_ATTEMPT=1
	WS_ITERATION=0
	WS_LOG=$gd/logs/ws-1.log
	WS_DONE_FILE=$gd/coordination/ws-1.done
	WS_REPORT=
	GIT_WS_DIR=$gd
	EOF
	test_cmp expect repo-ws-1/env.out &&
	test_path_is_missing repo-ws-1/pwned &&
	test_path_is_missing repo-ws-1/pwned2 &&
	test_path_is_missing repo/pwned
'

test_expect_success 'stdout and stderr go to the log, between a header and a footer' '
	log=repo/.git/ws/logs/ws-2.log &&
	test_line_count = 4 $log &&
	sed -n 1p $log | grep "^=== git ws-dispatch: ws-2 attempt 1 (iteration 0) started 20.*Z in .*/repo-ws-2: echo out from" &&
	sed -n 2,3p $log >body &&
	cat >expect <<-\EOF &&
	out from ws-2
	err from ws-2
	EOF
	test_cmp expect body &&
	sed -n 4p $log | grep "^=== git ws-dispatch: ws-2 attempt 1 ended .*: exit status 0 (done)$"
'

test_expect_success 'dispatch writes the done file from the exit status' '
	done=repo/.git/ws/coordination/ws-1.done &&
	test_path_is_file $done &&
	grep "\"status\": \"success\"" $done &&
	grep "\"workstream_id\": \"ws-1\"" $done &&
	grep "\"timestamp\": \"20[0-9-]*T[0-9:]*Z\"" $done &&
	grep "\"summary\": \"exit status 0\"" $done
'

test_expect_success 'nothing ready: exit 1 with a hint' '
	cp repo/.git/ws/state state.before &&
	(cd repo && test_expect_code 1 git ws-dispatch 2>../err) &&
	grep "^error: no workstream is ready" err &&
	grep "^hint: " err &&
	test_cmp state.before repo/.git/ws/state
'

test_expect_success 'a done workstream is not dispatched again by name' '
	(cd repo && test_expect_code 128 git ws-dispatch ws-1 2>../err) &&
	grep "is not ready: it is done" err
'

test_expect_success '-- <command> <args> overrides the plan and passes words as "$@"' '
	(
		cd repo &&
		ws_set_state ws-2 status ready &&
		git ws-dispatch --porcelain ws-2 -- printf "[%s]\n" "a b" "\$HOME" ";" >../out 2>/dev/null
	) &&
	printf "dispatched\tws-2\tdone\t1\texit status 0\n" >expect &&
	test_cmp expect out &&
	tail -n 4 repo/.git/ws/logs/ws-2.log | sed -n 1,3p >body &&
	cat >expect <<-\EOF &&
	[a b]
	[$HOME]
	[;]
	EOF
	test_cmp expect body &&
	(cd repo && test "$(ws_state ws-2 attempts)" = 2) &&
	tail -n 5 repo/.git/ws/logs/ws-2.log | head -n 1 |
		grep "attempt 2 (iteration 0) started .*: printf \[%s\]"
'

test_expect_success 'WS_REPORT names the last report on a later iteration' '
	(
		cd repo &&
		ws_set_state ws-1 status ready &&
		ws_set_state ws-1 iterations 2 &&
		echo "tests failed" >.git/ws/reports/ws-1 &&
		git ws-dispatch ws-1 >/dev/null 2>&1 &&
		test "$(ws_state ws-1 iterations)" = 2 &&
		test "$(ws_state ws-1 status)" = done
	) &&
	grep "^WS_REPORT=$PWD/repo/.git/ws/reports/ws-1$" repo-ws-1/env.out &&
	grep "^WS_ITERATION=2$" repo-ws-1/env.out &&
	grep "^WS_ATTEMPT=2$" repo-ws-1/env.out
'

test_expect_success 'WS_DEPENDS lists the dependencies' '
	(
		cd repo &&
		ws_set_state ws-1 status merged &&
		ws_set_state ws-2 status merged &&
		git ws-dispatch ws-3 >/dev/null 2>&1 &&
		test "$(ws_state ws-3 status)" = done
	) &&
	grep "^WS_DEPENDS=ws-1 ws-2$" repo-ws-3/env.out
'

test_done
