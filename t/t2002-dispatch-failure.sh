#!/bin/sh

test_description='git ws-dispatch: failures, retries, done files, timeouts, large output'

. ./lib-ws.sh

# process_gone <pid>: no such process (a zombie waiting for init counts as gone).
process_gone () {
	! kill -0 "$1" 2>/dev/null ||
	grep -q "^$1 (.*) Z" /proc/$1/stat 2>/dev/null
}

# ready <id>...: set workstreams back to ready by hand.
ready () {
	for id
	do
		ws_set_state $id status ready || return 1
	done
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	TRASH=$PWD && export TRASH &&
	write_script bin/fail3 <<-\EOF &&
	echo "failing $WS_ATTEMPT"
	exit 3
	EOF
	write_script bin/say-failed <<-\EOF &&
	printf "{\"status\":\"failed\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"%s\",\"summary\":\"could not finish the parser\"}\n" "$WS_ID" >"$WS_DONE_FILE"
	EOF
	write_script bin/say-success <<-\EOF &&
	printf "{\"status\":\"success\",\"timestamp\":\"2026-01-02T03:04:05+02:00\",\"workstream_id\":\"%s\",\"summary\":\"all done, by me\",\"extra\":1}\n" "$WS_ID" >"$WS_DONE_FILE"
	EOF
	write_script bin/say-garbage <<-\EOF &&
	printf "{\"status\": \"success\",\n" >"$WS_DONE_FILE"
	EOF
	write_script bin/say-bad-status <<-\EOF &&
	printf "{\"status\":\"ok\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"%s\"}\n" "$WS_ID" >"$WS_DONE_FILE"
	EOF
	write_script bin/say-other-id <<-\EOF &&
	printf "{\"status\":\"success\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"ws-9\"}\n" >"$WS_DONE_FILE"
	EOF
	write_script bin/hang <<-\EOF &&
	echo $$ >"$TRASH/child.pid"
	sleep 100 &
	echo $! >"$TRASH/grandchild.pid"
	wait
	EOF
	write_script bin/fail-once <<-\EOF &&
	test -f "$TRASH/failed-once" && exit 0
	touch "$TRASH/failed-once"
	exit 1
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = fail
		base = main
		command = fail3
	[workstream "ws-1"]
		title = one
	[workstream "ws-2"]
		title = two
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success 'a failing command is retried, then failed with the exit status and the log' '
	(
		cd repo &&
		test_expect_code 1 git ws-dispatch --retries 2 ws-1 >../out 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		test "$(ws_state ws-1 attempts)" = 3 &&
		ws_state ws-1 reason >../reason &&
		test_must_fail ws_state ws-1 pid
	) &&
	echo "exit status 3 after 3 attempts; see $PWD/repo/.git/ws/logs/ws-1.log" >expect &&
	test_cmp expect reason &&
	test $(grep -c "^ws-1: exit status 3; retrying$" err) = 2 &&
	grep "^ws-1: failed: exit status 3 after 3 attempts" err &&
	grep "^  ws-1  *failed  *0:00  exit status 3 after 3 attempts" out &&
	grep "^1 workstream dispatched: 0 done, 1 failed$" out &&
	log=repo/.git/ws/logs/ws-1.log &&
	test $(grep -c "^=== git ws-dispatch: ws-1 attempt [123] (iteration 0) started" $log) = 3 &&
	grep "^failing 1$" $log &&
	grep "^failing 3$" $log &&
	grep "\"status\": \"failed\"" repo/.git/ws/coordination/ws-1.done &&
	grep "\"summary\": \"exit status 3\"" repo/.git/ws/coordination/ws-1.done
'

test_expect_success 'the default is one retry' '
	rm -f failed-once &&
	(
		cd repo &&
		ready ws-2 &&
		git ws-dispatch ws-2 -- fail-once >../out 2>../err &&
		test "$(ws_state ws-2 status)" = done &&
		test "$(ws_state ws-2 attempts)" = 2
	) &&
	grep "^ws-2: exit status 1; retrying$" err
'

test_expect_success '--retry puts a failed workstream back to ready and dispatches it' '
	(
		cd repo &&
		test_expect_code 128 git ws-dispatch --retry ws-2 2>../err &&
		grep "cannot retry .ws-2.: it has not failed (it is done)" ../err &&
		test "$(ws_state ws-1 status)" = failed &&
		git ws-dispatch --retry ws-1 -- true >../out 2>../err &&
		test "$(ws_state ws-1 status)" = done &&
		test "$(ws_state ws-1 attempts)" = 4 &&
		test_must_fail ws_state ws-1 reason
	)
'

test_expect_success 'a command writing its own done file with "failed" fails' '
	(
		cd repo &&
		ready ws-1 &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-1 -- say-failed >../out 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason >../reason
	) &&
	grep "^the command reported .failed.: could not finish the parser (exit status 0); see " reason &&
	grep "could not finish the parser" repo/.git/ws/coordination/ws-1.done &&
	grep "2026-01-02T03:04:05Z" repo/.git/ws/coordination/ws-1.done
'

test_expect_success 'a command writing its own done file with "success" is done, file kept' '
	(
		cd repo &&
		ready ws-1 &&
		git ws-dispatch ws-1 -- "say-success; exit 4" >../out 2>../err &&
		test "$(ws_state ws-1 status)" = done
	) &&
	grep "all done, by me" repo/.git/ws/coordination/ws-1.done &&
	grep "+02:00" repo/.git/ws/coordination/ws-1.done
'

test_expect_success 'malformed JSON in the done file is a failure that says so' '
	(
		cd repo &&
		ready ws-1 &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-1 -- say-garbage >../out 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason >../reason
	) &&
	grep "^malformed done file: not valid JSON: .* (exit status 0); see " reason &&
	grep "\"status\": \"failed\"" repo/.git/ws/coordination/ws-1.done &&
	grep "malformed done file" repo/.git/ws/logs/ws-1.log
'

test_expect_success 'a done file that breaks the schema is malformed too' '
	(
		cd repo &&
		ready ws-1 ws-2 &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-1 -- say-bad-status >../out 2>../err &&
		ws_state ws-1 reason >../reason &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-2 -- say-other-id >../out 2>../err &&
		ws_state ws-2 reason >../reason2
	) &&
	grep "^malformed done file: \"status\" must be one of success, partial, failed, not .ok." reason &&
	grep "^malformed done file: \"workstream_id\" is .ws-9., not .ws-2." reason2
'

test_expect_success 'a stale done file from an earlier run does not count' '
	(
		cd repo &&
		ready ws-1 &&
		git ws-dispatch ws-1 -- say-success >/dev/null 2>&1 &&
		ready ws-1 &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-1 -- false >/dev/null 2>&1 &&
		test "$(ws_state ws-1 status)" = failed
	)
'

test_expect_success 'a timeout kills the whole process group' '
	rm -f grandchild.pid child.pid &&
	(
		cd repo &&
		ready ws-1 &&
		test_expect_code 1 timeout 20 git ws-dispatch --retries 0 --timeout 1 ws-1 -- hang >../out 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason >../reason
	) &&
	grep "^timed out after 1s; see " reason &&
	process_gone $(cat child.pid) &&
	process_gone $(cat grandchild.pid)
'

test_expect_success 'the plan timeout applies when --timeout is not given' '
	rm -f grandchild.pid &&
	(
		cd repo &&
		git config -f .git/ws/plan plan.timeout 1s &&
		ready ws-1 &&
		test_expect_code 1 timeout 20 git ws-dispatch --retries 0 ws-1 -- hang >/dev/null 2>&1 &&
		ws_state ws-1 reason | grep "^timed out after 1s" &&
		git config -f .git/ws/plan --unset plan.timeout
	) &&
	process_gone $(cat grandchild.pid)
'

test_expect_success 'a command killed by a signal fails with that reason' '
	(
		cd repo &&
		ready ws-1 &&
		test_expect_code 1 git ws-dispatch --retries 0 ws-1 -- "kill -9 \$\$" >/dev/null 2>&1 &&
		ws_state ws-1 reason | grep "^killed by signal 9 "
	)
'

test_expect_success 'SIGTERM stops the children, records them interrupted, exits 130' '
	rm -f grandchild.pid child.pid &&
	(
		cd repo &&
		ready ws-1 ws-2 &&
		{ git-ws-dispatch -j 1 ws-1 ws-2 -- hang >../out 2>../err & } &&
		pid=$! &&
		i=0 &&
		while ! test -s ../grandchild.pid || ws_state ws-1 reason >/dev/null
		do
			test $i -lt 100 || { kill $pid; return 1; }
			sleep 0.1 && i=$(($i + 1))
		done &&
		test "$(ws_state ws-1 status)" = in_progress &&
		# the recorded pid leads the process group of the command
		test "$(ps -o pgid= -p $(cat ../child.pid) | tr -d " ")" = "$(ws_state ws-1 pid)" &&
		test "$(ws_state ws-2 status)" = in_progress &&
		test "$(ws_state ws-2 reason)" = queued &&
		kill -TERM $pid &&
		{ wait $pid; code=$?; } &&
		test $code = 130 &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason | grep "^interrupted; see " &&
		test "$(ws_state ws-2 status)" = ready &&
		test_must_fail ws_state ws-2 pid
	) &&
	process_gone $(cat child.pid) &&
	process_gone $(cat grandchild.pid) &&
	grep "(interrupted)" out
'

# A command waits at a start gate until the state records its start.
test_expect_success 'a start that the state cannot record is called off, unrun' '
	write_script bin/break-state <<-\EOF &&
	# ws-1 puts a directory where the next state write needs its lock file
	if test "$WS_ID" = ws-1
	then
		mkdir "$GIT_WS_DIR/state.lock"
	else
		touch "$TRASH/ran-$WS_ID"
	fi
	EOF
	(
		cd repo &&
		ready ws-1 ws-2 &&
		attempts=$(ws_state ws-2 attempts) &&
		test_expect_code 1 git ws-dispatch -j 1 --retries 0 ws-1 ws-2 -- \
			break-state >../out 2>../err &&
		rmdir .git/ws/state.lock &&
		# nothing ran: ready again (the next writer, git ws-status
		# here, sees it queued under a dispatch that is gone), and no
		# attempt counted
		git ws-status ws-2 >../status &&
		test "$(ws_state ws-2 status)" = ready &&
		test "$(ws_state ws-2 attempts)" = "$attempts"
	) &&
	grep "^error: cannot write .*/state" err &&
	test_path_is_missing ran-ws-2 &&
	log=repo/.git/ws/logs/ws-2.log &&
	grep "^fatal: not running .*: its start was called off$" $log &&
	grep "not started: cannot record its start in the state$" $log
'

test_expect_success 'a command producing 50 MB of output loses nothing' '
	write_script bin/flood <<-\EOF &&
	yes out | head -c 26214400 &
	yes err | head -c 26214400 >&2
	wait
	EOF
	(
		cd repo &&
		ready ws-2 &&
		timeout 60 git ws-dispatch ws-2 -- flood >../out 2>../err &&
		test "$(ws_state ws-2 status)" = done
	) &&
	log=repo/.git/ws/logs/ws-2.log &&
	sed -n "/^=== git ws-dispatch: ws-2 attempt [0-9]* (iteration 0) started .*: flood\$/,\$p" $log >attempt &&
	test $(grep -c "^out$" attempt) = 6553600 &&
	test $(grep -c "^err$" attempt) = 6553600 &&
	test $(wc -l <attempt) = 13107202 &&
	test $(wc -c <attempt) -gt 52428800 &&
	rm -f attempt
'

test_done
