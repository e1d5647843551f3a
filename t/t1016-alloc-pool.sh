#!/bin/sh

test_description='pool = N: at most N worktrees, taken when a workstream is ready, reused once merged'

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

# worktrees <repo>: how many worktrees git knows, the main one included.
worktrees () {
	git -C "$1" worktree list --porcelain | grep -c "^worktree "
}

test_expect_success 'setup: a plan of six workstreams in four levels' '
	mkdir bin &&
	PATH=$PWD/bin:$PATH && TRASH=$PWD && export TRASH &&
	# the command records how many worktrees exist while it runs, and
	# that its setup and the included .env are there
	write_script bin/work <<-\EOF &&
	git worktree list --porcelain | grep -c "^worktree " >>"$TRASH/counts"
	test -f deps/ready && test -f .env || { echo "not set up" >&2; exit 1; }
	echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" && git commit -qm "$WS_ID"
	EOF
	cat >plan <<-EOF &&
	[plan]
		name = pooled
		base = main
		pool = 2
		jobs = 2
		setup = mkdir -p deps && echo "\$WS_ID" >deps/ready
		command = work
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
		depends = a
	[workstream "d"]
		title = D
		depends = b
	[workstream "e"]
		title = E
		depends = c d
	[workstream "f"]
		title = F
		depends = e
	EOF
	project repo
'

test_expect_success 'git ws-alloc with a pool makes branches, no worktree' '
	(cd repo && git ws-alloc ../plan >../out) &&
	grep "6 new branches for 6 workstreams, a pool of 2 worktrees" out &&
	test "$(worktrees repo)" = 1 &&
	! test -e repo-a && ! test -e repo-slot-1 &&
	git -C repo rev-parse --verify -q feature/a-a >/dev/null &&
	git -C repo rev-parse --verify -q feature/f-f >/dev/null &&
	(cd repo && test_must_fail ws_state a worktree && ws_state a status >../actual) &&
	echo ready >expect && test_cmp expect actual &&
	(cd repo && git config -f .git/ws/plan plan.pool >../actual) &&
	echo 2 >expect && test_cmp expect actual
'

test_expect_success 'a changed pool is refused once allocated' '
	(cd repo && test_expect_code 128 git ws-alloc --pool 3 ../plan 2>../err) &&
	grep "allocated with pool = 2, not 3" err
'

test_expect_success 'a bad pool is refused, naming the file and line' '
	printf "[plan]\n\tname = bad\n\tpool = 0\n[workstream \"a\"]\n\ttitle = A\n" >bad.plan &&
	(cd repo && test_expect_code 128 git ws-alloc --dry-run ../bad.plan 2>../err) &&
	grep "bad.plan:3: bad pool .0. (expected a positive integer, at most 1000)" err &&
	(cd repo && test_expect_code 129 git ws-alloc --pool 0 ../plan 2>../err) &&
	grep "pool needs a number of worktrees from 1 to 1000" err
'

test_expect_success 'git ws-status shows the slots before any is made' '
	(cd repo && git ws-status >../out && git ws-status --porcelain >../porcelain) &&
	grep "^Pool of 2 worktree slots" out &&
	grep "^  slot-1  absent" out &&
	printf "# slot\tslot-1\tabsent\t\t%s\n" "$TRASH/repo-slot-1" >expect &&
	grep "^# slot	slot-1" porcelain >actual &&
	test_cmp expect actual
'

test_expect_success 'dispatch --dry-run says which slot each would take, and changes nothing' '
	cp repo/.git/ws/state state.before &&
	(cd repo && git ws-dispatch --dry-run >../out 2>../err) &&
	grep "^a: would take worktree slot .slot-1., made for it" err &&
	grep "^b: would take worktree slot .slot-2., made for it" err &&
	grep "^would start a in $TRASH/repo-slot-1: work" out &&
	grep "^would start b in $TRASH/repo-slot-2: work" out &&
	test_line_count = 2 out &&
	(cd repo && git ws-dispatch --dry-run --porcelain a >../out 2>../err) &&
	printf "would-start\ta\t%s\twork\n" "$TRASH/repo-slot-1" >expect &&
	test_cmp expect out &&
	test_cmp state.before repo/.git/ws/state &&
	! test -e repo-slot-1 && test "$(worktrees repo)" = 1
'

test_expect_success 'dispatch --loop runs the plan in at most two worktrees, reusing them' '
	(cd repo && git ws-dispatch --loop >../out 2>../err) &&
	grep "6/6 merged" out &&
	sort -n counts | tail -n 1 >actual &&
	echo 3 >expect && test_cmp expect actual &&
	test_line_count = 6 counts &&
	grep "takes worktree slot .slot-[12]. (was [a-f].s)" err &&
	test "$(worktrees repo)" = 3 &&
	test -d repo-slot-1 && test -d repo-slot-2 && ! test -e repo-slot-3
