#!/bin/sh

test_description='kill git ws-dispatch at every git command of a pool slot switch, then run it again

With pool = 1, a merged workstream a holds slot-1 and b is ready for it.
git ws-dispatch b switches the slot to b (git checkout, the hook, then
the start of b), recording the switch first (slot-taking, git-ws(7)
FAULTS). It is killed with SIGKILL just before and just after each git
command it runs (see lib-kill.sh); after each kill, the next git
ws-dispatch b must finish the switch and run b, the slot clean and on
b'"'"'s branch, no record left.'

. ./lib-ws.sh

# project <dir>: a repository whose .env is ignored and copied into every
# worktree (.worktreeinclude).
project () {
	setup_repo "$1" &&
	(
		cd "$1" &&
		printf ".env\ndeps/\n" >.gitignore &&
		git add .gitignore && git commit -q -m ignore &&
		echo SECRET=1 >.env &&
		echo .env >.worktreeinclude
	)
}

test_expect_success 'setup: the plan' '
	cat >plan1 <<-\EOF
	[plan]
		name = one
		base = main
		command = echo $WS_ID >$WS_ID.txt && git add $WS_ID.txt && git commit -qm $WS_ID
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
'

# The kill sweep: a fresh directory of its own, with lib-kill.sh's git
# wrapper, so that the paths of lib-kill.sh (repo, repo-*) are ours.
test_expect_success 'setup: a merged a holds slot-1; b is ready for it' '
	mkdir kill && (
		cd kill &&
		. "$WS_SOURCE_DIR/t/lib-kill.sh" &&
		KILL_DIR=$(pwd) &&
		kill_setup_git_wrapper &&
		project repo &&
		(cd repo && git ws-alloc --pool 1 ../../plan1 >/dev/null &&
		 git ws-dispatch a && git ws-converge a >/dev/null &&
		 git ws-merge >/dev/null) &&
		: >agents.log &&
		kill_snapshot merged
	)
'

# b is finished after the rerun: done, in slot-1 on its branch, the slot
# clean, no record of the switch left, a's worktree given up.
kill_b_finished () {
	(cd repo && ws_state b status >../actual && ws_state b slot >>../actual &&
	 test_must_fail ws_state b slot-taking && test_must_fail ws_state a worktree) &&
	printf "done\nslot-1\n" >expect && test_cmp expect actual &&
	git -C repo-slot-1 symbolic-ref HEAD >actual &&
	echo refs/heads/feature/b-b >expect && test_cmp expect actual &&
	git -C repo-slot-1 status --porcelain >actual && test_must_be_empty actual &&
	test_path_is_file repo-slot-1/b.txt
}

# kill_reaped: wait (at most 5 s) until the process that the state
# records for b is gone from /proc: a killed dispatcher is a zombie until
# whoever inherits it reaps it, and kill(2) takes a zombie for alive.
kill_reaped () {
	pid=$(cd repo && ws_state b pid) || return 0
	i=0
	while test -d /proc/$pid && test $i -lt 100
	do
		sleep 0.05
		i=$((i + 1))
	done
}

test_expect_success 'a dispatch killed before or after any git command of the switch is finished by the next' '
	(
		cd kill &&
		. "$WS_SOURCE_DIR/t/lib-kill.sh" &&
		KILL_DIR=$(pwd) &&
		kill_launch none - git ws-dispatch b &&
		test $KILL_STATUS = 0 &&
		kill_b_finished &&
		n=$(kill_git_children) &&
		test "$n" -ge 3 &&
		for when in before after
		do
			k=1 &&
			while test $k -le $n
			do
				kill_restore merged &&
				kill_launch git-$when $k git ws-dispatch b &&
				kill_reaped &&
				{ kill_run git ws-dispatch b || :; } &&
				kill_b_finished ||
				{ echo "killed $when git child $k of $n:"; cat counter.log run.err; return 1; }
				k=$((k + 1))
			done || return 1
		done
	)
'

test_done
