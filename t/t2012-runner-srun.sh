#!/bin/sh

test_description='runner = srun: each command a job of a real one-node Slurm'

. ./lib-ws.sh
. "$SHARNESS_TEST_DIRECTORY"/lib-slurm.sh

# The node's slurmd runs in a mount namespace of its own where $HIDDEN is
# an empty tmpfs (slurm_start, SLURM_HIDE): what lies there here, the
# node cannot see, as a compute node that lacks a filesystem.
HIDDEN=$SHARNESS_TRASH_DIRECTORY/hidden
mkdir -p "$HIDDEN"
SLURM_HIDE=$HIDDEN

test_expect_success SLURM 'start a one-node Slurm' '
	slurm_start &&
	if test -n "$SLURM_HIDDEN"
	then
		test_set_prereq HIDDEN
	else
		say "the node sees every directory: $SLURM_HIDE_WHY"
	fi
'

# squeue_ids: the ids of our jobs that Slurm has not ended, one a line.
squeue_ids () {
	squeue -h -o %i
}

test_expect_success SLURM 'setup: a plan of four workstreams whose runner is srun' '
	setup_repo &&
	mkdir bin &&
	PATH=$PWD/bin:$PATH &&
	TRASH=$PWD && export TRASH &&
	write_script bin/job <<-\EOF &&
	echo "$SLURM_JOB_ID" >"$TRASH/$WS_ID.jobid"
	env | grep "^WS_" | sort >"$TRASH/$WS_ID.env"
	pwd >"$TRASH/$WS_ID.pwd"
	EOF
	write_script bin/cancel-me <<-\EOF &&
	if test -f "$TRASH/$WS_ID.cancelled-once"
	then
		echo "$SLURM_JOB_ID" >"$TRASH/$WS_ID.second"
		exit 0
	fi
	: >"$TRASH/$WS_ID.cancelled-once"
	echo "$SLURM_JOB_ID" >"$TRASH/$WS_ID.first"
	sleep 60
	EOF
	write_script bin/long <<-\EOF &&
	echo "$SLURM_JOB_ID" >"$TRASH/$WS_ID.jobid"
	sleep 300
	EOF
	cat >plan <<-\EOF &&
	[plan]
		name = sr
		base = main
		runner = srun
		jobs = 4
		command = job
	[workstream "a"]
		title = A
	[workstream "b"]
		title = B
	[workstream "c"]
		title = C
	[workstream "d"]
		title = D
	[workstream "e"]
		title = E
	[workstream "cancel"]
		title = Cancel
		command = cancel-me
	[workstream "cancel2"]
		title = Cancel two
		command = cancel-me
	[workstream "long-1"]
		title = Long one
		command = long
	[workstream "long-2"]
		title = Long two
		command = long
	EOF
	(cd repo && git ws-alloc ../plan >/dev/null)
'

test_expect_success SLURM 'a whole plan runs, each command a Slurm job of its own' '
	(cd repo && git ws-dispatch a b c d >../out 2>&1) &&
	for id in a b c d
	do
		(cd repo && ws_state $id status >../actual) &&
		echo done >expect &&
		test_cmp expect actual &&
		test -s $id.jobid &&
		(cd repo && ws_state $id runner >../actual) &&
		echo srun >expect &&
		test_cmp expect actual &&
		# the state names the job, and Slurm knows it by the plan and id
		(cd repo && ws_state $id job-id >../actual) &&
		test_cmp $id.jobid actual &&
		scontrol show -o job "$(cat $id.jobid)" >job &&
		grep "JobName=sr/$id " job &&
		grep "JobState=COMPLETED " job &&
		# in its worktree, with the dispatch environment
		echo "$TRASH/repo-$id" >expect &&
		test_cmp expect $id.pwd &&
		grep "^WS_ID=$id$" $id.env &&
		grep "^WS_WORKTREE=$TRASH/repo-$id$" $id.env || return 1
	done &&
	sort -u a.jobid b.jobid c.jobid d.jobid >ids &&
	test_line_count = 4 ids
