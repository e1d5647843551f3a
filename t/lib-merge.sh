# Helpers shared by the git ws-merge tests (t4000-t4099): source after
# lib-ws.sh.

# queue <id>...: mark workstreams converged and append them to the queue,
# as git ws-converge would (set by hand, so that these tests do not
# depend on it).
queue () {
	for id
	do
		ws_set_state $id status converged &&
		git config -f .git/ws/queue --add queue.item $id || return 1
	done
}

# work <id> <file> [<content>]: commit a file on a workstream's branch.
work () {
	(cd ../repo-$1 && test_commit "$1 $2" "$2" "${3:-$1}")
}
