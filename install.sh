#!/bin/sh
# Install git-ws on Debian 12 (or a derivative): the build and test
# dependencies from Debian's packages, then `make install`.
#
#   ./install.sh [--prefix <dir>] [--no-deps]
#
# --prefix   where to install (default: $HOME/.local); binaries go to
#            <prefix>/bin, man pages to <prefix>/share/man, completions
#            to <prefix>/share/bash-completion and .../zsh/site-functions
# --no-deps  do not install Debian packages (say what is missing instead)
#
# Environment:
# WS_DPKG_LOCK_TIMEOUT  seconds apt-get waits for the dpkg lock when another
#            package manager (unattended-upgrades, another apt) holds it,
#            before it gives up (default 300; 0 fails at once); passed as
#            apt-get -o DPkg::Lock::Timeout=<seconds>
set -eu

usage () {
	echo "usage: $0 [--prefix <dir>] [--no-deps]"
	echo "       WS_DPKG_LOCK_TIMEOUT=<seconds> (default 300): how long apt-get waits for the dpkg lock"
}

prefix="$HOME/.local"
install_deps=yes
while test $# -gt 0
do
	case "$1" in
	--prefix) test $# -ge 2 || { usage >&2; exit 129; }
		prefix="$2"; shift ;;
	--prefix=*) prefix="${1#--prefix=}" ;;
	--no-deps) install_deps=no ;;
	-h|--help) usage; exit 0 ;;
	*) echo "error: unknown option '$1'" >&2
	   usage >&2; exit 129 ;;
	esac
	shift
done

lock_timeout=${WS_DPKG_LOCK_TIMEOUT:-300}
case "$lock_timeout" in
''|*[!0-9]*)
	echo "fatal: WS_DPKG_LOCK_TIMEOUT must be a number of seconds, not '$lock_timeout'" >&2
	exit 128 ;;
esac

# Everything the build, the tests and the man pages need.
DEPS="build-essential pkg-config git perl libgit2-dev libinih-dev
libjansson-dev libcmocka-dev sharness asciidoctor bash-completion valgrind
git-lfs tmux graphviz"

# The srun and ssh runner tests (t2012, t2014) start a one-node Slurm and
# an sshd on 127.0.0.1.
DEPS="$DEPS slurmctld slurmd slurm-client munge openssh-server openssh-client"

missing=
for p in $DEPS
do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if test -n "$missing"
then
	if test "$install_deps" = no
	then
		echo "error: missing Debian packages:$missing" >&2
		echo "hint: apt-get install$missing" >&2
		exit 1
	fi
	if test "$(id -u)" = 0
	then
		SUDO=
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null
	then
		SUDO=sudo
	else
		echo "error: these Debian packages are needed:$missing" >&2
		echo "hint: as root, run: apt-get install$missing" >&2
		exit 1
	fi
	echo "Installing Debian packages:$missing"
	# Another apt or dpkg (unattended-upgrades, a second terminal) may
	# hold the dpkg lock: apt-get waits for it, bounded, rather than
	# failing at once with "Could not get lock". fuser sees who holds it
	# only as root; otherwise say that we may wait.
	if test -z "$SUDO" && command -v fuser >/dev/null &&
		fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock >/dev/null 2>&1
	then
		echo "Another package manager holds the dpkg lock; waiting up to $lock_timeout s for it"
	else
		echo "Waiting up to $lock_timeout s for the dpkg lock if another package manager holds it"
	fi
	$SUDO apt-get -o DPkg::Lock::Timeout="$lock_timeout" update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get \
		-o DPkg::Lock::Timeout="$lock_timeout" install -y -qq $missing
fi

cd "$(dirname "$0")"
make
make install prefix="$prefix"

case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "warning: '$prefix/bin' is not on your PATH; git will not find git ws-*" >&2
   echo "hint: add it, e.g. echo 'export PATH=\"$prefix/bin:\$PATH\"' >>~/.profile" >&2 ;;
esac
