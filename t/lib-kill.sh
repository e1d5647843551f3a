# Helpers for the fault and concurrency tests (t9600-kill.sh,
# t9601-concurrency.sh): source it after lib-ws.sh.
#
# The fixture: a small repository "repo" on main with a test gate
# (check.sh: every ws-*.txt says "ok"), a scripted agent (agent.sh) that
# writes and commits <id>.txt and logs every commit it makes to
# agents.log, and a plan of five workstreams:
#
#	ws-a <- ws-b, ws-c <- ws-d     a diamond
#	ws-c <- ws-e                   ws-e shares ws-c's worktree and branch
#
# Kill points come in three kinds:
#
#  - timing: the command starts in a session of its own (setsid), and
#    its whole process group gets SIGKILL after a delay in milliseconds;
#  - the k-th git child: a `git` wrapper, found first by every git-ws
#    command through GIT_EXEC_PATH (git puts its exec path first on PATH
#    for the commands it runs), counts the git commands that a git-ws
#    binary starts and kills its process group (and the git's, when
#    git-ws started it in a group of its own) just before (or just
#    after) the k-th, so every step between two git subprocesses is hit
#    exactly, whatever the machine's speed (or before a given git
#    command at any depth, such as the ones git worktree add runs);
#  - the k-th rename(2) or unlink(2) of the git-ws binary itself (every
#    atomic file replacement in .git/ws and in refs ends in a rename),
#    by strace's fault injection, when strace works here.
#
# Commands that git-ws starts in process groups of their own (agents,
# test commands) are not killed with the command: they go on, as they
# would if git-ws crashed, and kill_wait_leftovers waits for them before
# anything is checked or run again. Every process of a launch carries
# KILL_TOKEN=<unique> in its environment, which is how they are found.

KILL_REAL_GIT=$(command -v git)
KILL_DIR=$(pwd)
export KILL_DIR KILL_REAL_GIT

# kill_ms_to_s <ms>: "0.025" for 25, for sleep(1).
kill_ms_to_s () {
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# kill_now_ms: wall clock in milliseconds.
kill_now_ms () {
	date +%s%3N
}

# kill_setup_fixture: repo, check.sh, agent.sh, plan, and the git wrapper.
kill_setup_fixture () {
	kill_setup_repo &&
	kill_write_agent &&
	cat >plan <<-EOF &&
	[plan]
		name = kill
		base = main
		command = "\"$KILL_DIR/agent.sh\""
		test = ./check.sh
		jobs = 2
		max-iterations = 3
	[workstream "ws-a"]
		title = Alpha
	[workstream "ws-b"]
		title = Bravo
		depends = ws-a
	[workstream "ws-c"]
		title = Charlie
		depends = ws-a
	[workstream "ws-d"]
		title = Delta
		depends = ws-b ws-c
	[workstream "ws-e"]
		title = Echo
		depends = ws-c
		worktree = ws-c
	EOF
	kill_setup_git_wrapper
}

# kill_setup_repo: repo/ on main, with the test gate check.sh (every
# ws-*.txt says "ok"), and an empty agents.log.
kill_setup_repo () {
	git init -q repo &&
	(
		cd repo &&
		write_script check.sh <<-\EOF &&
		# the test gate: every ws-*.txt says ok
		for f in ws-*.txt
		do
			test -f "$f" || continue
			test "$(cat "$f")" = ok || { echo "$f is broken"; exit 1; }
		done
		EOF
		echo hello >README &&
		git add check.sh README &&
		git commit -q -m initial
	) &&
	: >agents.log
}

# kill_write_agent: agent.sh, the scripted agent.
kill_write_agent () {
	write_script agent.sh <<-\EOF
	# Scripted agent: commits <id>.txt once (a rerun finds it committed
	# and has nothing to do); its dependencies' files must be there,
	# since its branch starts from their merges. Each commit it makes
	# goes to agents.log.
	set -e
	for dep in $WS_DEPENDS
	do
		test -f "$dep.txt" || { echo "missing $dep.txt"; exit 3; }
	done
	# KILL_AGENT_SLEEP=<s>: take that long, and log to twice.log when
	# another command of the same workstream is running meanwhile
	if test -n "$KILL_AGENT_SLEEP"
	then
		if mkdir "$KILL_DIR/running-$WS_ID" 2>/dev/null
		then
			sleep $KILL_AGENT_SLEEP
			rmdir "$KILL_DIR/running-$WS_ID"
		else
			echo "$WS_ID attempt $WS_ATTEMPT started while another was running" >>"$KILL_DIR/twice.log"
		fi
	fi
	# KILL_AGENT_BROKEN="<id>...": these write work that fails the gate
	content=ok
	case " $KILL_AGENT_BROKEN " in
	*" $WS_ID "*) content=broken ;;
	esac
	if ! git cat-file -e "HEAD:$WS_ID.txt" 2>/dev/null
	then
		echo $content >"$WS_ID.txt"
		# everything, as agents do: a worktree that a killed
		# `git merge --ff-only` of dispatch left half fast-forwarded
		# (files of the base there, the branch not moved) converges
		git add -A
		git commit -q -m "$WS_ID: add $WS_ID.txt"
		echo "$WS_ID $(git rev-parse HEAD)" >>"$KILL_DIR/agents.log"
	fi
	EOF
}

