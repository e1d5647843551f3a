#!/bin/sh

test_description='bad state: malformed .git/ws/state and queue files are refused cleanly

Puts every file of t/corpus/state (described in t/corpus/state/INDEX) in
place of .git/ws/state or .git/ws/queue of an allocated plan and runs git
ws-status (the reader) and git ws-alloc (which takes the lock and would
write): a malformed file gives "fatal: <path>:<line>: ..." and exit 128,
never a crash or a hang, no raw ESC on the terminal, and the file is left
byte for byte as it was.'

. ./lib-ws.sh

CORPUS="$WS_SOURCE_DIR/t/corpus/state"
ESC=$(printf '\033')
CORPUS_TIMEOUT=${WS_CORPUS_TIMEOUT:-30}

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

# run_ws <cmd> <args>...: `git <cmd> <args>` in repo under timeout;
# stdout in out, stderr in err, exit code in $rc. Fails on a hang or crash.
run_ws () {
	{
		(
			cd repo &&
			exec timeout "$CORPUS_TIMEOUT" git "$@"
		) >out 2>err
		rc=$?
	} &&
	if test $rc = 124
	then
		echo "hang: git $* ran for more than $CORPUS_TIMEOUT s"
		return 1
	elif test $rc -gt 128
	then
		echo "crash: git $* exited $rc"
		cat err
		return 1
	fi
}

# install_file <file>: put corpus/<file> in place of .git/ws/state or
# .git/ws/queue (by its extension), the other one as allocated.
install_file () {
	cp orig.state repo/.git/ws/state &&
	rm -f repo/.git/ws/queue &&
	case "$1" in
	*.state)
		kind=state ;;
	*.queue)
		kind=queue ;;
	esac &&
	cp "corpus/$1" "repo/.git/ws/$kind" &&
	cksum <"repo/.git/ws/state" >sum.state &&
	{ cksum <"repo/.git/ws/queue" || :; } >sum.queue 2>/dev/null
}

# unchanged: state and queue are as install_file left them, and no lock
# file was left behind.
unchanged () {
	cksum <"repo/.git/ws/state" >now.state &&
	test_cmp sum.state now.state &&
	{ cksum <"repo/.git/ws/queue" || :; } >now.queue 2>/dev/null &&
	test_cmp sum.queue now.queue &&
	test_path_is_missing repo/.git/ws/state.lock &&
	test_path_is_missing repo/.git/ws/queue.lock
}

# expect_refused <regexp>: exit 128, stderr "fatal: <abs>/.git/ws/<kind>:"
# and the rest matching <regexp>.
expect_refused () {
	test $rc = 128 &&
	no_escape out err &&
	first=$(head -n 1 err) &&
	rest=${first#fatal: /*"/.git/ws/$kind:"} &&
	if test "$rest" = "$first"
	then
		echo "not a fatal error naming .git/ws/$kind:"
		cat err
		return 1
	fi &&
	if ! printf '%s\n' "$rest" | grep -E -e "$1" >/dev/null
	then
		echo "message does not match /$1/:"
		cat err
		return 1
	fi
}

# check_state <file> <exit> <regexp>: the INDEX contract for one file.
check_state () {
	install_file "$1" &&
	run_ws ws-status &&
	test $rc = "$2" &&
	if test "$2" = 128
	then
		expect_refused "$3" &&
		unchanged &&
		run_ws ws-status --porcelain &&
		expect_refused "$3" &&
		unchanged &&
		# a writer refuses it too, and writes nothing
		run_ws ws-alloc ../demo.plan &&
		expect_refused "$3" &&
		unchanged
	else
		grep -E -e "$3" out >/dev/null &&
		no_escape out err &&
		run_ws ws-status --porcelain &&
		test $rc = 0 &&
		no_escape out err &&
		run_ws ws-status --graph &&
		test $rc = 0 &&
		no_escape out err &&
		unchanged
	fi
}

test_expect_success 'setup: an allocated plan' '
	setup_repo &&
	cat >demo.plan <<-\EOF &&
	[plan]
		name = demo
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
		depends = a
	EOF
	(cd repo && git ws-alloc ../demo.plan) &&
	cp repo/.git/ws/state orig.state &&
	test_path_is_missing repo/.git/ws/queue &&
	mkdir corpus &&
	cp "$CORPUS"/INDEX "$CORPUS"/*.state "$CORPUS"/*.queue corpus/ &&
	(cd repo && git ws-status)
'

test_expect_success 'the INDEX describes every file of the corpus, once' '
	grep -v "^#" corpus/INDEX | cut -f1 | sort >indexed &&
	(cd corpus && ls *.state *.queue) | sort >files &&
	test_cmp files indexed
'

while IFS='	' read -r file code re bug <&7
do
	case "$file" in
	'#'*|'')
		continue ;;
	esac
	if test -n "$bug"
	then
		test_expect_failure "$file ($bug)" '
			check_state "$file" "$code" "$re"
		'
	else
		test_expect_success "$file" '
			check_state "$file" "$code" "$re"
		'
	fi
done 7<"$CORPUS/INDEX"

test_expect_success 'a 100 KB line in the state is refused, not cut' '
	{
		cat orig.state &&
		printf "\treason = " &&
		awk "BEGIN { for (i = 0; i < 102400; i++) printf \"x\"; print \"\" }"
	} >corpus/long-line.state &&
	line=$(($(wc -l <orig.state) + 1)) &&
	check_state long-line.state 128 "^$line: line too long \(102410 bytes; at most 65533\)$"
'

test_expect_success 'a 100 KB line in the queue is refused, not cut' '
	{
		echo "[queue]" &&
		printf "\titem = " &&
		awk "BEGIN { for (i = 0; i < 102400; i++) printf \"x\"; print \"\" }"
	} >corpus/long-line.queue &&
	check_state long-line.queue 128 "^2: line too long \(102408 bytes; at most 65533\)$"
'

test_expect_success 'a 64 KB reason is read whole' '
	{
		cat orig.state &&
		printf "\treason = " &&
		awk "BEGIN { for (i = 0; i < 65000; i++) printf \"r\"; print \"\" }"
	} >corpus/long-reason.state &&
	check_state long-reason.state 0 "^  b " &&
	run_ws ws-status --porcelain &&
	grep "^b	" out | cut -f7 >reason &&
	test $(wc -c <reason) = 65001
'

test_expect_success 'the allocated state still reads after all this' '
	cp orig.state repo/.git/ws/state &&
	rm -f repo/.git/ws/queue &&
	run_ws ws-status &&
	test $rc = 0 &&
	grep "^  a  *ready " out &&
	grep "^  b  *blocked " out
'

test_done
