#!/bin/sh

test_description='git ws-alloc: every validation error is fatal, names file:line, creates nothing'

. ./lib-ws.sh

SQ="'"

# nothing_allocated: repo has no .git/ws, no worktree but the main one,
# no branch but main, and nothing named repo-* beside it.
nothing_allocated () {
	test_path_is_missing repo/.git/ws &&
	git -C repo worktree list --porcelain >wt &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 1 wt.lines &&
	git -C repo for-each-ref --format="%(refname)" refs/heads >refs &&
	echo refs/heads/main >expect.refs &&
	test_cmp expect.refs refs &&
	for d in repo-*
	do
		test_path_is_missing "$d" || return 1
	done
}

# expect_plan_error <message>: `git ws-alloc ../bad.plan`, run in repo,
# must print exactly "fatal: <message>" on stderr, nothing on stdout,
# exit 128, and leave nothing behind.
expect_plan_error () {
	printf "fatal: %s\n" "$1" >expect &&
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../bad.plan >../out 2>../err
	) &&
	test_cmp expect err &&
	test_must_be_empty out &&
	nothing_allocated
}

test_expect_success 'setup' '
	setup_repo &&
	nothing_allocated
'

test_expect_success 'a dependency on an unknown workstream' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		depends = ws-1 ws-9
	EOF
	expect_plan_error "../bad.plan:7: workstream ${SQ}ws-2${SQ} depends on unknown workstream ${SQ}ws-9${SQ}"
'

test_expect_success 'a cycle is printed' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
		depends = ws-3
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
		depends = ws-1
	EOF
	expect_plan_error "../bad.plan:3: dependency cycle: ws-1 -> ws-3 -> ws-1"
'

test_expect_success 'a longer cycle is printed whole' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "a"]
		title = A
		depends = c
	[workstream "b"]
		title = B
		depends = a
	[workstream "c"]
		title = C
		depends = b
	EOF
	test_expect_code 128 git -C repo ws-alloc ../bad.plan 2>err &&
	grep "^fatal: ../bad.plan:[0-9]*: dependency cycle: \([abc]\) -> [abc] -> [abc] -> \1$" err &&
	grep "a" err | grep "b" | grep "c" &&
	nothing_allocated
'

test_expect_success 'a bad id' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[workstream "-ws"]
		title = Dash
	EOF
	expect_plan_error "../bad.plan:5: bad workstream id ${SQ}-ws${SQ} (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most 100 characters)"
'

test_expect_success 'an id with a space is a bad id' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws 1"]
		title = One
	EOF
	expect_plan_error "../bad.plan:1: bad workstream id ${SQ}ws 1${SQ} (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most 100 characters)"
'

test_expect_success 'an id with shell syntax is a bad id' '
	cat >bad.plan <<-\EOF &&
	[workstream "$(touch pwned)"]
		title = One
	EOF
	expect_plan_error "../bad.plan:1: bad workstream id ${SQ}\$(touch pwned)${SQ} (must match [A-Za-z0-9][A-Za-z0-9._-]*, at most 100 characters)" &&
	test_path_is_missing pwned &&
	test_path_is_missing repo/pwned
'

test_expect_success 'a duplicate id' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	[workstream "ws-1"]
		title = Again
	EOF
	expect_plan_error "../bad.plan:7: duplicate workstream ${SQ}ws-1${SQ} (first on line 3)"
'

test_expect_success 'a missing title' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		spec = specs/ws-2.md
	EOF
	expect_plan_error "../bad.plan:5: workstream ${SQ}ws-2${SQ} has no title"
'

test_expect_success 'an empty title is a missing title' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title =
	EOF
	expect_plan_error "../bad.plan:2: workstream ${SQ}ws-1${SQ} has no title"
'

test_expect_success 'an unknown key in a workstream' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
		colour = blue
	EOF
	expect_plan_error "../bad.plan:5: unknown key ${SQ}colour${SQ} in [workstream \"ws-1\"]"
'

test_expect_success 'an unknown key in [plan]' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
		title = One
	[workstream "ws-1"]
		title = One
	EOF
	expect_plan_error "../bad.plan:3: unknown key ${SQ}title${SQ} in [plan]"
'

test_expect_success 'an unknown section' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[stream "ws-2"]
		title = Two
	EOF
	expect_plan_error "../bad.plan:5: unknown section ${SQ}[stream]${SQ} (expected [plan] or [workstream \"ID\"])"
'

test_expect_success 'a self-dependency' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		depends = ws-1
		depends = ws-2
	EOF
	expect_plan_error "../bad.plan:8: workstream ${SQ}ws-2${SQ} depends on itself"
'

