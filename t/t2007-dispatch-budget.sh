#!/bin/sh

test_description='git ws-dispatch: the max-cost budget of a plan

Once the cost recorded for the plan reaches its max-cost, no attempt
starts: what would have started stays (or goes back to) ready with reason
"budget spent", running commands finish, --loop and a plain dispatch say
so and exit 1. Raising max-cost in the plan lets it go on.'

. ./lib-ws.sh

# write_plan <file> <max-cost> [<command>]: workstreams a, b, c and d
# (which depends on c), each run costing $0.60.
write_plan () {
	cat >"$1" <<-EOF
	[plan]
		name = budget
		base = main
		command = ${3:-spend}
		test = check-good
		max-cost = $2
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
	[workstream "d"]
		title = D
		depends = c
	EOF
}

# new_plan <dir> <max-cost> [<command>]
new_plan () {
	setup_repo "$1" &&
	write_plan "$1.plan" "$2" "$3" &&
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null)
}

test_expect_success 'setup: agents that cost $0.60 a run' '
	mkdir bin &&
	TRASH=$PWD && export TRASH &&
	write_script bin/check-good <<-\EOF &&
	for f in *.txt
	do
		test -f "$f" || continue
		grep -q good "$f" || { echo "$f is not good"; exit 1; }
	done
	EOF
	write_script bin/done-file <<-\EOF &&
	printf "{\"status\":\"%s\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"%s\",\"summary\":\"\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":200,\"cost_usd\":0.6}}\n" \
		"$1" "$WS_ID" >"$WS_DONE_FILE"
	EOF
	write_script bin/spend <<-\EOF &&
	echo "$WS_ID $WS_ATTEMPT" >>"$TRASH/runs"
	echo good >"$WS_ID.txt"
	git add "$WS_ID.txt" && { git diff --cached --quiet || git commit -q -m "$WS_ID"; }
	done-file success
	EOF
	# as spend, once a and b have both started (at most 20 s)
	write_script bin/spend-together <<-\EOF &&
	touch "$TRASH/started-$WS_ID"
	i=0
	while ! test -f "$TRASH/started-a" || ! test -f "$TRASH/started-b"
	do
		sleep 0.1
		i=$(($i + 1))
		test $i -lt 200 || exit 1
	done
	exec spend
	EOF
	write_script bin/fail-first <<-\EOF
	echo "$WS_ID $WS_ATTEMPT" >>"$TRASH/runs"
	test "$WS_ATTEMPT" = 1 || exec spend
	done-file failed
	exit 1
	EOF
'

PATH=$PWD/bin:$PATH
export PATH

SPENT='budget spent: $1.20 of $1.00 max-cost; raise max-cost in the plan to go on'

test_expect_success 'a bad max-cost is refused with file, line and key' '
	setup_repo bad &&
	for v in 0 -1 1e3 "\$5" 0.0000001 lots
	do
		write_plan bad.plan "$v" &&
		(cd bad && test_expect_code 128 git ws-alloc ../bad.plan 2>../err) &&
		echo "fatal: ../bad.plan:6: bad max-cost '"'"'$v'"'"' (expected a positive amount in US dollars, e.g. 5 or 2.50)" >expect &&
		test_cmp expect err &&
		test_path_is_missing bad/.git/ws/state || return 1
	done
'

test_expect_success 'the allocated plan keeps max-cost' '
	new_plan loop 1 &&
	test "$(git config -f loop/.git/ws/plan plan.max-cost)" = 1.00
'

test_expect_success '--loop -j 1: the budget runs out mid-plan; the rest wait, exit 1' '
	rm -f runs &&
	(cd loop && test_expect_code 1 timeout 120 git ws-dispatch --loop -j 1 >../out 2>../err) &&
	(
		cd loop &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state b status)" = merged &&
		test "$(ws_state c status)" = ready &&
		test "$(ws_state c reason)" = "budget spent" &&
		test "$(ws_state c attempts)" = 0 &&
		test "$(ws_state d status)" = blocked
	) &&
	printf "a 1\nb 1\n" >expect &&
	test_cmp expect runs &&
	echo "$SPENT" >expect &&
	tail -n 1 err >actual &&
	test_cmp expect actual &&
	grep "^c: ready: budget spent\$" err &&
	grep "^  c  *ready  *budget spent  (log: " out &&
	grep "^2/4 merged\$" out
'

