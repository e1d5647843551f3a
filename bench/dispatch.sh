#!/bin/sh
# bench/dispatch.sh: a BENCHMARK, not a test. The overhead of
# `git ws-dispatch -j 2` for 200 workstreams whose command is `true`,
# against `xargs -P 2` running the same 200 commands (`/bin/sh -c true`)
# in the same 200 directories. It prints both times (best of $RUNS runs)
# and the ratio. Target: git ws-dispatch within 1.5x of xargs.
#
# Then a Slurm case: $SLURM_N (50) no-op workstreams with runner = srun,
# -j $SLURM_JOBS (4), against `xargs -P $SLURM_JOBS` running `srun true`
# in the same directories, on the same cluster, best of $RUNS. Target:
# 1.2x or less. The cluster is the one the Slurm client is configured
# for when `sinfo` answers; else, when the Slurm and munge daemons are
# installed, a one-node Slurm of the test suite's (t/lib-slurm.sh),
# started for the run and stopped after; else the case is skipped.
# SLURM=no skips it.
#
# What git ws-dispatch does per workstream on top of xargs: start its
# supervisor (libexec/git-ws/ws-supervise, by posix_spawn), append a
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

# The Slurm case.
test "${SLURM:-auto}" != no || exit 0
command -v srun >/dev/null 2>&1 || { echo "slurm case: skipped (no srun)"; exit 0; }
SLURM_N=${SLURM_N:-50}
SLURM_JOBS=${SLURM_JOBS:-4}
if ! sinfo -h >/dev/null 2>&1
then
	# t/lib-slurm.sh is written for sharness: the few helpers it uses
	test_set_prereq () { :; }
	say () { echo "$*"; }
	error () { echo "bench/dispatch.sh: $*" >&2; exit 1; }
	cleanup () { :; }
	die () { rm -rf "$tmp"; }
	wait_for () {
		i=0
		while ! eval "$1"
		do
			test $i -lt 200 || { echo "timed out waiting for: $1"; return 1; }
			sleep 0.1
			i=$((i + 1))
		done
	}
	SHARNESS_TRASH_DIRECTORY=$tmp
	SHARNESS_TEST_DIRECTORY=$here/t
	PATH=$PATH:/usr/sbin
	. "$here/t/lib-slurm.sh"
	test -z "$slurm_missing" || { echo "slurm case: skipped (missing$slurm_missing)"; exit 0; }
	echo "starting a one-node Slurm (t/lib-slurm.sh) ..."
	slurm_start >"$tmp/slurm-start.log" 2>&1 || {
		cat "$tmp/slurm-start.log" >&2; exit 1; }
	trap 'set +e; slurm_stop; rm -rf "$tmp"' EXIT
fi

git init -q -b main "$tmp/srepo"
(
	cd "$tmp/srepo"
	echo "bench" >README
	git add README
	git commit -q -m initial
)
{
	printf '[plan]\n\tname = sbench\n\tbase = main\n\trunner = srun\n\tcommand = true\n'
	i=1
	while test $i -le $SLURM_N
	do
		printf '[workstream "s-%d"]\n\ttitle = Slurm workstream %d\n' $i $i
		i=$((i + 1))
	done
} >"$tmp/splan"
echo "allocating $SLURM_N worktrees (once, not timed) ..."
(cd "$tmp/srepo" && git ws-alloc "$tmp/splan" >/dev/null)
state=$tmp/srepo/.git/ws/state
git config -f "$state" --get-regexp '^workstream\..*\.worktree$' |
	cut -d' ' -f2- >"$tmp/sdirs"

t_ws= t_xargs=
run=1
while test $run -le "$RUNS"
do
	reset_state
	s=$(now)
	(cd "$tmp/srepo" && git ws-dispatch -j $SLURM_JOBS >/dev/null 2>"$tmp/err") || {
		cat "$tmp/err" >&2; exit 1; }
	e=$(now)
	test "$(git config -f "$state" --get-regexp '\.status$' | grep -c ' done$')" -eq $SLURM_N
	t_ws=$(min "$t_ws" "$(elapsed "$s" "$e")")

	s=$(now)
	tr '\n' '\0' <"$tmp/sdirs" |
		xargs -0 -P $SLURM_JOBS -I{} srun --quiet --chdir={} --export=ALL /bin/sh -c true
	e=$(now)
	t_xargs=$(min "$t_xargs" "$(elapsed "$s" "$e")")
	run=$((run + 1))
done

echo "slurm: $SLURM_N jobs (\`true\`), -j $SLURM_JOBS, best of $RUNS runs, $(sinfo -h -o '%D nodes, %c CPUs/node' | head -n 1)"
printf '  %-34s %8ss\n' "git ws-dispatch -j $SLURM_JOBS (srun)" "$t_ws"
printf '  %-34s %8ss\n' "xargs -P $SLURM_JOBS srun sh -c true" "$t_xargs"
printf 'ratio: ws-dispatch / xargs  %6s   (target: <= 1.2)\n' "$(ratio "$t_ws" "$t_xargs")"