test_expect_success '"worktree =" naming an unknown workstream' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		worktree = ws-7
	EOF
	expect_plan_error "../bad.plan:5: workstream ${SQ}ws-2${SQ} shares the worktree of unknown workstream ${SQ}ws-7${SQ}"
'

test_expect_success '"worktree =" naming its own workstream' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title = One
		worktree = ws-1
	EOF
	expect_plan_error "../bad.plan:3: workstream ${SQ}ws-1${SQ} shares its own worktree"
'

test_expect_success '"worktree =" making a chain of shares' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		worktree = ws-1
	[workstream "ws-3"]
		title = Three
		worktree = ws-2
	EOF
	expect_plan_error "../bad.plan:8: workstream ${SQ}ws-3${SQ} shares the worktree of ${SQ}ws-2${SQ}, which itself shares ${SQ}ws-1${SQ} (name ${SQ}ws-1${SQ} instead)"
'

test_expect_success 'an id that makes a branch name that is not a valid ref' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws..1"]
		title = One
	EOF
	expect_plan_error "../bad.plan:1: workstream ${SQ}ws..1${SQ} makes branch name ${SQ}feature/ws..1-one${SQ}, which is not a valid ref name"
'

test_expect_success 'an id ending in .lock with a title without letters' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws.lock"]
		title = !!!
	EOF
	expect_plan_error "../bad.plan:1: workstream ${SQ}ws.lock${SQ} makes branch name ${SQ}feature/ws.lock${SQ}, which is not a valid ref name"
'

test_expect_success 'a ws.branchPrefix that makes invalid branch names' '
	test_when_finished "git -C repo config --unset ws.branchPrefix" &&
	git -C repo config ws.branchPrefix "bad..prefix/" &&
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title = One
	EOF
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../bad.plan 2>../err
	) &&
	echo "fatal: ../bad.plan:1: workstream ${SQ}ws-1${SQ} makes branch name ${SQ}bad..prefix/ws-1-one${SQ}, which is not a valid ref name" >expect &&
	test_cmp expect err &&
	nothing_allocated
'

test_expect_success 'a base that is not a valid branch name' '
	cat >bad.plan <<-\EOF &&
	[plan]
		base = ma..in
	[workstream "ws-1"]
		title = One
	EOF
	expect_plan_error "../bad.plan:2: bad base ${SQ}ma..in${SQ}: not a valid branch name"
'

test_expect_success 'a key given twice' '
	cat >bad.plan <<-\EOF &&
	[workstream "ws-1"]
		title = One
		title = Uno
	EOF
	expect_plan_error "../bad.plan:3: key ${SQ}title${SQ} given twice in [workstream \"ws-1\"] (first on line 2)"
'

test_expect_success 'a plan without workstreams' '
	cat >bad.plan <<-\EOF &&
	[plan]
		name = demo
	EOF
	expect_plan_error "../bad.plan:1: plan has no workstreams"
'

test_expect_success 'an error on the last line still creates nothing' '
	{
		echo "[plan]" &&
		echo "	name = big" &&
		for i in 1 2 3 4 5 6 7 8 9
		do
			echo "[workstream \"ws-$i\"]" &&
			echo "	title = Number $i" || return 1
		done &&
		echo "	depends = ws-0"
	} >bad.plan &&
	expect_plan_error "../bad.plan:21: workstream ${SQ}ws-9${SQ} depends on unknown workstream ${SQ}ws-0${SQ}"
'

test_expect_success 'a missing plan file is fatal' '
	(
		cd repo &&
		test_expect_code 128 git ws-alloc ../no-such.plan 2>../err
	) &&
	grep "^fatal: .*no-such.plan" err &&
	nothing_allocated
'

test_expect_success 'an invalid plan after an allocation changes nothing' '
	cat >good.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "ws-1"]
		title = One
	EOF
	git -C repo ws-alloc ../good.plan &&
	cp repo/.git/ws/state state.before &&
	cp repo/.git/ws/plan plan.before &&
	git -C repo for-each-ref >refs.before &&
	cat good.plan - >bad.plan <<-\EOF &&
	[workstream "ws-2"]
		title = Two
		depends = ws-5
	EOF
	test_expect_code 128 git -C repo ws-alloc ../bad.plan 2>err &&
	grep "^fatal: ../bad.plan:7: workstream ${SQ}ws-2${SQ} depends on unknown" err &&
	test_cmp state.before repo/.git/ws/state &&
	test_cmp plan.before repo/.git/ws/plan &&
	git -C repo for-each-ref >refs.after &&
	test_cmp refs.before refs.after &&
	test_path_is_missing repo-ws-2
'

test_done
