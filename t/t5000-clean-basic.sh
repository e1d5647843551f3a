#!/bin/sh

test_description='git ws-clean: cleaning merged workstreams'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-clean.sh


# merge <branch>: merge it into main with plain git, as a person would.
merge () {
	test_tick &&
	git merge -q --no-ff -m "merge $1" "$1"
}

test_expect_success '-h prints the usage on stdout and exits 0' '
	git ws-clean -h >out &&
	grep "^usage: git ws-clean \[-n | --dry-run\]" out &&
	grep "^   or: git ws-clean .* --all$" out
'

test_expect_success 'usage errors exit 129' '
	test_expect_code 129 git ws-clean --frobnicate 2>err &&
	grep "^usage: " err &&
	test_expect_code 129 git ws-clean --all ws-1 2>err &&
	grep "takes no workstream ids" err &&
	test_expect_code 129 git ws-clean --all --abandoned 7d 2>err &&
	test_expect_code 129 git ws-clean --abandoned soon 2>err &&
	grep "needs an age" err
'

test_expect_success 'outside a plan: fatal, with a hint' '
	setup_repo noplan &&
	(cd noplan && test_expect_code 128 git ws-clean 2>../err) &&
	grep "^fatal: \|^error: no plan" err &&
	grep "^hint: " err
'

test_expect_success 'setup: a plan with ws-2 merged and logs, done file, report' '
	new_plan a &&
	work a/repo-ws-2 two &&
	(
		cd a/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		ws_set_state ws-2 pid 999999999 &&
		echo log >.git/ws/logs/ws-2.log &&
		echo "{}" >.git/ws/coordination/ws-2.done &&
		echo report >.git/ws/reports/ws-2 &&
		echo other >.git/ws/logs/ws-1.log &&
		git config -f .git/ws/queue queue.item ws-2 &&
		git rev-parse feature/ws-2-two >../tip2
	)
'

test_expect_success 'clean removes the merged workstream through git, and only it' '
	(cd a/repo && git ws-clean >../out) &&
	test_path_is_missing a/repo-ws-2 &&
	test_path_is_dir a/repo-ws-1 &&
	(
		cd a/repo &&
		git worktree list >../list &&
		! grep repo-ws-2 ../list &&
		grep repo-ws-1 ../list &&
		git worktree prune -n -v >../prune 2>&1 &&
		test_must_be_empty ../prune &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-2-two &&
		git rev-parse --verify feature/ws-1-one &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test "$(ws_state ws-1 status)" = ready &&
		test "$(ws_state ws-3 status)" = ready
	) &&
	cat >expect <<-\EOF &&
	ws-2: removed worktree, deleted branch '"'feature/ws-2-two'"' (merged by ancestry)
	Cleaned 1 workstream: 1 worktree and 1 branch removed (saved as refs/ws/backup/<id>), 3 records archived
	EOF
	test_cmp expect a/out
'

test_expect_success 'the backup ref is at the old tip and brings the branch back' '
	(
		cd a/repo &&
		git rev-parse refs/ws/backup/ws-2 >../backup &&
		test_cmp ../tip2 ../backup &&
		git reflog show refs/ws/backup/ws-2 >../reflog &&
		grep "ws-clean: backup of branch" ../reflog &&
		git branch feature/ws-2-two refs/ws/backup/ws-2 &&
		git rev-parse feature/ws-2-two >../restored &&
		test_cmp ../tip2 ../restored &&
		git branch -D feature/ws-2-two
	)
'

test_expect_success 'records are moved to the archive, the state section copied' '
	ar=a/repo/.git/ws/archive/demo &&
	test_path_is_file $ar/logs/ws-2.log &&
	test_path_is_file $ar/coordination/ws-2.done &&
	test_path_is_file $ar/reports/ws-2 &&
	test_path_is_missing a/repo/.git/ws/logs/ws-2.log &&
	test_path_is_missing a/repo/.git/ws/coordination/ws-2.done &&
	test_path_is_missing a/repo/.git/ws/reports/ws-2 &&
	test_path_is_file a/repo/.git/ws/logs/ws-1.log &&
	echo report >expect &&
	test_cmp expect $ar/reports/ws-2 &&
	test "$(git config -f $ar/state workstream.ws-2.status)" = cleaned &&
	test "$(git config -f $ar/state workstream.ws-2.branch)" = feature/ws-2-two &&
	test_must_fail git config -f $ar/state workstream.ws-1.status &&
	test_must_fail git config -f a/repo/.git/ws/queue --get-all queue.item
'

test_expect_success 'nothing merged: nothing to clean, exit 0' '
	(cd a/repo && git ws-clean >../out) &&
	grep "Nothing to clean" a/out
'

