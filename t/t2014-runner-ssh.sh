#!/bin/sh

test_description='runner = ssh: commands on ssh hosts (an sshd on 127.0.0.1)'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-sshd.sh

# process_gone <pid>: no such process (a zombie counts as gone).
process_gone () {
	! kill -0 "$1" 2>/dev/null ||
	grep -q "^$1 (.*) Z" /proc/$1/stat 2>/dev/null
}

test_expect_success SSHD 'start an sshd on 127.0.0.1' '
	sshd_start &&
	$GIT_WS_SSH_COMMAND ws-b "echo hello" >out &&
	echo hello >expect &&
	test_cmp expect out
'

# The commands run in the worktree on the host: ../bin is the trash
# directory's, which the hosts share (they are this machine).
test_expect_success SSHD 'setup: a plan on two hosts, one command at a time on each' '
	setup_repo &&
	mkdir bin &&
	write_script bin/job <<-\EOF &&
	mkdir ../running.$WS_ID
	ls -d ../running.* | wc -l >>../concurrency
	env | grep "^WS_" | sort >../$WS_ID.env
	printf "%s" "$WS_TRICKY" >../$WS_ID.tricky
	pwd >../$WS_ID.pwd
	sleep 2
	rmdir ../running.$WS_ID
	EOF
	write_script bin/long <<-\EOF &&
	sleep 300 &
	echo $! >../$WS_ID.sleep
	echo $$ >../$WS_ID.pid
	wait
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = rs
		base = main
		runner = ssh
		ssh-hosts = ws-a ws-b
		ssh-jobs = 1
		jobs = 4
		command = ../bin/job
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
	[workstream "d"]
		title = D
	[workstream "long"]
		title = Long
		command = ../bin/long
	[workstream "slow"]
		title = Slow
		command = ../bin/long
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success SSHD 'a plan runs on both hosts, never more than ssh-jobs on each' '
	WS_TRICKY="it'"'"'s \"quoted\" \$HOME \`x\`
and a second line" &&
	export WS_TRICKY &&
	(cd repo && git ws-dispatch a b c d >../out 2>&1) &&
	for id in a b c d
	do
		(cd repo && ws_state $id status) >actual &&
		echo done >expect &&
		test_cmp expect actual &&
		(cd repo && ws_state $id runner) >actual &&
		echo ssh >expect &&
		test_cmp expect actual &&
		(cd repo && ws_state $id host) >>hosts &&
		echo "$PWD/repo-$id" >expect &&
		test_cmp expect $id.pwd &&
		# every WS_* unchanged, ours too
		grep "^WS_ID=$id$" $id.env &&
		grep "^WS_WORKTREE=$PWD/repo-$id$" $id.env &&
		printf "%s" "$WS_TRICKY" >expect &&
		test_cmp expect $id.tricky || return 1
	done &&
	sort hosts | uniq -c >per-host &&
	grep "^ *2 ws-a$" per-host &&
	grep "^ *2 ws-b$" per-host &&
	# two at once (two hosts), never more (one on each)
	sort -n concurrency | tail -n 1 >max &&
	echo 2 >expect &&
	test_cmp expect max
'

test_expect_success SSHD 'stopping the dispatcher kills the remote process group' '
	(cd repo && exec git-ws-dispatch long >../out 2>&1) &
	dispatcher=$! &&
	test_when_finished "kill -9 $dispatcher 2>/dev/null; :" &&
	wait_for "test -s long.pid && test -s long.sleep" &&
	kill -0 "$(cat long.pid)" &&
	kill -0 "$(cat long.sleep)" &&
	(cd repo && git ws-status) >status &&
	grep "running on ssh: host ws-[ab]" status &&
	kill -TERM $dispatcher &&
	{ wait $dispatcher || :; } &&
	wait_for "process_gone $(cat long.pid) && process_gone $(cat long.sleep)"
'

test_expect_success SSHD 'a timeout kills the remote process group too' '
	(cd repo && test_expect_code 1 git ws-dispatch --retries 0 --timeout 8s slow >../out 2>&1) &&
	(cd repo && ws_state slow reason) >actual &&
	grep "^timed out after 8s" actual &&
	# it ran (ssh connects in well under 8 s), and runs no more
	test -s slow.pid &&
	test -s slow.sleep &&
	wait_for "process_gone $(cat slow.pid) && process_gone $(cat slow.sleep)"
'

test_expect_success SSHD 'an unreachable host fails the attempt with ssh'"'"'s message; the retry goes elsewhere' '
	setup_repo repo2 &&
	cat >plan2 <<-\EOF &&
	[plan]
		name = down
		base = main
		runner = ssh
		ssh-hosts = ws-down ws-a
		command = ../bin/job
	[workstream "e"]
		title = E
	EOF
	(cd repo2 && git ws-alloc ../plan2 >/dev/null) &&
	(cd repo2 && git ws-dispatch --retries 1 e >../out 2>&1) &&
	(cd repo2 && ws_state e status) >actual &&
	echo done >expect &&
	test_cmp expect actual &&
	(cd repo2 && ws_state e host) >actual &&
	echo ws-a >expect &&
	test_cmp expect actual &&
	grep "e attempt 1 ended .*: ssh to .ws-down. failed: ssh: connect to host 127.0.0.1 port $SSHD_DOWN_PORT: Connection refused" \
		repo2/.git/ws/logs/e.log
'

test_expect_success SSHD 'without ssh-hosts, a command does not start, and says why' '
	setup_repo repo3 &&
	cat >plan3 <<-\EOF &&
	[plan]
		name = nohosts
		base = main
		runner = ssh
		command = true
	[workstream "f"]
		title = F
	EOF
	(cd repo3 && git ws-alloc ../plan3 >/dev/null) &&
	(cd repo3 && test_expect_code 1 git ws-dispatch --retries 0 f >../out 2>&1) &&
	(cd repo3 && ws_state f reason) >actual &&
	grep "needs .ssh-hosts. in the plan" actual
'

test_done
