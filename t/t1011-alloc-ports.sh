#!/bin/sh

test_description='git ws-alloc: a block of TCP ports for each active workstream (ports = N)'

. ./lib-ws.sh

# The command records the ports it was given, then commits; the test
# gate checks that the gates see the same block.
test_expect_success 'setup' '
	cat >plan <<-\EOF
	[plan]
		ports = 3
		name = demo
		command = echo "$WS_ID $WS_PORT $WS_PORTS" >>"$GIT_WS_DIR/../../seen" && echo x >"$WS_ID.txt" && git add . && git commit -qm "$WS_ID"
		test = test "$WS_PORTS" = 3 && test "$WS_PORT" -ge 20000
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
		depends = a
	EOF
	setup_repo
'

test_expect_success 'each workstream gets its own block, from 20000, recorded as port' '
	(cd repo && git ws-alloc ../plan >/dev/null &&
	 echo "20000 20003 20006" >expect &&
	 echo "$(ws_state a port) $(ws_state b port) $(ws_state c port)" >actual &&
	 test_cmp expect actual)
'

test_expect_success 'the commands and the gates get WS_PORT and WS_PORTS' '
	(cd repo && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	sort repo/seen >actual &&
	printf "a 20000 3\nb 20003 3\nc 20006 3\n" >expect &&
	test_cmp expect actual &&
	(cd repo && test "$(ws_state c status)" = merged)
'

test_expect_success 'a merged workstream'"'"'s block is free for a workstream added later' '
	cp plan plan2 &&
	cat >>plan2 <<-\EOF &&
	[workstream "d"]
		title = D
	[workstream "e"]
		title = E
	EOF
	(cd repo && git ws-alloc ../plan2 >/dev/null &&
	 test "$(ws_state d port)" = 20000 &&
	 test "$(ws_state e port)" = 20003)
'

test_expect_success 'ws.portBase moves the first block' '
	setup_repo based &&
	(cd based && git config ws.portBase 31000 &&
	 git ws-alloc ../plan >/dev/null &&
	 test "$(ws_state a port)" = 31000 &&
	 test "$(ws_state c port)" = 31006)
'

test_expect_success 'ports that is not a positive integer, or too big: file, line and key; nothing made' '
	setup_repo bad &&
	for v in 0 -2 three 70000
	do
		printf "[plan]\n\tcommand = true\n\tports = %s\n[workstream \"a\"]\n\ttitle = A\n" $v >bad.plan &&
		(cd bad && test_expect_code 128 git ws-alloc ../bad.plan 2>../err) &&
		grep "bad.plan:3: bad ports .$v." err &&
		test_path_is_missing bad-a || return 1
	done
'

test_expect_success 'blocks that would pass port 65535: an error naming the plan line, nothing made' '
	(cd bad && git config ws.portBase 65530 &&
	 test_expect_code 128 git ws-alloc ../plan 2>../err) &&
	grep "plan:2: ports: 3 new workstreams with 3 ports each from port 65530 pass port 65535" err &&
	test_path_is_missing bad-a &&
	test_path_is_missing bad/.git/ws/state
'

test_expect_success 'ports cannot change once the plan is allocated' '
	sed "s/ports = 3/ports = 4/" plan >plan4 &&
	(cd repo && test_expect_code 128 git ws-alloc ../plan4 2>../err) &&
	grep "plan4:2: plan .demo. was allocated with ports = 3, not 4" err
'

test_done
