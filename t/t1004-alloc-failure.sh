#!/bin/sh

test_description='git ws-alloc: a failure half-way leaves nothing behind, or the next run repairs it'

. ./lib-ws.sh

SQ="'"

# no_state_records <repo>: the state file, if any, has no record.
no_state_records () {
	if test -f "$1/.git/ws/state"
	then
		git config -f "$1/.git/ws/state" --list >records &&
		test_must_be_empty records
	fi
}

# only_main <repo>: no worktree but the main one (none half-registered
# under .git/worktrees either), no branch but main.
only_main () {
	git -C "$1" worktree list --porcelain >wt &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 1 wt.lines &&
	if test -d "$1/.git/worktrees"
	then
		ls "$1/.git/worktrees" >admin &&
		test_must_be_empty admin
	fi &&
	git -C "$1" for-each-ref --format="%(refname)" refs/heads >refs &&
	echo refs/heads/main >expect.refs &&
	test_cmp expect.refs refs
}

# A fake `git` for failure injection: `git [--git-dir=<dir>] worktree add`
# of a path ending in $FAIL_WT fails as a full disk would (after git's own
# clean-up), and
# `git reset` in a directory ending in $FAIL_RESET_WT fails likewise; or,
# with HANG_WT, records its pid in $HANG_PIDFILE and hangs; with ADD_PIDS,
# every `git worktree add` appends its pid to that file. Everything
# else is the real git. The tests run git-ws-alloc directly (not through
# `git ws-alloc`, which would put git's exec-path first on PATH).
REAL_GIT=$(command -v git)
export REAL_GIT

test_expect_success 'setup' '
	mkdir fakebin &&
	write_script fakebin/git <<-\EOF &&
	for a
	do
		last2=$last1 last1=$a
	done
	if test "$1" = reset && test -n "$FAIL_RESET_WT"
	then
		case "$PWD" in
		*"$FAIL_RESET_WT")
			echo "fake: cannot write files" >&2
			exit 128 ;;
		esac
	fi
	sub="$1 $2"
	case "$1" in
	--git-dir=*) sub="$2 $3" ;;
	esac
	if test "$sub" = "worktree add"
	then
		test -z "$ADD_PIDS" || echo $$ >>"$ADD_PIDS"
		case "$last2" in
		*"${FAIL_WT:-/nothing/}")
			echo "fake: no space left on device" >&2
			exit 128 ;;
		*"${HANG_WT:-/nothing/}")
			echo $$ >"$HANG_PIDFILE"
			exec sleep 60 ;;
		esac
	fi
	exec "$REAL_GIT" "$@"
	EOF
	cat >plan <<-\EOF
	[plan]
		name = four
		base = main
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
		depends = ws-3
	[workstream "ws-5"]
		title = Five
		worktree = ws-1
	EOF
'

test_expect_success 'the worktree path of the third workstream exists: nothing is made' '
	setup_repo r1 &&
	mkdir r1-ws-3 &&
	echo mine >r1-ws-3/precious &&
	(
		cd r1 &&
		test_expect_code 128 git ws-alloc ../plan >../out 2>../err
	) &&
	grep "^error: worktree path ${SQ}.*/r1-ws-3${SQ} for ${SQ}ws-3${SQ} already exists$" err &&
	grep "^hint: " err &&
	tail -n 1 err >last &&
	echo "fatal: nothing was allocated" >expect &&
	test_cmp expect last &&
	test_must_be_empty out &&
	only_main r1 &&
	no_state_records r1 &&
	test_path_is_missing r1-ws-1 &&
	test_path_is_missing r1-ws-2 &&
	test_path_is_missing r1-ws-4 &&
	echo mine >expect &&
	test_cmp expect r1-ws-3/precious
'

test_expect_success 'the branch of the third workstream exists: nothing is made, the branch is kept' '
	setup_repo r2 &&
	(cd r2 && test_commit side && git branch feature/ws-3-three && git reset -q --hard HEAD^) &&
	tip=$(git -C r2 rev-parse feature/ws-3-three) &&
	(
		cd r2 &&
		test_expect_code 128 git ws-alloc ../plan 2>../err
	) &&
	grep "^error: branch ${SQ}feature/ws-3-three${SQ} for ${SQ}ws-3${SQ} already exists$" err &&
	test "$(git -C r2 rev-parse feature/ws-3-three)" = "$tip" &&
	git -C r2 branch -D -q feature/ws-3-three &&
	only_main r2 &&
	no_state_records r2 &&
	test_path_is_missing r2-ws-1
