#!/bin/sh
#
# opensmtpd.sh - the opensmtpd-e2e check: filter-arc under a real
# OpenSMTPD 6.8 on 127.0.0.1.
#
# Usage: sh tests/e2e/opensmtpd.sh BUILD_DIR     (as root; KEEP=1 keeps
#        the work directory)
#
# Contract:
#  - Runs scripts/install-mtas.sh first (idempotent).
#  - Everything lives in a fresh 0755 directory under /tmp: filter-arc
#    runs as user opensmtpd and delivery as nobody, and neither can
#    enter /root.  Keys come from arctool keygen; the sealing key is
#    0640 root:opensmtpd.
#  - First the protocol cases against filter-arc alone (over a
#    socketpair, as smtpd runs it), then smtpd in a private mount
#    namespace (its spool and control socket are otherwise global) with
#    filter-arc, messages sent over SMTP, delivered to a maildir and
#    checked with arctool and dkimpy (tests/e2e/opensmtpd_e2e.py).
#  - The DNS timeout case needs unbound (tests/dns/run-unbound.sh):
#    fast.example is served, slow.example forwarded where nothing
#    answers.  Without unbound it is reported as skipped.
#  - Prints PASS/FAIL per case, then "opensmtpd-e2e: N passed, M failed";
#    exits non-zero if anything failed.  smtpd and unbound are children
#    of this script and are stopped by PID.
#
set -u

BUILD=${1:?usage: opensmtpd.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3		# Debian's, with python3-dkim
HELPER=$ROOT/tests/e2e/opensmtpd_e2e.py
SMTPD=/opt/opensmtpd/usr/sbin/smtpd
DNS_TIMEOUT_MS=3000
export DNS_TIMEOUT_MS

if ! sh "$ROOT/scripts/install-mtas.sh" >/dev/null; then
	echo "FAIL: scripts/install-mtas.sh"
	echo "opensmtpd-e2e: 0 passed, 1 failed"
	exit 1
fi

D=$(mktemp -d /tmp/osmtpd-arc.XXXXXX)
chmod 755 "$D"
RESULTS=$D/results
SMTPD_PID=
UNBOUND=

cleanup() {
	if [ -n "$SMTPD_PID" ]; then
		kill "$SMTPD_PID" 2>/dev/null
		wait "$SMTPD_PID" 2>/dev/null
	fi
	SMTPD_PID=
	[ -n "$UNBOUND" ] && sh "$ROOT/tests/dns/run-unbound.sh" stop \
	    "$D/dns" 2>/dev/null
	UNBOUND=
}
trap 'cleanup; exit 1' INT TERM
trap cleanup EXIT

pass() { echo "PASS: $*" | tee -a "$RESULTS"; }
fail() { echo "FAIL: $*" | tee -a "$RESULTS"; }

# The Python side prints its own PASS/FAIL lines; a crash of it is a
# failure too.
helper() {
	$PY "$HELPER" "$@" >"$D/helper.out" 2>&1
	rc=$?
	cat "$D/helper.out"
	grep -E '^(PASS|FAIL)' "$D/helper.out" >>"$RESULTS"
	if [ $rc -ne 0 ] && ! grep '^FAIL' "$D/helper.out" >/dev/null; then
		fail "opensmtpd_e2e.py $1 exited with $rc"
	fi
}

# A port (and the two above it) nobody listens on.
free_port() {
	$PY - "$1" <<'EOF'
import random, socket, sys
base = int(sys.argv[1])
for _ in range(200):
    p = random.randrange(base, base + 2000, 4)
    try:
        for q in (p, p + 1, p + 2):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET, kind)
                s.bind(('127.0.0.1', q))
                s.close()
    except OSError:
        continue
    print(p)
    break
EOF
}

# ---- keys and configuration ------------------------------------------------

cp "$BUILD/filter-arc" "$BUILD/arctool" "$D/"
keygen() {	# selector domain file
	"$D/arctool" keygen --selector "$1" --domain "$2" --out "$D/$3"
}
{
	keygen s1 mx.example seal.pem
	keygen o1 origin.example origin.pem
} >"$D/keys.txt" || { fail "arctool keygen"; exit 1; }
if ! keygen f1 fast.example fast.pem >"$D/fast.txt" ||
    ! keygen k1 slow.example slow.pem >"$D/slow.txt"; then
	fail "arctool keygen"
	exit 1
fi
# s2: the selector the rotation case switches to
keygen s2 mx.example seal2.pem >"$D/seal2.txt" || { fail "arctool keygen"; exit 1; }
cat "$D/keys.txt" "$D/fast.txt" "$D/slow.txt" "$D/seal2.txt" \
    >"$D/keys-all.txt"
