#!/bin/sh

test_description='git ws-merge: the merge result is tested; the base moves safely'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		test_commit initial f5.txt base
	) &&
	# The hooks run in .git/ws/scratch: ../../../../ is the trash directory.
	write_script moving-hook.sh <<-\EOF &&
	# the first time, somebody commits to the base while the tests run
	if ! test -f "$GIT_WS_DIR/moved-once"
	then
		: >"$GIT_WS_DIR/moved-once" &&
		cd "$GIT_WS_DIR/../.." &&
		# a person, not this test command: without the guard of the
		# base that git-ws gives the commands it runs (GUARDED BASE)
		unset GIT_CONFIG_COUNT &&
		echo moved >moved.txt &&
		git add moved.txt &&
		git commit -q -m "moved during merge"
	fi
	EOF
	write_script slow-hook.sh <<-\EOF &&
	: >"$GIT_WS_DIR/../../../slow-started"
	i=0
	while ! test -f "$GIT_WS_DIR/../../../slow-release" && test $i -lt 300
	do
		sleep 0.1
		i=$((i + 1))
	done
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = verify
		base = main
		command = true
		test = test ! -f a.txt || test ! -f b.txt
	[workstream "ws-1"]
		title = A
	[workstream "ws-2"]
		title = B
	[workstream "ws-3"]
		title = Unverified
		test = false
	[workstream "ws-4"]
		title = Moving
		test = sh ../../../../moving-hook.sh
	[workstream "ws-5"]
		title = Dirty
	[workstream "ws-6"]
		title = Slow
		test = sh ../../../../slow-hook.sh
	[workstream "ws-7"]
		title = Hang
		test = sleep 30
		timeout = 1s
	[workstream "ws-8"]
		title = Linked
	[workstream "ws-9"]
		title = Scratch
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work ws-1 a.txt &&
		work ws-2 b.txt &&
		work ws-3 c.txt &&
		work ws-4 d.txt &&
		work ws-5 f5.txt five &&
		work ws-6 slow.txt &&
		work ws-7 hang.txt &&
		work ws-8 linked.txt &&
		work ws-9 scratch.txt
	)
'

test_expect_success 'each branch passes the test alone' '
	(cd repo-ws-1 && ! { test -f a.txt && test -f b.txt; }) &&
	(cd repo-ws-2 && ! { test -f a.txt && test -f b.txt; })
'

test_expect_success 'tests failing on the merge result keep the base where it was' '
	(
		cd repo &&
		queue ws-1 ws-2 &&
		test_expect_code 1 git ws-merge >../out &&
		test "$(ws_state ws-1 status)" = merged &&
		test "$(ws_state ws-2 status)" = done &&
		test "$(ws_state ws-2 reason)" = "tests failed on the merge result: see $(pwd)/.git/ws/logs/ws-2.merge.log" &&
		test_path_is_file .git/ws/logs/ws-2.merge.log &&
		test "$(git rev-parse main)" = "$(ws_state ws-1 merge-oid)" &&
		test_must_fail git config -f .git/ws/queue --get-all queue.item &&
		test_path_is_missing b.txt &&
		git status --porcelain >../st &&
		# what was tested: the merge of ws-2 into the new base
		git -C .git/ws/scratch rev-parse HEAD^1 HEAD^2 >../tested &&
		git rev-parse main feature/ws-2-b >../expect
	) &&
	test_must_be_empty st &&
	test_cmp expect tested &&
	grep "^ws-2: tests failed on the merge result" out &&
	grep "^FAIL  merge  tests failed on the merge result" repo/.git/ws/reports/ws-2 &&
	grep "The end of .*ws-2.merge.log" repo/.git/ws/reports/ws-2
'

test_expect_success '--no-verify merges without running the tests' '
	(
		cd repo &&
		queue ws-3 &&
		git ws-merge --no-verify >../out &&
		test "$(ws_state ws-3 status)" = merged &&
		test_path_is_missing .git/ws/logs/ws-3.merge.log &&
		git log -1 --format=%B main >../msg
	) &&
	grep "^Gates: .*merge result not tested (--no-verify)$" msg
'

