#!/bin/bash
# run.sh - arc-milter driven by Debian's miltertest, then its output
# checked by dkimpy and arctool, then (postfix.sh) a real Postfix.
#
# Contract:
#   tests/milter/run.sh [ARC_MILTER [ARCTOOL]]   (default: build/ of this tree)
#  - Offline: keys come from a key table in a temporary directory
#    (removed on exit); one case serves them from a private unbound on
#    127.0.0.1 (tests/dns/run-unbound.sh) to exercise asynchronous
#    lookups.  Every daemon started is a child of this script, stopped
#    by its PID.
#  - miltertest drives the milter with tests/milter/send.lua: connect
#    (IPv4 or IPv6), HELO, MAIL, RCPT, header fields, EOH, body, EOM, and
#    checks with mt.eom_check() which fields were inserted at index 0;
#    the insertion order is read from miltertest -vv.  send.lua writes
#    the message as delivered, which dkimpy (tests/interop/dkimpy_peer.py,
#    /usr/bin/python3) and arctool verify must find to pass.
#  - One line per case, PASS or FAIL (SKIP for the Postfix part when
#    Postfix cannot run here, with the reason); last line
#    "milter-check: N passed, M failed"; exit 1 if M > 0.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MILTER=${1:-$here/../../build/arc-milter}
ARCTOOL=${2:-$here/../../build/arctool}
case $MILTER in /*) ;; *) MILTER=$PWD/$MILTER ;; esac
case $ARCTOOL in /*) ;; *) ARCTOOL=$PWD/$ARCTOOL ;; esac
PY=/usr/bin/python3
PYPEER=$here/../interop/dkimpy_peer.py
UNBOUND=$here/../dns/run-unbound.sh

die() {
	echo "milter-check: $*" >&2
	exit 2
}
[ -x "$MILTER" ] || die "no $MILTER (make build/arc-milter)"
[ -x "$ARCTOOL" ] || die "no $ARCTOOL (make build/arctool)"
command -v miltertest >/dev/null || die "miltertest missing (apt-get install miltertest)"
"$PY" -c 'import dkim' 2>/dev/null || die "dkimpy missing (apt-get install python3-dkim)"

T=$(mktemp -d "${TMPDIR:-/tmp}/arc-milter.XXXXXX") || die "mktemp failed"
chmod 755 "$T"
MPIDS=
cleanup() {
	stop_milters
	sh "$UNBOUND" stop "$T/dns" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
check() {	# check NAME COMMAND...: PASS if the command succeeds
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# ---- keys, configurations, messages ----------------------------------------

"$ARCTOOL" keygen --domain seal.example --selector m1 --out "$T/m1.pem" \
    >"$T/m1.zone" || die "arctool keygen failed"
"$ARCTOOL" keygen --domain up.example --selector u1 --out "$T/u1.pem" \
    >"$T/u1.zone" || die "arctool keygen failed"
# zone lines "sel._domainkey.dom. IN TXT ..." are key table lines too
cat "$T/m1.zone" "$T/u1.zone" >"$T/keys"

base="authserv-id mx.test.example
dns no
key-table $T/keys"
seal="seal-domain seal.example
seal-selector m1
seal-key $T/m1.pem"
printf '%s\n' "$base" >"$T/verify.conf"
printf '%s\n%s\n' "$base" "$seal" >"$T/seal.conf"
printf '%s\n%s\non-fail reject\n' "$base" "$seal" >"$T/reject.conf"

cat >"$T/plain.eml" <<'EOF'
From: Alice <alice@origin.example>
To: Bob <bob@test.example>
Subject: a subject long enough to be
 folded over two lines
Date: Mon, 01 Jan 2024 00:00:00 +0000
Message-ID: <milter-1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this body line is signed.
EOF
# one hop upstream, sealed by arctool with the up.example key
"$ARCTOOL" seal --keys "$T/keys" --domain up.example --selector u1 \
    --key "$T/u1.pem" --authserv-id mx.up.example "$T/plain.eml" \
    >"$T/hop1.eml" || die "arctool seal failed"
sed 's/this body line is signed\./this body line is signeD./' \
    "$T/hop1.eml" >"$T/tampered.eml"

# ---- helpers ----------------------------------------------------------------

# start_milter NAME CONF: arc-milter in the foreground on $T/NAME.sock.
# Milters are only stopped together at the end: libmilter takes up to
# 5 s to notice SIGTERM, so each stop costs that once.
start_milter() {
	rm -f "$T/$1.sock"
	"$MILTER" -f -c "$2" -p "unix:$T/$1.sock" 2>>"$T/milter.log" &
	MPIDS="$MPIDS $!"
	for _ in $(seq 1 100); do
		[ -S "$T/$1.sock" ] && return 0
		sleep 0.05
	done
	fail "arc-milter did not create its socket with $2"
	return 1
}

stop_milters() {	# returns 1 if one did not exit 0
	local p rc=0
	for p in $MPIDS; do kill "$p" 2>/dev/null; done
	for p in $MPIDS; do wait "$p" || rc=1; done
	MPIDS=
	return $rc
}

# mt NAME MSG [-D VAR=value ...]: one miltertest run against the milter
# named by $MS, output in $T/NAME.*
mt() {
	local name=$1 msg=$2
	shift 2
	miltertest -vv -D "SOCK=unix:$T/$MS.sock" -D "MSG=$msg" \
	    -D "OUT=$T/$name.out" "$@" -s "$here/send.lua" >"$T/$name.log" 2>&1
}

# fields NAME: the inserted field names, in send.lua's (top-down) order
fields() { awk '$1 == "ins" { printf "%s ", $2 }' "$T/$1.log"; }
# at0 NAME: every inserted field was inserted at index 0
at0() { ! awk '$1 == "ins" { print $3 }' "$T/$1.log" | grep -v '^true$' >/dev/null; }
reply() { awk '$1 == "reply" { print $2; exit }' "$T/$1.log"; }
value() { awk -v n="$2" '$1 == "value" && $2 == n { sub(/^value [^ ]* /, ""); print; exit }' "$T/$1.log"; }
# order NAME: the fields went out in the order A-R, AAR, AMS, AS (each
# insert at 0 lands on top), checked against the packet lengths miltertest
# -vv logs for SMFIR_INSHEADER ('i')
order() {
	local want got
	want=$(awk '$1 == "ins" { l[n++] = $4 } END { for (i = n - 1; i >= 0; i--) printf "%s ", l[i] }' "$T/$1.log")
	got=$(sed -n 's/.*mt_milter_read([0-9]*): cmd i, len \([0-9]*\).*/\1/p' "$T/$1.log" | tr '\n' ' ')
	[ -n "$want" ] && [ "$want" = "$got" ]
}
v_dkimpy() { "$PY" "$PYPEER" verify "$T/keys" "$1" >"$1.dkimpy" 2>&1; }
v_arctool() {
	"$ARCTOOL" verify --no-dns --keys "$T/keys" "$1" >"$1.arctool" 2>&1
}
# the descriptors of process $1 above 2 all have O_CLOEXEC (02000000)
all_cloexec() {
	local f n fl bad=
	[ -d "/proc/$1" ] || return 1
	for f in /proc/"$1"/fdinfo/*; do
		n=${f##*/}
		[ "$n" -le 2 ] && continue
		fl=$(awk '$1 == "flags:" { print $2 }' "$f" 2>/dev/null) || continue
		[ -n "$fl" ] || continue
		[ $(( 0$fl & 02000000 )) -ne 0 ] || bad="$bad $n"
	done
	[ -z "$bad" ] || { echo "not close-on-exec:$bad" >&2; return 1; }
}
has() { grep -F -- "$2" "$1" >/dev/null; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# shellcheck disable=SC2034 # used by the eval'd checks
ALL4="ARC-Seal ARC-Message-Signature ARC-Authentication-Results Authentication-Results "

# ---- 1. verify only ------------------------------------------------------------

start_milter verify "$T/verify.conf"
MS=verify
mt verify "$T/plain.eml"
check "1 verify-only: plain message accepted" [ "$(reply verify)" = a ]
check "1 verify-only: only Authentication-Results inserted, at index 0" \
    eval '[ "$(fields verify)" = "Authentication-Results " ] && at0 verify'
check "1 verify-only: A-R says arc=none with the client IP" \
    eval 'contains "$(value verify Authentication-Results)" "mx.test.example; arc=none smtp.remote-ip=192.0.2.7"'
mt verify-hop1 "$T/hop1.eml"
check "1 verify-only: an arctool-sealed hop verifies arc=pass" \
    eval 'contains "$(value verify-hop1 Authentication-Results)" "arc=pass"'

# ---- 2. sealing ------------------------------------------------------------------

start_milter seal "$T/seal.conf"
MS=seal
mt seal "$T/plain.eml"
check "2 seal: plain message accepted" [ "$(reply seal)" = a ]
check "2 seal: AS, AMS, AAR, A-R inserted, each at index 0" \
    eval '[ "$(fields seal)" = "$ALL4" ] && at0 seal'
check "2 seal: inserted last-first (A-R, AAR, AMS, AS) so AS ends on top" \
    order seal
check "2 seal: ARC-Seal i=1 cv=none by seal.example" \
    eval 'v=$(value seal ARC-Seal); contains "$v" "i=1;" && contains "$v" "cv=none" && contains "$v" "d=seal.example"'
check "2 seal: output verifies with dkimpy" v_dkimpy "$T/seal.out"
check "2 seal: output verifies with arctool" \
    eval 'v_arctool "$T/seal.out" && has "$T/seal.out.arctool" "set i=1 cv=none"'

mt seal-lf "$T/plain.eml" -D FOLD=lf
check "2 seal: folding sent as LF (not CRLF) still verifies (dkimpy)" \
    v_dkimpy "$T/seal-lf.out"
check "2 seal: folding sent as LF still verifies (arctool)" \
    v_arctool "$T/seal-lf.out"
mt seal-nolead "$T/plain.eml" -D LEADSPC=no
check "2 seal: without SMFIP_HDR_LEADSPC values lose their leading space" \
    eval 'v=$(value seal-nolead ARC-Seal); [ "${v#i=1;}" != "$v" ]'
check "2 seal: without SMFIP_HDR_LEADSPC output verifies (dkimpy)" \
    v_dkimpy "$T/seal-nolead.out"
check "2 seal: without SMFIP_HDR_LEADSPC output verifies (arctool)" \
    v_arctool "$T/seal-nolead.out"
mt seal-v6 "$T/plain.eml" -D IP=2001:db8::25
check "2 seal: IPv6 client in A-R and AAR" \
    eval 'contains "$(value seal-v6 Authentication-Results)" "2001:db8::25" && contains "$(value seal-v6 ARC-Authentication-Results)" "2001:db8::25"'

# issue 12: none of the fields the AMS signs (h= was read from an
# unterminated buffer: heap bytes in the header, the ASan build aborted)
printf 'X-Only: y\n\nbody\n' >"$T/xonly.eml"
mt xonly "$T/xonly.eml"
check "2 seal: no field the AMS signs: sealed with h=from, verifies (dkimpy, arctool)" \
    eval '[ "$(reply xonly)" = a ] && contains "$(value xonly ARC-Message-Signature)" "h=from;" && v_dkimpy "$T/xonly.out" && v_arctool "$T/xonly.out"'

# ---- 3. second hop on an existing chain ------------------------------------------

mt hop2 "$T/hop1.eml"
check "3 hop 2: A-R arc=pass, ARC-Seal i=2 cv=pass" \
    eval 'contains "$(value hop2 Authentication-Results)" "arc=pass" && v=$(value hop2 ARC-Seal) && contains "$v" "i=2;" && contains "$v" "cv=pass"'
check "3 hop 2: inserted at 0, last first" \
    eval 'at0 hop2 && order hop2'
check "3 hop 2: two-hop output verifies with dkimpy" v_dkimpy "$T/hop2.out"
check "3 hop 2: two-hop output verifies with arctool" \
    eval 'v_arctool "$T/hop2.out" && has "$T/hop2.out.arctool" "set i=2 cv=pass"'

# ---- 4. broken chains -------------------------------------------------------------

mt tampered "$T/tampered.eml"
check "4 tampered: accepted (on-fail accept), A-R arc=fail" \
    eval '[ "$(reply tampered)" = a ] && contains "$(value tampered Authentication-Results)" "arc=fail"'
start_milter reject "$T/reject.conf"
MS=reject
mt reject "$T/tampered.eml" -D "REPLY=550 5.7.29 ARC validation failure"
check "4 on-fail reject: 550 5.7.29 reply, nothing inserted" \
    eval '[ "$(reply reject)" = y ] && grep "^smtpreply true" "$T/reject.log" >/dev/null && [ -z "$(fields reject)" ]'
mt reject-good "$T/hop1.eml"
check "4 on-fail reject: a good chain is still accepted and sealed" \
    eval '[ "$(reply reject-good)" = a ] && [ "$(fields reject-good)" = "$ALL4" ]'

# ---- 5. connection life -------------------------------------------------------------

MS=seal
mt multi "$T/plain.eml" -D ABORT=1 -D COUNT=3 -D QID=MULTI
check "5 abort, then 3 messages on one connection: each accepted and sealed" \
    eval '[ "$(grep -c "^reply a" "$T/multi.log")" = 3 ] && [ "$(grep -c "^ins ARC-Seal true" "$T/multi.log")" = 3 ]'
qids_logged() {
	for i in 1 2 3; do
		grep "id=MULTI$i cv=none" "$T/milter.log" >/dev/null || return 1
	done
}
check "5 queue ids (macro i) name the messages in the log" qids_logged

# many clients at once: the adapter is shared under one lock
for i in $(seq 1 8); do
	mt "par$i" "$T/hop1.eml" -D COUNT=5 -D "QID=P$i" &
done
wait_ok=1
for job in $(jobs -p); do
	case " $MPIDS " in *" $job "*) continue ;; esac
	wait "$job" || wait_ok=0
