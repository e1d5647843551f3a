# bash completion for git-ws (git ws-alloc, ws-dispatch, ws-converge,
# ws-merge, ws-clean, ws-status).
#
# git's own completion (contrib/completion/git-completion.bash, in Debian
# /usr/share/bash-completion/completions/git) completes `git ws-alloc <TAB>`
# by calling _git_ws_alloc, which this file defines; when a function is
# missing it asks bash-completion to load the file named git-ws-alloc, so
# `make install` installs this file under every command's name into
# $(datadir)/bash-completion/completions. Sourcing it also registers the
# dashed forms (`git-ws-alloc <TAB>`).
#
# Candidates: each command's options; plan files for ws-alloc; branches
# for --base; remotes for `ws-merge --push=`; workstream ids read from the
# state ($(git rev-parse --git-common-dir)/ws/state), offered by status
# where the command only takes some:
#
#	ws-dispatch           ready         ws-dispatch --retry   failed
#	ws-converge           done          ws-merge              converged, queued
#	ws-merge --undo       merged, cleaned
#	ws-clean              merged        ws-clean --force      all but cleaned
#	ws-status             all
#
# The option lists below are the commands' `-h` output; t/t9000 checks
# that they stay so.

# The .git/ws directory of the repository being completed in.
__git_ws_dir ()
{
	local d
	d="$(__git rev-parse --path-format=absolute --git-common-dir)"
	test -n "$d" || return 1
	printf '%s\n' "$d/ws"
}

# Print the ids of the workstreams whose status is one of "$@" (all when
# no argument), one a line, leaving out those already on the command line.
__git_ws_ids ()
{
	local IFS=$' \t\n' dir key status id want ok c
	dir="$(__git_ws_dir)" || return 0
	test -f "$dir/state" || return 0
	__git config -f "$dir/state" --get-regexp '^workstream\..*\.status$' |
	while read -r key status; do
		id="${key#workstream.}"
		id="${id%.status}"
		ok=
		if test $# = 0; then
			ok=y
		else
			for want in "$@"; do
				test "$status" = "$want" && ok=y
			done
		fi
		test -n "$ok" || continue
		for ((c = ${__git_cmd_idx:-1} + 1; c < cword; c++)); do
			test "${words[c]}" = "$id" && continue 2
		done
		printf '%s\n' "$id"
	done
}

# Print the ids in the merge queue (.git/ws/queue), in order.
__git_ws_queued ()
{
	local dir
	dir="$(__git_ws_dir)" || return 0
	test -f "$dir/queue" || return 0
	__git config -f "$dir/queue" --get-all queue.item
}

# Complete workstream ids whose status is one of "$@" (all when none).
__git_ws_complete_ids ()
{
	__gitcomp_nl "$(__git_ws_ids "$@")"
}

# True when one of the words "$@" is on the command line (before the
# word being completed).
__git_ws_has_option ()
{
	test -n "$(__git_find_on_cmdline "$*")"
}

# The value of an option in the word being completed ("--base=ma") or in
# the previous word ("--base ma"): handles the branch and value options
# shared by several commands. Returns 0 when it completed something.
__git_ws_complete_value ()
{
	case "$cur" in
	--base=*)
		__git_complete_refs --mode=heads --cur="${cur#--base=}" --pfx=--base=
		return 0 ;;
	--push=*)
		__gitcomp_nl "$(__git_remotes)" "" "${cur#--push=}"
		return 0 ;;
	--jobs=*|--retries=*|--timeout=*|--max-iterations=*|--abandoned=*|--batch=*|--pool=*)
		# a number or a duration: nothing to offer
		COMPREPLY=()
		return 0 ;;
	esac
	case "$prev" in
	--base)
		__git_complete_refs --mode=heads
		return 0 ;;
	-j|--jobs|--retries|--timeout|--max-iterations|--abandoned|--pool)
		COMPREPLY=()
		return 0 ;;
	esac
	return 1
}

