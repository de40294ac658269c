#!/bin/bash
# exim.sh - end-to-end test of the Exim dlfunc module (build/exim_arc.so).
#
# Contract:
#   tests/e2e/exim.sh [BUILD]        (default: build/ of this tree; root)
#  - Installs the MTAs if needed (scripts/install-mtas.sh), then runs a
#    real Exim 4.96 daemon on 127.0.0.1 (a free port) with a generated
#    configuration whose acl_smtp_data loads the module, everything in a
#    0755 temporary directory Debian-exim can traverse (removed on exit
#    unless KEEP=1 or a check failed).  Keys come from a key table, never
#    from DNS.
#  - Messages go in over SMTP (python3 smtplib, one connection for the
#    ordinary cases, BDAT for a CRLF spool, one for 20 MB) and are
#    delivered to a maildir as Debian-exim, then checked with arctool and
#    dkimpy (tests/interop/dkimpy_peer.py):
#      plain mail sealed i=1, cv=none, fields in order AS AMS AAR A-R,
#      the ACL's authres= in the AAR, one evaluation for arc_verify,
#      arc_result and arc_seal (one log line);
#      a dkimpy-sealed chain verified pass and sealed i=2;
#      a tampered chain: fail, a cv=fail seal (RFC 8617 §5.1.2), arc=fail;
#      a chain whose newest seal says cv=fail: no seal added (§5.1);
#      reject on fail when the ACL asks, pass still accepted;
#      per-call sealing identity (domain=, selector=, key=);
#      a bad key: the message still delivered, a log line, no seal;
#      on-error tempfail: a 451 and an empty paniclog;
#      a forged Authentication-Results removed in the RCPT ACL stays out
#      of the AAR;
#      keys from DNS through a private unbound (tests/dns/run-unbound.sh),
#      one served, one timing out (skipped loudly without unbound);
#      OpenSMTPD + filter-arc seal i=1 and relay to this Exim, which
#      verifies pass and seals i=2 (skipped loudly without filter-arc);
#      wire-format (CRLF) spool through BDAT; many messages on one
#      connection (per-message state replaced, never mixed up);
#      a 20 MB message sealed, with the peak RSS of exim -bs for it no
#      more than a few MB above that for a small message.
#  - The paniclog must stay empty.  Last line "exim-e2e: N passed, M
#    failed"; exit status 1 if anything failed, 2 if it could not run.
#    Exim, smtpd and unbound are children of this script, stopped by PID.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${1:-$root/build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
ARCTOOL=$BUILD/arctool
MOD=$BUILD/exim_arc.so
PY=/usr/bin/python3	# not a pyenv shim: root's ~ is closed to others
PEER=$root/tests/interop/dkimpy_peer.py
BIG_MB=${BIG_MB:-20}
RSS_SLACK_KB=${RSS_SLACK_KB:-8192}

npass=0
nfail=0
die() {
	printf '\n*** exim-e2e: %s\n\n' "$*" >&2
	echo "exim-e2e: $npass passed, $((nfail + 1)) failed"
	exit 2
}

[ "$(id -u)" = 0 ] || die "must run as root (Exim is started with -C)"
if [ -f "$root/scripts/install-mtas.sh" ]; then
	sh "$root/scripts/install-mtas.sh" >/dev/null ||
	    die "scripts/install-mtas.sh failed"
else
	die "scripts/install-mtas.sh missing"
fi
[ -x "$ARCTOOL" ] || die "no $ARCTOOL (make all)"
[ -f "$MOD" ] || die "no $MOD (make $MOD)"
"$PY" -c 'import dkim, authres' 2>/dev/null ||
    die "dkimpy cannot seal: apt-get install python3-dkim python3-authres"
command -v exim >/dev/null || die "exim missing"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"

T=$(mktemp -d /tmp/exim-e2e.XXXXXX) || die "mktemp failed"
chmod 755 "$T"		# Exim runs as Debian-exim and must traverse it
EXIM_PID=
cleanup() {
	if [ -n "${UNBOUND:-}" ]; then
		sh "$root/tests/dns/run-unbound.sh" stop "$T/dns" 2>/dev/null
		UNBOUND=
	fi
	if [ -n "${SMTPD_PID:-}" ]; then
		kill "$SMTPD_PID" 2>/dev/null
		wait "$SMTPD_PID" 2>/dev/null
		SMTPD_PID=
	fi
	if [ -n "$EXIM_PID" ]; then
		kill "$EXIM_PID" 2>/dev/null
		wait "$EXIM_PID" 2>/dev/null
		EXIM_PID=
	fi
}
trap 'cleanup' EXIT
trap 'exit 130' INT TERM

pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
oneline() { tr '\r\n' '  ' | cut -c1-300; }

# ---- keys, arc.conf, Exim configuration ---------------------------------

