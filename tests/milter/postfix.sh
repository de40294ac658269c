#!/bin/bash
# postfix.sh - mail through a real Postfix 3.7 with arc-milter, delivered
# to a maildir, verified by dkimpy and arctool.
#
# Contract:
#   tests/milter/postfix.sh ARC_MILTER ARCTOOL DIR     (run by run.sh)
#  - DIR holds what run.sh made: m1.pem (seal.example's key), keys (key
#    table), plain.eml, hop1.eml (sealed once upstream), tampered.eml.
#  - Postfix comes from tests/milter/install-postfix.sh (/opt/postfix,
#    unpacked beside Exim; run here when missing and root).  It runs as
#    a child of this script: master -d with its own config_directory,
#    queue_directory and data_directory under a temporary directory,
#    smtpd on 127.0.0.1:PORT only, virtual(8) delivery of everything for
#    test.example into one maildir as nobody, log to stdout.
#  - arc-milter runs as user postfix (-u), so that smtpd may use the
#    socket it creates; smtpd_milters and non_smtpd_milters name it.
#  - Lines "PASS ...", "FAIL ..." or one "SKIP ..." saying why Postfix
#    cannot run here; exit 0 unless a case failed.
set -u

MILTER=$1
ARCTOOL=$2
SRC=$3
PY=/usr/bin/python3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYPEER=$here/../interop/dkimpy_peer.py
P=/opt/postfix
# a port nothing listens on (unbound, Exim and OpenSMTPD tests may run too)
PORT=${PORT:-$((25000 + $$ % 5000))}
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
	PORT=$((PORT + 1))
done

