#!/bin/sh
# UNTESTED HERE (no network, no agent on the CI machine): an adapter that
# runs Claude Code headless as a plan's command:
#
#   [plan]
#   	command = sh examples/agents/claude-code.sh
#
# git ws-dispatch runs it in the workstream's worktree with WS_SPEC (the
# task), WS_REPORT (why the last iteration was sent back, empty on the
# first), WS_DONE_FILE and the rest of the environment in git-ws(7).
set -eu
prompt=$(mktemp)
trap 'rm -f "$prompt"' EXIT
{
	echo "You are working on workstream $WS_ID: $WS_TITLE, on branch $WS_BRANCH."
	echo "Do the task below in this directory, run the tests, and commit your work."
	echo
	cat "$WS_SPEC"
	if test -n "${WS_REPORT:-}" && test -f "$WS_REPORT"
	then
		echo
		echo "Your previous attempt was sent back. The convergence report:"
		cat "$WS_REPORT"
	fi
} >"$prompt"
claude -p "$(cat "$prompt")" --permission-mode acceptEdits --output-format text
