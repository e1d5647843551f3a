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

Fixed kill points after the sweeps reproduce, every time, states that
the sweeps meet only when the timing is right, and some that they cannot
reach (git itself killed inside git worktree add or remove, as if
everything died at once): the rerun must repair each.

Agents and test commands run in process groups of their own, so the kill
does not reach them: they finish, as they would if git-ws crashed, and
the harness waits for them before it checks and reruns. So do the git
commands that write worktree admin files in several steps (git worktree
add and remove, the read-tree that brings a checked-out base along).'

. ./lib-ws.sh
. "$WS_SOURCE_DIR/t/lib-kill.sh"

# How many kill points: T9600_SAMPLE git children of the loop are
# tried, 2 * T9600_SAMPLE of its renames, and 2 * T9600_SAMPLE of the
# unlinks of every command (every git child and rename of the other
# commands is); 0 for all of them. A rename commits a file; most unlinks
# remove lock and temporary files, one much like the next.
# T9600_ONLY="<command> <how> <arg>" (e.g. "loop git-before 11") runs
# that one kill point, to look at it; T9600_SWEEPS="merge clean" only
# those sweeps (batch: git ws-merge --batch). A failing kill point leaves its files in snap/failed-*.
: "${T9600_SAMPLE:=12}"

tried=0
landed=0

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

# after_kill: the invariants right after a kill. A main worktree that
# git ws-merge had not brought along to main yet is not a breach: the
# rerun brings it along, and finish_loop checks that it did.
after_kill () {
	kill_check "$old" killed || fail "after the kill"
}

# finish_loop: git ws-dispatch --loop completes the plan.
finish_loop () {
	{ kill_run git ws-dispatch --loop ||
	  fail "git ws-dispatch --loop did not finish the plan"; } &&
	{ kill_all_merged || fail "not every workstream is merged"; } &&
	{ kill_check "$old" rerun || fail "after the final loop"; } &&
	(cd repo && git status --porcelain) >main-status &&
	{ test_must_be_empty main-status ||
	  fail "the main worktree does not match main"; } &&
	{ ! ls repo/.git/ws/state.lock repo/.git/ws/queue.lock 2>/dev/null ||
	  fail "a stale lock file outlived the loop that wrote state and queue"; } &&
	{ test -z "$(git config -f repo/.git/ws/queue --get-all queue.item)" ||
	  fail "the merge queue is not empty after the loop"; }
}

# trial_alloc <how> <arg>
trial_alloc () {
	how=$1 arg=$2
	kill_restore fresh &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-alloc ../plan &&
	tally alloc &&
	after_kill &&
	{ kill_run git ws-alloc ../plan || fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ alloc_complete || fail "the rerun did not allocate everything"; }
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
	{ kill_run git ws-merge ||
	  fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ merge_complete || fail "the rerun did not merge the queue"; } &&
	finish_loop
}

# trial_batch <how> <arg>: trial_merge, of git ws-merge --batch (the two
# queued workstreams on one chain, its base moved once).
trial_batch () {
	how=$1 arg=$2
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-merge --batch &&
	tally batch &&
	after_kill &&
	{ kill_run git ws-merge --batch ||
	  fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ merge_complete || fail "the rerun did not merge the queue"; } &&
	finish_loop
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
	{ kill_run git ws-converge || fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ converge_complete || fail "the rerun did not converge everything"; } &&
	finish_loop
}

