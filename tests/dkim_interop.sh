#!/bin/sh
# dkim_interop.sh ARCTOOL - DKIM results through arctool and the adapter
# layer, against dkimpy and Mail::DKIM (issue 17).
#
# Contract: offline (keys from key tables in a temporary directory,
# removed on exit).  Checks, each a PASS or FAIL line:
#  1. every fixture of tests/dkim/gen.py (dkimpy and Mail::DKIM signed):
#     "arctool verify --dkim" gives the results the fixture names;
#  2. "authenticate dkim" from --config does the same; "authenticate spf"
#     is accepted, an unknown method is a config error naming file:line;
#  3. "arctool seal --dkim" of a dkimpy-signed message (rsa + ed25519):
#     dkimpy and Mail::DKIM verify the seal, and the AAR parsed back
#     with python3-authres says dkim=pass for both signatures;
#  4. the same through an adapter session (seal --config with a signing
#     table and authenticate dkim): the AAR holds both results.
# Last line "dkim-interop: N passed, M failed"; exit 1 if M > 0.
set -u
ARCTOOL=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/arc-dkim-interop.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }

/usr/bin/python3 "$here/dkim/gen.py" "$tmp" || { echo "gen.py failed"; exit 2; }
kt=$tmp/keytable
printf 'key-table %s\ndns no\nauthenticate dkim\n' "$kt" > "$tmp/arc.conf"

results() {	# arctool output -> "r1,r2" or "-"
	sed -n 's/^dkim [0-9]*: \([a-z]*\) .*/\1/p' | paste -sd, - |
	    sed 's/^$/-/'
}

while read -r name want dkimpy mdkim flags; do
	case $flags in *dns*) continue ;; esac
	got=$("$ARCTOOL" verify --dkim --no-dns --keys "$kt" \
	    "$tmp/$name.eml" | results)
	if [ "$got" = "$want" ]; then ok "1 $name: $got"
	else ko "1 $name: got $got, want $want"; fi
	got=$("$ARCTOOL" verify --config "$tmp/arc.conf" "$tmp/$name.eml" |
	    results)
	if [ "$got" = "$want" ]; then ok "2 $name (--config): $got"
	else ko "2 $name (--config): got $got, want $want"; fi
done < "$tmp/expect"

printf 'key-table %s\ndns no\nauthenticate dkim spf\n' "$kt" > "$tmp/spf.conf"
if "$ARCTOOL" verify --config "$tmp/spf.conf" "$tmp/multiple.eml" |
    grep -q '^dkim 2: pass'; then ok "2 authenticate dkim spf accepted"
else ko "2 authenticate dkim spf"; fi
printf 'dns no\n\nauthenticate dkim bogus\n' > "$tmp/bad.conf"
err=$("$ARCTOOL" verify --config "$tmp/bad.conf" "$tmp/multiple.eml" 2>&1)
case $err in *bad.conf:3*bogus*) ok "2 unknown method: $err" ;;
	*) ko "2 unknown method not refused with file:line: $err" ;; esac

# 3: seal with our DKIM results in the AAR, verified by both peers
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$tmp/seal.pem" 2>/dev/null && chmod 600 "$tmp/seal.pem"
pub=$(openssl pkey -in "$tmp/seal.pem" -pubout -outform DER | base64 -w0)
printf 's1._domainkey.list.example "v=DKIM1; k=rsa; p=%s"\n' "$pub" >> "$kt"
"$ARCTOOL" seal --dkim --no-dns --keys "$kt" --domain list.example \
    --selector s1 --key "$tmp/seal.pem" --authserv-id mx.list.example \
    "$tmp/multiple.eml" > "$tmp/sealed.eml" || ko "3 arctool seal --dkim"
v=$(/usr/bin/python3 "$here/interop/dkimpy_peer.py" verify "$kt" \
    "$tmp/sealed.eml")
case $v in pass*) ok "3 dkimpy verifies the seal: $v" ;;
	*) ko "3 dkimpy: $v" ;; esac
v=$(perl "$here/interop/mdkim_peer.pl" verify "$kt" "$tmp/sealed.eml")
case $v in pass*) ok "3 Mail::DKIM verifies the seal: $v" ;;
	*) ko "3 Mail::DKIM: $v" ;; esac
v=$(/usr/bin/python3 - "$tmp/sealed.eml" <<'PY'
import email, sys, authres
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'))
aar = msg['ARC-Authentication-Results']
val = aar.split(';', 1)[1]	# after i=1
ar = authres.AuthenticationResultsHeader.parse_value(val)
print(' '.join('%s=%s/%s' % (r.method, r.result,
      dict((p.type + '.' + p.name, p.value) for p in r.properties)
      .get('header.s', '-')) for r in ar.results))
PY
)
case $v in *"arc=none"*"dkim=pass/ed dkim=pass/r1024"*)
	ok "3 AAR parsed by python3-authres: $v" ;;
	*) ko "3 AAR: $v" ;; esac

# 4: through an adapter session (what filter-arc and arc-milter run):
# seal --config with the signing table and authenticate dkim
printf 'list	list.example:s1:%s\n' "$tmp/seal.pem" > "$tmp/KeyTable"
printf '*@example.org	list\n' > "$tmp/SigningTable"
printf 'dns no\nkey-table %s\nseal-key-table %s\nseal-signing-table %s\n' \
    "$kt" "$tmp/KeyTable" "$tmp/SigningTable" > "$tmp/seal.conf"
printf 'seal-select from\nauthenticate dkim\n' >> "$tmp/seal.conf"
"$ARCTOOL" seal --config "$tmp/seal.conf" --authserv-id mx.list.example \
    "$tmp/multiple-one-bad.eml" > "$tmp/sealed2.eml" 2>/dev/null
aar=$(sed -n '/^ARC-Authentication-Results:/,/^[^ \t]/p' "$tmp/sealed2.eml" |
    tr '\r\n\t' '   ' | tr -s ' ')
case $aar in *"arc=none; dkim=pass header.d=example.org"*"header.s=r2048"*"dkim=fail header.d=example.org"*"header.s=wrong"*)
	ok "4 session AAR: dkim=pass, dkim=fail after arc=none" ;;
	*) ko "4 session AAR: $aar" ;; esac
v=$(/usr/bin/python3 "$here/interop/dkimpy_peer.py" verify "$kt" \
    "$tmp/sealed2.eml")
case $v in pass*) ok "4 dkimpy verifies the session's seal" ;;
	*) ko "4 dkimpy: $v" ;; esac
echo "dkim-interop: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
