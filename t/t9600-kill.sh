#!/bin/sh

test_description='kill at every step: SIGKILL git ws-alloc, dispatch --loop, merge and clean anywhere, then run them again

A real small plan (a diamond of four workstreams and a fifth sharing a
worktree, scripted agents committing real files, a test gate) is run by
each command (and by git ws-converge, a step of the loop), which is
killed with SIGKILL at many points: its whole process group after a
spread of delays up to its normal duration, and just before and just
after each git command it runs; the binary itself on entry to each of
its rename(2) and unlink(2) calls (see lib-kill.sh). After every kill,
and again after the same command is run again (then the loop, to finish
the plan), the invariants of kill_check hold (git fsck, parsable state,
a base that is the old tip or tested merges, no agent commit lost, no
half-made worktree), and the rerun finishes the job.

Where the sweeps find a bug, a test_expect_failure below reproduces it
at a fixed kill point, and the sweeps count the times they meet it (and
repair it by hand) instead of failing at random.

Agents and test commands run in process groups of their own, so the kill
does not reach them: they finish, as they would if git-ws crashed, and
the harness waits for them before it checks and reruns.'

. ./lib-ws.sh
. "$WS_SOURCE_DIR/t/lib-kill.sh"

for cmd in dispatch converge merge clean status
do
	test -x "$WS_SOURCE_DIR/bin-wrappers/git-ws-$cmd" || {
		skip_all="git-ws-$cmd is not built"
		test_done
	}
done

# How many kill points: T9600_SAMPLE git children of the loop are
# tried (every one of the other commands' are), 0 for all of them.
# T9600_ONLY="<command> <how> <arg>" (e.g. "loop git-before 11") runs
# that one kill point, to look at it; T9600_SWEEPS="merge clean" only
# those sweeps. A failing kill point leaves its files in snap/failed-*.
: "${T9600_SAMPLE:=12}"

tried=0
landed=0
half_made=0
half_made_dir=0
main_behind=0
stale_admin=0
unqueued=0
merged_queued=0
broken_scratch=0
half_removed=0

# tally <name>: count the last launch.
tally () {
	tried=$((tried + 1))
	landed=$((landed + KILL_LANDED))
	eval "tried_$1=\$((\${tried_$1:-0} + 1))"
	eval "landed_$1=\$((\${landed_$1:-0} + KILL_LANDED))"
	echo "kill point $1 $how $arg: status $KILL_STATUS after ${KILL_ELAPSED}ms" >>kill-points
}

# fail <message>: say which kill point broke what, with its outputs.
fail () {
	{
		echo "FAILED at kill point $how $arg: $*"
		for f in check.out launch.out launch.err run.out run.err
		do
			test -s $f && { echo "--- $f"; cat $f; }
		done
		(cd repo && git ws-status 2>&1; git log --oneline --graph --all | head -40)
	} >fail.txt 2>&1
	cat fail.txt
	kill_snapshot "failed-$how-$arg"
	mv fail.txt "snap/failed-$how-$arg/"
	return 1
}

# known_main_behind: after a kill, when main's index is still at an
# older commit of main (git ws-merge moved main but was killed before
# the main worktree followed: the known bug of the test_expect_failure
# below), count it and bring the worktree to main by hand. Otherwise
# nothing.
known_main_behind () {
	(
		cd repo &&
		index=$(git write-tree) &&
		test "$index" != "$(git rev-parse main^{tree})" &&
		git log --first-parent --format=%T main | grep -qx "$index" &&
		git reset -q --hard main
	) &&
	main_behind=$((main_behind + 1))
	return 0
}

# known_broken_scratch <output>: git ws-merge (its output in <output>)
# refused the scratch worktree that a killed `git worktree add` left
# half-made, "in the way" (the known bug of the test_expect_failure
# below). Remove it and its admin directory by hand, and count it.
known_broken_scratch () {
	grep -q "is in the way of git ws-merge's scratch worktree" "$1" &&
	{
		test "$(cat repo/.git/worktrees/scratch/locked 2>/dev/null)" = initializing ||
		test_path_is_missing repo/.git/worktrees/scratch
	} &&
	rm -rf repo/.git/ws/scratch repo/.git/worktrees/scratch &&
	broken_scratch=$((broken_scratch + 1))
}

# after_kill: the invariants right after a kill, and the known states it
# may leave (see kill_half_made_worktree and known_main_behind).
after_kill () {
	{ kill_check "$old" killed || fail "after the kill"; } &&
	{ ! test -f half-made || half_made=$((half_made + 1)); } &&
	known_main_behind
}

