# Shared set-up for git-ws's shell tests: source it instead of sharness.
#
#	test_description='...'
#	. ./lib-ws.sh
#
# It loads Debian's sharness (or $SHARNESS_PATH), puts the built git-ws
# binaries first on PATH (so tests call `git ws-alloc` through git's own
# dispatch), isolates git from the user's config and from this project's
# own repository, and fixes author and committer names and dates.

SHARNESS_TEST_EXTENSION=sh
: "${SHARNESS_PATH:=/usr/share/sharness/sharness.sh}"
if ! test -f "$SHARNESS_PATH"; then
	echo >&2 "error: sharness not found at $SHARNESS_PATH (apt-get install sharness)"
	exit 1
fi
WS_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
SHARNESS_BUILD_DIRECTORY="$WS_SOURCE_DIR/bin-wrappers"
export WS_SOURCE_DIR
. "$SHARNESS_PATH"

# every command, so that no test script checks for its own
for cmd in alloc dispatch converge merge clean status; do
	test -x "$WS_SOURCE_DIR/bin-wrappers/git-ws-$cmd" ||
		error "git-ws-$cmd is not built (run make first)"
done

# The trash directory lives inside this project's repository: never let
# git find it from a test.
GIT_CEILING_DIRECTORIES=$(dirname "$SHARNESS_TRASH_DIRECTORY")
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL='committer@example.com'
GIT_AUTHOR_DATE='1112354055 +0200'
GIT_COMMITTER_DATE='1112354055 +0200'
GIT_MERGE_AUTOEDIT=no
GIT_WS_LOCK_TIMEOUT=${GIT_WS_LOCK_TIMEOUT:-10000}
export GIT_CEILING_DIRECTORIES GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME \
	GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_AUTHOR_DATE GIT_COMMITTER_DATE GIT_MERGE_AUTOEDIT GIT_WS_LOCK_TIMEOUT
unset GIT_DIR GIT_WORK_TREE GIT_COMMON_DIR GIT_INDEX_FILE
git config --global init.defaultBranch main
git config --global advice.detachedHead false

# test_tick: advance the fixed commit time, as git's test-lib does.
test_tick () {
	if test -z "${test_tick+set}"
	then
		test_tick=1112911993
	else
		test_tick=$(($test_tick + 60))
	fi
	GIT_COMMITTER_DATE="$test_tick -0700"
	GIT_AUTHOR_DATE="$test_tick -0700"
	export GIT_COMMITTER_DATE GIT_AUTHOR_DATE
}

# test_commit <message> [<file> [<contents>]]: add and commit a file in
# the current directory's repository.
test_commit () {
	file=${2:-"$1.t"}
	mkdir -p "$(dirname "$file")" &&
	printf '%s\n' "${3:-$1}" >"$file" &&
	git add -- "$file" &&
	test_tick &&
	git commit -q -m "$1"
}

# write_script <file>: write stdin to <file> as an executable sh script.
write_script () {
	{
		echo "#!/bin/sh" &&
		cat
	} >"$1" &&
	chmod +x "$1"
}

# test_line_count (= | -lt | -ge | ...) <length> <file>
test_line_count () {
	if test $# != 3
	then
		error "bug in the test script: not 3 parameters to test_line_count"
	elif ! test $(wc -l <"$3") "$1" "$2"
	then
		echo "test_line_count: line count for $3 !$1 $2"
		cat "$3"
		return 1
	fi
}

# wait_for <shell condition>: poll it for at most 20 s.
wait_for () {
	i=0
	while ! eval "$1"
	do
		test $i -lt 200 || { echo "timed out waiting for: $1"; return 1; }
		sleep 0.1
		i=$(($i + 1))
	done
}

# setup_repo [<dir>]: a repository (default "repo") on branch main with one
# commit; workstream worktrees then go beside it as repo-<id>.
setup_repo () {
	git init -q "${1:-repo}" &&
	(
		cd "${1:-repo}" &&
		test_commit initial README "hello"
	)
}

# ws_state <id> <key>: read one value of the state, as a user would.
ws_state () {
	git config -f "$(git rev-parse --git-common-dir)/ws/state" \
		"workstream.$1.$2"
}

# ws_set_state <id> <key> <value>: change the state by hand (set-up only).
ws_set_state () {
	git config -f "$(git rev-parse --git-common-dir)/ws/state" \
		"workstream.$1.$2" "$3"
}

# Debian's sharness lacks git's path helpers.
test_path_is_file () {
	test -f "$1" || { echo "File $1 doesn't exist"; return 1; }
}
test_path_is_dir () {
	test -d "$1" || { echo "Directory $1 doesn't exist"; return 1; }
}
test_path_is_missing () {
	if test -e "$1" || test -L "$1"
	then
		echo "Path $1 exists"
		return 1
	fi
}
test_path_exists () {
	test -e "$1" || { echo "Path $1 doesn't exist"; return 1; }
}