# kill_setup_git_wrapper: execpath/, a copy of git's exec path (symbolic
# links) whose `git` is the counting wrapper.
kill_setup_git_wrapper () {
	real_exec_path=$("$KILL_REAL_GIT" --exec-path) &&
	mkdir execpath &&
	for f in "$real_exec_path"/* "$real_exec_path"/.[!.]*
	do
		test -e "$f" || continue
		ln -s "$f" "execpath/${f##*/}" || return 1
	done &&
	rm -f execpath/git &&
	write_script execpath/git <<-\EOF
	# git, as started by git-ws: with KILL_AT_GIT=k, count the git
	# commands whose parent is a git-ws binary (in KILL_COUNTER) and
	# SIGKILL the process group at the k-th, before running it or,
	# with KILL_GIT_WHEN=after, after it. With KILL_GIT_SUB=<command>,
	# SIGKILL the process group before the first (with <command>:<n>,
	# the n-th) `git <command>` at any depth (e.g. the ones git worktree
	# add runs); with KILL_GIT_SPARE=spare, see kill_all spare.
	#
	# kill_all: SIGKILL the process group of the git-ws binary that
	# started this git (directly or not) and this git's own, which
	# differ when git-ws starts git in a process group of its own: as
	# if everything died at once. kill_all spare: only the former,
	# when they differ, and this git goes on (after KILL_GIT_SPARE_SLEEP
	# seconds, if set, so that a test can act while it is still running).
	kill_all () {
		spare=$1
		read -r stat </proc/$$/stat
		set -- $stat
		own=$5
		p=$PPID
		while test "$p" -gt 1
		do
			read -r comm </proc/$p/comm 2>/dev/null || break
			# (a git-ws keeper process runs git in git's own
			# group: the binary to kill is further up)
			case "$comm" in
			git-ws-*)
				read -r stat </proc/$p/stat
				set -- $stat
				if test $5 != $own
				then
					kill -9 -$5
					if test "$spare" = spare
					then
						sleep ${KILL_GIT_SPARE_SLEEP:-0}
						return
					fi
					break
				fi ;;
			esac
			p=$(sed -n "s/^PPid:[	 ]*//p" /proc/$p/status)
		done
		kill -9 -$own
		sleep 10
		exit 1
	}
	if test -n "$KILL_GIT_SUB" && test "$1" = "${KILL_GIT_SUB%:*}" &&
	   echo >>"$KILL_COUNTER.sub" &&
	   test "$(wc -l <"$KILL_COUNTER.sub")" -ge "${KILL_GIT_SUB#*:}"
	then
		kill_all $KILL_GIT_SPARE
	fi
	if test -n "$KILL_AT_GIT"
	then
		comm=
		read -r comm </proc/$PPID/comm 2>/dev/null
		case "$comm" in
		git-ws-*)
			n=$(flock "$KILL_COUNTER.lock" sh -c '
				n=$(cat "$1" 2>/dev/null) || n=0
				n=$((n + 1))
				echo $n >"$1"
				echo $n' - "$KILL_COUNTER")
			echo "$n $KILL_GIT_WHEN $comm: git $*" >>"$KILL_COUNTER.log"
			if test "$n" = "$KILL_AT_GIT"
			then
				if test "$KILL_GIT_WHEN" = after
				then
					"$KILL_REAL_GIT" "$@"
				fi
				kill_all
			fi
			;;
		esac
	fi
	exec "$KILL_REAL_GIT" "$@"
	EOF
}

