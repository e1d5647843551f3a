#!/bin/sh
# Make a small repository to run the demo plan in:
#
#   examples/demo-repo.sh /tmp/demo
#   cd /tmp/demo
#   git ws-alloc examples/demo.plan && git ws-dispatch --loop && git ws-clean
#   git log --graph --first-parent --oneline
#
# It has a Makefile whose `make test` runs every tests/*.sh, and a copy of
# examples/ (the plan, the specs and the scripted agent).
set -eu
dir=${1:?usage: examples/demo-repo.sh <new directory>}
src=$(cd "$(dirname "$0")" && pwd)
if test -e "$dir"
then
	echo "fatal: '$dir' already exists" >&2
	exit 128
fi
git init -q -b main "$dir"
cp -R "$src" "$dir/examples"
cd "$dir"
cat >Makefile <<'MK'
test:
	@set -e; for t in tests/*.sh; do test -f "$$t" || continue; sh "$$t"; done; echo "all tests passed"
.PHONY: test
MK
mkdir -p tests
printf '# demo\n\nA repository for the git-ws demo.\n' >README.md
printf '#!/bin/sh\necho "sanity: ok"\n' >tests/sanity.sh
git add -A
git -c user.name="git-ws demo" -c user.email=demo@example.com commit -q -m "Demo repository"
echo "Made $dir. Now:"
echo "  cd $dir && git ws-alloc examples/demo.plan && git ws-dispatch --loop && git ws-clean"
