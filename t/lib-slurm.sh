# A one-node Slurm for the tests of the srun runner: source it after
# lib-ws.sh, then call slurm_start once per script (in a test).
#
# slurm_start runs munged, slurmctld and slurmd in the background as the
# current user (root in CI), with their configuration, sockets, state,
# spool and logs in a new directory under /tmp ($SLURM_DIR: the trash
# directory's name has a space, and munged's socket path must stay short),
# on free 127.0.0.1 ports. It exports SLURM_CONF for every client (srun,
# sinfo, squeue, scontrol, scancel) and returns once the node is idle.
# slurm_stop cancels the jobs that are left and stops the daemons by the
# pids recorded at start, never by name; it runs at the end of the script
# (test_done), at any other exit of the script's shell, and, should the
# script be killed, from a watcher that outlives it.
#
# Without the Slurm or munge binaries the prereq SLURM is not set and the
# tests that need it are skipped with the reason; with
# GIT_WS_TEST_REQUIRE_SLURM=1 (CI) that is an error.

slurm_missing=
for b in munged munge unmunge slurmctld slurmd srun sinfo squeue scontrol scancel perl
do
	if ! command -v $b >/dev/null 2>&1 &&
		! test -x /usr/sbin/$b
	then
		slurm_missing="$slurm_missing $b"
	fi
done
case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin ;;
esac
if test -z "$slurm_missing"
then
	test_set_prereq SLURM
elif test -n "$GIT_WS_TEST_REQUIRE_SLURM"
then
	error "GIT_WS_TEST_REQUIRE_SLURM is set, but these are missing:$slurm_missing"
else
	say "skipping the Slurm tests: missing$slurm_missing (apt-get install slurmctld slurmd slurm-client munge)"
fi

. "$SHARNESS_TEST_DIRECTORY/lib-port.sh"

SLURM_DIR=
SLURM_PIDS=

# slurm_start: start munged, slurmctld and slurmd; export SLURM_CONF;
# wait (at most 30 s) until the node "localhost" is idle.
slurm_start () {
	SLURM_DIR=$(mktemp -d /tmp/ws-slurm.XXXXXX) &&
	chmod 0755 "$SLURM_DIR" &&
	mkdir "$SLURM_DIR/munge" "$SLURM_DIR/state" "$SLURM_DIR/spool" &&
	chmod 0755 "$SLURM_DIR/munge" &&
	echo "$SLURM_DIR" >"$SHARNESS_TRASH_DIRECTORY/slurm.dir" &&
	dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 2>/dev/null &&
	chmod 0400 "$SLURM_DIR/munge/munge.key" &&
	slurm_spawn munged --foreground --force \
		--socket="$SLURM_DIR/munge/munge.socket" \
		--key-file="$SLURM_DIR/munge/munge.key" \
		--pid-file="$SLURM_DIR/munge/munged.pid" \
		--seed-file="$SLURM_DIR/munge/munged.seed" \
		--log-file="$SLURM_DIR/munge/munged.log" &&
	slurm_watch &&
	wait_for 'munge -S "$SLURM_DIR/munge/munge.socket" -n 2>/dev/null |
		unmunge -S "$SLURM_DIR/munge/munge.socket" >/dev/null 2>&1' &&
	ctld_port=$(free_port) &&
	slurmd_port=$(free_port) &&
	while test "$slurmd_port" = "$ctld_port"
	do
		slurmd_port=$(free_port) || return 1
	done &&
	cat >"$SLURM_DIR/slurm.conf" <<-EOF &&
	ClusterName=ci
	SlurmctldHost=localhost
	SlurmUser=$(id -un)
	SlurmdUser=$(id -un)
	SlurmctldPort=$ctld_port
	SlurmdPort=$slurmd_port
	AuthType=auth/munge
	CredType=cred/munge
	AuthInfo=socket=$SLURM_DIR/munge/munge.socket
	StateSaveLocation=$SLURM_DIR/state
	SlurmdSpoolDir=$SLURM_DIR/spool
	SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
	SlurmdPidFile=$SLURM_DIR/slurmd.pid
	SlurmctldLogFile=$SLURM_DIR/slurmctld.log
	SlurmdLogFile=$SLURM_DIR/slurmd.log
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	JobCompType=jobcomp/filetxt
	JobCompLoc=$SLURM_DIR/jobcomp.txt
	MpiDefault=none
	SchedulerType=sched/backfill
	SchedulerParameters=batch_sched_delay=0
	MailProg=/bin/true
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	ReturnToService=2
	EnforcePartLimits=ALL
	MinJobAge=600
	KillWait=2
	SlurmdParameters=config_overrides
	NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
	PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
	EOF
	SLURM_CONF=$SLURM_DIR/slurm.conf &&
	export SLURM_CONF &&
	slurm_spawn slurmctld -D -c -i -f "$SLURM_CONF" &&
	slurm_start_slurmd &&
	slurm_watch &&
	cleanup slurm_stop &&
	trap 'slurm_stop; die' EXIT &&
	i=0 &&
	while test "$(sinfo -h -n localhost -o %t 2>/dev/null)" != idle
	do
		if test $i -ge 300
		then
			echo "Slurm did not come up in 30 s:"
			sinfo -h -n localhost 2>&1
			tail -n 20 "$SLURM_DIR/slurmctld.log" "$SLURM_DIR/slurmd.log"
			return 1
		fi
		sleep 0.1
		i=$(($i + 1))
	done
}