# kill_known_locked_scratch (run by kill_check, in repo/): git ws-merge's
# scratch worktree is still locked "initializing" after the rerun (the
# known bug of the test_expect_failure below). Count it and unlock it.
kill_known_locked_scratch () {
	git worktree unlock .git/ws/scratch &&
	echo >>../locked-scratch
}

# kill_known_prunable <file> (run by kill_check, in repo/): after the
# rerun, git worktree prune would remove the remains of the admin
# directory of a cleaned workstream's worktree, which a killed `git
# worktree remove` was deleting (the known bug of the test_expect_failure
# below). Count it and prune them.
kill_known_prunable () {
	while read removing name why
	do
		test "$removing" = Removing &&
		name=${name#worktrees/} &&
		name=${name%:} &&
		test "$why" = "gitdir file does not exist" &&
		git config -f .git/ws/state --get-regexp "^workstream\..*\.worktree\$" |
		while read key path
		do
			id=${key#workstream.}
			id=${id%.worktree}
			test "${path##*/}" = "$name" &&
			test "$(git config -f .git/ws/state workstream.$id.status)" = cleaned &&
			echo yes
		done | grep -q yes || return 1
	done <"$1" &&
	git worktree prune &&
	echo >>../prunable
}

# known_unqueued: when a workstream is `converged` but not in the merge
# queue (git ws-converge was killed between writing the state and the
# queue: the known bug of the test_expect_failure below), nothing would
# ever merge it. Count it and converge it again by hand, which queues it.
known_unqueued () {
	found=
	for id in ws-a ws-b ws-c ws-d ws-e
	do
		test "$(git config -f repo/.git/ws/state workstream.$id.status)" = converged &&
		! git config -f repo/.git/ws/queue --get-all queue.item | grep -qx "$id" ||
		continue
		(cd repo && git ws-converge $id >/dev/null 2>&1) &&
		git config -f repo/.git/ws/queue --get-all queue.item | grep -qx "$id" &&
		unqueued=$((unqueued + 1)) &&
		found=yes || return 1
	done
	test -n "$found"
}

# finish_loop: git ws-dispatch --loop completes the plan.
finish_loop () {
	{ kill_run git ws-dispatch --loop ||
	  { known_unqueued && kill_run git ws-dispatch --loop; } ||
	  { known_broken_scratch repo/.git/ws/logs/_merge.loop.log &&
	    kill_run git ws-dispatch --loop; } ||
	  fail "git ws-dispatch --loop did not finish the plan"; } &&
	{ kill_all_merged || fail "not every workstream is merged"; } &&
	{ kill_check "$old" rerun || fail "after the final loop"; } &&
	(cd repo && git status --porcelain) >main-status &&
	{ test_must_be_empty main-status ||
	  fail "the main worktree does not match main"; } &&
	{ ! ls repo/.git/ws/state.lock repo/.git/ws/queue.lock 2>/dev/null ||
	  fail "a stale lock file outlived the loop that wrote state and queue"; } &&
	{ test -z "$(git config -f repo/.git/ws/queue --get-all queue.item)" ||
	  known_merged_queued_loop ||
	  fail "the merge queue is not empty after the loop"; }
}

# known_merged_queued_loop: after the loop, the queue still lists
# workstreams that are merged (a git ws-merge run by the loop was killed
# between writing the state and the queue: the known bug of the
# test_expect_failure below). Count it and drop them by hand.
known_merged_queued_loop () {
	for id in $(git config -f repo/.git/ws/queue --get-all queue.item)
	do
		rm -f repo/.git/ws/queue.lock &&
		test "$(git config -f repo/.git/ws/state workstream.$id.status)" = merged &&
		git config -f repo/.git/ws/queue --fixed-value --unset-all queue.item $id ||
		return 1
	done &&
	merged_queued=$((merged_queued + 1))
}

# trial_alloc <how> <arg>
trial_alloc () {
	how=$1 arg=$2
	kill_restore fresh &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-alloc ../plan &&
	tally alloc &&
	after_kill &&
	{ kill_run git ws-alloc ../plan || known_half_made_dir ||
	  fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ alloc_complete || fail "the rerun did not allocate everything"; }
}

# known_half_made_dir: the rerun of git ws-alloc refused a worktree
# that a `git worktree add` killed early left half-made, "not a worktree
# git knows" (the known bug of the test_expect_failure below): its
# directory empty, or holding nothing but an unfinished .git file, and
# its admin directory still locked "initializing" (with an empty
# commondir there, every git worktree command dies, so the rerun cannot
# remove even the worktrees that are whole). Do by hand what its hint
# says and what git needs besides: remove the half-made ones (worktree
# and admin directories), `git worktree prune`; count it, and run it
# again. Any other failure is a failure.
known_half_made_dir () {
	grep -q "was left half-made by an interrupted git ws-alloc and is not a worktree git knows" run.err &&
	for admin in repo/.git/worktrees/*
	do
		test "$(cat "$admin/locked" 2>/dev/null)" = initializing || continue
		wt=$KILL_DIR/${admin##*/} &&
		test -z "$(ls -A "$wt" 2>/dev/null | grep -vx .git)" &&
		rm -rf "$wt" "$admin" || return 1
	done &&
	git -C repo worktree prune &&
	half_made_dir=$((half_made_dir + 1)) &&
	kill_run git ws-alloc ../plan
}

alloc_complete () {
	(
		cd repo &&
		test "$(ws_state ws-a status)" = ready &&
		for id in ws-b ws-c ws-d ws-e
		do
			test "$(ws_state $id status)" = blocked || return 1
		done &&
		! git config -f .git/ws/state --get-regexp "allocating" &&
		for id in a b c d
		do
			test "$(git -C ../repo-ws-$id rev-parse HEAD)" = "$old" &&
			git -C ../repo-ws-$id diff --quiet HEAD &&
			test -f ../repo-ws-$id/check.sh || return 1
		done
	)
}

# trial_loop <how> <arg>
trial_loop () {
	how=$1 arg=$2
	kill_restore allocated &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-dispatch --loop &&
	tally loop &&
	after_kill &&
	finish_loop
}

# trial_merge <how> <arg>
trial_merge () {
	how=$1 arg=$2
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-merge &&
	tally merge &&
	after_kill &&
	{ kill_run git ws-merge || known_merged_queued ||
	  { known_broken_scratch run.err && kill_run git ws-merge; } ||
	  fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ merge_complete || fail "the rerun did not merge the queue"; } &&
	finish_loop
}

# known_merged_queued: the rerun of git ws-merge exited 1 only because
# a workstream already merged is still in the queue ("no longer queued
# (status: merged)": git ws-merge was killed between writing the state
# and the queue, the known bug of the test_expect_failure below); it
# would say so, and exit 1, forever. Count it and drop the item by hand.
known_merged_queued () {
	ids=$(sed -n "s/^\(ws-[a-z]*\): no longer queued (status: merged)$/\1/p" run.out) &&
	test -n "$ids" &&
	! grep -v -e "no longer queued (status: merged)" -e "^ws-[a-z]*: merged into" \
		-e "^  Next: " run.out &&
	for id in $ids
	do
		# the killed run may have left queue.lock, which git config
		# respects too
		rm -f repo/.git/ws/queue.lock &&
		test "$(git config -f repo/.git/ws/state workstream.$id.status)" = merged &&
		git config -f repo/.git/ws/queue --fixed-value --unset-all queue.item $id ||
		return 1
	done &&
	merged_queued=$((merged_queued + 1))
}

merge_complete () {
	(
		cd repo &&
		test "$(ws_state ws-b status)" = merged &&
		test "$(ws_state ws-c status)" = merged &&
		# the queue file may still name merged workstreams until the
		# next writer: readers drop them (common/state.c)
		for id in $(git config -f .git/ws/queue --get-all queue.item)
		do
			test "$(ws_state $id status)" != converged || return 1
		done
	)
}

# trial_converge <how> <arg>
trial_converge () {
	how=$1 arg=$2
	kill_restore done &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-converge &&
	tally converge &&
	after_kill &&
	{ kill_run git ws-converge || known_unqueued ||
	  fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ converge_complete || known_unqueued ||
	  fail "the rerun did not converge everything"; } &&
	finish_loop
}

converge_complete () {
	(
		cd repo &&
		test "$(ws_state ws-b status)" = converged &&
		test "$(ws_state ws-c status)" = converged &&
		git config -f .git/ws/queue --get-all queue.item >../queue &&
		printf "%s\n" ws-b ws-c >../expect &&
		sort ../queue | test_cmp ../expect -
	)
}

# trial_clean <how> <arg>
trial_clean () {
	how=$1 arg=$2
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-clean &&
	tally clean &&
	after_kill &&
	{ kill_run git ws-clean || known_stale_admin_dir ||
	  known_half_removed || fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ clean_complete || fail "the rerun did not clean everything"; }
}

# known_stale_admin_dir: the rerun of git ws-clean refused a branch
# "checked out" in the remains of a worktree's admin directory that a
# killed `git worktree remove` was deleting (the known bug of the
# test_expect_failure below). Prune them, as git would, count it, and
# run it again; any other failure is a failure.
known_stale_admin_dir () {
	grep "^error: not cleaning .*: branch .* is checked out at '.*/repo/\.git/worktrees/[^/]*'$" run.err &&
	git -C repo worktree prune &&
	stale_admin=$((stale_admin + 1)) &&
	kill_run git ws-clean
}

# known_half_removed: the rerun of git ws-clean refused a worktree that
# a killed `git worktree remove` had deleted part of: files of the
# branch missing (nothing else changed), or its .git file gone and the
# files left all as on the branch (the known bug of the
# test_expect_failure below). Do as a user would: `git ws-clean --force
# <id>`, or, without the .git file, remove the directory by hand and
# run git ws-clean again. Count it.
known_half_removed () {
	ids=$(sed -n -e "s/^error: not cleaning '\(ws-[a-z]*\)': worktree '.*' has uncommitted or untracked files$/\1/p" \
		-e "s/^error: not cleaning '\(ws-[a-z]*\)': cannot read the status of worktree '.*'$/\1/p" run.err) &&
	test -n "$ids" &&
	for id in $ids
	do
		wt=$(git config -f repo/.git/ws/state workstream.$id.worktree) &&
		if test -f "$wt/.git"
		then
			git -C "$wt" status --porcelain >changes &&
			! grep -v "^ D " changes &&
			kill_run git ws-clean --force $id
		else
			# not even --force helps: git worktree remove refuses a
			# worktree without .git; remove it as a user would
			(
				cd "$wt" &&
				find . -type f | sed "s|^\./||" |
				while read f
				do
					git -C "$KILL_DIR/repo" show "refs/ws/backup/$id:$f" >"$KILL_DIR/blob" &&
					cmp -s "$f" "$KILL_DIR/blob" || exit 1
				done
			) &&
			rm -rf "$wt" &&
			git -C repo worktree prune &&
			kill_run git ws-clean
		fi || return 1
	done &&
	half_removed=$((half_removed + 1))
}

clean_complete () {
	(
		cd repo &&
		for id in ws-a ws-b ws-c ws-d ws-e
		do
			test "$(ws_state $id status)" = cleaned &&
			git rev-parse -q --verify refs/ws/backup/$id >/dev/null || return 1
		done &&
		test -z "$(git for-each-ref refs/heads/feature/)" &&
		! ls -d ../repo-ws-* 2>/dev/null &&
		git worktree list --porcelain >../wt &&
		! grep "repo-ws-" ../wt
	)
}

# measure <name> <snapshot> <command>...: runs without a kill: a plain
# one for its duration (ms, in duration_<name>), and one that counts its
# git children (gits_<name>) and its renames and unlinks.
measure () {
	name=$1 snap=$2
	shift 2
	kill_restore $snap &&
	kill_launch plain - "$@" &&
	test $KILL_STATUS = 0 &&
	eval "duration_$name=\$KILL_ELAPSED" &&
	kill_restore $snap &&
	kill_launch none - "$@" &&
	test $KILL_STATUS = 0 || {
		cat launch.out launch.err
		return 1
	}
	eval "gits_$name=\$(kill_git_children)" &&
	eval "renames_$name=\$KILL_RENAMES unlinks_$name=\$KILL_UNLINKS" &&
	cp counter.log gits-$name.log &&
	{ ! test -f syscalls || cp syscalls syscalls-$name; } &&
	eval "echo \"$name: \${duration_$name}ms, $(kill_git_children) git children, $KILL_RENAMES renames, $KILL_UNLINKS unlinks\"" >>durations
}

# sweep <name>: every kill point of a command: the delays, then each of
# its git children (before and after), or a sample of them.
sweep () {
	name=$1
	eval "duration=\$duration_$name gits=\$gits_$name"
	eval "renames=\$renames_$name unlinks=\$unlinks_$name"
	case " ${T9600_SWEEPS:-alloc loop converge merge clean} " in
	*" $name "*) ;;
	*) return 0 ;;
	esac
	if test -n "$T9600_ONLY"
	then
		set -- $T9600_ONLY
		test "$1" = "$name" || return 0
		trial_$1 $2 $3
		return
	fi
	for ms in $(kill_delays $duration)
	do
		trial_$name ms $ms || return 1
	done &&
	step=1 &&
	if test "$name" = loop && test "$T9600_SAMPLE" -gt 0 &&
	   test $gits -gt $T9600_SAMPLE
	then
		step=$(( (gits + T9600_SAMPLE - 1) / T9600_SAMPLE ))
	fi &&
	k=1 &&
	while test $k -le $gits
	do
		trial_$name git-before $k &&
		trial_$name git-after $k || return 1
		k=$((k + step))
	done &&
	for sys in rename unlink
	do
		eval "n=\$${sys}s" &&
		k=1 &&
		while test $k -le $n
		do
			trial_$name $sys $k || return 1
			k=$((k + 1))
		done || return 1
	done
}

