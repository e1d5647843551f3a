#!/bin/sh
# Install the coding-agent CLIs that git ws-agent drives, at the versions
# its tests are proven on, outside the repository, and print the
# directory of their binaries (put it on PATH):
#
#	PATH="$(sh t/agent-clis.sh):$PATH"
#
# They go under $GIT_WS_AGENT_CACHE (default ~/.cache/git-ws/agent-clis)
# and are installed only when missing, with npm (needs node and npm).
# `make agent-clis` runs it; t/lib-agent.sh looks there.
set -eu

CLAUDE_CODE_VERSION=2.1.197
CODEX_VERSION=0.171.0
prefix=${GIT_WS_AGENT_CACHE:-$HOME/.cache/git-ws/agent-clis}
bin=$prefix/node_modules/.bin

installed () {
	test -x "$bin/claude" && test -x "$bin/codex" &&
	grep -q "\"version\": \"$CLAUDE_CODE_VERSION\"" \
		"$prefix/node_modules/@anthropic-ai/claude-code/package.json" 2>/dev/null &&
	grep -q "\"version\": \"$CODEX_VERSION\"" \
		"$prefix/node_modules/@openai/codex/package.json" 2>/dev/null
}

if ! installed
then
	if ! command -v npm >/dev/null 2>&1
	then
		echo >&2 "error: npm not found (apt-get install nodejs npm)"
		exit 1
	fi
	mkdir -p "$prefix"
	echo >&2 "installing the agent CLIs into $prefix"
	npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
		"@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" \
		"@openai/codex@$CODEX_VERSION" >&2
	if ! installed
	then
		echo >&2 "error: the agent CLIs are not in $bin after npm install"
		exit 1
	fi
fi
echo "$bin"
