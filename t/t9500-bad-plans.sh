#!/bin/sh

test_description='bad plans: git ws-alloc refuses every malformed plan of the corpus cleanly

Runs every plan of t/corpus/plans (described in t/corpus/plans/INDEX)
and every big plan that t/corpus/plans/generate.sh makes through
git ws-alloc: a refused plan exits 128 with "fatal: <file>:<line>: ..."
and writes nothing; a valid plan is allocated and git ws-status reads it
back; nothing crashes (exit > 128), hangs (timeout) or prints a raw ESC.'

. ./lib-ws.sh

CORPUS="$WS_SOURCE_DIR/t/corpus/plans"
ESC=$(printf '\033')
# seconds before a run counts as a hang
CORPUS_TIMEOUT=${WS_CORPUS_TIMEOUT:-30}
# seconds a big plan (10 000 workstreams) may take with -n
BIG_SECONDS=${WS_BIG_PLAN_SECONDS:-10}
case "$(readlink "$WS_SOURCE_DIR/bin-wrappers/git-ws-alloc")" in
*build-sanitize*)
	BIG_SECONDS=$(($BIG_SECONDS * 3)) ;;
esac

# no_escape <file>...: no raw ESC byte in any of the files.
no_escape () {
	for f
	do
		n=$(grep -c "$ESC" "$f")
		if test "$n" != 0
		then
			echo "raw ESC in $f:"
			cat -v "$f"
			return 1
		fi
	done
}

# nothing_written <repo>: no state, no plan, no worktree but the main
# one, no branch but main, nothing named <repo>-* beside it.
nothing_written () {
	test_path_is_missing "$1/.git/ws/state" &&
	test_path_is_missing "$1/.git/ws/plan" &&
	test_path_is_missing "$1/.git/ws/queue" &&
	git -C "$1" worktree list --porcelain >wt &&
	grep "^worktree " wt >wt.lines &&
	test_line_count = 1 wt.lines &&
	git -C "$1" for-each-ref --format="%(refname)" refs/heads >refs &&
	echo refs/heads/main >expect.refs &&
	test_cmp expect.refs refs &&
	for d in "$1"-*
	do
		test_path_is_missing "$d" || return 1
	done
}

# alloc_run <repo> <args>...: `git ws-alloc <args>` in <repo> under
# timeout, stdout in out, stderr in err, exit code in $rc, milliseconds
# in $ms. Fails on a hang or a crash.
alloc_run () {
	dir=$1 &&
	shift &&
	start=$(date +%s%N) &&
	{
		(
			cd "$dir" &&
			exec timeout "$CORPUS_TIMEOUT" git ws-alloc "$@"
		) >out 2>err
		rc=$?
	} &&
	ms=$(( ($(date +%s%N) - $start) / 1000000 )) &&
	echo "git ws-alloc $*: exit $rc in $ms ms" &&
	if test $rc = 124
	then
		echo "hang: git ws-alloc $* ran for more than $CORPUS_TIMEOUT s"
		return 1
	elif test $rc -gt 128
	then
		echo "crash: git ws-alloc $* exited $rc"
		cat err
		return 1
	fi
}

# expect_refused <dir> <file> <regexp>: stderr is "fatal: ../<dir>/<file>:"
# and the rest matches <regexp>; stdout empty; exit 128.
expect_refused () {
	test $rc = 128 &&
	no_escape out err &&
	test_must_be_empty out &&
	first=$(head -n 1 err) &&
	rest=${first#"fatal: ../$1/$2:"} &&
	if test "$rest" = "$first"
	then
		echo "not a fatal error naming '../$1/$2':"
		cat err
		return 1
	fi &&
	if ! printf '%s\n' "$rest" | grep -E -e "$3" >/dev/null
	then
		echo "message does not match /$3/:"
		cat err
		return 1
	fi
}

# check_plan <dir> <file> <exit> <regexp> <full>: the INDEX contract for
# one file. With <full> = full, a valid plan is also allocated for real in
# a fresh repository and read back by git ws-status.
check_plan () {
	alloc_run repo -n "../$1/$2" &&
	test $rc = "$3" &&
	if test "$3" = 128
	then
		expect_refused "$1" "$2" "$4" &&
		nothing_written repo &&
		# and for real: still nothing written
		alloc_run repo "../$1/$2" &&
		expect_refused "$1" "$2" "$4" &&
		nothing_written repo
	else
		no_escape out err &&
		grep -E -e "$4" out >/dev/null &&
		nothing_written repo &&
		if test "$5" = full
		then
			(cd repo && git ws-alloc -n --porcelain "../$1/$2") >dry &&
			grep "^workstream	" dry >dry.ws &&
			rm -rf fresh fresh-* &&
			setup_repo fresh &&
			alloc_run fresh "../$1/$2" &&
			test $rc = 0 &&
			mv out alloc.out &&
			mv err alloc.err &&
			(
				cd fresh &&
				timeout "$CORPUS_TIMEOUT" git ws-status >../status 2>&1 &&
				timeout "$CORPUS_TIMEOUT" git ws-status --graph >../graph 2>&1 &&
				timeout "$CORPUS_TIMEOUT" git ws-status --porcelain >../porcelain
			) &&
			no_escape alloc.out alloc.err status graph porcelain &&
			test_line_count = $(wc -l <dry.ws) porcelain &&
			rm -rf fresh fresh-*
		fi
	fi
}

# run_index <dir> <full>: one test per line of <dir>/INDEX.
run_index () {
	index_dir=$1
	index_mode=$2
	while IFS='	' read -r file code re bug <&7
	do
		case "$file" in
		'#'*|'')
			continue ;;
		esac
		if test -n "$bug"
		then
			# a known bug, named in the INDEX
			test_expect_failure "$index_dir: $file ($bug)" '
				check_plan "$index_dir" "$file" "$code" "$re" "$index_mode"
			'
		else
			test_expect_success "$index_dir: $file" '
				check_plan "$index_dir" "$file" "$code" "$re" "$index_mode"
			'
		fi
	done 7<"$index_dir/INDEX"
}

