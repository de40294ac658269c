#!/bin/sh
#
# install-postfix.sh - Postfix 3.7 for the arc-milter tests, beside Exim.
#
# Usage: sh tests/milter/install-postfix.sh     (as root; idempotent)
#
# Contract:
#  - Debian will not install postfix next to exim4 (both Conflict:
#    mail-transport-agent), so, as OpenSMTPD in scripts/install-mtas.sh,
#    the .deb is fetched with apt-get download and unpacked into
#    /opt/postfix, not registered with dpkg.  The binaries look for
#    their libraries in /usr/lib/postfix (RUNPATH; LD_LIBRARY_PATH will
#    not do: master(8) cleans the environment and postdrop is setgid),
#    so that becomes a symlink into the unpacked copy if it is missing.
#    Nothing else outside /opt/postfix changes but users and groups.
#  - Runtime libraries come from apt (none conflicts with Exim).
#  - Group postdrop, group and user postfix (Debian's names); postdrop
#    and postqueue setgid postdrop, as Debian's postinst makes them.
#  - Starts no daemon.  Exit 0 and "postfix ready" when master runs.
#
set -eu

P=/opt/postfix
LOCK=/var/lock/arc-install-postfix.lock

if [ "$(id -u)" != 0 ]; then
	echo "install-postfix: must run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
PATH=$PATH:/usr/sbin:/sbin
export PATH
if [ "${ARC_POSTFIX_LOCKED:-}" != 1 ] && command -v flock >/dev/null; then
	ARC_POSTFIX_LOCKED=1
	export ARC_POSTFIX_LOCKED
	exec flock "$LOCK" sh "$0" "$@"
fi
APT="apt-get -o DPkg::Lock::Timeout=600"

libs="libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3"
missing=
for p in $libs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep '^install ok installed$' >/dev/null || missing="$missing $p"
done
updated=0
if [ -n "$missing" ]; then
	$APT update -qq
	updated=1
	# shellcheck disable=SC2086
	$APT install -y -qq $missing >/dev/null
fi

if [ ! -x "$P/usr/lib/postfix/sbin/master" ]; then
	[ $updated = 1 ] || $APT update -qq
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt's _apt sandbox user must write there
	(cd "$tmp" && $APT download -qq postfix 2>/dev/null)
	rm -rf "$P.new"
	mkdir -p "$P.new"
	dpkg-deb -x "$tmp"/postfix_*.deb "$P.new"
	rm -rf "$tmp" "$P"
	mv "$P.new" "$P"	# last: a half-unpacked tree never looks installed
fi

[ -e /usr/lib/postfix ] || ln -s "$P/usr/lib/postfix" /usr/lib/postfix

getent group postdrop >/dev/null || groupadd --system postdrop
getent group postfix >/dev/null || groupadd --system postfix
id postfix >/dev/null 2>&1 || useradd --system -g postfix \
    -d /var/spool/postfix -M -s /usr/sbin/nologin postfix

chgrp postdrop "$P/usr/sbin/postdrop" "$P/usr/sbin/postqueue"
chmod 2755 "$P/usr/sbin/postdrop" "$P/usr/sbin/postqueue"

if ! "$P/usr/sbin/postconf" -d mail_version >/dev/null 2>&1; then
	echo "install-postfix: $P/usr/sbin/postconf does not run" >&2
	exit 1
fi
echo "postfix ready"