test_expect_success 'setup: the repository, the plan, the agents, the snapshots' '
	kill_setup_fixture &&
	kill_snapshot fresh &&
	(cd repo && git ws-alloc ../plan >../out) &&
	kill_snapshot allocated &&
	(
		cd repo &&
		git ws-dispatch >../out 2>&1 &&
		git ws-converge >>../out 2>&1 &&
		git ws-merge >>../out 2>&1 &&
		git ws-dispatch >>../out 2>&1 &&
		test "$(ws_state ws-b status)" = done &&
		test "$(ws_state ws-c status)" = done
	) &&
	kill_snapshot done &&
	(
		cd repo &&
		git ws-converge >>../out 2>&1 &&
		test "$(ws_state ws-b status)" = converged &&
		test "$(ws_state ws-c status)" = converged
	) &&
	kill_snapshot queued &&
	kill_restore allocated &&
	(cd repo && git ws-dispatch --loop >../out 2>&1) &&
	kill_all_merged &&
	kill_snapshot merged
'

test_expect_success 'normal runs: durations and git children' '
	measure alloc fresh git ws-alloc ../plan &&
	measure loop allocated git ws-dispatch --loop &&
	measure converge done git ws-converge &&
	measure merge queued git ws-merge &&
	measure clean merged git ws-clean &&
	cat durations &&
	# strace works here, and sees the renames of the git-ws binaries
	if test "$renames_merge" -gt 0
	then
		test_set_prereq STRACE
	fi