'

test_expect_success 'git worktree add fails for the third workstream: what this run made is removed' '
	setup_repo r3 &&
	(
		cd r3 &&
		PATH="$PWD/../fakebin:$PATH" FAIL_WT=/r3-ws-3 &&
		export PATH FAIL_WT &&
		test_expect_code 128 git-ws-alloc ../plan >../out 2>../err
	) &&
	grep "^fake: no space left on device" err &&
	grep "^error: cannot create the worktree of ${SQ}ws-3${SQ}" err &&
	tail -n 1 err >last &&
	echo "fatal: nothing was allocated" >expect &&
	test_cmp expect last &&
	only_main r3 &&
	no_state_records r3 &&
	test_path_is_missing r3/.git/ws/plan &&
	for id in 1 2 3 4 5
	do
		test_path_is_missing r3-ws-$id || return 1
	done
'

test_expect_success 'after the failure, the same plan allocates normally' '
	(cd r3 && git ws-alloc ../plan >../out) &&
	grep "4 new worktrees for 5 workstreams" out &&
	(cd r3 && test "$(ws_state ws-4 status)" = blocked)
'

test_expect_success 'checking out the third worktree fails: every worktree of this run is removed' '
	setup_repo r4 &&
	(
		cd r4 &&
		PATH="$PWD/../fakebin:$PATH" FAIL_RESET_WT=/r4-ws-3 &&
		export PATH FAIL_RESET_WT &&
		test_expect_code 128 git-ws-alloc ../plan >../out 2>../err
	) &&
	grep "^fake: cannot write files" err &&
	grep "^error: cannot check out the worktree of ${SQ}ws-3${SQ}" err &&
	tail -n 1 err >last &&
	echo "fatal: nothing was allocated" >expect &&
	test_cmp expect last &&
	no_state_records r4 &&
	for id in 1 2 3 4 5
	do
		test_path_is_missing r4-ws-$id || return 1
	done &&
	only_main r4
'

test_expect_success 'a record left "allocating = owner" is undone and re-made by the next run' '
	setup_repo r5 &&
	(cd r5 && git ws-alloc ../plan >/dev/null) &&
	(
		cd r5 &&
		ws_set_state ws-3 allocating owner &&
		echo junk >../r5-ws-3/half-made &&
		git ws-alloc ../plan >../out 2>../err
	) &&
	grep "^warning: undid the interrupted allocation of ${SQ}ws-3${SQ}$" err &&
	grep "1 new worktree for 1 workstream" out &&
	test_path_is_missing r5-ws-3/half-made &&
	test_path_is_dir r5-ws-3 &&
	(
		cd r5 &&
		test_must_fail ws_state ws-3 allocating &&
		test "$(ws_state ws-3 status)" = ready &&
		test "$(git rev-parse feature/ws-3-three)" = "$(git rev-parse main)" &&
		git worktree list --porcelain >../wt
	) &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 5 wt.lines
'

test_expect_success 'a run that was killed while adding a workstream is undone by the next run' '
	setup_repo r6 &&
	head -n 7 plan >plan12 &&
	(cd r6 && git ws-alloc ../plan12 >/dev/null) &&
	cp r6/.git/ws/plan plan.before &&
	(
		cd r6 &&
		# what a kill right after `git worktree add` of ws-3 leaves
		git worktree add -q -b feature/ws-3-three ../r6-ws-3 main &&
		ws_set_state ws-3 allocating owner &&
		ws_set_state ws-3 worktree "$(cd ../r6-ws-3 && pwd)" &&
		ws_set_state ws-3 branch feature/ws-3-three &&
		ws_set_state ws-3 base-oid "$(git rev-parse main)" &&
		git ws-alloc ../plan12 >../out 2>../err
	) &&
	grep "^warning: undid the interrupted allocation of ${SQ}ws-3${SQ}$" err &&
	grep "nothing to do" out &&
	test_path_is_missing r6-ws-3 &&
	test_must_fail git -C r6 rev-parse --verify -q refs/heads/feature/ws-3-three &&
	test_must_fail git config -f r6/.git/ws/state --get-regexp "^workstream\.ws-3\." &&
	test_cmp plan.before r6/.git/ws/plan &&
	test_path_is_dir r6-ws-1 &&
	test_path_is_dir r6-ws-2
