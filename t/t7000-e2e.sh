#!/bin/sh

test_description='the main job, end to end: a whole plan on a clone of this project

A plan of seven workstreams runs on a clone of git-ws itself (real
history, real Makefile, real unit tests), driven by scripted agents that
add code and tests:
  ws-1 <- ws-2, ws-3 <- ws-4   a diamond of dependencies
  ws-3                          fails its tests first, then fixes them after reading WS_REPORT
  ws-5, ws-6                    edit the same README line; whichever merges second
                                conflicts and resolves it by merging the base into its branch
  ws-7                          shares the worktree (and branch) of ws-2
  common/greeting.h             a contract of ws-1: the conflict over it is resolved for its owner
The test command is a real build of the clone with its unit tests
(unoptimised, CFLAGS=-O0: a third less time than -O2 -g, for 20 builds).'

. ./lib-ws.sh

# position of a workstream in the merge order
pos () {
	grep -n "^$1\$" order | cut -d: -f1
}

test_expect_success 'setup: a clone of this project and the agents' '
	git clone -q "$WS_SOURCE_DIR" repo &&
	git -C repo checkout -q -B main &&
	write_script agent.sh <<-\EOF &&
	# Scripted agent: real edits, real commits; records each commit it makes.
	set -eu
	log=$E2E_DIR/agents.log
	echo "$WS_ID iteration=$WS_ITERATION attempt=$WS_ATTEMPT report=${WS_REPORT:-}" >>"$E2E_DIR/runs.log"
	commit () {
		git add -A &&
		if ! git diff --cached --quiet
		then
			git commit -q -m "$WS_ID: $1" &&
			echo "$WS_ID $(git rev-parse HEAD)" >>"$log"
		fi
	}
	case "$WS_ID" in
	ws-1)
		cat >common/greeting.h <<-\H
		#ifndef GREETING_H
		#define GREETING_H
		/* greet: a newly allocated "Hello, <name>!" (caller frees). */
		char *greet(const char *name);
		#endif
		H
		cat >common/greeting.c <<-\C
		#include "compat.h"
		#include "greeting.h"
		#include "wrapper.h"

		char *greet(const char *name)
		{
			return xstrfmt("Hello, %s!", name);
		}
		C
		cat >t/unit/test-greeting.c <<-\C
		#include "compat.h"
		#include "greeting.h"
		#include <setjmp.h>
		#include <cmocka.h>

		static void test_greet(void **unused)
		{
			char *s = greet("Ada");
			assert_string_equal(s, "Hello, Ada!");
			free(s);
		}

		int main(void)
		{
			const struct CMUnitTest tests[] = { cmocka_unit_test(test_greet) };
			return cmocka_run_group_tests(tests, NULL, NULL);
		}
		C
		commit "greeting library"
		;;
	ws-2)
		cat >cmd/git-ws-hello.c <<-\C
		#include "compat.h"
		#include "greeting.h"
		#include "parse-options.h"
		#include "usage.h"

		static const char * const hello_usage[] = { "git ws-hello [<name>]", NULL };

		int cmd_main(int argc, const char **argv)
		{
			struct option options[] = { OPT_END() };
			char *s;

			argc = parse_options(argc, argv, options, hello_usage);
			s = greet(argc ? argv[0] : "world");
			puts(s);
			free(s);
			return 0;
		}
		C
		# a change to the contract file that ws-3 changes too
		sed -i "s|/\* greet: a newly|/* greet (used by git ws-hello): a newly|" common/greeting.h
		commit "hello command"
		;;
	ws-3)
		if test -z "${WS_REPORT:-}"
		then
			# first try: does not compile
			printf "char *farewell(const char *name)\n{\n\treturn name\n}\n" >common/farewell.c
			commit "farewell, first try"
		else
			grep -q "tests" "$WS_REPORT"
			cat >common/farewell.h <<-\H
			#ifndef FAREWELL_H
			#define FAREWELL_H
			/* farewell: a newly allocated "Goodbye, <name>." (caller frees). */
			char *farewell(const char *name);
			#endif
			H
			cat >common/farewell.c <<-\C
			#include "compat.h"
			#include "farewell.h"
			#include "wrapper.h"

			char *farewell(const char *name)
			{
				return xstrfmt("Goodbye, %s.", name);
			}
			C
			commit "farewell, fixed after the report"
		fi
		# and the contract file, differently from ws-2
		sed -i "s|/\* greet: a newly|/* greet (see also farewell): a newly|" common/greeting.h
		commit "farewell mentions greeting"
		;;
	ws-4)
		grep -q greet cmd/git-ws-hello.c
		test -f common/farewell.h
		printf "git ws-hello prints a greeting; common/farewell.c says goodbye.\n" >Documentation/greeting.txt
		commit "greeting documentation"
		;;
	ws-5|ws-6)
		if test -n "${WS_REPORT:-}" && grep -q conflict "$WS_REPORT"
		then
			# bring in the base and resolve: its line 1, plus our mark
			if ! git merge -q --no-edit "$WS_BASE" 2>/dev/null
			then
				git checkout -q --theirs README.md
				sed -i "1s/\$/ [$WS_ID]/" README.md
				git add README.md
				git commit -q --no-edit
				echo "$WS_ID $(git rev-parse HEAD)" >>"$log"
			fi
		else
			sed -i "1s/\$/ [$WS_ID]/" README.md
			commit "mark the README title"
		fi
		;;
	ws-7)
		grep -q greet cmd/git-ws-hello.c
		sed -i "s|git ws-hello \[<name>\]|git ws-hello [<name>]  # says hello|" cmd/git-ws-hello.c
		commit "hello usage comment"
		;;
	esac
	EOF
	cat >plan <<-EOF &&
	[plan]
		name = e2e
		base = main
		command = "\"$PWD/agent.sh\""
		test = make -s -j2 CFLAGS=-O0 all unit-test
		jobs = 4
		max-iterations = 3
	[workstream "ws-1"]
		title = Greeting library
		paths = common/greeting.*
		contract = common/greeting.h
	[workstream "ws-2"]
		title = Hello command
		depends = ws-1
		paths = cmd/git-ws-hello.c
	[workstream "ws-3"]
		title = Farewell
		depends = ws-1
		paths = common/farewell.*
	[workstream "ws-4"]
		title = Greeting docs
		depends = ws-2 ws-3
		paths = Documentation/greeting.txt
	[workstream "ws-5"]
		title = README mark five
		depends = ws-1
	[workstream "ws-6"]
		title = README mark six
		depends = ws-1
	[workstream "ws-7"]
		title = Hello usage
		depends = ws-2
		worktree = ws-2
	EOF
	E2E_DIR=$PWD && export E2E_DIR