mkdir -p "$T/mod" "$T/keys" "$T/spool" "$T/log" "$T/out" "$T/msg"
chown Debian-exim:Debian-exim "$T/spool" "$T/log" "$T/out"
cp "$MOD" "$T/mod/exim_arc.so"
chmod 644 "$T/mod/exim_arc.so"
KT=$T/keys/keytable
: >"$KT"
for id in a.example:s1 b.example:sb; do
	dom=${id%%:*}
	sel=${id#*:}
	"$ARCTOOL" keygen --domain "$dom" --selector "$sel" \
	    --out "$T/keys/$dom.key" >"$T/keys/$dom.txt" ||
	    die "arctool keygen failed"
	"$PY" "$PEER" keyline "$sel" "$dom" "$T/keys/$dom.txt" >>"$KT" ||
	    die "keyline failed"
	# the sealing key: readable by Exim's group, by nobody else
	chown root:Debian-exim "$T/keys/$dom.key"
	chmod 640 "$T/keys/$dom.key"
done
openssl genrsa -traditional -out "$T/keys/dkimpy.pem" 2048 2>/dev/null ||
    die "openssl genrsa failed"
printf 'py1._domainkey.p1.dkimpy.example v=DKIM1; k=rsa; p=%s\n' \
    "$(openssl rsa -in "$T/keys/dkimpy.pem" -pubout -outform DER \
    2>/dev/null | base64 -w0)" >>"$KT"
chmod 644 "$KT"

CONF=$T/arc.conf
cat >"$CONF" <<EOF
# arc.conf for the Exim e2e test
authserv-id mx.test.example
key-table $KT
dns no
seal-domain a.example
seal-selector s1
seal-key $T/keys/a.example.key
EOF
# keys from DNS only, through a private unbound (started below)
CONF_DNS=$T/arc-dns.conf
DNSPORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$CONF_DNS" <<EOF
authserv-id mx.test.example
dns-forwarder 127.0.0.1@$DNSPORT
dns-timeout 2000
seal-domain a.example
seal-selector s1
seal-key $T/keys/a.example.key
EOF
# the same, but an internal error asks for a 451
CONF2=$T/arc-tempfail.conf
{ cat "$CONF"; echo "on-error tempfail"; } >"$CONF2"
chmod 644 "$CONF" "$CONF2" "$CONF_DNS"
# Many domains (issue 15): OpenDKIM-format KeyTable and SigningTable,
# three domains, two keys for two.example; a.example seals what nothing
# matches (seal-no-match default).
CONF_TABLES=$T/arc-tables.conf
for id in one.example:s1 two.example:s1 two.example:s2 three.example:s1; do
	dom=${id%%:*}
	sel=${id#*:}
	"$ARCTOOL" keygen --domain "$dom" --selector "$sel" \
	    --out "$T/keys/$dom-$sel.key" >"$T/keys/$dom-$sel.txt" &&
	    "$PY" "$PEER" keyline "$sel" "$dom" "$T/keys/$dom-$sel.txt" \
	    >>"$KT" || die "arctool keygen (tables) failed"
	chown root:Debian-exim "$T/keys/$dom-$sel.key"
	chmod 640 "$T/keys/$dom-$sel.key"
done
cat >"$T/keys/KeyTable" <<EOF
one	one.example:s1:$T/keys/one.example-s1.key
two	two.example:s1:$T/keys/two.example-s1.key
two-new	two.example:s2:$T/keys/two.example-s2.key
three	three.example:s1:$T/keys/three.example-s1.key
EOF
cat >"$T/keys/SigningTable" <<'EOF'
*@one.example		one
*.two.example		two-new
two.example		two
/^news\..*three\.example$/	three
EOF
{ cat "$CONF"; echo "seal-key-table $T/keys/KeyTable";
    echo "seal-signing-table $T/keys/SigningTable"; } >"$CONF_TABLES"
# the tables alone, no default identity
CONF_TONLY=$T/arc-tables-only.conf
grep -v '^seal-' "$CONF_TABLES" >"$CONF_TONLY"
{ echo "seal-key-table $T/keys/KeyTable";
    echo "seal-signing-table $T/keys/SigningTable"; } >>"$CONF_TONLY"
chmod 644 "$CONF_TABLES" "$CONF_TONLY" "$T/keys/KeyTable" \
    "$T/keys/SigningTable"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
M=$T/mod/exim_arc.so
cat >"$T/exim.conf" <<EOF
# Exim test configuration for the ARC module: loopback only.
ARC_OPTS = {conf=\$acl_m_conf}{authres=\${authresults{mx.test.example}}}{authres=mx.test.example; x-e2e=pass}
ARC_VERIFY = \${dlfunc{$M}{arc_verify}ARC_OPTS}
ARC_SEAL = \${dlfunc{$M}{arc_seal}ARC_OPTS}
ARC_RESULT = \${dlfunc{$M}{arc_result}

primary_hostname = mx.test.example
qualify_domain   = test.example
spool_directory  = $T/spool
log_file_path    = $T/log/%slog
pid_file_path    = $T/exim.pid
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = $PORT
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
never_users = root
# no re-exec as root after -C: no "exim user lost privilege" paniclog line
deliver_drop_privilege = true
# the default 10 would queue later messages of a connection
smtp_accept_queue_per_connection = 0
# BDAT messages are spooled with CRLF line ends: the module reads both
spool_wireformat = true
split_spool_directory = true
message_size_limit = 64M
keep_environment =
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  # RFC 8601 section 5: Authentication-Results claiming our authserv-id
  # from outside are removed before the DATA ACL (removals made in the
  # DATA ACL itself only apply after it, too late for the module).
  warn
    local_parts = strip
    remove_header = Authentication-Results
  accept

acl_check_data:
  # Keys from DNS (a private unbound) for the messages that ask for it.
  warn
    set acl_m_conf = \${if eq{\$h_X-Test-Conf:}{dns}{$CONF_DNS}{$CONF}}
  warn
    condition = \${if eq{\$h_X-Test-Conf:}{tables}}
    set acl_m_conf = $CONF_TABLES
  warn
    condition = \${if eq{\$h_X-Test-Conf:}{tables-only}}
    set acl_m_conf = $CONF_TONLY

  # Refuse a failed chain, only where asked (here: a test header).
  deny
    condition = \${if eq{\$h_X-Test-Reject:}{yes}}
    condition = \${if eq{ARC_VERIFY}{fail}}
    message = 5.7.29 ARC validation failure

  # Record the verdict.
  warn
    set acl_m_arc = ARC_VERIFY
    add_header = X-ARC-Verify: \$acl_m_arc
    add_header = X-ARC-Reason: ARC_RESULT{reason}}
    add_header = X-ARC-Detail: oldest_pass=\${extract{oldest_pass}{ARC_RESULT}}} domains=ARC_RESULT{domains}} sealed=ARC_RESULT{sealed}}

  # Seal: a second identity, a broken one, or arc.conf's.
  warn
    condition = \${if eq{\$h_X-Test-Seal:}{b}}
    add_header = \${dlfunc{$M}{arc_seal}{conf=$CONF}{domain=b.example}{selector=sb}{key=$T/keys/b.example.key}}
  warn
    condition = \${if eq{\$h_X-Test-Seal:}{tables-b}}
    add_header = \${dlfunc{$M}{arc_seal}{conf=$CONF_TABLES}{domain=b.example}{selector=sb}{key=$T/keys/b.example.key}}
  warn
    condition = \${if eq{\$h_X-Test-Seal:}{bad}}
    add_header = \${dlfunc{$M}{arc_seal}{conf=$CONF}{domain=b.example}{selector=sb}{key=$T/keys/missing.key}}
  warn
    condition = \${if eq{\$h_X-Test-Seal:}{tempfail}}
    add_header = \${dlfunc{$M}{arc_seal}{conf=$CONF2}{domain=b.example}{selector=sb}{key=$T/keys/missing.key}}
  warn
    condition = \${if eq{\$h_X-Test-Seal:}{}}
    add_header = ARC_SEAL
  accept

