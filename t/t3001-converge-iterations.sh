#!/bin/sh

test_description='git ws-converge: the iteration cap, --commit, --no-tests, the default workstreams'

. ./lib-ws.sh

# write_done <id> [<status>]: the done file a dispatch would leave.
write_done () {
	printf '{"status":"%s","timestamp":"2005-04-01T00:00:00Z","workstream_id":"%s","summary":""}\n' \
		"${2:-success}" "$1" >"repo/.git/ws/coordination/$1.done"
}

set_done () {
	(cd repo && ws_set_state "$1" status done) &&
	write_done "$1"
}

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = iter
		base = main
		command = true
		test = echo tested >>../runs
		max-iterations = 2
	[workstream "ws-a"]
		title = "Say \"hi\"; $(touch pwned) `x`"
	[workstream "ws-b"]
		title = Capped by the plan
	[workstream "ws-c"]
		title = Capped by the option
	[workstream "ws-d"]
		title = Shares ws-a
		depends = ws-a
		worktree = ws-a
	[workstream "ws-e"]
		title = Own cap
		max-iterations = 1
	EOF
	(cd repo && git ws-alloc ../plan) &&
	for id in ws-b ws-c ws-e
	do
		(cd repo-$id && test_commit "$id" "$id.txt" "TODO: finish") &&
		set_done $id || return 1
	done
'

test_expect_success 'a failure below the cap: done, iterations 1, reason' '
	test_expect_code 1 git -C repo ws-converge ws-b >out &&
	grep "not converged (iteration 1 of 2)" out &&
	(
		cd repo &&
		test "$(ws_state ws-b status)" = done &&
		test "$(ws_state ws-b iterations)" = 1 &&
		ws_state ws-b reason >../reason
	) &&
	grep "^gate .todo. failed: " reason &&
	grep "then run .git ws-converge ws-b. again (1 of 2 iterations used)" out
'

test_expect_success 'at the cap (plan max-iterations = 2): failed, with the reason' '
	test_expect_code 1 git -C repo ws-converge ws-b >out &&
	grep ": failed after 2 of 2 iterations$" out &&
	grep "It needs a person now" out &&
	grep "git ws-dispatch --retry ws-b" out &&
	(
		cd repo &&
		test "$(ws_state ws-b status)" = failed &&
		test "$(ws_state ws-b iterations)" = 2 &&
		ws_state ws-b reason >../reason
	) &&
	echo "did not converge after 2 iterations: todo" >expect &&
	test_cmp expect reason
'

test_expect_success 'a person fixes a failed workstream by hand and converges it by id' '
	(
		cd repo-ws-b &&
		echo "finished" >ws-b.txt &&
		git commit -q -a -m finish
	) &&
	git -C repo ws-converge ws-b >out &&
	grep ": converged$" out &&
	test "$(cd repo && ws_state ws-b status)" = converged
'

test_expect_success '--max-iterations overrides the plan' '
	test_expect_code 1 git -C repo ws-converge --max-iterations 1 ws-c >out &&
	(
		cd repo &&
		test "$(ws_state ws-c status)" = failed &&
		ws_state ws-c reason >../reason
	) &&
	echo "did not converge after 1 iteration: todo" >expect &&
	test_cmp expect reason
'

test_expect_success 'a workstream max-iterations overrides the plan' '
	test_expect_code 1 git -C repo ws-converge ws-e &&
	test "$(cd repo && ws_state ws-e status)" = failed
'

test_expect_success 'a failed workstream is not converged by default' '
	git -C repo ws-converge >out &&
	grep "Nothing to converge" out &&
	test "$(cd repo && ws_state ws-c status)" = failed &&
	test "$(cd repo && ws_state ws-e status)" = failed
'

test_expect_success 'a converged workstream that fails again leaves the queue' '
	(cd repo && ws_set_state ws-e iterations 0) &&
	(cd repo-ws-e && echo done >ws-e.txt && git commit -q -a -m fix) &&
	set_done ws-e &&
	git -C repo ws-converge --max-iterations 5 ws-e &&
	git -C repo config -f .git/ws/queue --get-all queue.item >queue &&
	grep "^ws-e$" queue &&
	(cd repo-ws-e && echo "FIXME" >>ws-e.txt && git commit -q -a -m again) &&
	test_expect_code 1 git -C repo ws-converge --max-iterations 5 ws-e &&
	test "$(cd repo && ws_state ws-e status)" = done &&
	git -C repo config -f .git/ws/queue --get-all queue.item >queue &&
	! grep "^ws-e$" queue
'

