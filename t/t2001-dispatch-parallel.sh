#!/bin/sh

test_description='git ws-dispatch: parallelism, --jobs, shared worktrees'

. ./lib-ws.sh

# max_overlap <events>: the most "start" lines not yet matched by "end".
max_overlap () {
	awk '$1 == "start" { n++; if (n > max) max = n }
	     $1 == "end" { n-- }
	     END { print max + 0 }' "$1"
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin marks &&
	MARKS=$PWD/marks EVENTS=$PWD/events &&
	export MARKS EVENTS &&
	# each waits (at most 10 s) for the marker of the other
	write_script bin/wait-other <<-\EOF &&
	touch "$MARKS/$WS_ID"
	case "$WS_ID" in ws-1) other=ws-2 ;; *) other=ws-1 ;; esac
	i=0
	while ! test -f "$MARKS/$other"
	do
		sleep 0.1
		i=$(($i + 1))
		test $i -lt 100 || exit 1
	done
	EOF
	write_script bin/record <<-\EOF &&
	echo "start $WS_ID $(pwd)" >>"$EVENTS"
	sleep 0.3
	echo "end $WS_ID" >>"$EVENTS"
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = par
		base = main
		command = wait-other
	[workstream "ws-1"]
		title = one
	[workstream "ws-2"]
		title = two
	[workstream "ws-3"]
		title = three
	[workstream "ws-4"]
		title = four
	[workstream "ws-5"]
		title = five
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

PATH=$PWD/bin:$PATH
export PATH

test_expect_success 'two commands waiting for each other finish with -j 2' '
	(
		cd repo &&
		timeout 20 git ws-dispatch -j 2 --retries 0 ws-1 ws-2 >../out 2>../err &&
		test "$(ws_state ws-1 status)" = done &&
		test "$(ws_state ws-2 status)" = done
	) &&
	test_path_is_file marks/ws-1 &&
	test_path_is_file marks/ws-2
'

test_expect_success 'with -j 1 they run one after the other (the first times out)' '
	rm -f marks/* &&
	(
		cd repo &&
		ws_set_state ws-1 status ready &&
		ws_set_state ws-2 status ready &&
		test_expect_code 1 timeout 20 git ws-dispatch -j 1 --retries 0 \
			--timeout 1 ws-1 ws-2 >../out 2>../err &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason | grep "^timed out after 1s" &&
		test "$(ws_state ws-2 status)" = done
	)
'

test_expect_success '--jobs is respected: never more than N at once' '
	rm -f events &&
	(
		cd repo &&
		for i in 1 2 3 4 5; do ws_set_state ws-$i status ready || return 1; done &&
		timeout 20 git ws-dispatch -j 2 -- record >../out 2>../err
	) &&
	test $(grep -c "^start" events) = 5 &&
	test $(grep -c "^end" events) = 5 &&
	test "$(max_overlap events)" = 2 &&
	rm -f events &&
	(
		cd repo &&
		for i in 1 2 3 4 5; do ws_set_state ws-$i status ready || return 1; done &&
		timeout 20 git ws-dispatch --jobs 3 -- record >../out 2>../err
	) &&
	test $(grep -c "^start" events) = 5 &&
	test "$(max_overlap events)" = 3
'

test_expect_success 'the plan says how many jobs by default' '
	rm -f events &&
	(
		cd repo &&
		git config -f .git/ws/plan plan.jobs 1 &&
		for i in 1 2 3; do ws_set_state ws-$i status ready || return 1; done &&
		timeout 20 git ws-dispatch -- record >../out 2>../err
	) &&
	test $(grep -c "^start" events) = 3 &&
	test "$(max_overlap events)" = 1
'

test -d /proc/self/fd && test_set_prereq PROCFS

# The commands started together wait at one start gate (a pipe) until
# the state records them: neither end of it may reach them.
test_expect_success PROCFS 'the commands get no descriptor of git ws-dispatch' '
	# the descriptors of the shell itself (ls runs in a child, where
	# the redirection happens): what any command started from here
	# inherits, with 0, 1 and 2 open
	list="ls /proc/\$\$/fd >\"\$MARKS/fds-\$WS_ID\"; :" &&
	(WS_ID=expect && export WS_ID && sh -c "$list" </dev/null >/dev/null 2>&1) &&
	(
		cd repo &&
		for i in 1 2; do ws_set_state ws-$i status ready || return 1; done &&
		timeout 20 git ws-dispatch -j 2 ws-1 ws-2 -- "$list" >../out 2>../err
	) &&
	test_cmp marks/fds-expect marks/fds-ws-1 &&
	test_cmp marks/fds-expect marks/fds-ws-2
'

test_expect_success 'setup shared worktrees' '
	setup_repo shared &&
	cat >plan2 <<-\EOF &&
	[plan]
		name = shared
		base = main
		command = record
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		worktree = a
	[workstream "c"]
		title = C
	EOF
	(cd shared && git ws-alloc ../plan2 >/dev/null &&
	 test "$(ws_state b worktree)" = "$(ws_state a worktree)" &&
	 test "$(ws_state b status)" = ready)
'

test_expect_success 'workstreams sharing a worktree run one after the other' '
	rm -f events &&
	(cd shared && timeout 20 git ws-dispatch -j 3 >../out 2>../err) &&
	grep -v "^[a-z]* c\( \|\$\)" events >ab &&
	cat >expect <<-EOF &&
	start a $PWD/shared-a
	end a
	start b $PWD/shared-a
	end b
	EOF
	test_cmp expect ab &&
	grep "^start c $PWD/shared-c$" events &&
	(
		cd shared &&
		test "$(ws_state a status)" = done &&
		test "$(ws_state b status)" = done &&
		test "$(ws_state c status)" = done
	)
'

test_expect_success 'one that shares a worktree in use by another dispatch waits' '
	(
		cd shared &&
		ws_set_state a status in_progress &&
		ws_set_state a pid $$ &&
		ws_set_state b status ready &&
		test_expect_code 128 git ws-dispatch b 2>../err &&
		grep "shares its worktree with .a., which is in progress" ../err &&
		test_expect_code 1 git ws-dispatch 2>../err &&
		grep "^warning: .b. waits" ../err &&
		test "$(ws_state b status)" = ready
	)
'

test_done
