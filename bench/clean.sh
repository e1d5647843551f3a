#!/bin/sh
# bench/clean.sh [repo]: a BENCHMARK, not a test. The time `git ws-clean`
# takes to remove N=200 merged workstreams (their worktrees and
# branches), against the plain-git way over as many worktrees made the
# same way: a loop of `git worktree remove <dir>` and `git branch -d
# <branch>`. It prints both times (best of RUNS=3 runs) and the ratio.
# Target: git ws-clean no slower than the loop (ratio <= 1). It never
# fails on a time.
#
# The workstreams are allocated by git ws-alloc and marked merged in the
# state (their branches are at the base, so git ws-clean finds them
# merged by ancestry, as after a merge of nothing); the plain worktrees
# by `git worktree add -b`. Neither is timed. Without <repo> the
# repository is a one-file one (the time is then git-ws's, not the file
# system's); a <repo> given is only cloned (`git clone --shared`).
set -e

N=${N:-200}
RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init clean alloc clean

if test $# -ge 1
then
	src=$(cd "$1" && pwd)
	git -C "$src" rev-parse --git-dir >/dev/null
else
	src=$tmp/src
	git init -q -b main "$src"
	echo bench >"$src/README"
	git -C "$src" add README
	git -C "$src" commit -q -m initial
fi
{
	printf '[plan]\n\tname = bench\n\tbase = main\n'
	i=1
	while test $i -le $N
	do
		printf '[workstream "ws-%d"]\n\ttitle = Workstream %d\n' $i $i
		i=$((i + 1))
	done
} >"$tmp/plan"

t_ws= t_plain=
run=1
while test $run -le "$RUNS"
do
	rm -rf "$tmp/r"
	mkdir "$tmp/r"
	git clone -q --shared "$src" "$tmp/r/repo"
	git -C "$tmp/r/repo" checkout -q -B main

	# git ws-clean of N merged workstreams
	(cd "$tmp/r/repo" && git ws-alloc "$tmp/plan" >/dev/null)
	state=$tmp/r/repo/.git/ws/state
	sed -e 's/^	status = .*/	status = merged/' -e '/^	reason = /d' \
		"$state" >"$state.new"
	mv "$state.new" "$state"
	s=$(now)
	(cd "$tmp/r/repo" && git ws-clean >/dev/null 2>"$tmp/err") || {
		cat "$tmp/err" >&2; exit 1; }
	e=$(now)
	test "$(git -C "$tmp/r/repo" worktree list | wc -l)" -eq 1
	t_ws=$(min "$t_ws" "$(elapsed "$s" "$e")")

	# the plain-git loop over as many worktrees
	i=1
	while test $i -le $N
	do
		git -C "$tmp/r/repo" worktree add -q -b "plain/ws-$i" "$tmp/r/plain-$i" main
		i=$((i + 1))
	done
	s=$(now)
	i=1
	while test $i -le $N
	do
		git -C "$tmp/r/repo" worktree remove "$tmp/r/plain-$i"
		git -C "$tmp/r/repo" branch -q -d "plain/ws-$i"
		i=$((i + 1))
	done
	e=$(now)
	test "$(git -C "$tmp/r/repo" worktree list | wc -l)" -eq 1
	t_plain=$(min "$t_plain" "$(elapsed "$s" "$e")")
	run=$((run + 1))
done

echo "$N merged workstreams, best of $RUNS runs, $(nproc 2>/dev/null || echo ?) CPUs, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)"
printf '  %-44s %8ss\n' "git ws-clean" "$t_ws"
printf '  %-44s %8ss\n' "git worktree remove + git branch -d (loop)" "$t_plain"
printf 'ratio: ws-clean / loop  %6s   (target: <= 1)\n' "$(ratio "$t_ws" "$t_plain")"
