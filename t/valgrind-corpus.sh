#!/bin/sh
# valgrind-corpus.sh [--quick]: run every plan of the corpus (t/corpus/plans
# and what t/corpus/plans/generate.sh makes) through
#
#	valgrind --error-exitcode=99 --leak-check=no build/bin/git-ws-alloc -n PLAN
#
# in a scratch repository, and fail when valgrind reports a memory error
# (exit 99), a run crashes or hangs, or a plan does not get the exit code
# its INDEX gives (known bugs, the INDEX's fourth column, excepted).
# --quick leaves out the generated plans bigger than 200 KB (10 000
# workstreams: several minutes under valgrind).
#
# Environment: VALGRIND (default valgrind), WS_ALLOC (default
# build/bin/git-ws-alloc), CORPUS_TIMEOUT (seconds per run, default 300).
set -u

quick=
case "${1:-}" in
--quick)
	quick=1 ;;
'')
	;;
*)
	echo >&2 "usage: t/valgrind-corpus.sh [--quick]"
	exit 129 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
alloc=${WS_ALLOC:-$top/build/bin/git-ws-alloc}
valgrind=${VALGRIND:-valgrind}
timeout=${CORPUS_TIMEOUT:-300}

if ! test -x "$alloc"
then
	echo >&2 "error: $alloc is not built (make build/bin/git-ws-alloc)"
	exit 1
fi
if ! command -v "$valgrind" >/dev/null
then
	echo >&2 "error: valgrind not found (apt-get install valgrind)"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/valgrind-corpus.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# a scratch repository, isolated from the user's and the system's config
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1 GIT_CEILING_DIRECTORIES="$tmp"
unset GIT_DIR GIT_WORK_TREE GIT_COMMON_DIR GIT_INDEX_FILE
git init -q -b main "$tmp/repo" &&
git -C "$tmp/repo" -c user.name=V -c user.email=v@example.com \
	commit -q --allow-empty -m initial || exit 1

mkdir "$tmp/plans"
cp "$top/t/corpus/plans/INDEX" "$top"/t/corpus/plans/*.plan "$tmp/plans/" &&
sh "$top/t/corpus/plans/generate.sh" "$tmp/big" || exit 1

runs=0 failed=0 vgerrors=0

# run_index DIR: every line of DIR/INDEX.
run_index () {
	while IFS='	' read -r file code re bug
	do
		case "$file" in
		'#'*|'')
			continue ;;
		esac
		if test -n "$quick" &&
		   test $(wc -c <"$1/$file") -gt 204800
		then
			continue
		fi
		runs=$(($runs + 1))
		(
			cd "$tmp/repo" &&
			exec timeout "$timeout" "$valgrind" -q --error-exitcode=99 \
				--leak-check=no "$alloc" -n "$1/$file" </dev/null
		) >"$tmp/out" 2>"$tmp/err"
		rc=$?
		why=
		if test $rc = 99
		then
			why="valgrind reported errors"
			vgerrors=$(($vgerrors + 1))
		elif test $rc = 124
		then
			why="hang (more than $timeout s)"
		elif test $rc -gt 128
		then
			why="crash (exit $rc)"
		elif test $rc != "$code" && test -z "$bug"
		then
			why="exit $rc, expected $code"
		elif test -s "$tmp/repo/.git/ws/state"
		then
			why="git ws-alloc -n wrote .git/ws/state"
		fi
		if test -n "$why"
		then
			failed=$(($failed + 1))
			echo "not ok $runs - $file: $why"
			sed 's/^/#	/' "$tmp/err" | head -n 40
		else
			echo "ok $runs - $file (exit $rc)"
		fi
	done <"$1/INDEX"
}

run_index "$tmp/plans"
run_index "$tmp/big"

echo "# $runs plans under valgrind: $failed failed, $vgerrors with memory errors"
test $failed = 0
