#!/bin/sh

test_description='git ws-clean: every refusal alone, and --force over each'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-clean.sh


# merged_ws2 <dir> [nomerge]: new_plan, one commit on ws-2's branch, merged
# into main with `git merge --no-ff` (unless "nomerge"), ws-2 marked
# merged; the branch tip goes to <dir>/tip.
merged_ws2 () {
	new_plan "$1" &&
	(
		cd "$1/repo-ws-2" &&
		test_commit two two.t &&
		cd ../repo &&
		if test "$2" != nomerge
		then
			test_tick &&
			git merge -q --no-ff -m "merge ws-2" feature/ws-2-two
		fi &&
		ws_set_state ws-2 status merged &&
		git rev-parse feature/ws-2-two >../tip
	)
}

# untouched <dir>: ws-2 is exactly as before the refused clean.
untouched () {
	(
		cd "$1/repo" &&
		test_path_is_dir ../repo-ws-2 &&
		git worktree list >../list &&
		grep "repo-ws-2 " ../list &&
		git rev-parse feature/ws-2-two >../now &&
		test_cmp ../tip ../now &&
		test "$(ws_state ws-2 status)" != cleaned &&
		test_must_fail git rev-parse --verify -q refs/ws/backup/ws-2
	)
}

# forced <dir>: ws-2 was cleaned, its branch saved and restorable.
forced () {
	(
		cd "$1/repo" &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test_path_is_missing ../repo-ws-2 &&
		git worktree list >../list &&
		! grep "repo-ws-2 " ../list &&
		git worktree prune -n -v >../prune 2>&1 &&
		test_must_be_empty ../prune &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-2-two &&
		git rev-parse refs/ws/backup/ws-2 >../backup &&
		test_cmp ../tip ../backup &&
		git branch feature/ws-2-two refs/ws/backup/ws-2 &&
		git rev-parse feature/ws-2-two >../restored &&
		test_cmp ../tip ../restored &&
		git log --format=%s feature/ws-2-two >../log &&
		grep "^two$" ../log
	)
}

test_expect_success 'untracked file: refused' '
	merged_ws2 untracked &&
	echo precious >untracked/repo-ws-2/notes.txt &&
	(cd untracked/repo && test_expect_code 1 git ws-clean >../out 2>../err) &&
	grep "^error: not cleaning .ws-2.: worktree .*repo-ws-2. has uncommitted or untracked files" untracked/err &&
	grep "^hint: " untracked/err &&
	untouched untracked &&
	test_path_is_file untracked/repo-ws-2/notes.txt
'

test_expect_success 'untracked file: --force cleans, branch backed up' '
	(cd untracked/repo && git ws-clean --force >../out 2>../err) &&
	grep "^warning: cleaning .ws-2. anyway (--force): worktree" untracked/err &&
	grep "^Cleaned 1 workstream: 1 worktree and 1 branch removed (saved as refs/ws/backup/<id>)" untracked/out &&
	forced untracked
'

