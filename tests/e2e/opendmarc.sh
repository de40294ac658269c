#!/bin/bash
# opendmarc.sh - RFC 8617 §7.2.1 for real: Postfix + arc-milter + OpenDMARC
# 1.4 override a DMARC p=reject failure for a trusted ARC sealer, and
# only for one.
#
# Contract:
#   tests/e2e/opendmarc.sh ARC_MILTER ARCTOOL     (root; make opendmarc-e2e)
#  - Runs under flock /tmp/arc-e2e.lock (taken here unless held already).
#  - Installs what is missing (idempotent, under a lock): Postfix beside
#    Exim (tests/milter/install-postfix.sh), Debian's opendmarc, unbound,
#    python3-dkim.  Everything else lives in a 0755 temporary directory,
#    removed on exit unless KEEP=1 or a check failed.
#  - A private unbound on 127.83.17.53:53 serves origin.example (DKIM key
#    o1, SPF -all for 192.0.2.10 only, DMARC p=reject) and list.example
#    (ARC key l1, SPF for 127.0.0.0/8).  arc-milter asks it as its
#    forwarder; each opendmarc runs in its own mount namespace where
#    /etc/resolv.conf names it and /dev/log is a socket this script reads
#    (opendmarc logs to syslog only; the host's files are untouched).
#  - Mail (tests/e2e/opendmarc_mail.py, dkimpy): alice@origin.example's
#    message, DKIM-signed by origin.example; the list list.example
#    verifies it, records dkim/spf/dmarc=pass in its Authentication-
#    Results, tags the Subject and adds a footer (the author signature
#    breaks), then seals: with arctool (ours) or with dkimpy's arc_sign.
#    Sent from bounce@list.example (SPF pass, not aligned): DMARC fails.
#  - Postfix: smtpd on two ports, both with smtpd_milters = arc-milter
#    (verifies, adds our A-R with arc=pass arc.chain=list.example, and
#    our own policy's policy.arc-trusted / policy.arc-override, since its
#    arc.conf trusts list.example), then opendmarc (TrustedAuthservIDs our
#    id, SPFSelfValidate, RejectFailures).  Port 1's opendmarc has
#    DomainWhitelist list.example, port 2's other.example.
#  - Expected: port 1 accepts both sealed messages, opendmarc logging "ARC
#    pass, policy pass > overriding DMARC fail" and adding dmarc=fail
#    (p=reject dis=none); it rejects the tampered chain and the unsealed
#    message (550 "rejected by DMARC policy"); port 2 rejects the sealed
#    message ("ARC pass, policy fail > continuing DMARC eval").  arc-milter's
#    log line says trusted=list.example override=yes and the §7.2.2
#    comment.
#  - ARC_CONF_EXTRA: lines added to arc-milter's arc.conf (to see the
#    test fail: "authres-arc-chain no" must cost both overrides).
#  - Lines "PASS ..."/"FAIL ..."; last line "opendmarc-e2e: N passed, M
#    failed"; exit 1 if a check failed, 2 if it could not run.  Daemons
#    are children of this script, stopped by PID.
set -u

