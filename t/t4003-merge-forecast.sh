#!/bin/sh

test_description='git ws-merge -n: the queue forecast in order and cumulatively'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

test_expect_success 'setup: four independent workstreams rewrite the same file' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = forecast
		base = main
		command = true
		test = true
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
	[workstream "d"]
		title = D
	[workstream "e"]
		title = E
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work a shared.c "from a" &&
		work b shared.c "from b" &&
		work c shared.c "from c" &&
		work d shared.c "from d" &&
		work e other.c &&
		queue a b c d e
	)
'

test_expect_success '-n forecasts 1 clean, then 3 conflicts with a' '
	(
		cd repo &&
		git rev-parse main >../main.before &&
		git for-each-ref >../refs.before &&
		cp .git/ws/state ../state.before &&
		test_expect_code 1 git ws-merge -n >../out &&
		grep "^a: would merge cleanly into main" ../out &&
		for id in b c d
		do
			grep "^$id: would not merge: conflict in shared.c with a (merged before it)$" ../out ||
			return 1
		done &&
		grep "^e: would merge cleanly into main" ../out &&
		test "$(grep -c "would not merge" ../out)" = 3 &&
		git for-each-ref >../refs.after &&
		test_cmp ../refs.before ../refs.after &&
		test_cmp ../state.before .git/ws/state
	)
'

test_expect_success '--porcelain -n says the same, naming a in its fifth field' '
	(
		cd repo &&
		test_expect_code 1 git ws-merge -n --porcelain >../out &&
		grep "^merged	a	" ../out &&
		for id in b c d
		do
			printf "conflict\t%s\t\tconflict in shared.c with a (merged before it)\ta\n" $id >../expect &&
			grep "^conflict	$id	" ../out >../actual &&
			test_cmp ../expect ../actual || return 1
		done &&
		grep "^merged	e	" ../out
	)
'

test_expect_success 'the real run agrees with the forecast' '
	(
		cd repo &&
		test_expect_code 1 git ws-merge --porcelain >../out &&
		test "$(cut -f1,2 ../out | tr "\t" " " | sort)" = "$(printf "%s\n" "conflict b" "conflict c" "conflict d" "merged a" "merged e")" &&
		test "$(ws_state a status)" = merged &&
		test "$(ws_state e status)" = merged &&
		for id in b c d
		do
			test "$(ws_state $id status)" = done &&
			test "$(ws_state $id reason)" = "conflict: shared.c (touched by a)" ||
			return 1
		done
	)
'

test_expect_success 'a dependent of a workstream that would conflict would wait' '
	cat >plan2 <<-\EOF &&
	[plan]
		name = forecast2
		base = main
		command = true
		test = true
	[workstream "p"]
		title = P
	[workstream "q"]
		title = Q
	[workstream "r"]
		title = R
		depends = q
	EOF
	rm -rf repo repo-* &&
	setup_repo &&
	(
		cd repo &&
		git ws-alloc ../plan2 >/dev/null &&
		work p shared.c "from p" &&
		work q shared.c "from q" &&
		work r r.c &&
		queue p q r &&
		test_expect_code 1 git ws-merge -n >../out &&
		grep "^q: would not merge: conflict in shared.c with p (merged before it)" ../out &&
		grep "^r: would wait for q (would not merge)" ../out
	)
'

test_done
