#!/bin/sh

test_description='man pages agree with the commands; git config reads the state

Every Documentation/git-ws-<cmd>.adoc of a built command: its SYNOPSIS is
the usage of `git ws-<cmd> -h`, every option of -h is in its OPTIONS, and
it builds with asciidoctor without warnings. git-ws(7) documents every
plan key, status, dispatch variable and ws.* config key the code knows.
The ws.* defaults work, with the plan overriding them.'

. ./lib-ws.sh

DOC="$WS_SOURCE_DIR/Documentation"
command -v asciidoctor >/dev/null && test_set_prereq ASCIIDOCTOR

# The commands that are built, and their pages.
commands () {
	for p in "$WS_SOURCE_DIR"/bin-wrappers/git-ws-*
	do
		test -x "$p" && echo "${p##*/git-ws-}"
	done
}

# atx <adoc>: the page with git's two-line (setext) titles, as in
#	NAME
#	----
# turned into asciidoctor's one-line "== NAME" form (both are valid).
atx () {
	awk '
		function flush() { if (have) print prev; have = 0 }
		have && prev != "" && prev !~ /^[ \t]/ && length($0) == length(prev) &&
		$0 ~ /^(=+|-+|~+)$/ {
			c = substr($0, 1, 1)
			print (c == "=" ? "= " : c == "-" ? "== " : "=== ") prev
			have = 0
			next
		}
		{ flush(); prev = $0; have = 1 }
		END { flush() }
	' "$1"
}

# usage_lines <cmd>: the usage alternatives of -h, one a line, whitespace
# squeezed.
usage_lines () {
	git ws-$1 -h >help.$1 &&
	sed -n -e "/^usage: /,/^\$/p" help.$1 |
	sed -e "/^\$/d" -e "s/^usage: //" -e "s/^ *or: //" \
	    -e "s/[ 	][ 	]*/ /g" -e "s/ \$//"
}

# synopsis_lines <adoc>: the [verse] block of the SYNOPSIS section, with
# lines that do not start a new "git ws-" line joined to the previous
# one, git'"'"'s '"'"'git ws-x'"'"' quoting removed, whitespace squeezed.
synopsis_lines () {
	atx "$1" | sed -n -e "/^== SYNOPSIS/,/^== /p" |
	sed -n -e "/^\[verse\]/,/^\$/p" |
	sed -e "/^\[verse\]/d" -e "/^\$/d" -e "/^----*\$/d" \
	    -e "s/^'\(git ws-[a-z]*\)'/\1/" |
	awk '
		/^git ws-/ { if (line != "") print line; line = $0; next }
		{ line = line " " $0 }
		END { if (line != "") print line }
	' |
	sed -e "s/[ 	][ 	]*/ /g" -e "s/ \$//"
}

# options_of <cmd>: every -x and --long of -h, one a line.
options_of () {
	sed -n -e "s/^    \(-[^ ].*\)/\1/p" help.$1 |
	sed -e "s/  .*//" |
	tr ", " "\n\n" |
	sed -n -e "s/^\(--[a-z0-9][a-z0-9-]*\).*/\1/p" -e "s/^\(-[a-zA-Z0-9]\)\$/\1/p"
}

# section <adoc> <NAME>: the text of one == section.
section () {
	atx "$1" | sed -n -e "/^== $2\$/,/^== /p" | sed -e "1d" -e "\$d"
}

test_expect_success 'setup' '
	commands >commands &&
	test -s commands &&
	cat commands
'

test_expect_success 'every built command has a man page' '
	while read c
	do
		test_path_is_file "$DOC/git-ws-$c.adoc" || return 1
	done <commands &&
	test_path_is_file "$DOC/git-ws.adoc"
'

test_expect_success 'each page is a section 1 man page with the skeleton' '
	while read c
	do
		f="$DOC/git-ws-$c.adoc" &&
		test -f "$f" || continue
		atx "$f" >page &&
		head -n 5 page >head &&
		grep "^= git-ws-$c(1)\$" head &&
		grep "^:doctype: manpage" page &&
		for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" "SEE ALSO"
		do
			grep "^== $s\$" page || { echo "git-ws-$c.adoc: no $s"; return 1; }
		done || return 1
	done <commands
'

test_expect_success 'SYNOPSIS is the usage of -h, line for line' '
	while read c
	do
		f="$DOC/git-ws-$c.adoc" &&
		test -f "$f" || continue
		usage_lines $c >expect.$c &&
		test -s expect.$c &&
		synopsis_lines "$f" >actual.$c &&
		test_cmp expect.$c actual.$c || return 1
	done <commands
'