# /tmp/arc-e2e.lock: one MTA test at a time on this machine.  Taken here
# unless this process holds it already (an outer "flock /tmp/arc-e2e.lock
# make check" hands its descriptor down; locking it again would wait for
# ever).
E2E_LOCK=/tmp/arc-e2e.lock
held=0
for f in /proc/$$/fd/*; do
	[ "$(readlink "$f" 2>/dev/null)" = "$E2E_LOCK" ] && held=1
done
if [ $held = 0 ] && [ "${ARC_E2E_LOCKED:-}" != 1 ]; then
	ARC_E2E_LOCKED=1 exec flock "$E2E_LOCK" bash "$0" "$@"
fi

MILTER=$1
ARCTOOL=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
MAIL=$here/opendmarc_mail.py
P=/opt/postfix
DNS_IP=127.83.17.53
LOCK=/var/lock/arc-install-opendmarc.lock
PATH=$PATH:/usr/sbin:/sbin
export PATH

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
die() {
	echo "*** opendmarc-e2e: $*" >&2
	echo "opendmarc-e2e: $npass passed, $((nfail + 1)) failed"
	exit 2
}

[ "$(id -u)" = 0 ] || die "must run as root (Postfix master, mount namespaces)"

# ---- what it needs, installed once ------------------------------------------

need=
for p in opendmarc unbound python3-dkim publicsuffix; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$' || need="$need $p"
done
if [ -n "$need" ]; then
	# shellcheck disable=SC2086
	flock "$LOCK" sh -c "export DEBIAN_FRONTEND=noninteractive;
	    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
	    apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	    --no-install-recommends $need dbconfig-no-thanks >/dev/null" ||
	    die "apt-get install$need failed"
fi
if [ ! -x "$P/usr/lib/postfix/sbin/master" ] || [ ! -e /usr/lib/postfix ]; then
	sh "$root/tests/milter/install-postfix.sh" >/dev/null ||
	    die "install-postfix.sh failed"
fi
[ -e /etc/resolv.conf ] || die "no /etc/resolv.conf to bind over"
for t in "$MILTER" "$ARCTOOL" /usr/sbin/opendmarc /usr/sbin/unbound; do
	[ -x "$t" ] || die "$t missing"
done

free_port() {	# a TCP port on 127.0.0.1 nothing listens on
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}
SMTP1=$(free_port $((26000 + $$ % 2000)))
SMTP2=$(free_port $((SMTP1 + 1)))
DM1=$(free_port $((SMTP2 + 1)))
DM2=$(free_port $((DM1 + 1)))

D=$(mktemp -d "${TMPDIR:-/tmp}/arc-opendmarc.XXXXXX")
chmod 755 "$D"
PIDS=
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ] || [ $nfail -gt 0 ]; then
		echo "kept $D"
	else
		# the /dev bind mounts live in opendmarc's namespaces only;
		# never follow one all the same
		rm -rf --one-file-system "$D"
	fi
}
trap cleanup EXIT

# ---- keys and DNS -----------------------------------------------------------------

for k in origin list; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$D/$k.pem" 2>/dev/null || die "openssl genpkey failed"
	chmod 600 "$D/$k.pem"
	openssl pkey -in "$D/$k.pem" -pubout -outform DER 2>/dev/null |
	    base64 -w0 >"$D/$k.b64"
done
{
	echo "o1._domainkey.origin.example v=DKIM1; k=rsa; p=$(cat "$D/origin.b64")"
	echo "l1._domainkey.list.example v=DKIM1; k=rsa; p=$(cat "$D/list.b64")"
} >"$D/keys"
txt() {		# txt NAME VALUE: a local-data line, strings of 255 at most
	local v=$2 out=
	while [ -n "$v" ]; do
		out="$out \"${v:0:255}\""
		v=${v:255}
	done
	printf "\tlocal-data: '%s 300 IN TXT%s'\n" "$1" "$out"
}
{
	cat <<EOF
server:
	interface: $DNS_IP@53
	port: 53
	do-ip6: no
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound.pid"
	logfile: "$D/unbound.log"
	use-syslog: no
	verbosity: 1
	log-queries: yes
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	local-zone: "example." static
EOF
	txt o1._domainkey.origin.example "v=DKIM1; k=rsa; p=$(cat "$D/origin.b64")"
	txt l1._domainkey.list.example "v=DKIM1; k=rsa; p=$(cat "$D/list.b64")"
	txt _dmarc.origin.example "v=DMARC1; p=reject; pct=100"
	txt origin.example "v=spf1 ip4:192.0.2.10 -all"
	txt list.example "v=spf1 ip4:127.0.0.0/8 -all"
	printf "\tlocal-data: 'origin.example. 300 IN MX 10 mx.origin.example.'\n"
	printf "\tlocal-data: 'list.example. 300 IN MX 10 mx.list.example.'\n"
} >"$D/unbound.conf"
unbound-checkconf "$D/unbound.conf" >"$D/checkconf.out" 2>&1 ||
    die "unbound.conf: $(cat "$D/checkconf.out")"
unbound -d -c "$D/unbound.conf" >"$D/unbound.stderr" 2>&1 </dev/null &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do
	grep -q 'start of service' "$D/unbound.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'start of service' "$D/unbound.log" 2>/dev/null ||
    die "unbound did not start: $(cat "$D/unbound.stderr" "$D/unbound.log" 2>/dev/null)"
printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$DNS_IP" >"$D/resolv.conf"

# ---- the messages -----------------------------------------------------------------

"$PY" "$MAIL" author "$D/keys" "$D/origin.pem" "$D/author.eml" ||
    die "author message"
"$PY" "$MAIL" list "$D/keys" "$D/author.eml" "$D/listed.eml" ||
    die "list message"
# one copy per case, each with its own Message-ID (the author's signature
# is broken already; the list's seal comes after)
for m in ours dkimpy tampered plain; do
	sed "s/^Message-ID: <dmarc-e2e-1@/Message-ID: <$m-e2e@/" \
	    "$D/listed.eml" >"$D/listed-$m.eml"
done
for m in ours tampered; do
	"$ARCTOOL" seal --no-dns --keys "$D/keys" --domain list.example \
	    --selector l1 --key "$D/list.pem" --authserv-id list.example \
	    "$D/listed-$m.eml" >"$D/sealed-$m.eml" 2>"$D/seal.err" ||
	    die "arctool seal: $(cat "$D/seal.err")"
done
mv "$D/sealed-ours.eml" "$D/ours.eml"
"$PY" "$MAIL" tamper "$D/sealed-tampered.eml" "$D/tampered.eml" || die "tamper"
"$PY" "$MAIL" dkimpy-seal "$D/list.pem" "$D/listed-dkimpy.eml" \
    "$D/dkimpy.eml" || die "dkimpy arc_sign"
cp "$D/listed-plain.eml" "$D/plain.eml"
for m in ours dkimpy; do
	"$ARCTOOL" verify --no-dns --keys "$D/keys" "$D/$m.eml" >"$D/v-$m" 2>&1 ||
	    die "$m.eml does not verify before sending: $(head -3 "$D/v-$m")"
done

# arctool's report says what the adapters say (arc.conf trusted-sealers)
printf 'trusted-sealers *.example\n' >"$D/arctool.conf"
"$ARCTOOL" verify --no-dns --keys "$D/keys" --config "$D/arctool.conf" \
    --authserv-id mx.test.example "$D/ours.eml" >"$D/report" 2>&1
if grep -qx 'trusted: d=list.example i=1 dkim=pass spf=pass dmarc=pass' "$D/report" &&
    grep -qx 'override: yes (trusted sealer list.example at i=1 recorded dmarc=pass; local dmarc=unknown: may be overridden)' "$D/report" &&
    grep -qx 'dmarc-comment: arc=pass as\[1\].d=list.example as\[1\].s=l1 remote-ip\[1\]=192.0.2.7' "$D/report" &&
    grep -q '^Authentication-Results: mx.test.example; arc=pass .* policy.arc-trusted=list.example policy.arc-override=yes$' "$D/report"; then
	pass "arctool verify --config: trusted, override and dmarc-comment lines"
else
	fail "arctool report: $(cat "$D/report")"
fi

# ---- syslog sink, opendmarc x2, arc-milter -------------------------------------

"$PY" "$MAIL" syslog "$D/log.sock" "$D/syslog" &
PIDS="$PIDS $!"
for _ in $(seq 1 50); do [ -S "$D/log.sock" ] && break; sleep 0.05; done
[ -S "$D/log.sock" ] || die "syslog sink did not start"

echo 192.0.2.254 >"$D/ignore.hosts"
for n in 1 2; do
	port=$DM1 wl=list.example
	[ $n = 2 ] && port=$DM2 wl=other.example
	cat >"$D/od$n.conf" <<EOF
AuthservID		mx.test.example
TrustedAuthservIDs	mx.test.example
Socket			inet:$port@127.0.0.1
Background		false
Syslog			true
SyslogFacility		mail
RejectFailures		true
SPFSelfValidate		true
SPFIgnoreResults	true
IgnoreHosts		$D/ignore.hosts
PublicSuffixList	/usr/share/publicsuffix/public_suffix_list.dat
DomainWhitelist		$wl
HistoryFile		$D/history$n
PidFile			$D/od$n.pid
EOF
	# its own mount namespace: our resolver, our /dev/log
	unshare -m --propagation private sh -c '
	    set -e
	    D=$1
	    mount --bind "$D/resolv.conf" /etc/resolv.conf
	    mkdir -p "$D/olddev"
	    mount --rbind /dev "$D/olddev"
	    mount -t tmpfs -o mode=755 tmpfs /dev
	    for n in null zero random urandom; do
		: >"/dev/$n"
		mount --bind "$D/olddev/$n" "/dev/$n"
	    done
	    : >/dev/log
	    mount --bind "$D/log.sock" /dev/log
	    exec /usr/sbin/opendmarc -f -c "$D/od$2.conf"' sh "$D" $n \
	    >"$D/od$n.out" 2>&1 &
	PIDS="$PIDS $!"
done
for port in $DM1 $DM2; do
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.05
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
	    die "opendmarc on $port did not start: $(cat "$D"/od*.out)"
done

mkdir -p "$D/milter"
chown postfix "$D/milter"
cat >"$D/arc.conf" <<EOF
authserv-id mx.test.example
dns-forwarder $DNS_IP@53
trusted-sealers list.example
${ARC_CONF_EXTRA:-}
EOF
"$MILTER" -f -c "$D/arc.conf" -u postfix -p "unix:$D/milter/arc.sock" \
    2>>"$D/milter.log" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do [ -S "$D/milter/arc.sock" ] && break; sleep 0.05; done
[ -S "$D/milter/arc.sock" ] || die "arc-milter did not start: $(cat "$D/milter.log")"

# ---- Postfix ---------------------------------------------------------------------------

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
milter_default_action = tempfail
EOF
cat >"$D/conf/master.cf" <<EOF
127.0.0.1:$SMTP1 inet n - n - - smtpd
  -o { smtpd_milters = unix:$D/milter/arc.sock, inet:127.0.0.1:$DM1 }
127.0.0.1:$SMTP2 inet n - n - - smtpd
  -o { smtpd_milters = unix:$D/milter/arc.sock, inet:127.0.0.1:$DM2 }
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
PIDS="$PIDS $!"
for port in $SMTP1 $SMTP2; do
	ok=0
	for _ in $(seq 1 200); do
		{ exec 3<>"/dev/tcp/127.0.0.1/$port" && read -r -t 5 l <&3 &&
		    exec 3<&- && [[ $l == 220* ]]; } 2>/dev/null && { ok=1; break; }
		sleep 0.05
	done
	[ $ok = 1 ] || die "no Postfix banner on $port: $(tail -20 "$D/postfix.log")"
done

# ---- mail ------------------------------------------------------------------------------

"$PY" "$MAIL" send "$SMTP1" "$D/ours.eml" "$D/dkimpy.eml" "$D/tampered.eml" \
    "$D/plain.eml" >"$D/send1" 2>&1
"$PY" "$MAIL" send "$SMTP2" "$D/ours.eml" >"$D/send2" 2>&1
code() { awk -v f="$D/$2" '$1 == f { print $2; exit }' "$D/$1"; }

delivered() {	# the delivered copy whose Message-ID names $1, waiting a bit
	local m
	for _ in $(seq 1 100); do
		m=$(grep -l -F -- "Message-ID: <$1-e2e@" "$D"/mail/bob/new/* 2>/dev/null |
		    head -1)
		[ -n "$m" ] && { echo "$m"; return 0; }
		sleep 0.05
	done
	return 1
}
# the Postfix queue id of the message with Message-ID $1-e2e@
qid_of() {
	sed -n "s/.*cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<$1-e2e@.*/\1/p" \
	    "$D/postfix.log" | head -1
}

