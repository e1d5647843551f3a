#!/bin/sh

test_description='git ws-alloc: re-running, adding workstreams, refusing changes'

. ./lib-ws.sh

SQ="'"

# snapshot <name>: what an allocation is made of (state, normalised plan,
# every ref and where it points, the worktree list, the directories beside
# the repository), into files <name>.*.
snapshot () {
	cp repo/.git/ws/state "$1.state" &&
	cp repo/.git/ws/plan "$1.plan" &&
	git -C repo for-each-ref --format="%(refname) %(objectname)" >"$1.refs" &&
	git -C repo worktree list --porcelain >"$1.worktrees" &&
	find . -maxdepth 1 \( -name "repo*" -o -name "elsewhere*" \) | sort >"$1.ls"
}

# unchanged_since <name>: compare with snapshot <name>.
unchanged_since () {
	snapshot now &&
	test_cmp "$1.state" now.state &&
	test_cmp "$1.plan" now.plan &&
	test_cmp "$1.refs" now.refs &&
	test_cmp "$1.worktrees" now.worktrees &&
	test_cmp "$1.ls" now.ls
}

test_expect_success 'setup' '
	setup_repo &&
	git -C repo branch other &&
	cat >v1.plan <<-\EOF &&
	[plan]
		name = demo
		base = main
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		depends = ws-1
	[workstream "ws-3"]
		title = Three
		worktree = ws-1
	EOF
	(cd repo && git ws-alloc ../v1.plan >../out) &&
	grep "3 workstreams" out &&
	snapshot v1
'

test_expect_success 'the same plan again changes nothing and says so' '
	(cd repo && git ws-alloc ../v1.plan >../out) &&
	echo "Plan ${SQ}demo${SQ} is already allocated; nothing to do." >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	unchanged_since v1
'

test_expect_success 'a plan that changes only what may change (max-cost) is stored again, and says so' '
	sed "s/name = demo/name = demo\\n\tmax-cost = 5/" v1.plan >cost.plan &&
	grep "max-cost = 5" cost.plan &&
	(cd repo && git ws-alloc --dry-run ../cost.plan >../out) &&
	echo "Plan ${SQ}demo${SQ} is already allocated; its stored plan would be updated from ../cost.plan." >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	test_must_fail git config -f repo/.git/ws/plan plan.max-cost &&
	(cd repo && git ws-alloc ../cost.plan >../out) &&
	echo "Plan ${SQ}demo${SQ} is already allocated; its stored plan is updated from ../cost.plan." >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	test "$(git config -f repo/.git/ws/plan plan.max-cost)" = 5.00 &&
	(cd repo && git ws-alloc ../v1.plan >../out) &&
	test_must_fail git config -f repo/.git/ws/plan plan.max-cost &&
	unchanged_since v1
'

test_expect_success 'the same plan again, --porcelain: every workstream kept' '
	(cd repo && git ws-alloc --porcelain ../v1.plan >../out) &&
	cut -f1-3 out >actual &&
	cat >expect <<-\EOF &&
	workstream	ws-1	keep
	workstream	ws-3	keep
	share	ws-3	ws-1
	workstream	ws-2	keep
	EOF
	sort expect >expect.sorted &&
	sort actual >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	unchanged_since v1
'

test_expect_success 'a plan that adds workstreams allocates only the new ones' '
	(
		cd repo-ws-1 &&
		test_commit work-in-ws-1 work.t &&
		echo unsaved >scratch.t
	) &&
	tip=$(git -C repo rev-parse feature/ws-1-one) &&
	git -C repo config -f .git/ws/state --get-regexp "^workstream\." >old.records &&
	cat v1.plan - >v2.plan <<-\EOF &&
	[workstream "ws-4"]
		title = Four
		depends = ws-2
	[workstream "ws-5"]
		title = Five
		worktree = ws-2
	EOF
	(cd repo && git ws-alloc ../v2.plan >../out) &&
	grep "1 new worktree for 2 workstreams" out &&
	test_path_is_dir repo-ws-4 &&
	test_path_is_missing repo-ws-5 &&
	(
		cd repo &&
		test "$(ws_state ws-5 worktree)" = "$(ws_state ws-2 worktree)" &&
		test "$(ws_state ws-4 reason)" = "waiting for ws-2 to merge" &&
		test "$(git config -f .git/ws/plan workstream.ws-5.worktree)" = ws-2
	) &&
	git -C repo config -f .git/ws/state --get-regexp "^workstream\.ws-[123]\." >now.records &&
	test_cmp old.records now.records &&
	test "$(git -C repo rev-parse feature/ws-1-one)" = "$tip" &&
	test_path_is_file repo-ws-1/scratch.t &&
	test_path_is_file repo-ws-1/work.t &&
	git -C repo for-each-ref --format="%(refname:short)" "refs/heads/feature/*" >branches &&
	test_line_count = 3 branches &&
	snapshot v2
'

test_expect_success 'new workstreams start from the current base tip' '
	(cd repo && test_commit later) &&
	cat v2.plan - >v3.plan <<-\EOF &&
	[workstream "ws-6"]
		title = Six
	EOF
	(cd repo && git ws-alloc ../v3.plan >/dev/null) &&
	(
		cd repo &&
		test "$(ws_state ws-6 base-oid)" = "$(git rev-parse main)" &&
		test "$(ws_state ws-1 base-oid)" = "$(git rev-parse main^)" &&
		test "$(git -C ../repo-ws-6 rev-parse HEAD)" = "$(git rev-parse main)"
	) &&
	snapshot v3
'

