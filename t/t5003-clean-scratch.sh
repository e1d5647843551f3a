#!/bin/sh

test_description='git ws-merge'"'"'s scratch worktree does not outlive its use'

. ./lib-ws.sh

test_expect_success 'setup: a plan of two workstreams whose merges are tested' '
	setup_repo &&
	mkdir bin &&
	PATH=$PWD/bin:$PATH &&
	write_script bin/agent <<-\EOF &&
	echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" &&
	git commit -q -m "$WS_ID work"
	EOF
	cat >p.plan <<-\EOF &&
	[plan]
		name = sp
		base = main
		command = agent
		test = test -f README
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
	(cd repo && git ws-alloc ../p.plan >/dev/null)
'

test_expect_success 'a merge that leaves work to do keeps the scratch worktree' '
	(
		cd repo &&
		git ws-dispatch a >/dev/null &&
		git ws-converge a >/dev/null &&
		git ws-merge >/dev/null
	) &&
	test_path_is_dir repo/.git/ws/scratch &&
	git -C repo worktree list >list &&
	grep "ws/scratch" list
'

test_expect_success 'the merge of the plan'"'"'s last workstream removes it' '
	(
		cd repo &&
		git ws-dispatch b >/dev/null &&
		git ws-converge b >/dev/null &&
		git ws-merge >/dev/null
	) &&
	echo merged >expect &&
	(cd repo && ws_state b status >../actual) &&
	test_cmp expect actual &&
	test_path_is_missing repo/.git/ws/scratch &&
	git -C repo worktree list >list &&
	! grep "ws/scratch" list
'

test_expect_success 'setup: a scratch worktree left behind, nothing queued' '
	git -C repo worktree add -q --detach .git/ws/scratch main &&
	test_path_is_dir repo/.git/ws/scratch
'

test_expect_success 'git ws-clean -n says it would remove it, and keeps it' '
	(cd repo && git ws-clean -n >../out 2>&1) &&
	grep "ws/scratch" out &&
	test_path_is_dir repo/.git/ws/scratch
'

test_expect_success 'a plain git ws-clean removes it once nothing is queued' '
	(cd repo && git ws-clean >../out 2>&1) &&
	test_path_is_missing repo/.git/ws/scratch &&
	git -C repo worktree list >list &&
	! grep "ws/scratch" list
'

test_expect_success 'a plain git ws-clean keeps it while git ws-merge runs' '
	git -C repo worktree add -q --detach .git/ws/scratch main &&
	# git ws-merge holds merge.lock while it runs
	flock repo/.git/ws/merge.lock sh -c "cd repo && git ws-clean >../out 2>&1" &&
	test_path_is_dir repo/.git/ws/scratch &&
	! grep "ws/scratch" out &&
	(cd repo && git ws-clean --porcelain >../out) &&
	printf "remove-scratch\t%s\n" "$PWD/repo/.git/ws/scratch" >expect &&
	test_cmp expect out &&
	test_path_is_missing repo/.git/ws/scratch
'

test_expect_success 'a plain git ws-clean keeps it while a workstream is queued' '
	setup_repo r2 &&
	sed "s/name = sp/name = sp2/" p.plan >p2.plan &&
	(
		cd r2 &&
		git ws-alloc ../p2.plan >/dev/null &&
		git ws-dispatch a >/dev/null &&
		git ws-converge a >/dev/null &&
		git worktree add -q --detach .git/ws/scratch main &&
		git ws-clean >../out 2>&1
	) &&
	test_path_is_dir r2/.git/ws/scratch
'

test_expect_success 'a whole plan and a plain clean leave no scratch worktree' '
	setup_repo r3 &&
	sed "s/name = sp/name = sp3/" p.plan >p3.plan &&
	(
		cd r3 &&
		git ws-alloc ../p3.plan >/dev/null &&
		git ws-dispatch --loop >/dev/null 2>&1 &&
		git ws-clean >/dev/null 2>&1 &&
		git worktree list >../list
	) &&
	! grep "ws/scratch" list &&
	test_line_count = 1 list
'

test_expect_success 'a plan that grows has git ws-merge make it again, and drop it again' '
	setup_repo r4 &&
	write_script bin/gate <<-EOF &&
	test -f README && pwd >>"$PWD/tested"
	EOF
	cat >p4.plan <<-\EOF &&
	[plan]
		name = sp4
		base = main
		command = agent
		test = gate
	[workstream "a"]
		title = A
	EOF
	cp p4.plan p4b.plan &&
	cat >>p4b.plan <<-\EOF &&
	[workstream "c"]
		title = C
	EOF
	(
		cd r4 &&
		git ws-alloc ../p4.plan >/dev/null &&
		git ws-dispatch a >/dev/null &&
		git ws-converge a >/dev/null &&
		git ws-merge >/dev/null &&
		test_path_is_missing .git/ws/scratch &&
		git ws-alloc ../p4b.plan >/dev/null &&
		git ws-dispatch c >/dev/null &&
		git ws-converge c >/dev/null &&
		git ws-merge >/dev/null &&
		ws_state c status >../actual
	) &&
	echo merged >expect &&
	test_cmp expect actual &&
	test $(grep -c "/ws/scratch\$" tested) = 2 &&
	test_path_is_missing r4/.git/ws/scratch &&
	git -C r4 worktree list >list &&
	! grep "ws/scratch" list
'

test_done
