#!/bin/sh

test_description='submodules: every worktree has them checked out from the repository'"'"'s own copies, and a workstream that moves one merges'

. ./lib-ws.sh

# A superproject whose submodule "lib" has a submodule "inner", all
# initialised in the main worktree; then the repositories they were
# cloned from go away, so that any fetch from their URLs fails.
test_expect_success 'setup: a superproject, a submodule with a submodule, their URLs gone' '
	git init -q inner && (cd inner && test_commit inner inner.c) &&
	git init -q lib && (cd lib && test_commit lib lib.c &&
		git -c protocol.file.allow=always submodule add -q ../inner inner &&
		test_tick && git commit -q -m "add inner") &&
	setup_repo repo &&
	(cd repo && git -c protocol.file.allow=always submodule add -q ../lib lib &&
		git -c protocol.file.allow=always submodule update -q --init --recursive &&
		test_tick && git commit -q -m "add lib") &&
	mv inner inner.gone && mv lib lib.gone &&
	test_path_is_file repo/lib/inner/inner.c &&
	cat >plan <<-\EOF
	[plan]
		test = test -f lib/lib.c && test -f lib/inner/inner.c
	[workstream "a"]
		title = Move the submodule
		command = cd lib && echo more >>lib.c && git commit -qam lib-more && cd .. && git add lib && git commit -qm take-lib-more
	[workstream "b"]
		title = B
		depends = a
		command = echo b >b.txt && git add b.txt && git commit -qm b
	EOF
'

test_expect_success 'new worktrees have their submodules, recursively, with no fetch from their URLs' '
	(cd repo && git ws-alloc ../plan >/dev/null) &&
	for wt in repo-a repo-b
	do
		test_cmp repo/lib/lib.c $wt/lib/lib.c &&
		test_cmp repo/lib/inner/inner.c $wt/lib/inner/inner.c &&
		git -C $wt status --porcelain >st &&
		test_must_be_empty st || return 1
	done
'

test_expect_success 'a workstream that moves the submodule converges, merges and is tested' '
	(cd repo && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd repo && test "$(ws_state a status)" = merged &&
	 test "$(ws_state b status)" = merged) &&
	moved=$(git -C repo rev-parse main:lib) &&
	test "$moved" != "$(git -C repo rev-parse main~3:lib)" &&
	git -C repo/.git/modules/lib cat-file -e "$moved^{commit}" &&
	git -C repo/.git/modules/lib rev-parse --verify -q "refs/ws/submodule/$moved"
'

test_expect_success 'a worktree made after the move checks out the moved submodule commit' '
	cat >plan2 <<-\EOF &&
	[plan]
		name = later
		test = grep more lib/lib.c
	[workstream "c"]
		title = C
		command = echo c >c.txt && git add c.txt && git commit -qm c
	EOF
	(cd repo && git ws-clean --all >/dev/null 2>&1 && git ws-alloc ../plan2 >/dev/null) &&
	grep more repo-c/lib/lib.c
'

test_expect_success 'git ws-clean keeps a worktree whose submodule has uncommitted changes' '
	(cd repo && timeout 300 git ws-dispatch --loop >../out 2>&1 &&
	 test "$(ws_state c status)" = merged) &&
	echo local-edit >>repo-c/lib/inner/inner.c &&
	(cd repo && test_might_fail git ws-clean >../out 2>&1) &&
	grep "submodule .lib. has uncommitted changes" out &&
	test_path_is_file repo-c/lib/inner/inner.c &&
	grep local-edit repo-c/lib/inner/inner.c
'

test_done
