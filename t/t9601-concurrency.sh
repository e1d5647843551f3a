#!/bin/sh

test_description='concurrency: eight git-ws processes at once on one plan

Four git ws-converge (each from its own worktree), two git ws-merge, a
git ws-status loop and a git ws-clean run at the same time on a plan of
six independent workstreams (two already queued, one whose work fails
the test gate). Every converge result is recorded, no workstream is
merged twice, nothing hangs, and with a small GIT_WS_LOCK_TIMEOUT every
command that has to wait gives up with a clear message and exit 128. A
plain git commit on the base branch while git ws-merge tests a merge is
never overwritten.'

. ./lib-ws.sh
. "$WS_SOURCE_DIR/t/lib-kill.sh"

# Every process runs under timeout(1): 124 means it hung.
T=60

# start_eight: the eight processes, in the background; their exit codes
# go to rc-<name>, their output to out-<name>. The status loop runs until
# "stop" exists; every status that fails is logged to status.fail.
start_eight () {
	rm -f rc-* out-* stop status.fail status.count
	pids=
	for n in 1 2 3 4
	do
		(
			cd repo-ws-$n &&
			timeout $T git ws-converge >../out-converge-$n 2>&1
			echo $? >../rc-converge-$n
		) &
		pids="$pids $!"
	done
	for n in 1 2
	do
		(
			cd repo &&
			timeout $T git ws-merge >../out-merge-$n 2>&1
			echo $? >../rc-merge-$n
		) &
		pids="$pids $!"
	done
	(
		sleep 0.3
		cd repo &&
		timeout $T git ws-clean >../out-clean 2>&1
		echo $? >../rc-clean
	) &
	pids="$pids $!"
	(
		cd repo &&
		i=0 &&
		while ! test -f ../stop
		do
			timeout $T git ws-status >../out-status 2>&1 ||
			{ echo "exit $?"; cat ../out-status; } >>../status.fail
			i=$((i + 1))
		done
		echo $i >../status.count
	) &
	status_pid=$!
}

# wait_eight: wait for all of them, then stop the status loop.
wait_eight () {
	for p in $pids
	do
		wait $p
	done
	touch stop &&
	wait $status_pid &&
	for f in rc-*
	do
		echo "$f: $(cat $f)"
	done
}

# rc <name>: the exit code of that process.
rc () {
	cat rc-$1
}

# no_hang: no process timed out, the status loop ran and never failed.
no_hang () {
	for f in rc-*
	do
		test "$(cat $f)" != 124 || {
			echo "${f#rc-} hung"
			return 1
		}
	done &&
	test_path_is_missing status.fail &&
	test "$(cat status.count)" -ge 1
}

# merged_once <id>...: each is merged into main by exactly one merge
# commit on its first-parent line, and no other workstream is merged
# twice.
merged_once () {
	git -C repo log --first-parent --merges --format=%s main |
	sed -n "s/^Merge \(ws-[0-9]*\):.*/\1/p" | sort >merged-ids &&
	sort -u merged-ids >merged-unique &&
	test_cmp merged-unique merged-ids &&
	for id in "$@"
	do
		test "$(grep -cx "$id" merged-ids)" = 1 || {
			echo "$id is merged $(grep -cx "$id" merged-ids) times"
			return 1
		}
	done
}

# converge_results: what each converge found is in the state: ws-1, ws-2
# and ws-4 passed (converged, and merged or cleaned since), ws-3 failed
# its tests once (done, iterations 1, the reason says why); ws-5 and
# ws-6 are merged too.
converge_results () {
	(
		cd repo &&
		for id in ws-1 ws-2 ws-4 ws-5 ws-6
		do
			case "$(ws_state $id status)" in
			converged|merged|cleaned) ;;
			*)
				echo "$id: $(ws_state $id status)"
				return 1 ;;
			esac &&
			test "$(ws_state $id iterations)" = 0 &&
			test -n "$(ws_state $id tested-tree)" || return 1
		done &&
		test "$(ws_state ws-3 status)" = done &&
		test "$(ws_state ws-3 iterations)" = 1 &&
		ws_state ws-3 reason >../reason &&
		grep "^gate .tests. failed" ../reason
	)
}

# all_merged: ws-1, ws-2, ws-4, ws-5, ws-6 merged (or cleaned).
all_merged () {
	for id in ws-1 ws-2 ws-4 ws-5 ws-6
	do
		case "$(cd repo && ws_state $id status)" in
		merged|cleaned) ;;
		*)
			echo "$id is $(cd repo && ws_state $id status)"
			return 1 ;;
		esac
	done
}

# hold_lock <file> <seconds>: hold flock(2) on repo/.git/ws/<file> in the
# background (as a git-ws command would), and return once it is taken.
# Only the flock process holds it (-o), so that killing $holder frees it.
hold_lock () {
	flock -o "repo/.git/ws/$1" sleep $2 &
	holder=$!
	while flock -n "repo/.git/ws/$1" true
	do
		sleep 0.01
	done
}