test_expect_success 'a test command that hangs is stopped at the timeout' '
	(
		cd repo &&
		queue ws-7 &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge >../out 2>../err &&
		git rev-parse main >../after &&
		test "$(ws_state ws-7 status)" = done
	) &&
	test_cmp before after &&
	grep "timed out after 1s" err
'

test_expect_success 'the base moved during the merge: start over, never overwrite' '
	(
		cd repo &&
		queue ws-4 &&
		git ws-merge >../out 2>../err &&
		test "$(ws_state ws-4 status)" = merged &&
		git log --first-parent --format=%s -3 main >../log &&
		test "$(git rev-parse main^2)" = "$(git rev-parse feature/ws-4-moving)" &&
		test_path_is_file moved.txt &&
		test_path_is_file d.txt &&
		git status --porcelain >../st
	) &&
	printf "Merge ws-4: Moving\nmoved during merge\nMerge ws-3: Unverified\n" >expect &&
	test_cmp expect log &&
	test_must_be_empty st &&
	grep "moved while .ws-4. was being merged; starting over" err
'

test_expect_success 'the base checked out with changes the merge touches: refused' '
	(
		cd repo &&
		echo local >f5.txt &&
		queue ws-5 &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge >../out 2>../err &&
		git rev-parse main >../after &&
		test "$(ws_state ws-5 status)" = converged &&
		git config -f .git/ws/queue --get-all queue.item >../queue &&
		cat f5.txt >../f5
	) &&
	test_cmp before after &&
	echo ws-5 >expect && test_cmp expect queue &&
	echo local >expect && test_cmp expect f5 &&
	grep "uncommitted changes that the merge of .ws-5. would overwrite: f5.txt" err
'

test_expect_success 'the base checked out and clean (untracked files elsewhere): files follow' '
	(
		cd repo &&
		git checkout -q f5.txt &&
		echo mine >untracked.txt &&
		git ws-merge >../out &&
		test "$(ws_state ws-5 status)" = merged &&
		cat f5.txt >../f5 &&
		cat untracked.txt >../untracked &&
		git status --porcelain >../st &&
		# what was to follow is recorded only while the base moves
		test_must_fail git config -f .git/ws/state --get-regexp "follow-"
	) &&
	echo five >expect && test_cmp expect f5 &&
	echo mine >expect && test_cmp expect untracked &&
	echo "?? untracked.txt" >expect && test_cmp expect st
'

test_expect_success 'two git ws-merge at once: the second gives up after a bounded wait' '
	(
		cd repo &&
		queue ws-6 &&
		{ git ws-merge >../first.out 2>&1 & } &&
		i=0 &&
		while ! test -f ../slow-started && test $i -lt 100
		do
			sleep 0.1 && i=$((i + 1))
		done &&
		test_path_is_file ../slow-started &&
		GIT_WS_LOCK_TIMEOUT=200 &&
		export GIT_WS_LOCK_TIMEOUT &&
		test_expect_code 128 git ws-merge >../second.out 2>../second.err
		ret=$?
		GIT_WS_LOCK_TIMEOUT=10000
		: >../slow-release &&
		wait &&
		test $ret = 0 &&
		test "$(ws_state ws-6 status)" = merged &&
		git log --first-parent --format=%s main >../log
	) &&
	grep "another git ws-merge is running" second.err &&
	test $(grep -c "^Merge ws-6" log) = 1
'

test_expect_success 'the base checked out in a linked worktree follows' '
	(
		cd repo &&
		rm untracked.txt &&
		git checkout -q -b elsewhere &&
		git worktree add -q ../basewt main &&
		queue ws-8 &&
		git ws-merge >../out &&
		test "$(ws_state ws-8 status)" = merged
	) &&
	(cd basewt && test_path_is_file linked.txt && git status --porcelain >../st) &&
	test_must_be_empty st &&
	test_path_is_missing repo/linked.txt
'

test_expect_success 'a scratch worktree that git worktree add left half-made is made again' '
	(
		cd repo &&
		# git worktree add killed while writing the commondir
		echo initializing >.git/worktrees/scratch/locked &&
		: >.git/worktrees/scratch/commondir &&
		test_must_fail git worktree list &&
		queue ws-9 &&
		git ws-merge >../out 2>../err &&
		test "$(ws_state ws-9 status)" = merged &&
		git worktree list --porcelain >../wt &&
		git -C .git/ws/scratch rev-parse HEAD^2 >../tested &&
		git rev-parse feature/ws-9-scratch >../expect
	) &&
	! grep "^locked" wt &&
	test_cmp expect tested &&
	grep "^warning: the scratch worktree .*/\.git/ws/scratch. was left half-made by an interrupted .git worktree add.; making it again$" err
