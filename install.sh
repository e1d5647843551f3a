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
set -eu

prefix="$HOME/.local"
install_deps=yes
while test $# -gt 0
do
	case "$1" in
	--prefix) test $# -ge 2 || { echo "usage: $0 [--prefix <dir>] [--no-deps]" >&2; exit 129; }
		prefix="$2"; shift ;;
	--prefix=*) prefix="${1#--prefix=}" ;;
	--no-deps) install_deps=no ;;
	-h|--help) echo "usage: $0 [--prefix <dir>] [--no-deps]"; exit 0 ;;
	*) echo "error: unknown option '$1'" >&2
	   echo "usage: $0 [--prefix <dir>] [--no-deps]" >&2; exit 129 ;;
	esac
	shift
done

# Everything the build, the tests and the man pages need.
DEPS="build-essential pkg-config git perl libgit2-dev libinih-dev
libjansson-dev libcmocka-dev sharness asciidoctor bash-completion valgrind
git-lfs"

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
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

cd "$(dirname "$0")"
make
make install prefix="$prefix"

case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "warning: '$prefix/bin' is not on your PATH; git will not find git ws-*" >&2
   echo "hint: add it, e.g. echo 'export PATH=\"$prefix/bin:\$PATH\"' >>~/.profile" >&2 ;;
esac
