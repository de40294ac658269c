#!/bin/sh
# arctool-tables.sh - arctool seal --config with a KeyTable and a
# SigningTable (issue 15): the tables choose the key from From, List-Id,
# --rcpt and --mail-from, stderr says which, dkimpy and arctool verify
# each seal, and a bad table line stops arctool with file:line.
#
#   sh tests/signing/arctool-tables.sh BUILD/arctool
# Prints PASS/FAIL lines and "signing-check: N passed, M failed"; exit 1
# if anything failed.
set -u
A=$1
here=$(cd "$(dirname "$0")" && pwd)
PEER=$here/../interop/dkimpy_peer.py
T=$(mktemp -d /tmp/arc-signing.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT
np=0 nf=0
pass() { np=$((np + 1)); echo "PASS $*"; }
fail() { nf=$((nf + 1)); echo "FAIL $*"; }

: >"$T/pub"
for id in one.example:s1 two.example:s1 two.example:s2 three.example:s1; do
	"$A" keygen --domain "${id%%:*}" --selector "${id#*:}" \
	    --out "$T/${id%%:*}-${id#*:}.pem" >>"$T/pub" || exit 2
done
cat >"$T/KeyTable" <<KT
# OpenDKIM KeyTable
one	one.example:s1:$T/one.example-s1.pem
two	two.example:s1:$T/two.example-s1.pem
two-new	two.example:s2:$T/two.example-s2.pem
three	three.example:s1:$T/three.example-s1.pem
KT
cat >"$T/SigningTable" <<'ST'
*@one.example	one
*.two.example	two-new
two.example	two
/^news\..*three\.example$/ three
ST
conf() {	# conf SELECT: an arc.conf with the tables
	printf 'dns no\nkey-table %s/pub\nseal-key-table %s/KeyTable\n' \
	    "$T" "$T"
	printf 'seal-signing-table %s/SigningTable\nseal-select %s\n' "$T" "$1"
}
conf list-id,rcpt,sender >"$T/arc.conf"
conf from >"$T/from.conf"
msg() {	# msg FROM [HEADER]
	printf 'From: Someone <%s>\nTo: x@y.example\n%sSubject: t\n' "$1" \
	    "${2:+$2
}"
	printf 'Date: Mon, 23 Nov 2026 09:00:00 +0000\nMessage-ID: <t@x>\n\nHi.\n'
}
# case NAME CONF WANT-D WANT-S WANT-STDERR ARGS...: stdin is the message
case_() {
	name=$1 c=$2 d=$3 s=$4 want=$5
	shift 5
	"$A" seal --config "$c" --authserv-id mx.test.example "$@" - \
	    >"$T/out" 2>"$T/err"
	got=$(sed -n '1,/^$/p' "$T/out" | tr -d '\n\t ' |
	    sed -n 's/^ARC-Seal:[^;]*;[^;]*;d=\([^;]*\);s=\([^;]*\);.*/\1\/\2/p')
	if [ "$got" = "$d/$s" ] && grep -F -- "$want" "$T/err" >/dev/null &&
	    "$A" verify --no-dns --keys "$T/pub" "$T/out" >/dev/null &&
	    /usr/bin/python3 "$PEER" verify "$T/pub" "$T/out" >/dev/null; then
		pass "$name: d=$d s=$s, verifies (arctool, dkimpy): $want"
	else
		fail "$name: sealed ${got:-?}, want $d/$s; stderr: $(cat "$T/err")"
	fi
}
msg a@origin.example >"$T/m1"
msg a@origin.example 'List-Id: News <news.lists.three.example>' >"$T/m2"
msg '"Two, Apex" <Boss@TWO.example>' >"$T/m3"
case_ rcpt "$T/arc.conf" one.example s1 \
    'arctool: sealed i=1 seal=one.example/s1 match=rcpt:*@one.example' \
    --rcpt nobody@else.example --rcpt '<U@One.Example>' <"$T/m1"
case_ sender "$T/arc.conf" two.example s2 \
    'seal=two.example/s2 match=sender:*.two.example' \
    --mail-from bounces@lists.two.example <"$T/m1"
case_ list-id "$T/arc.conf" three.example s1 \
    'match=list-id:"/^news\\..*three\\.example$/"' --rcpt u@one.example \
    <"$T/m2"
case_ from "$T/from.conf" two.example s1 \
    'seal=two.example/s1 match=from:two.example' <"$T/m3"
# no match, no default identity: not sealed, and said so
msg a@origin.example | "$A" seal --config "$T/arc.conf" \
    --authserv-id mx.test.example - >"$T/out" 2>"$T/err"
if [ $? = 0 ] && ! grep '^ARC-Seal:' "$T/out" >/dev/null &&
    grep -F 'not sealed: no key chosen seal=none match=none' "$T/err" \
    >/dev/null; then
	pass "no match: not sealed, stderr says seal=none match=none"
else
	fail "no match: $(cat "$T/err")"
fi
# a bad line: arctool stops with file:line
echo '*@four.example four' >>"$T/SigningTable"
msg a@origin.example | "$A" seal --config "$T/arc.conf" \
    --authserv-id mx.test.example - >/dev/null 2>"$T/err"
rc=$?
if [ $rc = 78 ] && grep -F "$T/SigningTable:5: key \"four\" is not in the key table" \
    "$T/err" >/dev/null; then
	pass "bad signing-table line: exit 78 with file:line"
else
	fail "bad signing-table line: exit $rc: $(cat "$T/err")"
fi
echo "signing-check: $np passed, $nf failed"
[ $nf = 0 ]
