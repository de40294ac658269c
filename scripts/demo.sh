#!/bin/sh
# make demo: seal a sample message at two hops and verify it, with keys
# from a key table file instead of DNS.  Usage: demo.sh path/to/arctool
set -eu
ARCTOOL=${1:-build/arctool}
SAMPLE=$(dirname "$0")/../tests/data/sample.eml
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

echo "== 1. keys: one per sealing domain (arctool keygen)"
"$ARCTOOL" keygen --domain list.example --selector demo --out "$D/list.pem" \
    >"$D/keys"
"$ARCTOOL" keygen --domain fwd.example --selector demo --type ed25519 \
    --out "$D/fwd.pem" >>"$D/keys"
cut -c1-100 "$D/keys" | sed 's/$/.../'

echo
echo "== 2. the list (list.example) verifies (no chain yet) and seals: i=1"
"$ARCTOOL" seal --keys "$D/keys" --domain list.example --selector demo \
    --key "$D/list.pem" --authserv-id mx.list.example --timestamp 1795424400 \
    "$SAMPLE" >"$D/hop1.eml"
sed -n '1,/^Received:/p' "$D/hop1.eml" | sed '$d'

echo
echo "== 3. a forwarder (fwd.example) verifies the chain and seals again: i=2"
"$ARCTOOL" seal --keys "$D/keys" --domain fwd.example --selector demo \
    --key "$D/fwd.pem" --authserv-id mx.fwd.example "$D/hop1.eml" \
    >"$D/hop2.eml"
grep -A1 '^ARC-Seal: i=2' "$D/hop2.eml"

echo
echo "== 4. the final receiver verifies: Authentication-Results"
"$ARCTOOL" verify --keys "$D/keys" --authserv-id mx.receiver.example \
    --remote-ip 192.0.2.25 "$D/hop2.eml" || true

echo
echo "== 5. someone changes the body on the way: the chain fails"
sed 's/Hello Bob/Hello Eve/' "$D/hop2.eml" >"$D/tampered.eml"
"$ARCTOOL" verify --keys "$D/keys" --authserv-id mx.receiver.example \
    "$D/tampered.eml" | head -1 || true
