#!/bin/bash
# keys.sh - arctool keygen, testkey and check-config, for real: files,
# modes and users on this machine, records served by a private unbound.
#
# Contract:
#   tests/keys.sh [ARCTOOL]      (default: build/arctool)
#  - Everything lives in a temporary directory, removed on exit; the one
#    daemon (tests/dns/run-unbound.sh, 127.0.0.1) is stopped by it.  Run
#    it under flock /tmp/arc-e2e.lock (mk/keys.mk does).
#  - testkey is checked against records unbound serves: the right key,
#    another key, a revoked key, no TXT data, a DNSSEC-signed zone
#    (secure with the trust anchor; bogus when tampered; not checked
#    without it).  The signed cases are skipped when ldnsutils is missing.
#  - check-config: as root it checks as --user (a key only root can read
#    fails with the path) and says which user it checked as.
#  - One line per case, PASS or FAIL (SKIP with a reason); last line
#    "keys-check: N passed, M failed"; exit 1 if M > 0.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARCTOOL=${1:-$here/../build/arctool}
case $ARCTOOL in /*) ;; *) ARCTOOL=$PWD/$ARCTOOL ;; esac
UNBOUND=$here/dns/run-unbound.sh
[ -x "$ARCTOOL" ] || { echo "keys-check: no $ARCTOOL" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/arc-keys.XXXXXX") || exit 2
chmod 755 "$T"
cleanup() {
	sh "$UNBOUND" stop "$T/dns" >/dev/null 2>&1
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}
has() { grep -F -- "$2" "$1" >/dev/null; }
mode() { stat -c %a "$1"; }

# ---- keygen ---------------------------------------------------------------

cd "$T" || exit 2
(umask 0 && "$ARCTOOL" keygen --domain ex.example --selector s1 \
    --out "$T/s1.pem" >"$T/s1.zone")
check "keygen: under umask 000 the key is created 0600" \
    eval '[ "$(mode "$T/s1.pem")" = 600 ]'
(umask 0277 && "$ARCTOOL" keygen --domain ex.example --selector s0 \
    --out "$T/s0.pem" >/dev/null)
check "keygen: under umask 277 the key is still 0600 (not 0400)" \
    eval '[ "$(mode "$T/s0.pem")" = 600 ]'
sum=$(sha256sum <"$T/s1.pem")
"$ARCTOOL" keygen --domain ex.example --selector s1 --out "$T/s1.pem" \
    >"$T/over.out" 2>"$T/over.err"
rc=$?
check "keygen: an existing key is not overwritten (exit $rc, says --force)" \
    eval '[ $rc != 0 ] && [ "$(sha256sum <"$T/s1.pem")" = "$sum" ] && has "$T/over.err" "s1.pem exists: not overwritten (give --force" && [ ! -s "$T/over.out" ]'
"$ARCTOOL" keygen --domain ex.example --selector s1 --out "$T/s1.pem" \
    --force >"$T/s1.zone" 2>"$T/force.err"
rc=$?
check "keygen --force: replaces it, 0600, no temporary left" \
    eval '[ $rc = 0 ] && [ "$(sha256sum <"$T/s1.pem")" != "$sum" ] && [ "$(mode "$T/s1.pem")" = 600 ] && [ "$(ls "$T" | grep -c "s1.pem")" = 1 ]'
"$ARCTOOL" keygen --domain ex.example --selector s1 \
    --out "$T/no/such/dir/k.pem" 2>"$T/nodir.err"
rc=$?
check "keygen: a missing directory is said as such" \
    eval '[ $rc != 0 ] && has "$T/nodir.err" "cannot create $T/no/such/dir/k.pem: directory $T/no/such/dir does not exist"'
"$ARCTOOL" keygen --domain ex.example --selector big --bits 4096 \
    --out "$T/big.pem" >"$T/big.zone"
check "keygen --format zone: one BIND line, strings of at most 255 octets" \
    eval 'grep -E "^big\._domainkey\.ex\.example\. IN TXT( \"[^\"]{1,255}\")+\$" "$T/big.zone" >/dev/null && [ "$(grep -o "\"[^\"]*\"" "$T/big.zone" | wc -l)" -ge 3 ]'
"$ARCTOOL" keygen --domain ex.example --selector b2 --out "$T/b2.pem" \
    --format bare >"$T/b2.bare"
check "keygen --format bare: the value alone, one line, unquoted" \
    eval 'grep -E "^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+\$" "$T/b2.bare" >/dev/null && [ "$(wc -l <"$T/b2.bare")" = 1 ]'
"$ARCTOOL" keygen --domain ex.example --selector e1 --type ed25519 \
    --out "$T/e1.pem" --format name >"$T/e1.name"
check "keygen --format name: the owner name alone" \
    eval '[ "$(cat "$T/e1.name")" = "e1._domainkey.ex.example" ]'

# ---- testkey against unbound ----------------------------------------------

mkdir -p "$T/dns"
"$ARCTOOL" keygen --domain key.example --selector s1 --out "$T/k1.pem" \
    >"$T/k1.zone"
"$ARCTOOL" keygen --domain key.example --selector s2 --type ed25519 \
    --out "$T/k2.pem" >"$T/k2.zone"
"$ARCTOOL" keygen --domain key.example --selector other --out "$T/other.pem" \
    >/dev/null
# zone lines -> unbound local-data (names under zone example.)
for z in k1 k2; do
	sed 's/^\([^ ]*\) IN TXT \(.*\)$/local-data: '"'"'\1 300 IN TXT \2'"'"'/' \
	    "$T/$z.zone"
done >"$T/dns/keys.conf"
signed=0
if command -v ldns-signzone >/dev/null 2>&1; then
	{
		printf '$ORIGIN signed.example.\n$TTL 300\n'
		printf '@ IN SOA ns hostmaster 1 3600 600 86400 300\n'
		printf '@ IN NS ns\nns IN A 127.0.0.1\n'
		"$ARCTOOL" keygen --domain signed.example --selector s1 \
		    --out "$T/sg.pem"
		"$ARCTOOL" keygen --domain tampered.signed.example \
		    --selector s1 --out "$T/tp.pem" |
		    sed 's/"$/; n=original"/'
	} >"$T/dns/signed.in"
	sh "$UNBOUND" sign "$T/dns" >/dev/null 2>&1 && signed=1
fi
port=$((20000 + $$ % 20000))
if ! sh "$UNBOUND" start "$T/dns" "$port" >"$T/unbound.err" 2>&1; then
	fail "testkey: private unbound did not start ($(head -3 "$T/unbound.err"))"
else
	F="--dns-forwarder 127.0.0.1@$port"
	tk() {	# tk NAME DOMAIN SELECTOR KEY [options]: output in $T/NAME.out
		local n=$1 d=$2 s=$3 k=$4
		shift 4
		# shellcheck disable=SC2086
		"$ARCTOOL" testkey --domain "$d" --selector "$s" --key "$k" $F \
		    "$@" >"$T/$n.out" 2>&1
	}
	tk ok key.example s1 "$T/k1.pem"
	rc=$?
	check "testkey: the published rsa key matches: OK, 2048 bits, flags, DNSSEC not checked" \
	    eval '[ $rc = 0 ] && has "$T/ok.out" "key: rsa, 2048 bits" && has "$T/ok.out" "match: the published key is the public half of $T/k1.pem" && has "$T/ok.out" "flags: none" && has "$T/ok.out" "dnssec: not checked" && has "$T/ok.out" "result: OK"'
	tk ed key.example s2 "$T/k2.pem"
	rc=$?
	check "testkey: an ed25519 key matches (256 bits)" \
	    eval '[ $rc = 0 ] && has "$T/ed.out" "key: ed25519, 256 bits" && has "$T/ed.out" "result: OK"'
	tk wrong key.example s1 "$T/other.pem"
	rc=$?
	check "testkey: another private key: NO match, exit 1" \
	    eval '[ $rc = 1 ] && has "$T/wrong.out" "match: NO" && has "$T/wrong.out" "result: not usable"'
	tk revoked revoked.example sel "$T/k1.pem"
	rc=$?
	check "testkey: an empty p= says revoked" \
	    eval '[ $rc = 1 ] && has "$T/revoked.out" "the key is revoked (p= is empty)"'
	tk nodata nodata.example sel "$T/k1.pem"
	rc=$?
	check "testkey: a name without TXT data says so" \
	    eval '[ $rc = 1 ] && has "$T/nodata.out" "result: no TXT record"'
	tk junk junk.example sel "$T/k1.pem"
	rc=$?
	check "testkey: a p= that is not base64 is not a key" \
	    eval '[ $rc = 1 ] && has "$T/junk.out" "is not a rsa public key"'
	if [ $signed = 1 ]; then
		tk sec signed.example s1 "$T/sg.pem" \
		    --dnssec-trust-anchor "$T/dns/ta.ds"
		rc=$?
		check "testkey: a signed zone with the trust anchor: dnssec secure, OK" \
		    eval '[ $rc = 0 ] && has "$T/sec.out" "dnssec: secure" && has "$T/sec.out" "result: OK"'
		tk bogus tampered.signed.example s1 "$T/tp.pem" \
		    --dnssec-trust-anchor "$T/dns/ta.ds"
		check "testkey: a tampered signed record: dnssec bogus" \
		    has "$T/bogus.out" "dnssec: bogus"
	else
		echo "SKIP testkey DNSSEC: ldnsutils not installed"
	fi
fi

# ---- check-config and the key table ---------------------------------------

cat >"$T/arc.conf" <<EOF
authserv-id mx.key.example
dns no
seal-domain key.example
seal-selector s1
seal-key $T/k1.pem
EOF
chmod 644 "$T/arc.conf"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	"$ARCTOOL" check-config --config "$T/arc.conf" --user nobody \
	    >"$T/cc1.out" 2>&1
	rc=$?
	check "check-config --user nobody: a key only root reads fails (78) with file:line and path" \
	    eval '[ $rc = 78 ] && has "$T/cc1.out" "$T/arc.conf:5: seal-key $T/k1.pem: Permission denied (checked as user nobody (uid"'
	"$ARCTOOL" check-config --config "$T/arc.conf" >"$T/cc2.out" 2>&1
	rc=$?
	check "check-config as root without --user: OK, says it checked as root" \
	    eval '[ $rc = 0 ] && has "$T/cc2.out" "$T/arc.conf: OK (checked as user root (uid 0" && has "$T/cc2.out" "give --user"'
	chgrp nogroup "$T/k1.pem" && chmod 640 "$T/k1.pem"
	"$ARCTOOL" check-config --config "$T/arc.conf" --user nobody \
	    >"$T/cc3.out" 2>&1
	rc=$?
	check "check-config --user nobody: readable through its group: OK" \
	    eval '[ $rc = 0 ] && has "$T/cc3.out" "OK (checked as user nobody"'
	su -s /bin/sh nobody -c "'$ARCTOOL' check-config --config '$T/arc.conf' --user root" \
	    >"$T/cc4.out" 2>&1
	rc=$?
	check "check-config --user root run by nobody: refused, not pretended" \
	    eval '[ $rc = 78 ] && has "$T/cc4.out" "cannot become root: only root can"'
else
	echo "SKIP check-config as another user: needs root and user nobody"
fi
printf 'dns-timeout 4294967296000\n' >"$T/big.conf"
"$ARCTOOL" check-config --config "$T/big.conf" >"$T/cc5.out" 2>&1
rc=$?
check "check-config: a number out of range is an error with file:line" \
    eval '[ $rc = 78 ] && has "$T/cc5.out" "$T/big.conf:1: invalid value \"4294967296000\" for dns-timeout (a number from 1 to 300000)"'
printf 'message-timeout 0\n' >"$T/zero.conf"
"$ARCTOOL" check-config --config "$T/zero.conf" >"$T/cc6.out" 2>&1
rc=$?
check "check-config: message-timeout 0 is below its minimum" \
    eval '[ $rc = 78 ] && has "$T/cc6.out" "zero.conf:1: invalid value \"0\" for message-timeout (a number from 1 to 3600000)"'

printf '# keys come later\n\n   # really\n' >"$T/empty.keys"
"$ARCTOOL" keygen --domain up.example --selector u1 --out "$T/u1.pem" >/dev/null
printf 'From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n' >"$T/p.eml"
"$ARCTOOL" seal --domain up.example --selector u1 --key "$T/u1.pem" \
    --authserv-id mx.up.example --no-dns "$T/p.eml" >"$T/sealed.eml" 2>/dev/null
"$ARCTOOL" verify --no-dns --keys "$T/empty.keys" "$T/sealed.eml" >"$T/empty.out" 2>&1
check "verify with a key table of comments only: says the table is empty" \
    has "$T/empty.out" "the key table $T/empty.keys is empty"

echo "keys-check: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
