# An sshd on 127.0.0.1 for the tests of the ssh runner: source it after
# lib-ws.sh, then call sshd_start once per script (in a test).
#
# sshd_start runs Debian's sshd as `sshd -D -p PORT -f CONFIG` with its
# own host key, in a new directory under /tmp ($SSHD_DIR), and lets in
# only a key made for the test (root too, by key only: the tests run as
# root in CI). The client side is a private ssh config, $SSHD_DIR/config,
# with three host aliases:
#   ws-a, ws-b  this sshd (two names for one machine, as two hosts that
#               share a filesystem)
#   ws-down     a port of 127.0.0.1 that nothing listens on
# and the host key in its own known_hosts with StrictHostKeyChecking on.
# It exports GIT_WS_SSH_COMMAND="ssh -F $SSHD_DIR/config", which the ssh
# runner uses in place of plain ssh. sshd_stop stops sshd by the pid
# recorded at start; it runs at the end of the script and at any other
# exit of the script's shell.
#
# Without sshd, ssh or ssh-keygen the prereq SSHD is not set and the
# tests that need it are skipped with the reason; with
# GIT_WS_TEST_REQUIRE_SSH=1 (CI) that is an error.

SSHD=
for d in /usr/sbin /usr/local/sbin
do
	test -x $d/sshd && SSHD=$d/sshd && break
done
sshd_missing=
test -n "$SSHD" || sshd_missing=" sshd"
for b in ssh ssh-keygen perl
do
	command -v $b >/dev/null 2>&1 || sshd_missing="$sshd_missing $b"
done
if test -z "$sshd_missing"
then
	test_set_prereq SSHD
elif test -n "$GIT_WS_TEST_REQUIRE_SSH"
then
	error "GIT_WS_TEST_REQUIRE_SSH is set, but these are missing:$sshd_missing"
else
	say "skipping the ssh tests: missing$sshd_missing (apt-get install openssh-server openssh-client)"
fi

. "$SHARNESS_TEST_DIRECTORY/lib-port.sh"

SSHD_DIR=
SSHD_PID=

# sshd_start: start sshd, write the client config, export
# GIT_WS_SSH_COMMAND; wait (at most 20 s) until `ssh ws-a true` works.
sshd_start () {
	SSHD_DIR=$(mktemp -d /tmp/ws-sshd.XXXXXX) &&
	echo "$SSHD_DIR" >"$SHARNESS_TRASH_DIRECTORY/sshd.dir" &&
	# sshd's privilege separation directory
	{ test -d /run/sshd || mkdir -p -m 0755 /run/sshd; } &&
	ssh-keygen -q -t ed25519 -N "" -C ws-test-host -f "$SSHD_DIR/host_key" &&
	ssh-keygen -q -t ed25519 -N "" -C ws-test-user -f "$SSHD_DIR/id" &&
	cp "$SSHD_DIR/id.pub" "$SSHD_DIR/authorized_keys" &&
	SSHD_PORT=$(free_port) &&
	SSHD_DOWN_PORT=$(free_port) &&
	while test "$SSHD_DOWN_PORT" = "$SSHD_PORT"
	do
		SSHD_DOWN_PORT=$(free_port) || return 1
	done &&
	cat >"$SSHD_DIR/sshd_config" <<-EOF &&
	ListenAddress 127.0.0.1
	HostKey $SSHD_DIR/host_key
	PidFile $SSHD_DIR/sshd.pid
	AuthorizedKeysFile $SSHD_DIR/authorized_keys
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	AllowUsers $(id -un)
	StrictModes no
	UsePAM no
	PrintMotd no
	MaxStartups 100:30:200
	MaxSessions 100
	LogLevel VERBOSE
	EOF
	cat >"$SSHD_DIR/config" <<-EOF &&
	Host ws-a ws-b
		HostName 127.0.0.1
		Port $SSHD_PORT
	Host ws-down
		HostName 127.0.0.1
		Port $SSHD_DOWN_PORT
	Host *
		User $(id -un)
		IdentityFile $SSHD_DIR/id
		IdentitiesOnly yes
		UserKnownHostsFile $SSHD_DIR/known_hosts
		GlobalKnownHostsFile /dev/null
		StrictHostKeyChecking yes
		BatchMode yes
		ConnectTimeout 5
		LogLevel ERROR
	EOF
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d" " -f1,2 "$SSHD_DIR/host_key.pub")" \
		>"$SSHD_DIR/known_hosts" &&
	sshd_spawn &&
	cleanup sshd_stop &&
	trap 'sshd_stop; die' EXIT &&
	GIT_WS_SSH_COMMAND="ssh -F $SSHD_DIR/config" &&
	export GIT_WS_SSH_COMMAND &&
	i=0 &&
	while ! $GIT_WS_SSH_COMMAND ws-a true 2>"$SSHD_DIR/probe.err"
	do
		if test $i -ge 200 || ! kill -0 $SSHD_PID 2>/dev/null
		then
			echo "sshd did not come up:"
			cat "$SSHD_DIR/probe.err" "$SSHD_DIR/sshd.out" "$SSHD_DIR/sshd.log"
			return 1
		fi
		sleep 0.1
		i=$(($i + 1))
	done
}

# sshd_spawn: run sshd in the background (its output in $SSHD_DIR, test
# output fds closed so that it never holds the harness's pipe open) and a
# watcher that stops it should this script be killed.
sshd_spawn () {
	"$SSHD" -D -p "$SSHD_PORT" -f "$SSHD_DIR/sshd_config" \
		-E "$SSHD_DIR/sshd.log" \
		>"$SSHD_DIR/sshd.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- &
	SSHD_PID=$!
	(
		trap '' HUP INT
		while kill -0 $$ 2>/dev/null
		do
			sleep 1
		done
		kill $SSHD_PID 2>/dev/null
		rm -rf "$SSHD_DIR"
	) >/dev/null 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- &
	sshd_watcher=$!
}

# sshd_stop: stop sshd by its pid (TERM, then KILL after 5 s) and remove
# $SSHD_DIR. Safe to call twice.
sshd_stop () {
	if test -n "$SSHD_PID"
	then
		kill $SSHD_PID 2>/dev/null
		i=0
		while kill -0 $SSHD_PID 2>/dev/null && test $i -lt 50
		do
			sleep 0.1
			i=$(($i + 1))
		done
		kill -9 $SSHD_PID 2>/dev/null
		SSHD_PID=
		kill $sshd_watcher 2>/dev/null
	fi
	test -z "$SSHD_DIR" || rm -rf "$SSHD_DIR"
	SSHD_DIR=
	return 0
}
