#!/bin/sh

test_description='git ws-merge: conflicts, contract owners, rename detection as git merge'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-merge.sh

test_expect_success 'setup' '
	git init -q repo &&
	(
		cd repo &&
		printf "base\n" >shared.txt &&
		mkdir api d &&
		printf "v0\n" >api/x.h &&
		printf "o0\n" >owned.txt &&
		printf "line %s\n" 1 2 3 4 5 6 7 8 9 >d/x &&
		git add . &&
		test_tick &&
		git commit -q -m initial
	) &&
	cat >plan <<-\EOF &&
	[plan]
		name = conflicts
		base = main
		command = true
		test = true
	[workstream "ws-1"]
		title = One
		contract = api/*
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
		depends = ws-2
	[workstream "ws-5"]
		title = Five
		contract = owned.txt
	[workstream "ws-6"]
		title = Six
	[workstream "ws-7"]
		title = Seven
	[workstream "ws-8"]
		title = Eight
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		work ws-1 shared.txt one &&
		work ws-1 api/x.h v1 &&
		work ws-2 shared.txt two &&
		work ws-3 three.txt &&
		work ws-4 four.txt &&
		work ws-5 owned.txt o5 &&
		work ws-6 api/x.h v6 &&
		work ws-6 six.txt &&
		(
			cd ../repo-ws-7 &&
			git mv d e &&
			sed s/5/five/ e/x >e/x.new && mv e/x.new e/x &&
			git add e/x &&
			test_tick &&
			git commit -q -m "ws-7 renames d to e"
		) &&
		work ws-8 d/new new
	)
'

test_expect_success 'a conflict sends the workstream back; the queue goes on' '
	(
		cd repo &&
		git rev-parse feature/ws-2-two >../ws2.before &&
		queue ws-1 ws-2 ws-4 ws-3 &&
		test_expect_code 1 git ws-merge >../out 2>../err &&
		test "$(ws_state ws-1 status)" = merged &&
		test "$(ws_state ws-3 status)" = merged &&
		test "$(ws_state ws-2 status)" = done &&
		test "$(ws_state ws-2 reason)" = "conflict: shared.txt (touched by ws-1)" &&
		test "$(ws_state ws-4 status)" = converged &&
		git config -f .git/ws/queue --get-all queue.item >../queue &&
		git log --first-parent --format=%s main >../log &&
		git rev-parse feature/ws-2-two >../ws2.after &&
		git status --porcelain >../st &&
		cat shared.txt >../shared
	) &&
	echo ws-4 >expect &&
	test_cmp expect queue &&
	printf "Merge ws-3: Three\nMerge ws-1: One\ninitial\n" >expect &&
	test_cmp expect log &&
	test_cmp ws2.before ws2.after &&
	test_must_be_empty st &&
	echo one >expect &&
	test_cmp expect shared &&
	grep "^ws-2: conflict: shared.txt (touched by ws-1); back to done" out &&
	grep "^ws-4: skipped, waiting for ws-2 (did not merge in this run); it stays queued" out
'

test_expect_success 'the report the next iteration reads says why and what to do' '
	grep "^FAIL  merge  conflict: shared.txt (touched by ws-1)" repo/.git/ws/reports/ws-2 &&
	grep "git merge main" repo/.git/ws/reports/ws-2
'

test_expect_success 'the conflicting branch and its worktree are untouched' '
	(cd repo-ws-2 && git status --porcelain >../st && cat shared.txt >../shared) &&
	test_must_be_empty st &&
	echo two >expect &&
	test_cmp expect shared &&
	test_path_is_missing repo/.git/MERGE_HEAD &&
	test_path_is_missing repo-ws-2/.git/MERGE_HEAD
'

test_expect_success '-n names the conflicting files and who touched them, exit 1' '
	(
		cd repo &&
		git config -f .git/ws/queue --add queue.item ws-2 &&
		ws_set_state ws-2 status converged &&
		test_expect_code 1 git ws-merge -n --porcelain >../out &&
		test_expect_code 1 git ws-merge -n >../human &&
		git config -f .git/ws/queue --unset queue.item ws-2 &&
		ws_set_state ws-2 status done
	) &&
	printf "conflict\tws-2\t\tconflict: shared.txt (touched by ws-1)\t\n" >expect &&
	grep "^conflict	ws-2" out >actual &&
	grep "^skipped	ws-4		ws-2 (would not merge)$" out &&
	test_cmp expect actual &&
	grep "^ws-2: would not merge: conflict: shared.txt (touched by ws-1)" human &&
	grep "^CONFLICT (content): Merge conflict in shared.txt" human
'

test_expect_success 'contract owners win their conflicts; the message says so' '
	(
		cd repo &&
		test_commit "main changes owned.txt" owned.txt omain &&
		# ws-4 leaves the queue as a send-back takes it out
		ws_set_state ws-4 status done &&
		queue ws-5 ws-6 &&
		git ws-merge >../out &&
		test "$(ws_state ws-5 status)" = merged &&
		test "$(ws_state ws-6 status)" = merged &&
		git show main:owned.txt >../owned &&
		git show main:api/x.h >../api &&
		git show main:six.txt >../six &&
		git log -1 --format=%B main~1 >../msg5 &&
		git log -1 --format=%B main >../msg6
	) &&
	echo o5 >expect && test_cmp expect owned &&
	echo v1 >expect && test_cmp expect api &&
	echo ws-6 >expect && test_cmp expect six &&
	grep "^Contracts: owned.txt; conflicts resolved for the owner: owned.txt (owned by ws-5: kept from feature/ws-5-five)$" msg5 &&
	grep "^Contracts: none; conflicts resolved for the owner: api/x.h (owned by ws-1: kept from main)$" msg6
'

test_expect_success 'a directory rename merges to the same tree as git merge' '
	rm -rf clone &&
	git clone -q repo clone &&
	(
		cd clone &&
		git merge -q --no-ff -m m origin/feature/ws-7-seven &&
		git rev-parse HEAD^{tree} >../expect
	) &&
	(
		cd repo &&
		queue ws-7 &&
		git ws-merge >../out &&
		test "$(ws_state ws-7 status)" = merged &&
		git rev-parse main^{tree} >../actual &&
		test_path_is_file e/x &&
		test_path_is_missing d/x
	) &&
	test_cmp expect actual
'

test_expect_success 'a file added in a renamed directory conflicts as with git merge' '
	(
		cd clone &&
		test_must_fail git merge --no-ff -m m origin/feature/ws-8-eight >../merge.out &&
		git ls-files -u | cut -f2 | sort -u >../git-conflicts &&
		git merge --abort
	) &&
	grep "CONFLICT (file location)" merge.out &&
	test -s git-conflicts &&
	(
		cd repo &&
		git rev-parse main >../main.before &&
		queue ws-8 &&
		test_expect_code 1 git ws-merge >../out &&
		ws_state ws-8 reason >../reason &&
		git rev-parse main >../main.after &&
		git status --porcelain >../st
	) &&
	test_cmp main.before main.after &&
	test_must_be_empty st &&
	echo "conflict: $(paste -s -d, git-conflicts | sed "s/,/, /g") (touched by ws-7)" >expect &&
	test_cmp expect reason
'

test_done
