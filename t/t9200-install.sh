#!/bin/sh

test_description='make install, make uninstall, DESTDIR and install.sh

Installs into a prefix inside the trash directory and uses git-ws from
there as a user would: through git, with its man pages and completions,
and nothing of the build tree on PATH.'

. ./lib-ws.sh

command -v asciidoctor >/dev/null && command -v man >/dev/null &&
	test_set_prereq MAN
command -v bash >/dev/null &&
	test -f /usr/share/bash-completion/bash_completion &&
	test -f /usr/share/bash-completion/completions/git &&
	test_set_prereq BASH_COMPLETION

# PATH without the build tree's bin-wrappers: git itself and the system.
GIT_DIR_OF_GIT=$(dirname "$(command -v git)")
SYS_PATH="$GIT_DIR_OF_GIT:/usr/bin:/bin"

# Install under a temporary directory of our own, removed at the end.
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/git-ws-t9200.XXXXXX") ||
	error "cannot create a temporary directory"
INST="$ROOT/inst"
STAGE="$ROOT/stage"

# The commands the build makes, as make knows them.
commands () {
	for c in "$WS_SOURCE_DIR"/cmd/git-ws-*.c
	do
		c=${c##*/}
		echo "${c%.c}"
	done
}

# in_prefix <prefix> <command>...: run with only <prefix>/bin and the
# system on PATH.
in_prefix () {
	p=$1 &&
	shift &&
	PATH="$p/bin:$SYS_PATH" MANPATH="$p/share/man" "$@"
}

test_expect_success 'make install prefix=<dir>' '
	commands >commands &&
	test -s commands &&
	make -C "$WS_SOURCE_DIR" install prefix="$INST" >make.out 2>&1 ||
		{ cat make.out; false; }
'

test_expect_success 'the binaries are installed in <prefix>/bin' '
	while read c
	do
		test -x "$INST/bin/$c" || { echo "$c missing"; return 1; }
	done <commands
'

test_expect_success 'git runs git ws-status from the prefix' '
	in_prefix "$INST" sh -c "command -v git-ws-status" >where &&
	echo "$INST/bin/git-ws-status" >expect &&
	test_cmp expect where &&
	in_prefix "$INST" git ws-status -h >out &&
	grep "^usage: git ws-status" out
'

test_expect_success 'the installed commands work on a real plan' '
	setup_repo &&
	cat >plan <<-\EOF &&
	[plan]
		name = inst
		command = true
	[workstream "ws-1"]
		title = One
	EOF
	(cd repo && in_prefix "$INST" git ws-alloc ../plan >../out) &&
	test_path_is_dir repo-ws-1 &&
	(cd repo && in_prefix "$INST" git ws-status --porcelain >../status) &&
	cut -f1,2 status >actual &&
	printf "ws-1\tready\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the hooks of the guard are installed in <prefix>/share/git-ws/hooks' '
	for h in git-ws-hook reference-transaction pre-push pre-commit commit-msg
	do
		test -x "$INST/share/git-ws/hooks/$h" || { echo "$h missing"; return 1; }
	done
'

test_expect_success 'the installed git ws-dispatch finds them: the base is guarded' '
	(cd repo && git rev-parse main >../main.before &&
	 in_prefix "$INST" git ws-dispatch ws-1 -- sh -c "
		git config core.hooksPath >../hookspath
		git commit -q --allow-empty -m own &&
		git update-ref refs/heads/main HEAD 2>../refused
		echo \$? >../rc
	" >../out 2>&1) &&
	(cd repo/.git/ws/hooks && pwd -P) >expect &&
	test_cmp expect hookspath &&
	echo "$INST/share/git-ws/hooks/git-ws-hook" >expect &&
	readlink repo/.git/ws/hooks/reference-transaction >actual &&
	test_cmp expect actual &&
	! test "$(cat rc)" = 0 &&
	grep "^git-ws: refusing to update refs/heads/main" refused &&
	git -C repo rev-parse main >actual &&
	test_cmp main.before actual
'

test_expect_success 'the supervisor of dispatched commands is installed in <prefix>/libexec/git-ws' '
	test -x "$INST/libexec/git-ws/ws-supervise" &&
	# the dispatch above ran under it: it wrote the done file and the exit record
	grep "\"done_file\": \"supervisor\"" repo/.git/ws/coordination/ws-1.exit
'

test_expect_success 'binaries copied without it: git ws-dispatch says so and starts nothing' '
	mkdir -p lonely/bin &&
	cp "$INST/bin/git-ws-dispatch" lonely/bin/ &&
	cp repo/.git/ws/state state.before &&
	(cd repo && test_expect_code 128 ../lonely/bin/git-ws-dispatch ws-1 2>../err) &&
	grep "^fatal: cannot find the supervisor of dispatched commands" err &&
	test_cmp state.before repo/.git/ws/state
'

test_expect_success 'the bash completion is installed under every command name' '
	while read c
	do
		test_cmp "$WS_SOURCE_DIR/completions/git-ws.bash" \
			"$INST/share/bash-completion/completions/$c" || return 1
	done <commands
'

test_expect_success 'the zsh completion is installed in site-functions' '
	test_cmp "$WS_SOURCE_DIR/completions/_git-ws" \
		"$INST/share/zsh/site-functions/_git-ws"
'

test_expect_success BASH_COMPLETION 'bash-completion finds the installed completion for git ws-status' '
	(cd repo && in_prefix "$INST" env \
		BASH_COMPLETION_USER_DIR="$INST/share/bash-completion" bash -c "
		. /usr/share/bash-completion/bash_completion
		_completion_loader git
		COMP_WORDS=(git ws-status \"\"); COMP_CWORD=2
		COMP_LINE=\"git ws-status \"; COMP_POINT=\${#COMP_LINE}
		__git_wrap__git_main
		printf \"%s\n\" \"\${COMPREPLY[@]}\"
	" >../actual) &&
	echo "ws-1 " >expect &&
	test_cmp expect actual
'

test_expect_success BASH_COMPLETION 'bash-completion finds it for the dashed git-ws-status' '
	in_prefix "$INST" env \
		BASH_COMPLETION_USER_DIR="$INST/share/bash-completion" bash -c "
		. /usr/share/bash-completion/bash_completion
		_completion_loader git-ws-status
		complete -p git-ws-status
	" >actual &&
	grep " -F __git_wrap_git_ws_status git-ws-status\$" actual
'

test_expect_success MAN 'the man pages are installed, one per command and git-ws(7)' '
	while read c
	do
		if test -f "$WS_SOURCE_DIR/Documentation/$c.adoc"
		then
			test -s "$INST/share/man/man1/$c.1" || return 1
		fi
	done <commands &&
	test -s "$INST/share/man/man1/git-ws-alloc.1" &&
	test -s "$INST/share/man/man7/git-ws.7"
'

test_expect_success MAN 'man and git help find them through MANPATH' '
	in_prefix "$INST" man -w git-ws-alloc >where &&
	echo "$INST/share/man/man1/git-ws-alloc.1" >expect &&
	test_cmp expect where &&
	in_prefix "$INST" env MANPAGER=cat PAGER=cat git help -m ws-alloc >page 2>err &&
	grep "git-ws-alloc" page &&
	grep "^SYNOPSIS" page &&
	in_prefix "$INST" env MANPAGER=cat PAGER=cat git ws-alloc --help >page2 2>err &&
	test_cmp page page2 &&
	in_prefix "$INST" env MANPAGER=cat PAGER=cat git help git-ws >page7 2>err &&
	grep "THE PLAN" page7
'

test_expect_success 'make uninstall prefix=<dir> removes everything it installed' '
	make -C "$WS_SOURCE_DIR" uninstall prefix="$INST" >make.out 2>&1 ||
		{ cat make.out; false; } &&
	find "$INST" ! -type d >left &&
	test_must_be_empty left &&
	test_must_fail in_prefix "$INST" git ws-status -h 2>err
'

test_expect_success 'DESTDIR stages the install under <DESTDIR><prefix>' '
	make -C "$WS_SOURCE_DIR" install prefix=/opt/ws \
		DESTDIR="$STAGE" >make.out 2>&1 ||
		{ cat make.out; false; } &&
	test_path_is_missing /opt/ws/bin/git-ws-alloc &&
	while read c
	do
		test -x "$STAGE/opt/ws/bin/$c" &&
		test -f "$STAGE/opt/ws/share/bash-completion/completions/$c" || return 1
	done <commands &&
	test -f "$STAGE/opt/ws/share/zsh/site-functions/_git-ws" &&
	in_prefix "$STAGE/opt/ws" git ws-alloc -h >out &&
	grep "^usage: git ws-alloc" out
'

test_expect_success MAN 'DESTDIR stages the man pages too' '
	test -s "$STAGE/opt/ws/share/man/man1/git-ws-alloc.1" &&
	test -s "$STAGE/opt/ws/share/man/man7/git-ws.7"
'

test_expect_success 'make uninstall with DESTDIR removes the staged files' '
	make -C "$WS_SOURCE_DIR" uninstall prefix=/opt/ws \
		DESTDIR="$STAGE" >make.out 2>&1 ||
		{ cat make.out; false; } &&
	find "$STAGE" -type f >left &&
	test_must_be_empty left
'

# install.sh checks the Debian packages with dpkg-query before anything.
DEPS="build-essential pkg-config git perl libgit2-dev libinih-dev
libjansson-dev libcmocka-dev sharness asciidoctor bash-completion valgrind
graphviz"
if command -v dpkg-query >/dev/null
then
	missing=
	for p in $DEPS
	do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed" || missing="$missing $p"
	done
	test -z "$missing" && test_set_prereq DEPS
fi

test_expect_success 'install.sh -h prints its usage; a bad option is a usage error' '
	"$WS_SOURCE_DIR/install.sh" -h >out &&
	grep "^usage: .*--prefix" out &&
	test_expect_code 129 "$WS_SOURCE_DIR/install.sh" --frobnicate 2>err &&
	grep "unknown option" err
'

test_expect_success 'install.sh --no-deps names the missing packages and installs nothing' '
	mkdir -p fakebin &&
	write_script fakebin/dpkg-query <<-\EOF &&
	case "$*" in
	*valgrind*) exit 1 ;;
	*) printf "install ok installed" ;;
	esac
	EOF
	test_expect_code 1 env PATH="$SHARNESS_TRASH_DIRECTORY/fakebin:$PATH" \
		"$WS_SOURCE_DIR/install.sh" --no-deps --prefix "$ROOT/nodeps" 2>err &&
	grep "missing Debian packages: valgrind" err &&
	grep "^hint: apt-get install valgrind" err &&
	test_path_is_missing "$ROOT/nodeps"
'

# A fake package manager: dpkg-query says valgrind is missing, id says
# root, fuser says whether the dpkg lock is held ($FAKE_LOCK_HELD), and
# apt-get logs its arguments and fails the install, so that install.sh
# stops before make.
test_expect_success 'set up a fake apt-get, dpkg-query, fuser and id' '
	mkdir -p fakeapt &&
	write_script fakeapt/dpkg-query <<-\EOF &&
	case "$*" in
	*valgrind*) exit 1 ;;
	*) printf "install ok installed" ;;
	esac
	EOF
	write_script fakeapt/id <<-\EOF &&
	echo 0
	EOF
	write_script fakeapt/fuser <<-\EOF &&
	test -n "$FAKE_LOCK_HELD"
	EOF
	write_script fakeapt/apt-get <<-\EOF
	echo "$*" >>"$SHARNESS_TRASH_DIRECTORY/apt.log"
	case "$*" in
	*install*) exit 100 ;;
	esac
	EOF
