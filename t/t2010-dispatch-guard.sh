#!/bin/sh

test_description='the guarded base: what git-ws runs for a workstream cannot move the base

A dispatched command, a gate and the test of a merge get core.hooksPath at
git-ws'"'"'s hooks: git there refuses to update the base branch or another
workstream'"'"'s branch (git update-ref, git branch -f, git push ., git
fetch .), and runs the repository'"'"'s own hooks for everything else. The
main worktree, and git ws-merge, are not affected; ws.guard = false turns
the guard off.'

. ./lib-ws.sh

R=$PWD/result
B1=feature/ws-1-one
B2=feature/ws-2-two

# as <id> <file>: make <file> (a script) the command of workstream <id>
# and run it through git ws-dispatch, from the start (status ready).
as () {
	write_script bin/action <"$2" &&
	(
		cd repo &&
		ws_set_state "$1" status ready &&
		git ws-dispatch "$1" >../dispatch.out 2>&1
	) || { cat dispatch.out; return 1; }
}

# refused <name>: the command <name> of the action failed, and said why.
refused () {
	! test "$(cat "$R/$1.rc")" = 0 &&
	grep "^git-ws: refusing to update refs/heads/" "$R/$1.out" &&
	grep "^hint: commit on $B2; git ws-merge brings it into main" "$R/$1.out"
}

test_expect_success 'setup: two workstreams; the main worktree left detached' '
	setup_repo &&
	mkdir bin result &&
	write_script bin/gate <<-\EOF &&
	true
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = guard
		base = main
		command = action
		test = gate
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	EOF
	(
		cd repo &&
		git ws-alloc ../plan >/dev/null &&
		# with main checked out, git branch -f and git push . refuse on
		# their own: the tests would not show what the guard does
		git checkout -q --detach &&
		git rev-parse main >../main.before &&
		git rev-parse $B1 >../ws-1.before
	)
'

PATH=$PWD/bin:$PATH
export PATH

# try.sh, for the actions: "try <name> <command>..." runs the command, its
# output into $R/<name>.out and its exit code into $R/<name>.rc.
TRY=$PWD/try.sh
cat >"$TRY" <<EOF
R="$R"
try () {
	name=\$1 &&
	shift &&
	"\$@" >"\$R/\$name.out" 2>&1
	echo \$? >"\$R/\$name.rc"
}
EOF

test_expect_success 'a dispatched command: the base and ws-1 refused, its own refs allowed' '
	cat >action <<-EOF &&
	. "$TRY"
	try config git config user.guardtest
	git config core.hooksPath >"\$R/hookspath"
	try commit git commit -q --allow-empty -m "ws-2 own"
	try update-ref git update-ref refs/heads/main HEAD
	try branch-f git branch -f main HEAD
	try push git push . HEAD:main
	try fetch git fetch . HEAD:main
	try other-update git update-ref refs/heads/$B1 HEAD
	try other-delete git update-ref -d refs/heads/$B1
	try tag git tag ws-2-tag
	try remote git update-ref refs/remotes/origin/main HEAD
	try notes git notes add -m note HEAD
	echo change >>README
	try stash git stash
	try detach git checkout -q --detach
	try attach git checkout -q $B2
	try pack-refs git pack-refs --all
	git rev-parse HEAD >"\$R/head"
	EOF
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=user.guardtest \
		GIT_CONFIG_VALUE_0=kept as ws-2 action &&
	grep "ws-2: done" dispatch.out
'

test_expect_success 'the user'"'"'s own GIT_CONFIG_COUNT is kept; core.hooksPath is git-ws'"'"'s' '
	echo kept >expect &&
	test_cmp expect "$R/config.out" &&
	echo "$PWD/repo/.git/ws/hooks" >expect &&
	test_cmp expect "$R/hookspath" &&
	test -x "$(cat "$R/hookspath")/reference-transaction"
'

test_expect_success 'the repository'"'"'s hooks directory holds only the guard'"'"'s hooks and the repository'"'"'s' '
	ls repo/.git/ws/hooks >actual &&
	cat >expect <<-\EOF &&
	own-hooks
	pre-push
	protected
	push-to-checkout
	reference-transaction
	EOF
	test_cmp expect actual &&
	test_must_be_empty repo/.git/ws/hooks/own-hooks &&
	cat >expect <<-EOF &&
	refs/heads/$B1 ws-1
	refs/heads/$B2 ws-2
	EOF
	test_cmp expect repo/.git/ws/hooks/protected
'