'

test_expect_success 'kill git ws-alloc anywhere, run it again' '
	sweep alloc
'

test_expect_success 'kill git ws-dispatch --loop anywhere, run it again' '
	sweep loop
'

test_expect_success 'kill git ws-converge anywhere, run it again, then the loop' '
	sweep converge
'

test_expect_success 'kill git ws-merge anywhere, run it again, then the loop' '
	sweep merge
'

test_expect_success 'kill git ws-clean anywhere, run it again' '
	sweep clean
'

# nth_git <name> <pattern>: the number of the first git child of the
# normal run of <name> whose command line matches <pattern>.
nth_git () {
	grep -n -e "$2" gits-$1.log | head -n 1 | cut -d: -f1 | grep .
}

# nth_rename <name> <pattern> [<n>]: the number of the first (n-th)
# rename(2) of the normal run of <name> whose arguments match <pattern>.
nth_rename () {
	grep "^rename(" syscalls-$1 | grep -n -e "$2" | sed -n "${3:-1}p" | cut -d: -f1 | grep .
}

# Each kill point below reproduces, every time, a state that the sweeps
# above meet only when the timing is right; a few finish by hand what
# git was doing when it was killed, in the order git's own source does
# it (builtin/worktree.c), where no git command boundary falls.

test_expect_success 'git ws-alloc killed inside git worktree add' '
	kill_restore fresh &&
	old=$(git -C repo rev-parse main) &&
	kill_launch git-sub symbolic-ref git ws-alloc ../plan &&
	test $KILL_STATUS = 137 &&
	test "$(cat repo/.git/worktrees/repo-ws-a/locked)" = initializing &&
	kill_snapshot in-worktree-add
