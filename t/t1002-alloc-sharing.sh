#!/bin/sh

test_description='git ws-alloc: shared worktrees and conflict risks'

. ./lib-ws.sh

SQ="'"

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF
	[plan]
		name = share
		base = main
	[workstream "api"]
		title = API server
		paths = src/api/*
	[workstream "client"]
		title = API client
		depends = api
		paths = src/api/client.c src/client/*
	[workstream "tests"]
		title = Integration tests
		depends = api
		worktree = api
		paths = t/*
	[workstream "docs"]
		title = Docs
		paths = docs/*
	[workstream "guide"]
		title = User guide
		paths = docs/guide.md
	[workstream "ui"]
		title = UI
		depends = api
		paths = src/ui/*
	[workstream "faq"]
		title = FAQ
		depends = ui
		paths = src/api/faq.c
	EOF
'

test_expect_success 'alloc --porcelain reports shares, reasons and risks' '
	(cd repo && git ws-alloc --porcelain ../plan >../out) &&
	grep "^share	" out | sort >actual &&
	cat >expect <<-\EOF &&
	share	client	api	overlap
	share	tests	api	worktree
	EOF
	test_cmp expect actual &&
	grep "^risk	" out >actual &&
	printf "risk\tdocs\tguide\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'only the owners get a worktree and a branch' '
	(cd repo && git worktree list --porcelain) >list &&
	grep "^worktree " list | sed "s,.*/,," | sort >actual &&
	cat >expect <<-\EOF &&
	repo
	repo-api
	repo-docs
	repo-faq
	repo-guide
	repo-ui
	EOF
	test_cmp expect actual &&
	test_path_is_missing repo-client &&
	test_path_is_missing repo-tests &&
	git -C repo for-each-ref --format="%(refname:short)" refs/heads | sort >actual &&
	cat >expect <<-\EOF &&
	feature/api-api-server
	feature/docs-docs
	feature/faq-faq
	feature/guide-user-guide
	feature/ui-ui
	main
	EOF
	test_cmp expect actual
'

test_expect_success 'the workstream records of a shared worktree name the owner' '
	(
		cd repo &&
		for id in client tests
		do
			test "$(ws_state $id worktree)" = "$(ws_state api worktree)" &&
			test "$(ws_state $id branch)" = feature/api-api-server || return 1
		done &&
		test "$(ws_state api worktree)" = "$(cd ../repo-api && pwd)" &&
		test "$(ws_state ui worktree)" = "$(cd ../repo-ui && pwd)" &&
		test "$(ws_state api status)" = ready &&
		test "$(ws_state client status)" = blocked &&
		test "$(ws_state client reason)" = "waiting for api to merge" &&
		test "$(ws_state faq reason)" = "waiting for ui to merge"
	)
'

test_expect_success 'the porcelain workstream records' '
	grep "^workstream	" out >records &&
	wt=$(cd repo-api && pwd) &&
	grep "^workstream	api	create	ready	feature/api-api-server	$wt	api$" records &&
	grep "^workstream	client	share	blocked	feature/api-api-server	$wt	api$" records &&
	grep "^workstream	tests	share	blocked	feature/api-api-server	$wt	api$" records &&
	grep "^workstream	faq	create	blocked	feature/faq-faq	.*/repo-faq	faq$" records &&
	test_line_count = 7 records
'

test_expect_success 'overlapping paths of an indirect dependency neither share nor risk' '
	! grep "	faq	api" out &&
	! grep "	api	faq" out &&
	! grep "^share	faq" out
'

test_expect_success 'the human output says who shares and why' '
	git -C repo ws-alloc -n ../plan >/dev/null &&
	rm -rf repo/.git/ws repo-* &&
	git -C repo worktree prune &&
	git -C repo for-each-ref --format="delete %(refname)" "refs/heads/feature/*" |
		git -C repo update-ref --stdin &&
	(cd repo && git ws-alloc ../plan >../human) &&
	grep "^  client .*(shares api${SQ}s worktree: paths overlap a dependency)" human &&
	grep "^  tests .*(shares api${SQ}s worktree: worktree =)" human &&
	grep "^conflict risk: ${SQ}docs${SQ} and ${SQ}guide${SQ} are independent but their paths overlap$" human &&
	! grep "^  api .*shares" human &&
	grep "5 new worktrees for 7 workstreams" human
'

test_expect_success 'a shared worktree is a real worktree on the shared branch' '
	(cd repo-api && git symbolic-ref HEAD) >actual &&
	echo refs/heads/feature/api-api-server >expect &&
	test_cmp expect actual &&
	(cd repo-api && git status --porcelain) >actual &&
	test_must_be_empty actual
'

test_expect_success 'the owner of an explicit share is its target, even listed later' '
	setup_repo later &&
	cat >plan2 <<-\EOF &&
	[workstream "b"]
		title = B
		worktree = a
	[workstream "a"]
		title = A
	EOF
	(cd later && git ws-alloc --porcelain ../plan2 >../out2) &&
	printf "share\tb\ta\tworktree\n" >expect &&
	grep "^share" out2 >actual &&
	test_cmp expect actual &&
	test_path_is_dir later-a &&
	test_path_is_missing later-b &&
	(cd later && test "$(ws_state b branch)" = feature/a-a)
'

test_done
