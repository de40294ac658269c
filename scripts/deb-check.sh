#!/bin/bash
#
# deb-check.sh - the Debian packages, built, linted, installed and run.
#
# Usage: bash scripts/deb-check.sh [OUTDIR]     (as root; default
#        build/deb-check: the .debs, build.log, lintian.log, e2e logs)
#
# Contract:
#  - Copies the WORKING TREE (git ls-files -co --exclude-standard, so
#    uncommitted and new files too, build/ never) to a fresh directory
#    under /tmp and runs dpkg-buildpackage -b -uc -us there with
#    DEB_BUILD_OPTIONS=nocheck (the unit tests run elsewhere in make
#    check).  Installs what the build needs first (scripts/deps.sh,
#    scripts/install-mtas.sh, the packaging tools).
#  - lintian over the .changes: any error, warning or info tag fails the
#    check (the overridden ones are justified in debian/README.source).
#  - apt-get install ./*.deb, then checks the files as packaged: the
#    users, the key directories' owner and mode, the conffiles, the
#    unit (systemd-analyze verify), stripped programs with -dbgsym
#    packages built, libarc.so.1's exports against the installed headers,
#    an out-of-tree program built with pkg-config arc, check-syms on the
#    installed Exim module, Debian's Exim configuration with the conf.d
#    snippet enabled (exim -bV).
#  - The milter started as the unit starts it (User=, RuntimeDirectory=,
#    UMask=, ExecStart= from the installed unit; no systemd here): socket
#    mode and owner, a message through miltertest, sealed with a key
#    in /etc/arc/keys the milter's user must read; ExecReload's SIGHUP
#    rotates the key (selector A, then B) and the milter keeps running.
#  - The MTA end-to-end tests (tests/e2e/exim.sh, tests/e2e/opensmtpd.sh,
#    tests/milter/run.sh) once, against a directory of symlinks to the
#    INSTALLED programs, each under flock /tmp/arc-e2e.lock.
#  - Purges the packages at the end, whatever happened (later checks use
#    the build tree), and removes the copy unless KEEP=1 or a check
#    failed.  One line per check (PASS/FAIL); last line "deb-check: N
#    passed, M failed"; exit 1 if M > 0, 2 if it could not run.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
OUT=${1:-$root/build/deb-check}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
PKGS="libarc1 libarc-dev arc-tools arc-milter exim4-arc opensmtpd-filter-arc"
LOCK=/tmp/arc-e2e.lock
export DEBIAN_FRONTEND=noninteractive
APT="apt-get -o DPkg::Lock::Timeout=600 -q"

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
check() {	# check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
die() {
	echo "deb-check: $*" >&2
	echo "deb-check: $npass passed, $((nfail + 1)) failed"
	exit 2
}

[ "$(id -u)" = 0 ] || die "must run as root (apt-get install, MTAs)"
mkdir -p "$OUT" || die "cannot make $OUT"
rm -f "$OUT"/*.deb "$OUT"/*.ddeb "$OUT"/*.log

# ---- what the build and the tests need ------------------------------------

sh "$root/scripts/deps.sh" >/dev/null || die "scripts/deps.sh failed"
sh "$root/scripts/install-mtas.sh" >/dev/null ||
    die "scripts/install-mtas.sh failed"
tools="debhelper dpkg-dev fakeroot lintian build-essential systemd man-db"
missing=
for p in $tools; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep '^install ok installed$' >/dev/null || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deb-check: installing$missing"
	{ $APT update && $APT install -y --no-install-recommends $missing; } \
	    >"$OUT/apt.log" 2>&1 || die "apt-get install$missing failed"
fi

T=$(mktemp -d /tmp/arc-deb.XXXXXX) || die "mktemp failed"
chmod 755 "$T"
MPID=
installed=0
purge() {
	local p list=
	for p in $PKGS; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		    grep -v 'not-installed' >/dev/null && list="$list $p"
	done
	[ -z "$list" ] && return 0
	$APT purge -y $list >>"$OUT/purge.log" 2>&1
}
cleanup() {
	if [ -n "$MPID" ]; then
		kill "$MPID" 2>/dev/null
		wait "$MPID" 2>/dev/null
		MPID=
	fi
	rm -f /etc/arc/keys/deb-check-*.pem /etc/exim4/arc/deb-check-*.pem
	[ -f "$T/arc.conf.packaged" ] && [ -f /etc/arc.conf ] &&
	    cp -p "$T/arc.conf.packaged" /etc/arc.conf
	purge || echo "deb-check: purge failed, see $OUT/purge.log" >&2
	if [ "${KEEP:-0}" = 1 ] || [ "$nfail" != 0 ]; then
		echo "deb-check: work directory kept: $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a run that died earlier may have left the packages installed
purge

# ---- build in a copy of the working tree -----------------------------------

mkdir "$T/src"
(cd "$root" && git ls-files -z -co --exclude-standard) |
    while IFS= read -r -d '' f; do
	case $f in build/*) continue ;; esac
	[ -f "$root/$f" ] && printf '%s\0' "$f"
    done >"$T/files"
tar -C "$root" --null -T "$T/files" -cf - | tar -C "$T/src" -xf - ||
    die "copying the working tree failed"

cd "$T/src" || die "no $T/src"
dpkg-checkbuilddeps >"$OUT/builddeps.log" 2>&1 ||
    die "build dependencies missing: $(cat "$OUT/builddeps.log")"
t0=$(date +%s)
if DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
    dpkg-buildpackage -b -uc -us >"$OUT/build.log" 2>&1; then
	pass "dpkg-buildpackage -b -uc -us ($(( $(date +%s) - t0 )) s)"
else
	tail -30 "$OUT/build.log"
	fail "dpkg-buildpackage (log: $OUT/build.log)"
	echo "deb-check: $npass passed, $nfail failed"
	exit 1
fi
cd "$T" || exit 2
cp "$T"/*.deb "$T"/*.ddeb "$OUT/" 2>/dev/null
changes=$(ls "$T"/*.changes | head -1)

for p in $PKGS; do
	ls "$T/${p}_"*.deb >/dev/null 2>&1 || fail "no package $p built"
done
for p in libarc1 arc-tools arc-milter exim4-arc opensmtpd-filter-arc; do
	ls "$T/${p}-dbgsym_"*.*deb >/dev/null 2>&1 ||
	    fail "no $p-dbgsym package (unstripped binaries reach dh_strip?)"
done

# ---- lintian ------------------------------------------------------------------

lintian --fail-on error,warning,info --display-info --pedantic --info \
    "$changes" >"$OUT/lintian.log" 2>&1
lrc=$?
if [ $lrc = 0 ]; then
	pass "lintian: no error, warning or info tag ($(grep -c '^P:' \
	    "$OUT/lintian.log") pedantic; overrides in debian/README.source)"
else
	grep -E '^[EWI]:' "$OUT/lintian.log" | head -20
	fail "lintian (exit $lrc, log: $OUT/lintian.log)"
fi

# development only: stop after the build and lintian
[ "${DEB_CHECK_BUILD_ONLY:-0}" = 1 ] && {
	echo "deb-check: $npass passed, $nfail failed (build only)"
	[ "$nfail" = 0 ]; exit; }

# ---- install -------------------------------------------------------------------

debs=
for p in $PKGS; do debs="$debs $(ls "$T/${p}_"*.deb)"; done
if $APT install -y --no-install-recommends $debs \
    >"$OUT/install.log" 2>&1; then
	installed=1
	pass "apt-get install ./*.deb (the dbgsym packages left out)"
else
	tail -20 "$OUT/install.log"
	fail "apt-get install (log: $OUT/install.log)"
	echo "deb-check: $npass passed, $nfail failed"
	exit 1
fi

# ---- the files as packaged -------------------------------------------------------

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
statis() {	# statis PATH OWNER:GROUP MODE
	[ "$(stat -c '%U:%G %a' "$1" 2>/dev/null)" = "$2 $3" ] || {
		echo "  $1: $(stat -c '%U:%G %a' "$1" 2>&1), want $2 $3"
		return 1
	}
}
check "users arc-milter and _filter-arc exist, system accounts" \
    sh -c 'for u in arc-milter _filter-arc; do
	uid=$(id -u "$u") && [ "$uid" -lt 1000 ] && id -g "$u" >/dev/null ||
	    exit 1; done'
check "/etc/arc/keys is root:arc-milter 0750" \
    statis /etc/arc/keys root:arc-milter 750
check "/etc/mail/arc is root:_filter-arc 0750" \
    statis /etc/mail/arc root:_filter-arc 750
check "/etc/exim4/arc is root:Debian-exim 0750" \
    statis /etc/exim4/arc root:Debian-exim 750
conffiles() { dpkg-query -W -f='${Conffiles}\n' "$1" | awk 'NF { print $1 }'; }
check "conffiles: /etc/arc.conf (arc-milter)" \
    sh -c "dpkg-query -W -f='\${Conffiles}' arc-milter | grep -w /etc/arc.conf >/dev/null"
check "conffiles: /etc/exim4/arc.conf and the conf.d snippet (exim4-arc)" \
    sh -c "c=\$(dpkg-query -W -f='\${Conffiles}' exim4-arc) &&
	case \$c in *' /etc/exim4/arc.conf '*) ;; *) exit 1 ;; esac &&
	case \$c in *' /etc/exim4/conf.d/main/15_exim4-arc_macros '*) ;;
	*) exit 1 ;; esac"
check "conffiles: /etc/mail/arc.conf (opensmtpd-filter-arc)" \
    sh -c "dpkg-query -W -f='\${Conffiles}' opensmtpd-filter-arc |
	grep -w /etc/mail/arc.conf >/dev/null"
for f in /usr/bin/arctool /usr/sbin/arc-milter \
    /usr/libexec/opensmtpd/filter-arc /usr/lib/exim4/exim_arc.so \
    "/usr/lib/$MA/libarc.so.1"; do
	check "$f installed, stripped, links libarc.so.1 from /usr/lib/$MA" \
	    sh -c "f=\$(readlink -f '$f') && [ -f \"\$f\" ] &&
		! readelf -S \"\$f\" | grep -E '\\.(symtab|debug_info)' >/dev/null &&
		{ case '$f' in */libarc.so.1) exit 0 ;; esac;
		  ldd \"\$f\" | grep -E 'libarc\.so\.1 => (/usr)?/lib/$MA/libarc\.so\.1' \
		    >/dev/null; }"