begin routers

# Exim 4.96 delivers a wire-format spooled (BDAT) message to a maildir
# with an empty body, with or without this module: mbox for that case.
bdat_to_mbox:
  driver = accept
  condition = \${if eq{\$h_X-Case:}{bdat}}
  transport = to_mbox

all_to_maildir:
  driver = accept
  transport = to_maildir

begin transports

to_maildir:
  driver = appendfile
  directory = $T/out/maildir
  maildir_format
  create_directory
  user = Debian-exim
  group = Debian-exim
  mode = 0644

to_mbox:
  driver = appendfile
  file = $T/out/bdat.mbox
  user = Debian-exim
  group = Debian-exim
  mode = 0644
EOF
chmod 644 "$T/exim.conf"	# root-owned, not writable by others: Exim insists
exim -C "$T/exim.conf" -bV >"$T/bV.out" 2>&1 ||
    die "exim rejects the test configuration: $(oneline <"$T/bV.out")"

# ---- messages -------------------------------------------------------------

cat >"$T/msg/m0" <<'EOF'
From: Alice <alice@origin.example>
To: Bob <bob@test.example>
Subject: ARC interop test
Date: Mon, 01 Jan 2024 00:00:00 +0000
Message-ID: <exim-e2e-1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this body line is signed.
  Indented line,   with   spaces.
.a line that starts with a dot

-- 
Alice
EOF
"$PY" "$PEER" seal "$KT" "$T/keys/dkimpy.pem" py1 p1.dkimpy.example \
    hop1.example "$T/msg/m0" >"$T/msg/chain" 2>"$T/msg/chain.err" ||
    die "dkimpy seal failed: $(oneline <"$T/msg/chain.err")"
"$PY" "$PEER" verify "$KT" "$T/msg/chain" >/dev/null ||
    die "the dkimpy chain does not verify before sending"
"$PY" "$PEER" tamper body "$T/msg/chain" >"$T/msg/tamper" ||
    die "tamper failed"
# a chain whose newest seal already says cv=fail (arctool seals the
# tampered chain: i=2 cv=fail)
"$ARCTOOL" seal --domain b.example --selector sb \
    --key "$T/keys/b.example.key" --authserv-id hop2.example --keys "$KT" \
    "$T/msg/tamper" >"$T/msg/cvfail" 2>"$T/msg/cvfail.err" ||
    die "arctool seal failed: $(oneline <"$T/msg/cvfail.err")"
"$PY" - "$T/msg/m0" "$T/msg/big" "$BIG_MB" <<'PY' || die "no big message"
import sys
src, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
head = open(src, 'rb').read().split(b'\n\n', 1)[0]
with open(out, 'wb') as f:
    f.write(head + b'\n\n')
    line, n, i = b'', 0, 0
    while n < mb * 1024 * 1024:
        line = b'%08d the quick brown fox jumps over the lazy dog, again.\n' % i
        f.write(line)
        n += len(line)
        i += 1
PY

