#!/bin/sh
# bench/alloc.sh [repo]: the time `git ws-alloc` takes to make the
# worktrees and branches of a 10-workstream plan, against
#  - the plain-git way: a loop of `git worktree add -b <branch> <dir>`, and
#  - the floor: `git archive HEAD | tar -x` of the same tree, 10 times
#    (writing the files and nothing else).
# It prints the three times (best of $RUNS runs) and the ratios. Target:
# git ws-alloc faster than the plain-git loop, within 1.5x of the floor.
#
# Without <repo> it generates one (about 5 000 files in nested
# directories, 20 commits). A <repo> given is never modified: every run
# works in its own `git clone --shared` in a temporary directory, which is
# removed at the end.
set -e

N=${N:-10}
RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init alloc alloc
bench_source 50 "$@"

# fresh <name>: a new shared clone at $tmp/<name>/repo, its HEAD a branch
# (no checkout: none of the three needs the main worktree's files).
fresh () {
	rm -rf "$tmp/$1"
	mkdir "$tmp/$1"
	git clone -q --shared --no-checkout "$src" "$tmp/$1/repo"
	git -C "$tmp/$1/repo" symbolic-ref -q HEAD >/dev/null ||
		git -C "$tmp/$1/repo" checkout -q -b bench-base
}

files=$(git -C "$src" ls-tree -r --name-only HEAD | wc -l)
{
	echo "[plan]"
	echo "	name = bench"
	i=1
	while test $i -le $N
	do
		printf '[workstream "ws-%d"]\n\ttitle = Workstream %d\n' $i $i
		i=$((i + 1))
	done
} >"$tmp/plan"

t_alloc= t_plain= t_floor= retries=0
run=1
while test $run -le "$RUNS"
do
	# git ws-alloc
	fresh a
	attempt=1
	while :
	do
		s=$(now)
		if (cd "$tmp/a/repo" && git ws-alloc "$tmp/plan" >/dev/null 2>"$tmp/alloc.err")
		then
			e=$(now)
			break
		fi
		# a failure is reported and the run tried again on a fresh clone
		retries=$((retries + 1))
		sed 's/^/  git ws-alloc: /' "$tmp/alloc.err" >&2
		test $attempt -lt 5 || { echo >&2 "git ws-alloc failed 5 times"; exit 1; }
		attempt=$((attempt + 1))
		fresh a
	done
	test "$(git -C "$tmp/a/repo" worktree list | wc -l)" -eq $((N + 1))
	t_alloc=$(min "$t_alloc" "$(elapsed "$s" "$e")")

	# the plain-git loop
	fresh b
	s=$(now)
	i=1
	while test $i -le $N
	do
		git -C "$tmp/b/repo" worktree add -q -b "plain/ws-$i" "$tmp/b/repo-ws-$i" HEAD
		i=$((i + 1))
	done
	e=$(now)
	t_plain=$(min "$t_plain" "$(elapsed "$s" "$e")")

	# the floor: the files, nothing else
	fresh c
	s=$(now)
	i=1
	while test $i -le $N
	do
		mkdir "$tmp/c/tree-$i"
		git -C "$tmp/c/repo" archive HEAD | tar -x -C "$tmp/c/tree-$i"
		i=$((i + 1))
	done
	e=$(now)
	t_floor=$(min "$t_floor" "$(elapsed "$s" "$e")")

	rm -rf "$tmp/a" "$tmp/b" "$tmp/c"
	run=$((run + 1))
done

echo "$N worktrees of $files files each, best of $RUNS runs, $(nproc 2>/dev/null || echo ?) CPUs"
printf '  %-34s %8ss\n' "git ws-alloc" "$t_alloc"
printf '  %-34s %8ss\n' "git worktree add -b (loop)" "$t_plain"
printf '  %-34s %8ss\n' "git archive | tar -x (floor)" "$t_floor"
echo "ratios:"
printf '  ws-alloc / plain-git loop  %6s   (target: < 1)\n' "$(ratio "$t_alloc" "$t_plain")"
printf '  ws-alloc / floor           %6s   (target: <= 1.5)\n' "$(ratio "$t_alloc" "$t_floor")"
printf '  plain-git loop / floor     %6s\n' "$(ratio "$t_plain" "$t_floor")"
test $retries -eq 0 || echo "note: git ws-alloc failed $retries time(s) and was run again (see above)"
