# Shared set-up for the tests of git ws-agent with the real agent CLIs
# (t8000-agent-claude.sh, t8001-agent-codex.sh): source it instead of
# lib-ws.sh.
#
# The CLIs are the versions t/agent-clis.sh installs (`make agent-clis`),
# under $GIT_WS_AGENT_CACHE (default ~/.cache/git-ws/agent-clis). They
# talk to t/model-server.js, a scripted model on 127.0.0.1, never to the
# network. Without node or the CLIs the tests that need them are skipped
# and say why; with GIT_WS_TEST_REQUIRE_AGENTS=1 (CI) that is an error.

# sharness gives HOME the trash directory: find the cache first.
: "${GIT_WS_AGENT_CACHE:=$HOME/.cache/git-ws/agent-clis}"
AGENT_BIN=$GIT_WS_AGENT_CACHE/node_modules/.bin

. ./lib-ws.sh

# agent_prereq <cli>: set the prereq <CLI> (CLAUDE, CODEX) when node and
# the CLI are there; else skip, or fail under GIT_WS_TEST_REQUIRE_AGENTS.
agent_prereq () {
	why=
	if ! command -v node >/dev/null 2>&1
	then
		why="no node (the model server and the CLIs need it)"
	elif ! test -x "$AGENT_BIN/$1"
	then
		why="no $1 in $AGENT_BIN (run make agent-clis)"
	fi
	if test -z "$why"
	then
		test_set_prereq "$(echo "$1" | tr a-z A-Z)"
	elif test -n "$GIT_WS_TEST_REQUIRE_AGENTS"
	then
		error "GIT_WS_TEST_REQUIRE_AGENTS is set, but $why"
	else
		say "skipping the $1 tests: $why"
	fi
}

# start_model_server <script.json>: run t/model-server.js in the trash
# directory (model.port, model.pid, model.log) and point both CLIs at it:
# ANTHROPIC_* for Claude Code, $CODEX_HOME/config.toml for Codex. It
# stops by itself when this test script ends (it watches our pid);
# stop_model_server stops it by its recorded pid.
start_model_server () {
	rm -f model.port model.pid &&
	: >model.log &&
	node "$WS_SOURCE_DIR/t/model-server.js" "$1" \
		"$PWD/model.port" "$PWD/model.pid" "$PWD/model.log" $$ \
		>model.out 2>&1 &
	i=0
	while ! test -s model.port && test $i -lt 100
	do
		sleep 0.1
		i=$(($i + 1))
	done
	test -s model.port || { cat model.out; return 1; }
	MODEL_PORT=$(cat model.port)
	ANTHROPIC_BASE_URL=http://127.0.0.1:$MODEL_PORT
	ANTHROPIC_API_KEY=test
	CLAUDE_CODE_MAX_RETRIES=0
	CODEX_HOME=$HOME/.codex
	export ANTHROPIC_BASE_URL ANTHROPIC_API_KEY CLAUDE_CODE_MAX_RETRIES CODEX_HOME
	mkdir -p "$CODEX_HOME" &&
	cat >"$CODEX_HOME/config.toml" <<-EOF
	model = "mock-model"
	model_provider = "mock"
	check_for_update_on_startup = false
	[model_providers.mock]
	name = "Scripted mock"
	base_url = "http://127.0.0.1:$MODEL_PORT/v1"
	wire_api = "responses"
	supports_websockets = false
	request_max_retries = 0
	stream_max_retries = 0
	[analytics]
	enabled = false
	[features]
	plugins = false
	EOF
}

stop_model_server () {
	if test -s model.pid
	then
		kill "$(cat model.pid)" 2>/dev/null
		rm -f model.pid
	fi
	return 0
}

# setup_agent_repo: a repository whose test gate (check.sh) fails while
# any file says BUG, with a spec per workstream under specs/.
setup_agent_repo () {
	setup_repo &&
	(
		cd repo &&
		cat >check.sh <<-\EOF &&
		if grep -l BUG *.txt 2>/dev/null
		then
			echo "check: the files above still say BUG"
			exit 1
		fi
		echo "check: ok"
		EOF
		mkdir specs &&
		for id in "$@"
		do
			echo "Write $id.txt." >specs/$id.md || return 1
		done &&
		git add . &&
		git commit -q -m "check and specs"
	)
}

# done_usage <id> <key>: a value of the "usage" object of a done file.
done_usage () {
	node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(d.usage[process.argv[2]])' \
		"repo/.git/ws/coordination/$1.done" "$2"
}

# done_field <id> <key>: a top-level string of a done file.
done_field () {
	node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(d[process.argv[2]])' \
		"repo/.git/ws/coordination/$1.done" "$2"
}

# tool_results_of <match>: the tool results the model server was sent in
# the conversations whose script "match" includes <match>, one a line.
tool_results_of () {
	node -e '
		const fs = require("fs");
		const script = JSON.parse(fs.readFileSync(process.argv[1]));
		for (const l of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
			if (!l) continue;
			const e = JSON.parse(l);
			const c = script.conversations[e.conversation];
			if (c && c.match.includes(process.argv[3]))
				for (const r of e.tool_results || []) console.log(r);
		}' "$1" model.log "$2"
}