'

test_expect_success 'install.sh waits for the dpkg lock, 300 s by default' '
	rm -f apt.log &&
	test_expect_code 100 env PATH="$SHARNESS_TRASH_DIRECTORY/fakeapt:$PATH" \
		"$WS_SOURCE_DIR/install.sh" --prefix "$ROOT/lock" >out 2>err &&
	grep "^Waiting up to 300 s for the dpkg lock if another package manager holds it$" out &&
	cat >expect <<-\EOF &&
	-o DPkg::Lock::Timeout=300 update -qq
	-o DPkg::Lock::Timeout=300 install -y -qq valgrind
	EOF
	test_cmp expect apt.log &&
	test_path_is_missing "$ROOT/lock"
'

test_expect_success 'WS_DPKG_LOCK_TIMEOUT sets the wait; a held lock is named' '
	rm -f apt.log &&
	test_expect_code 100 env PATH="$SHARNESS_TRASH_DIRECTORY/fakeapt:$PATH" \
		WS_DPKG_LOCK_TIMEOUT=7 FAKE_LOCK_HELD=yes \
		"$WS_SOURCE_DIR/install.sh" --prefix "$ROOT/lock" >out 2>err &&
	grep "^Another package manager holds the dpkg lock; waiting up to 7 s for it$" out &&
	cat >expect <<-\EOF &&
	-o DPkg::Lock::Timeout=7 update -qq
	-o DPkg::Lock::Timeout=7 install -y -qq valgrind
	EOF
	test_cmp expect apt.log