test_expect_success 'a changed title (hence branch) is refused, and nothing changes' '
	sed "s/title = Two/title = Deux/" v3.plan >bad.plan &&
	cat >>bad.plan <<-\EOF &&
	[workstream "ws-7"]
		title = Seven
	EOF
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../bad.plan >../out 2>../err
	) &&
	cat >expect <<-EOF &&
	error: ../bad.plan:6: workstream ${SQ}ws-2${SQ} is allocated on branch ${SQ}feature/ws-2-two${SQ}; the plan now makes it ${SQ}feature/ws-2-deux${SQ}
	hint: keep its title and worktree as they were, or clean it first
	EOF
	test_cmp expect err &&
	test_must_be_empty out &&
	test_path_is_missing repo-ws-7 &&
	unchanged_since v3
'

test_expect_success 'a changed worktree (ws.worktreeDir) is refused, and nothing changes' '
	test_when_finished "git -C repo config --unset ws.worktreeDir" &&
	mkdir elsewhere &&
	snapshot v3 &&
	git -C repo config ws.worktreeDir "$PWD/elsewhere" &&
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../v3.plan >../out 2>../err
	) &&
	old=$(git -C repo config -f .git/ws/state workstream.ws-1.worktree) &&
	cat >expect <<-EOF &&
	error: ../v3.plan:4: workstream ${SQ}ws-1${SQ} is allocated in worktree ${SQ}$old${SQ}; the plan now puts it in ${SQ}$PWD/elsewhere/repo-ws-1${SQ}
	hint: keep its worktree as it was, or clean it first
	EOF
	test_cmp expect err &&
	test_must_be_empty out &&
	unchanged_since v3 &&
	rmdir elsewhere
'

test_expect_success 'a new "worktree =" on an allocated workstream is refused' '
	sed "s/title = Four/title = Four\n	worktree = ws-1/" v3.plan >bad.plan &&
	grep "worktree = ws-1" bad.plan &&
	snapshot v3 &&
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../bad.plan >../out 2>../err
	) &&
	grep "^error: ../bad.plan:[0-9]*: workstream ${SQ}ws-4${SQ} is allocated" err &&
	grep "^hint: " err &&
	unchanged_since v3
'

test_expect_success 'a changed ws.branchPrefix is refused' '
	test_when_finished "git -C repo config --unset ws.branchPrefix" &&
	git -C repo config ws.branchPrefix topic/ &&
	test_expect_code 128 git -C repo ws-alloc ../v3.plan 2>err &&
	grep "is allocated on branch ${SQ}feature/ws-1-one${SQ}; the plan now makes it ${SQ}topic/ws-1-one${SQ}" err &&
	unchanged_since v3
'

test_expect_success 'a changed base (--base) is refused' '
	test_expect_code 128 git -C repo ws-alloc --base other ../v3.plan >out 2>err &&
	cat >expect <<-EOF &&
	error: plan ${SQ}demo${SQ} was allocated on base ${SQ}main${SQ}, not ${SQ}other${SQ}
	hint: a workstream${SQ}s base cannot change once it is allocated
	EOF
	test_cmp expect err &&
	unchanged_since v3
'

test_expect_success 'a changed base ([plan] base) is refused' '
	sed "s/base = main/base = other/" v3.plan >bad.plan &&
	test_expect_code 128 git -C repo ws-alloc ../bad.plan 2>err &&
	grep "^error: plan ${SQ}demo${SQ} was allocated on base ${SQ}main${SQ}, not ${SQ}other${SQ}" err &&
	unchanged_since v3
'

test_expect_success 'a plan that drops an allocated workstream is refused' '
	sed "/ws-6/,\$d" v3.plan >bad.plan &&
	cat >>bad.plan <<-\EOF &&
	[workstream "ws-8"]
		title = Eight
	EOF
	test_expect_code 128 git -C repo ws-alloc ../bad.plan 2>err &&
	cat >expect <<-EOF &&
	error: ../bad.plan: the plan drops workstream ${SQ}ws-6${SQ}, which is allocated
	hint: keep it in the plan, or give it up first with ${SQ}git ws-clean --force ws-6${SQ}
	hint: (its commits stay reachable from refs/ws/backup/ws-6)
	EOF
	test_cmp expect err &&
	test_path_is_missing repo-ws-8 &&
	unchanged_since v3
'

test_expect_success 'another plan while one is allocated is refused' '
	sed "s/name = demo/name = other-plan/" v3.plan >bad.plan &&
	test_expect_code 128 git -C repo ws-alloc ../bad.plan 2>err &&
	grep "^error: plan ${SQ}demo${SQ} is allocated in this repository; cannot allocate ${SQ}other-plan${SQ} too" err &&
	grep "^hint: " err &&
	unchanged_since v3
'

test_expect_success 'after all the refusals the plan still re-runs cleanly' '
	(cd repo && git ws-alloc ../v3.plan >../out) &&
	grep "already allocated; nothing to do" out &&
	unchanged_since v3
'

test_expect_success 'as the hint says: once cleaned, a workstream may leave the plan' '
	test -x "$WS_SOURCE_DIR/bin-wrappers/git-ws-clean" || return 0
	(cd repo && git ws-clean --force ws-6 >../out 2>&1) &&
	test "$(cd repo && ws_state ws-6 status)" = cleaned &&
	git -C repo rev-parse --verify refs/ws/backup/ws-6 &&
	sed "/ws-6/,\$d" v3.plan >dropped.plan &&
	cat >>dropped.plan <<-\EOF &&
	[workstream "ws-8"]
		title = Eight
	EOF
	(cd repo && git ws-alloc ../dropped.plan >../out) &&
	test_path_is_dir repo-ws-8 &&
	! grep "ws-6" repo/.git/ws/plan &&
	(cd repo && git ws-status >../status) &&
	grep ws-8 status
'

test_done