# fail_fast <cmd>...: with GIT_WS_LOCK_TIMEOUT=200 and a lock held for
# 20 s, the command gives up (before the holder lets go) with exit 128.
fail_fast () {
	(
		cd repo &&
		GIT_WS_LOCK_TIMEOUT=200 &&
		export GIT_WS_LOCK_TIMEOUT &&
		test_expect_code 128 timeout $T "$@" >../out 2>../err
	) &&
	kill -0 $holder
}

test_expect_success 'setup: six workstreams done, two of them queued' '
	kill_setup_repo &&
	kill_write_agent &&
	cat >hook.sh <<-\EOF &&
	# part of the test gate: with CONC_HANDSHAKE set (for git ws-merge),
	# say "testing" and wait (at most 20 s) for "committed"
	if test -n "$CONC_HANDSHAKE"
	then
		: >"$CONC_HANDSHAKE.testing"
		i=0
		while ! test -f "$CONC_HANDSHAKE.committed" && test $i -lt 400
		do
			sleep 0.05
			i=$((i + 1))
		done
	fi
	EOF
	cat >plan <<-EOF &&
	[plan]
		name = conc
		base = main
		command = "\\"$KILL_DIR/agent.sh\\""
		test = ./check.sh && sleep 0.2 && sh \\"\$KILL_DIR/hook.sh\\"
		jobs = 6
		max-iterations = 3
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
	[workstream "ws-5"]
		title = Five
	[workstream "ws-6"]
		title = Six
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >../out &&
		KILL_AGENT_BROKEN=ws-3 git ws-dispatch >../out 2>&1 &&
		git ws-converge ws-5 ws-6 >../out 2>&1 &&
		git config -f .git/ws/queue --get-all queue.item >../queue &&
		printf "%s\n" ws-5 ws-6 >../expect &&
		test_cmp ../expect ../queue &&
		for id in ws-1 ws-2 ws-3 ws-4
		do
			test "$(ws_state $id status)" = done || return 1
		done
	) &&
	kill_snapshot ready
'

test_expect_success 'eight processes at once: 4 converges, 2 merges, a status loop, a clean' '
	kill_restore ready &&
	old=$(git -C repo rev-parse main) &&
	start_eight &&
	wait_eight &&
	mkdir run-1 && cp out-* rc-* status.count run-1/ &&
	no_hang &&
	test "$(rc converge-1)" = 0 &&
	test "$(rc converge-2)" = 0 &&
	test "$(rc converge-3)" = 1 &&
	test "$(rc converge-4)" = 0 &&
	for n in 1 2
	do
		case "$(rc merge-$n)" in
		0|1) ;;
		*) cat out-merge-$n; return 1 ;;
		esac
	done &&
	test "$(rc clean)" = 0 &&
	converge_results
'

test_expect_success 'nothing lost: one more merge takes what converged after the others ran' '
	(cd repo && timeout $T git ws-merge >../out 2>&1) &&
	all_merged &&
	converge_results &&
	merged_once ws-1 ws-2 ws-4 ws-5 ws-6 &&
	! grep -x ws-3 merged-ids &&
	test -z "$(git config -f repo/.git/ws/queue --get-all queue.item)" &&
	kill_check "$old" rerun &&
	kill_snapshot merged
'

test_expect_success 'and git ws-clean cleans every merged workstream' '
	(cd repo && timeout $T git ws-clean >../out 2>&1) &&
	for id in ws-1 ws-2 ws-4 ws-5 ws-6
	do
		test "$(cd repo && ws_state $id status)" = cleaned &&
		git -C repo rev-parse -q --verify refs/ws/backup/$id >/dev/null &&
		test_path_is_missing repo-$id || return 1
	done &&
	test_path_is_dir repo-ws-3 &&
	kill_check "$old" rerun
'

test_expect_success 'a held state lock: every updating command gives up after GIT_WS_LOCK_TIMEOUT, exit 128' '
	kill_restore ready &&
	hold_lock lock 20 &&
	test_when_finished "kill $holder 2>/dev/null; true" &&
	fail_fast git ws-converge ws-1 &&
	grep "another git-ws command is updating" err &&
	fail_fast git ws-merge &&
	grep "another git-ws command is updating" err &&
	fail_fast git ws-dispatch --retry ws-3 &&
	grep "another git-ws command is updating" err &&
	fail_fast git ws-alloc ../plan &&
	grep "another git-ws command is updating" err &&
	grep "^hint: wait for it to finish, or raise ws.lockTimeout" err &&
	test "$(cd repo && ws_state ws-1 status)" = done &&
	# readers take no lock
	(cd repo && GIT_WS_LOCK_TIMEOUT=200 timeout $T git ws-status >../out)
'