# case NAME SRC [HEADER...]: message NAME = SRC with X-Case and HEADERs
cases=
case_msg() {
	local name=$1 src=$2

	shift 2
	{
		printf 'X-Case: %s\n' "$name"
		for h in "$@"; do printf '%s\n' "$h"; done
		tr -d '\r' <"$T/msg/$src"
	} >"$T/msg/c-$name"
	cases="$cases $name"
}
case_msg plain m0
case_msg chain chain
case_msg tamper tamper
case_msg reject-fail tamper 'X-Test-Reject: yes'
case_msg cvfail cvfail
case_msg reject-pass chain 'X-Test-Reject: yes'
case_msg seal-b m0 'X-Test-Seal: b'
case_msg seal-bad m0 'X-Test-Seal: bad'
case_msg seal-tempfail m0 'X-Test-Seal: tempfail'
case_msg forged m0 'X-Test-Rcpt: strip@test.example' \
    'Authentication-Results: mx.test.example; dkim=pass (forged)'
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	case $((i % 3)) in
	0) case_msg "mix$i-plain" m0 ;;
	1) case_msg "mix$i-chain" chain ;;
	2) case_msg "mix$i-tamper" tamper ;;
	esac
done
case_msg tables-one m0 'X-Test-Conf: tables' 'X-Test-Rcpt: u@one.example'
case_msg tables-two m0 'X-Test-Conf: tables' 'X-Test-Rcpt: u@lists.two.example'
case_msg tables-three m0 'X-Test-Conf: tables' \
    'List-Id: News <news.lists.three.example>'
case_msg tables-none m0 'X-Test-Conf: tables'
case_msg tables-only m0 'X-Test-Conf: tables-only' \
    'X-Test-Rcpt: u@lists.two.example'
case_msg tables-only-none m0 'X-Test-Conf: tables-only'
case_msg tables-acl m0 'X-Test-Conf: tables' 'X-Test-Seal: tables-b' \
    'X-Test-Rcpt: u@one.example'
case_msg bdat m0
case_msg big big

# Chains whose keys only DNS knows: d1.example is served by unbound,
# k1.slow.example is forwarded to where nothing answers (a timeout).
UNBOUND=
dns_ok=0
dns_msgs() {
	local d

	command -v unbound >/dev/null || command -v /usr/sbin/unbound \
	    >/dev/null || { echo "unbound not installed"; return 1; }
	mkdir -p "$T/dns"
	for d in d1.example:s1 slow.example:k1; do
		"$ARCTOOL" keygen --domain "${d%%:*}" --selector "${d#*:}" \
		    --out "$T/keys/${d%%:*}.key" >"$T/keys/${d%%:*}.txt" &&
		    "$PY" "$PEER" keyline "${d#*:}" "${d%%:*}" \
		    "$T/keys/${d%%:*}.txt" >>"$KT" &&
		    "$ARCTOOL" seal --domain "${d%%:*}" --selector "${d#*:}" \
		    --key "$T/keys/${d%%:*}.key" --authserv-id "hop.${d%%:*}" \
		    "$T/msg/m0" >"$T/msg/${d%%:*}" ||
		    { echo "arctool keygen/seal failed"; return 1; }
	done
	sed "s/^\(.*\)\$/local-data: '\1'/" "$T/keys/d1.example.txt" \
	    >"$T/dns/keys.conf"
	sh "$root/tests/dns/run-unbound.sh" start "$T/dns" "$DNSPORT" \
	    >"$T/unbound.out" 2>&1 ||
	    { echo "unbound did not start: $(oneline <"$T/unbound.out")"; return 1; }
	UNBOUND=1
	dns_ok=1
	case_msg dns-pass d1.example 'X-Test-Conf: dns'
	case_msg dns-timeout slow.example 'X-Test-Conf: dns'
}
dns_msgs >"$T/dns.why" ||
    echo "SKIP keys from DNS: $(oneline <"$T/dns.why") *** NOT tested ***"

# send.py PORT MODE FILE...: one connection; prints "FILE CODE" per message
cat >"$T/send.py" <<'PY'
import smtplib, sys
port, mode, files = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example',
                 timeout=300)
s.ehlo()
for i, path in enumerate(files):
    msg = open(path, 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    rcpt = 'bob%d@test.example' % i
    for line in msg.split(b'\r\n\r\n', 1)[0].split(b'\r\n'):
        if line.lower().startswith(b'x-test-rcpt:'):
            rcpt = line.split(b':', 1)[1].strip().decode()
    s.mail('alice@origin.example')
    s.rcpt(rcpt)
    if mode == 'bdat':
        s.send(b'BDAT %d LAST\r\n' % len(msg) + msg)
        code, _ = s.getreply()
    else:
        code, _ = s.data(msg)
    if code != 250:
        s.rset()
    print(path, code, flush=True)
s.quit()
PY

exim -C "$T/exim.conf" -bdf -oX "127.0.0.1.$PORT" >"$T/daemon.err" 2>&1 &
EXIM_PID=$!
up=0
for _ in $(seq 1 200); do
	if { exec 3<>"/dev/tcp/127.0.0.1/$PORT" && read -r -t 5 l <&3 &&
	    exec 3<&- && [[ $l == 220* ]]; } 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.05
done
[ $up = 1 ] || die "Exim did not answer on port $PORT: $(oneline <"$T/daemon.err")"

data_cases=
for c in $cases; do
	case $c in bdat|big) ;; *) data_cases="$data_cases $T/msg/c-$c" ;; esac
