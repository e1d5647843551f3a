#!/bin/sh
# bench/pool.sh [repo]: a plan of N=20 workstreams in dependency levels
# (4 levels of 5: ws-i depends on ws-(i-5)), run to the end by
# `git ws-dispatch --loop -j 2`, once with `pool = 2` (git ws-alloc
# --pool 2) and once without, in one run. Each workstream's command adds
# and commits one file, and records how many worktrees of the plan exist
# while it runs. Prints for each:
#  - the time spent making worktrees: without a pool, `git ws-alloc`
#    (which makes all of them); with one, `git ws-alloc` (branches only)
#    plus the time git ws-dispatch spends taking slots: from each
#    "takes worktree slot" line it prints to the "running its setup"
#    line that follows once the slot is ready (the plan's setup is `:`,
#    for both runs). Not counted: the clean check of a free slot before
#    it is taken (a status of the worktree, as the `clean` gate's);
#  - the peak number of the plan's worktrees (git ws-merge's scratch
#    worktree and the main one not counted);
#  - the disk those worktrees use at their peak (du -sk);
#  - the whole run (alloc, then dispatch --loop), for context;
# and the ratio pool / no pool of the worktree time. Target: 0.3x or
# less, and never more than 2 worktrees. It never fails on a time.
#
# Run it on a clone of git.git (about 4 800 files per checkout), e.g.
#   git clone --bare https://github.com/git/git.git /tmp/git.git
#   bench/pool.sh /tmp/git.git
# Without <repo> it generates one (about 5 000 files, 20 commits). A
# <repo> given is never modified: the runs work in `git clone --shared`
# copies in a temporary directory, removed at the end (KEEP=1 keeps it).
set -e

N=${N:-20}
POOL=${POOL:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init pool alloc dispatch converge merge
bench_source 50 "$@"

# fresh <name>: a new shared clone at $tmp/<name>/repo without a checkout,
# its HEAD a branch.
fresh () {
	rm -rf "$tmp/$1"
	mkdir "$tmp/$1"
	git clone -q --shared --no-checkout "$src" "$tmp/$1/repo"
	git -C "$tmp/$1/repo" symbolic-ref -q HEAD >/dev/null ||
		git -C "$tmp/$1/repo" checkout -q -b bench-base
	git -C "$tmp/$1/repo" symbolic-ref --short HEAD >"$tmp/$1/base"
}

mkdir "$tmp/bin"
# the workstreams' command: count the plan's worktrees (not the main one,
# not the scratch one), then commit a file
cat >"$tmp/bin/bench-work" <<\EOF
#!/bin/sh
git worktree list --porcelain | grep "^worktree " |
	grep -v -e "/ws/scratch$" -e "^worktree $WS_MAIN$" | wc -l >>"$WS_COUNTS"
echo "$WS_ID" >"bench-$WS_ID.txt"
git add "bench-$WS_ID.txt" && git commit -q -m "$WS_ID"
EOF
chmod +x "$tmp/bin/bench-work"
PATH="$tmp/bin:$PATH"

{
	echo "[plan]"
	echo "	name = bench"
	echo "	jobs = 2"
	echo "	command = bench-work"
	echo "	setup = :"
	i=1
	while test $i -le $N
	do
		printf '[workstream "ws-%d"]\n\ttitle = Workstream %d\n' $i $i
		test $i -le 5 || printf '\tdepends = ws-%d\n' $((i - 5))
		i=$((i + 1))
	done
} >"$tmp/plan"

# stamp: each line of stdin with the time it arrived in front
stamp () {
	while IFS= read -r line
	do
		echo "$(now) $line"
	done
}

# worktrees_kb <name>: the disk the plan's worktrees of run <name> use
worktrees_kb () {
	du -skc "$tmp/$1"/repo-* 2>/dev/null | awk 'END { print $1 + 0 }'
}

# run <name> <alloc options>: allocate and run the plan; sets t_wt,
# t_all, peak and kb.
run () {
	fresh "$1"
	WS_COUNTS=$tmp/$1/counts WS_MAIN=$tmp/$1/repo
	export WS_COUNTS WS_MAIN
	: >"$WS_COUNTS"
	s=$(now)
	(cd "$tmp/$1/repo" && git ws-alloc --base "$(cat "$tmp/$1/base")" $2 "$tmp/plan" >/dev/null)
	e=$(now)
	t_alloc=$(elapsed "$s" "$e")
	kb=$(worktrees_kb "$1")
	(cd "$tmp/$1/repo" && git ws-dispatch --loop 2>&1 >"$tmp/$1/loop.out" | stamp >"$tmp/$1/loop.err") ||
		{ cat "$tmp/$1/loop.out" "$tmp/$1/loop.err" >&2; exit 1; }
	e2=$(now)
	grep -q "^$N/$N merged" "$tmp/$1/loop.out" ||
		{ cat "$tmp/$1/loop.out" >&2; exit 1; }
	t_all=$(elapsed "$s" "$e2")
	# from each "takes worktree slot" line to its "running its setup"
	t_slots=$(awk '
		taking && /: running its setup/ { sum += $1 - since; taking = 0 }
		/: takes worktree slot/ { since = $1; taking = 1 }
		END { printf "%.3f", sum }' "$tmp/$1/loop.err")
	t_wt=$(awk "BEGIN { printf \"%.3f\", $t_alloc + $t_slots }")
	peak=$(sort -n "$WS_COUNTS" | tail -n 1)
	after=$(worktrees_kb "$1")
	test "$after" -le "$kb" || kb=$after
}

files=$(git -C "$src" ls-tree -r --name-only HEAD | wc -l)

run nopool ""
np_wt=$t_wt np_all=$t_all np_peak=$peak np_kb=$kb
rm -rf "$tmp/nopool"

run pool "--pool $POOL"
p_wt=$t_wt p_all=$t_all p_peak=$peak p_kb=$kb
slots_taken=$(grep -c ": takes worktree slot" "$tmp/pool/loop.err" || true)
slots_made=$(grep -c ": takes worktree slot '[^']*'$" "$tmp/pool/loop.err" || true)

echo "$N workstreams in 4 levels, checkouts of $files files, -j 2, $(nproc 2>/dev/null || echo ?) CPUs"
printf '  %-12s %14s %14s %10s %12s\n' "" "making wts (s)" "whole run (s)" "peak wts" "disk (MiB)"
printf '  %-12s %14s %14s %10s %12s\n' "no pool" "$np_wt" "$np_all" "$np_peak" "$((np_kb / 1024))"
printf '  %-12s %14s %14s %10s %12s\n' "pool = $POOL" "$p_wt" "$p_all" "$p_peak" "$((p_kb / 1024))"
echo "pool: $slots_taken slots taken, $slots_made of them made new, the others switched with git checkout"
echo "ratios (pool / no pool):"
printf '  making worktrees  %6s   (target: <= 0.3)\n' "$(ratio "$p_wt" "$np_wt")"
printf '  whole run         %6s\n' "$(ratio "$p_all" "$np_all")"
printf '  disk              %6s\n' "$(ratio "$p_kb" "$np_kb")"
if test "$p_peak" -le "$POOL"
then
	echo "peak worktrees with the pool: $p_peak (target: <= $POOL): met"
else
	echo "peak worktrees with the pool: $p_peak (target: <= $POOL): NOT met"
fi