nfail=0
pass() { echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
skip() { echo "SKIP $*"; exit 0; }

if [ ! -x "$P/usr/lib/postfix/sbin/master" ] || [ ! -e /usr/lib/postfix ]; then
	[ "$(id -u)" = 0 ] || skip "8 postfix: not installed and not root"
	sh "$here/install-postfix.sh" >/dev/null ||
	    skip "8 postfix: install-postfix.sh failed (see above)"
fi
[ "$(id -u)" = 0 ] || skip "8 postfix: master(8) must start as root"
id postfix >/dev/null 2>&1 || skip "8 postfix: no user postfix"

D=$(mktemp -d "${TMPDIR:-/tmp}/arc-postfix.XXXXXX")
chmod 755 "$D"
MASTER=
MPID=
cleanup() {
	[ -n "$MASTER" ] && kill "$MASTER" 2>/dev/null && wait "$MASTER" 2>/dev/null
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && echo "kept $D" || rm -rf "$D"
}
trap cleanup EXIT

# ---- the milter, as user postfix -------------------------------------------------

mkdir -p "$D/milter"
cp "$SRC/m1.pem" "$SRC/keys" "$D/milter/"
chown -R postfix "$D/milter"
chmod 600 "$D/milter/m1.pem"
cat >"$D/arc.conf" <<EOF
authserv-id mx.test.example
dns no
key-table $D/milter/keys
seal-domain seal.example
seal-selector m1
seal-key $D/milter/m1.pem
EOF
start_milter() {
	"$MILTER" -f -c "$D/arc.conf" -u postfix -p "unix:$D/milter/arc.sock" \
	    2>>"$D/milter.log" &
	MPID=$!
	for _ in $(seq 1 100); do
		[ -S "$D/milter/arc.sock" ] && return 0
		sleep 0.05
	done
	return 1
}
start_milter || { fail "8 postfix: arc-milter did not start"; cat "$D/milter.log"; exit 1; }

# ---- Postfix -------------------------------------------------------------------------

mkdir -p "$D/conf" "$D/queue" "$D/data" "$D/mail"
cat >"$D/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/queue
data_directory = $D/data
daemon_directory = $P/usr/lib/postfix/sbin
command_directory = $P/usr/sbin
shlib_directory = $P/usr/lib/postfix
meta_directory = $P/etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = test.example
virtual_mailbox_base = $D/mail
virtual_mailbox_maps = static:bob/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = no
biff = no
maillog_file = /dev/stdout
smtpd_milters = unix:$D/milter/arc.sock
non_smtpd_milters = unix:$D/milter/arc.sock
milter_default_action = accept
EOF
cat >"$D/conf/master.cf" <<EOF
127.0.0.1:$PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
(
	cd "$D/queue" || exit 1
	for d in active bounce corrupt defer deferred flush hold incoming \
	    private saved trace maildrop; do
		mkdir -p "$d"
		chown postfix "$d"
		chmod 700 "$d"
	done
	mkdir -p public pid
	chown postfix:postdrop public maildrop
	chmod 710 public
	chmod 730 maildrop
)
chown postfix "$D/data"
chmod 700 "$D/data"
chown nobody:nogroup "$D/mail"

"$P/usr/lib/postfix/sbin/master" -c "$D/conf" -d >"$D/postfix.log" 2>&1 &
MASTER=$!
banner() {
	for _ in $(seq 1 200); do
		{ exec 3<>"/dev/tcp/127.0.0.1/$PORT" && read -r -t 5 l <&3 &&
		    exec 3<&- && [[ $l == 220* ]]; } 2>/dev/null && return 0
		kill -0 "$MASTER" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
if ! banner; then
	fail "8 postfix: no 220 banner on 127.0.0.1:$PORT"
	cat "$D/postfix.log"
	exit 1
fi
pass "8 postfix: master runs on 127.0.0.1:$PORT with smtpd_milters = unix:arc.sock"

# ---- mail ------------------------------------------------------------------------------

send() {	# send FILE...: one SMTP session, one message per file
	"$PY" - "$PORT" "$@" <<'PY'
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for path in sys.argv[2:]:
    s.sendmail('alice@origin.example', ['bob@test.example'],
               open(path, 'rb').read())
s.quit()
PY
}
delivered() {	# delivered N: wait until N messages sit in the maildir
	for _ in $(seq 1 200); do
		[ "$(find "$D/mail/bob/new" -type f 2>/dev/null | wc -l)" -ge "$1" ] &&
		    return 0
		sleep 0.05
	done
	return 1
}
# the delivered message whose Message-ID or Subject contains $1
find_msg() { grep -l -F -- "$1" "$D"/mail/bob/new/* 2>/dev/null | head -1; }

# marked copies so each delivered message can be found (hop1 stays as
# it is: its upstream signature covers the Subject)
for m in plain tampered; do
	sed "s/^Subject: /Subject: [$m] /" "$SRC/$m.eml" >"$D/$m.eml"
done

if ! send "$D/plain.eml" "$D/tampered.eml" || ! send "$SRC/hop1.eml"; then
	fail "8 postfix: SMTP transaction failed"
fi
delivered 3 || fail "8 postfix: not all 3 messages delivered"

# fields of one message, names only, in order
names() { awk '/^$/ { exit } /^[^ \t]/ { sub(/:.*/, ""); printf "%s ", $0 }' "$1"; }

m=$(find_msg "[plain]")
if [ -n "$m" ]; then
	n=$(names "$m")
	case $n in
	*"ARC-Seal ARC-Message-Signature ARC-Authentication-Results Authentication-Results Received "*)
		pass "8 postfix: plain message: AS, AMS, AAR, A-R on top of Postfix's Received" ;;
	*)	fail "8 postfix: plain message: fields in wrong order: $n" ;;
	esac
	if "$PY" "$PYPEER" verify "$SRC/keys" "$m" >"$D/v1" 2>&1; then
		pass "8 postfix: delivered plain message verifies with dkimpy"
	else
		fail "8 postfix: dkimpy: $(cat "$D/v1")"
	fi
	if "$ARCTOOL" verify --no-dns --keys "$SRC/keys" "$m" >"$D/v2" 2>&1; then
		pass "8 postfix: delivered plain message verifies with arctool"
	else
		fail "8 postfix: arctool: $(head -1 "$D/v2")"
	fi
else
	fail "8 postfix: plain message not delivered"
fi