done
# shellcheck disable=SC2086
{
	"$PY" "$T/send.py" "$PORT" data $data_cases
	"$PY" "$T/send.py" "$PORT" bdat "$T/msg/c-bdat"
	"$PY" "$T/send.py" "$PORT" data "$T/msg/c-big"
} >"$T/sent" 2>"$T/send.err" || fail "smtp client: $(oneline <"$T/send.err")"

code_of() { awk -v f="$T/msg/c-$1" '$1 == f { print $2 }' "$T/sent"; }
want=0
for c in $cases; do
	[ "$c" != bdat ] && [ "$(code_of "$c")" = 250 ] && want=$((want + 1))
done

# OpenSMTPD with filter-arc seals i=1 and relays to this Exim, which
# verifies and seals i=2: the two adapters must interoperate.
FILTER=$BUILD/filter-arc
SMTPD=/opt/opensmtpd/usr/sbin/smtpd
SMTPD_PID=
osmtpd_stage() {
	local p2 up=0

	if [ ! -x "$FILTER" ]; then
		echo "SKIP OpenSMTPD+filter-arc -> Exim: $FILTER missing" \
		    "(make all builds it) *** interop NOT tested ***"
		return 1
	fi
	[ -x "$SMTPD" ] || { fail "smtpd: $SMTPD missing"; return 1; }
	cp "$FILTER" "$T/filter-arc"
	"$ARCTOOL" keygen --domain o.example --selector so \
	    --out "$T/keys/o.example.key" >"$T/keys/o.example.txt" &&
	    "$PY" "$PEER" keyline so o.example "$T/keys/o.example.txt" \
	    >>"$KT" || { fail "smtpd: keygen"; return 1; }
	chown root:opensmtpd "$T/keys/o.example.key"
	chmod 640 "$T/keys/o.example.key"
	cat >"$T/osmtpd-arc.conf" <<EOF
authserv-id mx2.test.example
key-table $KT
dns no
seal-domain o.example
seal-selector so
seal-key $T/keys/o.example.key
EOF
	chmod 644 "$T/osmtpd-arc.conf"
	p2=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$T/ns/run" "$T/ns/spool" /var/spool/smtpd
	chmod 0711 "$T/ns/spool"	# smtpd insists on 0711 for its spool
	cat >"$T/smtpd.conf" <<EOF
filter "arc" proc-exec "$T/filter-arc -c $T/osmtpd-arc.conf"
listen on 127.0.0.1 port $p2 hostname mx2.test.example filter "arc"
action "to-exim" relay host smtp://127.0.0.1:$PORT
match from any for any action "to-exim"
EOF
	"$SMTPD" -n -f "$T/smtpd.conf" >"$T/smtpd-n.out" 2>&1 ||
	    { fail "smtpd -n: $(oneline <"$T/smtpd-n.out")"; return 1; }
	# smtpd has its spool and control socket built in: private copies
	unshare -m --propagation private /bin/sh -c '
	    mount --bind "$1/ns/run" /run &&
	    mount --bind "$1/ns/spool" /var/spool/smtpd &&
	    exec "$2" -d -f "$1/smtpd.conf"' sh "$T" "$SMTPD" \
	    >"$T/smtpd.log" 2>&1 &
	SMTPD_PID=$!
	for _ in $(seq 1 200); do	# the 220 waits for filter-arc
		if { exec 3<>"/dev/tcp/127.0.0.1/$p2" && read -r -t 5 l <&3 &&
		    exec 3<&- && [[ $l == 220* ]]; } 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.05
	done
	[ $up = 1 ] || { fail "smtpd: no 220 on $p2: $(oneline <"$T/smtpd.log")"; return 1; }
	case_msg via-smtpd m0
	"$PY" "$T/send.py" "$p2" data "$T/msg/c-via-smtpd" >>"$T/sent" \
	    2>>"$T/send.err" || { fail "smtpd: smtp client failed"; return 1; }
	[ "$(code_of via-smtpd)" = 250 ] && want=$((want + 1))
	return 0
}
osmtpd=0
osmtpd_stage && osmtpd=1
for _ in $(seq 1 600); do
	n=$(find "$T/out/maildir/new" -type f 2>/dev/null | wc -l)
	[ "$n" -ge "$want" ] && [ -s "$T/out/bdat.mbox" ] && break
	sleep 0.1
done
if [ -n "$SMTPD_PID" ]; then
	kill "$SMTPD_PID" 2>/dev/null
	wait "$SMTPD_PID" 2>/dev/null
	SMTPD_PID=
fi
cleanup
# the mbox copy without its "From " separator line
[ -s "$T/out/bdat.mbox" ] && sed '1d' "$T/out/bdat.mbox" >"$T/out/bdat.eml"

# ---- checks -----------------------------------------------------------------

