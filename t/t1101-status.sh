#!/bin/sh

test_description='git ws-status: states, reasons, progress, dirty/clean, ahead; from anywhere'

. ./lib-ws.sh

SQ="'"

test_expect_success 'setup' '
	setup_repo &&
	(
		cd repo &&
		echo "*.log" >.gitignore &&
		git add .gitignore &&
		test_commit ignore-logs
	) &&
	cat >plan <<-\EOF &&
	[plan]
		name = st
		base = main
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		depends = ws-1
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
		depends = ws-2 ws-3
		worktree = ws-1
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null) &&
	top=$(pwd)
'

test_expect_success 'outside a repository: fatal' '
	mkdir -p outside &&
	(cd outside && test_expect_code 128 git ws-status 2>../err) &&
	grep "^fatal: not a git repository" err
'

test_expect_success 'no plan allocated: fatal, with a hint' '
	setup_repo empty &&
	(cd empty && test_expect_code 128 git ws-status >../out 2>../err) &&
	test_must_be_empty out &&
	cat >expect <<-EOF &&
	error: no plan is allocated in this repository
	hint: allocate one with ${SQ}git ws-alloc <plan>${SQ}
	EOF
	test_cmp expect err
'

test_expect_success 'status after alloc: every workstream, its reason, progress' '
	(cd repo && git ws-status >../out) &&
	cat >expect <<-EOF &&
	Plan ${SQ}st${SQ} on ${SQ}main${SQ}
	  ws-1       ready        feature/ws-1-one    $top/repo-ws-1  +0  clean
	  ws-2       blocked      feature/ws-2-two    $top/repo-ws-2  +0  clean  (waiting for ws-1 to merge)
	  ws-3       ready        feature/ws-3-three  $top/repo-ws-3  +0  clean
	  ws-4       blocked      feature/ws-1-one    $top/repo-ws-1  +0  clean  (waiting for ws-2, ws-3 to merge)
	0/4 merged
	EOF
	test_cmp expect out
'

test_expect_success 'the same from a workstream worktree, a subdirectory, and via -C' '
	mkdir -p repo/sub/dir repo-ws-2/src/deep &&
	(cd repo/sub/dir && git ws-status >"$top/out.sub") &&
	test_cmp out out.sub &&
	(cd repo-ws-2 && git ws-status >"$top/out.wt") &&
	test_cmp out out.wt &&
	(cd repo-ws-2/src/deep && git ws-status >"$top/out.wtsub") &&
	test_cmp out out.wtsub &&
	git -C repo-ws-3 ws-status >out.C &&
	test_cmp out out.C
'

test_expect_success 'dirty and clean: untracked and modified files count, ignored ones do not' '
	echo noise >repo-ws-3/build.log &&
	(cd repo && git ws-status ws-3 >../out) &&
	grep "^  ws-3 .*  +0  clean$" out &&
	echo new >repo-ws-3/untracked.t &&
	(cd repo && git ws-status ws-3 >../out) &&
	grep "^  ws-3 .*  +0  dirty$" out &&
	rm repo-ws-3/untracked.t &&
	echo changed >>repo-ws-3/README &&
	(cd repo && git ws-status ws-3 >../out) &&
	grep "^  ws-3 .*  +0  dirty$" out &&
	git -C repo-ws-3 checkout -q -- README &&
	(cd repo && git ws-status ws-3 >../out) &&
	grep "^  ws-3 .*  +0  clean$" out
'

test_expect_success 'commits ahead of base, on a branch shared by two workstreams' '
	(
		cd repo-ws-1 &&
		test_commit one-a &&
		test_commit one-b
	) &&
	(cd repo && git ws-status --porcelain ws-1 ws-4) >out &&
	cut -f1,5 out >actual &&
	printf "ws-1\t2\nws-4\t2\n" >expect &&
	test_cmp expect actual &&
	(cd repo && git ws-status ws-1) >out &&
	grep "^  ws-1 .*  +2  clean$" out
'

test_expect_success 'a base that moves on counts only what the branch has on top' '
	(cd repo && test_commit base-moves) &&
	(cd repo && git ws-status --porcelain ws-1 ws-3) >out &&
	cut -f1,5 out >actual &&
	printf "ws-1\t2\nws-3\t0\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'selected ids: only their lines, progress of the whole plan' '
	(cd repo && git ws-status ws-3 ws-2) >out &&
	grep -c "^  ws-" out >count &&
	echo 2 >expect &&
	test_cmp expect count &&
	! grep "^  ws-1 " out &&
	tail -n 1 out >actual &&
	echo "0/4 merged" >expect &&
	test_cmp expect actual
'

test_expect_success 'an unknown id is fatal' '
	(cd repo && test_expect_code 128 git ws-status ws-1 nope 2>../err) &&
	echo "fatal: no workstream ${SQ}nope${SQ} in plan ${SQ}st${SQ}" >expect &&
	test_cmp expect err
'

test_expect_success 'progress counts merged workstreams, and those cleaned after a merge' '
	(
		cd repo &&
		ws_set_state ws-1 status merged &&
		git ws-status >../out
	) &&
	tail -n 1 out >actual &&
	echo "1/4 merged" >expect &&
	test_cmp expect actual &&
	grep "^  ws-1       merged " out &&
	# given up by git ws-clean --force: not merged
	(
		cd repo &&
		ws_set_state ws-3 status cleaned &&
		git ws-status >../out
	) &&
	tail -n 1 out >actual &&
	echo "1/4 merged" >expect &&
	test_cmp expect actual &&
	grep "^  ws-3       cleaned .*  removed$" out &&
	(
		cd repo &&
		ws_set_state ws-3 merge-oid "$(git rev-parse main)" &&
		git ws-status >../out
	) &&
	tail -n 1 out >actual &&
	echo "2/4 merged" >expect &&
	test_cmp expect actual