'

test_expect_success 'a WS_DPKG_LOCK_TIMEOUT that is not a number is fatal, before apt-get' '
	rm -f apt.log &&
	test_expect_code 128 env PATH="$SHARNESS_TRASH_DIRECTORY/fakeapt:$PATH" \
		WS_DPKG_LOCK_TIMEOUT=5m \
		"$WS_SOURCE_DIR/install.sh" --prefix "$ROOT/lock" >out 2>err &&
	grep "^fatal: WS_DPKG_LOCK_TIMEOUT must be a number of seconds, not .5m.$" err &&
	test_path_is_missing apt.log
'

test_expect_success 'install.sh -h documents WS_DPKG_LOCK_TIMEOUT' '
	"$WS_SOURCE_DIR/install.sh" -h >out &&
	grep "WS_DPKG_LOCK_TIMEOUT=<seconds> (default 300)" out
'

test_expect_success DEPS 'install.sh --no-deps --prefix <dir> installs when the packages are there' '
	PATH="$SYS_PATH" "$WS_SOURCE_DIR/install.sh" --no-deps \
		--prefix "$ROOT/viash" >out 2>err ||
		{ cat out err; false; } &&
	test_path_is_file "$ROOT"/viash/bin/git-ws-alloc &&
	test_path_is_file "$ROOT"/viash/share/bash-completion/completions/git-ws-status &&
	test_path_is_file "$ROOT"/viash/share/zsh/site-functions/_git-ws &&
	in_prefix "$ROOT/viash" git ws-status -h >usage &&
	grep "^usage: git ws-status" usage &&
	# its bin is not on PATH: it says so
	grep "warning: .*viash/bin.* is not on your PATH" err &&
	make -C "$WS_SOURCE_DIR" uninstall prefix="$ROOT/viash" >/dev/null 2>&1 &&
	find "$ROOT/viash" -type f >left &&
	test_must_be_empty left
'

test_expect_success DEPS 'install.sh --prefix=<dir> works too, with no warning when it is on PATH' '
	PATH="$ROOT/viash2/bin:$SYS_PATH" \
		"$WS_SOURCE_DIR/install.sh" --no-deps \
		--prefix="$ROOT/viash2" >out 2>err ||
		{ cat out err; false; } &&
	test_path_is_file "$ROOT"/viash2/bin/git-ws-status &&
	! grep "warning: .*not on your PATH" err &&
	make -C "$WS_SOURCE_DIR" uninstall prefix="$ROOT/viash2" >/dev/null 2>&1
'

# The Makefile quotes its install paths, as git's does.
test_expect_success 'make install into a prefix with a space in it' '
	make -C "$WS_SOURCE_DIR" install prefix="$ROOT/with space" >make.out 2>&1 &&
	test -x "$ROOT/with space/bin/git-ws-status" &&
	make -C "$WS_SOURCE_DIR" uninstall prefix="$ROOT/with space" >make.out 2>&1 &&
	find "$ROOT/with space" -type f >left &&
	test_must_be_empty left
'

test_expect_success 'clean up the temporary directory' '
	rm -rf "$ROOT" &&
	test_path_is_missing "$ROOT"
'

test_done
