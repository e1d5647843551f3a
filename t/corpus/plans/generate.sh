#!/bin/sh
# generate.sh DIR: write the big cases of the plan corpus into DIR, with
# DIR/INDEX in the format of INDEX beside this script. They are made on
# the fly rather than committed: 10 000 workstreams, 1 000-deep chains,
# cycles of length 1 to 1 000, lines of 64 KB and 100 KB.
set -eu
dir=${1:?usage: generate.sh DIR}
mkdir -p "$dir"
index="$dir/INDEX"
: >"$index"

# case FILE EXIT REGEXP [BUG]
case_ () {
	printf '%s\t%s\t%s' "$1" "$2" "$3" >>"$index"
	if test $# -gt 3
	then
		printf '\t%s' "$4" >>"$index"
	fi
	printf '\n' >>"$index"
}

# a plan whose line 4 is "\ttitle = " and N-9 letters (N bytes in all)
line_of () {
	awk -v n="$1" 'BEGIN {
		printf "[plan]\n\tname = long\n[workstream \"a\"]\n\ttitle = "
		s = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		for (left = n - 9; left > 0; left -= length(s))
			printf "%s", (left >= length(s) ? s : substr(s, 1, left))
		printf "\n"
	}'
}

line_of 102400 >"$dir/long-line-100k.plan"
case_ long-line-100k.plan 128 '^4: line too long \(102400 bytes; at most 65533\)$'
line_of 65533 >"$dir/long-line-max.plan"
case_ long-line-max.plan 0 "^Would allocate plan 'long'"
line_of 65534 >"$dir/long-line-over.plan"
case_ long-line-over.plan 128 '^4: line too long \(65534 bytes; at most 65533\)$'

awk 'BEGIN {
	printf "[plan]\n\tname = long\n[workstream \""
	for (i = 0; i < 100000; i++) printf "x"
	printf "\"]\n\ttitle = X\n"
}' >"$dir/long-header-100k.plan"
case_ long-header-100k.plan 128 '^3: line too long \([0-9]+ bytes; at most 65533\)$'

awk 'BEGIN {
	printf "[plan]\n\tname = long\n# "
	for (i = 0; i < 100000; i++) printf "#"
	printf "\n[workstream \"a\"]\n\ttitle = A\n"
}' >"$dir/long-comment-100k.plan"
case_ long-comment-100k.plan 128 '^3: line too long \(100002 bytes; at most 65533\)$'

awk 'BEGIN {
	print "[plan]\n\tname = many"
	for (i = 1; i <= 10000; i++)
		printf "[workstream \"ws-%d\"]\n\ttitle = Workstream %d\n", i, i
}' >"$dir/many-10000.plan"
case_ many-10000.plan 0 "^Would allocate plan 'many' .*: 10000 new worktrees for 10000 workstreams$"

# the same with disjoint paths: the allocator compares every pair
awk 'BEGIN {
	print "[plan]\n\tname = many"
	for (i = 1; i <= 10000; i++)
		printf "[workstream \"ws-%d\"]\n\ttitle = Workstream %d\n\tpaths = src/ws%d/*\n", i, i, i
}' >"$dir/many-10000-paths.plan"
case_ many-10000-paths.plan 0 "^Would allocate plan 'many' .*: 10000 new worktrees for 10000 workstreams$"

awk 'BEGIN {
	print "[plan]\n\tname = dup"
	for (i = 1; i <= 10000; i++)
		printf "[workstream \"ws\"]\n\ttitle = Same %d\n", i
}' >"$dir/many-duplicates.plan"
case_ many-duplicates.plan 128 "^5: duplicate workstream 'ws' \(first on line 3\)$"

awk 'BEGIN {
	print "[plan]\n\tname = chain"
	for (i = 1; i <= 1000; i++) {
		printf "[workstream \"c%d\"]\n\ttitle = Step %d\n", i, i
		if (i > 1) printf "\tdepends = c%d\n", i - 1
	}
}' >"$dir/chain-1000.plan"
case_ chain-1000.plan 0 "^Would allocate plan 'chain' .*: 1000 new worktrees for 1000 workstreams$"

# the same chain, written last to first
awk 'BEGIN {
	print "[plan]\n\tname = chain"
	for (i = 1000; i >= 1; i--) {
		printf "[workstream \"c%d\"]\n\ttitle = Step %d\n", i, i
		if (i > 1) printf "\tdepends = c%d\n", i - 1
	}
}' >"$dir/chain-1000-reversed.plan"
case_ chain-1000-reversed.plan 0 "^Would allocate plan 'chain' .*: 1000 new worktrees for 1000 workstreams$"

# one workstream that depends on 2 000 others, on one line
awk 'BEGIN {
	print "[plan]\n\tname = wide"
	for (i = 1; i <= 2000; i++)
		printf "[workstream \"w%d\"]\n\ttitle = W %d\n", i, i
	printf "[workstream \"top\"]\n\ttitle = Top\n\tdepends ="
	for (i = 1; i <= 2000; i++) printf " w%d", i
	printf "\n"
}' >"$dir/wide-2000.plan"
case_ wide-2000.plan 0 "^Would allocate plan 'wide' .*: 2001 new worktrees for 2001 workstreams$"

# cycles: c1 -> c2 -> ... -> cN -> c1 (c_i depends on c_(i+1))
for n in 1 2 3 10 100 1000
do
	awk -v n=$n 'BEGIN {
		print "[plan]\n\tname = cycle"
		for (i = 1; i <= n; i++)
			printf "[workstream \"c%d\"]\n\ttitle = C %d\n\tdepends = c%d\n", i, i, i % n + 1
	}' >"$dir/cycle-$n.plan"
	if test $n = 1
	then
		case_ cycle-1.plan 128 "^5: workstream 'c1' depends on itself$"
		continue
	fi
	re=$(awk -v n=$n 'BEGIN {
		printf "^3: dependency cycle:"
		for (i = 1; i <= n; i++) printf " c%d ->", i
		printf " c1$"
	}')
	case_ cycle-$n.plan 128 "$re"
done

# a cycle of 500 at the end of a 1 000-long chain
awk 'BEGIN {
	print "[plan]\n\tname = tail"
	for (i = 1; i <= 1500; i++) {
		printf "[workstream \"t%d\"]\n\ttitle = T %d\n", i, i
		if (i > 1) printf "\tdepends = t%d\n", i - 1
		if (i == 1001) printf "\tdepends = t1500\n"
	}
}' >"$dir/chain-into-cycle.plan"
case_ chain-into-cycle.plan 128 '^[0-9]+: dependency cycle: t[0-9]+ -> t[0-9]+ -> '