m=$(grep -L -F -e "[plain]" -e "[tampered]" "$D"/mail/bob/new/* 2>/dev/null | head -1)
if [ -n "$m" ] && grep -E '^ARC-Seal: i=2;.*cv=pass' "$m" >/dev/null &&
    grep '^Authentication-Results: mx.test.example; arc=pass' "$m" >/dev/null &&
    "$PY" "$PYPEER" verify "$SRC/keys" "$m" >/dev/null 2>&1 &&
    "$ARCTOOL" verify --no-dns --keys "$SRC/keys" "$m" >/dev/null 2>&1; then
	pass "8 postfix: second hop: arc=pass, sealed i=2 cv=pass, verifies (dkimpy, arctool)"
else
	fail "8 postfix: second hop not delivered sealed i=2 or does not verify"
fi

m=$(find_msg "[tampered]")
if [ -n "$m" ] && grep '^Authentication-Results: mx.test.example; arc=fail' "$m" >/dev/null; then
	pass "8 postfix: tampered chain delivered (on-fail accept) with arc=fail"
else
	fail "8 postfix: tampered chain not delivered with arc=fail"
fi

# sendmail(1) -> pickup -> cleanup: non_smtpd_milters
sed 's/^Subject: /Subject: [local] /' "$SRC/plain.eml" >"$D/local.eml"
if "$P/usr/sbin/sendmail" -C "$D/conf" -f alice@test.example bob@test.example \
    <"$D/local.eml" 2>"$D/sendmail.err" && delivered 4 &&
    m=$(find_msg "[local]") && [ -n "$m" ] &&
    grep '^ARC-Seal: i=1;' "$m" >/dev/null &&
    "$PY" "$PYPEER" verify "$SRC/keys" "$m" >/dev/null 2>&1; then
	pass "8 postfix: sendmail(1) submission sealed through non_smtpd_milters, verifies"
else
	fail "8 postfix: sendmail(1) submission not sealed ($(head -c 200 "$D/sendmail.err"))"
fi

qid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=.*/\1/p' \
    "$D/postfix.log" | head -1)
if [ -n "$qid" ] && grep "id=$qid cv=" "$D/milter.log" >/dev/null; then
	pass "8 postfix: the filter's log line names Postfix's queue id ($qid)"
else
	fail "8 postfix: queue id ${qid:-?} not in the filter's log"
fi

# ---- key rotation with mail flowing ------------------------------------------------
# 50 messages from 5 parallel SMTP sessions; when 15 are accepted, arc.conf
# changes from selector m1 to m2 and arc-milter gets SIGHUP (what
# "systemctl reload arc-milter" sends).  Every message must arrive, sealed
# by one of the two selectors, both in use, and verify with both keys
# published (the overlap of a rotation).
"$ARCTOOL" keygen --domain seal.example --selector m2 --out "$D/milter/m2.pem" \
    >"$D/m2.zone" || fail "8 postfix rotation: keygen failed"
chown postfix "$D/milter/m2.pem"
cat "$SRC/keys" "$D/m2.zone" >"$D/keys2"
sed 's/^Subject: /Subject: [rot NNN] /' "$SRC/plain.eml" >"$D/rot.eml"
before=$(find "$D/mail/bob/new" -type f | wc -l)
rm -f "$D/progress"
"$PY" - "$PORT" "$D/rot.eml" "$D/progress" >"$D/rot.err" 2>&1 <<'PY' &
import smtplib, sys, threading
port, tmpl, progress = int(sys.argv[1]), open(sys.argv[2], 'rb').read(), sys.argv[3]
lock = threading.Lock()
sent = [0]
def sender(k):
    s = smtplib.SMTP('127.0.0.1', port)
    for j in range(10):
        n = k * 10 + j + 1
        s.sendmail('alice@origin.example', ['bob@test.example'],
                   tmpl.replace(b'NNN', b'%03d' % n))
        with lock:
            sent[0] += 1
            open(progress, 'w').write('%d\n' % sent[0])
    s.quit()
ts = [threading.Thread(target=sender, args=(k,)) for k in range(5)]
for t in ts: t.start()
for t in ts: t.join()
print('sent', sent[0])
PY
sender=$!
for _ in $(seq 1 400); do
	[ "$(cat "$D/progress" 2>/dev/null || echo 0)" -ge 15 ] && break
	sleep 0.025
done
sed -i "s/^seal-selector m1\$/seal-selector m2/; s|^seal-key .*|seal-key $D/milter/m2.pem|" "$D/arc.conf"
kill -HUP "$MPID"
at_reload=$(cat "$D/progress" 2>/dev/null)
wait "$sender"
delivered $((before + 50)) || true
missing= nm1=0 nm2=0 bad= rotfiles=
for n in $(seq -w 1 50); do
	n=$(printf '%03d' "$((10#$n))")
	m=$(find_msg "[rot $n]")
	if [ -z "$m" ]; then
		missing="$missing $n"
		continue
	fi
	if grep -E '^ARC-Seal: .*s=m1;' "$m" >/dev/null; then
		nm1=$((nm1 + 1))
	elif grep -E '^ARC-Seal: .*s=m2;' "$m" >/dev/null ||
	    sed -n '/^ARC-Seal:/,/^[^ \t]/p' "$m" | grep -F 's=m2;' >/dev/null; then
		nm2=$((nm2 + 1))
	elif sed -n '/^ARC-Seal:/,/^[^ \t]/p' "$m" | grep -F 's=m1;' >/dev/null; then
		nm1=$((nm1 + 1))
	else
		bad="$bad $n(unsealed)"
		continue
	fi
	rotfiles="$rotfiles $m"
	"$ARCTOOL" verify --no-dns --keys "$D/keys2" "$m" >/dev/null 2>&1 ||
	    bad="$bad $n(arctool)"
done
# dkimpy: one process for all of them (its start-up is most of the cost)
# shellcheck disable=SC2086
bad="$bad$("$PY" - "$(dirname "$PYPEER")" "$D/keys2" $rotfiles <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import dkimpy_peer
for path in sys.argv[3:]:
    cv, reason = dkimpy_peer.verify(sys.argv[2], dkimpy_peer.read(path), False)
    if cv != 'pass':
        print(' %s(dkimpy: %s %s)' % (path.rsplit('/', 1)[-1], cv, reason), end='')
PY
)"
if [ -z "$missing" ] && [ -z "$bad" ] && [ $nm1 -gt 0 ] && [ $nm2 -gt 0 ] &&
    grep "reload (SIGHUP): configuration reloaded" "$D/milter.log" >/dev/null &&
    kill -0 "$MPID" 2>/dev/null; then
	pass "8 postfix rotation: SIGHUP after $at_reload of 50 messages: all 50 delivered, $nm1 sealed s=m1, $nm2 s=m2, all verify (dkimpy, arctool)"
