#!/bin/sh

test_description='git ws-dispatch: the "usage" of done files, summed per workstream

Scripted commands stand for coding agents: they write $WS_DONE_FILE with
a "usage" object. Every ended attempt adds its tokens and cost to the
workstream in the state (tokens-in, tokens-out, cost-usd), over retries
and iterations, exactly once; git ws-status shows them and the total.'

. ./lib-ws.sh

# new_plan <dir> <command> [<max-iterations>]: a repository <dir> with
# workstreams a and b allocated, whose command is <command> and whose test
# gate checks that every *.txt says "good".
new_plan () {
	setup_repo "$1" &&
	cat >"$1.plan" <<-EOF &&
	[plan]
		name = usage
		base = main
		command = $2
		test = check-good
		max-iterations = ${3:-3}
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null)
}

# state_usage <dir> <id>: its tokens-in, tokens-out and cost-usd, one line
state_usage () {
	(
		cd "$1" &&
		printf "%s %s %s\n" "$(ws_state $2 tokens-in)" \
			"$(ws_state $2 tokens-out)" "$(ws_state $2 cost-usd)"
	)
}

test_expect_success 'setup: agents that report their usage' '
	mkdir bin &&
	TRASH=$PWD && export TRASH &&
	write_script bin/check-good <<-\EOF &&
	for f in *.txt
	do
		test -f "$f" || continue
		grep -q good "$f" || { echo "$f is not good"; exit 1; }
	done
	EOF
	# done <status> <usage JSON>: write the done file
	write_script bin/done-file <<-\EOF &&
	printf "{\"status\":\"%s\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"%s\",\"summary\":\"\",\"usage\":%s}\n" \
		"$1" "$WS_ID" "$2" >"$WS_DONE_FILE"
	EOF
	# commits a good file; costs 1000 in, 200 out, $0.25 per run
	write_script bin/spend <<-\EOF &&
	echo "$WS_ID $WS_ATTEMPT $WS_ITERATION" >>"$TRASH/runs"
	echo good >"$WS_ID.txt"
	git add "$WS_ID.txt" && { git diff --cached --quiet || git commit -q -m "$WS_ID"; }
	done-file success "{\"input_tokens\":1000,\"output_tokens\":200,\"cost_usd\":0.25}"
	EOF
	# fails its first attempt (having spent $0.10), then as spend
	write_script bin/fail-first <<-\EOF &&
	if test "$WS_ATTEMPT" = 1
	then
		done-file failed "{\"input_tokens\":300,\"output_tokens\":30,\"cost_usd\":0.1}"
		exit 1
	fi
	exec spend
	EOF
	# a bad file on the first iteration, fixed when $WS_REPORT says why
	write_script bin/bad-first <<-\EOF &&
	if test -z "$WS_REPORT"
	then
		echo bad >"$WS_ID.txt"
	else
		echo good >"$WS_ID.txt"
	fi
	git add "$WS_ID.txt" && { git diff --cached --quiet || git commit -q -m "$WS_ID $WS_ITERATION"; }
	done-file success "{\"input_tokens\":1000,\"output_tokens\":200,\"cost_usd\":0.25}"
	EOF
	# only tokens, no cost
	write_script bin/tokens-only <<-\EOF &&
	done-file success "{\"input_tokens\":7}"
	EOF
	# an empty usage object; and none at all
	write_script bin/usage-empty <<-\EOF &&
	done-file success "{}"
	EOF
	write_script bin/no-usage <<-\EOF &&
	printf "{\"status\":\"success\",\"timestamp\":\"2026-01-02T03:04:05Z\",\"workstream_id\":\"%s\"}\n" "$WS_ID" >"$WS_DONE_FILE"
	EOF
	write_script bin/bad-usage <<-\EOF &&
	done-file success "{\"input_tokens\":-5,\"cost_usd\":9}"
	EOF
	# writes its done file, then hangs until killed
	write_script bin/spend-then-hang <<-\EOF &&
	done-file success "{\"output_tokens\":40,\"cost_usd\":0.5}"
	sleep 100
	EOF
	# leaves its done file, and a record that says it still runs as a
	# pid that is gone
	write_script bin/vanish <<-\EOF
	done-file success "{\"input_tokens\":11,\"output_tokens\":22,\"cost_usd\":0.33}"
	EOF
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success 'one attempt: its usage is in the state, readable by git config' '
	new_plan one spend &&
	(cd one && git ws-dispatch a >/dev/null 2>&1) &&
	echo "1000 200 0.250000" >expect &&
	state_usage one a >actual &&
	test_cmp expect actual &&
	(
		cd one &&
		test "$(git config -f .git/ws/state --get workstream.a.cost-usd)" = 0.250000 &&
		test_must_fail ws_state b cost-usd
	)
'

test_expect_success 'a second dispatch adds to it' '
	(cd one && ws_set_state a status ready && git ws-dispatch a >/dev/null 2>&1) &&
	echo "2000 400 0.500000" >expect &&
	state_usage one a >actual &&
	test_cmp expect actual
'

test_expect_success 'a failed attempt and its retry both count' '
	new_plan retry fail-first &&
	(cd retry && git ws-dispatch --retries 1 a >/dev/null 2>&1) &&
	test "$(cd retry && ws_state a attempts)" = 2 &&
	test "$(cd retry && ws_state a status)" = done &&
	echo "1300 230 0.350000" >expect &&
	state_usage retry a >actual &&
	test_cmp expect actual
'

test_expect_success 'every iteration counts: --loop sends a back once, all summed' '
	rm -f runs &&
	new_plan iter bad-first &&
	(cd iter && timeout 120 git ws-dispatch --loop >../out 2>../err) &&
	(
		cd iter &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state a iterations)" = 1 &&
		test "$(ws_state a attempts)" = 2
	) &&
	grep "^a: sent back (iteration 1)" err &&
	echo "2000 400 0.500000" >expect &&
	state_usage iter a >actual &&
	test_cmp expect actual &&
	state_usage iter b >actual &&
	test_cmp expect actual
