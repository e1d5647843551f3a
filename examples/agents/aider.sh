#!/bin/sh
# UNTESTED HERE (no network, no agent on the CI machine): runs aider with
# the spec as its message file (`command = sh examples/agents/aider.sh`).
# aider commits its own edits. See claude-code.sh for the environment.
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
