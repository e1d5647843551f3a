#!/bin/sh

test_description='git ws-dispatch: a command that outlives its dispatcher is credited, not run again

Each command runs under a supervisor that records how it ended
(coordination/<id>.exit) and writes the done file, whether or not its
dispatcher still lives. A dispatcher killed with SIGKILL while a command
runs leaves that command running in its own process group: when it
finishes, the next dispatch credits it from that record (done, or failed
with its real exit status), and when it still runs, git ws-dispatch
--loop adopts it: waits for it, then credits it, and never starts a
second command in its worktree meanwhile.'

. ./lib-ws.sh

# launch_loop: git ws-dispatch --loop in repo/, in a session of its own
# (as lib-kill.sh launches it), so that kill -9 -$loop takes the
# dispatcher and not the commands, which run in groups of their own.
launch_loop () {
	(cd repo && exec setsid git ws-dispatch --loop >../loop.out 2>../loop.err </dev/null) &
	loop=$!
}

# started <id>: the command of <id> runs, its start recorded.
started () {
	test -f "go-$1.waiting" &&
	test "$(cd repo && ws_state $1 status)" = in_progress &&
	test -n "$(cd repo && ws_state $1 pid-start)"
}

# runs_of <id>: how many times the agent ran for <id>.
runs_of () {
	grep -c "^$1 " runs || :
}

test_expect_success 'setup: a plan a <- b, an agent that commits each time it runs' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	write_script bin/check-good <<-\EOF &&
	for f in *.txt
	do
		test -f "$f" || continue
		grep -q good "$f" || { echo "$f is not good"; exit 1; }
	done
	EOF
	# Appends to runs, waits for go-<id> when HOLD names <id> (20 s at
	# most), commits (a second run would make a second commit), and
	# exits with FAIL_CODE when FAIL names <id>.
	write_script bin/agent <<-\EOF &&
	echo "$WS_ID $WS_ATTEMPT" >>"$TRASH/runs"
	if test "$WS_ID" = "$HOLD"
	then
		: >"$TRASH/go-$WS_ID.waiting"
		i=0
		while ! test -f "$TRASH/go-$WS_ID"
		do
			sleep 0.1
			i=$(($i + 1))
			test $i -lt 200 || exit 9
		done
	fi
	test "$WS_ID" = "$FAIL" && exit $FAIL_CODE
	echo good >"$WS_ID.txt"
	echo "$WS_ATTEMPT" >>"$WS_ID.attempts"
	git add "$WS_ID.txt" "$WS_ID.attempts" && git commit -q -m "$WS_ID: work"
	EOF
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = credit
		base = main
		command = agent
		test = check-good
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null) &&
	mkdir snap &&
	cp -a repo repo-a repo-b snap/
'

restore () {
	rm -rf repo repo-a repo-b runs go-* loop.out loop.err &&
	cp -a snap/. .
}

test_expect_success 'the supervisor records the end of a command, and the done file' '
	restore &&
	(cd repo && git ws-dispatch a >../out 2>../err) &&
	exit=repo/.git/ws/coordination/a.exit &&
	test_path_is_file $exit &&
	grep "\"workstream_id\": *\"a\"" $exit &&
	grep "\"attempt\": *1" $exit &&
	grep "\"exit_code\": *0" $exit &&
	grep "\"done_file\": *\"supervisor\"" $exit &&
	grep "\"status\": *\"success\"" repo/.git/ws/coordination/a.done &&
	# the dispatcher says what it always said
	grep "\"summary\": *\"exit status 0\"" repo/.git/ws/coordination/a.done &&
	test "$(cd repo && ws_state a status)" = done &&
	! (cd repo && ws_state a pid-start) &&
	! (cd repo && ws_state a dispatcher)
'

test_expect_success 'a failure: the living dispatcher reports it as before' '
	restore &&
	(cd repo && FAIL=a FAIL_CODE=3 test_expect_code 1 git ws-dispatch --retries 0 a >../out 2>../err) &&
	(cd repo && ws_state a reason) >reason &&
	grep "^exit status 3; see .*/logs/a.log$" reason &&
	grep "\"exit_code\": *3" repo/.git/ws/coordination/a.exit
'

test_expect_success 'dispatcher killed while a command runs; the command finishes: the rerun credits it' '
	restore &&
	HOLD=a && export HOLD &&
	test_when_finished "unset HOLD" &&
	launch_loop &&
	wait_for "started a" &&
	sup=$(cd repo && ws_state a pid) &&
	kill -9 -$loop &&
	test_expect_code 137 wait $loop &&
	# the command and its supervisor run on
	kill -0 $sup &&
	test "$(cd repo && ws_state a status)" = in_progress &&
	touch go-a &&
	wait_for "test -f repo/.git/ws/coordination/a.exit" &&
	wait_for "! kill -0 $sup 2>/dev/null || grep -q \"^$sup (.*) Z\" /proc/$sup/stat" &&
	(cd repo && timeout 120 git ws-dispatch --loop >../out 2>../err) &&
	grep "^a: done (its command ended after its dispatcher was gone)" err &&
	test "$(cd repo && ws_state a status)" = merged &&
	test "$(cd repo && ws_state b status)" = merged &&
	test "$(cd repo && ws_state a attempts)" = 1 &&
	test "$(runs_of a)" = 1 &&
	test "$(git -C repo log --format=%s main | grep -c "^a: work$")" = 1 &&
	echo 1 >expect &&
	test_cmp expect repo/a.attempts &&
	grep "^=== git ws-dispatch: a attempt 1 ended .*exit status 0 (done) (recorded by its supervisor" \
		repo/.git/ws/archive/credit/logs/a.log