_git_ws_alloc ()
{
	__git_ws_complete_value && return
	case "$cur" in
	-*)
		__gitcomp "--dry-run --porcelain --base= --pool= -n"
		return ;;
	esac
	# The plan: files named *.plan (and directories to find them in);
	# any file when there is no plan here.
	local IFS=$'\n' plans
	plans="$(compgen -f -X '!*.plan' -- "$cur"; compgen -d -- "$cur")"
	test -n "$plans" || plans="$(compgen -f -- "$cur")"
	__gitcomp_file_direct "$plans"
}

_git_ws_dispatch ()
{
	# after `--` comes the command: bash's default completion
	__git_has_doubledash && return
	__git_ws_complete_value && return
	case "$cur" in
	-*)
		__gitcomp "--jobs= --retries= --timeout= --detach --dry-run
			--porcelain --retry --loop --push --push= --wait -j -n"
		return ;;
	esac
	if __git_ws_has_option --retry; then
		__git_ws_complete_ids failed
	else
		__git_ws_complete_ids ready
	fi
}

_git_ws_converge ()
{
	__git_ws_complete_value && return
	case "$cur" in
	-*)
		__gitcomp "--porcelain --max-iterations= --commit --no-tests"
		return ;;
	esac
	__git_ws_complete_ids done
}

_git_ws_merge ()
{
	__git_ws_complete_value && return
	case "$cur" in
	--rollback-to=*)
		# the workstreams whose merges made the checkpoints
		__gitcomp_nl "$(__git_ws_ids merged cleaned)" "" "${cur#--rollback-to=}"
		return ;;
	-*)
		__gitcomp "--dry-run --no-verify --push --push= --porcelain -n
			--undo --rollback-to= --final-test --batch --batch="
		return ;;
	esac
	if test "$prev" = --rollback-to; then
		__git_ws_complete_ids merged cleaned
		return
	fi
	if __git_ws_has_option --undo; then
		__git_ws_complete_ids merged cleaned
		return
	fi
	# converged workstreams and the queue (in queue order first), once each
	local IFS=$'\n' id seen=$'\n' list= c
	for id in $(__git_ws_queued; __git_ws_ids converged); do
		case "$seen" in *$'\n'"$id"$'\n'*) continue ;; esac
		seen="$seen$id"$'\n'
		for ((c = ${__git_cmd_idx:-1} + 1; c < cword; c++)); do
			test "${words[c]}" = "$id" && continue 2
		done
		list="$list$id"$'\n'
	done
	__gitcomp_nl "$list"
}

_git_ws_clean ()
{
	__git_ws_complete_value && return
	case "$cur" in
	-*)
		__gitcomp "--dry-run --force --keep-branches --abandoned= --all
			--verbose --porcelain -n -f -v"
		return ;;
	esac
	if __git_ws_has_option -f --force; then
		__git_ws_complete_ids blocked ready in_progress done converged \
			merged failed
	else
		__git_ws_complete_ids merged
	fi
}

_git_ws_agent ()
{
	local i
	# after "--" come the agent CLI's own arguments
	for ((i = ${__git_cmd_idx:-1} + 1; i < cword; i++)); do
		test "${words[i]}" = "--" && return
	done
	case "$cur" in
	-*)
		__gitcomp "--dry-run -n"
		return ;;
	esac
	__gitcomp "claude codex"
}

_git_ws_status ()
{
	case "$cur" in
	-*)
		__gitcomp "--porcelain --graph -z --checkpoints --conflicts --dot"
		return ;;
	esac
	__git_ws_complete_ids
}

# The dashed forms: `git-ws-alloc <TAB>`. bash-completion loads this file
# for them before git's own completion may be loaded: load it first.
if ! declare -F __git_complete >/dev/null 2>&1; then
	if declare -F __load_completion >/dev/null 2>&1; then
		__load_completion git
	elif test -f /usr/share/bash-completion/completions/git; then
		. /usr/share/bash-completion/completions/git
	fi
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-ws-alloc _git_ws_alloc
	__git_complete git-ws-dispatch _git_ws_dispatch
	__git_complete git-ws-converge _git_ws_converge
	__git_complete git-ws-merge _git_ws_merge
	__git_complete git-ws-clean _git_ws_clean
	__git_complete git-ws-status _git_ws_status
	__git_complete git-ws-agent _git_ws_agent
fi
