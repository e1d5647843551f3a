#!/bin/sh

test_description='choosing the runner: plan key, workstream override, ws.runner, gate-runner'

. ./lib-ws.sh

# The commands say where they ran: a tmux pane has $TMUX_PANE.
if command -v tmux >/dev/null 2>&1
then
	test_set_prereq TMUX
elif test -n "$GIT_WS_TEST_REQUIRE_TMUX"
then
	echo "error: tmux is required here (GIT_WS_TEST_REQUIRE_TMUX) but missing" >&2
	exit 1
else
	say "tmux is not installed (Debian: apt-get install tmux): the tests that run on it are skipped"
fi

# A private tmux server, never the user's (see t2011).
TMUX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ws-tmux.XXXXXX") || exit 1
GIT_WS_TMUX_SOCKET=$TMUX_DIR/sock
TMUX_TMPDIR=$TMUX_DIR
export GIT_WS_TMUX_SOCKET TMUX_TMPDIR
unset TMUX TMUX_PANE

stop_server () {
	if tmux -S "$GIT_WS_TMUX_SOCKET" display -p "#{pid}" >server.pid 2>/dev/null
	then
		tmux -S "$GIT_WS_TMUX_SOCKET" kill-server 2>/dev/null
		kill -9 "$(cat server.pid)" 2>/dev/null
	fi
	return 0
}

SQ="'"

# where <id>: "tmux" or "local", from what the command of <id> wrote.
where () {
	if test -s "where.$1"; then echo tmux; else echo local; fi
}

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = sel
		base = main
		runner = tmux
		command = "printf %s \"$TMUX_PANE\" >../where.$WS_ID"
		test = "printf %s \"$TMUX_PANE\" >../gate.$WS_ID"
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		runner = local
	[workstream "c"]
		title = C
		gate-runner = local
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null) &&
	cat >plain <<-\EOF &&
	[plan]
		name = plain
		base = main
		command = "printf %s \"$TMUX_PANE\" >../where.$WS_ID"
	[workstream "p"]
		title = P
	[workstream "q"]
		title = Q
		runner = local
	[workstream "r"]
		title = R
	EOF
	setup_repo other &&
	(cd other && git ws-alloc ../plain >/dev/null)
'

test_expect_success 'an unknown runner is a plan error naming file, line and key' '
	printf "[plan]\n\tname = x\n\trunner = docker\n[workstream \"a\"]\n\ttitle = A\n" >bad.plan &&
	setup_repo badrepo &&
	(cd badrepo && test_expect_code 128 git ws-alloc ../bad.plan 2>../err) &&
	grep "^fatal: \.\./bad\.plan:3: bad runner ${SQ}docker${SQ} (expected one of local, tmux, srun, ssh)$" err &&
	printf "[plan]\n\tname = x\n[workstream \"a\"]\n\ttitle = A\n\tgate-runner = tmux2\n" >bad.plan &&
	(cd badrepo && test_expect_code 128 git ws-alloc ../bad.plan 2>../err) &&
	grep "^fatal: \.\./bad\.plan:5: bad gate-runner ${SQ}tmux2${SQ}" err &&
	test_path_is_missing badrepo/.git/ws/state
'

test_expect_success 'a bad ws.runner is fatal, and names the config key' '
	(cd other && test_expect_code 128 git -c ws.runner=docker ws-dispatch p 2>../err) &&
	grep "bad ws.runner ${SQ}docker${SQ} in git config (expected one of local, tmux, srun, ssh)" err &&
	(cd other && test "$(ws_state p status)" = ready)
'

test_expect_success TMUX 'the plan key runs it in tmux; a workstream may override it' '
	test_when_finished stop_server &&
	(cd repo && git ws-dispatch a b >../out 2>&1) &&
	test "$(where a)" = tmux &&
	test "$(where b)" = local &&
	(cd repo && test "$(ws_state a runner)" = tmux) &&
	(cd repo && test_must_fail ws_state b runner)
'

test_expect_success TMUX 'gate-runner defaults to the runner, and may send the gates elsewhere' '
	test_when_finished stop_server &&
	(cd repo && git ws-dispatch c >../out 2>&1) &&
	test "$(where c)" = tmux &&
	for id in a c
	do
		(cd repo-$id && git commit -q --allow-empty -m "work of $id") || return 1
	done &&
	(cd repo && git ws-converge a c >../out 2>&1) &&
	test -s gate.a &&
	test_path_is_file gate.c &&
	test_must_be_empty gate.c
'

test_expect_success TMUX 'ws.runner is the default; the plan and the workstream win over it' '
	test_when_finished "stop_server; git -C other config --unset ws.runner" &&
	git -C other config ws.runner tmux &&
	(cd other && git ws-dispatch p q >../out 2>&1) &&
	test "$(where p)" = tmux &&
	test "$(where q)" = local
'

test_expect_success 'without runner or ws.runner, commands run locally' '
	(cd other && git ws-dispatch r >../out 2>&1) &&
	test "$(where r)" = local &&
	(cd other && test_must_fail ws_state r runner)
'

test_expect_success 'cleanup' '
	stop_server &&
	rm -rf "$TMUX_DIR"
'

test_done