# kill_snapshot <name> / kill_restore <name>: save and bring back the
# repository, its worktrees (same absolute paths, so git's and git-ws's
# records stay right) and the agents' log.
kill_snapshot () {
	rm -rf "snap/$1" &&
	mkdir -p "snap/$1" &&
	cp -a repo agents.log "snap/$1/" &&
	for d in repo-*
	do
		test -e "$d" || continue
		cp -a "$d" "snap/$1/" || return 1
	done
}

kill_restore () {
	rm -rf repo repo-* agents.log &&
	cp -a "snap/$1"/. .
}

# kill_leftovers <token>: pids of live processes of that launch.
kill_leftovers () {
	grep -lzx "KILL_TOKEN=$1" /proc/[0-9]*/environ 2>/dev/null |
	sed -e 's|^/proc/||' -e 's|/environ$||'
}

# kill_wait_leftovers <token>: wait (at most 30 s) until every process
# of that launch has ended.
kill_wait_leftovers () {
	i=0
	while test -n "$(kill_leftovers "$1")"
	do
		i=$((i + 1))
		if test $i -gt 1500
		then
			echo "processes of $1 still running after 30 s:"
			for p in $(kill_leftovers "$1")
			do
				tr '\0' ' ' </proc/$p/cmdline; echo
				kill -9 $p
			done
			return 1
		fi
		sleep 0.02
	done
}

# kill_launch <how> <arg> <command>...: run the command in repo/, in a
# session of its own, and kill it:
#	ms <delay>        SIGKILL to its process group <delay> ms after it
#	                  started (0: as soon as it runs)
#	git-before <k>    just before its k-th git child
#	git-after <k>     just after its k-th git child
#	git-sub <command>[:<n>]
#	                  just before the first (n-th) `git <command>` that
#	                  it or its git children start (inside git worktree
#	                  add, say), together with that git
#	git-sub-spare <command>[:<n>]
#	                  the same, but spare the git when git-ws started it
#	                  in a process group of its own, as Ctrl-C or a
#	                  supervisor's kill of the group would (it goes on
#	                  after KILL_GIT_SPARE_SLEEP seconds, if set)
#	rename <k>        SIGKILL to the git-ws binary itself on entry to its
#	unlink <k>        k-th rename(2) or unlink(2), before the call runs
#	                  (strace's fault injection; `git ws-X` is run as
#	                  `git-ws-X`, so that strace traces the binary)
#	none -            do not kill it (count its git children, and its
#	                  renames and unlinks in KILL_RENAMES, KILL_UNLINKS)
#	plain -           do not kill it, nor count anything
# Waits for it and for what it left running (not for the latter when
# KILL_LEAVE_RUNNING is set: kill_wait_leftovers $KILL_TOKEN does it
# later), then removes the lock files killed git commands left (see
# kill_remove_git_locks). Sets KILL_STATUS (its exit status; 137 when
# the kill landed), KILL_LANDED (1 or 0) and KILL_ELAPSED (ms). Its
# output goes to launch.out and launch.err.
kill_seq=0
kill_launch () {
	how=$1 arg=$2
	shift 2
	kill_seq=$((kill_seq + 1))
	KILL_TOKEN=$$.$kill_seq
	rm -f counter counter.log counter.hit counter.sub launch.out launch.err run.out run.err syscalls
	KILL_RENAMES=0 KILL_UNLINKS=0
	kill_sub= kill_spare=
	case "$how" in
	git-sub|git-sub-spare)
		test "$how" = git-sub || kill_spare=spare
		kill_at=0 kill_when=sub kill_sub=$arg
		case "$kill_sub" in
		*:*) ;;
		*) kill_sub=$kill_sub:1 ;;
		esac ;;
	git-before|git-after)
		kill_at=$arg kill_when=${how#git-} ;;
	none)
		kill_at=0 kill_when=none ;;
	*)
		kill_at= kill_when= ;;
	esac
	case "$how" in
	rename|unlink|none)
		if test "$1" = git && kill_have_strace
		then
			cmd=git-$2
			shift 2
			if test "$how" = none
			then
				set -- strace -qq -o "$KILL_DIR/syscalls" -e signal=none \
					-e trace=rename,unlink "$cmd" "$@"
			else
				set -- strace -qq -o /dev/null -e signal=none -e trace=$how \
					-e inject=$how:signal=KILL:when=$arg "$cmd" "$@"
			fi
		fi ;;
	esac
	t0=$(kill_now_ms)
	(
		cd repo &&
		if test -n "$kill_when"
		then
			KILL_AT_GIT=$kill_at KILL_GIT_WHEN=$kill_when KILL_GIT_SUB=$kill_sub
			KILL_GIT_SPARE=$kill_spare
			KILL_COUNTER=$KILL_DIR/counter GIT_EXEC_PATH=$KILL_DIR/execpath
			PATH=$KILL_DIR/execpath:$PATH
			export KILL_AT_GIT KILL_GIT_WHEN KILL_GIT_SUB KILL_GIT_SPARE \
				KILL_COUNTER GIT_EXEC_PATH PATH
		fi &&
		KILL_TOKEN=$KILL_TOKEN exec setsid "$@" >../launch.out 2>../launch.err </dev/null
	) &
	pid=$!
	if test "$how" = ms
	then
		# wait for the session to exist, so that the kill takes all of it
		while ! kill -0 -$pid 2>/dev/null && kill -0 $pid 2>/dev/null
		do
			:
		done
		test "$arg" -gt 0 && sleep $(kill_ms_to_s $arg)
		kill -9 -$pid 2>/dev/null
	fi
	wait $pid
	KILL_STATUS=$?
	KILL_ELAPSED=$(($(kill_now_ms) - t0))
	KILL_LANDED=0
	test $KILL_STATUS = 137 && KILL_LANDED=1
	if test "$how" = none && test -f syscalls
	then
		KILL_RENAMES=$(grep -c "^rename(" syscalls)
		KILL_UNLINKS=$(grep -c "^unlink(" syscalls)
	fi
	test -n "$KILL_LEAVE_RUNNING" && return 0
	kill_wait_leftovers $KILL_TOKEN &&
	kill_remove_git_locks
}