chmod 644 "$D"/*.txt
chgrp opensmtpd "$D/seal.pem" "$D/seal2.pem" &&
    chmod 640 "$D/seal.pem" "$D/seal2.pem"

DNSPORT=
if command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ]; then
	mkdir -p "$D/dns"
	sed 's/^\(.*\)$/local-data: '"'"'\1'"'"'/' "$D/fast.txt" \
	    >"$D/dns/keys.conf"
	DNSPORT=$(free_port 15300)
	if [ -n "$DNSPORT" ] && sh "$ROOT/tests/dns/run-unbound.sh" start \
	    "$D/dns" "$DNSPORT" >"$D/unbound.out" 2>&1; then
		UNBOUND=1
	else
		echo "note: unbound did not start, DNS case skipped:"
		sed 's/^/  /' "$D/unbound.out"
		DNSPORT=
	fi
fi

cat >"$D/arc.conf" <<EOF
authserv-id	mx.example
seal-domain	mx.example
seal-selector	s1
seal-key	$D/seal.pem
key-table	$D/keys.txt
dns-timeout	$DNS_TIMEOUT_MS
EOF
if [ -n "$DNSPORT" ]; then
	echo "dns-forwarder	127.0.0.1@$DNSPORT" >>"$D/arc.conf"
else
	echo "dns		no" >>"$D/arc.conf"
fi
chmod 644 "$D/arc.conf"

# ---- filter-arc -n: the check as the user smtpd runs it as ---------------------

# as root, -n becomes the runtime user (default opensmtpd, as smtpd's
# proc-exec does) before it opens anything
if "$D/filter-arc" -n -c "$D/arc.conf" >"$D/n.out" 2>&1 &&
    grep 'configuration OK (checked as user opensmtpd, group opensmtpd)' \
    "$D/n.out" >/dev/null; then
	pass "filter-arc -n as root: OK, checked as user opensmtpd"
else
	fail "filter-arc -n as root: $(cat "$D/n.out")"
fi
# a key only root can read: root could open it, the filter could not
cp "$D/seal.pem" "$D/rootonly.pem" && chmod 600 "$D/rootonly.pem"
sed "s|^seal-key.*|seal-key	$D/rootonly.pem|" "$D/arc.conf" >"$D/arc-bad.conf"
chmod 644 "$D/arc-bad.conf"
keyline=$(grep -n '^seal-key' "$D/arc-bad.conf" | cut -d: -f1)
if "$D/filter-arc" -n -c "$D/arc-bad.conf" >"$D/n.out" 2>&1; then
	fail "filter-arc -n with a key the runtime user cannot read said OK"
elif grep "$D/arc-bad.conf:$keyline:" "$D/n.out" >/dev/null &&
    grep 'checked as user opensmtpd' "$D/n.out" >/dev/null; then
	pass "filter-arc -n: unreadable key is an error with file:line ($(head -c 160 "$D/n.out"))"
else
	fail "filter-arc -n: no file:line in: $(cat "$D/n.out")"
fi
if "$D/filter-arc" -n -u root -c "$D/arc-bad.conf" >/dev/null 2>&1 &&
    ! "$D/filter-arc" -n -u no-such-user-h3 -c "$D/arc.conf" \
    >"$D/n.out" 2>&1 && grep 'no user no-such-user-h3' "$D/n.out" \
    >/dev/null; then
	pass "filter-arc -n -u: checks as the user given"
else
	fail "filter-arc -n -u: $(cat "$D/n.out")"
fi

# ---- protocol cases, filter-arc alone ------------------------------------------

SIM_DNS_PORT=$DNSPORT	# empty: no DNS cases
export SIM_DNS_PORT
helper sim "$D/filter-arc" "$D"
# unbound now remembers the dead forwarder and answers SERVFAIL at once:
# a fresh one for the timeout case below
if [ -n "$UNBOUND" ] && ! sh "$ROOT/tests/dns/run-unbound.sh" start \
    "$D/dns" "$DNSPORT" >"$D/unbound.out" 2>&1; then
	echo "note: unbound did not restart, DNS case skipped"
	UNBOUND=
	sed -i '/^dns-forwarder/d; $a dns no' "$D/arc.conf"
fi

# ---- smtpd --------------------------------------------------------------------

PORT=$(free_port 26000)
mkdir -p "$D/out" "$D/ns/run" "$D/ns/spool" /var/spool/smtpd
chmod 0711 "$D/ns/spool"	# smtpd insists on 0711 for its spool root
chown nobody:nogroup "$D/out"
cat >"$D/smtpd.conf" <<EOF
filter "arc" proc-exec "$D/filter-arc -c $D/arc.conf" user opensmtpd
listen on socket filter "arc"
listen on 127.0.0.1 port $PORT hostname mx.example filter "arc"
table catchall { "@" = "nobody" }
action "deliver" maildir "$D/out/maildir" virtual <catchall> user nobody
match from any for any action "deliver"
EOF
if ! "$SMTPD" -n -f "$D/smtpd.conf" >"$D/smtpd-n.out" 2>&1; then
	fail "smtpd -n: $(cat "$D/smtpd-n.out")"
else
	# smtpd hard-codes /var/spool/smtpd and /run/smtpd.sock: private
	# copies in a mount namespace let it run beside any other smtpd
	# and its own resolv.conf: the host's nameserver may be
	# unreachable here, and smtpd's resolver (libasr) asks DNS before
	# /etc/hosts for the name of each connecting client, so a session
	# could stall for the client's whole timeout before its banner;
	# "lookup file" answers 127.0.0.1 from /etc/hosts at once
	printf 'lookup file\n' >"$D/ns/resolv.conf"
	unshare -m --propagation private /bin/sh -c '
	    mount --bind "$1/ns/run" /run &&
	    mount --bind "$1/ns/spool" /var/spool/smtpd &&
	    mount --bind "$1/ns/resolv.conf" /etc/resolv.conf &&
	    exec "$2" -d -f "$1/smtpd.conf"' sh "$D" "$SMTPD" \
	    >"$D/smtpd.log" 2>&1 &
	SMTPD_PID=$!
	# ready = the 220 banner, sent once filter-arc has registered
	if $PY - "$PORT" <<'EOF'
import socket, sys, time
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5)
        s.settimeout(5)
        if s.recv(512).startswith(b'220'):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit(1)
EOF
	then
		pass "smtpd with filter-arc answers with a 220 banner"
		helper smtp "$PORT" "$D" "${UNBOUND:-0}"
		# local submission (sendmail -> smtpctl -> the socket, in
		# smtpd's mount namespace) goes through the filter too
		printf 'From: local@mx.example\nTo: rcpt@dest.example\nSubject: local\nDate: %s\nMessage-ID: <local-1@mx.example>\nX-Test-Id: local-socket\n\nsubmitted locally\n' \
		    "$(date -R)" >"$D/local.eml"
		if nsenter -t "$SMTPD_PID" -m -- \
		    /opt/opensmtpd/usr/sbin/sendmail -f local@mx.example \
		    rcpt@dest.example <"$D/local.eml" >"$D/local.out" 2>&1; then
			helper local "$D"
		else
			fail "sendmail through the socket: $(cat "$D/local.out")"
		fi
		[ -n "$UNBOUND" ] ||
		    echo "SKIP: DNS timeout case (no unbound)"
		if kill -0 "$SMTPD_PID" 2>/dev/null; then
			pass "smtpd and filter-arc still running after all cases"
		else
			fail "smtpd died (filter-arc exited?)"
		fi
	else
		fail "no 220 banner on port $PORT"
	fi
	cleanup
	# the filter ignores SIGTERM: it must still end with smtpd (its
	# input closes), leaving no orphan behind
	left=1
	for i in $(seq 1 100); do
		left=0
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/exe" 2>/dev/null)" = "$D/filter-arc" ] &&
			    left=1
		done
		[ $left = 0 ] && break
		sleep 0.05
	done
	if [ $left = 0 ]; then
		pass "smtpd stopped by SIGTERM: filter-arc ended with it"
	else
		fail "filter-arc still running 5 s after smtpd stopped"
	fi
	if grep -Ei 'sanitizer|runtime error|lost processor|fatal' \
	    "$D/smtpd.log" >/dev/null; then
		fail "smtpd log shows a crash: $(grep -Ei \
		    'sanitizer|runtime error|lost processor|fatal' \
		    "$D/smtpd.log" | head -3)"
	fi
fi

cleanup
passed=$(grep -c '^PASS' "$RESULTS" 2>/dev/null || true)
failed=$(grep -c '^FAIL' "$RESULTS" 2>/dev/null || true)
if [ "${failed:-0}" -ne 0 ] || [ "${KEEP:-0}" = 1 ]; then
	echo "work directory kept: $D (smtpd.log has filter-arc's log)"
else
	rm -rf "$D"
fi
echo "opensmtpd-e2e: ${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
