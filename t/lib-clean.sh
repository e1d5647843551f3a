# Helpers shared by the git ws-clean tests (t5000-t5099): source after
# lib-ws.sh.

# new_plan <dir>: in <dir>/, a repository "repo" with plan "demo"
# allocated: ws-1 and ws-2 on their own worktrees, ws-3 sharing ws-1's.
new_plan () {
	mkdir "$1" &&
	(
		cd "$1" &&
		setup_repo &&
		cat >plan <<-\EOF &&
		[plan]
			name = demo
			base = main
			command = true
		[workstream "ws-1"]
			title = One
		[workstream "ws-2"]
			title = Two
		[workstream "ws-3"]
			title = Three
			worktree = ws-1
		EOF
		(cd repo && git ws-alloc ../plan >/dev/null)
	)
}

# work <worktree> <file>: commit a new file in a workstream's worktree.
work () {
	(cd "$1" && test_commit "$2" "$2")
}
