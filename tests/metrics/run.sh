#!/bin/bash
# run.sh - metrics end to end: arc-milter driven by miltertest with n
# plain, p upstream-sealed, k tampered messages and one whose key lookup
# times out against a resolver that never answers; then the counts in
# its metrics file (arctool stats --json), on its HTTP port, and as
# node_exporter's textfile collector serves them, must match what was
# sent, and promtool must accept the exposition.
#
# Contract:
#   tests/metrics/run.sh BUILD_DIR     (make metrics-check, which holds
#                                       flock /tmp/arc-e2e.lock)
#  - Offline, everything on 127.0.0.1, in a temporary directory removed
#    on exit (KEEP=1 keeps it); every daemon is a child of this script,
#    stopped by its PID.
#  - Installs what it needs if missing (miltertest, prometheus for
#    promtool, prometheus-node-exporter) with apt-get, as root.
#  - One line per check, PASS or FAIL; last line "metrics-check: N
#    passed, M failed"; exit 1 if M > 0.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
B=${1:?usage: run.sh BUILD_DIR}
MILTER=$B/arc-milter
ARCTOOL=$B/arctool
PY=/usr/bin/python3
SEND=$here/../milter/send.lua

die() { echo "metrics-check: $*" >&2; exit 2; }
[ -x "$MILTER" ] && [ -x "$ARCTOOL" ] || die "build $B/arc-milter and $B/arctool first"
need=
command -v miltertest >/dev/null || need="$need miltertest"
command -v promtool >/dev/null || need="$need prometheus"
command -v prometheus-node-exporter >/dev/null || need="$need prometheus-node-exporter"
if [ -n "$need" ]; then
	[ "$(id -u)" = 0 ] || die "needs:$need (apt-get install as root)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $need >/dev/null || die "apt-get install$need failed"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/arc-metrics.XXXXXX") || die "mktemp failed"
chmod 755 "$T"
PIDS=
cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npass=0
nfail=0
check() {
	local name=$1
	shift
	if "$@"; then npass=$((npass + 1)); echo "PASS $name"
	else nfail=$((nfail + 1)); echo "FAIL $name"; fi
}
# free TCP/UDP port on 127.0.0.1
port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- keys, messages ------------------------------------------------------------

"$ARCTOOL" keygen --domain seal.example --selector m1 --out "$T/m1.pem" \
    >"$T/m1.zone" || die "keygen failed"
"$ARCTOOL" keygen --domain up.example --selector u1 --out "$T/u1.pem" \
    >"$T/u1.zone" || die "keygen failed"
cat "$T/m1.zone" "$T/u1.zone" >"$T/keys"
cat >"$T/plain.eml" <<'EOF'
From: Alice <alice@origin.example>
To: Bob <bob@test.example>
Subject: metrics end to end
Date: Mon, 01 Jan 2024 00:00:00 +0000
Message-ID: <metrics-1@origin.example>

Hello Bob,
this body line is signed.
EOF
"$ARCTOOL" seal --keys "$T/keys" --domain up.example --selector u1 \
    --key "$T/u1.pem" --authserv-id mx.up.example "$T/plain.eml" \
    >"$T/hop1.eml" || die "seal failed"
sed 's/this body line is signed\./this body line is signeD./' \
    "$T/hop1.eml" >"$T/tampered.eml"
# sealed by a domain only DNS could know
"$ARCTOOL" seal --keys "$T/keys" --domain nodns.example --selector u1 \
    --key "$T/u1.pem" --authserv-id mx.up.example "$T/plain.eml" \
    >"$T/nodns.eml" || die "seal failed"

# a resolver that never answers: a bound UDP socket nobody reads
DNSPORT=$(port)
"$PY" -c 'import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1]))); time.sleep(600)' "$DNSPORT" &
PIDS="$PIDS $!"

mkdir "$T/prom"
HTTPPORT=$(port)
cat >"$T/arc.conf" <<EOF
authserv-id mx.test.example
key-table $T/keys
dns-forwarder 127.0.0.1@$DNSPORT
dns-timeout 500
seal-domain seal.example
seal-selector m1
seal-key $T/m1.pem
metrics-file $T/prom/arc.prom
metrics-interval 1
metrics-listen 127.0.0.1:$HTTPPORT
EOF

