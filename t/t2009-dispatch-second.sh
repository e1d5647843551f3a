#!/bin/sh

test_description='git ws-dispatch: a second dispatcher says who runs the plan, or waits for it

While git ws-dispatch --loop runs, a second --loop (or git ws-dispatch
<id> on a workstream it runs) says which git ws-dispatch runs the plan,
with its pid, and exits 1; with --wait it waits for that one to finish,
then goes on as if started afresh. A dispatcher that is gone is not
taken for one that runs (the commands it left running are adopted, see
t2008). git ws-status names the running dispatcher.'

. ./lib-ws.sh

# record_pid: the pid in coordination/dispatcher.
record_pid () {
	sed -n "s/.*\"pid\": *\([0-9]*\).*/\1/p" repo/.git/ws/coordination/dispatcher
}

test_expect_success 'setup: a plan a <- b, an agent that waits for go-<id> when HOLD names it' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	write_script bin/check-good <<-\EOF &&
	for f in *.txt
	do
		test -f "$f" || continue
		grep -q good "$f" || { echo "$f is not good"; exit 1; }
	done
	EOF
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
	echo good >"$WS_ID.txt"
	git add "$WS_ID.txt" && git commit -q -m "$WS_ID: work"
	EOF
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = second
		base = main
		command = agent
		test = check-good
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success 'a first --loop runs; it records itself' '
	HOLD=a && export HOLD &&
	{ (cd repo && timeout 120 git ws-dispatch --loop >../first.out 2>../first.err) & } &&
	first=$! &&
	echo $first >first.pid &&
	wait_for "test -f go-a.waiting" &&
	test_path_is_file repo/.git/ws/coordination/dispatcher &&
	disp=$(record_pid) &&
	test "$(cat /proc/$disp/comm)" = git-ws-dispatch &&
	test "$(cd repo && ws_state a dispatcher)" = $disp
'

test_expect_success 'a second --loop says who runs the plan and exits 1' '
	disp=$(record_pid) &&
	(cd repo && test_expect_code 1 git ws-dispatch --loop >../out 2>../err) &&
	echo "error: another git ws-dispatch (pid $disp) is running this plan; watch it with '"'"'git ws-status'"'"', or wait for it with --wait" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	# it changed nothing
	test "$(cd repo && ws_state a status)" = in_progress &&
	test "$(grep -c "^a " runs)" = 1
'

test_expect_success 'git ws-dispatch <id> on a workstream it runs says so too' '
	disp=$(record_pid) &&
	(cd repo && test_expect_code 1 git ws-dispatch a 2>../err) &&
	grep "^error: another git ws-dispatch (pid $disp) is running .a.; watch it with .git ws-status., or wait for it with --wait$" err
'

test_expect_success 'git ws-status names the running dispatcher; porcelain is unchanged' '
	disp=$(record_pid) &&
	(cd repo && git ws-status >../out && git ws-status --porcelain >../porcelain) &&
	grep "^Dispatched by git ws-dispatch --loop (pid $disp) since 20" out &&
	! grep "Dispatched\|pid" porcelain
'

test_expect_success '--wait waits for the first to finish, then goes on afresh' '
	{ (cd repo && timeout 120 git ws-dispatch --loop --wait >../second.out 2>../second.err) & } &&
	second=$! &&
	disp=$(record_pid) &&
	wait_for "grep -q \"^Waiting for git ws-dispatch (pid $disp) to finish\" second.err" &&
	sleep 0.5 &&
	kill -0 $second &&
	touch go-a &&
	wait $(cat first.pid) &&
	wait $second &&
	test "$(cd repo && ws_state a status)" = merged &&
	test "$(cd repo && ws_state b status)" = merged &&
	# the second found nothing left to run
	test "$(grep -c "^a " runs)" = 1 &&
	test "$(grep -c "^b " runs)" = 1 &&
	grep "^2/2 merged" second.out &&
	test_path_is_missing repo/.git/ws/coordination/dispatcher
'

test_expect_success 'the record of a dispatcher that is gone is ignored' '
	sh -c "exit 0" &
	dead=$! &&
	wait $dead &&
	printf "{\"pid\":%d,\"pid_start\":1,\"started\":\"2026-01-01T00:00:00Z\"}\n" $dead \
		>repo/.git/ws/coordination/dispatcher &&
	(cd repo && git ws-dispatch --loop >../out 2>../err) &&
	! grep "another git ws-dispatch" err &&
	(cd repo && git ws-status >../out) &&
	! grep "^Dispatched by" out
'

test_expect_success 'a live process that is not that dispatcher (another start time) is ignored' '
	printf "{\"pid\":%d,\"pid_start\":1,\"started\":\"2026-01-01T00:00:00Z\"}\n" $$ \
		>repo/.git/ws/coordination/dispatcher &&
	(cd repo && git ws-dispatch --loop >../out 2>../err) &&
	! grep "another git ws-dispatch" err
'

test_done
