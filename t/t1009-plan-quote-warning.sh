#!/bin/sh

test_description='git ws-alloc: warn when git config syntax drops the double quotes of a command'

. ./lib-ws.sh

test_expect_success 'setup' '
	setup_repo
'

test_expect_success 'unescaped double quotes in command, test and check are warned about' '
	cat >dq.plan <<-\EOF &&
	[plan]
		command = sleep 2 && git commit -qm "$WS_ID work"
		test = make "check all"
		check = grep -q "a b" README
	[workstream "w"]
		title = W
		command = "echo "$WS_ID""
	EOF
	(cd repo && git ws-alloc -n ../dq.plan 2>../err >/dev/null) &&
	cat err &&
	grep "^warning: ../dq.plan:2: double quotes are removed from .command.: it runs .sleep 2 && git commit -qm \$WS_ID work.$" err &&
	grep "^warning: ../dq.plan:3: double quotes are removed from .test.: it runs .make check all.$" err &&
	grep "^warning: ../dq.plan:4: double quotes are removed from .check.: it runs .grep -q a b README.$" err &&
	grep "^warning: ../dq.plan:7: double quotes are removed from .command." err &&
	grep "^hint: write \\\\\" for a quote the command should see, or use single quotes" err &&
	test $(grep -c "^warning:" err) = 4 &&
	test $(grep -c "^hint:" err) = 1
'

test_expect_success 'the warning is the same when the plan is imported for real' '
	(cd repo && git ws-alloc ../dq.plan 2>../err >/dev/null) &&
	grep "^warning: ../dq.plan:2: double quotes are removed from .command." err &&
	test_when_finished "rm -rf repo-w && git -C repo worktree prune && rm -rf repo/.git/ws" &&
	git config -f repo/.git/ws/plan plan.command >actual &&
	echo "sleep 2 && git commit -qm \$WS_ID work" >expect &&
	test_cmp expect actual
'

test_expect_success 'escaped quotes, single quotes and a fully quoted value are not warned about' '
	cat >ok.plan <<-\EOF &&
	[plan]
		command = sleep 2 && git commit -qm \"$WS_ID work\"
		test = make '"'"'check all'"'"'
		check = "grep -q a;b README"
		check = "printf %s \"a b\""  ; a comment with "quotes"
	[workstream "w"]
		title = "A \"quoted\" title"
		spec = "specs/a b.md"
	EOF
	(cd repo && git ws-alloc -n ../ok.plan 2>../err >/dev/null) &&
	test_must_be_empty err &&
	(cd repo && git ws-alloc ../ok.plan 2>../err >/dev/null) &&
	test_must_be_empty err &&
	git config -f repo/.git/ws/plan plan.command >actual &&
	echo "sleep 2 && git commit -qm \"\$WS_ID work\"" >expect &&
	test_cmp expect actual &&
	git config -f repo/.git/ws/plan plan.test >actual &&
	echo "make '"'"'check all'"'"'" >expect &&
	test_cmp expect actual
'

test_expect_success 'reading the normalised plan back gives no warning' '
	(cd repo && git ws-status 2>../err >/dev/null) &&
	test_must_be_empty err
'

test_expect_success 'title and spec are not commands: their quotes are not warned about' '
	cat >title.plan <<-\EOF &&
	[plan]
		name = t2
	[workstream "w"]
		title = The "big" one
	EOF
	setup_repo r2 &&
	(cd r2 && git ws-alloc -n ../title.plan 2>../err >/dev/null) &&
	test_must_be_empty err
'

test_done