'

test_expect_success 'a failed workstream shows its reason' '
	(
		cd repo &&
		ws_set_state ws-2 status failed &&
		ws_set_state ws-2 reason "tests failed 3 times; see .git/ws/reports/ws-2" &&
		git ws-status ws-2 >../out
	) &&
	grep "^  ws-2       failed .*  (tests failed 3 times; see .git/ws/reports/ws-2)$" out
'

test_expect_success 'a worktree that is gone shows as missing' '
	setup_repo gone &&
	(cd gone && git ws-alloc ../plan >/dev/null) &&
	rm -rf gone-ws-3 &&
	(cd gone && git ws-status ws-3 >../out && git ws-status --porcelain ws-3 >../porc) &&
	grep "^  ws-3 .*  missing$" out &&
	cut -f6 porc >actual &&
	echo missing >expect &&
	test_cmp expect actual
'

test_expect_success '--porcelain: id, status, branch, worktree, ahead, worktree state, reason, tokens, cost and where it runs' '
	(cd repo && git ws-status --porcelain) >out &&
	cat >expect <<-EOF &&
	ws-1	merged	feature/ws-1-one	$top/repo-ws-1	2	clean								
	ws-2	failed	feature/ws-2-two	$top/repo-ws-2	0	clean	tests failed 3 times; see .git/ws/reports/ws-2							
	ws-3	cleaned	feature/ws-3-three	$top/repo-ws-3	0	removed								
	ws-4	blocked	feature/ws-1-one	$top/repo-ws-1	2	clean	waiting for ws-2, ws-3 to merge							
	EOF
	test_cmp expect out
'

test_expect_success '--porcelain -z ends each record with NUL' '
	(cd repo && git ws-status --porcelain -z) >out.z &&
	(cd repo && git ws-status --porcelain) >out &&
	tr "\000" "\n" <out.z >actual &&
	test_cmp out actual &&
	tr -d -c "\000" <out.z | wc -c >nuls &&
	echo 4 >expect &&
	test_cmp expect nuls &&
	tr -d -c "\n" <out.z | wc -c >newlines &&
	echo 0 >expect &&
	test_cmp expect newlines
'

test_expect_success '-z without --porcelain is a usage error' '
	(cd repo && test_expect_code 129 git ws-status -z 2>../err) &&
	grep "^usage: git ws-status" err
'

test_expect_success 'an unknown option is a usage error, -h is not' '
	(cd repo && test_expect_code 129 git ws-status --frob 2>../err) &&
	grep "^usage: git ws-status" err &&
	git ws-status -h >out &&
	grep "^usage: git ws-status" out
'

# column_offsets <human output> <porcelain output> <field>: for each
# workstream of the porcelain output, the character offset at which its
# <field> (4: worktree, 6: worktree state) starts in its row of the human
# output. UTF-8 continuation bytes are dropped first, so that awk, in the
# C locale, counts characters.
column_offsets () {
	LC_ALL=C sed "s/$(printf "[\200-\277]")//g" "$1" >offsets.human &&
	LC_ALL=C sed "s/$(printf "[\200-\277]")//g" "$2" >offsets.porc &&
	cut -f1,"$3" offsets.porc |
	while IFS="$(printf "\t")" read -r id value
	do
		LC_ALL=C grep "^  $id " offsets.human |
		LC_ALL=C awk -v v="  $value" "{ print index(\$0, v) }" ||
		return 1
	done
}

test_expect_success 'columns line up whatever the lengths of ids, branches and paths' '
	setup_repo align &&
	cat >align.plan <<-\EOF &&
	[plan]
		name = align
		base = main
	[workstream "a"]
		title = A
	[workstream "a-workstream-id-much-longer-than-ten"]
		title = Make the notification service retry every delivery it drops
		depends = a
	[workstream "ws-3"]
		title = Three
	EOF
	(
		cd align &&
		git ws-alloc ../align.plan >/dev/null &&
		ws_set_state ws-3 branch "feature/ws-3-ünïcödé" &&
		ws_set_state ws-3 worktree "$top/wörktree-gone" &&
		git ws-status >../align.out &&
		git ws-status --porcelain >../align.porc
	) &&
	grep "^  a-workstream-id-much-longer-than-ten blocked      feature/a-workstream-id-much-longer-than-ten-make-the-notification-service-retry-ever  $top/align-a-workstream-id-much-longer-than-ten  +0  clean    (waiting for a to merge)$" align.out &&
	grep "^  ws-3  *ready  *feature/ws-3-ünïcödé  *$top/wörktree-gone  *missing$" align.out &&
	! grep " $" align.out &&
	column_offsets align.out align.porc 4 >offsets &&
	test_line_count = 3 offsets &&
	sort -u offsets >distinct &&
	test_line_count = 1 distinct &&
	column_offsets align.out align.porc 6 >offsets &&
	test_line_count = 3 offsets &&
	sort -u offsets >distinct &&
	test_line_count = 1 distinct
'

test_done