test_expect_success 'git update-ref of the base is refused' '
	refused update-ref &&
	grep "refusing to update refs/heads/main from workstream ws-2.s worktree: the base moves only through git ws-merge" \
		"$R/update-ref.out" &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'git branch -f of the base is refused' '
	refused branch-f &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'git push . HEAD:<base> is refused (by pre-push)' '
	refused push &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'git fetch . HEAD:<base> is refused' '
	refused fetch &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'another workstream'"'"'s branch can be neither moved nor deleted' '
	refused other-update &&
	grep "refusing to update refs/heads/$B1 from workstream ws-2.s worktree: it is workstream ws-1.s branch" \
		"$R/other-update.out" &&
	refused other-delete &&
	git -C repo rev-parse $B1 >actual &&
	test_cmp ws-1.before actual
'

test_expect_success 'its own branch, tags, remote-tracking refs, notes, stash and HEAD move' '
	for t in commit tag remote notes stash detach attach pack-refs
	do
		echo 0 >expect &&
		test_cmp expect "$R/$t.rc" || { cat "$R/$t.out"; return 1; }
	done &&
	git -C repo rev-parse $B2 >actual &&
	test_cmp "$R/head" actual &&
	! test_cmp main.before actual &&
	git -C repo log -1 --format=%s $B2 >subject &&
	echo "ws-2 own" >expect &&
	test_cmp expect subject &&
	git -C repo rev-parse -q --verify ws-2-tag &&
	git -C repo rev-parse -q --verify refs/remotes/origin/main &&
	git -C repo notes show $B2 &&
	git -C repo rev-parse -q --verify refs/stash
'

test_expect_success 'git pack-refs (as git gc runs it) does not trip the guard' '
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual &&
	grep -F " refs/heads/main" repo/.git/packed-refs
'

test_expect_success 'the main worktree can still move the base: no guard there' '
	(
		cd repo &&
		git branch -f main $B2 &&
		git rev-parse $B2 >expect &&
		git rev-parse main >actual &&
		test_cmp expect actual &&
		git update-ref refs/heads/main "$(cat ../main.before)" &&
		git rev-parse main >actual &&
		test_cmp ../main.before actual
	)
'

test_expect_success 'the repository'"'"'s hooks still run, with their input, and can refuse' '
	mkdir -p repo/.git/hooks &&
	write_script repo/.git/hooks/pre-commit <<-EOF &&
	echo "pre-commit in \$(pwd)" >>"$R/hooks.log"
	! git diff --cached --name-only | grep -q refuse-me
	EOF
	write_script repo/.git/hooks/reference-transaction <<-EOF &&
	while read old new ref
	do
		echo "\$1 \$ref" >>"$R/hooks.log"
	done
	EOF
	test_when_finished "rm -f repo/.git/hooks/pre-commit repo/.git/hooks/reference-transaction" &&
	cat >action <<-EOF &&
	. "$TRY"
	echo ok >ok.t &&
	git add ok.t &&
	try good git commit -q -m "passes pre-commit"
	echo no >refuse-me &&
	git add refuse-me &&
	try bad git commit -q -m "refused by pre-commit"
	git rm -q --cached refuse-me && rm refuse-me
	EOF
	rm -f "$R/hooks.log" &&
	as ws-2 action &&
	echo 0 >expect &&
	test_cmp expect "$R/good.rc" &&
	! test "$(cat "$R/bad.rc")" = 0 &&
	git -C repo log -1 --format=%s $B2 >subject &&
	echo "passes pre-commit" >expect &&
	test_cmp expect subject &&
	test "$(grep -c "^pre-commit in .*/repo-ws-2\$" "$R/hooks.log")" = 2 &&
	grep "^prepared refs/heads/$B2\$" "$R/hooks.log" &&
	grep "^committed refs/heads/$B2\$" "$R/hooks.log"
'