done
all_sealed() {
	[ $wait_ok = 1 ] || return 1
	for i in $(seq 1 8); do
		[ "$(grep -c '^value ARC-Seal *i=2;.*cv=pass' "$T/par$i.log")" = 5 ] ||
		    return 1
	done
}
check "5 8 clients x 5 messages in parallel: all sealed i=2 cv=pass" all_sealed
check "5 parallel: first message of a client verifies (arctool)" \
    v_arctool "$T/par8.out"
alive() { for p in $MPIDS; do kill -0 "$p" || return 1; done; }
check "5 every arc-milter still running, no error logged" \
    eval 'alive && ! grep -i -E "error|cannot|failed" "$T/milter.log" >/dev/null'

# ---- 6. keys over DNS (asynchronous lookups) --------------------------------------

if command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ]; then
	mkdir -p "$T/dns"
	port=$((20000 + $$ % 20000))
	"$ARCTOOL" keygen --domain slow.example --selector s3 \
	    --out "$T/slow.pem" >/dev/null
	"$ARCTOOL" seal --keys "$T/keys" --domain slow.example --selector s3 \
	    --key "$T/slow.pem" --authserv-id mx.slow.example \
	    "$T/plain.eml" >"$T/slow.eml" 2>/dev/null
	# up.example's key as unbound local-data (zone example.)
	sed 's/^\([^ ]*\) IN TXT \(.*\)$/local-data: "\1 300 IN TXT \2"/' \
	    "$T/u1.zone" | sed "s/\"\\([^\"]*\\) 300 IN TXT /'\\1 300 IN TXT /; s/\"\$/'/" \
	    >"$T/dns/keys.conf"
	if sh "$UNBOUND" start "$T/dns" "$port" >/dev/null 2>&1; then
		cat >"$T/dns.conf" <<EOF
