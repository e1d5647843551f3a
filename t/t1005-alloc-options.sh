#!/bin/sh

test_description='git ws-alloc: --dry-run, --porcelain, --base, git config, long lines, the man page'

. ./lib-ws.sh

SQ="'"

# no_allocation <repo>: no worktree but the main one, no branch but
# main (and `other`, `dev` when the test made them), no state, no plan.
no_allocation () {
	test_path_is_missing "$1/.git/ws/state" &&
	test_path_is_missing "$1/.git/ws/plan" &&
	git -C "$1" worktree list --porcelain >wt &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 1 wt.lines &&
	git -C "$1" for-each-ref --format="%(refname)" "refs/heads/feature/*" >refs &&
	test_must_be_empty refs
}

test_expect_success 'setup' '
	setup_repo &&
	(
		cd repo &&
		git branch dev &&
		git checkout -q dev &&
		test_commit on-dev &&
		git checkout -q main
	) &&
	cat >plan <<-\EOF
	[plan]
		name = opts
	[workstream "ws-1"]
		title = One
		paths = src/*
	[workstream "ws-2"]
		title = Two
		depends = ws-1
	[workstream "ws-3"]
		title = Three
		worktree = ws-1
	[workstream "ws-4"]
		title = Four
		paths = src/four.c
	EOF
'

test_expect_success '--dry-run prints the plan and makes no worktree, branch or state' '
	(cd repo && git ws-alloc --dry-run ../plan >../out 2>../err) &&
	test_must_be_empty err &&
	base=$(git -C repo rev-parse --short=7 main) &&
	echo "Would allocate plan ${SQ}opts${SQ} on ${SQ}main${SQ} ($base): 3 new worktrees for 4 workstreams" >expect &&
	head -n 1 out >actual &&
	test_cmp expect actual &&
	grep "^  ws-1 *ready *feature/ws-1-one  .*/repo-ws-1$" out &&
	grep "^  ws-2 *blocked *feature/ws-2-two  .*/repo-ws-2$" out &&
	grep "^  ws-3 .*(shares ws-1${SQ}s worktree: worktree =)" out &&
	grep "^conflict risk: ${SQ}ws-1${SQ} and ${SQ}ws-4${SQ}" out &&
	no_allocation repo &&
	test_path_is_missing repo-ws-1 &&
	test_path_is_missing repo-ws-2 &&
	test_path_is_missing repo-ws-4
'

test_expect_success '-n is --dry-run, and --porcelain works with it' '
	(cd repo && git ws-alloc -n --porcelain ../plan >../out) &&
	wt=$(cd repo/.. && pwd) &&
	cat >expect <<-EOF &&
	workstream	ws-1	create	ready	feature/ws-1-one	$wt/repo-ws-1	ws-1
	workstream	ws-2	create	blocked	feature/ws-2-two	$wt/repo-ws-2	ws-2
	workstream	ws-3	share	ready	feature/ws-1-one	$wt/repo-ws-1	ws-1
	share	ws-3	ws-1	worktree
	workstream	ws-4	create	ready	feature/ws-4-four	$wt/repo-ws-4	ws-4
	risk	ws-1	ws-4
	EOF
	sort expect >expect.sorted &&
	sort out >actual.sorted &&
	test_cmp expect.sorted actual.sorted &&
	no_allocation repo
'

# A dry run creates nothing, not even .git/ws/.
test_expect_success '--dry-run does not even create .git/ws' '
	setup_repo fresh &&
	(cd fresh && git ws-alloc -n ../plan >/dev/null) &&
	test_path_is_missing fresh/.git/ws
'

test_expect_success '--porcelain: one tab-separated record per line, records in dependency order' '
	(cd repo && git ws-alloc --porcelain ../plan >../out) &&
	cut -f1,2 out >actual &&
	cat >expect <<-\EOF &&
	workstream	ws-1
	workstream	ws-2
	workstream	ws-3
	share	ws-3
	workstream	ws-4
	risk	ws-1
	EOF
	test_cmp expect actual &&
	grep "^workstream	ws-1	create	ready	feature/ws-1-one	.*/repo-ws-1	ws-1$" out &&
	test_path_is_dir repo-ws-1 &&
	(cd repo && git ws-alloc --porcelain ../plan >../out2) &&
	cut -f3 out2 | sort -u >actions &&
	printf "keep\nws-1\nws-4\n" >expect &&
	test_cmp expect actions
'

test_expect_success '--dry-run of a plan that adds one says so and adds nothing' '
	cp repo/.git/ws/state state.before &&
	cat plan - >plan5 <<-\EOF &&
	[workstream "ws-5"]
		title = Five
	EOF
	(cd repo && git ws-alloc -n ../plan5 >../out) &&
	grep "^Would allocate plan ${SQ}opts${SQ} on ${SQ}main${SQ} (.*): 1 new worktree for 1 workstream$" out &&
	test_path_is_missing repo-ws-5 &&
	test_cmp state.before repo/.git/ws/state &&
	test_must_fail git config -f repo/.git/ws/plan workstream.ws-5.title
'

test_expect_success '--base starts every worktree from that branch and records it' '
	setup_repo based &&
	(
		cd based &&
		git checkout -q -b dev &&
		test_commit on-dev &&
		git checkout -q main &&
		git ws-alloc --base dev ../plan >../out &&
		test "$(ws_state ws-1 base-oid)" = "$(git rev-parse dev)" &&
		test "$(git config -f .git/ws/plan plan.base)" = dev &&
		test "$(git -C ../based-ws-2 rev-parse HEAD)" = "$(git rev-parse dev)" &&
		test_path_is_file ../based-ws-1/on-dev.t
	) &&
	grep "^Allocated plan ${SQ}opts${SQ} on ${SQ}dev${SQ}" out