test_expect_success 'a shared worktree stays while one of its workstreams is unmerged' '
	work a/repo-ws-1 one &&
	(
		cd a/repo &&
		merge feature/ws-1-one &&
		ws_set_state ws-1 status merged &&
		git ws-clean >../out &&
		test "$(ws_state ws-1 status)" = cleaned &&
		test "$(ws_state ws-3 status)" = ready &&
		git rev-parse --verify feature/ws-1-one &&
		test_must_fail git rev-parse --verify -q refs/ws/backup/ws-1
	) &&
	test_path_is_dir a/repo-ws-1 &&
	grep "^ws-1: kept worktree and branch .feature/ws-1-one.: still used by ws-3 (ready)$" a/out &&
	grep "^Cleaned 1 workstream: 1 record archived$" a/out
'

test_expect_success '...and goes once the last of them is merged' '
	work a/repo-ws-1 three &&
	(
		cd a/repo &&
		merge feature/ws-1-one &&
		ws_set_state ws-3 status merged &&
		git ws-clean >../out &&
		test "$(ws_state ws-3 status)" = cleaned &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-1-one &&
		git rev-parse refs/ws/backup/ws-3 &&
		git worktree list >../list &&
		! grep repo-ws-1 ../list
	) &&
	test_path_is_missing a/repo-ws-1
'

test_expect_success 'a branch squash-merged by hand counts as merged' '
	new_plan sq &&
	work sq/repo-ws-2 two &&
	work sq/repo-ws-2 two-more &&
	(
		cd sq/repo &&
		git merge -q --squash feature/ws-2-two &&
		test_tick &&
		git commit -q -m "squash ws-2" &&
		ws_set_state ws-2 status merged &&
		git ws-clean >../out &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-2-two
	) &&
	grep "^ws-2: removed worktree, deleted branch .* (merged by tree" sq/out
'

test_expect_success 'squash-merged, then the base moved on (even in the same file)' '
	new_plan sq2 &&
	(
		cd sq2/repo &&
		printf "1\n2\n3\n4\n5\n6\n7\n8\n" >f &&
		git add f &&
		test_tick &&
		git commit -q -m "f"
	) &&
	(
		cd sq2/repo-ws-2 &&
		git merge -q --ff-only main &&
		printf "ONE\n2\n3\n4\n5\n6\n7\n8\n" >f &&
		test_tick &&
		git commit -q -a -m "ws-2 edits f"
	) &&
	(
		cd sq2/repo &&
		test_commit earlier &&
		git merge -q --squash feature/ws-2-two &&
		test_tick &&
		git commit -q -m "squash ws-2" &&
		ws_set_state ws-2 status merged &&
		git ws-clean -n >../out-paths &&
		grep "^ws-2: would remove worktree, delete branch .* (merged by content" ../out-paths &&
		printf "ONE\n2\n3\n4\n5\n6\n7\nEIGHT\n" >f &&
		test_tick &&
		git commit -q -a -m "edit f again" &&
		git ws-clean >../out &&
		test "$(ws_state ws-2 status)" = cleaned
	) &&
	grep "deleted branch .* (merged by merge" sq2/out
'

test_expect_success 'a branch with its own change to a squash-merged file is not merged' '
	new_plan sq3 &&
	work sq3/repo-ws-2 two &&
	(
		cd sq3/repo &&
		git merge -q --squash feature/ws-2-two &&
		test_tick &&
		git commit -q -m "squash ws-2" &&
		ws_set_state ws-2 status merged
	) &&
	work sq3/repo-ws-2 two-after-squash &&
	(
		cd sq3/repo &&
		test_expect_code 1 git ws-clean 2>../err &&
		grep "branch .feature/ws-2-two. has 2 commits not in .main." ../err &&
		test "$(ws_state ws-2 status)" = merged
	)
'

test_expect_success 'a hand-deleted worktree directory is pruned, not an error' '
	new_plan hd &&
	work hd/repo-ws-2 two &&
	(
		cd hd/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged
	) &&
	rm -rf hd/repo-ws-2 &&
	(
		cd hd/repo &&
		git ws-clean >../out &&
		test "$(ws_state ws-2 status)" = cleaned &&
		git worktree list >../list &&
		! grep repo-ws-2 ../list &&
		git worktree prune -n -v >../prune 2>&1 &&
		test_must_be_empty ../prune &&
		test_path_is_missing .git/worktrees/repo-ws-2
	) &&
	grep "^ws-2: pruned worktree (its directory was already gone), deleted branch" hd/out
'

test_expect_success '--keep-branches removes the worktree and keeps the branch' '
	new_plan kb &&
	work kb/repo-ws-2 two &&
	(
		cd kb/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		git ws-clean --keep-branches >../out &&
		test "$(ws_state ws-2 status)" = cleaned &&
		git rev-parse --verify feature/ws-2-two &&
		test_must_fail git rev-parse --verify -q refs/ws/backup/ws-2
	) &&
	test_path_is_missing kb/repo-ws-2 &&
	grep "^ws-2: removed worktree, kept branch .feature/ws-2-two.$" kb/out &&
	grep "^Cleaned 1 workstream: 1 worktree removed, 1 branch kept$" kb/out
