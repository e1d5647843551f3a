# Shared by the benchmarks in bench/ (sourced, after setting $here, the
# top of the source tree).

# bench_init <name> <command>...: for bench/<name>.sh: git-ws's
# bin-wrappers first on PATH (each git-ws-<command> must be built), $tmp
# a new temporary directory, removed at exit unless KEEP is set, and an
# environment in which the user's git configuration and identity play no
# part.
bench_init () {
	bench_name=$1
	shift
	PATH="$here/bin-wrappers:$PATH"
	for c in "$@"
	do
		test -x "$here/bin-wrappers/git-ws-$c" || {
			echo >&2 "bench/$bench_name.sh: build git-ws-$c first (make)"
			exit 1
		}
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ws-bench-$bench_name.XXXXXX")
	test -n "${KEEP:-}" || trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM
	GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
	GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
	export GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
		GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_COMMON_DIR
}

# bench_source <files per directory> [<repo>]: $src, the repository given
# (checked; the benchmarks only ever clone it with --shared), or one
# generated in $tmp/gen (see generate).
bench_source () {
	if test $# -ge 2
	then
		src=$(cd "$2" && pwd)
		git -C "$src" rev-parse --git-dir >/dev/null
		echo "repository: $src (cloned with --shared; never modified)"
	else
		echo "generating a repository (about $(($1 * 100)) files, 20 commits) ..."
		generate "$tmp/gen" "$1"
		src=$tmp/gen
	fi
}

now () { date +%s.%N; }
elapsed () { awk "BEGIN { printf \"%.3f\", $2 - $1 }"; }
# min <a> <b>: the smaller, where an empty <a> means none yet.
min () {
	if test -z "$1"
	then
		echo "$2"
	else
		awk "BEGIN { printf \"%.3f\", ($2 < $1) ? $2 : $1 }"
	fi
}
ratio () { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

# generate <dir> [<files per directory>]: a repository of 10 x 10
# directories of <n> files (default 50: about 5 000 files), then 19
# commits that each change 100 files and add one.
generate () {
	per=${2:-50}
	git init -q -b main "$1"
	(
		cd "$1"
		awk -v per="$per" 'BEGIN {
			for (a = 0; a < 10; a++)
				for (b = 0; b < 10; b++) {
					dir = sprintf("src/mod%d/part%d", a, b)
					system("mkdir -p " dir)
					for (f = 0; f < per; f++) {
						file = sprintf("%s/file%d.c", dir, f)
						for (l = 0; l < 30; l++)
							printf "/* %s line %d */ int v%d_%d = %d;\n", file, l, f, l, a * b + l > file
						close(file)
					}
				}
		}'
		git add . && git commit -q -m "initial: $((per * 100)) files"
		c=1
		while test $c -lt 20
		do
			awk -v c=$c -v per="$per" 'BEGIN {
				for (k = 0; k < 100; k++) {
					file = sprintf("src/mod%d/part%d/file%d.c", (c + k) % 10, k % 10, (c * 7 + k) % per)
					printf "int change_%d_%d;\n", c, k >> file
					close(file)
				}
				printf "commit %d\n", c > sprintf("src/mod%d/NEWS-%d", c % 10, c)
			}'
			git add . && git commit -q -m "change $c"
			c=$((c + 1))
		done
	)
}