authserv-id mx.test.example
dns-forwarder 127.0.0.1@$port
dns-timeout 2000
$seal
key-table $T/m1.zone
EOF
		start_milter dns "$T/dns.conf"
		MS=dns
		# a lookup that never answers, and meanwhile a normal one
		mt slow "$T/slow.eml" -D QID=SLOW &
		slowpid=$!
		sleep 0.3
		t0=$(date +%s%N)
		mt dns "$T/hop1.eml" -D QID=DNS
		t1=$(date +%s%N)
		wait "$slowpid"
		check "6 DNS: key from unbound, A-R arc=pass, sealed i=2" \
		    eval 'contains "$(value dns Authentication-Results)" "arc=pass" && contains "$(value dns ARC-Seal)" "i=2;"'
		check "6 DNS: a lookup that hangs does not hold up other messages ($(( (t1 - t0) / 1000000 )) ms)" \
		    [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]
		check "6 DNS: the hung lookup ends in arc=fail, message accepted" \
		    eval '[ "$(reply slow)" = a ] && contains "$(value slow Authentication-Results)" "arc=fail"'
		sleep 1.2	# libunbound's sockets are marked each second
		check "6 DNS: every descriptor above 2 is close-on-exec (libunbound's too)" \
		    all_cloexec "${MPIDS##* }"
	else
		fail "6 DNS: private unbound did not start"
	fi
