#!/bin/sh

test_description='bash and zsh completion of git ws-*

Drives completions/git-ws.bash through git'"'"'s own bash completion (the
Debian git package'"'"'s /usr/share/bash-completion/completions/git) the
way git'"'"'s t9902 does, and checks the candidates: options, plan files,
branches, remotes and workstream ids by status.'

. ./lib-ws.sh

GIT_COMPLETION=${GIT_COMPLETION:-/usr/share/bash-completion/completions/git}
WS_COMPLETION="$WS_SOURCE_DIR/completions/git-ws.bash"

if command -v bash >/dev/null && test -f "$GIT_COMPLETION"
then
	test_set_prereq BASH
else
	skip_all='bash or git'"'"'s bash completion is missing'
	test_done
fi
command -v zsh >/dev/null && test_set_prereq ZSH
command -v zsh >/dev/null && zsh -fc "zmodload zsh/zpty" 2>/dev/null &&
	test_set_prereq ZPTY

# A bash script that loads both completions and prints the candidates for
# the command line given as $1, one a line, as git's t9902 does: the words
# are split on spaces, a trailing space starts a new empty word.
cat >complete.bash <<EOF
. "$GIT_COMPLETION" &&
. "$WS_COMPLETION" || exit 1
EOF
cat >>complete.bash <<\EOF
_get_comp_words_by_ref ()
{
	while test $# -gt 0; do
		case "$1" in
		cur) cur=${_words[_cword]} ;;
		prev) prev=${_words[_cword-1]} ;;
		words) words=("${_words[@]}") ;;
		cword) cword=$_cword ;;
		esac
		shift
	done
}
run_completion ()
{
	local -a COMPREPLY _words
	local _cword fn
	_words=( $1 )
	test "${1: -1}" = ' ' && _words[${#_words[@]}+1]=''
	(( _cword = ${#_words[@]} - 1 ))
	if test "${_words[0]}" = git
	then
		fn=__git_wrap__git_main
	else
		# the dashed form: whatever `complete` registered for it
		fn=$(complete -p "${_words[0]}" 2>/dev/null |
		     sed -n 's/.* -F \([^ ]*\) .*/\1/p')
		test -n "$fn" || { echo "no completion for ${_words[0]}" >&2; exit 1; }
	fi
	$fn || true
	test ${#COMPREPLY[@]} = 0 || printf '%s\n' "${COMPREPLY[@]}"
}
run_completion "$1"
EOF

# test_completion <line> [<expect>]: the candidates for <line>, sorted,
# must be <expect> (or stdin), where "Z" at the end of a line stands for
# the trailing space a candidate gets when it is complete.
test_completion () {
	if test $# -gt 1
	then
		test -z "$2" || printf '%s\n' "$2"
	else
		sed -e 's/Z$//'
	fi | sort >"$TRASH_DIRECTORY/expect" &&
	bash "$TRASH_DIRECTORY/complete.bash" "$1" >"$TRASH_DIRECTORY/out.raw" &&
	sort "$TRASH_DIRECTORY/out.raw" >"$TRASH_DIRECTORY/actual" &&
	test_cmp "$TRASH_DIRECTORY/expect" "$TRASH_DIRECTORY/actual"
}
TRASH_DIRECTORY=$SHARNESS_TRASH_DIRECTORY

test_expect_success 'setup: an allocated plan with workstreams in every status' '
	setup_repo &&
	cat >repo/demo.plan <<-\EOF &&
	[plan]
		name = demo
		command = true
	[workstream "ws-1"]
		title = One
	[workstream "ws-2"]
		title = Two
	[workstream "ws-3"]
		title = Three
	[workstream "ws-4"]
		title = Four
	[workstream "ws-5"]
		title = Five
	[workstream "ws-6"]
		title = Six
	[workstream "ws-7"]
		title = Seven
	[workstream "ws.8"]
		title = Eight
		depends = ws-1
	EOF
	(
		cd repo &&
		git ws-alloc demo.plan >/dev/null &&
		ws_set_state ws-1 status failed &&
		ws_set_state ws-2 status done &&
		ws_set_state ws-3 status converged &&
		ws_set_state ws-4 status merged &&
		ws_set_state ws-6 status in_progress &&
		ws_set_state ws-7 status cleaned &&
		git config -f .git/ws/queue --add queue.item ws-2 &&
		git config -f .git/ws/queue --add queue.item ws-3 &&
		git remote add origin ../origin.git &&
		git remote add upstream ../upstream.git &&
		git branch topic &&
		test "$(ws_state ws-5 status)" = ready &&
		test "$(ws_state ws.8 status)" = blocked &&
		test "$(git config -f .git/ws/state --get workstream.ws-3.status)" = converged
	)
'

test_expect_success BASH 'git ws-status offers every workstream' '
	(cd repo && test_completion "git ws-status " <<-\EOF
	ws-1 Z
	ws-2 Z
	ws-3 Z
	ws-4 Z
	ws-5 Z
	ws-6 Z
	ws-7 Z
	ws.8 Z
	EOF
	)
'

test_expect_success BASH 'ids already on the command line are not offered again' '
	(cd repo && test_completion "git ws-status ws-1 ws-2 ws-3 ws-4 ws-5 ws-6 ws-" <<-\EOF
	ws-7 Z
	EOF
	)
'

test_expect_success BASH 'git ws-agent offers its adapters, and nothing after --' '
	test_completion "git ws-agent " <<-\EOF &&
	claude Z
	codex Z
	EOF
	test_completion "git ws-agent c" <<-\EOF &&
	claude Z
	codex Z
	EOF
	test_completion "git ws-agent claude -- " ""
'

test_expect_success BASH 'git ws-dispatch offers ready workstreams' '
	(cd repo && test_completion "git ws-dispatch " "ws-5 ")
'

test_expect_success BASH 'git ws-dispatch --retry offers failed workstreams' '
	(cd repo && test_completion "git ws-dispatch --retry " "ws-1 ") &&
	(cd repo && test_completion "git ws-dispatch -j 2 --retry w" "ws-1 ")
'

test_expect_success BASH 'git ws-dispatch completes nothing of its own after --' '
	(cd repo && test_completion "git ws-dispatch -- " "")
'

test_expect_success BASH 'git ws-converge offers done workstreams' '
	(cd repo && test_completion "git ws-converge " "ws-2 ")
'

test_expect_success BASH 'git ws-merge offers converged and queued workstreams' '
	(cd repo && test_completion "git ws-merge " <<-\EOF
	ws-2 Z
	ws-3 Z
	EOF
	)
'

test_expect_success BASH 'git ws-merge --undo and --rollback-to offer merged workstreams' '
	(cd repo && test_completion "git ws-merge --undo " <<-\EOF
	ws-4 Z
	ws-7 Z
	EOF
	) &&
	(cd repo && test_completion "git ws-merge --rollback-to=ws-" <<-\EOF
	ws-4 Z
	ws-7 Z
	EOF
	) &&
	(cd repo && test_completion "git ws-merge --r" "--rollback-to=")
'

test_expect_success BASH 'git ws-clean offers merged workstreams, and with --force all live ones' '
	(cd repo && test_completion "git ws-clean " "ws-4 ") &&
	(cd repo && test_completion "git ws-clean --force ws-" <<-\EOF
	ws-1 Z
	ws-2 Z
	ws-3 Z
	ws-4 Z
	ws-5 Z
	ws-6 Z
	EOF
	)
'

test_expect_success BASH 'ids change with the state' '
	test_when_finished "(cd repo && ws_set_state ws-5 status ready)" &&
	(cd repo && ws_set_state ws-5 status failed) &&
	(cd repo && test_completion "git ws-dispatch --retry " <<-\EOF
	ws-1 Z
	ws-5 Z
	EOF
	) &&
	(cd repo && test_completion "git ws-dispatch " "")
'

test_expect_success BASH 'ids come from the common dir: from a linked worktree and a subdirectory' '
	mkdir -p repo-ws-2/sub &&
	(cd repo-ws-2/sub && test_completion "git ws-converge " "ws-2 ")
'

test_expect_success BASH 'git -C <repo> is honoured' '
	test_completion "git -C repo ws-dispatch " "ws-5 "
'

test_expect_success BASH 'no repository, no plan: no ids and no error' '
	mkdir -p empty &&
	(cd empty && test_completion "git ws-status " "" 2>err &&
	 test_must_be_empty err) &&
	git init -q noplan &&
	(cd noplan && test_completion "git ws-status " "" 2>err &&
	 test_must_be_empty err)
'

test_expect_success BASH 'options of each command' '
	(cd repo &&
	test_completion "git ws-alloc --" <<-\EOF &&
	--dry-run Z
	--porcelain Z
	--base=
	--pool=
	EOF
	test_completion "git ws-status --" <<-\EOF &&
	--porcelain Z
	--graph Z
	--checkpoints Z
	--conflicts Z
	--dot Z
	EOF
	test_completion "git ws-status -" <<-\EOF &&
	--porcelain Z
	--graph Z
	--conflicts Z
	--dot Z
	-z Z
	--checkpoints Z
	EOF
	test_completion "git ws-merge --p" <<-\EOF &&
	--push Z
	--push=
	--porcelain Z
	EOF
	test_completion "git ws-dispatch --re" <<-\EOF &&
	--retries=
	--retry Z
	EOF
	test_completion "git ws-converge --no" "--no-tests " &&
	test_completion "git ws-clean --a" <<-\EOF &&
	--abandoned=
	--all Z
	EOF
	test_completion "git ws-clean --" <<-\EOF
	--dry-run Z
	--force Z
	--keep-branches Z
	--abandoned=
	--all Z
	--porcelain Z
	--verbose Z
	EOF
	)
'

test_expect_success BASH 'git ws-merge --push= offers remotes' '
	(cd repo && test_completion "git ws-merge --push=" <<-\EOF
	origin Z
	upstream Z
	EOF
	) &&
	(cd repo && test_completion "git ws-merge --push=u" "upstream ")
'

test_expect_success BASH 'git ws-alloc --base offers branches' '
	(cd repo && test_completion "git ws-alloc --base=t" "--base=topic ") &&
	(cd repo && test_completion "git ws-alloc --base ma" "main ") &&
	(cd repo && test_completion "git ws-alloc --base=feature/ws-1" "--base=feature/ws-1-one ")
'

test_expect_success BASH 'git ws-alloc offers plan files, and directories' '
	mkdir -p plans/sub &&
	>plans/a.plan &&
	>plans/b.plan &&
	>plans/notes.txt &&
	(cd plans && test_completion "git ws-alloc " <<-\EOF
	a.plan
	b.plan
	sub
	EOF
	) &&
	(cd plans && test_completion "git ws-alloc -n a" "a.plan")
'

test_expect_success BASH 'git ws-alloc offers any file where there is no *.plan' '
	mkdir -p other &&
	>other/my-plan.ini &&
	>other/README &&
	(cd other && test_completion "git ws-alloc " <<-\EOF
	README
	my-plan.ini
	EOF
	)
'

test_expect_success BASH 'the dashed forms are registered: git-ws-status <TAB>' '
	(cd repo && test_completion "git-ws-converge " "ws-2 ") &&
	(cd repo && test_completion "git-ws-dispatch --retry " "ws-1 ") &&
	(cd repo && test_completion "git-ws-status --g" "--graph ") &&
	for c in alloc dispatch converge merge clean status
	do
		bash -c ". \"$GIT_COMPLETION\" && . \"$WS_COMPLETION\" &&
			complete -p git-ws-$c" >out &&
		grep " -F __git_wrap_git_ws_$c git-ws-$c\$" out || return 1
	done
'

test_expect_success BASH 'loaded alone (as bash-completion does for git-ws-alloc), it loads git'"'"'s' '
	bash -c "
		__load_completion () { test \"\$1\" = git && . \"$GIT_COMPLETION\"; }
		. \"$WS_COMPLETION\" && declare -F __gitcomp && complete -p git-ws-merge
	" >out &&
	grep __git_wrap_git_ws_merge out
'

test_expect_success BASH 'git loads the file lazily through bash-completion for git ws-<cmd>' '
	mkdir -p lazy &&
	cp "$WS_COMPLETION" lazy/git-ws-converge &&
	cat >lazy.bash <<-EOF &&
	. "$GIT_COMPLETION"
	_completion_loader () {
		test -f "$TRASH_DIRECTORY/lazy/\$1" && . "$TRASH_DIRECTORY/lazy/\$1"
	}
	EOF
	sed -e "1,2d" complete.bash >>lazy.bash &&
	(cd repo && bash "$TRASH_DIRECTORY/lazy.bash" "git ws-converge " >../actual) &&
	echo "ws-2 " >expect &&
	test_cmp expect actual
'

# The options a command's -h lists, as completion offers them: "--base="
# for "--base <branch>", "--push" and "--push=" for "--push[=<remote>]",
# short options only when they have no long form.
h_options () {
	sed -n -e "s/^    \(-.*\)/\1/p" |
	sed -e "s/  .*//" |
	while read -r a b c
	do
		case "$a" in
		-?,) a=$b b=$c ;;
		esac
		case "$a" in
		*"[=<"*) echo "${a%%\[=*}"; echo "${a%%\[=*}=" ;;
		*) case "$b" in
		   "<"*) echo "$a=" ;;
		   *) echo "$a" ;;
		   esac ;;
		esac
	done | sort
}

test_expect_success BASH 'completion offers exactly the options of -h, for every built command' '
	for p in "$WS_SOURCE_DIR"/bin-wrappers/git-ws-*
	do
		c=${p##*/git-} &&
		git $c -h >help &&
		h_options <help >expect &&
		test -s expect &&
		(cd repo && bash "$TRASH_DIRECTORY/complete.bash" "git $c --") |
			sed -e "s/ $//" | sort >actual &&
		{ grep -v "^--" expect >short || :; } &&
		{ grep "^--" expect >long || :; } &&
		test_cmp long actual &&
		if test -s short
		then
			(cd repo && bash "$TRASH_DIRECTORY/complete.bash" "git $c -") |
				sed -e "s/ $//" | grep -v "^--" | sort >actual &&
			{ sed -n -e "s/^    \(-[a-zA-Z]\),.*/\1/p" help; cat short; } |
				sort >expect.short &&
			test_cmp expect.short actual
		fi || return 1
	done
'

# zsh: completions/_git-ws defines _git-ws-alloc etc. for zsh's _git.
zsh_load () {
	mkdir -p zfunc &&
	cp "$WS_SOURCE_DIR/completions/_git-ws" zfunc/ &&
	zsh -fc "fpath=(\"$TRASH_DIRECTORY/zfunc\" \$fpath) &&
		autoload -Uz compinit && compinit -u -d \"$TRASH_DIRECTORY/zcompdump\" &&
		$1"
}

test_expect_success ZSH 'zsh: _git-ws loads without errors and defines the functions' '
	zsh_load "source \"$TRASH_DIRECTORY/zfunc/_git-ws\" &&
		for c in alloc dispatch converge merge clean status; do
			(( \$+functions[_git-ws-\$c] )) || { print missing \$c; exit 1; }
		done; print ok" >out 2>err &&
	test_must_be_empty err &&
	echo ok >expect &&
	test_cmp expect out
'

test_expect_success ZSH 'zsh: compinit registers _git-ws for the dashed commands' '
	zsh_load "print \$_comps[git-ws-alloc] \$_comps[git-ws-status]" >out 2>err &&
	test_must_be_empty err &&
	echo "_git-ws _git-ws" >expect &&
	test_cmp expect out
'

test_expect_success ZSH 'zsh: the id helper reads the state by status' '
	(cd repo && zsh_load "source \"$TRASH_DIRECTORY/zfunc/_git-ws\" &&
		__git_ws_ids done converged; __git_ws_ids failed" >../out 2>../err) &&
	test_must_be_empty err &&
	printf "%s\n" ws-2 ws-3 ws-1 >expect &&
	test_cmp expect out
'

# zcomplete <fpath dir> <file to source or ""> <line>: the matches an
# interactive zsh (in a zpty) offers for <line><TAB>, one a line: compadd
# is wrapped to print what it adds.
cat >zcomplete.zsh <<\EOF
zmodload zsh/zpty || exit 1
zpty z zsh -f -i
zpty -w z "PS1= PROMPT= RPROMPT=; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -d ${(q)1}.dump"
[[ -n $2 ]] && zpty -w z "source ${(q)2}"
zpty -w z 'compadd () { local -a __h; builtin compadd -O __h "$@"; (( $#__h )) && print -r -- "HI""T:"${^__h}; builtin compadd "$@" }'
zpty -w z 'zstyle ":completion:*" list-prompt ""; zstyle ":completion:*" menu no'
zpty -w z 'comptest () { zle complete-word; print -n "COMP""DONE" }; zle -N comptest; bindkey "^T" comptest'
zpty -w -n z "$3"$'\C-t'
local out rest
zpty -r z out '*COMPDONE*'
zpty -w z $'\C-u'
zpty -w z "print DONE-''MARK"
zpty -r z rest '*DONE-MARK*'
zpty -d z
print -r -- "$out" | tr -d '\r' | grep -a -o 'HIT:[^[:space:][:cntrl:]]*' |
	sed 's/^HIT://' | sort -u
EOF

# test_zcompletion <fpath dir> <source or ""> <line>: stdin is the expected
# matches.
test_zcompletion () {
	sort >"$TRASH_DIRECTORY/zexpect" &&
	timeout 30 zsh -f "$TRASH_DIRECTORY/zcomplete.zsh" "$@" >"$TRASH_DIRECTORY/zactual" &&
	test_cmp "$TRASH_DIRECTORY/zexpect" "$TRASH_DIRECTORY/zactual"
}

test_expect_success ZPTY 'zsh: the dashed commands complete with _git-ws alone' '
	mkdir -p zonly &&
	cp "$WS_SOURCE_DIR/completions/_git-ws" zonly/ &&
	(cd repo && test_zcompletion "$TRASH_DIRECTORY/zonly" "" "git-ws-dispatch --retry " <<-\EOF &&
	ws-1
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zonly" "" "git-ws-merge --p" <<-\EOF
	--porcelain
	--push
	EOF
	)
'

test_expect_success ZPTY 'zsh: git ws-<cmd> completes once _git-ws is sourced' '
	(cd repo &&
	test_zcompletion "$TRASH_DIRECTORY/zonly" "$TRASH_DIRECTORY/zonly/_git-ws" "git ws-converge " <<-\EOF &&
	ws-2
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zonly" "$TRASH_DIRECTORY/zonly/_git-ws" "git ws-merge " <<-\EOF &&
	ws-2
	ws-3
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zonly" "$TRASH_DIRECTORY/zonly/_git-ws" "git ws-merge --push=" <<-\EOF &&
	origin
	upstream
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zonly" "$TRASH_DIRECTORY/zonly/_git-ws" "git ws-alloc --base=t" <<-\EOF &&
	topic
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zonly" "$TRASH_DIRECTORY/zonly/_git-ws" "git ws-status ws-1 ws-" <<-\EOF
	ws-2
	ws-3
	ws-4
	ws-5
	ws-6
	ws-7
	EOF
	)
'

test_expect_success ZPTY 'zsh: a copy named _git-ws-<cmd> makes git ws-<cmd> complete without sourcing' '
	mkdir -p zcopies &&
	for c in "" -alloc -dispatch -converge -merge -clean -status
	do
		cp "$WS_SOURCE_DIR/completions/_git-ws" zcopies/_git-ws$c || return 1
	done &&
	(cd repo && test_zcompletion "$TRASH_DIRECTORY/zcopies" "" "git ws-clean " <<-\EOF &&
	ws-4
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zcopies" "" "git ws-dispatch " <<-\EOF &&
	ws-5
	EOF
	test_zcompletion "$TRASH_DIRECTORY/zcopies" "" "git ws-status --" <<-\EOF
	--graph
	--porcelain
	EOF
	)
'

test_expect_success ZPTY 'zsh: git ws-alloc offers plan files and directories' '
	(cd plans && test_zcompletion "$TRASH_DIRECTORY/zcopies" "" "git ws-alloc " <<-\EOF
	a.plan
	b.plan
	sub
	EOF
	)
'

test_expect_success ZPTY 'zsh: completion offers exactly the options of -h, for every built command' '
	for p in "$WS_SOURCE_DIR"/bin-wrappers/git-ws-*
	do
		c=${p##*/git-} &&
		git $c -h >help &&
		{
			h_options <help &&
			sed -n -e "s/^    \(-[a-zA-Z]\),.*/\1/p" help
		} | sed -e "s/=\$//" | sort -u >expect &&
		(cd repo && timeout 30 zsh -f "$TRASH_DIRECTORY/zcomplete.zsh" \
			"$TRASH_DIRECTORY/zcopies" "" "git $c -") >actual &&
		test_cmp expect actual || return 1
	done
'

test_done
