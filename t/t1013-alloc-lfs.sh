#!/bin/sh

test_description='git ws-alloc and the plan on a repository with Git LFS files: the local LFS store, never the network; lfs = skip'

. ./lib-ws.sh

if ! git lfs version >/dev/null 2>&1
then
	if test -n "$GIT_WS_TEST_REQUIRE_LFS"
	then
		echo "error: git-lfs is required here (GIT_WS_TEST_REQUIRE_LFS) but missing" >&2
		exit 1
	fi
	skip_all='skipping the LFS tests: git-lfs is not installed (Debian: apt-get install git-lfs)'
	test_done
fi

# lfs_repo <dir>: a repository whose model.bin (200 kB of noise) is an LFS
# file, and main.c is not. Every LFS transfer would go to a port where
# nothing listens: a fetch fails the smudge, and so the checkout, loudly.
lfs_repo () {
	git init -q "$1" &&
	(
		cd "$1" &&
		git lfs install --local >/dev/null &&
		git lfs track "*.bin" >/dev/null &&
		head -c 200000 /dev/urandom >model.bin &&
		echo code >main.c &&
		git add . && test_tick && git commit -q -m "with lfs" &&
		git config lfs.url http://127.0.0.1:9/no-lfs-server
	)
}

test_expect_success 'setup: a repository with LFS files, and an LFS server that does not exist' '
	lfs_repo repo &&
	(
		cd repo &&
		git lfs ls-files >../lfs-files &&
		grep model.bin ../lfs-files
	) &&
	cat >plan <<-\EOF
	[plan]
		command = echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" && git commit -qm "$WS_ID"
		test = cmp model.bin \"$GIT_WS_DIR/../../../model.copy\"
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	[workstream "p"]
		title = Pointers only
		lfs = skip
		test = test -f model.bin
	EOF
	cp repo/model.bin model.copy
'

test_expect_success 'new worktrees get the LFS files from the local store, with no fetch' '
	(cd repo && GIT_TRACE=1 git ws-alloc ../plan >/dev/null 2>../trace) &&
	test_cmp repo/model.bin repo-a/model.bin &&
	test_cmp repo/model.bin repo-b/model.bin &&
	grep "filter-process" trace >/dev/null &&
	! grep -i "127.0.0.1:9\|HTTP: \|lfs.url" trace
'

test_expect_success 'lfs = skip leaves pointer files, which git status takes as unchanged' '
	git -C repo-p lfs pointer --check --file model.bin &&
	test $(wc -c <repo-p/model.bin) -lt 200 &&
	git -C repo-p status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'the plan runs and merges: gates and merge tests see the files they need' '
	(cd repo && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd repo && for id in a b p
	do
		test "$(ws_state $id status)" = merged || exit 1
	done) &&
	git -C repo lfs ls-files >after &&
	test_cmp lfs-files after &&
	test_cmp model.copy repo/model.bin
'

# A pool's slot serves one workstream after another: the LFS choice is
# each workstream's own, not what the slot's last one chose.
test_expect_success 'a pool slot that served lfs = skip gives the next workstream the files' '
	lfs_repo pooled &&
	cp pooled/model.bin pooled.copy &&
	cat >pool.plan <<-\EOF &&
	[plan]
		name = pooled
		pool = 1
		command = echo "$WS_ID" >"$WS_ID.txt" && git add "$WS_ID.txt" && git commit -qm "$WS_ID"
		test = cmp model.bin \"$GIT_WS_DIR/../../../pooled.copy\"
	[workstream "p"]
		title = Pointers only
		lfs = skip
		command = git lfs pointer --check --file model.bin && echo p >p.txt && git add p.txt && git commit -qm p
		test = test -f model.bin
	[workstream "f"]
		title = Files
		depends = p
	EOF
	(cd pooled && git ws-alloc ../pool.plan >/dev/null) &&
	(cd pooled && timeout 300 git ws-dispatch --loop >../out 2>&1) || { cat out; false; } &&
	(cd pooled && test "$(ws_state p status)" = merged &&
	 test "$(ws_state f status)" = merged) &&
	grep "^f: takes worktree slot .slot-1. (was p.s)" out &&
	slot=$(cd pooled && ws_state f worktree) &&
	test_cmp pooled.copy "$slot/model.bin" &&
	test_must_fail git -C "$slot" config --worktree --get filter.lfs.smudge &&
	git -C "$slot" status --porcelain >st &&
	test_must_be_empty st
'

test_expect_success 'an unknown lfs value: file, line and key' '
	printf "[plan]\n\tcommand = true\n\tlfs = lazy\n[workstream \"a\"]\n\ttitle = A\n" >bad.plan &&
	(cd repo && test_expect_code 128 git ws-alloc -n ../bad.plan 2>../err) &&
	grep "bad.plan:3: bad lfs .lazy. (expected checkout or skip)" err
'

test_done