# kill_have_strace: strace can trace and inject faults here.
kill_have_strace () {
	if test -z "$kill_strace_ok"
	then
		kill_strace_ok=no
		strace -qq -o /dev/null -e trace=getpid -e inject=getpid:retval=1 true \
			2>/dev/null && kill_strace_ok=yes
	fi
	test "$kill_strace_ok" = yes
}

# kill_git_children: how many git children the last launch started.
kill_git_children () {
	if test -f counter
	then
		cat counter
	else
		echo 0
	fi
}

# kill_run <command>...: run it in repo/ to its end (bounded); its
# output goes to run.out and run.err. Returns its exit status.
kill_run () {
	(cd repo && timeout 120 "$@" >../run.out 2>../run.err </dev/null)
}

# kill_remove_git_locks: remove the lock files that killed git commands
# left in repo/.git (refs, HEAD, index, of every worktree), as git's own
# message asks a user to after a crash ("remove the file manually to
# continue"), and list them in git-locks. Called once every process of
# the launch has ended, so each is stale. git leaves these after SIGKILL
# and the bar is what git promises, so they are not held against
# git-ws. Lock files of git-ws's own (.git/ws/) are never removed here:
# git-ws must break those itself.
kill_git_locks=0
kill_remove_git_locks () {
	for lock in $(cd repo/.git && find . -name "*.lock" ! -path "./ws/*")
	do
		echo "$how $arg: .git/${lock#./}" >>git-locks
		rm -f "repo/.git/$lock"
		kill_git_locks=$((kill_git_locks + 1))
	done
}

# kill_tested_tree <commit>: 0 when the test gate passes on its tree
# (checked in a scratch directory, never in the repository; results are
# cached by tree).
kill_tested_tree () {
	tree=$(git -C repo rev-parse "$1^{tree}") || return 1
	if grep -qx "$tree ok" tested-trees 2>/dev/null
	then
		return 0
	fi
	rm -rf tree-check &&
	mkdir tree-check &&
	git -C repo archive --format=tar "$1" | tar -x -C tree-check &&
	(cd tree-check && ./check.sh >/dev/null 2>&1) || {
		echo "the tree of $1 fails the test gate"
		return 1
	}
	echo "$tree ok" >>tested-trees
}

# kill_check <old-tip> <after>: the invariants after a kill ("killed")
# or after the rerun ("rerun"):
#  - git fsck is clean;
#  - every .git/ws config file parses, and git ws-status works;
#  - main is at <old-tip> or a first-parent chain of merges from it, each
#    of which passes the test gate, and no workstream is merged twice;
#  - every commit an agent made is reachable from a branch or a backup;
#  - every recorded worktree of a workstream not merged or cleaned (and
#    not being allocated) exists and git status works in it;
#  - after the rerun: no worktree prunable or locked, nothing for git
#    worktree prune to remove.
# (A FILE.lock that a killed git-ws left in .git/ws may stay until the
# next command that writes FILE breaks it; see lockfile.h.)
kill_check () {
	old=$1 after=$2
	kill_check_ >check.out 2>&1
	ret=$?
	cat check.out
	return $ret
}