'

# cmd/git-ws-alloc.c, create_worktrees(): `git worktree add` runs in
# git-ws-alloc's process group, so a kill of the group stops it half
# way. git leaves .git/worktrees/repo-ws-a locked "initializing", with
# the placeholder HEAD (the null id) it writes before the real one, and
# until the next git ws-alloc repairs it, git fsck (and git gc, git log
# --all) fail on "worktrees/repo-ws-a/HEAD". Starting git worktree add
# in a process group of its own (new_pgrp) would let it finish instead.
test_expect_failure 'git fsck is clean right after git ws-alloc is killed inside git worktree add' '
	kill_restore in-worktree-add &&
	git -C repo fsck --no-progress --no-dangling
'

test_expect_success 'the rerun of git ws-alloc repairs the half-made worktree' '
	kill_restore in-worktree-add &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	alloc_complete &&
	git -C repo fsck --no-progress --no-dangling
'

# cmd/git-ws-alloc.c, repair_interrupted(): git worktree add makes the
# worktree directory, then registers it (.git/worktrees/<id>/gitdir,
# the .git file, HEAD, commondir). Killed in between, the directory is
# empty (or holds an unfinished .git file); the rerun of git ws-alloc
# dies "was left half-made ... remove it by hand" although its
# `allocating` record proves it made it, and even then the admin
# directory git locked "initializing" stays, so that git worktree add
# refuses the path. The rerun should remove both.
test_expect_failure 'the rerun of git ws-alloc removes a worktree directory git had only just made' '
	kill_restore in-worktree-add &&
	# back to the moment after git made the directory, before it wrote gitdir
	rm repo-ws-a/.git repo/.git/worktrees/repo-ws-a/gitdir \
		repo/.git/worktrees/repo-ws-a/HEAD repo/.git/worktrees/repo-ws-a/commondir &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	alloc_complete