# The queue file may lack a converged workstream until the next writer
# (converge killed between writing the state and the queue, a rerun with
# nothing to do): readers add it (common/state.c), and finish_loop then
# checks that it merges. So does git ws-merge -n, which reads the queue.
converge_complete () {
	(
		cd repo &&
		test "$(ws_state ws-b status)" = converged &&
		test "$(ws_state ws-c status)" = converged &&
		git ws-merge -n --porcelain >../merge-n &&
		grep "	ws-b	" ../merge-n &&
		grep "	ws-c	" ../merge-n
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
	{ kill_run git ws-clean || fail "the rerun failed"; } &&
	{ kill_check "$old" rerun || fail "after the rerun"; } &&
	{ clean_complete || fail "the rerun did not clean everything"; }
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

# trial_undo <how> <arg>: git ws-merge --undo of ws-b and ws-d, which
# depends on it, on the merged plan: ws-d first (a move back when its
# merge is the tip, else a tested revert), then a tested revert of ws-b.
trial_undo () {
	how=$1 arg=$2
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	kill_launch $how $arg git ws-merge --undo ws-b ws-d &&
	tally undo &&
	{ undo_check killed || fail "after the kill"; } &&
	# the rerun finishes or drops the records, then the undo goes on
	{ kill_run git ws-merge || fail "the rerun failed"; } &&
	left=$(cd repo && for id in ws-d ws-b
		do
			test "$(ws_state $id status)" != merged || echo $id
		done) &&
	{ test -z "$left" || kill_run git ws-merge --undo $left ||
	  fail "the rerun of the undo of $left failed"; } &&
	{ undo_check rerun || fail "after the rerun"; } &&
	{ undo_complete || fail "the rerun did not undo ws-b and ws-d"; }
}

# undo_check <when>: git fsck is clean, the state parses, and the base
# is a tested tree: reverts (none or more) on top of a commit of the old
# tip's first-parent line (the old tip, or where it was before a merge).
undo_check () {
	(
		cd repo &&
		git fsck --no-progress --no-dangling >../fsck.out 2>&1 &&
		test ! -s ../fsck.out &&
		git config -f .git/ws/state --list >/dev/null &&
		git ws-status >../status.out 2>&1 &&
		c=$(git rev-parse main) &&
		while git log -1 --format=%s $c | grep -q "^Revert \"Merge ws-"
		do
			c=$(git rev-parse $c^1) || exit 1
		done &&
		git rev-list --first-parent "$old" | grep -qx $c || {
			echo "main is not reverts on the first-parent line of $old ($1)"
			exit 1
		} &&
		(cd .. && kill_tested_tree main)
	)
}

undo_complete () {
	(
		cd repo &&
		test "$(ws_state ws-b status)" = done &&
		test "$(ws_state ws-d status)" = done &&
		test "$(ws_state ws-c status)" = merged &&
		! git config -f .git/ws/state --get-regexp "undo-|follow-" &&
		git rev-parse -q --verify "$(ws_state ws-b branch)" >/dev/null &&
		git rev-parse -q --verify "$(ws_state ws-d branch)" >/dev/null &&
		! git cat-file -e main:ws-b.txt 2>/dev/null &&
		! git cat-file -e main:ws-d.txt 2>/dev/null &&
		git cat-file -e main:ws-c.txt &&
		test -z "$(git status --porcelain)"
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
	case " ${T9600_SWEEPS:-alloc loop converge merge batch clean undo} " in
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
		step=1 &&
		if { test "$name" = loop || test $sys = unlink; } &&
		   test "$T9600_SAMPLE" -gt 0 && test $n -gt $((2 * T9600_SAMPLE))
		then
			step=$(( (n + 2 * T9600_SAMPLE - 1) / (2 * T9600_SAMPLE) ))
		fi &&
		k=1 &&
		while test $k -le $n
		do
			trial_$name $sys $k || return 1
			k=$((k + step))
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
	measure batch queued git ws-merge --batch &&
	measure clean merged git ws-clean &&
	measure undo merged git ws-merge --undo ws-b ws-d &&
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

test_expect_success 'kill git ws-merge --batch anywhere, run it again, then the loop' '
	sweep batch
'

test_expect_success 'kill git ws-clean anywhere, run it again' '
	sweep clean
'

test_expect_success 'kill git ws-merge --undo anywhere, run it again' '
	sweep undo
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

# cmd/git-ws-alloc.c, create_worktrees(): `git worktree add` runs in a
# process group of its own, so a kill of git-ws-alloc's group lets it
# finish its admin files: git fsck is clean at once, and the rerun
# removes the whole worktree that its `allocating` record proves it made,
# and allocates everything.
test_expect_success 'git ws-alloc killed while git worktree add runs: git finishes, git fsck is clean' '
	kill_restore fresh &&
	old=$(git -C repo rev-parse main) &&
	kill_launch git-sub-spare symbolic-ref git ws-alloc ../plan &&
	test $KILL_STATUS = 137 &&
	test_path_is_missing repo/.git/worktrees/repo-ws-a/locked &&
	git -C repo fsck --no-progress --no-dangling &&
	kill_check "$old" killed &&
	test -n "$(cd repo && ws_state ws-a allocating)" &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	grep "undid the interrupted allocation of .ws-a." run.err &&
	kill_check "$old" rerun &&
	alloc_complete
'

test_expect_success 'the rerun of git ws-alloc repairs a worktree git worktree add was killed making' '
	kill_restore in-worktree-add &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	alloc_complete &&
	git -C repo fsck --no-progress --no-dangling
'

# cmd/git-ws-alloc.c, repair_interrupted(): git worktree add makes the
# worktree directory, then registers it (.git/worktrees/<id>/locked,
# gitdir, the .git file, HEAD, commondir). Killed in between, the
# directory is empty (or holds an unfinished .git file) and the admin
# directory is still locked "initializing"; the `allocating` record
# proves git-ws-alloc made both, and the rerun removes them.
test_expect_success 'the rerun of git ws-alloc removes a worktree directory git had only just made' '
	kill_restore in-worktree-add &&
	# back to the moment after git made the directory, before it wrote gitdir
	rm repo-ws-a/.git repo/.git/worktrees/repo-ws-a/gitdir \
		repo/.git/worktrees/repo-ws-a/HEAD repo/.git/worktrees/repo-ws-a/commondir &&
	# git writes the lock reason in the user language
	echo Initialisierung >repo/.git/worktrees/repo-ws-a/locked &&
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
# commondir"), so the admin directories git left locked "initializing"
# go first; then git can remove ws-a, which it had made whole.
test_expect_success 'the rerun of git ws-alloc repairs that, and allocates everything' '
	kill_restore in-commondir &&
	{ kill_run git ws-alloc ../plan || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	alloc_complete
'

# A directory that is in the way is never removed unless it holds
# nothing but what git worktree add writes before its checkout.
test_expect_success 'the rerun of git ws-alloc leaves alone a half-made worktree holding other files' '
	kill_restore in-worktree-add &&
	rm repo-ws-a/.git repo/.git/worktrees/repo-ws-a/gitdir &&
	echo precious >repo-ws-a/notes.txt &&
	test_must_fail kill_run git ws-alloc ../plan &&
	grep "remove it by hand" run.err &&
	test "$(cat repo-ws-a/notes.txt)" = precious
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

# The kill above takes git worktree add with git ws-merge, as if
# everything died at once inside git: the scratch worktree stays
# half-made (git fsck fails on "worktrees/scratch/HEAD") until the next
# git ws-merge makes it again (the tests below). What git ws-merge
# promises is that a kill of its own process group does not stop git
# half way: it starts git worktree add in a process group of its own
# (common/worktree.h), which finishes, and git fsck is clean as soon as
# it has ended.
test_expect_success 'git fsck is clean right after git ws-merge is killed inside git worktree add' '
	kill_restore queued &&
	git -C repo worktree remove --force .git/ws/scratch &&
	kill_launch git-sub-spare update-ref git ws-merge &&
	test $KILL_STATUS = 137 &&
	git -C repo fsck --no-progress --no-dangling &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees &&
	test_path_is_file repo/.git/ws/scratch/check.sh
'

# That git worktree add holds merge.lock to its end: a git ws-merge run
# meanwhile waits for it, rather than finding the scratch worktree half
# made while git is still making it.
test_expect_success 'git ws-merge run again at once waits for that git worktree add' '
	kill_restore queued &&
	git -C repo worktree remove --force .git/ws/scratch &&
	KILL_GIT_SPARE_SLEEP=2 KILL_LEAVE_RUNNING=1 &&
	export KILL_GIT_SPARE_SLEEP KILL_LEAVE_RUNNING &&
	test_when_finished "unset KILL_GIT_SPARE_SLEEP KILL_LEAVE_RUNNING" &&
	kill_launch git-sub-spare update-ref git ws-merge &&
	test $KILL_STATUS = 137 &&
	test -n "$(kill_leftovers $KILL_TOKEN)" &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	grep "^Waiting for another git ws-merge to finish" run.err &&
	! grep "half-made" run.err &&
	kill_wait_leftovers $KILL_TOKEN &&
	merge_complete &&
	git -C repo fsck --no-progress --no-dangling &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees
'

test_expect_success 'the rerun of git ws-merge merges, and git fsck is clean again' '
	kill_restore in-scratch-add &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete &&
	git -C repo fsck --no-progress --no-dangling &&
	kill_snapshot in-scratch-add-rerun
'

# common/scratch.c, ws_scratch_checkout(): a scratch worktree whose admin
# directory is still locked (git locks it "initializing" until the
# worktree is checked out, and git-ws never locks it) is one that git
# never finished: the rerun removes it, both directories, and makes it
# again, so that nothing stays locked.
test_expect_success 'after that rerun, no worktree is left locked "initializing"' '
	kill_restore in-scratch-add-rerun &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees
'

# The same when git worktree add was killed while writing
# .git/worktrees/scratch/commondir (empty), on which every git worktree
# command dies, git worktree remove --force --force too (and git
# worktree list, git log --all, git gc): the rerun removes both
# directories itself, without git, and makes the scratch worktree again.
test_expect_success 'the rerun of git ws-merge makes again a scratch worktree killed while git wrote its commondir' '
	kill_restore in-scratch-add &&
	: >repo/.git/worktrees/scratch/commondir &&
	{ kill_run git ws-merge || { cat run.err; false; }; } &&
	merge_complete &&
	git -C repo fsck --no-progress --no-dangling &&
	git -C repo worktree list >/dev/null
'

# The same when git worktree add was killed right after making the
# directory, before registering it (the admin directory holds only
# "locked", so that nothing but its name, that of the scratch
# worktree, says whose it is).
test_expect_success 'the rerun of git ws-merge makes again a scratch worktree killed right after git made its directory' '
	kill_restore in-scratch-add &&
	rm repo/.git/ws/scratch/.git repo/.git/worktrees/scratch/gitdir \
		repo/.git/worktrees/scratch/HEAD repo/.git/worktrees/scratch/commondir &&
	{ kill_run git ws-merge || { cat run.err; false; }; } &&
	merge_complete &&
	git -C repo worktree list --porcelain >worktrees &&
	! grep "^locked" worktrees
'

# cmd/git-ws-merge.c, move_base(): the base is moved by compare-and-swap
# first, and ws_follow() (common/follow.h) runs `git read-tree -m -u
# <old> <new>` in the main worktree (where main is checked out) after. Killed in between, that
# worktree's index and files are still those of the old commit (git
# status shows the merge undone), but the move was recorded in the state
# before it happened: the rerun brings the worktree along first, and
# then finds ws-b already in main.
test_expect_success 'git ws-merge killed before the main worktree follows main: the rerun brings it along' '
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git merge "read-tree -m -u") &&
	kill_launch git-before $k git ws-merge &&
	test $KILL_STATUS = 137 &&
	# main moved; its worktree shows the merge undone, a file deleted
	(cd repo && git status --porcelain) >main-status &&
	grep "^D  ws-[a-z]*\.txt$" main-status &&
	test -n "$(git config -f repo/.git/ws/state --get-regexp "follow-to")" &&
	kill_snapshot before-follow &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	grep "follows .main. again" run.err &&
	merge_complete &&
	(cd repo && git status --porcelain) >main-status &&
	test_must_be_empty main-status &&
	! git config -f repo/.git/ws/state --get-regexp "follow-"
'

# The rerun keeps a change made meanwhile elsewhere in that worktree...
test_expect_success 'that rerun keeps a change made meanwhile in a file the merge did not touch' '
	kill_restore before-follow &&
	echo more >>repo/README &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete &&
	(cd repo && git status --porcelain) >main-status &&
	echo " M README" >expect &&
	test_cmp expect main-status &&
	tail -n 1 repo/README >actual &&
	echo more >expect &&
	test_cmp expect actual
'

# ... and leaves the worktree alone when the paths the merge changes
# were changed there meanwhile, saying how to bring it along.
test_expect_success 'that rerun leaves alone a worktree changed meanwhile where the merge changed it' '
	kill_restore before-follow &&
	f=$(cd repo && git status --porcelain | sed -n "s/^D  //p") &&
	echo mine >repo/$f &&
	git -C repo add $f &&
	{ kill_run git ws-merge || { cat run.out run.err; false; }; } &&
	merge_complete &&
	grep "^warning: .main. moved to .* but git ws-merge was interrupted before its worktree .* followed, which has changes since" run.err &&
	grep "^hint:   git -C .*/repo. read-tree -m -u [0-9a-f]* [0-9a-f]*$" run.err &&
	echo mine >expect &&
	test_cmp expect repo/$f &&
	git -C repo diff --cached --name-only >staged &&
	echo $f >expect &&
	test_cmp expect staged &&
	! git config -f repo/.git/ws/state --get-regexp "follow-" &&
	# the command of the hint, once that change is put aside
	git -C repo rm -q --cached $f &&
	mv repo/$f mine &&
	eval "$(sed -n "s/^hint:   //p" run.err)" &&
	(cd repo && git status --porcelain) >main-status &&
	test_must_be_empty main-status
'

# Killed after the worktree followed, before the record was dropped: a
# commit made there since (main moved on, in a path the merge changed)
# is no reason to warn; the rerun drops the record quietly.
test_expect_success 'git ws-merge killed right after the main worktree followed, main moved on: no warning' '
	kill_restore queued &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git merge "read-tree -m -u") &&
	kill_launch git-after $k git ws-merge &&
	test $KILL_STATUS = 137 &&
	git config -f repo/.git/ws/state --get-regexp "follow-" &&
	f=$(git -C repo diff --name-only "$old" main | grep "^ws-" | head -n 1) &&
	echo more >>repo/$f &&
	(cd repo && git commit -q -a -m "more of $f, on main") &&
	# (which fails the test gate from now on: the rerun merges nothing)
	{ kill_run git ws-merge || :; } &&
	grep "^$(basename $f .txt): already in main" run.out &&
	! grep "interrupted before" run.err &&
	! git config -f repo/.git/ws/state --get-regexp "follow-" &&
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

# cmd/git-ws-clean.c: git ws-clean records in the state that it is
# removing a worktree (`removing`, with the admin directory and the
# commit it checked clean) before git worktree remove starts, which runs
# in a process group of its own so that a kill of git ws-clean's does
# not stop it. When git is killed too, part way through deleting the
# worktree's files one by one, the rerun finishes the removal without
# --force: every file left is as in the recorded commit (see t5001 for
# what it refuses).
test_expect_success 'the rerun of git ws-clean finishes removing a worktree that git worktree remove was killed deleting' '
	kill_restore merged &&
	old=$(git -C repo rev-parse main) &&
	k=$(nth_git clean "worktree remove .*/repo-ws-d$") &&
	kill_launch git-before $k git ws-clean &&
	test $KILL_STATUS = 137 &&
	test "$(git config -f repo/.git/ws/state workstream.ws-d.removing)" = "$KILL_DIR/repo-ws-d" &&
	kill_snapshot before-remove &&
	# what git worktree remove had deleted when it was killed
	rm repo-ws-d/ws-a.txt repo-ws-d/README &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	clean_complete &&
	! git config -f repo/.git/ws/state --get-regexp "\.removing"
'

# The same when git had deleted the worktree's .git file first, so that
# git worktree remove refuses it even with --force ("validation failed
# ... .git does not exist"): git ws-clean deletes what is left itself.
test_expect_success 'the rerun of git ws-clean finishes removing a worktree whose .git file git had deleted' '
	kill_restore before-remove &&
	rm repo-ws-d/.git &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
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

# cmd/git-ws-clean.c, check_branch(): the remains of the admin
# directory (no gitdir file: git worktree list does not show them, and
# git worktree prune would remove them) check nothing out, so that
# feature/ws-c-charlie is deleted; and since they are the remains of the
# admin directory recorded as `removing-admin`, the rerun removes them,
# as git worktree prune would.
test_expect_success 'after that, the rerun of git ws-clean cleans everything' '
	kill_restore in-worktree-remove &&
	{ kill_run git ws-clean || { cat run.err; false; }; } &&
	kill_check "$old" rerun &&
	clean_complete &&
	test_path_is_missing repo/.git/worktrees/repo-ws-c
'

# The same remains, once git had deleted HEAD too: after the rerun,
# git worktree prune has nothing to do, as git-ws-clean(1) promises.
test_expect_success 'the rerun of git ws-clean leaves nothing for git worktree prune' '
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

# common/run.c, supervise(): each dispatched command runs under a
# supervisor that records how it ended (coordination/<id>.exit) whether
# or not its dispatcher still lives. The dispatcher is killed right
# before ws-a's agent runs `git commit` (its group only: the agent runs
# on, in a group of its own, and commits): the rerun credits that
# attempt instead of taking it for vanished and running a second one.
test_expect_success 'git ws-dispatch --loop killed while a command runs; it commits: the rerun credits it' '
	kill_restore allocated &&
	old=$(git -C repo rev-parse main) &&
	kill_launch git-sub-spare commit git ws-dispatch --loop &&
	test $KILL_STATUS = 137 &&
	test "$(cd repo && ws_state ws-a status)" = in_progress &&
	test_path_is_file repo/.git/ws/coordination/ws-a.exit &&
	after_kill &&
	# the git ws-status of kill_check credited it already
	test "$(cd repo && ws_state ws-a status)" = done &&
	test -z "$(cd repo && ws_state ws-a reason)" &&
	finish_loop &&
	test "$(cd repo && ws_state ws-a attempts)" = 1 &&
	test "$(grep -c "^ws-a " agents.log)" = 1 &&
	test "$(git -C repo log --format=%s main | grep -c "^ws-a: add ws-a.txt$")" = 1 &&
	log=repo/.git/ws/archive/kill/logs/ws-a.log &&
	! grep "ws-a attempt 2" $log &&
	grep "^=== git ws-dispatch: ws-a attempt 1 ended .*(recorded by its supervisor" $log
'

# The same, but the rerun starts while that command still runs (its git
# commit waits 3 s): git ws-dispatch --loop adopts it, waits for it and
# credits it, and starts no second command in its worktree meanwhile.
test_expect_success 'git ws-dispatch --loop killed while a command runs; the rerun adopts it' '
	kill_restore allocated &&
	old=$(git -C repo rev-parse main) &&
	KILL_GIT_SPARE_SLEEP=3 KILL_LEAVE_RUNNING=1 &&
	export KILL_GIT_SPARE_SLEEP KILL_LEAVE_RUNNING &&
	test_when_finished "unset KILL_GIT_SPARE_SLEEP KILL_LEAVE_RUNNING" &&
	kill_launch git-sub-spare commit git ws-dispatch --loop &&
	test $KILL_STATUS = 137 &&
	first=$KILL_TOKEN &&
	test -n "$(kill_leftovers $first)" &&
	test_path_is_missing repo/.git/ws/coordination/ws-a.exit &&
	sup=$(cd repo && ws_state ws-a pid) &&
	{ kill_run git ws-dispatch --loop || { cat run.out run.err; false; }; } &&
	grep "^ws-a: its command runs on (pid $sup) after its dispatcher died: waiting for it" run.err &&
	kill_wait_leftovers $first &&
	kill_all_merged &&
	kill_check "$old" rerun &&
	test "$(cd repo && ws_state ws-a attempts)" = 1 &&
	test "$(grep -c "^ws-a " agents.log)" = 1 &&
	! grep "ws-a attempt 2" repo/.git/ws/archive/kill/logs/ws-a.log
'

summary () {
	echo "kill points tried: $tried, landed (the command was still running): $landed"
	for name in alloc loop converge merge batch clean undo
	do
		eval "echo \"  $name: tried \${tried_$name:-0}, landed \${landed_$name:-0}\""
	done
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
