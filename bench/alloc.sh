#!/bin/sh
# bench/alloc.sh [repo]: the time `git ws-alloc` takes to make the
# worktrees and branches of a 10-workstream plan, against
#  - the plain-git way: a loop of `git worktree add -b <branch> <dir>`, and
#  - the floor: `git archive HEAD | tar -x` of the same tree, 10 times
#    (writing the files and nothing else).
# It prints the three times (best of $RUNS runs) and the ratios. Target:
# git ws-alloc faster than the plain-git loop, within 1.5x of the floor.
#
# Two more cases, against the same plain-git loop:
#  - sparse: the main worktree a cone-mode sparse checkout of about 10%
#    of the files (whole directories two levels down), whose patterns
#    the new worktrees inherit. Target: 0.2x of the loop or less, since
#    only the sparse files are written;
#  - include: a .worktreeinclude naming 100 ignored files, which each new
#    worktree gets copies of; it prints the time that adds per worktree.
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

# the directories two levels down, in order, until they hold 10% of the files
cone=$(git -C "$src" ls-tree -r --name-only HEAD |
	awk -F/ 'NF > 2 { print $1 "/" $2 }' | sort | uniq -c |
	awk -v want=$((files / 10)) '{ if (sum < want) { print $2; sum += $1 } }')
test -n "$cone"

# alloc <name> <setup command>: run the setup in a fresh clone, then time
# git ws-alloc there; prints the seconds.
alloc () {
	fresh "$1"
	(cd "$tmp/$1/repo" && eval "$2")
	s=$(now)
	(cd "$tmp/$1/repo" && git ws-alloc "$tmp/plan" >/dev/null)
	e=$(now)
	test "$(git -C "$tmp/$1/repo" worktree list | wc -l)" -eq $((N + 1))
	elapsed "$s" "$e"
	rm -rf "$tmp/$1"
}

t_alloc= t_plain= t_floor= t_sparse= t_include= retries=0
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

	t_sparse=$(min "$t_sparse" "$(alloc d 'git sparse-checkout set --cone $cone')")
	t_include=$(min "$t_include" "$(alloc e 'git checkout -q &&
		mkdir local && echo local/ >.git/info/exclude &&
		for i in $(seq 1 100); do echo "key$i=1" >local/env$i; done &&
		echo local/ >.worktreeinclude')")
	run=$((run + 1))
done
sparse_files=$(git -C "$src" ls-tree -r --name-only HEAD -- $cone | wc -l)

echo "$N worktrees of $files files each, best of $RUNS runs, $(nproc 2>/dev/null || echo ?) CPUs"
printf '  %-34s %8ss\n' "git ws-alloc" "$t_alloc"
printf '  %-34s %8ss\n' "git worktree add -b (loop)" "$t_plain"
printf '  %-34s %8ss\n' "git archive | tar -x (floor)" "$t_floor"
echo "ratios:"
printf '  ws-alloc / plain-git loop  %6s   (target: < 1)\n' "$(ratio "$t_alloc" "$t_plain")"
printf '  ws-alloc / floor           %6s   (target: <= 1.5)\n' "$(ratio "$t_alloc" "$t_floor")"
printf '  plain-git loop / floor     %6s\n' "$(ratio "$t_plain" "$t_floor")"
echo "sparse: the main worktree checks out $sparse_files of the $files files ($(echo $cone | wc -w) directories)"
printf '  %-34s %8ss\n' "git ws-alloc, sparse" "$t_sparse"
printf '  ws-alloc sparse / plain-git loop  %6s   (target: <= 0.2)\n' "$(ratio "$t_sparse" "$t_plain")"
echo "include: .worktreeinclude names 100 ignored files"
printf '  %-34s %8ss\n' "git ws-alloc, with the copies" "$t_include"
printf '  time the copies add per worktree  %6ss\n' \
	"$(awk "BEGIN { printf \"%.3f\", ($t_include - $t_alloc) / $N }")"
test $retries -eq 0 || echo "note: git ws-alloc failed $retries time(s) and was run again (see above)"