'

test_expect_success 'the same with a failing command: failed with its exit status, not run again' '
	restore &&
	HOLD=a FAIL=a FAIL_CODE=5 && export HOLD FAIL FAIL_CODE &&
	test_when_finished "unset HOLD FAIL FAIL_CODE" &&
	launch_loop &&
	wait_for "started a" &&
	sup=$(cd repo && ws_state a pid) &&
	kill -9 -$loop &&
	test_expect_code 137 wait $loop &&
	touch go-a &&
	wait_for "test -f repo/.git/ws/coordination/a.exit" &&
	wait_for "! kill -0 $sup 2>/dev/null || grep -q \"^$sup (.*) Z\" /proc/$sup/stat" &&
	(cd repo && git ws-status --porcelain >../out 2>../err) &&
	test "$(cd repo && ws_state a status)" = failed &&
	(cd repo && ws_state a reason) >reason &&
	grep "^exit status 5; see .*/logs/a.log$" reason &&
	test "$(cd repo && ws_state a attempts)" = 1 &&
	test "$(runs_of a)" = 1 &&
	grep "\"status\": *\"failed\"" repo/.git/ws/coordination/a.done
'

test_expect_success 'dispatcher killed; the rerun starts while the command still runs: it adopts it' '
	restore &&
	HOLD=a && export HOLD &&
	test_when_finished "unset HOLD" &&
	launch_loop &&
	wait_for "started a" &&
	sup=$(cd repo && ws_state a pid) &&
	kill -9 -$loop &&
	test_expect_code 137 wait $loop &&
	{ (cd repo && timeout 120 git ws-dispatch --loop >../out 2>../err) & } &&
	rerun=$! &&
	wait_for "grep -q \"^a: its command runs on (pid $sup) after its dispatcher died: waiting for it\" err" &&
	# it waits, and starts nothing in its place
	sleep 1 &&
	kill -0 $rerun &&
	test "$(runs_of a)" = 1 &&
	test "$(cd repo && ws_state a pid)" = $sup &&
	touch go-a &&
	wait $rerun &&
	grep "^a: done (the adopted command ended)$" err &&
	test "$(cd repo && ws_state a status)" = merged &&
	test "$(cd repo && ws_state b status)" = merged &&
	test "$(cd repo && ws_state a attempts)" = 1 &&
	test "$(runs_of a)" = 1 &&
	test "$(runs_of b)" = 1 &&
	test "$(git -C repo log --format=%s main | grep -c "^a: work$")" = 1
'

test_expect_success 'git ws-dispatch <id> on an adoptable command says so' '
	restore &&
	HOLD=a && export HOLD &&
	test_when_finished "unset HOLD" &&
	launch_loop &&
	wait_for "started a" &&
	kill -9 -$loop &&
	test_expect_code 137 wait $loop &&
	(cd repo && test_expect_code 128 git ws-dispatch a 2>../err) &&
	grep "^error: .a. is not ready: its command runs on (pid [0-9]*) after its dispatcher died" err &&
	grep "^hint: .git ws-dispatch --loop. waits for it" err &&
	touch go-a &&
	wait_for "test -f repo/.git/ws/coordination/a.exit"
'

test_expect_success 'a pid reused by another process is not taken for the command' '
	restore &&
	(
		cd repo &&
		ws_set_state a status in_progress &&
		ws_set_state a pid $$ &&
		ws_set_state a pid-start 1 &&
		git ws-status --porcelain >../out &&
		test "$(ws_state a status)" = failed &&
		ws_state a reason | grep "^process vanished (pid $$)$" &&
		! ws_state a pid-start
	)
'

test_expect_success 'stopping the dispatcher stops the command and its supervisor' '
	restore &&
	HOLD=a && export HOLD &&
	test_when_finished "unset HOLD" &&
	launch_loop &&
	wait_for "started a" &&
	sup=$(cd repo && ws_state a pid) &&
	disp=$(cd repo && ws_state a dispatcher) &&
	kill -TERM $disp &&
	test_expect_code 130 wait $loop &&
	! kill -0 $sup 2>/dev/null &&
	test "$(cd repo && ws_state a status)" = failed &&
	test "$(cd repo && ws_state a reason | cut -c1-11)" = interrupted
'

test_done