done
check "libarc.so.1: SONAME libarc.so.1" \
    sh -c "readelf -d /usr/lib/$MA/libarc.so.1 |
	grep -F 'Library soname: [libarc.so.1]' >/dev/null"
check "libarc.so.1 exports exactly the functions of /usr/include/arc/*.h" \
    sh "$T/src/scripts/libarc-map.sh" check "/usr/lib/$MA/libarc.so.1" \
    /usr/include/arc/*.h
check "installed exim_arc.so: every symbol has a provider (check-syms)" \
    sh "$T/src/scripts/check-syms.sh" /usr/lib/exim4/exim_arc.so

# an adapter built out of tree with pkg-config, as docs/porting.md says
cat >"$T/oot.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <arc_adapter.h>

int
main(int argc, char **argv)
{
	char		 err[256];
	arc_conf	*conf;
	arc_adapter	*ad;
	arc_session	*s;
	arc_session_params p;
	const arc_actions *a;
	FILE		*fp;
	char		 buf[4096];
	size_t		 n;

	if (argc != 3 || (fp = fopen(argv[2], "r")) == NULL)
		return 2;
	if ((conf = arc_conf_load(argv[1], err, sizeof(err))) == NULL ||
	    (ad = arc_adapter_create(conf, NULL, NULL, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "oot: %s\n", err);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.id = "oot";
	p.seal = -1;
	p.quiet = 1;
	if ((s = arc_session_create(ad, &p)) == NULL)
		return 1;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		arc_session_feed(s, buf, n);
	if (arc_session_eom(s) == ARC_SESSION_PENDING)
		arc_session_wait(s);
	a = arc_session_actions(s);
	printf("%s\n", arc_cv_name(a->cv));
	arc_session_free(s);
	arc_adapter_free(ad);
	arc_conf_free(conf);
	fclose(fp);
	return 0;
}
EOF
printf 'dns no\n' >"$T/oot.conf"
check "out-of-tree program built with pkg-config arc runs (cv none)" \
    sh -c "cc -std=c11 -Wall -Wextra -Werror \$(pkg-config --cflags arc) \
	-o '$T/oot' '$T/oot.c' \$(pkg-config --libs arc) &&
	[ \"\$('$T/oot' '$T/oot.conf' '$T/src/tests/data/sample.eml')\" = none ]"

check "systemd-analyze verify arc-milter.service" \
    sh -c "systemd-analyze verify /lib/systemd/system/arc-milter.service \
	>'$OUT/systemd-analyze.log' 2>&1 && ! grep . '$OUT/systemd-analyze.log'"

# Debian's Exim configuration with the snippet enabled parses
cat >"$T/exim-arc.conf" <<EOF
EXIM4_ARC_ENABLE = yes
$(cat /etc/exim4/conf.d/main/15_exim4-arc_macros)
$(cat /etc/exim4/exim4.conf.template)
EOF
check "Debian's exim4.conf.template + the enabled snippet: exim -bV" \
    sh -c "exim -C '$T/exim-arc.conf' -bV >'$OUT/exim-bV.log' 2>&1 &&
	exim -C '$T/exim-arc.conf' -bP acl_smtp_data >/dev/null 2>&1"
sed 1d "$T/exim-arc.conf" >"$T/exim-noarc.conf"
check "the snippet is inert unless enabled (no CHECK_DATA_LOCAL_ACL_FILE)" \
    sh -c "exim -C '$T/exim-noarc.conf' -bV >/dev/null 2>&1 &&
	exim -C '$T/exim-arc.conf' -bP macro CHECK_DATA_LOCAL_ACL_FILE |
	grep -F /etc/exim4/exim4-arc/acl_data >/dev/null &&
	! exim -C '$T/exim-noarc.conf' -bP macro CHECK_DATA_LOCAL_ACL_FILE \
	    2>/dev/null | grep -F /etc/exim4/exim4-arc >/dev/null"

# Debian's Exim configuration, the snippet enabled, a message over SMTP
# (exim -bs as from 192.0.2.7, queued only, private spool): verify only,
# then sealing with a key in the packaged /etc/exim4/arc
mkdir -p "$T/exim/spool" "$T/exim/log"
chown Debian-exim:Debian-exim "$T/exim/spool" "$T/exim/log"
eximconf() {	# eximconf FILE MACRO-LINES...
	local f=$1
	shift
	{ printf '%s\n' "$@"
	  cat /etc/exim4/conf.d/main/15_exim4-arc_macros
	  printf '%s\n' "SPOOLDIR = $T/exim/spool" \
	      "MAIN_LOCAL_DOMAINS = deb.example" "MAIN_RELAY_NETS = :" \
	      "log_file_path = $T/exim/log/%slog"
	  cat /etc/exim4/exim4.conf.template; } >"$f"
}
printf '%s\r\n' "HELO client.example" "MAIL FROM:<a@origin.example>" \
    "RCPT TO:<root@deb.example>" DATA "From: a@origin.example" \
    "To: root@deb.example" "Subject: deb-check" \
    "Date: Mon, 01 Jan 2024 00:00:00 +0000" \
    "Message-ID: <deb-check-1@origin.example>" \
    "Authentication-Results: $(hostname); arc=pass (forged)" "" \
    "body" "." QUIT >"$T/exim/smtp.txt"
eximsend() {	# eximsend CONF OUT: the message as queued, to OUT
	local id
	id=$(exim -C "$1" -odq -oMa 192.0.2.7 -bs <"$T/exim/smtp.txt" 2>&1 |
	    sed -n 's/^250 OK id=//p' | tr -d '\r')
	[ -n "$id" ] && exim -C "$1" -Mvc "$id" >"$2"
}
eximconf "$T/exim/verify.conf" "EXIM4_ARC_ENABLE = yes"
exim_verify_case() {
	eximsend "$T/exim/verify.conf" "$T/exim/verify.eml" &&
	    grep -E '^Authentication-Results: [^;]+; arc=none' \
	    "$T/exim/verify.eml" >/dev/null &&
	    ! grep -F '(forged)' "$T/exim/verify.eml" >/dev/null
}
check "Exim with the snippet: forged A-R removed, ours says arc=none" \
    exim_verify_case
arctool keygen --domain deb.example --selector sele \
    --out /etc/exim4/arc/deb-check-e.pem >"$T/exim/e.zone" 2>&1
chgrp Debian-exim /etc/exim4/arc/deb-check-e.pem
chmod 640 /etc/exim4/arc/deb-check-e.pem
printf '%s\n' "dns no" "seal-domain deb.example" "seal-selector sele" \
    "seal-key /etc/exim4/arc/deb-check-e.pem" >"$T/exim/arc.conf"
chmod 644 "$T/exim/arc.conf"
eximconf "$T/exim/seal.conf" "EXIM4_ARC_ENABLE = yes" "EXIM4_ARC_SEAL = yes" \
    "EXIM4_ARC_OPTS = {conf=$T/exim/arc.conf}{authres=\${authresults{\$primary_hostname}}}"
exim_seal_case() {
	eximsend "$T/exim/seal.conf" "$T/exim/seal.eml" &&
	    head -1 "$T/exim/seal.eml" | grep '^ARC-Seal: i=1' >/dev/null &&
	    arctool verify --no-dns --keys "$T/exim/e.zone" \
	    "$T/exim/seal.eml" >"$T/exim/seal.verify" 2>&1
}
check "Exim with the snippet and EXIM4_ARC_SEAL: sealed, arctool verifies pass" \
    exim_seal_case
rm -f /etc/exim4/arc/deb-check-e.pem

# ---- arc-milter as the unit runs it -------------------------------------------

UNIT=/lib/systemd/system/arc-milter.service
unitval() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
muser=$(unitval User)
mgroup=$(unitval Group)
mumask=$(unitval UMask)
rtdir=/run/$(unitval RuntimeDirectory)
rtmode=$(unitval RuntimeDirectoryMode)
SOCKET=$(sed -n 's/^Environment=SOCKET=//p' "$UNIT")
exec_start=$(unitval ExecStart)
exec_reload=$(unitval ExecReload)
exec_check=$(unitval ExecStartPre)
sockpath=${SOCKET#unix:}
cmd=${exec_start//\$\{SOCKET\}/$SOCKET}

# two sealing keys in the packaged key directory, readable by the
# milter's group only; /etc/arc.conf (purged at the end) seals with A
arctool keygen --domain deb.example --selector sela \
    --out /etc/arc/keys/deb-check-a.pem >"$T/sela.zone" 2>"$T/keygen.log" &&
arctool keygen --domain deb.example --selector selb \
    --out /etc/arc/keys/deb-check-b.pem >"$T/selb.zone" 2>>"$T/keygen.log" ||
    fail "arctool keygen into /etc/arc/keys: $(cat "$T/keygen.log")"
chown root:arc-milter /etc/arc/keys/deb-check-*.pem
chmod 640 /etc/arc/keys/deb-check-*.pem
cat "$T/sela.zone" "$T/selb.zone" >"$T/keys"
cp -p /etc/arc.conf "$T/arc.conf.packaged"	# put back after the test
mkconf() {
	printf '%s\n' "authserv-id mx.deb.example" "dns no" \
	    "seal-domain deb.example" "seal-selector $1" \
	    "seal-key /etc/arc/keys/deb-check-$2.pem" >/etc/arc.conf
}
mkconf sela a

asuser() { setpriv --reuid="$muser" --regid="$mgroup" --init-groups \
    --no-new-privs "$@"; }
check "ExecStartPre ($exec_check) as $muser: configuration OK" \
    asuser $exec_check
chmod 600 /etc/arc/keys/deb-check-a.pem
check "ExecStartPre as $muser: a key $muser cannot read fails, names it" \
    sh -c "! $(printf '%q ' setpriv --reuid="$muser" --regid="$mgroup" \
	--init-groups --no-new-privs $exec_check) >'$T/check-bad.log' 2>&1 &&
	grep -F /etc/arc/keys/deb-check-a.pem '$T/check-bad.log' >/dev/null"
chmod 640 /etc/arc/keys/deb-check-a.pem

rm -rf "$rtdir"
install -d -o "$muser" -g "$mgroup" -m "$rtmode" "$rtdir"
(umask "$mumask" && exec setpriv --reuid="$muser" --regid="$mgroup" \
    --init-groups --no-new-privs $cmd) 2>"$OUT/milter-unit.log" &
MPID=$!
for _ in $(seq 1 100); do [ -S "$sockpath" ] && break; sleep 0.05; done
check "milter as the unit starts it ($cmd, user $muser) makes its socket" \
    test -S "$sockpath"
# group members (the MTA) may connect, nobody else (umask 007: 0770)
sockmode() {
	case $(stat -c '%U:%G %A' "$1") in
	"$2 srw"?"rw"?"---") return 0 ;;
	esac
	echo "  $1: $(stat -c '%U:%G %A' "$1")"
	return 1
}
check "socket owned by $muser:$mgroup, group rw, others nothing" \
    sockmode "$sockpath" "$muser:$mgroup"

mtsend() {	# mtsend NAME: one message through the unit's socket
	miltertest -D "SOCK=$SOCKET" -D "MSG=$T/src/tests/data/sample.eml" \
	    -D "OUT=$T/$1.out" -s "$T/src/tests/milter/send.lua" \
	    >"$T/$1.log" 2>&1
}
sealed_by() {	# sealed_by NAME SELECTOR: the seal's s= and arctool verify
	grep -A3 '^ARC-Seal:' "$T/$1.out" | tr -d '\r\n\t ' |
	    grep -F ";s=$2;" >/dev/null &&
	    arctool verify --no-dns --keys "$T/keys" "$T/$1.out" \
	    >"$T/$1.verify" 2>&1
}
m_case() { mtsend "$1" && sealed_by "$1" "$2"; }
check "a message through the milter's socket is sealed with s=sela" \
    m_case m1 sela
mkconf selb b
# every ExecReload= line in order, as the unit's user, as systemd would
reload_ok=1
while IFS= read -r r; do
	asuser ${r//\$MAINPID/$MPID} >>"$T/reload.log" 2>&1 || reload_ok=0
done < <(sed -n 's/^ExecReload=//p' "$UNIT")
sleep 1
check "ExecReload lines ran without error" test "$reload_ok" = 1
check "after ExecReload ($exec_reload) the milter still runs" \
    kill -0 "$MPID"
check "after the reload a message is sealed with s=selb" m_case m2 selb
kill "$MPID" 2>/dev/null
wait "$MPID" 2>/dev/null
MPID=
rm -f /etc/arc/keys/deb-check-*.pem
cp -p "$T/arc.conf.packaged" /etc/arc.conf
rm -rf "$rtdir"

# ---- the MTA end-to-end tests against the installed programs --------------------

I=$T/installed
mkdir "$I"
ln -s /usr/bin/arctool "$I/arctool"
ln -s /usr/lib/exim4/exim_arc.so "$I/exim_arc.so"
ln -s /usr/libexec/opensmtpd/filter-arc "$I/filter-arc"
ln -s /usr/sbin/arc-milter "$I/arc-milter"
e2e() {	# e2e NAME COMMAND...
	local name=$1 t0
	shift
	t0=$(date +%s)
	if flock "$LOCK" "$@" >"$OUT/$name.log" 2>&1; then
		pass "$name against the installed files ($(tail -1 \
		    "$OUT/$name.log" | cut -c1-60); $(( $(date +%s) - t0 )) s)"
	else
		grep -E '^(FAIL|\*\*\*)' "$OUT/$name.log" | head -10
		fail "$name against the installed files (log: $OUT/$name.log)"
	fi
}
e2e exim-e2e bash "$T/src/tests/e2e/exim.sh" "$I"
e2e opensmtpd-e2e sh "$T/src/tests/e2e/opensmtpd.sh" "$I"
e2e milter-check bash "$T/src/tests/milter/run.sh" "$I/arc-milter" "$I/arctool"

# ---- purge -------------------------------------------------------------------------

purge
check "purge removes the programs, the library and /etc/arc.conf" \
    sh -c "! [ -e /usr/bin/arctool ] && ! [ -e /usr/lib/$MA/libarc.so.1 ] &&
	! [ -e /usr/lib/exim4/exim_arc.so ] && ! [ -e /etc/arc.conf ] &&
	! [ -e /usr/libexec/opensmtpd/filter-arc ] && ! [ -e /etc/arc/keys ]"

echo "deb-check: $npass passed, $nfail failed"
[ "$nfail" = 0 ]