test_expect_success 'modified tracked file: refused, then forced' '
	merged_ws2 modified &&
	echo changed >>modified/repo-ws-2/two.t &&
	(cd modified/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .* has uncommitted or untracked files" modified/err &&
	untouched modified &&
	(cd modified/repo && git ws-clean -f) &&
	forced modified
'

test_expect_success 'an ignored file alone does not refuse' '
	merged_ws2 ignored &&
	echo "*.o" >ignored/repo/.git/info/exclude &&
	echo obj >ignored/repo-ws-2/build.o &&
	(cd ignored/repo && git ws-clean) &&
	test "$(cd ignored/repo && ws_state ws-2 status)" = cleaned
'

test_expect_success 'commits the base does not contain: refused' '
	merged_ws2 unmerged nomerge &&
	(cd unmerged/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: branch .feature/ws-2-two. has 1 commit not in .main." unmerged/err &&
	untouched unmerged
'

test_expect_success 'commits the base does not contain: forced, and the backup keeps them' '
	(cd unmerged/repo && git ws-clean --force >../out 2>../err) &&
	grep "^ws-2: removed worktree, deleted branch .* (not merged)$" unmerged/out &&
	forced unmerged
'

test_expect_success '--keep-branches removes a worktree whose branch is unmerged' '
	merged_ws2 keep nomerge &&
	(cd keep/repo && git ws-clean --keep-branches) &&
	(
		cd keep/repo &&
		test "$(ws_state ws-2 status)" = cleaned &&
		git rev-parse feature/ws-2-two >../now &&
		test_cmp ../tip ../now
	) &&
	test_path_is_missing keep/repo-ws-2
'

test_expect_success 'locked worktree: refused, with the reason' '
	merged_ws2 locked &&
	(
		cd locked/repo &&
		git worktree lock --reason "agent busy" ../repo-ws-2 &&
		test_expect_code 1 git ws-clean 2>../err
	) &&
	grep "not cleaning .ws-2.: worktree .* is locked: agent busy" locked/err &&
	grep "git worktree unlock" locked/err &&
	untouched locked
'

test_expect_success 'locked worktree: forced' '
	(cd locked/repo && git ws-clean --force) &&
	forced locked
'

test_expect_success 'locked worktree whose directory was deleted by hand: refused, then forced' '
	merged_ws2 lockgone &&
	(cd lockgone/repo && git worktree lock ../repo-ws-2) &&
	rm -rf lockgone/repo-ws-2 &&
	(cd lockgone/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .* is locked" lockgone/err &&
	(cd lockgone/repo && git ws-clean --force) &&
	forced lockgone
'

test_expect_success 'process still running: refused' '
	merged_ws2 running &&
	{ sleep 300 >/dev/null 2>&1 & } &&
	pid=$! &&
	test_when_finished "kill $pid" &&
	(
		cd running/repo &&
		ws_set_state ws-2 pid $pid &&
		test_expect_code 1 git ws-clean 2>../err
	) &&
	grep "not cleaning .ws-2.: its process $pid is still running" running/err &&
	untouched running &&
	(cd running/repo && git ws-clean --force 2>../err) &&
	grep "anyway (--force): its process" running/err &&
	forced running
'

test_expect_success 'a dead process is no obstacle' '
	merged_ws2 dead &&
	{ sh -c "exit 0" & } &&
	pid=$! &&
	wait $pid &&
	(cd dead/repo && ws_set_state ws-2 pid $pid && git ws-clean) &&
	forced dead
'

test_expect_success 'not merged (named explicitly): refused, then forced' '
	merged_ws2 ready &&
	(
		cd ready/repo &&
		ws_set_state ws-2 status ready &&
		test_expect_code 1 git ws-clean ws-2 2>../err
	) &&
	grep "not cleaning .ws-2.: its status is .ready., not merged" ready/err &&
	untouched ready &&
	(cd ready/repo && git ws-clean --force ws-2) &&
	forced ready
'

test_expect_success 'branch checked out elsewhere: refused even with --force' '
	merged_ws2 checkedout &&
	(
		cd checkedout/repo-ws-2 &&
		git checkout -q -b elsewhere &&
		cd ../repo &&
		git checkout -q feature/ws-2-two &&
		test_expect_code 1 git ws-clean --force 2>../err
	) &&
	grep "not cleaning .ws-2.: branch .feature/ws-2-two. is checked out at .*/repo." checkedout/err &&
	untouched checkedout
'

test_expect_success 'run from the worktree it would remove: refused even with --force' '
	merged_ws2 inside &&
	(cd inside/repo-ws-2 && test_expect_code 1 git ws-clean --force 2>../err) &&
	grep "not cleaning .ws-2.: it is the worktree this command runs in" inside/err &&
	untouched inside &&
	(cd inside/repo && git ws-clean) &&
	forced inside
'

test_expect_success 'detached HEAD with commits of its own: refused, then forced' '
	merged_ws2 detached &&
	(
		cd detached/repo-ws-2 &&
		git checkout -q --detach &&
		test_commit stray stray.t &&
		cd ../repo &&
		test_expect_code 1 git ws-clean 2>../err
	) &&
	grep "not cleaning .ws-2.: worktree .* has a detached HEAD at .* with commits not in .main." detached/err &&
	(cd detached/repo && git ws-clean --force) &&
	test "$(cd detached/repo && ws_state ws-2 status)" = cleaned
'

test_expect_success 'one refusal does not stop the others; exit 1' '
	merged_ws2 mixed &&
	(
		cd mixed/repo-ws-1 &&
		test_commit one one.t &&
		cd ../repo &&
		test_tick &&
		git merge -q --no-ff -m "merge ws-1" feature/ws-1-one &&
		ws_set_state ws-1 status merged &&
		ws_set_state ws-3 status merged
	) &&
	echo x >mixed/repo-ws-2/untracked &&
	(cd mixed/repo && test_expect_code 1 git ws-clean --porcelain >../out 2>../err) &&
	(
		cd mixed/repo &&
		test "$(ws_state ws-1 status)" = cleaned &&
		test "$(ws_state ws-3 status)" = cleaned &&
		test "$(ws_state ws-2 status)" = merged
	) &&
	test_path_is_missing mixed/repo-ws-1 &&
	untouched mixed &&
	grep "^refuse	ws-2	dirty	worktree .* has uncommitted or untracked files$" mixed/out &&
	grep "^cleaned	ws-1$" mixed/out &&
	grep "^cleaned	ws-3$" mixed/out
'

test_expect_success 'a dirty shared worktree that stays does not refuse' '
	new_plan sharedirty &&
	(cd sharedirty/repo && ws_set_state ws-1 status merged) &&
	echo work-in-progress >sharedirty/repo-ws-1/wip &&
	(cd sharedirty/repo && git ws-clean >../out) &&
	(
		cd sharedirty/repo &&
		test "$(ws_state ws-1 status)" = cleaned &&
		test "$(ws_state ws-3 status)" = ready
	) &&
	test_path_is_file sharedirty/repo-ws-1/wip &&
	grep "^ws-1: kept worktree and branch .* still used by ws-3 (ready)$" sharedirty/out
'

# half_removed <dir>: merged_ws2, then ws-2's worktree as a git ws-clean
# killed inside git worktree remove leaves it: recorded in the state as
# being removed (what git ws-clean writes first, see FILES in
# git-ws-clean(1)), README already deleted by git.
half_removed () {
	merged_ws2 "$1" &&
	(
		cd "$1/repo" &&
		ws_set_state ws-2 removing "$(ws_state ws-2 worktree)" &&
		ws_set_state ws-2 removing-admin repo-ws-2 &&
		ws_set_state ws-2 removing-head "$(cat ../tip)"
	) &&
	rm "$1/repo-ws-2/README"
}

test_expect_success 'files missing, no record of a removal: refused' '
	merged_ws2 deleted &&
	rm deleted/repo-ws-2/README &&
	(cd deleted/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .* has uncommitted or untracked files" deleted/err &&
	untouched deleted
'

test_expect_success 'a removal that git ws-clean recorded is finished without --force' '
	half_removed finish &&
	echo "*.o" >finish/repo/.git/info/exclude &&
	echo obj >finish/repo-ws-2/build.o &&
	(cd finish/repo && git ws-clean >../out 2>../err) &&
	grep "^ws-2: removed what was left of its worktree, deleted branch" finish/out &&
	forced finish &&
	test_must_fail git -C finish/repo config -f .git/ws/state workstream.ws-2.removing
'

test_expect_success '...also when git had deleted its .git file' '
	half_removed nodotgit &&
	rm nodotgit/repo-ws-2/.git &&
	(cd nodotgit/repo && git ws-clean) &&
	forced nodotgit
'

test_expect_success 'a recorded removal with a changed file: refused, with the path' '
	half_removed halfchanged &&
	echo changed >>halfchanged/repo-ws-2/two.t &&
	(cd halfchanged/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .*repo-ws-2., which git ws-clean was removing, has .two.t. changed since" halfchanged/err &&
	untouched halfchanged &&
	test_path_is_file halfchanged/repo-ws-2/two.t &&
	(cd halfchanged/repo && git ws-clean --force) &&
	forced halfchanged
'

test_expect_success 'a recorded removal with an untracked file and no .git: refused, then forced' '
	half_removed halfnew &&
	rm halfnew/repo-ws-2/.git &&
	mkdir halfnew/repo-ws-2/notes &&
	echo precious >halfnew/repo-ws-2/notes/todo &&
	(cd halfnew/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .*repo-ws-2., which git ws-clean was removing, has an untracked file .notes/todo.$" halfnew/err &&
	test_path_is_file halfnew/repo-ws-2/notes/todo &&
	test "$(cd halfnew/repo && ws_state ws-2 status)" = merged &&
	(cd halfnew/repo && git ws-clean --force 2>../err) &&
	grep "anyway (--force): worktree .* has an untracked file" halfnew/err &&
	forced halfnew
'

test_expect_success 'a recorded removal with a repository inside: refused, even with --force' '
	half_removed halfrepo &&
	git init -q halfrepo/repo-ws-2/inner &&
	(cd halfrepo/repo && test_expect_code 1 git ws-clean 2>../err) &&
	grep "not cleaning .ws-2.: worktree .*, which git ws-clean was removing, has a repository of its own at .*/inner/.git." halfrepo/err &&
	test_path_is_dir halfrepo/repo-ws-2/inner/.git &&
	(cd halfrepo/repo && test_expect_code 1 git ws-clean --force --porcelain >../out 2>../err) &&
	grep "^refuse	ws-2	nested-repository	" halfrepo/out &&
	grep "^hint: move that repository out of the worktree" halfrepo/err &&
	test_path_is_dir halfrepo/repo-ws-2/inner/.git
'

test_expect_success 'admin remains without gitdir check nothing out' '
	merged_ws2 remains &&
	mkdir remains/repo/.git/worktrees/gone &&
	echo "ref: refs/heads/feature/ws-2-two" >remains/repo/.git/worktrees/gone/HEAD &&
	(
		cd remains/repo &&
		git ws-clean &&
		test "$(ws_state ws-2 status)" = cleaned &&
		test_must_fail git rev-parse --verify -q refs/heads/feature/ws-2-two
	) &&
	test_path_is_missing remains/repo-ws-2 &&
	# not ours: left for git worktree prune
	test_path_is_dir remains/repo/.git/worktrees/gone
'

test_done
