#!/bin/sh
# Installs what the build and the tests need from Debian 12, if missing.
# Idempotent and quick when nothing is missing (one dpkg query).
# Usage: sh scripts/deps.sh [--mta]   (--mta adds Exim and OpenSMTPD)
set -eu

PKGS="gcc make pkg-config libc6-dev libssl-dev libunbound-dev libpcre2-dev
libcunit1-dev libyaml-dev python3 python3-dkim python3-nacl python3-authres
libmail-dkim-perl libcryptx-perl unbound ldnsutils time openssl valgrind libmilter-dev miltertest
clang libclang-rt-14-dev python3-yaml"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing:$missing" >&2
		echo "deps: run as root: apt-get install$missing" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi
if [ "${1:-}" = "--mta" ]; then
	sh "$(dirname "$0")/install-mtas.sh"
fi
exit 0