test_expect_success 'every option of -h is in OPTIONS' '
	while read c
	do
		f="$DOC/git-ws-$c.adoc" &&
		test -f "$f" || continue
		git ws-$c -h >help.$c &&
		options_of $c >opts.$c &&
		test -s opts.$c &&
		section "$f" OPTIONS >options.$c &&
		while read o
		do
			grep -E -e "(^|[^-a-zA-Z0-9])$o([^-a-zA-Z0-9]|\$)" options.$c >/dev/null ||
			{ echo "git-ws-$c.adoc: $o is not in OPTIONS"; return 1; }
		done <opts.$c || return 1
	done <commands
'

test_expect_success 'the checks above catch a page that drifts' '
	cat >drift.adoc <<-\EOF &&
	= git-ws-status(1)

	== SYNOPSIS

	[verse]
	'"'"'git ws-status'"'"' [--porcelain]
		[--graph] [<id>...]

	== OPTIONS

	--porcelain::
		Stable.
	EOF
	synopsis_lines drift.adoc >actual &&
	echo "git ws-status [--porcelain] [--graph] [<id>...]" >expect &&
	test_cmp expect actual &&
	git ws-status -h >help.status &&
	options_of status >opts &&
	printf "%s\n" --porcelain -z --graph --checkpoints --conflicts --dot >expect &&
	test_cmp expect opts &&
	section drift.adoc OPTIONS >options &&
	grep -E -e "(^|[^-a-zA-Z0-9])--porcelain([^-a-zA-Z0-9]|\$)" options &&
	! grep -E -e "(^|[^-a-zA-Z0-9])-z([^-a-zA-Z0-9]|\$)" options
'

