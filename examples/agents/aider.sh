#!/bin/sh
# AN UNSUPPORTED EXAMPLE, never run by the tests: runs aider with the spec
# as its message file (`command = sh examples/agents/aider.sh`); aider
# commits its own edits. It writes no done file, so git ws-dispatch judges
# the run by aider's exit status alone. The supported, tested adapters are
# `git ws-agent claude` and `git ws-agent codex` (git-ws-agent(1)). The
# environment it relies on (WS_SPEC, WS_REPORT, ...) is in git-ws(7),
# DISPATCH ENVIRONMENT.
set -eu
msg=$(mktemp)
trap 'rm -f "$msg"' EXIT
cat "$WS_SPEC" >"$msg"
if test -n "${WS_REPORT:-}" && test -f "$WS_REPORT"
then
	printf '\nYour previous attempt was sent back:\n' >>"$msg"
	cat "$WS_REPORT" >>"$msg"
fi
aider --yes-always --message-file "$msg"
