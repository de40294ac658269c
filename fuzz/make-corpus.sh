#!/bin/sh
# make-corpus.sh - seed corpora for the libFuzzer harnesses, from the
# ValiMail ARC test suite.
#
# Usage: sh fuzz/make-corpus.sh [SUITE_DIR [OUT_DIR]]
#   SUITE_DIR  default $ARC_TEST_SUITE, else ../shared/arc_test_suite
#   OUT_DIR    default fuzz; seeds go to OUT_DIR/corpus-<harness>/
#
# Contract: reads every *.yml of the suite with python3 + PyYAML
# (Debian: python3-yaml) and writes one file per distinct seed, named
# after its SHA-1 (as libFuzzer names its finds), so rerunning adds
# nothing twice and keeps what the fuzzer found.  Seeds:
#   fuzz_headers, fuzz_message  each message, with LF and with CRLF
#   fuzz_tags     ARC-Seal and ARC-Message-Signature values, the
#                 expected AS/AMS of the signing tests, the key records
#   fuzz_authres  Authentication-Results values, AAR values without
#                 their "i=N;", the expected AARs of the signing tests
#   fuzz_keyrec   the suite's key records, plus Ed25519, revoked and
#                 tagged variants
#   fuzz_smtpd    OpenSMTPD filter protocol lines: a session carrying
#                 each message, and config/report lines
#   fuzz_canon    each message's body, LF and CRLF, behind the two
#                 bytes that pick the mode, l= and the chunks
#   fuzz_session, fuzz_exim, fuzz_milter  messages (and one with no
#                 field the AMS signs) behind the harness's "#!..." line
#   fuzz_conf     arc.conf files and key tables
#   fuzz_tables   OpenDKIM KeyTable, SigningTable and an address
# Exit status non-zero if the suite or PyYAML is missing.
set -eu

SUITE=${1:-${ARC_TEST_SUITE:-../shared/arc_test_suite}}
OUT=${2:-fuzz}

if [ ! -d "$SUITE" ]; then
	echo "make-corpus: no test suite at $SUITE" >&2
	exit 1
fi
exec /usr/bin/python3 - "$SUITE" "$OUT" <<'EOF'
import glob, hashlib, os, re, sys

try:
    import yaml
except ImportError:
    sys.exit("make-corpus: python3-yaml is missing (apt-get install "
             "python3-yaml)")

suite, out = sys.argv[1], sys.argv[2]
seeds = {}