for m in ours dkimpy; do
	c=$(code send1 "$m.eml")
	if [ "$c" = 250 ] && f=$(delivered "$m"); then
		pass "$m seal, list.example whitelisted: accepted and delivered"
	else
		fail "$m seal, list.example whitelisted: SMTP ${c:-?} ($(grep "$m.eml" "$D/send1"))"
		continue
	fi
	if grep -A3 '^Authentication-Results: mx.test.example; arc=pass' "$f" |
	    tr -d '\r\n\t' | grep -q 'arc.chain=list.example'; then
		pass "$m: our A-R says arc=pass with arc.chain=list.example"
	else
		fail "$m: no arc=pass arc.chain=list.example in our A-R"
	fi
	if awk '/^$/ { exit } { print }' "$f" | tr -d '\r' |
	    awk '/^[^ \t]/ { printf "\n" } { printf "%s", $0 }' |
	    grep -q '^Authentication-Results: mx.test.example; dmarc=fail (p=reject dis=none) header.from=origin.example'; then
		pass "$m: opendmarc's A-R: dmarc=fail (p=reject dis=none)"
	else
		fail "$m: opendmarc's A-R with dis=none missing"
	fi
	q=$(qid_of "$m")
	if [ -n "$q" ] && grep -q "$q: ARC pass, policy pass > overriding DMARC fail" "$D/syslog"; then
		pass "$m: opendmarc logged \"$q: ARC pass, policy pass > overriding DMARC fail\""
	else
		fail "$m: no override line for ${q:-?} in opendmarc's log"
	fi
	if grep -A4 '^Authentication-Results: mx.test.example; arc=pass' "$f" |
	    tr -d '\r\n\t' | grep -q 'policy.arc-trusted=list.example policy.arc-override=yes'; then
		pass "$m: our own policy: policy.arc-trusted=list.example policy.arc-override=yes"
	else
		fail "$m: our A-R lacks policy.arc-trusted / policy.arc-override"
	fi
	if [ -n "$q" ] && grep "id=$q " "$D/milter.log" | grep -q \
	    'trusted=list.example trusted-i=1 override=yes dmarc-comment="arc=pass as\[1\].d=list.example as\[1\].s=l1 remote-ip\[1\]=192.0.2.7"'; then
		pass "$m: arc-milter's log: trusted, override=yes, the §7.2.2 comment"
	else
		fail "$m: arc-milter's log line: $(grep "id=${q:-none} " "$D/milter.log")"
	fi
