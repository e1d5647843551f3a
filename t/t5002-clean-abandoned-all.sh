#!/bin/sh

test_description='git ws-clean: --abandoned and --all'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-clean.sh

OLD=2005-04-01T00:00:00Z

# make_old <id>: every activity of <id> in the past (its commits are
# already: lib-ws.sh dates them in 2005).
make_old () {
	ws_set_state $1 created $OLD &&
	ws_set_state $1 started $OLD &&
	ws_set_state $1 finished $OLD &&
	echo "old output" >.git/ws/logs/$1.log &&
	touch -d "2005-04-01 00:00:00" .git/ws/logs/$1.log
}

test_expect_success 'setup: ws-2 idle since 2005, ws-1 and ws-3 active' '
	new_plan ab &&
	(
		cd ab/repo-ws-2 &&
		test_commit two two.t &&
		cd ../repo &&
		make_old ws-2 &&
		ws_set_state ws-2 status in_progress &&
		git rev-parse feature/ws-2-two >../tip
	)
'

test_expect_success '--abandoned lists only the idle workstream and changes nothing' '
	(
		cd ab/repo &&
		cp .git/ws/state ../state.before &&
		git ws-clean --abandoned 7d >../out 2>../err &&
		test_cmp ../state.before .git/ws/state &&
		test "$(ws_state ws-2 status)" = in_progress &&
		git rev-parse feature/ws-2-two >../now &&
		test_cmp ../tip ../now &&
		test_must_fail git rev-parse --verify -q refs/ws/backup/ws-2
	) &&
	test_path_is_dir ab/repo-ws-2 &&
	grep "^ws-2: abandoned (in_progress), last activity 2005-" ab/out &&
	! grep "ws-1\|ws-3" ab/out &&
	grep "^hint: .*--force --abandoned 7d" ab/err
'

test_expect_success '--abandoned --porcelain' '
	(cd ab/repo && git ws-clean --abandoned 7d --porcelain >../out) &&
	grep "^abandoned	ws-2	in_progress	2005-04-0[0-9]T[0-9:]*Z	[0-9]*$" ab/out &&
	test_line_count = 1 ab/out
'

test_expect_success 'a recent log write is activity' '
	(
		cd ab/repo &&
		touch .git/ws/logs/ws-2.log &&
		git ws-clean --abandoned 7d >../out &&
		grep "No workstream has been idle for 7d" ../out &&
		touch -d "2005-04-01 00:00:00" .git/ws/logs/ws-2.log
	)
'

test_expect_success 'a recent state time is activity' '
	(
		cd ab/repo &&
		ws_set_state ws-2 started "$(date -u +%Y-%m-%dT%H:%M:%SZ)" &&
		git ws-clean --abandoned 7d >../out &&
		! grep ws-2 ../out &&
		ws_set_state ws-2 started $OLD
	)
'

test_expect_success 'a recently changed uncommitted file is activity' '
	echo draft >ab/repo-ws-2/draft.txt &&
	(cd ab/repo && git ws-clean --abandoned 7d >../out) &&
	! grep ws-2 ab/out &&
	touch -d "2005-04-01 00:00:00" ab/repo-ws-2/draft.txt &&
	(cd ab/repo && git ws-clean --abandoned 7d >../out) &&
	grep "^ws-2: abandoned" ab/out
'

test_expect_success 'a recent commit is activity' '
	(
		cd ab/repo &&
		make_old ws-1 &&
		make_old ws-3 &&
		git ws-clean --abandoned 7d >../out &&
		grep "^ws-1: abandoned" ../out &&
		cd ../repo-ws-1 &&
		echo new >new.t &&
		git add new.t &&
		GIT_COMMITTER_DATE= GIT_AUTHOR_DATE= git commit -q -m "new work" &&
		cd ../repo &&
		git ws-clean --abandoned 7d >../out &&
		! grep "ws-1\|ws-3" ../out &&
		grep "^ws-2: abandoned" ../out
	)
'

test_expect_success '--abandoned restricted to ids' '
	(
		cd ab/repo &&
		git ws-clean --abandoned 7d ws-1 >../out &&
		grep "No workstream has been idle for 7d" ../out &&
		git ws-clean --abandoned 7d ws-2 >../out &&
		grep "^ws-2: abandoned" ../out
	)
'

