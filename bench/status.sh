#!/bin/sh
# bench/status.sh [repo]: `git ws-status` of a plan of 50 workstreams
# against what a person would run with plain git to learn the same:
# `git worktree list --porcelain`, then `git status --porcelain` in each
# worktree. It prints both times (best of $RUNS runs) and the ratio.
# Target: git ws-status no slower (ratio <= 1).
#
# Without <repo> it generates one (about 2 000 files; FILES_PER_DIR=50
# makes it 5 000, at the cost of 250 000 files checked out). A <repo>
# given is never modified: the plan is allocated in a `git clone --shared`
# in a temporary directory, removed at the end. Some worktrees are made
# dirty and some get commits, so that both sides have work to do.
set -e

N=${N:-50}
RUNS=${RUNS:-5}
FILES_PER_DIR=${FILES_PER_DIR:-20}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init status alloc status
bench_source "$FILES_PER_DIR" "$@"
files=$(git -C "$src" ls-tree -r --name-only HEAD | wc -l)

{
	echo "[plan]"
	echo "	name = bench"
	i=1
	while test $i -le $N
	do
		printf '[workstream "ws-%d"]\n\ttitle = Workstream %d\n' $i $i
		# a third of them wait for another: blocked, with a reason
		test $((i % 3)) -ne 0 || printf '\tdepends = ws-%d\n' $((i - 1))
		i=$((i + 1))
	done
} >"$tmp/plan"

echo "allocating $N worktrees ..."
git clone -q --shared "$src" "$tmp/w/repo"
git -C "$tmp/w/repo" symbolic-ref -q HEAD >/dev/null ||
	git -C "$tmp/w/repo" checkout -q -b bench-base
attempt=1
until (cd "$tmp/w/repo" && git ws-alloc "$tmp/plan" >/dev/null 2>"$tmp/alloc.err")
do
	sed 's/^/  git ws-alloc: /' "$tmp/alloc.err" >&2
	test $attempt -lt 5 || { echo >&2 "git ws-alloc failed 5 times"; exit 1; }
	attempt=$((attempt + 1))
	echo >&2 "  (trying again)"
done

# Work in some of them: an untracked file in every 4th, a modified file in
# every 5th, two commits in every 7th.
i=1
while test $i -le $N
do
	wt=$tmp/w/repo-ws-$i
	test $((i % 4)) -ne 0 || echo scratch >"$wt/untracked-$i.txt"
	if test $((i % 5)) -eq 0
	then
		f=$(git -C "$wt" ls-files | head -n 1)
		echo "edit $i" >>"$wt/$f"
	fi
	if test $((i % 7)) -eq 0
	then
		echo "one $i" >"$wt/new-$i.txt"
		git -C "$wt" add "new-$i.txt" && git -C "$wt" commit -q -m "one $i"
		echo "two $i" >>"$wt/new-$i.txt"
		git -C "$wt" commit -q -a -m "two $i"
	fi
	i=$((i + 1))
done

# What plain git needs: the worktree list, then each workstream worktree's
# status (the main worktree, first in the list, is not a workstream's).
plain_git () {
	git -C "$tmp/w/repo" worktree list --porcelain |
	sed -n 's/^worktree //p' | sed 1d |
	while read -r wt
	do
		echo "== $wt"
		git -C "$wt" status --porcelain
	done
}

# Warm the caches for both, then measure.
(cd "$tmp/w/repo" && git ws-status >/dev/null)
plain_git >/dev/null
t_ws= t_porc= t_plain=
run=1
while test $run -le "$RUNS"
do
	s=$(now)
	(cd "$tmp/w/repo" && git ws-status >"$tmp/ws.out")
	e=$(now)
	t_ws=$(min "$t_ws" "$(elapsed "$s" "$e")")

	s=$(now)
	(cd "$tmp/w/repo" && git ws-status --porcelain >/dev/null)
	e=$(now)
	t_porc=$(min "$t_porc" "$(elapsed "$s" "$e")")

	s=$(now)
	plain_git >"$tmp/plain.out"
	e=$(now)
	t_plain=$(min "$t_plain" "$(elapsed "$s" "$e")")
	run=$((run + 1))
done

# Both must have seen the same dirty worktrees.
dirty_ws=$(grep -c '  dirty' "$tmp/ws.out" || :)
dirty_plain=$(awk '/^== / { wt = $2; next } { d[wt] = 1 } END { n = 0; for (k in d) n++; print n }' "$tmp/plain.out")

echo "$N workstreams ($dirty_ws worktrees dirty; plain git saw $dirty_plain) of $files files each, best of $RUNS runs"
printf '  %-44s %8ss\n' "git ws-status" "$t_ws"
printf '  %-44s %8ss\n' "git ws-status --porcelain" "$t_porc"
printf '  %-44s %8ss\n' "git worktree list + git status --porcelain x$N" "$t_plain"
printf 'ratio ws-status / plain git: %s   (target: <= 1)\n' "$(ratio "$t_ws" "$t_plain")"