'

test_expect_success 'allocate' '
	(cd repo && git ws-alloc ../plan >../alloc.out) &&
	grep "ws-7.*shares ws-2" alloc.out &&
	test "$(cd repo && ws_state ws-1 status)" = ready &&
	test "$(cd repo && ws_state ws-4 status)" = blocked
'

# The timeout only stops a hang: every workstream builds and tests a copy
# of git-ws, which on 2 loaded cores with the sanitizer build (another
# test script beside it) takes up to about 15 minutes.
test_expect_success 'dispatch --loop runs the whole plan' '
	(cd repo && timeout 1500 git ws-dispatch --loop >../loop.out 2>../loop.err) ||
	{ cat loop.out loop.err; false; }
'

test_expect_success 'every workstream merged' '
	for id in ws-1 ws-2 ws-3 ws-4 ws-5 ws-6 ws-7
	do
		test "$(cd repo && ws_state $id status)" = merged || return 1
	done
'

test_expect_success 'one --no-ff merge per workstream, in dependency order' '
	git -C repo log --first-parent --merges --format=%s main >merges &&
	grep "^Merge ws-" merges | sed "s/^Merge \(ws-[0-9]*\):.*/\1/" | sed -n "1!G;h;\$p" >order &&
	test_line_count = 7 order &&
	for id in ws-1 ws-2 ws-3 ws-4 ws-5 ws-6 ws-7
	do
		test "$(grep -c "^$id\$" order)" = 1 || return 1
	done &&
	test $(pos ws-1) -lt $(pos ws-2) &&
	test $(pos ws-1) -lt $(pos ws-3) &&
	test $(pos ws-2) -lt $(pos ws-4) &&
	test $(pos ws-3) -lt $(pos ws-4) &&
	test $(pos ws-2) -lt $(pos ws-7) &&
	test $(pos ws-1) -lt $(pos ws-5) &&
	test $(pos ws-1) -lt $(pos ws-6)
'

test_expect_success 'ws-3 failed its tests once and fixed them from the report' '
	grep "^ws-3 iteration=0" runs.log &&
	grep "^ws-3 iteration=1 .*report=/" runs.log &&
	git -C repo log --format=%s main | grep "ws-3: farewell, fixed after the report"
'

test_expect_success 'the README conflict was resolved by the agent, both marks are in' '
	head -n 1 repo/README.md >title &&
	grep "\[ws-5\]" title &&
	grep "\[ws-6\]" title &&
	grep -E "^ws-[56] iteration=[12] .*report=/" runs.log
'

test_expect_success 'the contract file kept the version already in the base' '
	# ws-2 and ws-3 both edit ws-1'"'"'s contract file: the one merged
	# second conflicts there, and the base (owner'"'"'s side) wins
	git -C repo show main:common/greeting.h >greeting.h &&
	if test $(pos ws-2) -lt $(pos ws-3)
	then
		grep "greet (used by git ws-hello)" greeting.h &&
		! grep "see also farewell" greeting.h &&
		second=ws-3
	else
		grep "see also farewell" greeting.h &&
		! grep "used by git ws-hello" greeting.h &&
		second=ws-2
	fi &&
	git -C repo log --first-parent --merges --format=%B main --grep="^Merge $second:" >msg &&
	grep "common/greeting.h" msg
'

test_expect_success 'the tree of every merge commit passes the tests' '
	git -C repo rev-list --first-parent --merges main --grep="^Merge ws-" >merge-commits &&
	test_line_count = 7 merge-commits &&
	git -C repo worktree add -q --detach ../check main &&
	while read c
	do
		(cd check && git checkout -q --detach "$c" && git clean -qfdx &&
		 make -s -j2 CFLAGS=-O0 all unit-test >/dev/null 2>&1) || { echo "tests fail at $c"; return 1; }
	done <merge-commits &&
	git -C repo worktree remove --force ../check
'

test_expect_success 'every commit an agent made is reachable from main' '
	test_line_count -ge 8 agents.log &&
	while read id c
	do
		git -C repo merge-base --is-ancestor "$c" main || { echo "$id $c lost"; return 1; }
	done <agents.log
'

test_expect_success 'git fsck is clean' '
	git -C repo fsck --no-progress --strict
'

test_expect_success 'after git ws-clean no worktree or branch of the plan remains' '
	(cd repo && git ws-clean >../clean.out) &&
	git -C repo worktree list --porcelain >wt &&
	! grep "repo-ws-" wt &&
	git -C repo for-each-ref --format="%(refname)" refs/heads/feature/ >branches &&
	test_must_be_empty branches &&
	git -C repo for-each-ref --format="%(refname)" refs/ws/backup/ >backups &&
	test_line_count -ge 6 backups
'

test_done
