# Shared by bench/alloc.sh and bench/status.sh (sourced).

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