test_expect_success ASCIIDOCTOR 'every page builds with asciidoctor -b manpage without warnings' '
	mkdir -p man &&
	for f in "$DOC"/git-ws.adoc "$DOC"/git-ws-*.adoc
	do
		test -f "$f" || continue
		n=${f##*/} &&
		n=${n%.adoc} &&
		asciidoctor -b manpage --failure-level=WARN -o "man/$n.man" "$f" 2>err &&
		test_must_be_empty err &&
		test -s "man/$n.man" &&
		# git'"'"'s linkgit: macro is not asciidoctor'"'"'s: it would show as is
		! grep "linkgit:" "man/$n.man" || { echo "$f"; cat err; return 1; }
	done
'

test_expect_success ASCIIDOCTOR 'git-ws(7) is a section 7 page and renders its sections' '
	atx "$DOC/git-ws.adoc" | grep "^= git-ws(7)\$" &&
	grep "^\.TH \"GIT.-WS\" \"7\"" man/git-ws.man &&
	for s in NAME SYNOPSIS DESCRIPTION "THE PLAN" ALLOCATION "LIFE CYCLE" \
		"STATE FILES" "DISPATCH ENVIRONMENT" CONFIGURATION "EXIT STATUS" \
		"SEE ALSO"
	do
		grep "^\.SH \"$s\"" man/git-ws.man || { echo "no $s"; return 1; }
	done
'

test_expect_success 'git-ws(7) documents every plan key the parser knows' '
	sed -n -e "/^static const char \*const plan_keys/,/};/p" \
	       -e "/^static const char \*const ws_keys/,/};/p" \
	       "$WS_SOURCE_DIR/common/plan.c" |
	grep -o "\"[a-z-]*\"" | tr -d "\"" | sort -u >keys &&
	test_line_count -ge 15 keys &&
	section "$DOC/git-ws.adoc" "THE PLAN" >plan-section &&
	while read k
	do
		grep -E -e "^$k(, .*)?::|, $k(,|::)" plan-section >/dev/null ||
		{ echo "plan key $k is not documented"; return 1; }
	done <keys
'

test_expect_success 'git-ws(7) documents every status' '
	sed -n -e "s/^	\[WS_STATUS_[A-Z_]*\] = \"\([a-z_]*\)\",\$/\1/p" \
		"$WS_SOURCE_DIR/common/state.c" >statuses &&
	test_line_count = 8 statuses &&
	section "$DOC/git-ws.adoc" "LIFE CYCLE" >life &&
	while read s
	do
		grep "^$s::" life >/dev/null ||
		{ echo "status $s is not documented"; return 1; }
	done <statuses
'

test_expect_success 'git-ws(7) documents every variable of the dispatch environment' '
	cat "$WS_SOURCE_DIR"/common/dispatch.c "$WS_SOURCE_DIR"/common/ws.c |
	sed -n -e "s/.*strvec_pushf(env, \"\([A-Z_]*\)=.*/\1/p" | sort -u >vars &&
	test_line_count -ge 15 vars &&
	section "$DOC/git-ws.adoc" "DISPATCH ENVIRONMENT" >env &&
	while read v
	do
		grep "^$v::" env >/dev/null ||
		{ echo "$v is not documented"; return 1; }
	done <vars
'

test_expect_success 'git-ws(7) documents every ws.* config key the code reads' '
	cat "$WS_SOURCE_DIR"/common/*.c "$WS_SOURCE_DIR"/cmd/*.c |
	grep -o "ws_config_get[a-z_]*([^,]*, *\"ws\.[a-zA-Z]*\"" |
	sed -e "s/.*\"\(ws\.[a-zA-Z]*\)\"/\1/" | sort -u >cfgkeys &&
	test_line_count -ge 5 cfgkeys &&
	section "$DOC/git-ws.adoc" CONFIGURATION >config &&
	while read k
	do
		grep -i "^$k::" config >/dev/null ||
		{ echo "$k is not documented"; return 1; }
	done <cfgkeys
'

test_expect_success 'setup: an allocated plan' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = docs
		command = true
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
		depends = ws-1
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success 'git config -f .git/ws/state --get workstream.<id>.status works' '
	git config -f repo/.git/ws/state --get workstream.ws-1.status >actual &&
	echo ready >expect &&
	test_cmp expect actual &&
	git config -f repo/.git/ws/state --get workstream.ws-2.status >actual &&
	echo blocked >expect &&
	test_cmp expect actual &&
	git config -f repo/.git/ws/state --get workstream.ws-2.reason >actual &&
	echo "waiting for ws-1 to merge" >expect &&
	test_cmp expect actual &&
	git config -f repo/.git/ws/state --get-regexp "^workstream\..*\.status\$" >actual &&
	printf "%s\n" "workstream.ws-1.status ready" "workstream.ws-2.status blocked" >expect &&
	test_cmp expect actual &&
	git config -f repo/.git/ws/plan --get plan.name >actual &&
	echo docs >expect &&
	test_cmp expect actual
'

# One ready workstream that cannot converge (no commits of its own): each
# converge fails one gate and counts an iteration.
setup_unconverged () {
	rm -rf "$1" "$1"-ws-1 &&
	setup_repo "$1" &&
	cat >"$1.plan" <<-EOF &&
	[plan]
		name = $1
		command = true
	$2
	[workstream "ws-1"]
		title = One
	EOF
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null &&
	 ws_set_state ws-1 status done)
}

test_expect_success 'ws.maxIterations is the default max-iterations' '
	setup_unconverged mi &&
	(
		cd mi &&
		git config ws.maxIterations 1 &&
		test_expect_code 1 git ws-converge ws-1 >out 2>&1 &&
		test "$(ws_state ws-1 status)" = failed &&
		ws_state ws-1 reason >reason &&
		grep "1 iteration" reason
	)
'

test_expect_success 'the plan'"'"'s max-iterations wins over ws.maxIterations' '
	setup_unconverged mp "	max-iterations = 2" &&
	(
		cd mp &&
		git config ws.maxIterations 1 &&
		test_expect_code 1 git ws-converge ws-1 >out 2>&1 &&
		test "$(ws_state ws-1 status)" = done &&
		test "$(ws_state ws-1 iterations)" = 1 &&
		test_expect_code 1 git ws-converge ws-1 >out 2>&1 &&
		test "$(ws_state ws-1 status)" = failed
	)
'

test_expect_success 'a bad ws.maxIterations is a fatal error' '
	setup_unconverged mb &&
	(
		cd mb &&
		git config ws.maxIterations lots &&
		test_expect_code 128 git ws-converge ws-1 2>err &&
		grep "ws.maxiterations" err
	)
'

# Two workstreams whose commands each note how many were running at once
# (a second after they started, and they run a second longer than that).
setup_jobs () {
	rm -rf "$1" "$1"-ws-* &&
	setup_repo "$1" &&
	write_script "$1/count.sh" <<-\EOF &&
	mkdir -p "$GIT_WS_DIR/running" &&
	: >"$GIT_WS_DIR/running/$WS_ID" &&
	sleep 1 &&
	ls "$GIT_WS_DIR/running" | wc -l | tr -d " " >>"$GIT_WS_DIR/seen" &&
	sleep 1 &&
	rm -f "$GIT_WS_DIR/running/$WS_ID"
	EOF
	(cd "$1" && git add count.sh && git commit -q -m count) &&
	cat >"$1.plan" <<-EOF &&
	[plan]
		name = $1
		command = ./count.sh
	$2
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	EOF
	(cd "$1" && git ws-alloc "../$1.plan" >/dev/null)
}

test_expect_success 'ws.jobs is the default number of jobs' '
	setup_jobs jc &&
	(cd jc && git config ws.jobs 1 && git ws-dispatch >out 2>&1) &&
	printf "1\n1\n" >expect &&
	test_cmp expect jc/.git/ws/seen
'

test_expect_success 'the plan'"'"'s jobs win over ws.jobs' '
	setup_jobs jp "	jobs = 2" &&
	(cd jp && git config ws.jobs 1 && git ws-dispatch >out 2>&1) &&
	printf "2\n2\n" >expect &&
	test_cmp expect jp/.git/ws/seen
'

test_done
