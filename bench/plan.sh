#!/bin/sh
# bench/plan.sh: a BENCHMARK, not a test. How the time of the plan-wide
# steps grows with the plan: for plans of SIZES workstreams (default
# 10000 20000 100000), each with up to 3 dependencies on the 50
# workstreams before it and 2 `paths` (a glob and a file of its own in
# one of 100 directories), and the same plans without paths, it prints
#  - `git ws-alloc --dry-run <plan>`: reading and checking the plan, the
#    graph, its order and cycle check, the sharing decisions and the
#    conflict-risk pass, the checks of each new branch and directory;
#  - `git ws-status --porcelain` of the same plan allocated;
#  - `git ws-merge -n` with every workstream queued: the merge order
#    and, per workstream, whether its branch is already in the base;
# each as wall and CPU (user + system) seconds, best of RUNS=1, and the
# ratio of each size's time to the smallest one's next to the ratio of
# the sizes (linear growth: the two ratios match). Targets: `git ws-alloc
# --dry-run` of 10 000 workstreams with paths under 0.5 s, of 100 000
# under 5 s. It never fails on a time.
#
# "Allocated" here means a state written as git ws-alloc writes it, but
# without the worktrees (making 100 000 checkouts would measure the file
# system, and git ws-alloc --dry-run writes nothing): every workstream
# `converged` on a branch at the base, so that git ws-status has a
# branch to compare with and git ws-merge -n a queue to order. The
# worktree directories do not exist, which git ws-status reports per
# workstream as it would for a worktree removed by hand.
set -e

SIZES=${SIZES:-10000 20000 100000}
RUNS=${RUNS:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init plan alloc status merge

# fresh: a new $tmp/repo with one commit, $base
fresh () {
	rm -rf "$tmp/repo"
	git init -q -b main "$tmp/repo"
	git -C "$tmp/repo" commit -q --allow-empty -m initial
	base=$(git -C "$tmp/repo" rev-parse HEAD)
}
fresh

# gen <n> <paths: 0|1>: the plan on stdout (the same plan for the same n)
gen () {
	awk -v n="$1" -v paths="$2" 'BEGIN {
		srand(42)
		printf "[plan]\n\tname = big\n\tbase = main\n\tcommand = true\n"
		for (i = 1; i <= n; i++) {
			printf "[workstream \"ws-%d\"]\n\ttitle = Workstream %d\n", i, i
			nd = i > 1 ? int(rand() * 4) : 0
			if (nd) {
				printf "\tdepends ="
				lo = i - 50 < 1 ? 1 : i - 50
				for (d = 0; d < nd; d++)
					printf " ws-%d", lo + int(rand() * (i - lo))
				printf "\n"
			}
			if (paths)
				printf "\tpaths = src/mod%d/ws%d/* docs/ws%d.md\n", i % 100, i, i
		}
	}'
}

# allocated <n> <plan>: the plan "allocated" in $tmp/repo as above
allocated () {
	fresh
	mkdir -p "$tmp/repo/.git/ws"
	cp "$2" "$tmp/repo/.git/ws/plan"
	awk -v n="$1" -v base="$base" -v top="$tmp/repo" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "[workstream \"ws-%d\"]\n", i > top "/.git/ws/state"
			printf "\tworktree = %s-ws-%d\n", top, i > top "/.git/ws/state"
			printf "\tbranch = feature/ws-%d-workstream-%d\n", i, i > top "/.git/ws/state"
			printf "\tbase-oid = %s\n\titerations = 1\n\tattempts = 1\n", base > top "/.git/ws/state"
			printf "\tcreated = 2026-01-01T00:00:00Z\n\tstatus = converged\n" > top "/.git/ws/state"
			printf "item = ws-%d\n", i > top "/.git/ws/queue.items"
			printf "create refs/heads/feature/ws-%d-workstream-%d %s\n", i, i, base
		}
	}' | git -C "$tmp/repo" update-ref --stdin
	{ echo "[queue]"; sed 's/^/	/' "$tmp/repo/.git/ws/queue.items"; } >"$tmp/repo/.git/ws/queue"
	rm "$tmp/repo/.git/ws/queue.items"
	git -C "$tmp/repo" pack-refs --all
}

# timed <command>...: run it in $tmp/repo (output discarded; a failure is
# shown and ends the benchmark); sets $wall and $cpu, best of $RUNS
timed () {
	wall= cpu=
	r=1
	while test $r -le "$RUNS"
	do
		( cd "$tmp/repo" && /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" \
			>/dev/null 2>"$tmp/err" ) || {
			code=$?
			# git ws-merge -n answers 1 when something would not merge
			test $code -eq 1 && test "$1" = git && test "$2" = ws-merge ||
				{ cat "$tmp/err" >&2; exit 1; }
		}
		wall=$(min "$wall" "$(tail -1 "$tmp/time" | awk '{ print $1 }')")
		cpu=$(min "$cpu" "$(tail -1 "$tmp/time" | awk '{ printf "%.2f", $2 + $3 }')")
		r=$((r + 1))
	done
}

test -x /usr/bin/time || { echo >&2 "bench/plan.sh: needs /usr/bin/time (GNU time)"; exit 1; }
echo "plans of $SIZES workstreams, best of $RUNS, $(nproc 2>/dev/null || echo ?) CPUs, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)"
printf '%-26s %8s %8s %8s %10s %10s\n' step workstr wall cpu "size x" "cpu x"
for paths in 1 0
do
	for step in alloc status merge
	do
		first= first_cpu=
		for n in $SIZES
		do
			gen $n $paths >"$tmp/plan"
			case $step in
			alloc)
				fresh
				timed git ws-alloc --dry-run "$tmp/plan" ;;
			status)
				allocated $n "$tmp/plan"
				timed git ws-status --porcelain ;;
			merge)
				allocated $n "$tmp/plan"
				timed git ws-merge -n ;;
			esac
			test -n "$first" || { first=$n first_cpu=$cpu; }
			label="$step, $(test $paths = 1 && echo with || echo without) paths"
			printf '%-26s %8d %7ss %7ss %10s %10s\n' "$label" $n "$wall" "$cpu" \
				"$(ratio $n $first)" \
				"$(awk "BEGIN { printf \"%.2f\", $cpu / ($first_cpu > 0 ? $first_cpu : 0.01) }")"
		done
	done
done
echo "targets: git ws-alloc --dry-run, with paths: 10000 < 0.5 s, 100000 < 5 s; every step linear (cpu x close to size x)"
