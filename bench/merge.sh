#!/bin/sh
# bench/merge.sh [repo]: the conflict check of `git ws-merge -n` against
# its floor, `git merge-tree --write-tree` on the same pairs, and against
# the plain-git way (check out, `git merge --no-commit --no-ff`,
# `git merge --abort`).
#
# 20 workstreams are queued on a clone of <repo>: the base is a commit of
# its first-parent history, and each workstream's branch is the topic
# branch (second parent) of one of the 20 merges that came after it, so
# each is a real commit range of the history, merged into an older base.
# Without <repo>, a repository with such a history is generated.
# Target: git ws-merge -n within 1.2x of merge-tree.
#
# Then --batch: BATCH_N=16 queued workstreams (in a generated repository),
# one of which (the BAD=9th) breaks the tests, merged one by one and with
# --batch=BATCH (8): the test runs of each (target: 6 or fewer with
# --batch), whether the final trees of the base are the same, and both
# times (the test command sleeps TEST_SLEEP=0.2 s, as a test suite takes
# time). Never fails on a time.
# Conflicts (bench_conflicts below): `git ws-status --conflicts` for
# C=20 active workstreams (190 pairs, and 20 with the base), each forked
# from one base commit as git ws-alloc forks them and carrying the change
# one merge of the history made, the base moved on by 5 merges since; against
# the plain-git way, one `git merge-tree --write-tree` per pair. Target:
# 2 s or less.
set -e

N=${N:-20}
RUNS=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib-bench.sh"
bench_init merge merge

# A history of topic branches merged with --no-ff, forked a few merges back.
generate_merged_topics () {
	git init -q -b main "$1"
	(
		cd "$1"
		i=0
		while test $i -lt 40
		do
			mkdir -p "dir$i"
			j=0
			while test $j -lt 50
			do
				printf 'file %d %d\nline\nline\nline\n' $i $j >"dir$i/f$j.c"
				j=$((j + 1))
			done
			i=$((i + 1))
		done
		git add . && git commit -q -m initial
		t=0
		while test $t -lt 60
		do
			fork=$(git rev-parse "main~$((t % 4))" 2>/dev/null || git rev-parse main)
			git checkout -q -b "topic$t" "$fork"
			c=0
			while test $c -lt 3
			do
				d=$(( (t * 7 + c) % 40 ))
				printf 'topic %d change %d\n' $t $c >>"dir$d/f$((t % 50)).c"
				echo "new $t $c" >"dir$d/new-$t-$c.c"
				git add . && git commit -q -m "topic $t change $c"
				c=$((c + 1))
			done
			git checkout -q main
			git merge -q --no-ff -m "Merge topic$t" "topic$t" >/dev/null 2>&1 ||
				{ git checkout -q --theirs . && git add . && git commit -q --no-edit; }
			git branch -q -D "topic$t"
			t=$((t + 1))
		done
	)
}

if test $# -ge 1
then
	src=$(cd "$1" && git rev-parse --show-toplevel 2>/dev/null || cd "$1" && pwd)
	echo "cloning $src ..."
	git clone -q --shared "$src" "$tmp/repo"
else
	echo "generating a repository with a history of merged topics ..."
	generate_merged_topics "$tmp/gen"
	git clone -q --shared "$tmp/gen" "$tmp/repo"
fi
cd "$tmp/repo"

# The base: the first-parent commit with N merges after it.
merges=$(git rev-list --first-parent --merges HEAD | head -n "$N")
test $(printf '%s\n' $merges | wc -l) -eq "$N" || {
	echo >&2 "bench/merge.sh: the history needs at least $N merges on its first-parent line"
	exit 1
}
last=$(printf '%s\n' $merges | tail -n 1)
base=$(git rev-parse "$last^1")
git checkout -q -B ws-bench-base "$base"