'

test_expect_success 'git ws-status shows each workstream'"'"'s tokens and cost, and the total' '
	(cd iter && git ws-status >../out) &&
	grep "^  a  .*  merged .*  2000 in/400 out  \$0\.50\$" out &&
	grep "^  b  .*  merged .*  2000 in/400 out  \$0\.50\$" out &&
	grep "^2/2 merged\$" out &&
	tail -n 1 out >actual &&
	echo "Total: 4000 in/800 out, \$1.00" >expect &&
	test_cmp expect actual
'

test_expect_success 'git ws-status --porcelain: tokens-in, tokens-out, cost-usd after the reason' '
	(cd iter && git ws-status --porcelain >../out) &&
	cut -f1,2,7-10 out >actual &&
	printf "a\tmerged\t\t2000\t400\t0.500000\nb\tmerged\t\t2000\t400\t0.500000\n" >expect &&
	test_cmp expect actual &&
	# the first seven fields are as before; where it ran follows (4)
	awk -F "\t" "NF != 14 { exit 1 }" out &&
	(cd iter && git ws-status --porcelain -z >../out.z) &&
	tr "\000" "\n" <out.z >actual &&
	test_cmp out actual
'

test_expect_success 'a workstream without usage shows none; no total line without any' '
	new_plan none no-usage &&
	(cd none && git ws-dispatch >/dev/null 2>&1) &&
	(
		cd none &&
		test "$(ws_state a status)" = done &&
		test_must_fail ws_state a tokens-in &&
		test_must_fail ws_state a cost-usd &&
		git ws-status >../out &&
		git ws-status --porcelain >../porcelain
	) &&
	! grep "^Total" out &&
	grep "^  a  .*  clean\$" out &&
	cut -f7-10 porcelain >actual &&
	printf "\t\t\t\n\t\t\t\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an empty usage object adds nothing; tokens without a cost are shown alone' '
	new_plan partial usage-empty &&
	(cd partial && git ws-dispatch a >/dev/null 2>&1) &&
	(cd partial && test_must_fail ws_state a tokens-in) &&
	(cd partial && git ws-dispatch -- tokens-only >/dev/null 2>&1) &&
	(
		cd partial &&
		test "$(ws_state b tokens-in)" = 7 &&
		test_must_fail ws_state b tokens-out &&
		test_must_fail ws_state b cost-usd &&
		git ws-status >../out &&
		git ws-status --porcelain b >../porcelain
	) &&
	grep "^  b  .*  clean  7 in\$" out &&
	tail -n 1 out >actual &&
	echo "Total: 7 in, \$0.00" >expect &&
	test_cmp expect actual &&
	cut -f8-10 porcelain >actual &&
	printf "7\t\t\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a malformed usage object fails the attempt, says why, and counts nothing' '
	new_plan bad bad-usage &&
	(cd bad && test_expect_code 1 git ws-dispatch --retries 0 a >../out 2>../err) &&
	(
		cd bad &&
		test "$(ws_state a status)" = failed &&
		ws_state a reason >../reason &&
		test_must_fail ws_state a tokens-in &&
		test_must_fail ws_state a cost-usd
	) &&
	grep "^malformed done file: \"usage.input_tokens\" must be an integer >= 0 (exit status 0); see " reason
'

test_expect_success 'a command killed at its timeout still counts what its done file says' '
	new_plan killed spend-then-hang &&
	(cd killed && test_expect_code 1 git ws-dispatch --retries 0 --timeout 1 a >/dev/null 2>&1) &&
	(
		cd killed &&
		test "$(ws_state a status)" = failed &&
		ws_state a reason >../reason
	) &&
	grep "^timed out after 1s" reason &&
	echo " 40 0.500000" >expect &&
	state_usage killed a >actual &&
	test_cmp expect actual
'

test_expect_success 'a vanished command is finalised from its done file once, by whoever sees it first' '
	new_plan gone vanish &&
	(
		cd gone &&
		(cd ../gone-a && WS_ID=a WS_DONE_FILE=$PWD/../gone/.git/ws/coordination/a.done vanish) &&
		ws_set_state a status in_progress &&
		ws_set_state a pid 999999 &&
		git ws-status >/dev/null 2>&1 &&
		test "$(ws_state a status)" = done &&
		git ws-status >/dev/null 2>&1 &&
		git ws-status --porcelain >/dev/null 2>&1 &&
		git ws-dispatch b >/dev/null 2>&1
	) &&
	echo "11 22 0.330000" >expect &&
	state_usage gone a >actual &&
	test_cmp expect actual
'

test_expect_success 'a rerun does not count the last attempt'"'"'s done file again' '
	(
		cd gone &&
		ws_set_state a status ready &&
		git ws-dispatch a -- no-usage >/dev/null 2>&1 &&
		test "$(ws_state a attempts)" = 1
	) &&
	echo "11 22 0.330000" >expect &&
	state_usage gone a >actual &&
	test_cmp expect actual
'

test_expect_success 'a hand-edited sum is left out with a warning, and the next run starts it again' '
	(
		cd gone &&
		ws_set_state a cost-usd "1.2.3" &&
		git ws-status >../out 2>../err &&
		ws_set_state a status ready &&
		git ws-dispatch a -- vanish >/dev/null 2>&1
	) &&
	grep "^warning: .*/state: bad cost-usd .1\.2\.3. for .a. (left out)\$" err &&
	echo "22 44 0.330000" >expect &&
	state_usage gone a >actual &&
	test_cmp expect actual
'

test_done
