#!/bin/sh

test_description='git ws-agent codex: Codex runs a plan end to end

The real Codex CLI (the version t/agent-clis.sh pins) runs every
workstream of a plan under git ws-dispatch --loop, against the scripted
model server t/model-server.js: dependencies, a workstream sent back by
its test gate and fixed on its next iteration after reading $WS_REPORT,
and the runs that must not count as success (HTTP 500, HTTP 400, no
commit), each with its reason in the state and in git ws-status. Codex
runs in its workspace-write sandbox with the git common dir added, so
that its commits in a linked worktree work.'

. ./lib-agent.sh

agent_prereq codex

test_expect_success 'setup' '
	setup_agent_repo w-lib w-app w-doc &&
	cat >plan <<-\EOF &&
	[plan]
		name = agents
		base = main
		command = git ws-agent codex
		test = sh check.sh
		jobs = 3
		max-iterations = 3
	[workstream "w-lib"]
		title = Library
		spec = specs/w-lib.md
	[workstream "w-app"]
		title = Application
		spec = specs/w-app.md
		depends = w-lib
	[workstream "w-doc"]
		title = Documentation
		spec = specs/w-doc.md
		depends = w-lib
	[workstream "w-500"]
		title = Server error
	[workstream "w-400"]
		title = Bad request
	[workstream "w-idle"]
		title = Commits nothing
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success 'the command line: JSON events, the sandbox, the common dir' '
	(cd repo-w-lib && git ws-agent -n codex -- -m gpt-x >../out) &&
	common=$(cd repo && pwd)/.git &&
	grep "codex exec --json --skip-git-repo-check --color never -s workspace-write --add-dir .$common. --add-dir .$common/worktrees/repo-w-lib. -m gpt-x -- <prompt>$" out
'

cat >script.json <<\SCRIPT
{ "conversations": [
  { "match": ["workstream w-lib:"], "turns": [
    { "write": "w-lib.txt", "content": "the library\n" },
    { "bash": "git add -A && git commit -q -m \"Add the library\"" },
    { "text": "The library is committed." } ] },
  { "match": ["workstream w-app:", "(iteration 2)"], "turns": [
    { "bash": "cat \"$WS_REPORT\"" },
    { "bash": "sed -i s/BUG/fixed/ w-app.txt && git commit -q -am \"Fix the application\"" },
    { "text": "Fixed what the report said." } ] },
  { "match": ["workstream w-app:"], "turns": [
    { "write": "w-app.txt", "content": "the application, BUG\n" },
    { "bash": "git add -A && git commit -q -m \"Add the application\"" },
    { "text": "The application is committed." } ] },
  { "match": ["workstream w-doc:"], "turns": [
    { "write": "w-doc.txt", "content": "the documentation\n" },
    { "bash": "git add -A && git commit -q -m \"Add the documentation\"" },
    { "text": "Done." } ] },
  { "match": ["workstream w-500:"], "turns": [ { "http": 500, "message": "scripted overload" } ] },
  { "match": ["workstream w-400:"], "turns": [ { "http": 400, "message": "scripted bad request" } ] },
  { "match": ["workstream w-idle:"], "turns": [ { "text": "Nothing to do here." } ] }
] }
SCRIPT

test_expect_success CODEX 'the whole plan runs under git ws-dispatch --loop' '
	start_model_server "$PWD/script.json" &&
	(
		PATH=$AGENT_BIN:$PATH &&
		cd repo &&
		git ws-dispatch --loop --retries 0 >../loop.out 2>&1
		echo $? >../loop.rc
	) &&
	cat loop.out &&
	test "$(cat loop.rc)" != 0
'

test_expect_success CODEX 'w-lib, w-app and w-doc are merged, in dependency order' '
	(
		cd repo &&
		for id in w-lib w-app w-doc
		do
			test "$(ws_state $id status)" = merged || return 1
		done &&
		git log --first-parent --format=%s main >../merges &&
		git show main:w-app.txt >../app
	) &&
	echo "the application, fixed" >expect &&
	test_cmp expect app &&
	grep -n "Merge w-lib" merges | cut -d: -f1 >lib.line &&
	grep -n "Merge w-app" merges | cut -d: -f1 >app.line &&
	test "$(cat app.line)" -lt "$(cat lib.line)"
'

test_expect_success CODEX 'w-app was sent back by its test gate, read $WS_REPORT and fixed it' '
	(cd repo && test "$(ws_state w-app iterations)" = 1) &&
	tool_results_of script.json "(iteration 2)" >results &&
	grep "^FAIL  *tests  *sh check.sh: exit 1" results
'

test_expect_success CODEX 'the done file: the summary, and the usage from the CLI report (no cost)' '
	archive=repo/.git/ws/archive/agents &&
	grep "^ws-agent: success: codex: finished, 1 commit$" $archive/logs/w-doc.log &&
	grep "^ws-agent: usage: 300 input tokens, 60 output tokens$" $archive/logs/w-doc.log &&
	grep "\"status\": \"success\"" $archive/coordination/w-doc.done &&
	# 3 answers of 100 input tokens (the 10 cached ones among them) and 20 output
	grep "\"usage\": {\"input_tokens\": 300, \"output_tokens\": 60}" \
		$archive/coordination/w-doc.done &&
	grep "\"type\":\"turn.completed\"" $archive/logs/w-doc.log
'

# fails_with <id> <text>: the workstream failed, and its reason in the
# state and in git ws-status says <text>.
fails_with () {
	(cd repo && ws_state $1 status >../status && ws_state $1 reason >../reason &&
	 git ws-status >../ws-status) &&
	echo failed >expect && test_cmp expect status &&
	grep "$2" reason &&
	grep "$1.*$2" ws-status &&
	test "$(done_field $1 status)" = failed
}

test_expect_success CODEX 'HTTP 500 from the model: failed, with the API error' '
	fails_with w-500 "codex: API error: " &&
	grep "\"type\":\"turn.failed\"" repo/.git/ws/logs/w-500.log
'

test_expect_success CODEX 'HTTP 400 from the model: failed, with the API error' '
	fails_with w-400 "codex: API error: scripted bad request"
'

test_expect_success CODEX 'an agent that commits nothing: failed, no commit made' '
	fails_with w-idle "codex: no commit made on feature/w-idle-commits-nothing"
'

stop_model_server

test_done