test_expect_success 'a relative core.hooksPath is the worktree'"'"'s, and a commit-msg hook there runs' '
	git -C repo config core.hooksPath .githooks &&
	echo .githooks >>repo/.git/info/exclude &&
	mkdir repo-ws-2/.githooks &&
	write_script repo-ws-2/.githooks/commit-msg <<-\EOF &&
	! grep -q WIP "$1"
	EOF
	test_when_finished "git -C repo config --unset core.hooksPath; rm -rf repo-ws-2/.githooks" &&
	cat >action <<-EOF &&
	. "$TRY"
	try wip git commit -q --allow-empty -m "WIP refused by commit-msg"
	try base git update-ref refs/heads/main HEAD
	EOF
	as ws-2 action &&
	! test "$(cat "$R/wip.rc")" = 0 &&
	git -C repo log -1 --format=%s $B2 >subject &&
	echo "passes pre-commit" >expect &&
	test_cmp expect subject &&
	grep "refusing to update refs/heads/main" "$R/base.out" &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'the gates of git ws-converge are guarded too' '
	write_script bin/gate <<-EOF &&
	. "$TRY"
	try gate-\${WS_GATE:-merge} git update-ref refs/heads/main HEAD
	echo "\$GIT_CONFIG_COUNT" >"\$R/gate-count"
	exit 0
	EOF
	# run as a guarded command would run it (from its worktree): the
	# gates get the guard once, not twice
	(
		cd repo &&
		GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath \
		GIT_CONFIG_VALUE_0="$(cat "$R/hookspath")" \
		git ws-converge ws-2 >../converge.out 2>&1
	) || { cat converge.out; false; } &&
	echo 1 >expect &&
	test_cmp expect "$R/gate-count" &&
	grep "refusing to update refs/heads/main" "$R/gate-tests.out" &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual &&
	(cd repo && ws_state ws-2 status) >status &&
	echo converged >expect &&
	test_cmp expect status
'

test_expect_success 'git ws-merge merges as before; its merge test is guarded' '
	git -C repo rev-parse $B2 >ws-2.tip &&
	(cd repo && git ws-merge >../merge.out 2>&1) ||
		{ cat merge.out; false; } &&
	grep "refusing to update refs/heads/main" "$R/gate-merge.out" &&
	git -C repo rev-parse main^1 >actual &&
	test_cmp main.before actual &&
	git -C repo rev-parse main^2 >actual &&
	test_cmp ws-2.tip actual &&
	(cd repo && ws_state ws-2 status) >status &&
	echo merged >expect &&
	test_cmp expect status
'

test_expect_success 'another repository made by a command keeps its own hooks, unguarded' '
	cat >action <<-EOF &&
	. "$TRY"
	git init -q "$PWD/other" &&
	git -C "$PWD/other" commit -q --allow-empty -m one &&
	git -C "$PWD/other" commit -q --allow-empty -m two &&
	try other-repo git -C "$PWD/other" update-ref refs/heads/main HEAD~1
	EOF
	as ws-1 action &&
	echo 0 >expect &&
	test_cmp expect "$R/other-repo.rc" &&
	git -C other rev-parse main~0 >actual &&
	git -C other rev-parse HEAD >expect &&
	test_cmp expect actual &&
	test "$(git -C other rev-list --count main)" = 1
'

test_expect_success 'ws.guard = false turns the guard off' '
	git -C repo config ws.guard false &&
	test_when_finished "git -C repo config --unset ws.guard" &&
	cat >action <<-EOF &&
	. "$TRY"
	git config core.hooksPath >"\$R/hookspath-off"
	try off-other git update-ref refs/heads/$B2 HEAD
	EOF
	as ws-1 action &&
	test_must_be_empty "$R/hookspath-off" &&
	echo 0 >expect &&
	test_cmp expect "$R/off-other.rc" &&
	git -C repo rev-parse $B1 >expect &&
	git -C repo rev-parse $B2 >actual &&
	test_cmp expect actual
'

test_expect_success 'a ws.guard that is not a boolean warns and keeps the guard' '
	git -C repo config ws.guard maybe &&
	test_when_finished "git -C repo config --unset ws.guard" &&
	cat >action <<-EOF &&
	. "$TRY"
	git commit -q --allow-empty -m "ws-1 own"
	try maybe git update-ref refs/heads/main HEAD
	EOF
	as ws-1 action &&
	grep "^warning: bad boolean config value .maybe. for .ws.guard." dispatch.out &&
	grep "refusing to update refs/heads/main" "$R/maybe.out"
'

test_expect_success 'a repository hook (pre-commit) added later runs in a guarded workstream' '
	mkdir -p repo/.git/hooks &&
	write_script repo/.git/hooks/pre-commit <<-EOF &&
	echo "marker \$WS_ID" >"$R/pre-commit-marker"
	EOF
	test_when_finished "rm -f repo/.git/hooks/pre-commit" &&
	cat >action <<-EOF &&
	git commit -q --allow-empty -m "ws-2 with a pre-commit"
	EOF
	rm -f "$R/pre-commit-marker" &&
	as ws-2 action &&
	echo "marker ws-2" >expect &&
	test_cmp expect "$R/pre-commit-marker" &&
	echo pre-commit >expect &&
	test_cmp expect repo/.git/ws/hooks/own-hooks &&
	test -h repo/.git/ws/hooks/pre-commit
'

test_done