else
	fail "8 postfix rotation: missing:${missing:- none} bad:${bad:- none} m1=$nm1 m2=$nm2 ($(cat "$D/rot.err"))"
fi

# ---- many domains (issue 15): KeyTable and SigningTable, reloaded ---------------
# OpenDKIM-format tables appended to arc.conf and loaded by SIGHUP; the
# messages differ only in their envelope sender or List-Id (Postfix takes
# mail for test.example alone): each sealed by its own domain's key, the
# default identity when nothing matches; then a reload adds four.example.
md_send() {	# md_send MAIL-FROM TAG [HEADER]: one message to bob@test.example
	"$PY" - "$PORT" "$1" "$2" "${3:-}" "$SRC/plain.eml" <<'PY'
import smtplib, sys
port, mfrom, tag, hdr, src = sys.argv[1:6]
msg = open(src, 'rb').read().replace(b'Subject: ', b'Subject: [%s] ' % tag.encode(), 1)
if hdr:
    msg = hdr.encode() + b'\n' + msg
s = smtplib.SMTP('127.0.0.1', int(port))
s.sendmail(mfrom, ['bob@test.example'], msg)
s.quit()
PY
}
md_check() {	# md_check TAG DOMAIN SELECTOR LOG-TEXT
	local m got
	m=$(find_msg "[$1]")
	if [ -z "$m" ]; then
		fail "8 postfix many domains: $1 not delivered"
		return
	fi
	got=$(sed -n '/^ARC-Seal:/,/^[^ \t]/p' "$m" | tr -d ' \t\n' |
	    sed -n 's/.*;d=\([^;]*\);s=\([^;]*\);.*/\1\/\2/p')
	if [ "$got" = "$2/$3" ] &&
	    "$PY" "$PYPEER" verify "$D/keys3" "$m" >/dev/null 2>&1 &&
	    "$ARCTOOL" verify --no-dns --keys "$D/keys3" "$m" >/dev/null 2>&1 &&
	    grep -F -- "$4" "$D/milter.log" >/dev/null; then
		pass "8 postfix many domains: $1 sealed d=$2 s=$3, verifies (dkimpy, arctool), log: $4"
	else
		fail "8 postfix many domains: $1: sealed ${got:-?}, want $2/$3 ($4)"
	fi
}
cp "$D/keys2" "$D/keys3"
for id in one.example:s1 two.example:s1 two.example:s2 three.example:s1 \
    four.example:s1; do
	"$ARCTOOL" keygen --domain "${id%%:*}" --selector "${id#*:}" \
	    --out "$D/milter/${id%%:*}-${id#*:}.pem" >>"$D/keys3" ||
	    fail "8 postfix many domains: keygen"
	chown postfix "$D/milter/${id%%:*}-${id#*:}.pem"