'

test_expect_success 'git ws-alloc killed while git worktree add writes the commondir of the last worktree' '
	kill_restore fresh &&
	old=$(git -C repo rev-parse main) &&
	kill_launch git-sub symbolic-ref:4 git ws-alloc ../plan &&
	test $KILL_STATUS = 137 &&
	test "$(cat repo/.git/worktrees/repo-ws-d/locked)" = initializing &&
	: >repo/.git/worktrees/repo-ws-d/commondir &&
	test_must_fail git -C repo worktree list &&
	kill_snapshot in-commondir
'

# The same repair_interrupted(), when git was killed writing the
# commondir of the last worktree (ws-d): every git worktree command dies
# on that admin directory ("failed to read .git/worktrees/repo-ws-d/
# commondir"), so the rerun cannot remove even ws-a, which git had made
# whole, and calls it "not a worktree git knows"; git worktree list,
# git log --all and git gc fail too. The admin directories git left
# locked "initializing" need removing first, by hand if need be.
test_expect_failure 'the rerun of git ws-alloc repairs that, and allocates everything' '
	kill_restore in-commondir &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	alloc_complete
'

test_expect_success 'in the sweeps, known_half_made_dir repairs that by hand' '
	kill_restore in-commondir &&
	how=repair arg=commondir &&
	before=$half_made_dir &&
	{ kill_run git ws-alloc ../plan || known_half_made_dir; } &&
	test $half_made_dir = $((before + 1)) &&
	kill_check "$old" rerun &&
	alloc_complete
'

test_expect_success 'git ws-merge killed inside the git worktree add of its scratch worktree' '
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	git -C repo worktree remove --force .git/ws/scratch &&
	kill_launch git-sub update-ref git ws-merge &&
	test $KILL_STATUS = 137 &&
	test "$(cat repo/.git/worktrees/scratch/locked)" = initializing &&
	kill_snapshot in-scratch-add
'

# cmd/git-ws-merge.c, prepare_scratch(): the same for the scratch
# worktree: until the next git ws-merge makes it again, git fsck fails
# on "worktrees/scratch/HEAD".
test_expect_failure 'git fsck is clean right after git ws-merge is killed inside git worktree add' '
	kill_restore in-scratch-add &&
	git -C repo fsck --no-progress --no-dangling
'

test_expect_success 'the rerun of git ws-merge merges, and git fsck is clean again' '
	kill_restore in-scratch-add &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete &&
	git -C repo fsck --no-progress --no-dangling &&
	kill_snapshot in-scratch-add-rerun
'

# cmd/git-ws-merge.c, prepare_scratch(): the rerun finds the .git file
# of the scratch worktree, checks out there and uses it, but leaves it
# locked "initializing", as git worktree add left it: git worktree list
# shows it locked for ever, and git worktree remove needs -f -f. It
# should make such a worktree again (or unlock it).
test_expect_failure 'after that rerun, no worktree is left locked "initializing"' '
	kill_restore in-scratch-add-rerun &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees
'

# cmd/git-ws-merge.c, prepare_scratch(): when git worktree add was
# killed while writing .git/worktrees/scratch/commondir (empty), the
# rerun cannot use the scratch worktree, and `git worktree remove
# --force --force` cannot remove it either ("failed to read ...
# commondir"): git ws-merge says it is "in the way", hints "remove it",
# and fails the same way every time; meanwhile git itself (git worktree
# list, git log --all, git gc) dies on that admin directory until
# .git/worktrees/scratch is removed by hand too. A scratch worktree
# still locked "initializing" should be removed (both directories) and
# made again.
test_expect_failure 'the rerun of git ws-merge makes again a scratch worktree killed while git wrote its commondir' '
	kill_restore in-scratch-add &&
	: >repo/.git/worktrees/scratch/commondir &&
	{ kill_run git ws-merge || { cat run.err; false; }; } &&
	merge_complete &&
	git -C repo fsck --no-progress --no-dangling &&
	git -C repo worktree list >/dev/null
'

# The same when git worktree add was killed right after making the
# directory, before registering it (the admin directory holds only
# "locked"): "in the way" for ever.
test_expect_failure 'the rerun of git ws-merge makes again a scratch worktree killed right after git made its directory' '
	kill_restore in-scratch-add &&
	rm repo/.git/ws/scratch/.git repo/.git/worktrees/scratch/gitdir \
		repo/.git/worktrees/scratch/HEAD repo/.git/worktrees/scratch/commondir &&
	{ kill_run git ws-merge || { cat run.err; false; }; } &&
	merge_complete &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees
