#!/bin/sh

test_description='git ws-agent claude: Claude Code runs a plan end to end

The real Claude Code CLI (the version t/agent-clis.sh pins) runs every
workstream of a plan under git ws-dispatch --loop, against the scripted
model server t/model-server.js: dependencies, a workstream sent back by
its test gate and fixed on its next iteration after reading $WS_REPORT,
and the runs that must not count as success (HTTP 500, HTTP 400, a denied
tool, no commit, a denied tool after a commit), each with its reason in the state and in git ws-status.'

. ./lib-agent.sh

agent_prereq claude

test_expect_success 'usage: -h, no agent, an unknown agent, arguments without --' '
	git ws-agent -h >out &&
	grep "^usage: git ws-agent" out &&
	test_expect_code 129 git ws-agent 2>err &&
	test_expect_code 129 git ws-agent gemini 2>err &&
	grep "no agent adapter .gemini. (there are: claude, codex)" err &&
	test_expect_code 129 git ws-agent claude --model x 2>err
'

test_expect_success 'setup' '
	setup_agent_repo w-lib w-app w-doc &&
	cat >plan <<-\EOF &&
	[plan]
		name = agents
		base = main
		command = git ws-agent claude
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
	[workstream "w-deny"]
		title = Denied tool
		command = git ws-agent claude -- --allowedTools Write Edit
	[workstream "w-idle"]
		title = Commits nothing
	[workstream "w-part"]
		title = Commits, then is denied
		command = git ws-agent claude -- --allowedTools Write '"'"'Bash(git add:*)'"'"' '"'"'Bash(git commit:*)'"'"'
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success 'the prompt: the spec, the title, the branch; the report when there is one' '
	(
		cd repo &&
		git ws-agent -n claude -- --allowedTools Write >../out
	) &&
	grep "claude -p <prompt> --output-format json --allowedTools Write$" out &&
	(
		cd repo-w-lib &&
		echo "gate tests failed: w-lib.txt says BUG" >../report &&
		WS_ID=w-lib WS_TITLE=Library WS_BRANCH=$(git branch --show-current) \
		WS_SPEC=specs/w-lib.md WS_ITERATION=1 WS_REPORT=../report \
			git ws-agent -n claude -- --model opus >../out
	) &&
	grep "^CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 .*claude -p <prompt> --output-format json --allowedTools Bash Write Edit --model opus$" out &&
	grep "^You are working on workstream w-lib: Library$" out &&
	grep "on branch feature/w-lib-library (iteration 2)" out &&
	grep "^Write w-lib.txt.$" out &&
	grep "^gate tests failed: w-lib.txt says BUG$" out &&
	(
		cd repo-w-lib &&
		: >../report &&
		WS_ID=w-lib WS_SPEC=specs/w-lib.md WS_REPORT=../report \
			git ws-agent -n claude >../out
	) &&
	! grep "sent back" out &&
	grep "(iteration 1)" out
'

test_expect_success 'a spec that cannot be read is an error, not a task without text' '
	(
		cd repo &&
		WS_ID=x WS_SPEC=no-such-spec GIT_WS_AGENT_CLAUDE=/bin/true \
			test_expect_code 128 git ws-agent claude 2>../err
	) &&
	grep "cannot read the spec .no-such-spec." err
'

test_expect_success 'no git identity: fails before running the agent, says how to set one' '
	(
		cd repo &&
		unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL EMAIL &&
		WS_ID=anon WS_DONE_FILE=$PWD/../anon.done GIT_WS_AGENT_CLAUDE=/bin/true \
			test_expect_code 128 git ws-agent claude 2>../err
	) &&
	grep "error: no git identity" err &&
	grep "hint: set one with .git config --global user.name" err &&
	grep "\"status\": *\"failed\"" anon.done &&
	grep "claude: no git identity" anon.done
'

test_expect_success 'a CLI that is not there: fails and says how to get it' '
	(
		cd repo &&
		WS_ID=anon WS_DONE_FILE=$PWD/../anon.done GIT_WS_AGENT_CLAUDE=/no/such/claude \
			test_expect_code 128 git ws-agent claude 2>../err
	) &&
	grep "cannot find the ./no/such/claude. program" err &&
	grep "hint: .*make agent-clis" err &&
	grep "GIT_WS_AGENT_CLAUDE" err
'