test_expect_success '--abandoned --force cleans the idle one, its branch backed up' '
	(
		cd ab/repo &&
		git ws-clean --abandoned 7d --force >../out 2>../err &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test "$(ws_state ws-1 status)" = ready &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-2-two &&
		git rev-parse refs/ws/backup/ws-2 >../backup &&
		test_cmp ../tip ../backup &&
		git branch restored refs/ws/backup/ws-2 &&
		git log --format=%s restored >../log &&
		grep "^two$" ../log &&
		git worktree list >../list &&
		! grep "repo-ws-2 " ../list &&
		grep "repo-ws-1 " ../list &&
		test_path_is_file .git/ws/archive/demo/logs/ws-2.log
	) &&
	test_path_is_missing ab/repo-ws-2 &&
	test_path_is_dir ab/repo-ws-1 &&
	grep "anyway (--force): its status is .in_progress." ab/err &&
	grep "anyway (--force): worktree .* has uncommitted or untracked files" ab/err &&
	grep "^ws-2: removed worktree, deleted branch .feature/ws-2-two. (not merged)$" ab/out &&
	grep "^Cleaned 1 workstream: 1 worktree and 1 branch removed (saved as refs/ws/backup/<id>)" ab/out
'

test_expect_success 'setup: a plan with ws-2 merged, ws-1 and ws-3 not' '
	new_plan all &&
	(
		cd all/repo-ws-2 &&
		test_commit two two.t &&
		cd ../repo &&
		test_tick &&
		git merge -q --no-ff -m "merge ws-2" feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		echo log >.git/ws/logs/ws-1.log &&
		cp .git/ws/plan ../plan.allocated
	)
'

test_expect_success '--all refuses while anything is unmerged; the plan stays' '
	(
		cd all/repo &&
		test_expect_code 1 git ws-clean --all >../out 2>../err &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test "$(ws_state ws-1 status)" = ready &&
		test "$(ws_state ws-3 status)" = ready &&
		test_path_is_file .git/ws/plan &&
		test_path_is_missing .git/ws/archive/demo/plan
	) &&
	test_path_is_dir all/repo-ws-1 &&
	grep "not cleaning .ws-1.: its status is .ready., not merged" all/err &&
	grep "not cleaning .ws-3.: its status is .ready., not merged" all/err &&
	grep "not archiving plan .demo.: 2 workstreams are not cleaned" all/err
'

test_expect_success '--all -n says it would archive the plan, and does not' '
	(
		cd all/repo &&
		git ws-clean --all --force -n >../out &&
		test_path_is_file .git/ws/plan &&
		test "$(ws_state ws-1 status)" = ready
	) &&
	grep "^Would archive plan .demo." all/out
'

test_expect_success '--all --force cleans everything and archives the plan' '
	(
		cd all/repo &&
		# as git ws-merge leaves it, to test merge results in
		git worktree add -q --detach .git/ws/scratch &&
		git ws-clean --all --force >../out &&
		test_path_is_missing .git/ws/scratch &&
		test_path_is_missing .git/ws/plan &&
		test_cmp ../plan.allocated .git/ws/archive/demo/plan &&
		for id in ws-1 ws-2 ws-3
		do
			test "$(git config -f .git/ws/archive/demo/state workstream.$id.status)" = cleaned ||
			return 1
		done &&
		git config -f .git/ws/archive/demo/state --get-regexp "^workstream\..*\.status" >../statuses &&
		test_line_count = 3 ../statuses &&
		test_must_fail git config -f .git/ws/state --get-regexp "^workstream" &&
		test_path_is_file .git/ws/archive/demo/logs/ws-1.log &&
		git worktree list --porcelain >../list &&
		test "$(grep -c "^worktree " ../list)" = 1 &&
		git for-each-ref refs/heads/feature >../branches &&
		test_must_be_empty ../branches &&
		git rev-parse refs/ws/backup/ws-1 refs/ws/backup/ws-3
	) &&
	test_path_is_missing all/repo-ws-1 &&
	grep "^Archived plan .demo." all/out
'

test_expect_success 'after --all, a plan (even the same one) can be allocated again' '
	(
		cd all/repo &&
		git ws-alloc ../plan >/dev/null &&
		test "$(ws_state ws-1 status)" = ready &&
		ws_set_state ws-1 status merged &&
		ws_set_state ws-2 status merged &&
		ws_set_state ws-3 status merged &&
		echo second >.git/ws/logs/ws-1.log &&
		git ws-clean --all &&
		test_path_is_missing .git/ws/plan &&
		test_path_is_file .git/ws/archive/demo/plan &&
		test_path_is_file .git/ws/archive/demo/plan.1 &&
		test_path_is_file .git/ws/archive/demo/logs/ws-1.log.1 &&
		echo second >../expect &&
		test_cmp ../expect .git/ws/archive/demo/logs/ws-1.log.1 &&
		git config -f .git/ws/archive/demo/state --get-all workstream.ws-1.status >../st &&
		printf "cleaned\ncleaned\n" >../expect &&
		test_cmp ../expect ../st
	)
'

test_expect_success 'with no plan left, git ws-clean is fatal' '
	(cd all/repo && test_expect_code 128 git ws-clean 2>../err) &&
	grep "no plan is allocated" all/err
'

test_done