'

test_expect_success 'a slot passes from one workstream to the next in the state' '
	(
		cd repo &&
		# two slots, six workstreams: four gave theirs up
		n=0 &&
		for id in a b c d e f
		do
			if ws_state $id slot >/dev/null
			then
				n=$(($n + 1)) &&
				test "$(ws_state $id worktree)" = "$TRASH/repo-$(ws_state $id slot)" || return 1
			fi
		done &&
		test $n = 2 &&
		test "$(ws_state f slot)" != "" &&
		git -C "$(ws_state f worktree)" symbolic-ref HEAD >../actual
	) &&
	echo refs/heads/feature/f-f >expect && test_cmp expect actual
'

test_expect_success 'git ws-status shows the slots as free once their workstreams merged' '
	(cd repo && git ws-status >../out) &&
	grep "^  slot-1  free" out && grep "^  slot-2  free" out
'

test_expect_success 'git ws-clean never removes a dirty slot' '
	echo mine >repo-slot-1/mine.txt &&
	(cd repo && test_expect_code 1 git ws-clean >../out 2>&1) &&
	test -f repo-slot-1/mine.txt &&
	! test -e repo-slot-2 &&
	rm repo-slot-1/mine.txt
'

test_expect_success 'git ws-clean removes the slots when the plan is done' '
	(cd repo && git ws-clean >../out) &&
	test "$(worktrees repo)" = 1 &&
	! test -e repo-slot-1 && ! test -e repo-slot-2
'

test_expect_success 'setup: a chain a <- b <- c with one slot' '
	cat >plan1 <<-\EOF &&
	[plan]
		name = one
		base = main
		command = echo $WS_ID >$WS_ID.txt && git add $WS_ID.txt && git commit -qm $WS_ID
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	[workstream "c"]
		title = C
		depends = b
	EOF
	project one &&
	(cd one && git ws-alloc --pool 1 ../plan1 >/dev/null &&
	 git ws-dispatch a && git ws-converge a >/dev/null && git ws-merge >/dev/null) &&
	(cd one && ws_state a status >../actual && ws_state a slot >>../actual) &&
	printf "merged\nslot-1\n" >expect && test_cmp expect actual
'

test_expect_success 'a dirty slot is not reused, and the reason says so' '
	echo mine >one-slot-1/mine.txt &&
	(cd one && test_expect_code 1 git ws-dispatch 2>../err) &&
	grep "waits: waiting for a worktree slot (pool of 1 full: slot-1 has uncommitted or untracked files)" err &&
	(cd one && ws_state b status >../actual && test_must_fail ws_state b worktree) &&
	echo ready >expect && test_cmp expect actual &&
	(cd one && git ws-status --porcelain >../out) &&
	grep "^b	ready	.*waiting for a worktree slot" out &&
	echo mine >expect && test_cmp expect one-slot-1/mine.txt &&
	git -C one-slot-1 symbolic-ref HEAD >actual &&
	echo refs/heads/feature/a-a >expect && test_cmp expect actual
'

test_expect_success 'a clean slot passes to the next workstream, writing what differs' '
	rm one-slot-1/mine.txt &&
	touch -d "2000-01-01" one-slot-1/README &&
	(cd one && git ws-dispatch b 2>../err) &&
	grep "b: takes worktree slot .slot-1. (was a.s)" err &&
	! grep -e "^fatal:" -e "^error:" err &&
	git -C one-slot-1 symbolic-ref HEAD >actual &&
	echo refs/heads/feature/b-b >expect && test_cmp expect actual &&
	# README is the same in both commits: git did not write it again
	test "$(stat -c %Y one-slot-1/README)" = "$(date -d 2000-01-01 +%s)" &&
	(cd one && test_must_fail ws_state a worktree && test_must_fail ws_state a slot &&
	 ws_state b slot >../actual) &&
	echo slot-1 >expect && test_cmp expect actual
'

