#!/bin/sh
# bench/dispatch.sh: a BENCHMARK, not a test. The overhead of
# `git ws-dispatch -j 2` for 200 workstreams whose command is `true`,
# against `xargs -P 2` running the same 200 commands (`/bin/sh -c true`)
# in the same 200 directories. It prints both times (best of $RUNS runs)
# and the ratio. Target: git ws-dispatch within 1.5x of xargs.
#
# What git ws-dispatch does per workstream on top of xargs: append a
# header and a footer to its log, remove and write its done file
# (atomically), record each round of starts in the state before the
# commands run (one locked, fsynced transaction per round: the start
# gate), and their ends in batches (one transaction per batch).
#
# Allocating 200 worktrees is slow (a minute or more): it is done once,
# before timing; each run only puts the workstreams back to `ready`.
# Everything lives in a temporary directory, removed at the end.
set -e

N=${N:-200}
JOBS=${JOBS:-2}
RUNS=${RUNS:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init dispatch alloc dispatch

git init -q -b main "$tmp/repo"
(
	cd "$tmp/repo"
	echo "bench" >README
	git add README
	git commit -q -m initial
)
{
	printf '[plan]\n\tname = bench\n\tbase = main\n\tcommand = true\n'
	i=1
	while test $i -le $N
	do
		printf '[workstream "ws-%d"]\n\ttitle = Workstream %d\n' $i $i
		i=$((i + 1))
	done
} >"$tmp/plan"

echo "allocating $N worktrees (once, not timed) ..."
(cd "$tmp/repo" && git ws-alloc "$tmp/plan" >/dev/null)
state=$tmp/repo/.git/ws/state
git config -f "$state" --get-regexp '^workstream\..*\.worktree$' |
	cut -d' ' -f2- >"$tmp/dirs"
test "$(wc -l <"$tmp/dirs")" -eq $N

# every workstream back to ready, as if it had never run
reset_state () {
	sed -e 's/^	status = .*/	status = ready/' \
	    -e '/^	reason = /d' -e '/^	pid = /d' "$state" >"$state.new"
	mv "$state.new" "$state"
}

t_ws= t_xargs=
run=1
while test $run -le "$RUNS"
do
	reset_state
	s=$(now)
	(cd "$tmp/repo" && git ws-dispatch -j $JOBS >/dev/null 2>"$tmp/err") || {
		cat "$tmp/err" >&2; exit 1; }
	e=$(now)
	test "$(git config -f "$state" --get-regexp '\.status$' | grep -c ' done$')" -eq $N
	t_ws=$(min "$t_ws" "$(elapsed "$s" "$e")")

	s=$(now)
	tr '\n' '\0' <"$tmp/dirs" | xargs -0 -P $JOBS -I{} env -C {} /bin/sh -c true
	e=$(now)
	t_xargs=$(min "$t_xargs" "$(elapsed "$s" "$e")")
	run=$((run + 1))
done

echo "$N commands (\`true\`), -j $JOBS, best of $RUNS runs, $(nproc 2>/dev/null || echo ?) CPUs"
printf '  %-34s %8ss\n' "git ws-dispatch -j $JOBS" "$t_ws"
printf '  %-34s %8ss\n' "xargs -P $JOBS (env -C dir sh -c true)" "$t_xargs"
printf 'ratio: ws-dispatch / xargs  %6s   (target: <= 1.5)\n' "$(ratio "$t_ws" "$t_xargs")"
