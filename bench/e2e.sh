#!/bin/sh
# bench/e2e.sh <repo> [<workstreams>]: run a whole plan on a copy of any
# repository and print the wall time of each phase (alloc, dispatch,
# converge, merge, clean). A benchmark, not a test: it asserts nothing
# about time.
#
# The repository is not touched: the run happens in a `git clone --shared`
# in a temporary directory. The plan has <workstreams> (default 8)
# workstreams in layers of a diamond-shaped dependency graph; each
# scripted agent adds and commits a file of its own. The test gate is
# $BENCH_TEST (default: true), e.g. BENCH_TEST="make -s" for a real build.
# The phases run in waves, each command on its own, as a script would:
# dispatch the ready workstreams, converge them, merge the queue, repeat.
set -eu
repo=${1:?usage: bench/e2e.sh <repo> [<workstreams>]}
n=${2:-8}
test_cmd=${BENCH_TEST:-true}
repo=$(cd "$repo" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init e2e alloc dispatch converge merge clean
add () { awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { printf "%.3f", a + b - c }'; }

git clone -q --shared "$repo" "$tmp/repo"
cd "$tmp/repo"
base=$(git symbolic-ref --short HEAD)
git config user.name "bench" && git config user.email "bench@example.com"

cat >"$tmp/agent.sh" <<'AGENT'
#!/bin/sh
set -e
mkdir -p ws-bench
echo "$WS_ID: $WS_TITLE" >"ws-bench/$WS_ID.txt"
git add ws-bench && git commit -q -m "$WS_ID: bench"
AGENT
chmod +x "$tmp/agent.sh"

{
	printf '[plan]\n\tname = bench\n\tbase = %s\n' "$base"
	printf '\tcommand = %s\n\ttest = %s\n\tjobs = 2\n' "'$tmp/agent.sh'" "$test_cmd"
	i=1
	while test $i -le "$n"
	do
		printf '[workstream "b%d"]\n\ttitle = Bench %d\n' $i $i
		# layers of 3: each workstream depends on the whole layer before
		layer=$(( (i - 1) / 3 ))
		if test $layer -gt 0
		then
			j=$(( (layer - 1) * 3 + 1 ))
			printf '\tdepends ='
			while test $j -le $(( layer * 3 )) && test $j -le "$n"
			do
				printf ' b%d' $j
				j=$((j + 1))
			done
			printf '\n'
		fi
		i=$((i + 1))
	done
} >"$tmp/bench.plan"

t_alloc=0 t_dispatch=0 t_converge=0 t_merge=0 t_clean=0
t0=$(now); git ws-alloc "$tmp/bench.plan" >/dev/null; t_alloc=$(add 0 "$(now)" "$t0")

rounds=0
while git ws-status --porcelain | grep -q -v "	merged	"
do
	rounds=$((rounds + 1))
	test $rounds -le "$n" || { echo "fatal: no progress after $n rounds" >&2; git ws-status >&2; exit 1; }
	t0=$(now); git ws-dispatch >/dev/null 2>&1 || :; t_dispatch=$(add "$t_dispatch" "$(now)" "$t0")
	t0=$(now); git ws-converge >/dev/null 2>&1 || :; t_converge=$(add "$t_converge" "$(now)" "$t0")
	t0=$(now); git ws-merge >/dev/null 2>&1 || :; t_merge=$(add "$t_merge" "$(now)" "$t0")
done
t0=$(now); git ws-clean >/dev/null; t_clean=$(add 0 "$(now)" "$t0")

printf 'bench/e2e.sh: %s workstreams on %s (%s rounds, test gate: %s)\n' "$n" "$repo" "$rounds" "$test_cmd"
printf '  %-9s %8.2f s\n' alloc "$t_alloc" dispatch "$t_dispatch" converge "$t_converge" merge "$t_merge" clean "$t_clean"
printf '  %-9s %8.2f s\n' total "$(awk -v a="$t_alloc" -v b="$t_dispatch" -v c="$t_converge" -v d="$t_merge" -v e="$t_clean" 'BEGIN { printf "%.3f", a + b + c + d + e }')"