'

# cmd/git-ws-merge.c, merge_one(): the base is moved by compare-and-swap
# first, and follow() runs `git read-tree -m -u <old> <new>` in the main
# worktree (where main is checked out) after. Killed in between, that
# worktree's index and files stay at the old commit: git status shows
# the merge reverted (ws-b.txt deleted, staged), and a `git commit -a`
# there would undo it. The rerun finds ws-b already in main
# (record_merged(..., already = 1)) and never brings the worktree along.
test_expect_failure 'git ws-merge killed before the main worktree follows main: the rerun brings it along' '
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git merge "read-tree -m -u") &&
	kill_launch git-before $k git ws-merge &&
	test $KILL_STATUS = 137 &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete &&
	(cd repo && git status --porcelain) >main-status &&
	test_must_be_empty main-status
'

test_expect_success STRACE 'git ws-converge killed between writing the state and the queue' '
	kill_restore done &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_rename converge "ws/queue.lock") &&
	kill_launch rename $k git ws-converge &&
	test $KILL_STATUS = 137 &&
	test "$(cd repo && ws_state ws-b status)" = converged &&
	! git config -f repo/.git/ws/queue --get-all queue.item &&
	kill_snapshot converged-unqueued
'

# State and queue are two files, each replaced by its own rename:
# git ws-converge killed between them leaves ws-b `converged` but not in
# the queue. The queue holds exactly the converged workstreams, and
# common/state.c repairs it whenever it reads the two.
test_expect_success STRACE 'after that, git ws-dispatch --loop finishes the plan' '
	kill_restore converged-unqueued &&
	{ kill_run git ws-dispatch --loop || { cat run.out; false; }; } &&
	kill_all_merged
'

test_expect_success STRACE 'git ws-merge killed between writing the state and the queue' '
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_rename merge "ws/queue.lock") &&
	kill_launch rename $k git ws-merge &&
	test $KILL_STATUS = 137 &&
	test "$(cd repo && ws_state ws-b status)" = merged &&
	git config -f repo/.git/ws/queue --get-all queue.item >queue &&
	grep -x ws-b queue &&
	kill_snapshot merged-queued
'

# The same, the other way round: ws-b is `merged` but still queued, and
# the repaired queue drops it.
test_expect_success STRACE 'after that, git ws-merge merges the rest, drops ws-b from the queue and exits 0' '
	kill_restore merged-queued &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete
'

# cmd/git-ws-clean.c: git worktree remove deletes the worktree's files
# one by one, then its admin directory. Killed part way, the worktree
# has files of the branch missing (or its .git file gone), and the rerun
# refuses it, "has uncommitted or untracked files" (or "cannot read the
# status"), so that only --force finishes the job that git ws-clean
# itself started on a worktree it had checked was clean. Recording the
# removal in the state first would let the rerun finish it.
test_expect_failure 'the rerun of git ws-clean finishes removing a worktree that git worktree remove was killed deleting' '
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git clean "worktree remove .*/repo-ws-d$") &&
	kill_launch git-before $k git ws-clean &&
	test $KILL_STATUS = 137 &&
	# what git worktree remove had deleted when it was killed
	rm repo-ws-d/ws-a.txt repo-ws-d/README &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	clean_complete
'