test_expect_success 'setup' '
	setup_repo &&
	mkdir plans big &&
	cp "$CORPUS"/INDEX "$CORPUS"/*.plan plans/ &&
	sh "$CORPUS/generate.sh" big &&
	test $(grep -c "	" plans/INDEX) -ge 50 &&
	nothing_written repo
'

test_expect_success 'the INDEX describes every file of the corpus, once' '
	grep -v "^#" plans/INDEX | cut -f1 | sort >indexed &&
	(cd plans && ls *.plan) | sort >files &&
	test_cmp files indexed
'

run_index plans full
run_index big small

test_expect_success '10 000 workstreams: every one is allocated, in a few seconds' '
	for f in many-10000 many-10000-paths
	do
		alloc_run repo -n --porcelain ../big/$f.plan &&
		test $rc = 0 &&
		echo "$f.plan: $ms ms with -n (limit $BIG_SECONDS s)" &&
		test $ms -lt $(($BIG_SECONDS * 1000)) &&
		grep "^workstream	" out >ws &&
		test_line_count = 10000 ws &&
		cut -f2 ws | sort -u >ids &&
		test_line_count = 10000 ids &&
		cut -f3 ws | sort -u >actions &&
		echo create >expect &&
		test_cmp expect actions &&
		! grep -v "^workstream	" out || return 1
	done &&
	nothing_written repo
'

test_expect_success 'a 1 000-deep chain is ordered dependencies first, however written' '
	awk "BEGIN { for (i = 1; i <= 1000; i++) print \"c\" i }" >expect &&
	for f in chain-1000 chain-1000-reversed
	do
		alloc_run repo -n --porcelain ../big/$f.plan &&
		test $rc = 0 &&
		grep "^workstream	" out >ws &&
		cut -f2 ws >order &&
		test_cmp expect order &&
		grep "^workstream	c1	create	ready	" ws &&
		test $(grep -c "	blocked	" ws) = 999 || return 1
	done
'

test_expect_success 'a cycle of 1 000 is named from its first workstream on' '
	alloc_run repo -n ../big/cycle-1000.plan &&
	test $rc = 128 &&
	awk "BEGIN { printf \"fatal: ../big/cycle-1000.plan:3: dependency cycle:\";
		for (i = 1; i <= 300; i++) printf \" c%d ->\", i; print \" c301\" }" >expect &&
	head -c $(($(wc -c <expect) - 1)) err >actual &&
	printf "\n" >>actual &&
	test_cmp expect actual &&
	test_line_count = 1 err
'

test_expect_success 'a line of 65 533 bytes is read whole, not cut' '
	rm -rf fresh fresh-* &&
	setup_repo fresh &&
	alloc_run fresh ../big/long-line-max.plan &&
	test $rc = 0 &&
	(cd fresh && git ws-status --graph >../graph) &&
	awk "{ n = gsub(/A/, \"\") } END { print n }" graph >count &&
	echo 65524 >expect &&
	test_cmp expect count &&
	rm -rf fresh fresh-*
'

test_expect_success 'terminal escapes in titles never reach the output' '
	rm -rf fresh fresh-* &&
	setup_repo fresh &&
	(
		cd fresh &&
		git ws-alloc ../plans/title-escapes.plan >../alloc.out 2>&1 &&
		git ws-status >../status 2>&1 &&
		git ws-status --graph >../graph 2>&1 &&
		git ws-status --porcelain >../porcelain 2>&1 &&
		git ws-status --porcelain -z >../porcelain-z 2>&1
	) &&
	csi=$(printf "\233") &&
	for f in alloc.out status graph porcelain porcelain-z
	do
		test "$(grep -c "$ESC" $f)" = 0 &&
		# the C1 control CSI, a byte that is not UTF-8 here
		test "$(LC_ALL=C grep -c "$csi" $f)" = 0 || return 1
	done &&
	# the titles are there, sanitized
	grep -F "a [ready] ?[2J?[H?]0;pwned? Clear ?[31mred?[0m ?2J" graph &&
	grep -F "b [blocked] ???Backspaced  <- a" graph &&
	rm -rf fresh fresh-*
'

test_done