'

test_expect_success '--base wins over [plan] base' '
	setup_repo based2 &&
	git -C based2 branch dev &&
	sed "s/name = opts/name = opts\n	base = nope/" plan >plan-nope &&
	(cd based2 && git ws-alloc --base dev ../plan-nope >/dev/null) &&
	test "$(git config -f based2/.git/ws/plan plan.base)" = dev
'

test_expect_success 'without --base or [plan] base, the current branch is the base' '
	setup_repo cur &&
	(
		cd cur &&
		git checkout -q -b topic &&
		git ws-alloc ../plan >/dev/null &&
		test "$(git config -f .git/ws/plan plan.base)" = topic
	)
'

test_expect_success 'a base that does not exist is fatal and makes nothing' '
	setup_repo nobase &&
	(
		cd nobase &&
		test_expect_code 128 git ws-alloc --base nope ../plan 2>../err
	) &&
	echo "fatal: base branch ${SQ}nope${SQ} does not exist" >expect &&
	test_cmp expect err &&
	test_path_is_missing nobase/.git/ws &&
	no_allocation nobase
'

test_expect_success 'a detached HEAD and no base is fatal' '
	setup_repo detached &&
	(
		cd detached &&
		git checkout -q --detach &&
		test_expect_code 128 git ws-alloc ../plan 2>../err
	) &&
	grep "^fatal: HEAD is not on a branch" err &&
	no_allocation detached
'

test_expect_success 'ws.branchPrefix names the branches' '
	setup_repo prefixed &&
	git -C prefixed config ws.branchPrefix agents/ &&
	(cd prefixed && git ws-alloc ../plan >/dev/null) &&
	git -C prefixed for-each-ref --format="%(refname:short)" "refs/heads/agents/*" >actual &&
	cat >expect <<-\EOF &&
	agents/ws-1-one
	agents/ws-2-two
	agents/ws-4-four
	EOF
	test_cmp expect actual &&
	(cd prefixed && test "$(ws_state ws-3 branch)" = agents/ws-1-one)
'

test_expect_success 'ws.worktreeDir (absolute) places the worktrees' '
	setup_repo placed &&
	mkdir trees &&
	git -C placed config ws.worktreeDir "$PWD/trees" &&
	(cd placed && git ws-alloc ../plan >/dev/null) &&
	test_path_is_dir trees/placed-ws-1 &&
	test_path_is_dir trees/placed-ws-2 &&
	test_path_is_missing placed-ws-1 &&
	(cd placed && test "$(ws_state ws-1 worktree)" = "$PWD/../trees/placed-ws-1" ||
		test "$(ws_state ws-1 worktree)" = "$(cd ../trees && pwd)/placed-ws-1") &&
	git -C placed worktree list --porcelain >wt &&
	grep "^worktree .*/trees/placed-ws-1$" wt
'

test_expect_success 'ws.worktreeDir (relative) is relative to the main worktree' '
	setup_repo rel &&
	git -C rel config ws.worktreeDir ../reltrees &&
	(cd rel && git ws-alloc ../plan >/dev/null) &&
	test_path_is_dir reltrees/rel-ws-1 &&
	test_path_is_dir reltrees/rel-ws-4 &&
	test "$(git -C reltrees/rel-ws-1 rev-parse --show-toplevel)" = "$(cd reltrees/rel-ws-1 && pwd)"
'

# `git -c` settings reach commands in GIT_CONFIG_PARAMETERS, which
# libgit2 does not read: common/repo.c does.
test_expect_success 'git -c ws.branchPrefix=... is respected' '
	setup_repo dashc &&
	(cd dashc && git -c ws.branchPrefix=dev/ ws-alloc ../plan >/dev/null) &&
	git -C dashc rev-parse --verify -q refs/heads/dev/ws-1-one
'

test_expect_success 'a 300-character command line is parsed whole' '
	long="./run.sh $(printf "%0290d" 0) end" &&
	test ${#long} -gt 290 &&
	setup_repo longline &&
	cat >long.plan <<-EOF &&
	[plan]
		name = long
		command = $long
	[workstream "ws-1"]
		title = One
		command = $long  ; a comment after it
	[workstream "ws-2"]
		title = Two
	EOF
	(cd longline && git ws-alloc ../long.plan >/dev/null) &&
	test "$(git config -f longline/.git/ws/plan plan.command)" = "$long" &&
	test "$(git config -f longline/.git/ws/plan workstream.ws-1.command)" = "$long"
'

test_expect_success 'a 300-character title makes a 40-character slug and round-trips' '
	title="A $(printf "%0296d" 7) Z" &&
	setup_repo longtitle &&
	cat >lt.plan <<-EOF &&
	[workstream "ws-1"]
		title = $title
	EOF
	(cd longtitle && git ws-alloc ../lt.plan >/dev/null) &&
	test "$(git config -f longtitle/.git/ws/plan workstream.ws-1.title)" = "$title" &&
	branch=$(cd longtitle && ws_state ws-1 branch) &&
	slug=${branch#feature/ws-1-} &&
	test ${#slug} -eq 40 &&
	test "$slug" = "a-$(printf "%038d" 0)"
'

test_expect_success 'usage errors exit 129' '
	test_expect_code 129 git -C repo ws-alloc 2>err &&
	grep "^usage: git ws-alloc" err &&
	test_expect_code 129 git -C repo ws-alloc ../plan ../plan 2>err &&
	grep "^usage: git ws-alloc" err &&
	test_expect_code 129 git -C repo ws-alloc --base 2>err
'

test_done