mkdir -p .git/ws
{
	printf '[plan]\n\tname = bench\n\tbase = ws-bench-base\n\tcommand = true\n'
	k=1
	for m in $merges
	do
		printf '[workstream "ws-%d"]\n\ttitle = Bench %d\n' $k $k
		k=$((k + 1))
	done
} >.git/ws/plan
k=1
: >"$tmp/pairs"
for m in $merges
do
	tip=$(git rev-parse "$m^2")
	git branch -q -f "bench/ws-$k" "$tip"
	git config -f .git/ws/state "workstream.ws-$k.status" converged
	git config -f .git/ws/state "workstream.ws-$k.branch" "bench/ws-$k"
	git config -f .git/ws/state "workstream.ws-$k.base-oid" "$base"
	git config -f .git/ws/queue --add queue.item "ws-$k"
	echo "$tip" >>"$tmp/pairs"
	k=$((k + 1))
done
echo "$N workstreams on base $(git rev-parse --short "$base") ($(git ls-files | wc -l) files)"

best () { sort -n | head -n 1; }

# The conflicts case, in a clone of its own: workstreams forked from F,
# the first-parent commit before the (C+15)th newest merge, each F plus
# what one of the newest merges brought into its first parent (its diff,
# applied with git apply; the merges whose diff does not apply to F are
# skipped), and the first 4 also change the first line of one file; the
# base is the (C+11)th newest merge, 5 merges after F.
bench_conflicts () {
	C=${C:-20}
	git clone -q --shared --no-checkout "$tmp/repo" "$tmp/conflicts"
	(
	cd "$tmp/conflicts"
	set -- $(git rev-list --first-parent --merges HEAD | head -n $((C + 15)))
	test $# -eq $((C + 15)) || {
		echo >&2 "bench/merge.sh: the conflicts case needs $((C + 15)) merges on the first-parent line"
		exit 1
	}
	eval "fork=\$(git rev-parse \"\${$((C + 15))}^1\")"
	eval "tip=\${$((C + 11))}"
	git update-ref refs/heads/ws-bench-base "$tip"
	git symbolic-ref HEAD refs/heads/ws-bench-base
	mkdir -p .git/ws
	printf '[plan]\n\tname = bench\n\tbase = ws-bench-base\n\tcommand = true\n' >.git/ws/plan
	: >"$tmp/c.pairs"
	cfile=$(git ls-tree -r "$fork" | awk -F '\t' '/^100644/ { print $2; exit }')
	k=0
	for m in $(printf '%s\n' "$@" | head -n $((C + 10)))
	do
		test $k -lt "$C" || break
		# what the merge brought into the base, applied to the fork point
		GIT_INDEX_FILE="$tmp/c.index" git read-tree "$fork"
		git diff --binary "$m^1" "$m" |
			GIT_INDEX_FILE="$tmp/c.index" git apply --cached 2>/dev/null ||
			continue
		if test $k -lt 4
		then
			# the first 4 also change the first line of one file:
			# 6 pairs that must conflict
			blob=$(git cat-file blob "$fork:$cfile" |
				sed "1s/^/conflict $k: /" | git hash-object -w --stdin)
			GIT_INDEX_FILE="$tmp/c.index" git update-index \
				--cacheinfo "100644,$blob,$cfile"
		fi
		tree=$(GIT_INDEX_FILE="$tmp/c.index" git write-tree)
		k=$((k + 1))
		c=$(git commit-tree -p "$fork" -m "topic of $m" "$tree")
		git branch -q -f "bench/c-$k" "$c"
		printf '[workstream "c-%d"]\n\ttitle = Topic %d\n' $k $k >>.git/ws/plan
		git config -f .git/ws/state "workstream.c-$k.status" done
		git config -f .git/ws/state "workstream.c-$k.branch" "bench/c-$k"
		echo "$tip $c" >>"$tmp/c.pairs"
	done
	test $k -eq "$C" || {
		echo >&2 "bench/merge.sh: only $k topics apply to the fork point; the conflicts case needs $C"
		exit 1
	}
	git for-each-ref --format='%(objectname)' 'refs/heads/bench/c-*' >"$tmp/c.tips"
	i=1
	while read a
	do
		i=$((i + 1))
		tail -n "+$i" "$tmp/c.tips" | sed "s/^/$a /"
	done <"$tmp/c.tips" >>"$tmp/c.pairs"

	t_ws= t_mt=
	r=0
	while test $r -lt "$RUNS"
	do
		t0=$(now)
		git ws-status --conflicts --porcelain >"$tmp/c.out" || :
		t_ws=$(min "$t_ws" "$(elapsed "$t0" "$(now)")")
		t0=$(now)
		while read a b
		do
			git merge-tree --write-tree "$a" "$b" >/dev/null ||
				echo "$a $b"
		done <"$tmp/c.pairs" >"$tmp/c.mt"
		t_mt=$(min "$t_mt" "$(elapsed "$t0" "$(now)")")
		r=$((r + 1))
	done
	git ws-status --conflicts >"$tmp/c.human" || :
	echo "conflicts: $C workstreams forked from $(git rev-parse --short "$fork"), base 5 merges on; 4 change $cfile"
	tail -n 1 "$tmp/c.human"
	# the same verdicts as git merge-tree, pair by pair
	ws_pairs=$(cut -f 2,3 "$tmp/c.out" | sort -u | wc -l)
	mt_pairs=$(wc -l <"$tmp/c.mt")
	test "$ws_pairs" -eq "$mt_pairs" &&
		echo "git merge-tree finds the same number of pairs in conflict: $mt_pairs" ||
		echo "MISMATCH: git merge-tree finds $mt_pairs pairs in conflict, git ws-status $ws_pairs"
	awk -v ws="$t_ws" -v mt="$t_mt" -v n="$(wc -l <"$tmp/c.pairs")" 'BEGIN {
		f = "%-36s %7.3f s  %6.2fx merge-tree\n"
		printf f, "git ws-status --conflicts", ws, ws / mt
		printf f, "git merge-tree --write-tree x " n, mt, 1
		printf "target: git ws-status --conflicts in 2 s or less: %s\n", ws <= 2 ? "met" : "NOT met"
	}'
	)
}
bench_conflicts