"$MILTER" -f -c "$T/arc.conf" -p "unix:$T/m.sock" 2>"$T/milter.log" &
MPID=$!
PIDS="$PIDS $MPID"
for _ in $(seq 1 100); do [ -S "$T/m.sock" ] && break; sleep 0.05; done
[ -S "$T/m.sock" ] || die "arc-milter did not start: $(cat "$T/milter.log")"
check "the metrics file exists at start" test -s "$T/prom/arc.prom"

N=5 P=4 K=3
mt() {
	miltertest -D "SOCK=unix:$T/m.sock" -D "MSG=$1" -D "COUNT=$2" \
	    -s "$SEND" >>"$T/mt.log" 2>&1
}
mt "$T/plain.eml" $N
mt "$T/hop1.eml" $P
mt "$T/tampered.eml" $K
mt "$T/nodns.eml" 1
sleep 2.5		# metrics-interval 1: written since

# ---- the file ----------------------------------------------------------------------

"$ARCTOOL" stats --json "$T/prom/arc.prom" >"$T/stats.json" 2>"$T/stats.err"
check "arctool stats reads the file" test -s "$T/stats.json"
jv() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$T/stats.json" "$1"; }
eq() { local got; got=$(jv "$1"); [ "$got" = "$2" ] || { echo "  $1 = $got, want $2" >&2; return 1; }; }
check "cv=none: the $N plain messages" eq 'd["counters"]["cv_none"]' $N
check "cv=pass: the $P sealed upstream" eq 'd["counters"]["cv_pass"]' $P
check "cv=fail: $K tampered + 1 DNS timeout" eq 'd["counters"]["cv_fail"]' $((K + 1))
check "fail kind body_hash: $K" eq 'd["counters"]["fail_body_hash"]' $K
check "fail kind dns_timeout: 1" eq 'd["counters"]["fail_dns_timeout"]' 1
check "dns timeouts: 1" eq 'd["counters"]["dns_timeouts"]' 1
check "dns queries: 1 (the rest from the key table)" eq 'd["counters"]["dns_queries"]' 1
# sealed: plain, pass and fail chains; the temporary failure is held back
check "sealed: $N + $P + $K" eq 'd["counters"]["sealed"]' $((N + P + K))
check "chains of one set that passed: $P" eq 'd["chain_length_pass"]["buckets"][1][1]' $P
check "oldest-pass 0: $P" eq 'd["oldest_pass"]["buckets"][0][1]' $P
check "verify timed for every message" eq 'd["verify_seconds"]["count"]' $((N + P + K + 1))
check "top sealer up.example" eq 'd["top_sealers"][0]["domain"]' up.example
check "no internal errors" eq 'd["counters"]["internal_errors"]' 0
check "promtool check metrics accepts the file" \
    eval 'promtool check metrics <"$T/prom/arc.prom" >"$T/promtool.out" 2>&1'
check "no address or recipient in the file" \
    eval '! grep -E "@|origin\.example|test\.example" "$T/prom/arc.prom"'
"$ARCTOOL" stats "$T/prom/arc.prom" >"$T/stats.txt" 2>&1
check "arctool stats summary" grep -q "messages               $((N + P + K + 1)) verified" "$T/stats.txt"

# ---- HTTP -----------------------------------------------------------------------------

"$PY" - "$HTTPPORT" "$T/http.prom" <<'EOF'
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5)
open(sys.argv[2], "wb").write(r.read())
EOF
check "metrics-listen serves the same counts" \
    eval '"$ARCTOOL" stats --json "$T/http.prom" | grep -q "\"cv_pass\": $P,"'

# ---- node_exporter's textfile collector -----------------------------------------------

NEPORT=$(port)
prometheus-node-exporter --collector.disable-defaults --collector.textfile \
    --collector.textfile.directory="$T/prom" \
    --web.listen-address="127.0.0.1:$NEPORT" 2>"$T/ne.log" &
PIDS="$PIDS $!"
ok=0
for _ in $(seq 1 50); do
	if "$PY" - "$NEPORT" "$T/ne.out" <<'EOF' 2>/dev/null
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=2)
open(sys.argv[2], "wb").write(r.read())
EOF
	then ok=1; break; fi
	sleep 0.1
