#!/bin/sh

test_description='git ws-dispatch --loop: the whole plan, send-backs, the cap, resuming'

. ./lib-ws.sh

# new_plan <dir> <agent>: a repository <dir> with a diamond a <- b, c <- d
# allocated, whose command is bin/<agent> and whose test gate checks that
# every file a workstream adds says "good".
new_plan () {
	setup_repo "$1" &&
	cat >"$1.plan" <<-EOF &&
	[plan]
		name = loop
		base = main
		command = $2
		test = check-good
		max-iterations = 2
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	[workstream "c"]
		title = C
		depends = a
	[workstream "d"]
		title = D
		depends = b c
	EOF
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null)
}

test_expect_success 'setup: agents' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	# the test gate: every *.txt says good
	write_script bin/check-good <<-\EOF &&
	for f in *.txt
	do
		test -f "$f" || continue
		grep -q good "$f" || { echo "$f is not good"; exit 1; }
	done
	EOF
	# writes a good file, except that c writes a bad one on its first
	# iteration and fixes it when $WS_REPORT says why
	write_script bin/agent <<-\EOF &&
	echo "$WS_ID $WS_ITERATION" >>"$TRASH/runs"
	if test "$WS_ID" = c && test -z "$WS_REPORT"
	then
		echo bad >"$WS_ID.txt"
	else
		echo good >"$WS_ID.txt"
	fi
	git add "$WS_ID.txt" && { git diff --cached --quiet || git commit -q -m "$WS_ID"; }
	EOF
	# never gets it right
	write_script bin/stubborn <<-\EOF &&
	echo "$WS_ID $WS_ITERATION" >>"$TRASH/runs"
	if test "$WS_ID" = b
	then
		echo "bad $WS_ITERATION" >"$WS_ID.txt"
	else
		echo good >"$WS_ID.txt"
	fi
	git add "$WS_ID.txt" && git commit -q -m "$WS_ID $WS_ITERATION"
	EOF
	# waits (at most 20 s) for the test to say go
	write_script bin/slow <<-\EOF
	touch "$TRASH/started-$WS_ID"
	i=0
	while ! test -f "$TRASH/go"
	do
		sleep 0.1
		i=$(($i + 1))
		test $i -lt 200 || exit 1
	done
	echo good >"$WS_ID.txt"
	git add "$WS_ID.txt" && git commit -q -m "$WS_ID"
	EOF
'

test_expect_success '--loop runs the plan to the end, sending back what fails a gate' '
	new_plan one agent &&
	(cd one && timeout 120 git ws-dispatch --loop >../out 2>../err) &&
	for id in a b c d
	do
		test "$(cd one && ws_state $id status)" = merged || return 1
	done &&
	git -C one log --first-parent --format=%s main >log &&
	head -n 1 log >last &&
	echo "Merge d: D" >expect &&
	test_cmp expect last &&
	test_line_count = 5 log &&
	grep "^c 0$" runs &&
	grep "^c 1$" runs &&
	grep "^c: sent back (iteration 1): gate .tests. failed" err &&
	grep "^4/4 merged" out
'

test_expect_success '--loop stops at max-iterations: failed, exit 1, dependents blocked' '
	rm -f runs &&
	new_plan two stubborn &&
	(cd two && test_expect_code 1 timeout 120 git ws-dispatch --loop >../out 2>../err) &&
	(
		cd two &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state c status)" = merged &&
		test "$(ws_state b status)" = failed &&
		ws_state b reason >../reason &&
		test "$(ws_state d status)" = blocked
	) &&
	grep "did not converge after 2 iterations" reason &&
	test "$(grep -c "^b " runs)" = 2 &&
	grep "^  b  *failed  *did not converge" out &&
	grep "^2/4 merged" out
'

test_expect_success '--loop --porcelain: one loop record per workstream' '
	(cd two && test_expect_code 1 git ws-dispatch --loop --porcelain >../out 2>/dev/null) &&
	cut -f1-3 out >actual &&
	printf "loop\ta\tmerged\nloop\tb\tfailed\nloop\tc\tmerged\nloop\td\tblocked\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'usage: --loop takes no ids, --detach or --dry-run' '
	(cd two && test_expect_code 129 git ws-dispatch --loop a 2>../err) &&
	grep "^usage: " err &&
	(cd two && test_expect_code 129 git ws-dispatch --loop --detach 2>/dev/null) &&
	(cd two && test_expect_code 129 git ws-dispatch --loop -n 2>/dev/null)
'

# A background job of a script ignores SIGINT (POSIX), and dispatch keeps
# ignored signals ignored: stop it with SIGTERM, which it treats as Ctrl-C.
test_expect_success 'stopping the loop (SIGTERM, as Ctrl-C); running it again resumes and finishes' '
	new_plan three slow &&
	rm -f go &&
	(cd three && exec setsid git ws-dispatch --loop >../out 2>../err) &
	loop=$! &&
	wait_for "test -f started-a" &&
	kill -TERM -$loop &&
	wait $loop
	test $? -ne 0 &&
	(
		cd three &&
		test "$(ws_state a status)" = failed &&
		ws_state a reason >../reason
	) &&
	grep interrupted reason &&
	touch go &&
	(cd three && timeout 120 git ws-dispatch --loop >../out 2>../err) &&
	for id in a b c d
	do
		test "$(cd three && ws_state $id status)" = merged || return 1
	done
'

test_done