test_expect_success 'git ws-status shows the reason, the total and the budget' '
	(cd loop && git ws-status >../out) &&
	grep "^  c  .*  ready .*  clean  *(budget spent)\$" out &&
	grep "^  d  .*  blocked .*(waiting for c to merge)\$" out &&
	tail -n 2 out >actual &&
	cat >expect <<-EOF &&
	Total: 2000 in/400 out, \$1.20 of \$1.00 max-cost
	$SPENT
	EOF
	test_cmp expect actual &&
	(cd loop && git ws-status --porcelain c >../out) &&
	cut -f1,2,7-10 out >actual &&
	printf "c\tready\tbudget spent\t\t\t\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a plain git ws-dispatch refuses to start, with the same message, exit 1' '
	(cd loop && test_expect_code 1 git ws-dispatch c >../out 2>../err) &&
	echo "error: $SPENT" >expect &&
	test_cmp expect err &&
	test_must_be_empty out &&
	(cd loop && test_expect_code 1 git ws-dispatch 2>../err) &&
	test_cmp expect err &&
	(cd loop && test_expect_code 1 git ws-dispatch --dry-run 2>../err) &&
	test_cmp expect err &&
	(cd loop && test_expect_code 1 git ws-dispatch --loop >/dev/null 2>../err) &&
	echo "$SPENT" >expect &&
	tail -n 1 err >actual &&
	test_cmp expect actual &&
	! grep started err &&
	printf "a 1\nb 1\n" >expect &&
	test_cmp expect runs &&
	test "$(cd loop && ws_state c status)" = ready
'

test_expect_success 'raising max-cost in the plan and running again finishes the plan' '
	write_plan loop.plan 10 &&
	(cd loop && git ws-alloc ../loop.plan >/dev/null) &&
	test "$(git config -f loop/.git/ws/plan plan.max-cost)" = 10.00 &&
	(cd loop && git ws-status >../out) &&
	! grep "budget spent" out &&
	grep "^  c  .*  ready .*  clean\$" out &&
	(cd loop && timeout 120 git ws-dispatch --loop -j 1 >../out 2>../err) &&
	grep "^4/4 merged\$" out &&
	! grep "budget spent" err &&
	printf "a 1\nb 1\nc 1\nd 1\n" >expect &&
	test_cmp expect runs &&
	(cd loop && git ws-status >../out) &&
	tail -n 1 out >actual &&
	echo "Total: 4000 in/800 out, \$2.40 of \$10.00 max-cost" >expect &&
	test_cmp expect actual
'

test_expect_success 'the commands running when the budget runs out finish; nothing new starts' '
	rm -f runs started-* &&
	new_plan together 0.5 spend-together &&
	(cd together && test_expect_code 1 timeout 120 git ws-dispatch --loop -j 2 >../out 2>../err) &&
	(
		cd together &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state b status)" = merged &&
		test "$(ws_state a attempts)" = 1 &&
		test "$(ws_state b attempts)" = 1 &&
		test "$(ws_state c status)" = ready &&
		test "$(ws_state c reason)" = "budget spent"
	) &&
	test_path_is_missing started-c &&
	tail -n 1 err >actual &&
	echo "budget spent: \$1.20 of \$0.50 max-cost; raise max-cost in the plan to go on" >expect &&
	test_cmp expect actual
'

test_expect_success 'a plain dispatch -j 1 holds what has not started once the budget runs out' '
	rm -f runs &&
	new_plan plain 1 &&
	(cd plain && test_expect_code 1 git ws-dispatch -j 1 >../out 2>../err) &&
	(
		cd plain &&
		test "$(ws_state a status)" = done &&
		test "$(ws_state b status)" = done &&
		test "$(ws_state c status)" = ready &&
		test "$(ws_state c reason)" = "budget spent" &&
		test_must_fail ws_state c pid
	) &&
	printf "a 1\nb 1\n" >expect &&
	test_cmp expect runs &&
	grep "^  c  *not-started  *not started: budget spent\$" out &&
	tail -n 1 err >actual &&
	echo "$SPENT" >expect &&
	test_cmp expect actual &&
	grep "not started: budget spent" plain/.git/ws/logs/c.log
'

test_expect_success 'no retry starts once the budget is spent' '
	rm -f runs &&
	new_plan retry 0.5 fail-first &&
	(cd retry && test_expect_code 1 git ws-dispatch --retries 2 a >/dev/null 2>../err) &&
	(
		cd retry &&
		test "$(ws_state a status)" = ready &&
		test "$(ws_state a reason)" = "budget spent" &&
		test "$(ws_state a attempts)" = 1 &&
		test "$(ws_state a cost-usd)" = 0.600000
	) &&
	echo "a 1" >expect &&
	test_cmp expect runs
'

test_done