'

test_expect_success 'a half-made directory git does not know is left alone, with a clear message' '
	setup_repo r7 &&
	(cd r7 && git ws-alloc ../plan >/dev/null) &&
	(
		cd r7 &&
		ws_set_state ws-9 allocating owner &&
		ws_set_state ws-9 worktree "$(cd .. && pwd)/r7-ws-9" &&
		ws_set_state ws-9 branch feature/ws-9-nine &&
		mkdir ../r7-ws-9 &&
		echo mine >../r7-ws-9/precious &&
		test_expect_code 128 git ws-alloc ../plan 2>../err
	) &&
	grep "^error: ${SQ}.*/r7-ws-9${SQ} was left half-made by an interrupted git ws-alloc and is not a worktree git knows; remove it by hand$" err &&
	echo mine >expect &&
	test_cmp expect r7-ws-9/precious
'

test_expect_success 'a branch that moved since the interrupted run is never deleted' '
	setup_repo r8 &&
	(cd r8 && git ws-alloc ../plan >/dev/null) &&
	(
		cd r8 &&
		git branch feature/ws-9-nine main &&
		ws_set_state ws-9 allocating owner &&
		ws_set_state ws-9 branch feature/ws-9-nine &&
		ws_set_state ws-9 base-oid "$(git rev-parse main)" &&
		git checkout -q feature/ws-9-nine &&
		test_commit on-ws-9 &&
		git checkout -q main &&
		tip=$(git rev-parse feature/ws-9-nine) &&
		test_expect_code 128 git ws-alloc ../plan 2>../err &&
		test "$(git rev-parse feature/ws-9-nine)" = "$tip"
	) &&
	grep "branch ${SQ}feature/ws-9-nine${SQ} has moved" err
'

test_expect_success 'a real kill -9 in the middle is repaired by the next run' '
	setup_repo r9 &&
	(
		cd r9 &&
		PATH="$PWD/../fakebin:$PATH" HANG_WT=/r9-ws-3 HANG_PIDFILE=$PWD/../hang.pid &&
		ADD_PIDS=$PWD/../add.pids &&
		export PATH HANG_WT HANG_PIDFILE ADD_PIDS &&
		{ git-ws-alloc ../plan >../out.killed 2>&1 & } &&
		echo $! >../alloc.pid
	) &&
	i=0 &&
	while ! test -s hang.pid && test $i -lt 100
	do
		sleep 0.1 && i=$((i + 1))
	done &&
	test -s hang.pid &&
	kill -9 $(cat alloc.pid) &&
	kill $(cat hang.pid) &&
	# let the other `git worktree add` the killed run started finish
	i=0 &&
	while test $i -lt 100
	do
		alive= &&
		for pid in $(cat add.pids)
		do
			! kill -0 $pid 2>/dev/null || alive=yes
		done &&
		test -n "$alive" || break
		sleep 0.1 && i=$((i + 1))
	done &&
	grep "allocating = " r9/.git/ws/state &&
	(cd r9 && git ws-alloc ../plan >../out 2>../err) &&
	grep "^warning: undid the interrupted allocation of ${SQ}ws-3${SQ}$" err &&
	grep "4 new worktrees for 5 workstreams" out &&
	! grep "allocating" r9/.git/ws/state &&
	git -C r9 worktree list --porcelain >wt &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 5 wt.lines &&
	! grep "^prunable\|^locked" wt &&
	for id in 1 2 3 4
	do
		test "$(git -C r9-ws-$id rev-parse HEAD)" = "$(git -C r9 rev-parse main)" || return 1
	done
'

# Several `git worktree add` at once on one repository trip over each
# other ("failed to read .git/worktrees/<name>/commondir: Success"): a
# regression test for create_worktrees(), which now adds them one at a
# time and only checks them out in parallel.
test_expect_success 'many worktrees at once never trip over each other' '
	{
		echo "[plan]" &&
		for i in $(seq 1 16)
		do
			printf "[workstream \"w%d\"]\n\ttitle = T%d\n" $i $i || return 1
		done
	} >many.plan &&
	for run in 1 2 3 4 5 6 7 8
	do
		rm -rf many many-* &&
		setup_repo many &&
		(cd many && git ws-alloc ../many.plan >/dev/null 2>../many.err) ||
		{ cat many.err; return 1; }
	done
'

test_done
