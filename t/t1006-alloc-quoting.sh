#!/bin/sh

test_description='git ws-alloc: hostile titles never reach a shell and round-trip exactly'

. ./lib-ws.sh

# no_pwned: no file named pwned* appeared anywhere a shell could have
# made it (the trash directory is also $HOME and every cwd used here).
no_pwned () {
	find "$SHARNESS_TRASH_DIRECTORY" -name "pwned*" >found &&
	test_must_be_empty found
}

test_expect_success 'setup' '
	setup_repo &&
	cat >plan.ini <<-\EOF
	[plan]
		name = hostile
	[workstream "ws-1"]
		title = $(touch pwned)
	[workstream "ws-2"]
		title = "; touch pwned2"
		depends = ws-1
	[workstream "ws-3"]
		title = "it${SQ}s a \"quoted\" title; `touch pwned3` && $(touch pwned4)"
	[workstream "ws-4"]
		title = Spaces  in   the title | touch pwned5 ; this is a comment
	[workstream "ws-5"]
		title = "back\\slash, tab\there, # not a comment"
	[workstream "api.v2_x"]
		title = "  leading and trailing  "
		depends = ws-3
	EOF
	sed -i "s/\${SQ}/'"'"'/" plan.ini &&
	grep "it.s a" plan.ini &&
	no_pwned
'

test_expect_success 'alloc accepts the plan and no shell ran anything' '
	(cd repo && git ws-alloc ../plan.ini >../out 2>../err) &&
	no_pwned &&
	test_path_is_dir repo-ws-1 &&
	test_path_is_dir repo-api.v2_x
'

test_expect_success 'every title round-trips exactly through .git/ws/plan' '
	for id in ws-1 ws-2 ws-3 ws-4 ws-5 api.v2_x
	do
		git config -f plan.ini "workstream.$id.title" >expect &&
		git config -f repo/.git/ws/plan "workstream.$id.title" >actual &&
		test_cmp expect actual || return 1
	done &&
	echo "\$(touch pwned)" >expect &&
	git config -f repo/.git/ws/plan workstream.ws-1.title >actual &&
	test_cmp expect actual &&
	echo "; touch pwned2" >expect &&
	git config -f repo/.git/ws/plan workstream.ws-2.title >actual &&
	test_cmp expect actual
'

test_expect_success 'the titles make plain branch names' '
	git -C repo for-each-ref --format="%(refname:short)" "refs/heads/feature/*" >actual &&
	cat >expect <<-\EOF &&
	feature/api.v2_x-leading-and-trailing
	feature/ws-1-touch-pwned
	feature/ws-2-touch-pwned2
	feature/ws-3-it-s-a-quoted-title-touch-pwned3-touch-p
	feature/ws-4-spaces-in-the-title-touch-pwned5
	feature/ws-5-back-slash-tab-here-not-a-comment
	EOF
	test_cmp expect actual
'

test_expect_success 'alloc again: the normalised plan reads back as the same plan' '
	cp repo/.git/ws/plan normalised.ini &&
	(cd repo && git ws-alloc ../normalised.ini >../out) &&
	grep "already allocated; nothing to do" out &&
	test_cmp normalised.ini repo/.git/ws/plan &&
	no_pwned
'

test_expect_success 'status and its graph show the titles as text, run nothing' '
	(cd repo && git ws-status >../status && git ws-status --porcelain >../porcelain) &&
	grep "^  ws-1 " status &&
	(cd repo && git ws-status --graph >../graph) &&
	grep -F "ws-1 [ready] \$(touch pwned)" graph &&
	grep -F "ws-2 [blocked] ; touch pwned2" graph &&
	grep -F "back\\slash, tab	here, # not a comment" graph &&
	no_pwned
'

test_expect_success 'a dry run with hostile titles runs nothing either' '
	setup_repo dry &&
	(cd dry && git ws-alloc -n ../plan.ini >../out && git ws-alloc -n --porcelain ../plan.ini >../out) &&
	no_pwned
'

test_expect_success 'control characters in a title are not printed raw' '
	setup_repo ctl &&
	printf "[workstream \"c\"]\n\ttitle = \"bell\\\\b here\"\n" >ctl.ini &&
	cat ctl.ini &&
	(cd ctl && git ws-alloc ../ctl.ini >../out && git ws-status --graph >../graph) &&
	! grep "$(printf "\b")" out graph &&
	grep "bell? here" graph
'

test_expect_success 'sparse directories that are not UTF-8 are stored byte for byte' '
	setup_repo latin1 &&
	printf "[workstream \"l\"]\n\ttitle = L\n\tsparse = caf\351 other\n" >latin1.ini &&
	(cd latin1 && git ws-alloc ../latin1.ini >../out) &&
	git config -f latin1/.git/ws/plan --get workstream.l.sparse >stored &&
	printf "caf\351 other\n" >expect &&
	test_cmp expect stored
'

test_done
