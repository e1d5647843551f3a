#!/bin/sh

test_description='git ws-alloc: ignored files listed in .worktreeinclude (and the plan'"'"'s include) reach every new worktree'

. ./lib-ws.sh

# inc_repo <dir>: a repository whose .gitignore ignores .env, node_modules/
# and *.log, with one of each present, plus an untracked file that is not
# ignored.
inc_repo () {
	setup_repo "$1" &&
	(
		cd "$1" &&
		printf ".env\nnode_modules/\n*.log\n" >.gitignore &&
		git add .gitignore && git commit -q -m ignore &&
		echo SECRET=1 >.env &&
		mkdir -p node_modules/dep &&
		echo "module" >node_modules/dep/index.js &&
		printf "#!/bin/sh\necho hi\n" >node_modules/dep/run.sh &&
		chmod +x node_modules/dep/run.sh &&
		ln -s dep/index.js node_modules/link.js &&
		echo noise >debug.log &&
		echo mine >untracked.txt
	)
}

test_expect_success 'setup' '
	cat >plan <<-\EOF
	[plan]
		command = true
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
'

test_expect_success 'ignored files that .worktreeinclude matches are copied; nothing else is' '
	inc_repo r1 &&
	printf "# local configuration\n.env\nnode_modules/\nuntracked.txt\n" >r1/.worktreeinclude &&
	(cd r1 && git ws-alloc ../plan >/dev/null) &&
	for wt in r1-a r1-b
	do
		test_cmp r1/.env $wt/.env &&
		test_cmp r1/node_modules/dep/index.js $wt/node_modules/dep/index.js &&
		test -x $wt/node_modules/dep/run.sh &&
		test "$(readlink $wt/node_modules/link.js)" = dep/index.js &&
		test_path_is_missing $wt/debug.log &&
		test_path_is_missing $wt/untracked.txt &&
		test_path_is_missing $wt/.worktreeinclude || return 1
	done
'

test_expect_success 'the copies are copies, not links: an edit in one worktree stays there' '
	test "$(stat -c %i r1/.env)" != "$(stat -c %i r1-a/.env)" &&
	echo SECRET=2 >>r1-a/.env &&
	echo SECRET=1 >expect &&
	test_cmp expect r1/.env &&
	test_cmp expect r1-b/.env
'

test_expect_success 'the git status of a new worktree is clean: the copies are ignored files' '
	git -C r1-a status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'the plan'"'"'s include adds patterns, without a .worktreeinclude' '
	inc_repo r2 &&
	cat >plan2 <<-\EOF &&
	[plan]
		command = true
		include = *.log
		include = .env
	[workstream "a"]
		title = A
	EOF
	(cd r2 && git ws-alloc ../plan2 >/dev/null) &&
	test_cmp r2/debug.log r2-a/debug.log &&
	test_cmp r2/.env r2-a/.env &&
	test_path_is_missing r2-a/node_modules
'

test_expect_success 'a worktree made again after it was removed by hand gets the files again' '
	rm -rf r1-b &&
	(cd r1 && git ws-alloc ../plan >/dev/null 2>err) &&
	test_cmp r1/.env r1-b/.env
'

test_expect_success 'a .worktreeinclude pattern that leaves the repository: an error naming the line, and nothing made' '
	inc_repo r3 &&
	printf ".env\n../secrets/*\n" >r3/.worktreeinclude &&
	(cd r3 && test_expect_code 128 git ws-alloc ../plan 2>../err) &&
	grep "worktreeinclude:2: pattern .\.\./secrets/\*. leaves the repository" err &&
	test_path_is_missing r3-a &&
	test_path_is_missing r3/.git/ws/state &&
	test_must_fail git -C r3 rev-parse --verify -q refs/heads/feature/a-a
'

test_expect_success 'an include value that leaves the repository: file, line and key' '
	inc_repo r4 &&
	cat >plan4 <<-\EOF &&
	[plan]
		command = true
		include = .env
		include = a/../../x
	[workstream "a"]
		title = A
	EOF
	(cd r4 && test_expect_code 128 git ws-alloc ../plan4 2>../err) &&
	grep "plan4:4: bad include .a/\.\./\.\./x." err &&
	test_path_is_missing r4-a
'

test_expect_success 'the gates and the merge test see the included files' '
	inc_repo r5 &&
	echo .env >r5/.worktreeinclude &&
	cat >plan5 <<-\EOF &&
	[plan]
		command = echo work >>work.txt && git add work.txt && git commit -qm work
		test = grep SECRET=1 .env
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
	(cd r5 && git ws-alloc ../plan5 >/dev/null &&
	 timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd r5 && test "$(ws_state a status)" = merged &&
	 test "$(ws_state b status)" = merged)
'

test_expect_success 'git ws-clean removes worktrees that hold only included files beside the checkout' '
	test_path_is_file r5-a/.env &&
	(cd r5 && git ws-clean >/dev/null) &&
	test_path_is_missing r5-a &&
	test_path_is_missing r5-b &&
	test_cmp r1/.env r5/.env
'

test_done