done
kt() {	# the key table, with four.example when $1 = 4
	printf '%s\t%s:%s/milter/%s.pem\n' \
	    one one.example:s1 "$D" one.example-s1 \
	    two two.example:s1 "$D" two.example-s1 \
	    two-new two.example:s2 "$D" two.example-s2 \
	    three three.example:s1 "$D" three.example-s1
	[ "${1:-}" = 4 ] && printf 'four\tfour.example:s1:%s/milter/four.example-s1.pem\n' "$D"
	return 0
}
kt >"$D/milter/KeyTable"
printf '%s\n' '*@one.example one' '*.two.example two-new' 'two.example two' \
    '/^news\..*three\.example$/ three' >"$D/milter/SigningTable"
printf 'seal-key-table %s\nseal-signing-table %s\n' "$D/milter/KeyTable" \
    "$D/milter/SigningTable" >>"$D/arc.conf"
nrel=$(grep -c "configuration reloaded" "$D/milter.log")
kill -HUP "$MPID"
for _ in $(seq 1 100); do
	[ "$(grep -c "configuration reloaded" "$D/milter.log")" -gt "$nrel" ] && break
	sleep 0.05
done
before=$(find "$D/mail/bob/new" -type f | wc -l)
md_send a@one.example md-one
md_send a@lists.two.example md-two
md_send alice@origin.example md-three 'List-Id: News <news.lists.three.example>'
md_send alice@origin.example md-none
md_send x@four.example md-four-before
delivered $((before + 5)) || fail "8 postfix many domains: not all 5 delivered"
md_check md-one one.example s1 'seal=one.example/s1 match=sender:*@one.example'
md_check md-two two.example s2 'seal=two.example/s2 match=sender:*.two.example'
md_check md-three three.example s1 'seal=three.example/s1 match=list-id:'
md_check md-none seal.example m2 'seal=default match=none'
md_check md-four-before seal.example m2 'seal=default match=none'
# a reload that adds a domain
kt 4 >"$D/milter/KeyTable"
echo '*@four.example four' >>"$D/milter/SigningTable"
nrel=$(grep -c "configuration reloaded" "$D/milter.log")
kill -HUP "$MPID"
for _ in $(seq 1 100); do
	[ "$(grep -c "configuration reloaded" "$D/milter.log")" -gt "$nrel" ] && break
	sleep 0.05
done
md_send x@four.example md-four-after
delivered $((before + 6)) || fail "8 postfix many domains: md-four-after not delivered"
md_check md-four-after four.example s1 'seal=four.example/s1 match=sender:*@four.example'
before=$((before + 6 - 50))	# the count the next case expects

# milter gone: milter_default_action = accept lets mail through unsealed
kill "$MPID" 2>/dev/null
wait "$MPID" 2>/dev/null
MPID=
sed 's/^Subject: /Subject: [nomilter] /' "$SRC/plain.eml" >"$D/nomilter.eml"
send "$D/nomilter.eml" >/dev/null 2>&1
if delivered $((before + 51)) && m=$(find_msg "[nomilter]") && [ -n "$m" ] &&
    ! grep '^ARC-Seal:' "$m" >/dev/null; then
	pass "8 postfix: milter stopped: mail still delivered (milter_default_action = accept)"
else
	fail "8 postfix: mail lost or delayed while the milter was stopped"
fi

if [ $nfail -gt 0 ]; then
	echo "--- postfix log:"
	tail -40 "$D/postfix.log"
	echo "--- milter log:"
	tail -20 "$D/milter.log"
fi
exit $((nfail > 0))
