#!/bin/sh

test_description='git ws-status --dot: the dependency graph in Graphviz DOT, coloured by status'

. ./lib-ws.sh

if command -v dot >/dev/null 2>&1
then
	test_set_prereq DOT
elif test -n "$GIT_WS_TEST_REQUIRE_GRAPHVIZ"
then
	echo "error: dot (graphviz) is required here (GIT_WS_TEST_REQUIRE_GRAPHVIZ) but missing" >&2
	exit 1
else
	say "dot is not installed (Debian: apt-get install graphviz): the output is not rendered"
fi

test_expect_success 'setup' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = pic-one
		base = main
		command = true
	[workstream "ws-1"]
		title = Say \"hi\" \\ back\nthen go
	[workstream "ws.2"]
		title = Two
		depends = ws-1
	[workstream "ws_3"]
		title = Három
	[workstream "ws-4"]
		title = Four
		depends = ws.2 ws_3
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success 'nodes with their status and colour, edges from dependency to dependent' '
	(cd repo && git ws-status --dot >../out) &&
	cat >expect <<-\EOF &&
	digraph "pic-one" {
	  rankdir=LR;
	  node [shape=box, style="rounded,filled"];
	  "ws-1" [label="ws-1\nSay \"hi\" \\ back\nthen go\nready", fillcolor="lightskyblue"];
	  "ws.2" [label="ws.2\nTwo\nblocked", fillcolor="lightgrey"];
	  "ws_3" [label="ws_3\nHárom\nready", fillcolor="lightskyblue"];
	  "ws-4" [label="ws-4\nFour\nblocked", fillcolor="lightgrey"];
	  "ws-1" -> "ws.2";
	  "ws.2" -> "ws-4";
	  "ws_3" -> "ws-4";
	}
	EOF
	test_cmp expect out
'

test_expect_success 'each status has its colour' '
	(
		cd repo &&
		# a live pid: in_progress with a vanished one would be reaped
		ws_set_state ws-4 pid $$ &&
		for s in in_progress:gold done:orange converged:palegreen \
			 merged:green3 failed:tomato cleaned:darkseagreen
		do
			ws_set_state ws-4 status ${s%%:*} &&
			git ws-status --dot >../out &&
			printf "  \"ws-4\" [label=\"ws-4\\\\nFour\\\\n%s\", fillcolor=\"%s\"];\n" \
				${s%%:*} ${s#*:} >../expect &&
			grep -F -x -f ../expect ../out ||
			return 1
		done
	)
'

test_expect_success '<id>, --porcelain or --graph with --dot: usage' '
	(
		cd repo &&
		test_expect_code 129 git ws-status --dot ws-1 2>../err &&
		test_expect_code 129 git ws-status --dot --porcelain 2>>../err &&
		test_expect_code 129 git ws-status --dot --graph 2>>../err
	) &&
	test "$(grep -c "^   or: git ws-status --dot\$" err)" = 3 &&
	grep "^error: --dot shows the whole plan" err &&
	grep "^error: --graph, --conflicts, --dot and --checkpoints cannot be combined" err
'

test_expect_success DOT 'dot -Tsvg renders it, every node and edge' '
	(cd repo && git ws-status --dot >../out) &&
	dot -Tsvg out >out.svg 2>dot.err &&
	test_must_be_empty dot.err &&
	grep -c "<g id=\"node" out.svg >nodes &&
	echo 4 >expect &&
	test_cmp expect nodes &&
	grep -c "<g id=\"edge" out.svg >edges &&
	echo 3 >expect &&
	test_cmp expect edges &&
	grep "Say &quot;hi&quot; \\\\ back" out.svg &&
	grep "Három" out.svg
'

test_done