# slurm_start_slurmd: start slurmd; with $SLURM_HIDE (a directory), in a
# mount namespace of its own where an empty tmpfs covers that directory,
# so that its jobs do not see what lies there here (SLURM_HIDDEN=1), when
# unshare(1) may do that here (else SLURM_HIDE_WHY says why not).
slurm_start_slurmd () {
	SLURM_HIDDEN=
	if test -n "$SLURM_HIDE"
	then
		if ! command -v unshare >/dev/null 2>&1
		then
			SLURM_HIDE_WHY="no unshare(1)"
		elif ! unshare -m --propagation private \
			mount -t tmpfs ws-hide "$SLURM_HIDE" >/dev/null 2>&1
		then
			SLURM_HIDE_WHY="unshare -m cannot mount here (not root, or no CAP_SYS_ADMIN)"
		else
			SLURM_HIDDEN=1
			slurm_spawn unshare -m --propagation private \
				sh -c 'mount -t tmpfs ws-hide "$0" && exec "$@"' "$SLURM_HIDE" \
				slurmd -D -N localhost -f "$SLURM_CONF"
			return
		fi
	fi
	slurm_spawn slurmd -D -N localhost -f "$SLURM_CONF"
}

# slurm_spawn <command>...: run a daemon in the background, its output
# in $SLURM_DIR/<command>.out, and record its pid (first in the list, so
# that slurm_stop stops the last one started first). Test output fds
# are closed, so that a daemon never holds the test harness's pipe open.
slurm_spawn () {
	"$@" >"$SLURM_DIR/$1.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- &
	SLURM_PIDS="$! $SLURM_PIDS"
}

# slurm_watch: (re)start a watcher that stops the daemons recorded so far
# once this script's shell is gone, however it ended.
slurm_watch () {
	if test -n "$slurm_watcher"
	then
		kill "$slurm_watcher" 2>/dev/null || :
	fi
	(
		trap '' HUP INT
		while kill -0 $$ 2>/dev/null
		do
			sleep 1
		done
		for p in $SLURM_PIDS
		do
			kill $p 2>/dev/null || :
		done
		sleep 5
		for p in $SLURM_PIDS
		do
			kill -9 $p 2>/dev/null || :
		done
		rm -rf "$SLURM_DIR"
	) >/dev/null 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- &
	slurm_watcher=$!
}
slurm_watcher=

# slurm_stop: cancel the jobs left, stop the daemons by their pids (TERM,
# then KILL after 10 s) and remove $SLURM_DIR. Safe to call twice, and
# under set -e (bench/dispatch.sh).
slurm_stop () {
	if test -n "$SLURM_PIDS" && test -n "$SLURM_CONF"
	then
		left=$(squeue -h -o %i 2>/dev/null) || left=
		test -z "$left" || scancel $left 2>/dev/null || :
	fi
	for p in $SLURM_PIDS
	do
		kill $p 2>/dev/null || :
		i=0
		while kill -0 $p 2>/dev/null && test $i -lt 100
		do
			sleep 0.1
			i=$(($i + 1))
		done
		kill -9 $p 2>/dev/null || :
	done
	SLURM_PIDS=
	if test -n "$slurm_watcher"
	then
		kill "$slurm_watcher" 2>/dev/null || :
		slurm_watcher=
	fi
	test -z "$SLURM_DIR" || rm -rf "$SLURM_DIR"
	SLURM_DIR=
	return 0
}

# slurm_job_state <job id>: Slurm's JobState of a job (RUNNING,
# COMPLETED, CANCELLED, ...), from scontrol.
slurm_job_state () {
	scontrol show -o job "$1" | tr ' ' '\n' | sed -n 's/^JobState=//p'
}
