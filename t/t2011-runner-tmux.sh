#!/bin/sh

test_description='runner = tmux: commands run in windows of the session ws-<plan>'

. ./lib-ws.sh

if ! command -v tmux >/dev/null 2>&1
then
	if test -n "$GIT_WS_TEST_REQUIRE_TMUX"
	then
		echo "error: tmux is required here (GIT_WS_TEST_REQUIRE_TMUX) but missing" >&2
		exit 1
	fi
	skip_all='skipping the tmux runner tests: tmux is not installed (Debian: apt-get install tmux)'
	test_done
fi

# A tmux server of the tests' own, on a private socket (a short path: a
# socket's path has a length limit), never the user's: TMUX unset, and
# TMUX_TMPDIR there too, so that even a bare `tmux` finds no other one.
TMUX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ws-tmux.XXXXXX") || exit 1
SOCK=$TMUX_DIR/sock
GIT_WS_TMUX_SOCKET=$SOCK
TMUX_TMPDIR=$TMUX_DIR
export GIT_WS_TMUX_SOCKET TMUX_TMPDIR
unset TMUX TMUX_PANE

t () {
	tmux -S "$SOCK" "$@"
}

# Stop the server by its socket, and by the pid it gave when it ran.
stop_server () {
	test -f server.pid || t display -p "#{pid}" >server.pid 2>/dev/null ||
		rm -f server.pid
	if test -f server.pid
	then
		t kill-server 2>/dev/null
		kill -9 "$(cat server.pid)" 2>/dev/null
		rm -f server.pid
	fi
	return 0
}

# Record the pid of the server once it runs (the first window starts it).
record_server () {
	wait_for "t has-session 2>/dev/null" &&
	t display -p "#{pid}" >server.pid
}

# gone <pid>: the process has ended (a zombie that init has not reaped
# yet counts as ended: it runs nothing).
gone () {
	! kill -0 "$1" 2>/dev/null || grep -q "^$1 (.*) Z" /proc/$1/stat
}

cleanup_all () {
	stop_server
	rm -rf "$TMUX_DIR"
}

RUNNER_OUT=$PWD
export RUNNER_OUT

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = demo.1
		base = main
		runner = tmux
		command = "echo hello from $WS_ID; printf %s \"$TMUX_PANE\" >pane; echo $GIT_WS_CANARY >canary; echo ${WS_LEAK-none} >leak; exit 0"
		timeout = 3s
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		command = "echo running $WS_ID; echo $$ >../b.pid; while ! test -f ../release-b; do sleep 0.1; done"
	[workstream "c"]
		title = C
		command = "echo failing; exit 3"
	[workstream "d"]
		title = D
		command = "echo $$ >../d.pid; sleep 100"
	[workstream "e"]
		title = E
		command = "echo $$ >../e.pid; sleep 100"
		timeout = 0s
	[workstream "f"]
		title = F
		command = "echo $$ >../f.pid; while ! test -f ../release-f; do sleep 0.1; done"
		timeout = 0s
	[workstream "g"]
		title = G
		command = "sleep 100"
		timeout = 0s
	[workstream "i"]
		title = I
		command = "echo $$ >../i.pid; sleep 100"
		timeout = 0s
	[workstream "h"]
		title = H
		command = "echo h >h.txt && git add h.txt && git commit -qm h"
		test = "printf \"%s\\n\" \"$TMUX_PANE\" >>\"$RUNNER_OUT/h.test-panes\"; echo tested"
		setup = "printf %s \"$TMUX_PANE\" >\"$RUNNER_OUT/h.setup-pane\""
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null) &&
	stop_server
'

test_expect_success 'setup runs in tmux' '
	grep "^%[0-9]" h.setup-pane
'

test_expect_success 'a command runs in tmux to done, with our environment only, its output in the log' '
	test_when_finished stop_server &&
	# a server whose environment has what ours has not
	WS_LEAK=leaked t new-session -d -s other "sleep 100" &&
	record_server &&
	(cd repo && GIT_WS_CANARY=sung git ws-dispatch a >../out 2>&1) &&
	test "$(cat repo-a/leak)" = none &&
	(cd repo && test "$(ws_state a status)" = done) &&
	grep "^hello from a" repo/.git/ws/logs/a.log &&
	grep "^=== git ws-dispatch: a attempt 1 ended .*: exit status 0 (done)" repo/.git/ws/logs/a.log &&
	# it ran in a pane, and saw our environment
	grep "^%[0-9]" repo-a/pane &&
	test "$(cat repo-a/canary)" = sung &&
	(cd repo && test "$(ws_state a runner)" = tmux) &&
	(cd repo && test "$(ws_state a tmux-target)" = ws-demo_1:a) &&
	# the environment file, which may hold secrets, is gone
	test_path_is_missing repo/.git/ws/runner/a.command/env
'