done

for m in tampered plain; do
	c=$(code send1 "$m.eml")
	if [ "$c" = 550 ] && grep "$m.eml" "$D/send1" |
	    grep -q 'rejected by DMARC policy for origin.example'; then
		pass "$m: rejected by OpenDMARC (550 rejected by DMARC policy)"
	else
		fail "$m: not rejected: $(grep "$m.eml" "$D/send1")"
	fi
done
if grep -q 'cv=fail' "$D/milter.log"; then
	pass "tampered: arc-milter says cv=fail"
else
	fail "tampered: no cv=fail in arc-milter's log"
fi

c=$(code send2 "ours.eml")
if [ "$c" = 550 ] && grep -q 'ARC pass, policy fail > continuing DMARC eval' "$D/syslog"; then
	pass "list.example not whitelisted: rejected (ARC pass, policy fail > continuing DMARC eval)"
else
	fail "not whitelisted: SMTP ${c:-?}, log: $(grep -c 'policy fail' "$D/syslog")"
fi

if [ $nfail -gt 0 ]; then
	for f in send1 send2 syslog milter.log od1.out od2.out; do
		echo "--- $f:"
		tail -20 "$D/$f"
	done
	echo "--- postfix log:"
	tail -30 "$D/postfix.log"
fi
echo "opendmarc-e2e: $npass passed, $nfail failed"
exit $((nfail > 0))
