#!/bin/sh
#
# install-mtas.sh - the MTA test environment on Debian 12: Exim 4.96 and
# OpenSMTPD 6.8.0p2 side by side.
#
# Usage: sh scripts/install-mtas.sh        (as root; idempotent)
#
# Contract:
#  - Exim (exim4-daemon-heavy: it has Expand_dlfunc), exim4-dev (the
#    local_scan/dlfunc headers) and swaks come from apt.
#  - Debian will not install opensmtpd next to exim4 (both Conflict:
#    mail-transport-agent), so OpenSMTPD is fetched with apt-get
#    download and unpacked into /opt/opensmtpd, not registered with
#    dpkg.  smtpd has /usr/libexec/opensmtpd built in (mail.maildir,
#    mail.mda ...): that path becomes a symlink into the unpacked copy.
#  - Users and groups opensmtpd and opensmtpq (Debian's build names),
#    the chroot directory /var/lib/opensmtpd/empty, smtpctl setgid
#    opensmtpq (it refuses to run otherwise).
#  - Starts no daemon.  Re-runs do nothing but check (well under a
#    second); concurrent runs are serialised with a lock, because the
#    Exim and OpenSMTPD test suites may both call this at once.
#  - Exit 0 and "MTA test environment ready" when both MTAs are usable.
#
set -eu

SMTPD=/opt/opensmtpd/usr/sbin/smtpd
LOCK=/var/lock/arc-install-mtas.lock

if [ "$(id -u)" != 0 ]; then
	echo "install-mtas: must run as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
PATH=$PATH:/usr/sbin:/sbin
export PATH

# Serialise concurrent runs: apt and useradd do not like company.
if [ "${ARC_MTAS_LOCKED:-}" != 1 ] && command -v flock >/dev/null; then
	ARC_MTAS_LOCKED=1
	export ARC_MTAS_LOCKED
	exec flock "$LOCK" sh "$0" "$@"
fi

# Wait for a dpkg lock held by another apt run instead of failing.
APT="apt-get -o DPkg::Lock::Timeout=600"
updated=0
apt_update() {
	[ $updated = 1 ] && return 0
	$APT update -qq
	updated=1
}

installed() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep '^install ok installed$' >/dev/null || return 1
	done
	return 0
}

apt_install() {
	installed "$@" && return 0
	apt_update
	$APT install -y -qq "$@" >/dev/null
}

# 1. Exim from apt; exim4-config conflicts with opensmtpd by name, which
#    is why OpenSMTPD is unpacked below instead.
apt_install exim4-daemon-heavy exim4-dev swaks gcc libc6-dev

# 2. OpenSMTPD's runtime libraries (none of them conflict with Exim).
apt_install libevent-2.1-7 libssl3 libdb5.3 libpam0g zlib1g libcrypt1

# 3. OpenSMTPD unpacked into /opt/opensmtpd.
if [ ! -x "$SMTPD" ]; then
	apt_update
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt's _apt sandbox user must write there
	(cd "$tmp" && $APT download -qq opensmtpd 2>/dev/null)
	rm -rf /opt/opensmtpd.new
	mkdir -p /opt/opensmtpd.new
	dpkg-deb -x "$tmp"/opensmtpd_*.deb /opt/opensmtpd.new
	rm -rf "$tmp" /opt/opensmtpd
	# rename last: a half-unpacked tree never looks installed
	mv /opt/opensmtpd.new /opt/opensmtpd
fi
[ -e /usr/libexec/opensmtpd ] ||
    ln -s /opt/opensmtpd/usr/libexec/opensmtpd /usr/libexec/opensmtpd
mkdir -p /var/lib/opensmtpd/empty
getent group opensmtpd >/dev/null || groupadd --system opensmtpd
getent group opensmtpq >/dev/null || groupadd --system opensmtpq
id opensmtpd >/dev/null 2>&1 || useradd --system -g opensmtpd \
    -d /var/lib/opensmtpd/empty -M -s /usr/sbin/nologin opensmtpd
id opensmtpq >/dev/null 2>&1 || useradd --system -g opensmtpq \
    -d /var/lib/opensmtpd/empty -M -s /usr/sbin/nologin opensmtpq
chgrp opensmtpq /opt/opensmtpd/usr/sbin/smtpctl
chmod 2755 /opt/opensmtpd/usr/sbin/smtpctl

# 4. Check both.  No "grep -q" on a pipe: an early exit could SIGPIPE
#    the producer.
if ! exim -bV 2>/dev/null | grep Expand_dlfunc >/dev/null; then
	echo "install-mtas: exim lacks Expand_dlfunc" >&2
	exit 1
fi
if ! { "$SMTPD" -h 2>&1 || true; } | grep 'OpenSMTPD 6\.8' >/dev/null; then
	echo "install-mtas: $SMTPD does not run" >&2
	exit 1
fi
echo "MTA test environment ready"