test_expect_success 'while it runs: capture-pane shows its output; status shows how to attach' '
	test_when_finished "touch release-b; stop_server" &&
	(cd repo && git ws-dispatch b >../out 2>&1) &
	wait_for "test -f b.pid" &&
	record_server &&
	wait_for "t capture-pane -p -t ws-demo_1:b | grep \"^running b\"" &&
	(cd repo && git ws-status >../status && git ws-status --porcelain b >../porc) &&
	grep "^b: running on tmux: tmux -S .* attach -t ws-demo_1:b$" status &&
	printf "tmux\t\t\tws-demo_1:b\n" >expect &&
	cut -f11- porc >actual &&
	test_cmp expect actual &&
	touch release-b &&
	wait &&
	(cd repo && test "$(ws_state b status)" = done)
'

test_expect_success 'exit status 3 fails the attempt with exit status 3' '
	test_when_finished stop_server &&
	(cd repo && test_expect_code 1 git ws-dispatch --retries 0 c >../out 2>&1) &&
	(cd repo && ws_state c reason) >reason &&
	grep "^exit status 3; see " reason &&
	grep "^failing" repo/.git/ws/logs/c.log
'

test_expect_success 'the timeout kills the window'"'"'s process group' '
	test_when_finished stop_server &&
	(cd repo && test_expect_code 1 git ws-dispatch --retries 0 d >../out 2>&1) &&
	(cd repo && ws_state d reason) >reason &&
	grep "^timed out after 3s" reason &&
	pid=$(cat d.pid) &&
	gone $pid &&
	! t list-windows -t ws-demo_1 2>/dev/null | grep " d"
'

test_expect_success 'SIGTERM to the dispatcher leaves nothing running' '
	test_when_finished stop_server &&
	(cd repo && exec git-ws-dispatch e >../out 2>&1) &
	disp=$! &&
	wait_for "test -s e.pid" &&
	record_server &&
	pid=$(cat e.pid) &&
	kill -0 $pid &&
	kill -TERM $disp &&
	test_expect_code 130 wait $disp &&
	wait_for "gone $pid" &&
	(cd repo && ws_state e reason) >reason &&
	grep "^interrupted" reason &&
	! t list-windows -t ws-demo_1 2>/dev/null | grep " e"
'

test_expect_success 'Ctrl-C (SIGINT) to the dispatcher leaves nothing running' '
	test_when_finished stop_server &&
	# a background job ignores SIGINT; perl puts its default back
	(cd repo && exec perl -e "\$SIG{INT} = q(DEFAULT); exec @ARGV" \
		git-ws-dispatch i >../out 2>&1) &
	disp=$! &&
	wait_for "test -s i.pid" &&
	record_server &&
	pid=$(cat i.pid) &&
	kill -0 $pid &&
	kill -INT $disp &&
	test_expect_code 130 wait $disp &&
	wait_for "gone $pid" &&
	(cd repo && ws_state i reason) >reason &&
	grep "^interrupted" reason &&
	! t list-windows -t ws-demo_1 2>/dev/null | grep " i"
'

test_expect_success 'a window killed from outside fails the attempt, never hangs' '
	test_when_finished stop_server &&
	(cd repo && git ws-dispatch --retries 0 g >../out 2>&1) &
	disp=$! &&
	wait_for "t list-windows -t ws-demo_1 2>/dev/null | grep \" g\"" &&
	t kill-window -t ws-demo_1:g &&
	test_expect_code 1 wait $disp &&
	(cd repo && ws_state g reason) >reason &&
	grep "^killed by signal 1" reason
'

test_expect_success '--detach: the session outlives the dispatcher' '
	test_when_finished "touch release-f; stop_server" &&
	(cd repo && git ws-dispatch --detach f >../out 2>&1) &&
	wait_for "test -s f.pid" &&
	record_server &&
	t has-session -t ws-demo_1 &&
	t list-windows -t ws-demo_1 -F "#{window_name}" >windows &&
	grep "^f$" windows &&
	touch release-f &&
	wait_for "(cd repo && test \"\$(ws_state f status)\" = done)"
'

test_expect_success 'the gates run through tmux too (gate-runner defaults to runner)' '
	test_when_finished stop_server &&
	(cd repo && git ws-dispatch h >../out 2>&1) &&
	(cd repo && git ws-converge h >../out 2>&1) &&
	grep "^%[0-9]" h.test-panes &&
	grep "^tested" repo/.git/ws/logs/h.test.log &&
	ls repo/.git/ws/runner >runner-dirs-before-merge
'

test_expect_success 'git ws-merge tests the merge result in tmux too' '
	test_when_finished stop_server &&
	(cd repo && git ws-merge >../out 2>&1) &&
	(cd repo && test "$(ws_state h status)" = merged) &&
	test_line_count = 2 h.test-panes &&
	test $(grep -c "^%[0-9]" h.test-panes) = 2
'

test_expect_success 'a merged workstream'"'"'s runner directories go with its records' '
	grep "^h\.command$" runner-dirs-before-merge &&
	grep "^h\.test$" runner-dirs-before-merge &&
	ls repo/.git/ws/runner >after &&
	! grep "^h\." after &&
	grep -v "^h\." runner-dirs-before-merge >others &&
	test_cmp others after
'

test_expect_success 'cleanup' '
	cleanup_all
'

test_done