done
check "node_exporter serves arc_messages_total{cv=\"pass\"} $P" \
    eval '[ $ok = 1 ] && grep -q "^arc_messages_total{cv=\"pass\"} $P\$" "$T/ne.out"'
check "node_exporter reports no textfile error" \
    eval 'grep -q "^node_textfile_scrape_error 0" "$T/ne.out"'

kill "$MPID"
wait "$MPID"
check "arc-milter stopped cleanly" test $? -eq 0

# ---- Exim: short-lived processes adding up in one file ----------------------

MOD=$B/exim_arc.so
if [ -x /usr/sbin/exim4 ] && [ -r "$MOD" ] && id Debian-exim >/dev/null 2>&1; then
	E=$T/exim
	mkdir -p "$E/spool" "$E/log" "$E/mod" "$E/prom"
	cp "$MOD" "$E/mod/"
	cp "$T/keys" "$T/m1.pem" "$E/"
	chown Debian-exim "$E/prom" "$E/spool" "$E/log"
	chown root:Debian-exim "$E/m1.pem"
	chmod 640 "$E/m1.pem"
	chmod 755 "$E" "$E/mod"
	printf '%s\n' "authserv-id mx.test.example" "key-table $E/keys" \
	    "dns no" "seal-domain seal.example" "seal-selector m1" \
	    "seal-key $E/m1.pem" "metrics-file $E/prom/arc.prom" \
	    "metrics-interval 0" >"$E/arc.conf"
	printf '%s\n' "primary_hostname = mx.test.example" \
	    "qualify_domain = test.example" "spool_directory = $E/spool" \
	    "log_file_path = $E/log/%slog" "host_lookup =" "rfc1413_hosts =" \
	    "tls_advertise_hosts =" "never_users = root" \
	    "deliver_drop_privilege = true" "keep_environment =" \
	    "acl_smtp_rcpt = acl_check_rcpt" "acl_smtp_data = acl_check_data" \
	    "begin acl" "acl_check_rcpt:" "  accept" "acl_check_data:" \
	    "  warn" \
	    "    add_header = \${dlfunc{$E/mod/exim_arc.so}{arc_seal}{conf=$E/arc.conf}}" \
	    "  accept" "begin routers" "all:" "  driver = accept" \
	    "  transport = t" "begin transports" "t:" "  driver = appendfile" \
	    "  file = /dev/null" "  user = Debian-exim" >"$E/exim.conf"
	chmod 644 "$E/exim.conf" "$E/arc.conf" "$E/keys"
	# exim -bs: one process per "connection", gone after QUIT
	bs() {	# bs OUT MSG...: one SMTP session with these messages
		local out=$1 m
		shift
		{
			echo "EHLO client.example"
			for m in "$@"; do
				echo "MAIL FROM:<a@origin.example>"
				echo "RCPT TO:<b@test.example>"
				echo "DATA"
				sed 's/^\./../' "$m"
				echo "."
			done
			echo "QUIT"
		} | exim4 -C "$E/exim.conf" -bs -odq -oMa 192.0.2.9 \
		    >"$E/$out" 2>&1
	}
	bs bs1 "$T/plain.eml" "$T/plain.eml"
	bs bs2 "$T/hop1.eml" "$T/tampered.eml"
	bs bs3 "$T/plain.eml"
	check "exim: 5 messages accepted by 3 processes" \
	    eval '[ "$(cat "$E"/bs? | grep -c "^250 OK id=")" = 5 ]'
	"$ARCTOOL" stats --json "$E/prom/arc.prom" >"$T/stats.json" 2>&1
	check "exim: the merged file says cv=none 3" eq 'd["counters"]["cv_none"]' 3
	check "exim: cv=pass 1" eq 'd["counters"]["cv_pass"]' 1
	check "exim: cv=fail 1" eq 'd["counters"]["cv_fail"]' 1
	check "exim: sealed 5" eq 'd["counters"]["sealed"]' 5
	check "exim: promtool accepts the merged file" \
	    eval 'promtool check metrics <"$E/prom/arc.prom" >/dev/null 2>&1'
else
	echo "SKIP exim: no exim4, $MOD or user Debian-exim"
fi
echo "metrics-check: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