# 1. git ws-merge -n
r=0
while test $r -lt "$RUNS"
do
	t0=$(now)
	git ws-merge -n --porcelain >"$tmp/ws.out" || :
	elapsed "$t0" "$(now)"; echo
	r=$((r + 1))
done | best >"$tmp/t.ws"

# 2. the floor: git merge-tree --write-tree on the same pairs
r=0
while test $r -lt "$RUNS"
do
	t0=$(now)
	while read tip
	do
		git merge-tree --write-tree "$base" "$tip" >/dev/null || :
	done <"$tmp/pairs"
	elapsed "$t0" "$(now)"; echo
	r=$((r + 1))
done | best >"$tmp/t.mt"

# 3. the plain-git way, in the worktree
r=0
while test $r -lt "$RUNS"
do
	t0=$(now)
	while read tip
	do
		git checkout -q -f "$base"
		git merge -q --no-commit --no-ff "$tip" >/dev/null 2>&1 || :
		git merge --abort 2>/dev/null || git reset -q --hard
	done <"$tmp/pairs"
	elapsed "$t0" "$(now)"; echo
	r=$((r + 1))
done | best >"$tmp/t.plain"

clean=$(grep -c '^merged' "$tmp/ws.out" || :)
conflict=$(grep -c '^conflict' "$tmp/ws.out" || :)
ws=$(cat "$tmp/t.ws"); mt=$(cat "$tmp/t.mt"); plain=$(cat "$tmp/t.plain")
echo "verdicts: $clean clean, $conflict conflicting (best of $RUNS runs)"
awk -v ws="$ws" -v mt="$mt" -v plain="$plain" -v n="$N" 'BEGIN {
	f = "%-28s %7.3f s  %6.3f s/pair  %6.2fx merge-tree\n"
	printf f, "git ws-merge -n", ws, ws / n, ws / mt
	printf f, "git merge-tree --write-tree", mt, mt / n, 1
	printf f, "checkout + merge + abort", plain, plain / n, plain / mt
	printf "target: git ws-merge -n within 1.2x of merge-tree: %s\n", ws <= 1.2 * mt ? "met" : "NOT met"
}'