cat >script.json <<\SCRIPT
{ "conversations": [
  { "match": ["workstream w-lib:"], "turns": [
    { "write": "w-lib.txt", "content": "the library\n" },
    { "bash": "git add -A && git commit -q -m \"Add the library\"" },
    { "text": "The library is committed." } ] },
  { "match": ["workstream w-app:", "(iteration 2)"], "turns": [
    { "bash": "cat \"$WS_REPORT\"" },
    { "read": "w-app.txt" },
    { "edit": "w-app.txt", "old": "BUG", "new": "fixed" },
    { "bash": "git commit -q -am \"Fix the application\"" },
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
  { "match": ["workstream w-deny:"], "turns": [
    { "write": "w-deny.txt", "content": "denied\n" },
    { "bash": "git add -A && git commit -q -m \"Add w-deny\"" },
    { "text": "All committed, I promise." } ] },
  { "match": ["workstream w-idle:"], "turns": [ { "text": "Nothing to do here." } ] },
  { "match": ["workstream w-part:"], "turns": [
    { "write": "w-part.txt", "content": "half\n" },
    { "bash": "git add -A && git commit -q -m \"Add half of it\"" },
    { "bash": "rm -rf build" },
    { "text": "Done, tests pass." } ] }
] }
SCRIPT

test_expect_success CLAUDE 'the whole plan runs under git ws-dispatch --loop' '
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

test_expect_success CLAUDE 'w-lib, w-app and w-doc are merged, in dependency order' '
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

test_expect_success CLAUDE 'w-app was sent back by its test gate, read $WS_REPORT and fixed it' '
	(cd repo && test "$(ws_state w-app iterations)" = 1) &&
	tool_results_of script.json "(iteration 2)" >results &&
	grep "^FAIL  *tests  *sh check.sh: exit 1" results &&
	grep "the application, BUG" results
'

test_expect_success CLAUDE 'the done file: the summary, and the usage from the CLI report' '
	archive=repo/.git/ws/archive/agents &&
	grep "^ws-agent: success: claude: finished in 3 turns, 1 commit$" $archive/logs/w-doc.log &&
	grep "^ws-agent: usage: 345 input tokens, 60 output tokens, \$0\.0031$" $archive/logs/w-doc.log &&
	grep "\"status\": \"success\"" $archive/coordination/w-doc.done &&
	# 3 answers of 100 input + 10 cache-read + 5 cache-creation tokens
	grep "\"usage\": {\"input_tokens\": 345, \"output_tokens\": 60, \"cost_usd\": 0.0031087" \
		$archive/coordination/w-doc.done &&
	test "$(done_usage w-deny input_tokens)" = 345 &&
	test "$(done_usage w-deny output_tokens)" = 60 &&
	done_usage w-deny cost_usd | grep "^0\.00310875" &&
	test "$(done_usage w-500 input_tokens)" = 0
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

test_expect_success CLAUDE 'HTTP 500 from the model: failed, with the API error' '
	fails_with w-500 "claude: API Error: 500 scripted overload"
'

test_expect_success CLAUDE 'HTTP 400 from the model: failed, with the API error' '
	fails_with w-400 "claude: API Error: 400 scripted bad request"
'

test_expect_success CLAUDE 'a denied tool: failed, naming the tool call, though the CLI exited 0' '
	fails_with w-deny "claude: denied Bash(git add -A && git commit -q -m \"Add w-deny\")" &&
	grep "ws-agent: failed: claude: denied Bash" repo/.git/ws/logs/w-deny.log &&
	grep "\"permission_denials\":\[{\"tool_name\":\"Bash\"" repo/.git/ws/logs/w-deny.log &&
	test "$(git -C repo-w-deny rev-list --count main..HEAD)" = 0
'

test_expect_success CLAUDE 'an agent that commits nothing: failed, no commit made' '
	fails_with w-idle "claude: no commit made on feature/w-idle-commits-nothing"
'

test_expect_success CLAUDE 'a tool denied after a commit: partial, and still not a success' '
	(cd repo && ws_state w-part status >../status && ws_state w-part reason >../reason) &&
	echo failed >expect && test_cmp expect status &&
	grep "the command reported .partial.: claude: denied Bash(rm -rf build) (after 1 commit)" reason &&
	test "$(done_field w-part status)" = partial &&
	test "$(git -C repo-w-part rev-list --count main..HEAD)" = 1
'

stop_model_server

test_done