'

test_expect_success SLURM 'a job cancelled by scancel fails its attempt as cancelled, and is retried' '
	(cd repo && git ws-dispatch --retries 1 cancel >../out 2>&1) &
	dispatcher=$! &&
	wait_for "test -s cancel.first" &&
	scancel "$(cat cancel.first)" &&
	wait $dispatcher &&
	(cd repo && ws_state cancel status >../actual) &&
	echo done >expect &&
	test_cmp expect actual &&
	(cd repo && ws_state cancel attempts >../actual) &&
	echo 2 >expect &&
	test_cmp expect actual &&
	log=repo/.git/ws/logs/cancel.log &&
	grep "cancel attempt 1 ended .*: Slurm job $(cat cancel.first) cancelled" $log &&
	test -s cancel.second &&
	! test_cmp cancel.first cancel.second
'

test_expect_success SLURM 'without retries the reason in the state is Slurm'"'"'s' '
	(cd repo && test_expect_code 1 git ws-dispatch --retries 0 cancel2 >../out 2>&1) &
	dispatcher=$! &&
	wait_for "test -s cancel2.first" &&
	scancel "$(cat cancel2.first)" &&
	wait $dispatcher &&
	(cd repo && ws_state cancel2 status >../actual) &&
	echo failed >expect &&
	test_cmp expect actual &&
	(cd repo && ws_state cancel2 reason >../actual) &&
	grep "^Slurm job $(cat cancel2.first) cancelled (ExitCode [0-9]*:[0-9]*); see " actual
'

test_expect_success SLURM 'stopping the dispatcher cancels its jobs: squeue is empty' '
	(cd repo && exec git-ws-dispatch long-1 long-2 >../out 2>&1) &
	dispatcher=$! &&
	test_when_finished "kill -9 $dispatcher 2>/dev/null; :" &&
	wait_for "test -s long-1.jobid && test -s long-2.jobid" &&
	squeue_ids >queued &&
	test_line_count = 2 queued &&
	wait_for "(cd repo && git ws-status) | grep \"running on srun: job $(cat long-1.jobid)\"" &&
	kill -TERM $dispatcher &&
	{ wait $dispatcher || :; } &&
	wait_for "test -z \"\$(squeue_ids)\"" &&
	# scancel (CANCELLED), or srun passing the SIGTERM on to the task
	# first (FAILED): either way the job was stopped, not left to finish
	for id in $(cat long-1.jobid long-2.jobid)
	do
		case "$(slurm_job_state "$id")" in
		CANCELLED|FAILED) ;;
		*) echo "job $id: $(slurm_job_state "$id")"; return 1 ;;
		esac
	done
'

test_expect_success SLURM 'a timeout becomes the job'"'"'s --time, rounded up to minutes' '
	(cd repo && git ws-dispatch --timeout 90s e >../out 2>&1) &&
	scontrol show -o job "$(cat e.jobid)" >job &&
	grep "TimeLimit=00:02:00 " job
'

test_expect_success SLURM,HIDDEN 'a worktree the node cannot see fails before any job, and says so' '
	setup_repo repo2 &&
	git -C repo2 config ws.worktreeDir "$HIDDEN" &&
	cat >plan2 <<-\EOF &&
	[plan]
		name = hid
		base = main
		runner = srun
		command = job
	[workstream "h"]
		title = Hidden
	EOF
	(cd repo2 && git ws-alloc ../plan2 >/dev/null) &&
	test_path_is_dir "$HIDDEN/repo2-h" &&
	(cd repo2 && test_expect_code 1 git ws-dispatch --retries 0 h >../out 2>&1) &&
	(cd repo2 && ws_state h reason >../actual) &&
	grep "a Slurm node does not see the worktree .*$HIDDEN/repo2-h" actual &&
	grep "ws.worktreeDir" actual &&
	test_path_is_missing h.jobid &&
	# the probe was the only job; no command ran
	squeue -h -t all -o "%i %j" >after &&
	! grep " hid/h$" after
'

test_done
