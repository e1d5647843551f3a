#!/bin/sh
# UNTESTED HERE (no network, no agent on the CI machine): runs OpenAI's
# Codex CLI non-interactively as a plan's command
# (`command = sh examples/agents/codex.sh`). See claude-code.sh for the
# environment it relies on.
set -eu
task="Workstream $WS_ID: $WS_TITLE (branch $WS_BRANCH). Do the task, run the tests, commit.
$(cat "$WS_SPEC")"
if test -n "${WS_REPORT:-}" && test -f "$WS_REPORT"
then
	task="$task

Your previous attempt was sent back:
$(cat "$WS_REPORT")"
fi
codex exec --full-auto "$task"
