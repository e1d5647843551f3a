#!/bin/sh

test_description='git ws-alloc in a repository with no commits says so and changes nothing'

. ./lib-ws.sh

test_expect_success 'setup' '
	git init -q -b main empty &&
	cat >plan.ini <<-\EOF
	[plan]
		name = first
	[workstream "ws-1"]
		title = One
	EOF
'

snapshot () {
	(cd "$1" && find .git -path .git/index -prune -o -print | sort &&
	 ls -d ../empty*) >"$2"
}

test_expect_success 'alloc says the repository has no commits yet, exits 128' '
	snapshot empty before &&
	(cd empty && test_expect_code 128 git ws-alloc ../plan.ini >../out 2>../err) &&
	cat >expect <<-\EOF &&
	error: this repository has no commits yet; base branch '"'main'"' needs one
	hint: every workstream starts from a commit of its base; make a first commit, e.g.
	hint:   git commit --allow-empty -m '"'Initial commit'"'
	EOF
	test_cmp expect err &&
	test_must_be_empty out &&
	snapshot empty after &&
	test_cmp before after &&
	test_path_is_missing empty/.git/ws &&
	test_path_is_missing empty-ws-1
'

test_expect_success 'the same with --dry-run and with --base' '
	(cd empty && test_expect_code 128 git ws-alloc -n ../plan.ini 2>../err) &&
	grep "^error: this repository has no commits yet; base branch .main. needs one$" err &&
	(cd empty && test_expect_code 128 git ws-alloc --base trunk ../plan.ini 2>../err) &&
	grep "^error: this repository has no commits yet; base branch .trunk. needs one$" err &&
	test_path_is_missing empty/.git/ws
'

test_expect_success 'after a first commit the same plan allocates' '
	git -C empty commit -q --allow-empty -m "Initial commit" &&
	(cd empty && git ws-alloc ../plan.ini >/dev/null) &&
	test_path_is_dir empty-ws-1
'

test_expect_success 'a missing base in a repository with commits is still "does not exist"' '
	setup_repo full &&
	(cd full && test_expect_code 128 git ws-alloc --base nope ../plan.ini 2>../err) &&
	echo "fatal: base branch '"'nope'"' does not exist" >expect &&
	test_cmp expect err
'

test_expect_success 'an unborn branch in a repository with commits is still "does not exist"' '
	setup_repo orphan &&
	git -C orphan checkout -q --orphan fresh &&
	(cd orphan && test_expect_code 128 git ws-alloc ../plan.ini 2>../err) &&
	echo "fatal: base branch '"'fresh'"' does not exist" >expect &&
	test_cmp expect err
'

test_done
