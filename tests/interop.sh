#!/bin/bash
# interop.sh - ARC interoperability between arctool and real peers.
#
# Contract:
#   tests/interop.sh [ARCTOOL]     (default: build/arctool of this tree)
#  - Runs from any cwd, offline: every key is served from a key table in a
#    temporary directory (removed on exit), never from DNS.
#  - Peers: dkimpy (Debian python3-dkim, with python3-authres for sealing
#    and python3-nacl for ed25519) and Mail::DKIM (libmail-dkim-perl).  It
#    installs nothing; a missing peer is a loud error (exit 2).  Helpers
#    are tests/interop/dkimpy_peer.py and tests/interop/mdkim_peer.pl.
#  - Checks (every line PASS, FAIL or SKIP with its check number):
#    1. arctool seals 1, 2 and 5 hops of an RSA-2048 chain (own key,
#       domain and selector per hop); dkimpy and Mail::DKIM say pass.
#    2. The same with ed25519-sha256; a peer whose ARC code has no
#       ed25519-sha256 (dkimpy 1.1.4 and Mail::DKIM 1.20230212 do not) is a
#       SKIP, with the peer's own verdict shown; dkimpy's DKIM ed25519
#       code (python3-nacl) then still checks the chain, with ed25519-sha256
#       added to its ARC algorithm list.
#    3. dkimpy seals 1, 2 and 5 hops, arctool verify says pass; then
#       Mail::DKIM seals a hop on a dkimpy chain, arctool says pass.
#    4. Tampering (body byte, Subject, top ARC-Seal removed) of an arctool
#       and a dkimpy 2-hop chain: arctool, dkimpy and Mail::DKIM say fail.
#  - Last line: "interop: N passed, M failed"; exit status 1 if M > 0.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARCTOOL=${1:-$here/../build/arctool}
case $ARCTOOL in /*) ;; *) ARCTOOL=$PWD/$ARCTOOL ;; esac
PYPEER=$here/interop/dkimpy_peer.py
PLPEER=$here/interop/mdkim_peer.pl

die() {
	printf '\n*** interop: %s\n\n' "$*" >&2
	exit 2
}

[ -x "$ARCTOOL" ] || die "arctool not found or not executable: $ARCTOOL"
PY=
for p in ${PYTHON:-} /usr/bin/python3 python3; do
	if "$p" -c 'import dkim' 2>/dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || die "dkimpy missing: python3 -c 'import dkim' fails" \
    "(apt-get install python3-dkim)"
"$PY" -c 'import authres' 2>/dev/null ||
    die "dkimpy cannot seal ARC: 'import authres' fails" \
    "(apt-get install python3-authres)"
perl -MMail::DKIM::ARC::Verifier -MMail::DKIM::ARC::Signer -e1 2>/dev/null ||
    die "Mail::DKIM missing: perl -MMail::DKIM::ARC::Verifier -e1 fails" \
    "(apt-get install libmail-dkim-perl)"
command -v openssl >/dev/null || die "openssl missing"

T=$(mktemp -d "${TMPDIR:-/tmp}/arc-interop.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
KT=$T/keytable
: >"$KT"

npass=0
nfail=0
nskip=0
pass() { npass=$((npass + 1)); echo "PASS $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL $*"; }
skip() { nskip=$((nskip + 1)); echo "SKIP $*"; }
oneline() { tr '\r\n' '  ' | cut -c1-300; }

cat >"$T/m0" <<'EOF'
From: Alice <alice@origin.example>
To: Bob <bob@dest.example>
Subject: ARC interop test
Date: Mon, 01 Jan 2024 00:00:00 +0000
Message-ID: <interop-1@origin.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this body line is signed.
  Indented line,   with   spaces.

-- 
Alice
EOF

# arctool_key ALG I: key (and key table entry) for arctool hop I
arctool_key() {
	local alg=$1 i=$2 dom=a$2.$1.example sel=s$2 pem=$T/a-$1-$2.pem
	local type=rsa bits="--bits 2048"

	[ -s "$pem" ] && return 0
	[ "$alg" = ed25519 ] && { type=ed25519; bits=; }
	# shellcheck disable=SC2086
	"$ARCTOOL" keygen --domain "$dom" --selector "$sel" --type "$type" \
	    $bits --out "$pem" >"$pem.txt" 2>"$pem.err" || {
		echo "arctool keygen failed: $(oneline <"$pem.err")"
		rm -f "$pem"
		return 1
	}
	"$PY" "$PYPEER" keyline "$sel" "$dom" "$pem.txt" >>"$KT" 2>"$pem.err" || {
		echo "bad keygen output: $(oneline <"$pem.txt")"
		rm -f "$pem"
		return 1
	}
}

# arctool_chain ALG N OUT: N hops sealed by arctool; reason on stdout if not
arctool_chain() {
	local alg=$1 n=$2 out=$3 i cur=$T/m0 next algopt=rsa-sha256

	[ "$alg" = ed25519 ] && algopt=ed25519-sha256
	for ((i = 1; i <= n; i++)); do
		arctool_key "$alg" "$i" || return 1
		next=$out.hop$i
		{
			printf 'Authentication-Results: mx.a%s.%s.example; ' "$i" "$alg"
			printf 'spf=pass smtp.mailfrom=alice@origin.example\n'
			cat "$cur"
		} >"$next.in"
		"$ARCTOOL" seal --domain "a$i.$alg.example" --selector "s$i" \
		    --key "$T/a-$alg-$i.pem" --authserv-id "mx.a$i.$alg.example" \
		    --keys "$KT" --algorithm "$algopt" "$next.in" \
		    >"$next" 2>"$next.err" || {
			echo "arctool seal hop $i failed: $(oneline <"$next.err")"
			return 1
		}
		grep -qi '^ARC-Seal:' "$next" || {
			echo "arctool seal hop $i added no ARC-Seal"
			return 1
		}
		cur=$next
	done
	cp "$cur" "$out"
}

# dkimpy_chain N OUT: N hops sealed by dkimpy with its own RSA keys
dkimpy_chain() {
	local n=$1 out=$2 i cur=$T/m0 next pem

	for ((i = 1; i <= n; i++)); do
		pem=$T/p-$i.pem
		if [ ! -s "$pem" ]; then
			if ! openssl genrsa -traditional -out "$pem" 2048 \
			    2>/dev/null; then
				echo "openssl genrsa failed"
				return 1
			fi
			printf 'py%s._domainkey.p%s.dkimpy.example v=DKIM1; k=rsa; p=%s\n' \
			    "$i" "$i" "$(openssl rsa -in "$pem" -pubout -outform DER \
			    2>/dev/null | base64 -w0)" >>"$KT"
		fi
		next=$out.hop$i
		"$PY" "$PYPEER" seal "$KT" "$pem" "py$i" "p$i.dkimpy.example" \
		    "hop$i.example" "$cur" >"$next" 2>"$next.err" || {
			echo "dkimpy seal hop $i failed: $(tail -n1 "$next.err")"
			return 1
		}
		cur=$next
	done
	cp "$cur" "$out"
}

# verifiers: print a short verdict; status 0 pass, 1 fail, else other
v_dkimpy() { "$PY" "$PYPEER" verify "$KT" "$1" 2>&1 | oneline; return "${PIPESTATUS[0]}"; }
v_mdkim() {
	local r rc
	r=$(perl "$PLPEER" verify "$KT" "$1" 2>"$T/mdkim.err")
	rc=$?
	echo "$r $(oneline <"$T/mdkim.err")" | oneline
	case "$rc:$r" in
	0:pass*) return 0 ;;
	1:fail*) return 1 ;;
	esac
	return 3
}
v_arctool() {
	local out rc first
	out=$("$ARCTOOL" verify --keys "$KT" "$1" 2>&1)
	rc=$?
	first=$(printf '%s\n' "$out" | head -n1)
	echo "exit $rc: $(printf '%s' "$out" | oneline)"
	case "$rc:$first" in
	0:arc=pass*) return 0 ;;
	1:arc=fail*) return 1 ;;
	esac
	return 3
}

# expect WANT LABEL VERIFIER FILE
expect() {
	local want=$1 label=$2 v=$3 f=$4 got rc
	got=$($v "$f")
	rc=$?
	if { [ "$want" = pass ] && [ $rc -eq 0 ]; } ||
	    { [ "$want" = fail ] && [ $rc -eq 1 ]; }; then
		pass "$label: ${v#v_} says $want"
	else
		fail "$label: ${v#v_} should say $want, got: $got"
	fi
}

echo "== 1. arctool seals RSA-2048 chains; dkimpy and Mail::DKIM verify"
for n in 1 2 5; do
	if why=$(arctool_chain rsa "$n" "$T/a-rsa-$n"); then
		expect pass "1 rsa $n hop(s)" v_dkimpy "$T/a-rsa-$n"
		expect pass "1 rsa $n hop(s)" v_mdkim "$T/a-rsa-$n"
	else
		fail "1 rsa $n hop(s): $why"
	fi
done

echo "== 2. arctool seals ed25519-sha256 chains; peers verify where supported"
# A peer that fails an ed25519 chain is a SKIP only if it says itself that
# it cannot do ed25519 in ARC; otherwise the failure counts.
# ed_peer LABEL NAME VERIFIER CAPRC CAPMSG FILE
ed_peer() {
	local got

	if got=$($3 "$6"); then
		pass "$1: $2 says pass"
	elif [ "$4" -ne 0 ]; then
		skip "$1: $2 has no ed25519 in ARC ($5); it says: $got"
	else
		fail "$1: $2 should say pass, got: $got"
	fi
}
v_dkimpy_ed() { "$PY" "$PYPEER" verify-ed "$KT" "$1" 2>&1 | oneline; return "${PIPESTATUS[0]}"; }
pycap=$("$PY" "$PYPEER" has-ed25519 2>&1)
pycaprc=$?
plcap=$(perl "$PLPEER" has-ed25519 2>&1)
plcaprc=$?
edpatch=1
"$PY" -c 'import nacl.signing' 2>/dev/null || edpatch=0
for n in 1 2 5; do
	l="2 ed25519 $n hop(s)"
	if ! why=$(arctool_chain ed25519 "$n" "$T/a-ed-$n"); then
		fail "$l: $why"
		continue
	fi
	ed_peer "$l" dkimpy v_dkimpy "$pycaprc" "$pycap" "$T/a-ed-$n"
	ed_peer "$l" mdkim v_mdkim "$plcaprc" "$plcap" "$T/a-ed-$n"
	if [ $pycaprc -ne 0 ] && [ $edpatch -eq 1 ]; then
		# dkimpy's own DKIM ed25519 code, let into its ARC verifier
		expect pass "$l (ed25519 let into dkimpy's ARC)" v_dkimpy_ed \
		    "$T/a-ed-$n"
		# negative control: the patched verifier is not vacuous
		if [ "$n" -eq 2 ] && "$PY" "$PYPEER" tamper body \
		    "$T/a-ed-$n" >"$T/a-ed-$n.body" 2>/dev/null; then
			expect fail "$l, body tampered (patched dkimpy)" \
			    v_dkimpy_ed "$T/a-ed-$n.body"
		fi
	fi
done

echo "== 3. dkimpy and Mail::DKIM seal; arctool verifies"
for n in 1 2 5; do
	if why=$(dkimpy_chain "$n" "$T/p-$n"); then
		expect pass "3 dkimpy $n hop(s)" v_arctool "$T/p-$n"
	else
		fail "3 dkimpy $n hop(s): $why"
	fi
done
if [ -s "$T/p-2" ]; then
	pem=$T/perl.pem
	openssl genrsa -traditional -out "$pem" 2048 2>/dev/null
	printf 'pl1._domainkey.perl.example v=DKIM1; k=rsa; p=%s\n' \
	    "$(openssl rsa -in "$pem" -pubout -outform DER 2>/dev/null |
	    base64 -w0)" >>"$KT"
	if perl "$PLPEER" seal "$KT" "$pem" pl1 perl.example mx.perl.example \
	    "$T/p-2" >"$T/pl-3" 2>"$T/pl-3.err"; then
		ctl=$(v_dkimpy "$T/pl-3")
		if got=$(v_arctool "$T/pl-3"); then
			pass "3 Mail::DKIM hop 3 on dkimpy chain: arctool says pass"
		else
			fail "3 Mail::DKIM hop 3 on dkimpy chain: arctool should" \
			    "say pass, got: $got (dkimpy control: $ctl)"
		fi
	else
		fail "3 Mail::DKIM hop 3 on dkimpy chain: Mail::DKIM did not" \
		    "seal: $(oneline <"$T/pl-3.err")"
	fi
else
	fail "3 Mail::DKIM hop 3 on dkimpy chain: no dkimpy 2-hop chain"
fi

echo "== 4. tampered chains fail everywhere"
for chain in arctool:a-rsa-2 dkimpy:p-2; do
	who=${chain%%:*}
	f=$T/${chain#*:}
	if [ ! -s "$f" ]; then
		fail "4 $who 2-hop chain: not built, cannot tamper"
		continue
	fi
	for v in v_arctool v_dkimpy v_mdkim; do
		expect pass "4 $who chain untampered (control)" "$v" "$f"
	done
	for t in body subject drop-top-as; do
		if ! "$PY" "$PYPEER" tamper "$t" "$f" >"$f.$t" 2>"$f.$t.err"
		then
			fail "4 $who chain $t: cannot tamper: $(oneline <"$f.$t.err")"
			continue
		fi
		for v in v_arctool v_dkimpy v_mdkim; do
			expect fail "4 $who chain $t" "$v" "$f.$t"
		done
	done
done

echo "== 5. a message with none of the fields the AMS signs (issue 12)"
# arctool seals it with h=from (a name of no field: RFC 6376 5.4);
# dkimpy and Mail::DKIM must take that seal (dkimpy itself refuses to
# seal such a message: "The From header field MUST be signed")
printf 'X-Only: y\n\nbody\n' >"$T/xonly.in"
if arctool_key rsa 1 && "$ARCTOOL" seal --domain a1.rsa.example \
    --selector s1 --key "$T/a-rsa-1.pem" --authserv-id mx.a1.rsa.example \
    --keys "$KT" "$T/xonly.in" >"$T/xonly" 2>"$T/xonly.err" &&
    grep -q ' h=from;' "$T/xonly"; then
	for v in v_arctool v_dkimpy v_mdkim; do
		expect pass "5 no signed field, h=from" "$v" "$T/xonly"
	done
else
	fail "5 no signed field: arctool did not seal with h=from:" \
	    "$(oneline <"$T/xonly.err") $(grep -i 'h=' "$T/xonly" | oneline)"
fi

[ $nskip -gt 0 ] && echo "interop: $nskip skipped"
echo "interop: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