'

# A hook that git worktree add runs (post-checkout, in the scratch
# worktree) may leave a process behind. Were merge.lock passed down to
# it, a git ws-merge killed meanwhile would leave the lock held by that
# process, and every later git ws-merge would give up waiting for it.
# The hook here leaves a sleep behind, then kills git ws-merge (the one
# outside git's process group), as a supervisor might at that moment.
test_expect_success 'a process left by a hook of git worktree add never holds merge.lock' '
	bg="$(pwd)/bg.pid" &&
	test_when_finished "kill \$(cat \"$bg\") 2>/dev/null; rm -f repo/.git/hooks/post-checkout" &&
	write_script repo/.git/hooks/post-checkout <<-EOF &&
	case "\$PWD" in
	*/ws/scratch)
		sleep 30 >/dev/null 2>&1 </dev/null &
		echo \$! >"$bg"
		read -r stat </proc/\$\$/stat
		set -- \$stat
		own=\$5
		p=\$PPID
		while test "\$p" -gt 1
		do
			read -r comm </proc/\$p/comm
			read -r stat </proc/\$p/stat
			set -- \$stat
			if test "\$comm" = git-ws-merge && test "\$5" != "\$own"
			then
				kill -9 \$p
				break
			fi
			p=\$4
		done ;;
	esac
	EOF
	(
		cd repo &&
		git worktree remove --force .git/ws/scratch &&
		queue ws-7 &&
		test_expect_code 137 git-ws-merge >../out 2>../err &&
		# git worktree add, left running, ends soon after its hook
		i=0 &&
		while test -f .git/worktrees/scratch/locked && test $i -lt 50
		do
			sleep 0.1
			i=$((i + 1))
		done &&
		kill -0 "$(cat "$bg")" &&
		test_expect_code 1 env GIT_WS_LOCK_TIMEOUT=500 git ws-merge >../out2 2>../err2
	) &&
	! grep "another git ws-merge" err2
'

# The test command runs in a process group of its own, out of reach of
# the terminal's Ctrl-C: git ws-merge passes a fatal signal on to it.
test_expect_success 'git ws-merge stopped by a signal stops the test command it runs' '
	log="$(pwd)/repo/.git/ws/logs/ws-7.merge.log" &&
	test_when_finished "(cd repo && ws_set_state ws-7 status done &&
		git config -f .git/ws/queue --unset-all queue.item ws-7)" &&
	(cd repo && queue ws-7) &&
	{ (cd repo && exec git-ws-merge >../out 2>../err) & } &&
	pid=$! &&
	i=0 &&
	while ! grep -qlzx "WS_LOG=$log" /proc/[0-9]*/environ 2>/dev/null &&
	      test $i -lt 100
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test $i -lt 100 &&
	kill -TERM $pid &&
	{ wait $pid; test $? = 143; } &&
	# without it, its sleep 30 would run on: nobody times it out now
	sleep 0.5 &&
	! grep -qlzx "WS_LOG=$log" /proc/[0-9]*/environ 2>/dev/null
'

test_expect_success '--push pushes the base; a rejected push is reported' '
	git init -q --bare remote.git &&
	(
		cd repo &&
		git push -q ../remote.git main &&
		git ws-merge --push=../remote.git >../out &&
		test "$(git rev-parse main)" = "$(git -C ../remote.git rev-parse main)"
	) &&
	grep "^Pushed .main. to .\.\./remote\.git.\.$" out &&
	git clone -q remote.git other &&
	(cd other && test_commit elsewhere x.txt && git push -q origin main) &&
	(
		cd repo &&
		git rev-parse main >../before &&
		test_expect_code 1 git ws-merge --porcelain --push=../remote.git >../out 2>../err &&
		git rev-parse main >../after
	) &&
	test_cmp before after &&
	printf "push\t../remote.git\tmain\trejected\n" >expect &&
	test_cmp expect out &&
	grep "git push ../remote.git main. failed" err
'

test_done