# git ws-clean saves every branch under refs/ws/backup/ first, then takes
# the state lock to record the removals it is about to make: one that
# gives up there has removed nothing, and the next run cleans everything.
test_expect_success 'a held state lock: git ws-clean gives up too, nothing is lost, the rerun finishes' '
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	hold_lock lock 20 &&
	test_when_finished "kill $holder 2>/dev/null; true" &&
	fail_fast git ws-clean &&
	grep "another git-ws command is updating" err &&
	kill $holder &&
	{ wait $holder || :; } &&
	for id in ws-1 ws-2 ws-4 ws-5 ws-6
	do
		git -C repo rev-parse -q --verify refs/ws/backup/$id >/dev/null || return 1
	done &&
	kill_check "$old" killed &&
	(cd repo && timeout $T git ws-clean >../out 2>&1) &&
	for id in ws-1 ws-2 ws-4 ws-5 ws-6
	do
		test "$(cd repo && ws_state $id status)" = cleaned || return 1
	done &&
	kill_check "$old" rerun
'

test_expect_success 'a running git ws-merge: a second one gives up after GIT_WS_LOCK_TIMEOUT, exit 128' '
	kill_restore ready &&
	hold_lock merge.lock 20 &&
	test_when_finished "kill $holder 2>/dev/null; true" &&
	fail_fast git ws-merge &&
	grep "Waiting for another git ws-merge" err &&
	grep "another git ws-merge is running" err &&
	test "$(cd repo && ws_state ws-5 status)" = converged
'

test_expect_success 'eight at once with GIT_WS_LOCK_TIMEOUT=200 and the state lock held for a second: clear give-ups, never a hang' '
	kill_restore ready &&
	old=$(git -C repo rev-parse main) &&
	GIT_WS_LOCK_TIMEOUT=200 &&
	export GIT_WS_LOCK_TIMEOUT &&
	test_when_finished "GIT_WS_LOCK_TIMEOUT=10000" &&
	hold_lock lock 1 &&
	start_eight &&
	wait_eight &&
	wait $holder &&
	GIT_WS_LOCK_TIMEOUT=10000 &&
	mkdir run-2 && cp out-* rc-* status.count run-2/ &&
	no_hang &&
	gave_up=0 &&
	for f in rc-*
	do
		name=${f#rc-}
		case "$(cat $f)" in
		0|1) ;;
		128)
			grep -e "another git-ws command is updating" \
			     -e "another git ws-merge is running" out-$name || {
				cat out-$name
				return 1
			}
			gave_up=$((gave_up + 1)) ;;
		*)
			echo "$name: exit $(cat $f)"
			cat out-$name
			return 1 ;;
		esac
	done &&
	# the converges need the lock at once, and it stayed held for 1 s
	test $gave_up -ge 4 &&
	kill_check "$old" killed
'

test_expect_success 'after the give-ups, running the commands again finishes the job' '
	for n in 1 2 3 4
	do
		(cd repo-ws-$n && timeout $T git ws-converge >../out 2>&1)
		test $? -le 1 || return 1
	done &&
	(cd repo && timeout $T git ws-merge >../out 2>&1) &&
	all_merged &&
	converge_results &&
	merged_once ws-1 ws-2 ws-4 ws-5 ws-6 &&
	kill_check "$old" rerun
'

test_expect_success 'a git commit on main while git ws-merge tests a merge is never overwritten' '
	kill_restore ready &&
	old=$(git -C repo rev-parse main) &&
	(
		cd repo &&
		CONC_HANDSHAKE=$KILL_DIR/hs &&
		export CONC_HANDSHAKE &&
		timeout $T git ws-merge ws-5 >../out-merge 2>&1
		echo $? >../rc-merge
	) &
	merge=$! &&
	i=0 &&
	while ! test -f hs.testing && test $i -lt 400
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test -f hs.testing &&
	(
		cd repo &&
		echo mine >user.txt &&
		git add user.txt &&
		git commit -q -m "a commit of my own" &&
		git rev-parse HEAD >../mine
	) &&
	: >hs.committed &&
	wait $merge &&
	test "$(cat rc-merge)" = 0 &&
	grep "moved while .ws-5. was being merged; starting over" out-merge &&
	git -C repo merge-base --is-ancestor "$(cat mine)" main &&
	git -C repo log --first-parent --format=%s main >subjects &&
	grep -x "a commit of my own" subjects &&
	test "$(grep -c "^Merge ws-5:" subjects)" = 1 &&
	test "$(git -C repo rev-parse main^1)" = "$(cat mine)" &&
	git -C repo show main:user.txt >content &&
	echo mine >expect &&
	test_cmp expect content &&
	git -C repo cat-file -e main:ws-5.txt &&
	(cd repo && git status --porcelain) >main-status &&
	test_must_be_empty main-status &&
	test "$(cd repo && ws_state ws-5 status)" = merged
'

test_done