kill_check_ () {
	(
		cd repo &&
		if ! git fsck --no-progress --no-dangling >../fsck.out 2>&1
		then
			cat ../fsck.out
			echo "git fsck failed ($after)"
			exit 1
		fi
		test ! -s ../fsck.out || {
			cat ../fsck.out
			echo "git fsck complains ($after)"
			exit 1
		}
		for f in .git/ws/state .git/ws/queue .git/ws/plan \
			 .git/ws/archive/*/state .git/ws/archive/*/queue \
			 .git/ws/archive/*/plan
		do
			test -e "$f" || continue
			git config -f "$f" --list >/dev/null || {
				echo "$f does not parse ($after)"
				exit 1
			}
		done
		if test -f .git/ws/plan
		then
			git ws-status >../status.out 2>&1 || {
				cat ../status.out
				echo "git ws-status failed ($after)"
				exit 1
			}
		fi

		# the base: the old tip, or tested merges on top of it
		git rev-list --first-parent main >../first-parents &&
		grep -qx "$old" ../first-parents || {
			echo "main no longer has $old on its first-parent line ($after)"
			exit 1
		}
		for c in $(git rev-list --first-parent "$old..main")
		do
			test "$(git rev-list --no-walk --parents "$c" | wc -w)" = 3 || {
				echo "$c on main is not a merge ($after)"
				exit 1
			}
			(cd .. && kill_tested_tree "$c") || exit 1
		done
		git log --first-parent --merges --format=%s main |
		sed -n "s/^Merge \(ws-[a-z0-9]*\):.*/\1/p" | sort | uniq -d >../twice &&
		test ! -s ../twice || {
			echo "merged twice ($after):"
			cat ../twice
			exit 1
		}

		# every agent's commit is reachable
		git rev-list --branches --glob="refs/ws/backup/*" >../reachable &&
		while read id c
		do
			grep -qx "$c" ../reachable || {
				echo "$id's commit $c is unreachable ($after)"
				exit 1
			}
		done <../agents.log

		# worktrees
		if test -f .git/ws/state
		then
			git config -f .git/ws/state --get-regexp '^workstream\..*\.worktree$' |
			while read key wt
			do
				id=${key#workstream.}
				id=${id%.worktree}
				test -z "$(git config -f .git/ws/state "workstream.$id.allocating")" || continue
				case "$(git config -f .git/ws/state "workstream.$id.status")" in
				merged|cleaned) continue ;;
				esac
				test -d "$wt" &&
				test "$(git -C "$wt" rev-parse --show-toplevel)" = "$wt" &&
				git -C "$wt" status --porcelain >/dev/null || {
					echo "the worktree '$wt' of $id is broken ($after)"
					exit 1
				}
			done || exit 1
		fi
		if test "$after" = rerun
		then
			git worktree list --porcelain >../worktrees &&
			if grep -E "^(prunable|locked)" ../worktrees
			then
				echo "a worktree is prunable or locked after the rerun"
				exit 1
			fi
			git worktree prune --dry-run --verbose >../prune 2>&1 &&
			test ! -s ../prune || {
				cat ../prune
				echo "git worktree prune would remove worktrees after the rerun"
				exit 1
			}
		fi
	)
}

# kill_all_merged: every workstream of the plan is merged (or cleaned).
kill_all_merged () {
	for id in ws-a ws-b ws-c ws-d ws-e
	do
		s=$(git config -f repo/.git/ws/state "workstream.$id.status")
		case "$s" in
		merged|cleaned) ;;
		*)
			echo "$id is '$s', not merged"
			return 1 ;;
		esac
	done
}

# kill_delays <duration-ms>: delays spread over a run of that length:
# doubling from 0 at the start (where a run changes most per ms), then
# evenly spaced up to the duration.
kill_delays () {
	echo 0
	for d in 2 5 10 20 40 80 160 320 640
	do
		test $d -lt $(($1 / 2)) && echo $d
	done
	step=$(($1 / 8))
	test $step -gt 0 || step=1
	d=$(($1 / 2))
	while test $d -le $(($1 + $1 / 8))
	do
		echo $d
		d=$((d + step))
	done
}