else
	fail "6 DNS: unbound not installed (apt-get install unbound)"
fi

# ---- 9. signals, reload, configuration checks -----------------------------

wait_file() { for _ in $(seq 1 200); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
# wait_log PATTERN: until the milter log has a line matching it
wait_log() {
	for _ in $(seq 1 100); do
		grep -E -- "$1" "$T/milter.log" >/dev/null && return 0
		sleep 0.05
	done
	return 1
}

"$ARCTOOL" keygen --domain seal.example --selector m2 --out "$T/m2.pem" \
    >"$T/m2.zone" || die "arctool keygen failed"
cat "$T/m2.zone" >>"$T/keys"
sealm2="seal-domain seal.example
seal-selector m2
seal-key $T/m2.pem"
printf '%s\n%s\n' "$base" "$seal" >"$T/reload.conf"
start_milter reload "$T/reload.conf"
RPID=${MPIDS##* }
MS=reload
for s in HUP USR1 USR2 PIPE HUP; do
	kill -s "$s" "$RPID"
	sleep 0.1
done
check "9 signals: HUP, USR1, USR2, PIPE, HUP again: arc-milter still runs" \
    kill -0 "$RPID"
check "9 signals: each HUP and USR1 logged a reload (generation 4)" \
    wait_log "reload \(SIGHUP\): configuration reloaded, generation=4"
check "9 signals: USR2 logs a status line" \
    wait_log "status: connections=0 generation=[0-9]"
check "9 descriptors: every descriptor above 2 is close-on-exec" \
    all_cloexec "$RPID"

# message 1 of a connection is in flight (after EOH) when the reload to
# selector m2 comes; message 2 of the same connection starts after it
rm -f "$T/pause.on" "$T/pause.go"
mt inflight "$T/plain.eml" -D COUNT=2 -D "PAUSE=$T/pause" -D QID=INFL &
inflight=$!
if wait_file "$T/pause.on"; then
	printf '%s\n%s\n' "$base" "$sealm2" >"$T/reload.conf"
	kill -HUP "$RPID"
	wait_log "generation=5" || echo "no reload to generation 5 logged" >&2
fi
touch "$T/pause.go"
wait "$inflight"
seals() { awk '$1 == "value" && $2 == "ARC-Seal" { print }' "$T/$1.log"; }
check "9 reload: the connection survived, both messages accepted" \
    eval '[ "$(grep -c "^reply a" "$T/inflight.log")" = 2 ]'
check "9 reload: the message in flight during the reload sealed with the old key (s=m1)" \
    eval 'seals inflight | sed -n 1p | grep -F "s=m1;" >/dev/null'
check "9 reload: the next message on that connection sealed with the new key (s=m2)" \
    eval 'seals inflight | sed -n 2p | grep -F "s=m2;" >/dev/null'
check "9 reload: the in-flight message verifies (arctool, both selectors in the key table)" \
    v_arctool "$T/inflight.out"
mt after "$T/plain.eml"
check "9 reload: a new connection is sealed s=m2 and verifies (dkimpy, arctool)" \
    eval 'contains "$(value after ARC-Seal)" "s=m2;" && v_dkimpy "$T/after.out" && v_arctool "$T/after.out"'

# a bad configuration: the old one keeps running, the log says why
printf '%s\nseal-domain seal.example\nseal-selector m3\nseal-key %s\n' \
    "$base" "$T/missing.pem" >"$T/reload.conf"
kill -HUP "$RPID"
check "9 reload: a missing key is refused with file:line and the reason" \
    wait_log "reload \(SIGHUP\) failed, the running configuration stays: $T/reload.conf:6: seal-key $T/missing.pem: No such file"
printf 'dns-timeout 99999999999\n' >"$T/reload.conf"
kill -USR1 "$RPID"
check "9 reload: an out-of-range number is refused with file:line" \
    wait_log "failed, the running configuration stays: $T/reload.conf:1: invalid value \"99999999999\" for dns-timeout"
mt bad "$T/plain.eml"
check "9 reload: after the refused reloads mail is still sealed with m2" \
    eval '[ "$(reply bad)" = a ] && contains "$(value bad ARC-Seal)" "s=m2;"'
kill -TERM "$RPID"
t0=$(date +%s)
wait "$RPID"
rc=$?
MPIDS=$(echo "$MPIDS" | sed "s/ $RPID\b//")
check "9 signals: TERM stops it cleanly (exit $rc, socket removed)" \
    eval '[ $rc = 0 ] && [ ! -e "$T/reload.sock" ]'

# logging: with JOURNAL_STREAM naming its stderr, lines carry "<N>"
# levels for journald; without -f it still detaches and keeps stderr
: >"$T/journal.log"
jstream=$(stat -c '%d:%i' "$T/journal.log")
JOURNAL_STREAM=$jstream "$MILTER" -c "$T/seal.conf" -p "unix:$T/j.sock" \
    -P "$T/j.pid" 2>>"$T/journal.log"
wait_file "$T/j.pid"
jpid=$(cat "$T/j.pid" 2>/dev/null)
check "9 journal: started under systemd (JOURNAL_STREAM), lines go to stderr with <6> levels" \
    eval 'sleep 0.2; grep "^<6>listening on unix:$T/j.sock" "$T/journal.log" >/dev/null'
[ -n "$jpid" ] && kill "$jpid" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$jpid" 2>/dev/null || break; sleep 0.05; done

# -n: the configuration as the user that will run it
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$T/rootonly"
	cp "$T/m1.pem" "$T/rootonly/m1.pem"
	chmod 600 "$T/rootonly/m1.pem"
	chmod 755 "$T/rootonly"
	printf '%s\nseal-domain seal.example\nseal-selector m1\nseal-key %s\n' \
	    "$base" "$T/rootonly/m1.pem" >"$T/n.conf"
	chmod 644 "$T/n.conf" "$T/keys"
	"$MILTER" -n -c "$T/n.conf" -u nobody >"$T/n1.out" 2>&1
	rc=$?
	check "9 -n -u nobody: a key only root can read fails, with file:line and path" \
	    eval '[ $rc = 1 ] && grep -F "$T/n.conf:6: seal-key $T/rootonly/m1.pem: Permission denied (checked as user nobody" "$T/n1.out" >/dev/null'
	"$MILTER" -n -c "$T/n.conf" >"$T/n2.out" 2>&1
	rc=$?
	check "9 -n as root without -u: passes and says it checked as root" \
	    eval '[ $rc = 0 ] && grep -F "checked as user root (uid 0" "$T/n2.out" >/dev/null && grep -F "give -u" "$T/n2.out" >/dev/null'
	chmod 640 "$T/rootonly/m1.pem"
	chgrp nogroup "$T/rootonly/m1.pem"
	"$MILTER" -n -c "$T/n.conf" -u nobody:nogroup >"$T/n3.out" 2>&1
	rc=$?
	check "9 -n -u nobody:nogroup: readable through the group: OK" \
	    eval '[ $rc = 0 ] && grep -F "OK (checked as user nobody" "$T/n3.out" >/dev/null'
	chmod 600 "$T/n.conf"
	"$MILTER" -n -c "$T/n.conf" -u nobody >"$T/n4.out" 2>&1
	check "9 -n -u nobody: an arc.conf only root can read fails (reloads would)" \
	    eval 'grep -F "$T/n.conf: Permission denied" "$T/n4.out" >/dev/null'
else
	echo "SKIP 9 -n as another user: needs root and user nobody"
fi

# ---- 7. shutdown -------------------------------------------------------

check "7 shutdown: SIGTERM, every arc-milter exits 0" stop_milters
check "7 shutdown: sockets removed" \
    eval '! ls "$T"/*.sock >/dev/null 2>&1'

# ---- 8. a real Postfix ------------------------------------------------------------------

if [ "${MILTER_POSTFIX:-yes}" = no ]; then
	echo "SKIP 8 postfix: MILTER_POSTFIX=no" >"$T/postfix.log"
	rc=0
else
	bash "$here/postfix.sh" "$MILTER" "$ARCTOOL" "$T" >"$T/postfix.log" 2>&1
	rc=$?
fi
grep -E '^(PASS|FAIL|SKIP) ' "$T/postfix.log"
npass=$((npass + $(grep -c '^PASS ' "$T/postfix.log")))
nfail=$((nfail + $(grep -c '^FAIL ' "$T/postfix.log")))
if [ $rc -ne 0 ] && ! grep -E '^(FAIL|SKIP) ' "$T/postfix.log" >/dev/null; then
	fail "8 postfix.sh exited $rc"
	tail -20 "$T/postfix.log"
fi

# a sanitizer build (make milter-asan-check) reports into the log
check "10 no AddressSanitizer or UBSan report in any arc-milter's log" \
    eval '! grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/milter.log" "$T/journal.log" >/dev/null'

if [ $nfail -gt 0 ]; then
	echo "--- arc-milter log:"
	tail -30 "$T/milter.log"
fi
echo "milter-check: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