def add(harness, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    seeds.setdefault(harness, set()).add(data)

def fields(msg):
    """(name, value) of each header field, folding kept."""
    head = re.split(r"\r?\n\r?\n", msg, maxsplit=1)[0]
    cur = []
    res = []
    for line in re.split(r"(?<=\n)", head):
        if line[:1] in (" ", "\t") and cur:
            cur.append(line)
            continue
        if cur:
            res.append("".join(cur))
        cur = [line]
    if cur:
        res.append("".join(cur))
    out = []
    for f in res:
        if ":" in f:
            n, v = f.split(":", 1)
            out.append((n.strip().lower(), v.rstrip("\r\n")))
    return out

def crlf(s):
    return re.sub(r"\r?\n", "\r\n", s)

records = set()
messages = []
for path in sorted(glob.glob(os.path.join(suite, "*.yml"))):
    with open(path, encoding="utf-8") as fp:
        docs = list(yaml.safe_load_all(fp))
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        for rec in (doc.get("txt-records") or {}).values():
            records.add(str(rec).strip())
        for case in (doc.get("tests") or {}).values():
            if not isinstance(case, dict):
                continue
            msg = case.get("message")
            if isinstance(msg, str):
                messages.append(msg)
            for k in ("AS", "AMS"):
                if isinstance(case.get(k), str) and case[k].strip():
                    add("fuzz_tags", case[k].strip())
            if isinstance(case.get("AAR"), str):
                add("fuzz_authres",
                    re.sub(r"^\s*i\s*=\s*\d+\s*;", "", case["AAR"]).strip())

for msg in messages:
    for m in (msg, crlf(msg)):
        add("fuzz_headers", m)
        add("fuzz_message", m)
        parts = re.split(r"\r?\n\r?\n", m, maxsplit=1)
        if len(parts) == 2:
            for head in (b"\x00\x07", b"\x01\x2a", b"\x0b\x03"):
                add("fuzz_canon", head + parts[1].encode("utf-8"))
    for name, value in fields(msg):
        if name in ("arc-seal", "arc-message-signature"):
            add("fuzz_tags", value)
        elif name == "authentication-results":
            add("fuzz_authres", value)
        elif name == "arc-authentication-results":
            add("fuzz_authres", re.sub(r"^\s*i\s*=\s*\d+\s*;", "", value))

# DKIM-Signatures (fuzz_message verifies them, ARC_MSG_DKIM): signed by
# dkimpy with the suite's private key, which fuzz.h serves for every
# name but the sealer's; relaxed, simple, l= and two at once
privkeys = []
for path in sorted(glob.glob(os.path.join(suite, "*.yml"))):
    with open(path, encoding="utf-8") as fp:
        for doc in yaml.safe_load_all(fp):
            if isinstance(doc, dict) and doc.get("privatekey"):
                privkeys.append(doc["privatekey"].encode())
try:
    import time
    import dkim
    time.time = lambda: 1600000000	# t=: the same seeds every run
except ImportError:
    dkim = None
if dkim is not None and privkeys and messages:
    base = crlf(messages[0]).encode()
    for canon, length in (((b"relaxed", b"simple"), False),
                          ((b"simple", b"simple"), False),
                          ((b"relaxed", b"relaxed"), True)):
        sig = dkim.sign(base, b"dkim", b"example.org", privkeys[0],
                        canonicalize=canon, length=length)
        add("fuzz_message", sig + base)
    two = dkim.sign(base, b"a", b"example.org", privkeys[0]) + base
    add("fuzz_message", dkim.sign(two, b"b", b"example.org",
                                  privkeys[0]) + two)
    add("fuzz_tags", sig.split(b":", 1)[1].strip())

# a message with none of the fields the AMS signs (issue 12, defect 1)
unsigned = "X-Only: y\r\n\r\nbody\r\n"
for m in (unsigned, unsigned.replace("\r\n", "\n")):
    add("fuzz_message", m)
    add("fuzz_headers", m)
ctl = ("#!bob@list.example,carol@other.example|from:to:subject|"
       "lists.example.org; spf=pass smtp.mailfrom=origin.example|"
       "lists.example.org; dkim=pass (2048-bit key; unprotected) "
       "header.d=origin.example|192.0.2.1\n",
       "#!|||mx.microsoft.com 1; dmarc=pass header.from=a.example|\n",
       "")
exim_ctl = ("#!headers=from:to|ar=yes\n", "#!summary|ar=no\n",
            "#!all|authres=lists.example.org; spf=fail\n", "")
for m in [unsigned] + [crlf(x) for x in messages[:60]]:
    for c in ctl:
        add("fuzz_session", c + m)
    for c in exim_ctl:
        add("fuzz_exim", c + m.replace("\r\n", "\n"))
    for c in ("#!client.example|<a@origin.example>|<b@list.example>|L\n",
              "#!||<b@list.example>,<c@other.example>|\n", ""):
        add("fuzz_milter", c + m)
table = ("dummy._domainkey.example.org v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3\n"
         "# comment\n"
         "s._domainkey.b.example \"v=DKIM1; k=ed25519; \" \"p=abc\"\n")
for conf in ("authserv-id mx.example\nverify yes\ndns no\n",
             "seal yes\nseal-domain a.example\nseal-selector s\n"
             "seal-key /nonexistent\n",
             "on-fail reject\nreject-reply \"550 5.7.29 no\"\n"
             "max-sets 10\ndns-timeout 1000\n",
             "seal-recipients ^.*@list\\.example$\nlog-level debug\n"
             "trusted-authserv-ids a.example,b.example\n",
             "# comment only\n\n   \n"):
    add("fuzz_conf", conf)
    add("fuzz_conf", conf + "\0" + table)

ed = "p=/PrHdagMGdV7Fq1XpIrslnuGs18wjK75D9Z5blIj2Jw="
for rec in records | {"v=DKIM1; k=ed25519; " + ed}:
    add("fuzz_keyrec", rec)
    add("fuzz_tags", rec)
    p = rec[rec.index("p="):] if "p=" in rec else ed
    for variant in ("v=DKIM1; p=", "v=DKIM1; h=sha1:sha256; s=email; "
                    "t=y:s; " + p, "k=rsa; v=DKIM1; " + p,
                    "v=DKIM1; k=ed25519; n=note; " + p):
        add("fuzz_keyrec", variant)

sid, tok = "b0e882333723df98", "a939b4dabe0bfdf4"
t = "1576146008.006099"
for line in ("config|smtpd-version|6.8.0p2", "config|smtp-session-timeout|300",
             "config|subsystem|smtp-in", "config|ready",
             "report|0.6|%s|smtp-in|link-connect|%s|mail.example|pass|"
             "192.0.2.1:41234|192.0.2.25:25" % (t, sid),
             "report|0.6|%s|smtp-in|link-connect|%s|localhost|pass|"
             "[IPv6:2001:db8::1]:587|[2001:db8::25]:587" % (t, sid),
             "report|0.6|%s|smtp-in|tx-mail|%s|1ef1c203|ok|"
             "<a@a.example>" % (t, sid),
             "report|0.5|%s|smtp-in|tx-rcpt|%s|1ef1c203|<b@b.example>|ok"
             % (t, sid),
             "report|0.6|%s|smtp-in|link-disconnect|%s" % (t, sid),
             "filter|0.6|%s|smtp-in|data-line|%s|%s|." % (t, sid, tok),
             "filter|0.7|%s|smtp-in|commit|%s|%s" % (t, sid, tok)):
    add("fuzz_smtpd", line)
for msg in messages[:40]:
    for l in msg.split("\n")[:40]:
        if l.startswith("."):
            l = "." + l
        add("fuzz_smtpd", "filter|0.6|%s|smtp-in|data-line|%s|%s|%s"
            % (t, sid, tok, l))

# fuzz_tables: key table NUL signing table NUL address text
kt = ("# OpenDKIM KeyTable\none one.example:s1:/etc/arc/one.pem\n"
      "two two.example:s1:/etc/arc/two.pem\n"
      "two-ed two.example:ed:/etc/arc/two-ed.pem\n")
for st in ("*@one.example one\n*.two.example two-ed\ntwo.example two\n",
           "user@one.example one\n/^list-.*@two\\.example$/ two\n* two-ed\n",
           "a*z@one.example one\n*@*.two.example two\n# c\n\n"):
    for addr in ('"Doe, J" <J.Doe@Sub.Two.Example>', "user@one.example",
                 "News <news.lists.two.example>", "<bounces@one.example>",
                 "Group: a@b.example, c@d.example;"):
        add("fuzz_tables", kt + "\0" + st + "\0" + addr)
add("fuzz_tables", "k1 %:s:/k\0* k1\0x@y")
add("fuzz_tables", kt + "\0*@one.example nokey\0")

total = 0
for harness, items in sorted(seeds.items()):
    d = os.path.join(out, "corpus-" + harness)
    os.makedirs(d, exist_ok=True)
    for data in items:
        path = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(path):
            with open(path, "wb") as fp:
                fp.write(data)
    total += len(items)
    print("make-corpus: %-13s %4d seeds in %s" % (harness, len(items), d))
EOF