# delivered NAME: the maildir file of case NAME
# (an index of X-Case values: grepping the 20 MB file each time is slow)
for f in "$T"/out/maildir/new/* "$T/out/bdat.eml"; do
	[ -f "$f" ] || continue
	printf '%s %s\n' "$(sed -n '/^$/q; s/^X-Case: //p' "$f" | head -n1)" "$f"
done >"$T/index"
delivered() { awk -v c="$1" '$1 == c { print $2; exit }' "$T/index"; }
# field NAME FILE: the first NAME field, unfolded
field() {
	awk -v n="$1" 'BEGIN { IGNORECASE = 1 }
	    /^$/ { exit } /^[ \t]/ { if (on) v = v $0; next }
	    { if (on) exit; if (tolower(substr($0, 1, length(n) + 1)) == tolower(n) ":") { on = 1; v = $0 } }
	    END { print v }' "$2"
}
# names FILE: the field names of the header, top down
names() { awk '/^$/ { exit } /^[^ \t]/ { sub(/:.*/, ""); print }' "$1"; }
tag() { printf '%s\n' "${1#*:}" | tr -d ' \t' | tr ';' '\n' | sed -n "s/^$2=//p" | head -n1; }

v_arctool() {
	"$ARCTOOL" verify --keys "$KT" "$1" >"$T/v.out" 2>&1
	local rc=$?
	case "$rc:$(head -n1 "$T/v.out")" in
	0:arc=pass*) echo pass ;;
	1:arc=fail*) echo fail ;;
	*) echo "other(rc $rc: $(oneline <"$T/v.out"))" ;;
	esac
}
# dkimpy's verdicts, all files in one python process (its start-up would
# otherwise dominate the run): "FILE VERDICT" lines
"$PY" - "$root/tests/interop" "$KT" "$T"/out/maildir/new/* "$T/out/bdat.eml" \
    >"$T/dkimpy.results" 2>"$T/dkimpy.err" <<'PY'
import os, sys
sys.path.insert(0, sys.argv[1])
import dkimpy_peer
for path in sys.argv[3:]:
    if not os.path.exists(path):
        continue
    try:
        cv, reason = dkimpy_peer.verify(sys.argv[2], dkimpy_peer.read(path))
        cv = cv if cv in ('pass', 'fail') else 'other(%s %s)' % (cv, reason)
    except Exception as e:
        cv = 'other(%s: %s)' % (type(e).__name__, e)
    print(path, cv.replace(' ', '_'))
PY
v_dkimpy() {
	local got
	got=$(awk -v f="$1" '$1 == f { print $2 }' "$T/dkimpy.results")
	echo "${got:-other(no verdict: $(oneline <"$T/dkimpy.err"))}"
}

# check_sealed CASE INSTANCE CV DOMAIN VERDICT-OF-VERIFY VERIFIERS-SAY
check_sealed() {
	local c=$1 inst=$2 cv=$3 dom=$4 vv=$5 say=$6 f as got

	f=$(delivered "$c")
	if [ -z "$f" ]; then
		fail "$c: not delivered (smtp code $(code_of "$c"))"
		return
	fi
	got=$(names "$f" | head -n5 | tr '\n' ' ')
	if [ "$got" = "ARC-Seal ARC-Message-Signature ARC-Authentication-Results Authentication-Results Received " ]; then
		pass "$c: fields on top in order AS AMS AAR A-R, then Received"
	else
		fail "$c: top fields are: $got"
	fi
	as=$(field ARC-Seal "$f")
	if [ "$(tag "$as" i)" = "$inst" ] && [ "$(tag "$as" cv)" = "$cv" ] &&
	    [ "$(tag "$as" d)" = "$dom" ]; then
		pass "$c: sealed i=$inst cv=$cv d=$dom"
	else
		fail "$c: want i=$inst cv=$cv d=$dom, got: $(echo "$as" | cut -c1-120)"
	fi
	got=$(field X-ARC-Verify "$f")
	if [ "$got" = "X-ARC-Verify: $vv" ]; then
		pass "$c: arc_verify said $vv"
	else
		fail "$c: arc_verify should say $vv: $got"
	fi
	got=$(field Authentication-Results "$f")
	case $got in
	"Authentication-Results: mx.test.example; arc=$vv"*)
		pass "$c: Authentication-Results arc=$vv" ;;
	*)	fail "$c: Authentication-Results: $got" ;;
	esac
	got=$(v_arctool "$f")
	[ "$got" = "$say" ] && pass "$c: arctool says $say" ||
	    fail "$c: arctool should say $say, says $got"
	got=$(v_dkimpy "$f")
	[ "$got" = "$say" ] && pass "$c: dkimpy says $say" ||
	    fail "$c: dkimpy should say $say, says $got"
}

echo "== plain mail: sealed i=1"
check_sealed plain 1 none a.example none pass
f=$(delivered plain)
if [ -n "$f" ]; then
	got=$(field ARC-Authentication-Results "$f" | tr -d '\t')
	case $got in
	*"mx.test.example;arc=none"*"x-e2e=pass"*)
		pass "plain: AAR holds our arc= and the ACL's authres=" ;;
	*)	fail "plain: AAR: $got" ;;
	esac
	id=$(sed -n 's/^X-Exim-Id: //p; s/^[ \t]*id \([^ ]*\)$/\1/p' "$f" | head -n1)
	n=$(grep -c "arc: id=$id cv=" "$T/log/mainlog")
	[ "$n" = 1 ] && pass "plain: arc_verify, arc_result, arc_seal shared one evaluation" ||
	    fail "plain: $n evaluations logged for $id (want 1)"
fi

echo "== a dkimpy-sealed chain: pass, sealed i=2"
check_sealed chain 2 pass a.example pass pass
f=$(delivered chain)
got=$(field X-ARC-Detail "$f")
[ "$got" = "X-ARC-Detail: oldest_pass=0 domains=p1.dkimpy.example sealed=2" ] &&
    pass "chain: arc_result detail: ${got#X-ARC-Detail: }" ||
    fail "chain: arc_result detail: $got"

echo "== a tampered chain: fail, sealed i=2 cv=fail"
check_sealed tamper 2 fail a.example fail fail

echo "== the newest seal says cv=fail: no seal above it (RFC 8617 5.1)"
f=$(delivered cvfail)
if [ -n "$f" ]; then
	got=$(names "$f" | head -n3 | tr '\n' ' ')
	[ "$got" = "Authentication-Results Received X-Case " ] &&
	    pass "cvfail: only our Authentication-Results added" ||
	    fail "cvfail: top fields are: $got"
	got=$(field Authentication-Results "$f")
	case $got in
	"Authentication-Results: mx.test.example; arc=fail"*)
		pass "cvfail: Authentication-Results arc=fail" ;;
	*)	fail "cvfail: $got" ;;
	esac
	got=$(field X-ARC-Verify "$f")
	[ "$got" = "X-ARC-Verify: fail" ] && pass "cvfail: arc_verify said fail" ||
	    fail "cvfail: $got"
else
	fail "cvfail: not delivered (smtp code $(code_of cvfail))"
fi

echo "== reject on fail, where the ACL asks"
c=$(code_of reject-fail)
[ "$c" = 550 ] && [ -z "$(delivered reject-fail)" ] &&
    pass "reject-fail: refused with 550" ||
    fail "reject-fail: smtp code $c, delivered: $(delivered reject-fail)"
check_sealed reject-pass 2 pass a.example pass pass

echo "== per-call sealing identity"
check_sealed seal-b 1 none b.example none pass

echo "== a broken sealing key: delivered, logged, no seal"
f=$(delivered seal-bad)
if [ -n "$f" ]; then
	[ -z "$(field ARC-Seal "$f")" ] && pass "seal-bad: delivered without a seal" ||
	    fail "seal-bad: has an ARC-Seal"
	grep 'arc: .*missing.key' "$T/log/mainlog" >/dev/null &&
	    pass "seal-bad: the main log says why" ||
	    fail "seal-bad: no log line about the key"
else
	fail "seal-bad: not delivered (smtp code $(code_of seal-bad))"
fi

echo "== a forged Authentication-Results, removed in the RCPT ACL"
check_sealed forged 1 none a.example none pass
f=$(delivered forged)
if [ -n "$f" ]; then
	got=$(field ARC-Authentication-Results "$f")
	case $got in
	*forged*) fail "forged: the forged result was sealed: $got" ;;
	*) pass "forged: the AAR does not carry the removed field" ;;
	esac
fi

echo "== keys from DNS, inside Exim"
if [ $dns_ok = 1 ]; then
	check_sealed dns-pass 2 pass a.example pass pass
	# a fail for want of a key (DNS timeout) is not sealed cv=fail: the
	# chain goes on as it came (docs/robustness.md, "DNS outage")
	f=$(delivered dns-timeout)
	if [ -z "$f" ]; then
		fail "dns-timeout: not delivered (smtp code $(code_of dns-timeout))"
	elif [ "$(tag "$(field ARC-Seal "$f")" i)" = 2 ]; then
		fail "dns-timeout: sealed i=2 over a temporary failure"
	else
		pass "dns-timeout: delivered unsealed (temporary failure)"
	fi
	got=$(field X-ARC-Reason "$(delivered dns-timeout)")
	case $got in
	*[Tt]ime*out*) pass "dns-timeout: the reason says so: ${got#*: }" ;;
	*) fail "dns-timeout: reason: $got" ;;
	esac
	grep 'slow.example' "$T/dns/unbound.log" >/dev/null &&
	    grep 'd1.example' "$T/dns/unbound.log" >/dev/null &&
	    pass "dns: unbound was asked for both keys" ||
	    fail "dns: unbound log lacks the queries"
fi

echo "== on-error tempfail: a 451, no paniclog"
c=$(code_of seal-tempfail)
[ "$c" = 451 ] && [ -z "$(delivered seal-tempfail)" ] &&
    pass "seal-tempfail: deferred with 451" ||
    fail "seal-tempfail: smtp code $c, delivered: $(delivered seal-tempfail)"

echo "== OpenSMTPD+filter-arc, then Exim+module: pass at i=2"
if [ $osmtpd = 1 ]; then
	check_sealed via-smtpd 2 pass a.example pass pass
	f=$(delivered via-smtpd)
	got=$(field X-ARC-Detail "$f")
	[ "$got" = "X-ARC-Detail: oldest_pass=0 domains=o.example sealed=2" ] &&
	    pass "via-smtpd: the chain Exim saw was filter-arc's (${got#X-ARC-Detail: })" ||
	    fail "via-smtpd: arc_result detail: $got"
fi

echo "== many messages on one connection"
for c in $cases; do
	case $c in
	mix*-plain) check_sealed "$c" 1 none a.example none pass ;;
	mix*-chain) check_sealed "$c" 2 pass a.example pass pass ;;
	mix*-tamper) check_sealed "$c" 2 fail a.example fail fail ;;
	esac
done 2>&1 | awk '/^FAIL/ { print; bad++ } /^PASS/ { ok++ }
    END { printf "%d %d\n", ok, bad }' >"$T/mix"
nmix=$(tail -n1 "$T/mix")
head -n -1 "$T/mix"
npass=$((npass + ${nmix% *}))
nfail=$((nfail + ${nmix#* }))
echo "mixed: ${nmix% *} passed, ${nmix#* } failed"

echo "== BDAT into a wire-format (CRLF) spool"
check_sealed bdat 1 none a.example none pass

echo "== a $BIG_MB MB message"
check_sealed big 1 none a.example none pass

echo "== bounded memory: peak RSS of exim -bs, small vs $BIG_MB MB"
# bs-script IN OUT: an SMTP session for exim -bs carrying message IN
"$PY" - "$T/msg/c-plain" "$T/bs-small" "$T/msg/c-big" "$T/bs-big" <<'PY'
import sys
a = sys.argv[1:]
for src, out in zip(a[0::2], a[1::2]):
    msg = open(src, 'rb').read().replace(b'\r\n', b'\n')
    body = b''.join(b'.' + l if l.startswith(b'.') else l
                    for l in msg.splitlines(True)).replace(b'\n', b'\r\n')
    with open(out, 'wb') as f:
        f.write(b'EHLO client.example\r\nMAIL FROM:<alice@origin.example>\r\n'
                b'RCPT TO:<bs@test.example>\r\nDATA\r\n' + body +
                b'.\r\nQUIT\r\n')
PY
for s in small big; do
	/usr/bin/time -f %M -o "$T/rss-$s" exim -C "$T/exim.conf" -bs -odq \
	    -oMa 192.0.2.9 <"$T/bs-$s" >"$T/bs-$s.out" 2>&1
done
rs=$(tail -n1 "$T/rss-small")
rb=$(tail -n1 "$T/rss-big")
bigid=$(sed -n 's/^250 OK id=\([^ \r]*\).*/\1/p' "$T/bs-big.out" | head -n1)
if [ -n "$bigid" ] &&
    grep "arc: id=$bigid cv=none .*sealed=i1" "$T/log/mainlog" >/dev/null; then
	pass "exim -bs: the $BIG_MB MB message ($bigid) went through the module"
