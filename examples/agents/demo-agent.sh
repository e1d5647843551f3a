#!/bin/sh
# A scripted stand-in for a coding agent, run by `git ws-dispatch` in the
# workstream's worktree. It reads the environment git-ws gives every
# command (WS_ID, WS_SPEC, WS_ITERATION, WS_REPORT, ...), makes real
# edits, and commits them, as an agent would.
set -eu
echo "demo-agent: $WS_ID (attempt $WS_ATTEMPT, iteration $WS_ITERATION): $(head -n 1 "$WS_SPEC" 2>/dev/null || echo no spec)"
if test -n "${WS_REPORT:-}" && test -f "$WS_REPORT"
then
	echo "demo-agent: last report:"
	sed 's/^/    /' "$WS_REPORT"
fi

case "$WS_ID" in
greeting)
	mkdir -p lib
	cat >lib/greeting.sh <<'SH'
# greet NAME: print a greeting
greet () {
	printf 'Hello, %s!\n' "${1:-world}"
}
SH
	;;
cli)
	mkdir -p bin
	cat >bin/hello <<'SH'
#!/bin/sh
. "$(dirname "$0")/../lib/greeting.sh"
greet "${1:-world}"
SH
	chmod +x bin/hello
	;;
docs)
	mkdir -p docs
	cat >docs/guide.md <<'MD'
# User guide

Run `bin/hello NAME` to be greeted; `bin/hello` alone greets the world.
MD
	;;
e2e)
	mkdir -p tests
	cat >tests/test-hello.sh <<'SH'
#!/bin/sh
set -e
test "$(bin/hello Ada)" = "Hello, Ada!"
test "$(bin/hello)" = "Hello, world!"
echo "test-hello: ok"
SH
	;;
*)
	echo "demo-agent: nothing to do for $WS_ID" >&2
	exit 1
	;;
esac

git add -A
git commit -q -m "$WS_ID: $WS_TITLE"