# 4. --batch against one by one
BATCH_N=${BATCH_N:-16}
BATCH=${BATCH:-8}
BAD=${BAD:-9}
TEST_SLEEP=${TEST_SLEEP:-0.2}

# batch_repo <dir>: a repository with BATCH_N queued workstreams, each
# adding a file; the BAD-th adds bad.txt, which the test command refuses.
batch_repo () (
	git init -q -b main "$1"
	cd "$1"
	echo base >README && git add . && git commit -q -m base
	base=$(git rev-parse HEAD)
	mkdir -p .git/ws
	{
		printf '[plan]\n\tname = batch\n\tbase = main\n\tcommand = true\n'
		printf '\ttest = "! test -f bad.txt && sleep %s"\n' "$TEST_SLEEP"
		k=1
		while test $k -le "$BATCH_N"
		do
			printf '[workstream "ws-%d"]\n\ttitle = Batch %d\n' $k $k
			k=$((k + 1))
		done
	} >.git/ws/plan
	k=1
	while test $k -le "$BATCH_N"
	do
		git checkout -q -b "bench/ws-$k" "$base"
		echo "$k" >"f$k.txt"
		test $k -ne "$BAD" || echo bad >bad.txt
		git add . && git commit -q -m "ws-$k"
		git config -f .git/ws/state "workstream.ws-$k.status" converged
		git config -f .git/ws/state "workstream.ws-$k.branch" "bench/ws-$k"
		git config -f .git/ws/state "workstream.ws-$k.base-oid" "$base"
		git config -f .git/ws/queue --add queue.item "ws-$k"
		k=$((k + 1))
	done
	git checkout -q main
)

# merge_timed <dir> [<option>]: git ws-merge there; its time in <dir>.time
merge_timed () {
	t0=$(now)
	(cd "$1" && git ws-merge --porcelain $2 >"$1.out" 2>"$1.err") || :
	elapsed "$t0" "$(now)" >"$1.time"
}

# test_runs <dir>: the test runs the state counts, summed.
test_runs () {
	git config -f "$1/.git/ws/state" --get-regexp '^workstream\..*\.test-runs$' |
	awk '{ n += $2 } END { print n + 0 }'
}

echo
echo "--batch: $BATCH_N queued workstreams, the $BAD. breaks the tests (test: sleep $TEST_SLEEP)"
batch_repo "$tmp/one"
batch_repo "$tmp/batch"
merge_timed "$tmp/one"
merge_timed "$tmp/batch" "--batch=$BATCH"
one_runs=$(test_runs "$tmp/one")
batch_runs=$(test_runs "$tmp/batch")
said=$(sed -n 's/^test-runs	//p' "$tmp/batch.out")
one_tree=$(git -C "$tmp/one" rev-parse 'main^{tree}')
batch_tree=$(git -C "$tmp/batch" rev-parse 'main^{tree}')
one_t=$(cat "$tmp/one.time"); batch_t=$(cat "$tmp/batch.time")
printf '%-28s %3d test runs  %7.3f s\n' "one by one" "$one_runs" "$one_t"
printf '%-28s %3d test runs  %7.3f s  (it said %s)\n' "--batch=$BATCH" "$batch_runs" "$batch_t" "$said"
echo "ratios (batch/one by one): test runs $(ratio "$batch_runs" "$one_runs"), time $(ratio "$batch_t" "$one_t")"
if test "$one_tree" = "$batch_tree"
then
	echo "final base tree: the same both ways ($one_tree)"
else
	echo "final base tree: DIFFERENT (one by one $one_tree, batch $batch_tree)"
fi
echo "sent back: one by one $(grep -c '^tests-failed' "$tmp/one.out" || :), batch $(grep -c '^tests-failed' "$tmp/batch.out" || :)"
echo "target: 6 test runs or fewer with --batch: $(test "$batch_runs" -le 6 && echo met || echo "NOT met")"