else
	fail "exim -bs: $BIG_MB MB message not sealed: $(oneline <"$T/bs-big.out")"
fi
if [ -n "$rs" ] && [ -n "$rb" ] && [ "$rb" -le $((rs + RSS_SLACK_KB)) ]; then
	pass "peak RSS ${rb} kB for $BIG_MB MB vs ${rs} kB for a small message"
else
	fail "peak RSS ${rb:-?} kB for $BIG_MB MB vs ${rs:-?} kB (slack $RSS_SLACK_KB kB)"
fi

echo "== many domains: KeyTable and SigningTable choose the seal"
for t in 'tables-one one.example s1 rcpt:*@one.example' \
    'tables-two two.example s2 rcpt:*.two.example' \
    'tables-three three.example s1 list-id:"/^news\\..*three\\.example$/"' \
    'tables-none a.example s1 default' 'tables-acl b.example sb override' \
    'tables-only two.example s2 rcpt:*.two.example'; do
	read -r c dom sel how <<<"$t"
	check_sealed "$c" 1 none "$dom" none pass
	f=$(delivered "$c")
	[ -n "$f" ] || continue
	got=$(tag "$(field ARC-Message-Signature "$f")" s)/$(tag "$(field ARC-Seal "$f")" s)
	[ "$got" = "$sel/$sel" ] && pass "$c: AMS and AS s=$sel" ||
	    fail "$c: AMS/AS selectors $got, want $sel"
	case $how in
	default|override) want="seal=$how match=none" ;;
	*) want="seal=$dom/$sel match=$how" ;;
	esac
	grep -F -- "$want" "$T/log/mainlog" >/dev/null &&
	    pass "$c: the log line says $want" ||
	    fail "$c: no '$want' in the main log"
done

f=$(delivered tables-only-none)
if [ -n "$f" ] && ! grep '^ARC-' "$f" >/dev/null &&
    grep -F 'seal=none match=none' "$T/log/mainlog" >/dev/null; then
	pass "tables-only-none: no match, no default identity: delivered unsealed, logged seal=none"
else
	fail "tables-only-none: delivered ${f:-no}, sealed or not logged"
fi

echo "== Exim's own logs"
if [ -s "$T/log/paniclog" ]; then
	fail "paniclog: $(oneline <"$T/log/paniclog")"
else
	pass "paniclog empty"
fi
if grep -E 'arc: .*(arc_verify|arc_seal|arc_result):' "$T/log/mainlog" |
    grep -v 'missing.key' >"$T/modlog"; then
	fail "unexpected module errors: $(oneline <"$T/modlog")"
else
	pass "no unexpected module errors in the main log"
fi

if [ "${KEEP:-0}" = 1 ] || [ $nfail -gt 0 ]; then
	trap - EXIT
	echo "exim-e2e: files kept in $T"
else
	rm -rf "$T"
fi
echo "exim-e2e: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