test_expect_success 'a failed workstream keeps its slot, and the full pool is reported' '
	cat >plan2 <<-\EOF &&
	[plan]
		name = fails
		base = main
		command = test $WS_ID != a && echo $WS_ID >$WS_ID.txt && git add $WS_ID.txt && git commit -qm $WS_ID
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	EOF
	project two &&
	(cd two && git ws-alloc --pool 1 ../plan2 >/dev/null &&
	 test_expect_code 1 git ws-dispatch --loop --retries 0 >../out 2>../err) &&
	grep "^  b  *ready  *waiting for a worktree slot (pool of 1 full: a failed and holds slot-1)" out &&
	(cd two && ws_state a slot >../actual && ws_state a status >>../actual) &&
	printf "slot-1\nfailed\n" >expect && test_cmp expect actual &&
	(cd two && git ws-status >../out) &&
	grep "^  slot-1  busy  a" out &&
	test "$(worktrees two)" = 2
'

test_expect_success 'a slot given up with git ws-clean --force is made again' '
	(cd two && git ws-clean --force a >../out 2>&1) &&
	! test -e two-slot-1 &&
	(cd two && git ws-dispatch b 2>../err) &&
	grep "b: takes worktree slot .slot-1.$" err
'

test_expect_success 'workstreams that share a worktree share a slot' '
	cat >plan3 <<-\EOF &&
	[plan]
		name = shared
		base = main
		pool = 1
		command = echo $WS_ID >$WS_ID.txt && git add $WS_ID.txt && git commit -qm $WS_ID
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
		worktree = a
	EOF
	project three &&
	(cd three && git ws-alloc ../plan3 >/dev/null &&
	 git ws-dispatch a && git ws-converge a >/dev/null && git ws-merge >/dev/null &&
	 git ws-dispatch b 2>../err) &&
	grep "b: shares worktree slot .slot-1. with a" err &&
	(cd three && ws_state a slot >../actual && ws_state b slot >>../actual &&
	 ws_state b worktree >>../actual) &&
	printf "slot-1\nslot-1\n%s\n" "$TRASH/three-slot-1" >expect &&
	test_cmp expect actual &&
	test "$(worktrees three)" = 2
'

# slot_switch_record <repo> <id> <slot> <from-branch> <to-branch>: the
# record a dispatch writes before it switches a slot, as a kill leaves it.
slot_switch_record () {
	(
		cd "$1" &&
		ws_set_state "$2" slot-taking "$3" &&
		ws_set_state "$2" slot-from "$(git rev-parse "$4")" &&
		ws_set_state "$2" slot-to "$(git rev-parse "$5")"
	)
}

test_expect_success 'a switch killed half way is finished by the next dispatch' '
	project four &&
	(cd four && git ws-alloc --pool 1 ../plan1 >/dev/null &&
	 git ws-dispatch a && git ws-converge a >/dev/null && git ws-merge >/dev/null) &&
	# b starts at main, which lacks a.txt: a killed checkout had removed it
	slot_switch_record four b slot-1 feature/a-a feature/b-b &&
	rm four-slot-1/a.txt &&
	(cd four && git ws-dispatch b 2>../err) &&
	grep "finished switching worktree slot .slot-1. to .b." err &&
	git -C four-slot-1 symbolic-ref HEAD >actual &&
	echo refs/heads/feature/b-b >expect && test_cmp expect actual &&
	(cd four && test_must_fail ws_state b slot-taking && ws_state b slot >../actual &&
	 ws_state b status >>../actual) &&
	printf "slot-1\ndone\n" >expect && test_cmp expect actual &&
	git -C four-slot-1 status --porcelain >actual && test_must_be_empty actual
'

test_expect_success 'a record of a switch that is no longer wanted is dropped, the slot untouched' '
	slot_switch_record four a slot-1 feature/b-b feature/a-a &&
	(cd four && test_expect_code 1 git ws-dispatch 2>../err) &&
	grep "dropping the record of an interrupted taking of worktree slot .slot-1. by .a.: it is finished" err &&
	(cd four && test_must_fail ws_state a slot-taking) &&
	git -C four-slot-1 symbolic-ref HEAD >actual &&
	echo refs/heads/feature/b-b >expect && test_cmp expect actual
'

test_expect_success 'a killed switch that finds files of somebody else leaves the slot alone' '
	project five &&
	(cd five && git ws-alloc --pool 1 ../plan1 >/dev/null &&
	 git ws-dispatch a && git ws-converge a >/dev/null && git ws-merge >/dev/null) &&
	slot_switch_record five b slot-1 feature/a-a feature/b-b &&
	echo precious >five-slot-1/notes.txt &&
	(cd five && test_expect_code 128 git ws-dispatch b 2>../err) &&
	grep "has changes of its own (.notes.txt.); left alone" err &&
	echo precious >expect && test_cmp expect five-slot-1/notes.txt &&
	(cd five && ws_state b slot-taking >../actual) &&
	echo slot-1 >expect && test_cmp expect actual
'

test_done