'

test_expect_success 'the branch config goes with the branch' '
	new_plan cfg &&
	work cfg/repo-ws-2 two &&
	(
		cd cfg/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		git config branch.feature/ws-2-two.remote origin &&
		git config branch.feature/ws-1-one.remote origin &&
		git ws-clean &&
		test_must_fail git config branch.feature/ws-2-two.remote &&
		test "$(git config branch.feature/ws-1-one.remote)" = origin
	)
'

test_expect_success 'named ids: only those; an unknown id is fatal' '
	new_plan ids &&
	(
		cd ids &&
		work repo-ws-2 two &&
		cd repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		test_expect_code 128 git ws-clean ws-9 2>../err &&
		grep "no workstream .ws-9." ../err &&
		test "$(ws_state ws-2 status)" = merged &&
		git ws-clean ws-2 &&
		test "$(ws_state ws-2 status)" = cleaned &&
		git ws-clean ws-2 >../out &&
		grep "already cleaned" ../out
	)
'

test_expect_success '--porcelain: one tab-separated record per action' '
	new_plan pc &&
	work pc/repo-ws-2 two &&
	(
		cd pc/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		tip=$(git rev-parse feature/ws-2-two) &&
		wt=$(ws_state ws-2 worktree) &&
		git ws-clean --porcelain >../out &&
		tab=$(printf "\t") &&
		cat >../expect <<-EOF &&
		backup${tab}ws-2${tab}feature/ws-2-two${tab}$tip${tab}refs/ws/backup/ws-2
		remove-worktree${tab}ws-2${tab}$wt
		delete-branch${tab}ws-2${tab}feature/ws-2-two${tab}$tip
		archive${tab}ws-2${tab}$(pwd)/.git/ws/archive/demo
		cleaned${tab}ws-2
		EOF
		test_cmp ../expect ../out
	)
'

# snapshot <repo>: every file under .git with its checksum, the worktree
# listing, and the files of every worktree.
snapshot () {
	(
		cd "$1" &&
		find .git -type f | LC_ALL=C sort | xargs -d "\n" sha1sum &&
		find .git -type d | LC_ALL=C sort &&
		git worktree list --porcelain &&
		for wt in ../repo-*
		do
			(cd "$wt" && find . -path ./.git -prune -o -type f -print |
				LC_ALL=C sort | xargs -d "\n" sha1sum)
		done
	)
}

test_expect_success '-n lists every action and refusal, and changes nothing' '
	new_plan dry &&
	work dry/repo-ws-2 two &&
	work dry/repo-ws-1 one &&
	(
		cd dry/repo &&
		merge feature/ws-2-two &&
		ws_set_state ws-2 status merged &&
		ws_set_state ws-1 status merged &&
		ws_set_state ws-3 status merged &&
		echo log >.git/ws/logs/ws-2.log
	) &&
	echo scratch >dry/repo-ws-1/untracked &&
	snapshot dry/repo >before &&
	(cd dry/repo && test_expect_code 1 git ws-clean -n >../out 2>../err) &&
	snapshot dry/repo >after &&
	test_cmp before after &&
	cat >expect <<-\EOF &&
	ws-2: would remove worktree, delete branch '"'feature/ws-2-two'"' (merged by ancestry)
	Would clean 1 workstream: 1 worktree and 1 branch to remove (saved first as refs/ws/backup/<id>), 1 record to archive; 2 would be refused
	EOF
	test_cmp expect dry/out &&
	(cd dry/repo && test_expect_code 1 git ws-clean -n -v >../out 2>../err) &&
	snapshot dry/repo >after &&
	test_cmp before after &&
	grep "ws-2: would save branch" dry/out &&
	grep "ws-2: would remove worktree" dry/out &&
	grep "ws-2: would delete branch" dry/out &&
	grep "ws-2: would archive 1 record" dry/out &&
	grep "not cleaning .ws-1.: worktree .* has uncommitted or untracked files" dry/err &&
	grep "not cleaning .ws-1.: branch .feature/ws-1-one. has 1 commit not in .main." dry/err &&
	grep "not cleaning .ws-3.: worktree" dry/err
'

test_expect_success 'the man page synopsis is the usage' '
	git ws-clean -h | sed -n "s/^usage: //p; s/^   or: //p" >expect &&
	sed -n "/^SYNOPSIS$/,/^DESCRIPTION$/p" "$WS_SOURCE_DIR/Documentation/git-ws-clean.adoc" |
		sed -n "s/^git ws-clean/git ws-clean/p" >actual &&
	test_cmp expect actual
'

test_done
