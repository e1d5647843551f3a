#!/bin/sh

test_description='git ws-converge: timeouts, the test cache, the queue order, converges at once'

. ./lib-ws.sh

write_done () {
	printf '{"status":"success","timestamp":"2005-04-01T00:00:00Z","workstream_id":"%s","summary":""}\n' \
		"$1" >"repo/.git/ws/coordination/$1.done"
}

set_done () {
	(cd repo && ws_set_state "$1" status done) &&
	write_done "$1"
}

# gone <pid>: the process is gone (or a zombie) within 5 s
gone () {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
	do
		state=$(ps -o stat= -p "$1") || return 0
		case "$state" in Z*) return 0 ;; esac
		sleep 0.25
	done
	echo "process $1 is still running: $state"
	return 1
}

queue_items () {
	git -C repo config -f .git/ws/queue --get-all queue.item
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir bin &&
	write_script bin/count <<-\EOF &&
	echo "$WS_GATE $(git rev-parse HEAD^{tree})" >>../runs.$WS_ID
	EOF
	write_script bin/hang <<-\EOF &&
	sleep 60 &
	echo $! >../hang.pid
	wait
	EOF
	write_script bin/slow <<-\EOF &&
	# both run their tests at the same time, or neither passes
	echo start >>../slow.$WS_ID
	for i in $(seq 1 100)
	do
		test -f ../slow.ws-a && test -f ../slow.ws-b && exit 0
		sleep 0.1
	done
	exit 1
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = runs
		base = main
		command = true
		test = ../bin/count
		check = ../bin/count
		max-iterations = 10
	[workstream "ws-hang"]
		title = Hangs
		test = ../bin/hang
		timeout = 2s
	[workstream "ws-cache"]
		title = Cached
	[workstream "ws-a"]
		title = A
		test = ../bin/slow
		check =
	[workstream "ws-b"]
		title = B
		test = ../bin/slow
		check =
	[workstream "ws-c"]
		title = C
	[workstream "ws-d"]
		title = Needs A
		depends = ws-a
	EOF
	(cd repo && git ws-alloc ../plan) &&
	for id in ws-hang ws-cache ws-a ws-b ws-c ws-d
	do
		(cd repo-$id && test_commit "$id" "$id.txt") &&
		set_done $id || return 1
	done
'

test_expect_success 'a test command that hangs is killed after the timeout, group and all' '
	start=$(date +%s) &&
	test_expect_code 1 git -C repo ws-converge --porcelain ws-hang >out &&
	end=$(date +%s) &&
	test $((end - start)) -lt 20 &&
	grep "^ws-hang	tests	FAIL	../bin/hang: timed out after 2 s$" out &&
	grep "^ws-hang	check-1	SKIP	not run: tests failed$" out &&
	pid=$(cat hang.pid) &&
	gone "$pid" &&
	grep "^# killed after the timeout of 2 s" repo/.git/ws/logs/ws-hang.test.log &&
	(cd repo && ws_state ws-hang reason) >reason &&
	grep "^gate .tests. failed: ../bin/hang: timed out after 2 s$" reason
'

# The test command runs in a process group of its own, out of reach of
# the terminal's Ctrl-C: git ws-converge passes a fatal signal on to it.
test_expect_success 'git ws-converge stopped by a signal stops the test command it runs' '
	rm -f hang.pid &&
	{ git -C repo ws-converge --porcelain ws-hang >out 2>err & } &&
	conv=$! &&
	i=0 &&
	while ! test -s hang.pid && test $i -lt 100
	do
		sleep 0.05
		i=$((i + 1))
	done &&
	test $i -lt 100 &&
	kill -TERM $conv &&
	{ wait $conv; test $? = 143; } &&
	gone "$(cat hang.pid)"
'

test_expect_success 'first converge runs the tests and checks and records the tree' '
	git -C repo ws-converge --porcelain ws-cache >out &&
	test_line_count = 2 runs.ws-cache &&
	grep "^ws-cache	tests	PASS	../bin/count (" out &&
	tree=$(git -C repo-ws-cache rev-parse HEAD^{tree}) &&
	test "$(cd repo && ws_state ws-cache tested-tree)" = "$tree" &&
	(cd repo && ws_state ws-cache tested-commands) >commands &&
	grep "^[0-9a-f]\{40\}$" commands
'

test_expect_success 'the same tree again: the tests are not run, the report says so' '
	set_done ws-cache &&
	git -C repo ws-converge ws-cache >out &&
	test_line_count = 2 runs.ws-cache &&
	tree=$(git -C repo-ws-cache rev-parse --short=7 HEAD^{tree}) &&
	grep "^PASS  tests      cached: tree $tree unchanged$" out &&
	grep "^PASS  check-1    cached: tree $tree unchanged$" out &&
	test "$(cd repo && ws_state ws-cache status)" = converged
'

test_expect_success 'a new commit with the same tree is still cached' '
	set_done ws-cache &&
	(cd repo-ws-cache && test_tick && git commit -q --allow-empty -m empty) &&
	git -C repo ws-converge --porcelain ws-cache >out &&
	test_line_count = 2 runs.ws-cache &&
	grep "tests	PASS	cached: tree" out
'

test_expect_success 'a changed tree runs them again' '
	set_done ws-cache &&
	(cd repo-ws-cache && test_commit more more.txt) &&
	git -C repo ws-converge --porcelain ws-cache >out &&
	test_line_count = 4 runs.ws-cache &&
	tree=$(git -C repo-ws-cache rev-parse HEAD^{tree}) &&
	grep "tests $tree" runs.ws-cache &&
	test "$(cd repo && ws_state ws-cache tested-tree)" = "$tree" &&
	! grep cached out
'

test_expect_success 'changed gate commands run them again' '
	set_done ws-cache &&
	git -C repo config -f .git/ws/plan --add workstream.ws-cache.check ../bin/count &&
	git -C repo config -f .git/ws/plan --add workstream.ws-cache.check ../bin/count &&
	git -C repo ws-converge --porcelain ws-cache >out &&
	test_line_count = 7 runs.ws-cache &&
	grep "^ws-cache	check-2	PASS	../bin/count (" out
'

test_expect_success 'a failed run is not cached' '
	set_done ws-cache &&
	(cd repo-ws-cache && test_commit broken broken.txt) &&
	git -C repo config -f .git/ws/plan workstream.ws-cache.test false &&
	test_expect_code 1 git -C repo ws-converge ws-cache &&
	test_expect_code 1 git -C repo ws-converge --porcelain ws-cache >out &&
	grep "tests	FAIL	false: exit 1" out &&
	tree=$(git -C repo-ws-cache rev-parse HEAD~1^{tree}) &&
	test "$(cd repo && ws_state ws-cache tested-tree)" = "$tree"
'

test_expect_success 'two converges at once, from two worktrees: gates run together, both recorded' '
	rm -f slow.ws-a slow.ws-b &&
	{ (cd repo-ws-a && git ws-converge >../out.a 2>&1; echo $? >../rc.a) & } &&
	pid_a=$! &&
	{ (cd repo-ws-b && git ws-converge >../out.b 2>&1; echo $? >../rc.b) & } &&
	pid_b=$! &&
	wait $pid_a $pid_b &&
	echo 0 >expect &&
	test_cmp expect rc.a &&
	test_cmp expect rc.b &&
	test_path_is_file slow.ws-a &&
	test_path_is_file slow.ws-b &&
	(
		cd repo &&
		test "$(ws_state ws-a status)" = converged &&
		test "$(ws_state ws-b status)" = converged &&
		test -n "$(ws_state ws-a tested-tree)" &&
		test -n "$(ws_state ws-b tested-tree)"
	) &&
	queue_items | grep -v ws-cache | sort >queue &&
	printf "ws-a\nws-b\n" >expect &&
	test_cmp expect queue
'

test_expect_success 'the queue is in the order workstreams converge' '
	git -C repo config -f .git/ws/queue --unset-all queue.item &&
	(cd repo && ws_set_state ws-cache status done && ws_set_state ws-cache iterations 0) &&
	git -C repo config -f .git/ws/plan workstream.ws-cache.test ../bin/count &&
	(cd repo-ws-cache && git reset -q --hard HEAD~1) &&
	set_done ws-a &&
	set_done ws-b &&
	git -C repo ws-converge ws-c >/dev/null &&
	git -C repo ws-converge ws-b >/dev/null &&
	test_expect_code 1 git -C repo ws-converge >out &&
	queue_items >queue &&
	printf "ws-c\nws-b\nws-cache\nws-a\n" >expect &&
	test_cmp expect queue &&
	test "$(cd repo && ws_state ws-d status)" = done &&
	grep "deps       not merged yet: ws-a (converged)" out
'

test_done
