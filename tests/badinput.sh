#!/bin/sh
# badinput.sh - the bad-input table of docs/robustness.md, one test per
# row: each builds a hostile input, runs
#   arctool verify --no-dns --keys TABLE INPUT
# and compares the first line of the output and the exit status with
# what the table says the user sees.
#
# Usage: sh tests/badinput.sh [--table] ARCTOOL [DOC]
#   --table  print the rows as Markdown (for docs/robustness.md) instead
#            of checking them
#   DOC      default docs/robustness.md; every row of the table must
#            appear in it verbatim, so the document cannot drift from
#            the tests
#
# Keys are made at run time (arctool keygen, openssl genpkey for the
# sizes arctool refuses to make); the 8192-bit key takes seconds to
# generate and is kept in $BADINPUT_CACHE (default: next to ARCTOOL).
# Signatures use a fixed --timestamp, so first lines do not depend on
# the clock.  Exit status: 0 if every row matched, 1 otherwise.
set -eu

TABLE=0
if [ "${1:-}" = "--table" ]; then
	TABLE=1
	shift
fi
if [ $# -lt 1 ]; then
	echo "usage: $0 [--table] ARCTOOL [DOC]" >&2
	exit 64
fi
ARCTOOL=$1
DOC=${2:-docs/robustness.md}
CACHE=${BADINPUT_CACHE:-$(dirname "$ARCTOOL")/badinput}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
KEYS=$W/keys
BASE=$W/base.eml
SEALED=$W/sealed.eml
TS=1700000000
failed=0
n=0

# ---- keys -----------------------------------------------------------------

# keygen SELECTOR BITS|ed25519: a key made by arctool; its record goes
# into the key table.
keygen() {
	if [ "$2" = ed25519 ]; then
		"$ARCTOOL" keygen --domain example.org --selector "$1" \
		    --type ed25519 --out "$W/$1.pem" >>"$KEYS"
	else
		"$ARCTOOL" keygen --domain example.org --selector "$1" \
		    --bits "$2" --out "$W/$1.pem" >>"$KEYS"
	fi
}

# pubrec SELECTOR PEM: the key table line of a key made elsewhere.
pubrec() {
	printf '%s._domainkey.example.org v=DKIM1; k=rsa; p=%s\n' "$1" \
	    "$(openssl pkey -in "$2" -pubout -outform DER | base64 -w0)" \
	    >>"$KEYS"
}

# ---- messages ---------------------------------------------------------------

# seal IN OUT [SELECTOR [KEY]]: OUT is IN with an ARC set on top.
seal() {
	sel=${3:-main}
	"$ARCTOOL" seal --no-dns --keys "$KEYS" --domain example.org \
	    --selector "$sel" --key "${4:-$W/$sel.pem}" \
	    --authserv-id mx.example.org --timestamp $TS "$1" >"$2"
}

# edit EXPR OUT: the sealed message through sed -e EXPR.
edit() {
	sed -e "$1" "$SEALED" >"$2"
}

# big N: N bytes of 'a', no line end.
big() {
	head -c "$1" /dev/zero | tr '\0' a
}

# setup: the key table and the sealed sample the rows start from.
setup() {
	: >"$KEYS"
	keygen main 2048
	keygen ed ed25519
	for b in 512 1023; do
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$b \
		    -out "$W/k$b.pem" 2>/dev/null
		pubrec "s$b" "$W/k$b.pem"
	done
	mkdir -p "$CACHE"
	if [ ! -s "$CACHE/s8192.pem" ] || [ ! -s "$CACHE/s8192.txt" ]; then
		"$ARCTOOL" keygen --domain example.org --selector s8192 \
		    --bits 8192 --out "$CACHE/s8192.pem" >"$CACHE/s8192.txt"
	fi
	cat "$CACHE/s8192.txt" >>"$KEYS"
	# broken records, each under its own selector; the messages that
	# use them are sealed with the main key
	edrec=$(sed -n 's/.*"\(v=DKIM1; k=ed25519; p=[^"]*\)".*/\1/p' "$KEYS")
	cat >>"$KEYS" <<EOF
notag._domainkey.example.org v=DKIM1; k=rsa; p
revoked._domainkey.example.org v=DKIM1; k=rsa; p=
garbage._domainkey.example.org v=DKIM1; k=rsa; p=%%%not-base64%%%
notakey._domainkey.example.org v=DKIM1; k=rsa; p=QUJDREVGR0g=
dkim2._domainkey.example.org v=DKIM2; k=rsa; p=QUJD
dupp._domainkey.example.org v=DKIM1; p=QUJD; p=QUJD
edtype._domainkey.example.org $edrec
EOF
	cat >"$BASE" <<'EOF'
From: Alice <alice@example.org>
To: Bob <bob@example.net>
Subject: hello
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <1@example.org>
Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.org

Hi Bob,
this is the body.
EOF
	seal "$BASE" "$SEALED"
}

# ---- the rows ---------------------------------------------------------------

# Each t_NAME writes the input to $1.

t_empty() { : >"$1"; }
t_blank() { printf '\n' >"$1"; }
t_noarc() { cp "$BASE" "$1"; }
t_headeronly() {
	sed -n '/^$/q;p' "$BASE" >"$W/h.eml"
	seal "$W/h.eml" "$1"
}
t_no_signed_field() {
	# none of the fields the AMS signs (issue 12: h= was read from an
	# unterminated buffer); the seal must say h=from and verify
	printf 'X-Only: y\n\nbody\n' >"$W/x.eml"
	seal "$W/x.eml" "$1"
	grep -q '	s=main; t=1700000000; h=from;$' "$1" || : >"$1"
}
t_trunc_ams() {
	# the file ends inside the ARC-Message-Signature's h= list
	sed -n '1,/^	s=main/p' "$SEALED" | head -c -20 >"$1"
}
t_trunc_as() {
	# the file ends inside the first line: "ARC-Se"
	printf 'ARC-Se' >"$1"
}
t_trunc_body() {
	# the message stops in the middle of the body
	head -c -10 "$SEALED" >"$1"
}
t_nul_header() {
	# a NUL byte put into the signed Subject after sealing
	sed 's/^Subject: hello/Subject: he\x00llo/' "$SEALED" >"$1"
}
t_nul_seal() {
	sed '0,/cv=none/s//cv=no\x00ne/' "$SEALED" >"$1"
}
t_nul_body_sealed() {
	sed 's/^Hi Bob,/Hi\x00Bob,/' "$BASE" >"$W/n.eml"
	seal "$W/n.eml" "$1"
}
t_cr_body_sealed() {
	sed 's/^Hi Bob,/Hi\rBob,/' "$BASE" >"$W/c.eml"
	seal "$W/c.eml" "$1"
}
t_cr_body_added() {
	sed 's/^Hi Bob,/Hi\rBob,/' "$SEALED" >"$1"
}
t_cr_header_sealed() {
	sed 's/^Subject: hello/Subject: hel\rlo/' "$BASE" >"$W/c.eml"
	seal "$W/c.eml" "$1"
}
t_1mb_header() {
	{ printf 'X-Big: '; big 1048576; printf '\n'; cat "$SEALED"; } >"$1"
}
t_1mb_header_noarc() {
	{ printf 'X-Big: '; big 1048576; printf '\n'; cat "$BASE"; } >"$1"
}
t_1mb_body_line() {
	{ cat "$BASE"; big 1048576; printf '\n'; } >"$W/b.eml"
	seal "$W/b.eml" "$1"
}
t_dup_tag() { edit '0,/cv=none;/s//cv=none; cv=none;/' "$1"; }
t_dup_aar() {
	{ sed -n '/^ARC-Authentication-Results/,$p' "$SEALED" | head -1 |
	    sed 's/$/ dup=1/'; cat "$SEALED"; } >"$1"
}
t_alg_sha512() { edit '0,/a=rsa-sha256/s//a=rsa-sha512/' "$1"; }
t_alg_sha1() { edit '0,/a=rsa-sha256/s//a=rsa-sha1/' "$1"; }
t_alg_ams() {
	edit '/^ARC-Message-Signature/s/a=rsa-sha256/a=ecdsa-sha256/' "$1"
}
t_b64_b() { edit '0,/b=$/s//b=!!garbage!!/' "$1"; }
t_b64_bh() { edit 's/bh=[^;]*;/bh=@@@@;/' "$1"; }
t_b64_p() { seal "$BASE" "$1" garbage "$W/main.pem"; }
t_i_huge() { edit 's/i=1;/i=99999999;/g' "$1"; }
t_i_long() { edit 's/i=1;/i=123456789012;/g' "$1"; }
t_i_zero() { edit 's/i=1;/i=0;/g' "$1"; }
t_i_51() {
	# a fourth field claiming instance 51 on top of a good set
	{ printf 'ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=example.org; '
	  printf 's=main; b=AAAA\n'; cat "$SEALED"; } >"$1"
}
t_t_neg() { edit '0,/t=1700000000;/s//t=-1;/' "$1"; }
t_t_over() { edit '0,/t=1700000000;/s//t=99999999999999999999;/' "$1"; }
t_x_past() { edit '0,/t=1700000000;/s//t=1700000000; x=1700000001;/' "$1"; }
t_x_neg() { edit '0,/t=1700000000;/s//t=1700000000; x=-1;/' "$1"; }
t_x_over() {
	edit '0,/t=1700000000;/s//t=1700000000; x=18446744073709551617;/' "$1"
}
t_x_before_t() {
	edit '0,/t=1700000000;/s//t=4000000000; x=3999999999;/' "$1"
}
t_key512() { seal "$BASE" "$1" s512 "$W/main.pem"; }
t_key1023() { seal "$BASE" "$1" s1023 "$W/main.pem"; }
t_key8192() { seal "$BASE" "$1" s8192 "$CACHE/s8192.pem"; }
t_ed25519() { seal "$BASE" "$1" ed; }
t_rec_notag() { seal "$BASE" "$1" notag "$W/main.pem"; }
t_rec_revoked() { seal "$BASE" "$1" revoked "$W/main.pem"; }
t_rec_notakey() { seal "$BASE" "$1" notakey "$W/main.pem"; }
t_rec_dkim2() { seal "$BASE" "$1" dkim2 "$W/main.pem"; }
t_rec_dupp() { seal "$BASE" "$1" dupp "$W/main.pem"; }
t_rec_type() { seal "$BASE" "$1" edtype "$W/main.pem"; }
t_rec_missing() { seal "$BASE" "$1" nosuch "$W/main.pem"; }
t_no_newline_after() {
	# sealed with its final newline, which is then lost
	head -c -1 "$SEALED" >"$1"
}
t_no_newline_sealed() {
	head -c -1 "$BASE" >"$W/nl.eml"
	seal "$W/nl.eml" "$1"
}
t_body_tampered() { edit 's/^Hi Bob,/Hi Rob,/' "$1"; }
t_many_fields() {
	{ i=0; while [ $i -lt 1001 ]; do echo "X-F$i: v"; i=$((i + 1)); done
	  cat "$SEALED"; } >"$1"
}

# row NAME EXIT "FIRST LINE" "DESCRIPTION"
row() {
	n=$((n + 1))
	if [ $TABLE = 1 ]; then
		printf '| %s | `%s` | %s | %s |\n' "$4" "$3" "$2" "$1"
		return
	fi
	input=$W/$1.eml
	"t_$1" "$input"
	set +e
	out=$("$ARCTOOL" verify --no-dns --keys "$KEYS" --authserv-id \
	    mx.example.org "$input" 2>&1)
	rc=$?
	set -e
	first=$(printf '%s\n' "$out" | head -n 1)
	if [ "$first" = "$3" ] && [ $rc = "$2" ]; then
		echo "ok $n - $1: $4"
	else
		echo "not ok $n - $1: $4"
		echo "#   want (exit $2): $3"
		echo "#   got  (exit $rc): $first"
		failed=1
	fi
	line=$(printf '| %s | `%s` | %s | %s |' "$4" "$3" "$2" "$1")
	if ! grep -qxF -- "$line" "$DOC" 2>/dev/null; then
		echo "not ok $n - $1: $DOC lacks the row: $line"
		failed=1
	fi
}

if [ $TABLE = 0 ]; then
	setup
else
	echo "| input | first line of \`arctool verify\` | exit | row |"
	echo "|---|---|---|---|"
fi

FAIL="arc=fail"
PASS="arc=pass (i=1 d=example.org) header.oldest-pass=0 arc.chain=example.org"
AMS="$FAIL (AMS i=1 d=example.org s="	# AMS failures name the key
TOOSHORT="bits is too short \\(RFC 8301\\))"
row empty 2 "arc=none" "an empty message (0 bytes)"
row blank 2 "arc=none" "a message that is one empty line"
row noarc 2 "arc=none" "a message without ARC fields"
row headeronly 0 "$PASS" \
    "a sealed message with no body and no empty line"
row no_signed_field 0 "$PASS" \
    "a sealed message with none of the fields the AMS signs"
row trunc_ams 1 "$FAIL (set i=1 has no ARC-Authentication-Results)" \
    "truncated headers: the input ends inside the ARC-Message-Signature"
row trunc_as 2 "arc=none" \
    "truncated headers: the input ends after \"ARC-Se\" (no colon)"
row trunc_body 1 "${AMS}main: body hash did not verify)" \
    "truncated body: the last 10 bytes lost"
row nul_header 1 "${AMS}main: signature did not verify)" \
    "a NUL byte put into a signed header field"
row nul_seal 1 "$FAIL (AS: invalid character in tag value)" \
    "a NUL byte inside the ARC-Seal tag-list"
row nul_body_sealed 0 "$PASS" \
    "a NUL byte in the body when it was sealed"
row cr_body_sealed 0 "$PASS" \
    "a bare CR in the body when it was sealed"
row cr_body_added 1 "${AMS}main: body hash did not verify)" \
    "a bare CR put into the body after sealing"
row cr_header_sealed 0 "$PASS" \
    "a bare CR inside a header field when it was sealed"
row 1mb_header 1 "$FAIL (header field over the size limit)" \
    "a 1 MB header line above a good ARC set"
row 1mb_header_noarc 1 "$FAIL (header field over the size limit)" \
    "a 1 MB header line in a message without ARC"
row 1mb_body_line 0 "$PASS" \
    "a 1 MB body line (bodies have no line limit)"
row many_fields 1 "$FAIL (too many header fields)" \
    "1001 header fields above a good ARC set"
row dup_tag 1 "$FAIL (AS: duplicate tag)" \
    "a duplicate tag (cv= twice in the ARC-Seal)"
row dup_aar 1 "$FAIL (set i=1 has more than one ARC-Authentication-Results)" \
    "a duplicate ARC field (two AARs for i=1)"
row alg_sha512 1 "$FAIL (AS i=1: unknown algorithm in a=)" \
    "an unknown algorithm (a=rsa-sha512 in the ARC-Seal)"
row alg_ams 1 "$FAIL (AMS i=1 d=? s=?: unknown algorithm in a=)" \
    "an unknown algorithm (a=ecdsa-sha256 in the AMS)"
row alg_sha1 1 "$FAIL (AS i=1: rsa-sha1 is not allowed \\(RFC 8301\\))" \
    "a=rsa-sha1 (RFC 8301)"
row b64_b 1 "$FAIL (AS i=1 d=example.org s=main: b= is not base64)" \
    "base64 garbage in the ARC-Seal's b="
row b64_bh 1 "${AMS}main: body hash did not verify)" \
    "base64 garbage in bh="
row b64_p 1 "${AMS}garbage: key record p= is not base64)" \
    "base64 garbage in the key record's p="
row i_huge 1 "$FAIL (more than 50 ARC sets)" "a huge i= (99999999)"
row i_long 1 "$FAIL (AS: invalid i= value)" "an i= of 12 digits"
row i_zero 1 "$FAIL (AS: invalid i= value)" "i=0"
row i_51 1 "$FAIL (more than 50 ARC sets)" \
    "a field claiming i=51 over a good set"
row t_neg 1 "$FAIL (AS i=1: invalid t= value)" "a negative t="
row t_over 1 "$FAIL (AS i=1: invalid t= value)" "an overflowing t= (20 digits)"
row x_past 1 "$FAIL (AS i=1: signature expired \\(x=\\))" "an x= in the past"
row x_neg 1 "$FAIL (AS i=1: invalid x= value)" "a negative x="
row x_over 1 "$FAIL (AS i=1: invalid x= value)" "an overflowing x= (2^64 + 1)"
row x_before_t 1 "$FAIL (AS i=1: x= is before t=)" "an x= before t="
row key512 1 "${AMS}s512: RSA key of 512 $TOOSHORT" \
    "a 512-bit RSA key"
row key1023 1 "${AMS}s1023: RSA key of 1023 $TOOSHORT" \
    "a 1023-bit RSA key"
row key8192 0 "$PASS" \
    "an 8192-bit RSA key"
row ed25519 0 "$PASS" \
    "an Ed25519 key (RFC 8463)"
row rec_notag 1 "${AMS}notag: malformed key record: tag without '=')" \
    "a malformed key record: \"p\" without \"=\""
row rec_dupp 1 "${AMS}dupp: malformed key record: duplicate tag)" \
    "a malformed key record: p= twice"
row rec_revoked 1 "${AMS}revoked: key revoked \\(empty p=\\))" \
    "a revoked key (empty p=)"
row rec_notakey 1 \
    "${AMS}notakey: key record p= is not a valid RSA public key)" \
    "a key record whose p= is base64 but no key"
row rec_dkim2 1 "${AMS}dkim2: key record v= is not DKIM1 as first tag)" \
    "a key record with v=DKIM2"
row rec_type 1 "${AMS}edtype: key type does not match a=)" \
    "an Ed25519 record for an rsa-sha256 signature"
row rec_missing 1 "${AMS}nosuch: no key record in the key table)" \
    "no key record at all"
row no_newline_after 0 "$PASS" \
    "a body that ends without newline (lost after sealing)"
row no_newline_sealed 0 "$PASS" \
    "a body that ends without newline (sealed that way)"
row body_tampered 1 "${AMS}main: body hash did not verify)" \
    "one body byte changed after sealing"

if [ $TABLE = 0 ]; then
	echo "1..$n"
	[ $failed = 0 ] && echo "badinput: all $n rows match" ||
	    echo "badinput: some rows do not match" >&2
fi
exit $failed