test_expect_success '--commit commits everything first, then the gates pass' '
	set_done ws-a &&
	(
		cd repo-ws-a &&
		echo new >new.txt &&
		mkdir -p src &&
		echo code >src/code.c &&
		echo more >>README
	) &&
	git -C repo ws-converge --commit ws-a >out &&
	grep "clean      no uncommitted or untracked changes (--commit committed 3 files as [0-9a-f]\{7\})" out &&
	git -C repo-ws-a status --porcelain >status &&
	test_must_be_empty status &&
	git -C repo-ws-a log -1 --format=%s >subject &&
	printf "%s\n" "ws-a: Say \"hi\"; \$(touch pwned) \`x\`" >expect &&
	test_cmp expect subject &&
	test_path_is_missing repo-ws-a/pwned &&
	test_path_is_missing pwned &&
	git -C repo-ws-a log -1 --format=%b >body &&
	grep "dispatch, clean, commits, deps, mergeable, markers, todo" body &&
	grep "tests (echo tested >>../runs)" body &&
	git -C repo-ws-a show --stat --format= HEAD >stat &&
	grep new.txt stat &&
	grep src/code.c stat &&
	grep README stat &&
	test "$(cd repo && ws_state ws-a status)" = converged
'

test_expect_success '--commit with a clean worktree commits nothing' '
	set_done ws-a &&
	git -C repo-ws-a rev-parse HEAD >before &&
	git -C repo ws-converge --commit ws-a >out &&
	git -C repo-ws-a rev-parse HEAD >after &&
	test_cmp before after &&
	grep "clean      no uncommitted or untracked changes$" out
'

test_expect_success '--no-tests skips the test command and says so' '
	set_done ws-a &&
	rm -f runs &&
	git -C repo ws-converge --no-tests --porcelain ws-a >out &&
	grep "^ws-a	tests	SKIP	not run: --no-tests$" out &&
	test_path_is_missing runs &&
	test "$(cd repo && ws_state ws-a status)" = converged
'

test_expect_success 'from a workstream worktree, no id converges the workstreams there' '
	set_done ws-a &&
	set_done ws-c &&
	(cd repo && ws_set_state ws-c iterations 0 && ws_set_state ws-c status done) &&
	(cd repo-ws-a && git ws-converge --porcelain >../out) &&
	cut -f1 out | sort -u >ids &&
	echo ws-a >expect &&
	test_cmp expect ids &&
	test "$(cd repo && ws_state ws-a status)" = converged &&
	test "$(cd repo && ws_state ws-c status)" = done
'

test_expect_success 'from a subdirectory of that worktree too; a blocked sharer is left alone' '
	set_done ws-a &&
	test "$(cd repo && ws_state ws-d status)" = blocked &&
	mkdir -p repo-ws-a/src &&
	(cd repo-ws-a/src && git ws-converge --porcelain >../../out) &&
	cut -f1 out | sort -u >ids &&
	echo ws-a >expect &&
	test_cmp expect ids &&
	test "$(cd repo && ws_state ws-d iterations)" = 0
'

test_expect_success 'from the main worktree, no id converges every done workstream' '
	set_done ws-a &&
	(cd repo && ws_set_state ws-c status done) &&
	test_expect_code 1 git -C repo ws-converge --porcelain >out &&
	cut -f1 out | sort -u >ids &&
	printf "ws-a\nws-c\nws-e\n" >expect &&
	test_cmp expect ids
'

test_expect_success 'a worktree whose workstreams cannot converge: exit 1 with a hint' '
	(cd repo && ws_set_state ws-e status merged) &&
	(cd repo-ws-e && test_expect_code 1 git ws-converge 2>../err) &&
	grep "no workstream of this worktree is ready to converge" err &&
	grep "^hint: " err
'

test_expect_success 'a merged workstream named explicitly is an error' '
	test_expect_code 128 git -C repo ws-converge ws-e 2>err &&
	grep "already merged" err
'

test_expect_success 'the SYNOPSIS of the man page is the usage line' '
	git ws-converge -h >help &&
	sed -n "s/^usage: //p" help >usage &&
	sed -n "/^SYNOPSIS/,/^DESCRIPTION/p" "$WS_SOURCE_DIR/Documentation/git-ws-converge.adoc" |
		sed -n "s/^\(git ws-converge .*\)/\1/p" >synopsis &&
	test_cmp usage synopsis &&
	for opt in $(grep -o -- "--[a-z-]*" usage | sort -u)
	do
		grep -- "^$opt" "$WS_SOURCE_DIR/Documentation/git-ws-converge.adoc" >/dev/null ||
		{ echo "$opt is not documented"; return 1; }
	done
'

test_done