# The same when git had deleted the worktree's .git file first: then
# even `git ws-clean --force` cannot remove it (git worktree remove:
# "validation failed ... .git does not exist").
test_expect_failure 'the rerun of git ws-clean finishes removing a worktree whose .git file git had deleted' '
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git clean "worktree remove .*/repo-ws-d$") &&
	kill_launch git-before $k git ws-clean &&
	test $KILL_STATUS = 137 &&
	rm repo-ws-d/.git &&
	{ kill_run git ws-clean || kill_run git ws-clean --force ||
	  { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	clean_complete
'

test_expect_success 'git ws-clean killed inside git worktree remove' '
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git clean "worktree remove .*/repo-ws-c$") &&
	kill_launch git-after $k git ws-clean &&
	test $KILL_STATUS = 137 &&
	# git worktree remove deletes the worktree, then its admin directory
	# file by file: put back what was left when the kill came part way
	# through the latter (gitdir gone, HEAD still there)
	git -C repo rev-parse refs/ws/backup/ws-c >tip &&
	mkdir -p repo/.git/worktrees/repo-ws-c &&
	echo "ref: refs/heads/feature/ws-c-charlie" >repo/.git/worktrees/repo-ws-c/HEAD &&
	test_path_is_missing repo-ws-c &&
	kill_snapshot in-worktree-remove
'

# cmd/git-ws-clean.c, check_checked_out(): the remains of the admin
# directory (no gitdir file: git worktree prune would remove them, and
# git worktree list does not show them) are taken for another worktree
# that has feature/ws-c-charlie checked out "at .git/worktrees/repo-ws-c",
# and that refusal holds even with --force: ws-c and ws-e are never
# cleaned.
test_expect_failure 'after that, the rerun of git ws-clean cleans everything' '
	kill_restore in-worktree-remove &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	clean_complete
'

# The same remains, once git had deleted HEAD too: the rerun cleans
# ws-c and ws-e, but leaves .git/worktrees/repo-ws-c for git worktree
# prune, although git-ws-clean(1) promises "git worktree prune has
# nothing to do" afterwards.
test_expect_failure 'the rerun of git ws-clean leaves nothing for git worktree prune' '
	kill_restore in-worktree-remove &&
	rm repo/.git/worktrees/repo-ws-c/HEAD &&
	echo ../.. >repo/.git/worktrees/repo-ws-c/commondir &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
	clean_complete &&
	git -C repo worktree prune --dry-run --verbose >prune 2>&1 &&
	test_must_be_empty prune
'

test_expect_success STRACE 'git ws-dispatch killed after starting a command, before recording it' '
	kill_restore allocated &&
	old=$(git -C repo rev-parse main) &&
	# its first state write marks ws-a queued, the second records the
	# start of its command (forked, waiting for that record)
	k=$(nth_rename loop "ws/state\"" 2) &&
	KILL_AGENT_SLEEP=3 KILL_LEAVE_RUNNING=1 &&
	export KILL_AGENT_SLEEP KILL_LEAVE_RUNNING &&
	kill_launch rename $k git ws-dispatch --loop &&
	unset KILL_LEAVE_RUNNING &&
	first=$KILL_TOKEN &&
	test $KILL_STATUS = 137 &&
	test "$(cd repo && ws_state ws-a status)" = in_progress &&
	test "$(cd repo && ws_state ws-a reason)" = queued &&
	kill_snapshot started-unrecorded &&
	# were the command of ws-a running on, the rerun would start a
	# second one beside it
	{ kill_run git ws-dispatch --loop || cat run.out run.err; } &&
	kill_wait_leftovers $first &&
	unset KILL_AGENT_SLEEP
'

# common/dispatch.c, transact(): a command waits at a start gate until
# the state records its pid, and gives up unrun when its dispatcher dies
# first. So a workstream "queued" under a dead dispatcher has no command
# running, and the rerun that makes it ready starts its only one.
test_expect_success STRACE 'after that, no second command of ws-a ran while the first was running' '
	test_path_is_missing twice.log &&
	# the finished plan archived its logs
	log=repo/.git/ws/archive/kill/logs/ws-a.log &&
	grep "^fatal: not running .*: its start was called off$" $log &&
	test "$(grep -c "^=== git ws-dispatch: ws-a attempt 1 ended" $log)" = 1
'

test_expect_success STRACE 'and the plan was finished all the same' '
	kill_all_merged &&
	kill_check "$old" rerun
'

summary () {
	echo "kill points tried: $tried, landed (the command was still running): $landed"
	for name in alloc loop converge merge clean
	do
		eval "echo \"  $name: tried \${tried_$name:-0}, landed \${landed_$name:-0}\""
	done
	echo "  known problems met on the way (see the test_expect_failure tests):"
	echo "    half-made worktree right after a kill (git fsck fails): $half_made"
	echo "    half-made worktree directory refused by the rerun of git ws-alloc: $half_made_dir"
	echo "    main worktree left behind main by git ws-merge: $main_behind"
	echo "    stale worktree admin directory refused by git ws-clean: $stale_admin"
	echo "    stale worktree admin directory left for git worktree prune: $(cat prunable 2>/dev/null | wc -l)"
	echo "    half-removed worktree refused by the rerun of git ws-clean: $half_removed"
	echo "    scratch worktree left locked \"initializing\" by git ws-merge: $(cat locked-scratch 2>/dev/null | wc -l)"
	echo "    half-made scratch worktree \"in the way\" of git ws-merge: $broken_scratch"
	echo "    converged but not queued, never merged: $unqueued"
	echo "    merged but still queued, git ws-merge exits 1: $merged_queued"
	echo "  git lock files left by killed git commands, removed as git asks: $kill_git_locks"
}

test_expect_success 'at least 40 kill points landed' '
	summary >summary &&
	cat summary &&
	test -n "$T9600_ONLY$T9600_SWEEPS" || test $landed -ge 40
'

# the count, on the test's output (TAP comments) whatever the verbosity
summary | sed "s/^/# /"

test_done
