#!/bin/sh
# arctool over real DNS: keys served by a private unbound on 127.0.0.1.
#  1. a 2-hop chain sealed with key-table keys verifies pass over DNS
#     alone, with one query per distinct key;
#  2. a chain whose key sits in a zone that never answers fails with a
#     reason that says "timeout" (temperror), after the configured timeout.
# Usage: arctool-dns.sh path/to/arctool
set -u
ARCTOOL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d)
PORT=$((20000 + $$ % 20000))
pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }
cleanup() { sh "$HERE/run-unbound.sh" stop "$D" >/dev/null 2>&1; rm -rf "$D"; }
trap cleanup EXIT

command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] ||
    { echo "arctool-dns: unbound not installed"; exit 1; }
"$ARCTOOL" keygen --domain one.example --selector s1 --out "$D/one.pem" >"$D/keys"
"$ARCTOOL" keygen --domain two.example --selector s2 --type ed25519 \
    --out "$D/two.pem" >>"$D/keys"
"$ARCTOOL" keygen --domain slow.example --selector s3 --out "$D/slow.pem" \
    >"$D/slowkeys"
# local-data lines for unbound: name TXT "string" "string"
sed 's/^\([^ ]*\) IN TXT \(.*\)$/local-data: "\1 300 IN TXT \2"/' "$D/keys" |
    sed "s/\"\\([^\"]*\\) 300 IN TXT /'\\1 300 IN TXT /; s/\"\$/'/" >"$D/keys.conf"
sh "$HERE/run-unbound.sh" start "$D" "$PORT" >/dev/null ||
    { echo "arctool-dns: unbound did not start"; exit 1; }

MSG="$HERE/../data/sample.eml"
"$ARCTOOL" seal --keys "$D/keys" --domain one.example --selector s1 \
    --key "$D/one.pem" --authserv-id mx.one.example "$MSG" >"$D/h1.eml"
"$ARCTOOL" seal --keys "$D/keys" --domain two.example --selector s2 \
    --key "$D/two.pem" --authserv-id mx.two.example "$D/h1.eml" >"$D/h2.eml"
before=$(grep -c 'TXT IN' "$D/unbound.log" || true)
out=$("$ARCTOOL" verify --dns-forwarder "127.0.0.1@$PORT" "$D/h2.eml")
rc=$?
after=$(grep -c 'TXT IN' "$D/unbound.log" || true)
case "$out" in
arc=pass*) [ $rc = 0 ] && ok "2-hop chain verifies over DNS" ||
    ko "exit $rc" ;;
*) ko "2-hop chain over DNS: $(echo "$out" | head -1)" ;;
esac
[ $((after - before)) = 2 ] && ok "one query per distinct key (2)" ||
    ko "expected 2 queries, unbound saw $((after - before))"

"$ARCTOOL" seal --keys "$D/slowkeys" --domain slow.example --selector s3 \
    --key "$D/slow.pem" --authserv-id mx.slow.example "$MSG" >"$D/slow.eml"
printf 'dns-timeout 1000\n' >"$D/arc.conf"
t0=$(date +%s)
out=$("$ARCTOOL" verify --config "$D/arc.conf" \
    --dns-forwarder "127.0.0.1@$PORT" "$D/slow.eml")
rc=$?
t1=$(date +%s)
case "$out" in
arc=fail*temperror*timeout*) [ $rc = 1 ] && ok "unanswered key: fail, temperror, timeout" ||
    ko "exit $rc" ;;
*) ko "unanswered key: $(echo "$out" | head -1)" ;;
esac
[ $((t1 - t0)) -le 5 ] && ok "gave up after the configured timeout" ||
    ko "took $((t1 - t0)) s"
echo "arctool-dns: $pass passed, $fail failed"
[ $fail = 0 ]
