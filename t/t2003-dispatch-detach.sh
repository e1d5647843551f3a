#!/bin/sh

test_description='git ws-dispatch: --detach, and processes that vanish'

. ./lib-ws.sh

# dead_pid: the pid of a process that has ended.
dead_pid () {
	sh -c "exit 0" &
	p=$!
	wait $p
	echo $p
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	TRASH=$PWD && export TRASH &&
	# waits (at most 20 s) for the test to say go
	write_script bin/wait-go <<-\EOF &&
	echo "$WS_ID waiting"
	i=0
	while ! test -f "$TRASH/go"
	do
		sleep 0.1
		i=$(($i + 1))
		test $i -lt 200 || exit 1
	done
	echo "$WS_ID went"
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = bg
		base = main
		command = wait-go
	[workstream "ws-1"]
		title = one
	[workstream "ws-2"]
		title = two
	[workstream "ws-3"]
		title = three
		depends = ws-2
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success '--detach returns at once; the background dispatch records the end' '
	rm -f go &&
	(
		cd repo &&
		timeout 10 git ws-dispatch --detach --porcelain ws-1 ws-2 >../out 2>../err &&
		# it returned while the commands still wait
		test_path_is_missing ../go &&
		test "$(ws_state ws-1 status)" = in_progress &&
		test "$(ws_state ws-2 status)" = in_progress &&
		bg=$(cut -f3 <../out | sort -u) &&
		test -n "$bg" &&
		kill -0 $bg &&
		# its own session: neither our group nor our session
		test "$(ps -o sid= -p $bg | tr -d " ")" = $bg &&
		wait_for "test -z \"\$(ws_state ws-1 reason)\" && test -z \"\$(ws_state ws-2 reason)\"" &&
		p1=$(ws_state ws-1 pid) &&
		test $p1 != $bg &&
		kill -0 $p1 &&
		touch ../go &&
		wait_for "test \"\$(ws_state ws-1 status)\" = done && test \"\$(ws_state ws-2 status)\" = done" &&
		test_must_fail ws_state ws-1 pid &&
		wait_for "! kill -0 $bg 2>/dev/null"
	) &&
	printf "detached\tws-1\t%s\n" "$(cut -f3 <out | sort -u)" >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	grep "^ws-1 went$" repo/.git/ws/logs/ws-1.log &&
	grep "\"status\": \"success\"" repo/.git/ws/coordination/ws-2.done &&
	grep "^ws-1: done" repo/.git/ws/logs/_dispatch.log
'

test_expect_success 'a detached dispatch respects --jobs and reports failures' '
	rm -f go &&
	(
		cd repo &&
		ws_set_state ws-1 status ready &&
		ws_set_state ws-2 status ready &&
		git ws-dispatch --detach -j 1 --retries 0 ws-1 ws-2 -- "wait-go; exit 5" >../out 2>../err &&
		grep "^Dispatched 2 workstreams in the background (pid [0-9]*)" ../out &&
		wait_for "test -z \"\$(ws_state ws-1 reason)\"" &&
		test "$(ws_state ws-2 reason)" = queued &&
		touch ../go &&
		wait_for "test \"\$(ws_state ws-2 status)\" = failed" &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-2 reason | grep "^exit status 5; see "
	)
'

test_expect_success 'a vanished pid without a done file becomes failed' '
	(
		cd repo &&
		ws_set_state ws-1 status in_progress &&
		ws_set_state ws-1 pid $(dead_pid) &&
		rm -f .git/ws/coordination/ws-1.done &&
		test_expect_code 1 git ws-dispatch 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason | grep "^process vanished (pid [0-9]*)$" &&
		test_must_fail ws_state ws-1 pid &&
		ws_state ws-1 finished
	) &&
	grep "^warning: .ws-1. was in progress but its process is gone: now failed: process vanished" err
'

test_expect_success 'git ws-status notices a vanished pid too, instead of showing it running' '
	(
		cd repo &&
		ws_set_state ws-1 status in_progress &&
		ws_set_state ws-1 pid $(dead_pid) &&
		rm -f .git/ws/coordination/ws-1.done &&
		git ws-status --porcelain >../out &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason | grep "^process vanished (pid [0-9]*)$"
	) &&
	grep "^ws-1	failed	.*process vanished" out
'

test_expect_success 'a vanished pid with a done file is finalised from it' '
	(
		cd repo &&
		ws_set_state ws-1 status in_progress &&
		ws_set_state ws-1 pid $(dead_pid) &&
		printf "{\"status\":\"success\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"workstream_id\":\"ws-1\",\"summary\":\"ok\"}" >.git/ws/coordination/ws-1.done &&
		ws_set_state ws-2 status in_progress &&
		ws_set_state ws-2 pid $(dead_pid) &&
		printf "{\"status\":\"partial\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"workstream_id\":\"ws-2\",\"summary\":\"half\"}" >.git/ws/coordination/ws-2.done &&
		test_expect_code 1 git ws-dispatch 2>../err &&
		test "$(ws_state ws-1 status)" = done &&
		test "$(ws_state ws-2 status)" = failed &&
		ws_state ws-2 reason | grep "^the command reported .partial.: half"
	)
'

test_expect_success 'a live pid is left alone' '
	(
		cd repo &&
		ws_set_state ws-1 status in_progress &&
		ws_set_state ws-1 pid $$ &&
		test_expect_code 1 git ws-dispatch 2>../err &&
		test "$(ws_state ws-1 status)" = in_progress &&
		test "$(ws_state ws-1 pid)" = $$
	)
'

test_expect_success 'a killed background dispatch and its command: process vanished' '
	rm -f go &&
	(
		cd repo &&
		ws_set_state ws-3 status ready &&
		git ws-dispatch --detach --porcelain ws-3 >../out 2>../err &&
		bg=$(cut -f3 <../out) &&
		wait_for "test -z \"\$(ws_state ws-3 reason)\"" &&
		p=$(ws_state ws-3 pid) &&
		kill -9 $bg &&
		kill -9 -$p &&
		wait_for "! kill -0 $p 2>/dev/null || grep -q \"^$p (.*) Z\" /proc/$p/stat" &&
		test "$(ws_state ws-3 status)" = in_progress &&
		test_expect_code 1 git ws-dispatch 2>../err &&
		test "$(ws_state ws-3 status)" = failed &&
		ws_state ws-3 reason | grep "^process vanished"
	)
'

test_expect_success 'queued workstreams of a vanished dispatch go back to ready' '
	(
		cd repo &&
		ws_set_state ws-3 status in_progress &&
		ws_set_state ws-3 reason queued &&
		ws_set_state ws-3 pid $(dead_pid) &&
		git ws-dispatch -n >../out 2>../err &&
		test "$(ws_state ws-3 status)" = in_progress &&
		grep "^would start ws-3 " ../out &&
		touch ../go &&
		git ws-dispatch >../out 2>../err &&
		test "$(ws_state ws-3 status)" = done
	)
'

test_done
