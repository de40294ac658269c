#!/usr/bin/python3
# dkimpy_peer.py - offline ARC peer and message helpers for tests/interop.sh.
#
# Contract: uses Debian's python3-dkim (dkimpy 1.1.x) with keys served from
# a key table ("sel._domainkey.dom  TXT-value" lines, '#' comments, value
# possibly split in quoted strings); never touches DNS or the network.
#   verify KEYTABLE FILE                  print "cv reason"; exit 0 pass,
#                                         1 fail, 2 none, 3 error
#   verify-ed KEYTABLE FILE               the same with ed25519-sha256 added
#                                         to dkimpy's ARC algorithm list (its
#                                         DKIM ed25519 code then verifies)
#   seal KEYTABLE KEY SEL DOM SRVID FILE  verify the chain, prepend
#                                         "Authentication-Results: SRVID;
#                                         arc=<cv>", arc_sign with the PEM RSA
#                                         KEY, print the sealed message (CRLF)
#   keyline SEL DOM FILE                  turn key generator output (zone
#                                         line, quoted TXT, or bare value)
#                                         into one key table line
#   tamper body|subject|drop-top-as FILE  print FILE changed as named
#   has-ed25519                           exit 0 iff dkimpy's ARC code takes
#                                         ed25519-sha256 (needs python3-nacl)
import re
import sys

BODY_OLD, BODY_NEW = b'this body line is signed.', b'this body line is signeD.'
SUBJ_OLD, SUBJ_NEW = b'Subject: ARC interop test', b'Subject: ARC interop tesT'


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def crlf(msg):
    return msg.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def txt_value(raw):
    raw = raw.strip()
    quoted = re.findall(rb'"((?:[^"\\]|\\.)*)"', raw)
    if quoted:
        raw = b''.join(quoted)
    return re.sub(rb'\s+', b' ', raw).strip()


def load_keytable(path):
    keys = {}
    for line in read(path).splitlines():
        line = line.strip()
        if not line or line.startswith(b'#'):
            continue
        parts = line.split(None, 1)
        if len(parts) == 2:
            keys[parts[0].rstrip(b'.').lower()] = txt_value(parts[1])
    return keys


def dnsfunc_for(keytable):
    keys = load_keytable(keytable)

    def dnsfunc(name, timeout=5):
        if isinstance(name, str):
            name = name.encode()
        return keys.get(name.rstrip(b'.').lower())
    return dnsfunc


def dkimpy_version():
    try:
        import importlib.metadata
        return importlib.metadata.version('dkimpy')
    except Exception:
        return '?'


def verify(keytable, msg, add_ed25519=False):
    import dkim
    if add_ed25519:
        import hashlib
        import dkim.crypto
        dkim.crypto.ARC_HASH_ALGORITHMS[b'ed25519-sha256'] = hashlib.sha256
    cv, _results, reason = dkim.arc_verify(crlf(msg),
                                           dnsfunc=dnsfunc_for(keytable))
    # dkimpy returns None when a seal says cv=fail (chain terminated)
    cv = cv.decode() if cv else 'fail'
    return cv, reason


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ''
    if cmd in ('verify', 'verify-ed') and len(argv) == 4:
        cv, reason = verify(argv[2], read(argv[3]), cmd == 'verify-ed')
        print(cv, reason)
        return {'pass': 0, 'none': 2}.get(cv, 1)
    if cmd == 'seal' and len(argv) == 8:
        import dkim
        keytable, keyfile, sel, dom, srv, path = argv[2:8]
        msg = crlf(read(path))
        cv, _ = verify(keytable, msg)
        msg = (b'Authentication-Results: ' + srv.encode() + b'; arc=' +
               cv.encode() + b'\r\n' + msg)
        hdrs = dkim.arc_sign(msg, sel.encode(), dom.encode(), read(keyfile),
                             srv.encode())
        if not hdrs:
            sys.stderr.write('dkimpy arc_sign produced nothing\n')
            return 1
        sys.stdout.buffer.write(b''.join(hdrs) + msg)
        return 0
    if cmd == 'keyline' and len(argv) == 5:
        sel, dom, out = argv[2], argv[3], read(argv[4])
        m = re.search(rb'"', out)
        if m is None:
            m = re.search(rb'(v=DKIM1|k=|p=)', out)
            if m is None:
                sys.stderr.write('no key record in keygen output\n')
                return 1
            value = txt_value(out[m.start():].split(b'\n')[0])
        else:
            value = txt_value(out[m.start():])
        value = value.rstrip(b' )')
        if b'p=' not in value:
            sys.stderr.write('no p= in keygen output\n')
            return 1
        sys.stdout.buffer.write(('%s._domainkey.%s ' % (sel, dom)).encode()
                                + value + b'\n')
        return 0
    if cmd == 'tamper' and len(argv) == 4:
        msg = crlf(read(argv[3]))
        head, sep, body = msg.partition(b'\r\n\r\n')
        if argv[2] == 'body' and BODY_OLD in body:
            body = body.replace(BODY_OLD, BODY_NEW, 1)
        elif argv[2] == 'subject' and SUBJ_OLD in head:
            head = head.replace(SUBJ_OLD, SUBJ_NEW, 1)
        elif argv[2] == 'drop-top-as':
            fields = []
            for line in head.split(b'\r\n'):
                if line[:1] in (b' ', b'\t') and fields:
                    fields[-1] += b'\r\n' + line
                else:
                    fields.append(line)
            seals = [(int(m.group(1)), n) for n, f in enumerate(fields)
                     if f.lower().startswith(b'arc-seal:')
                     for m in [re.search(rb'[\s;:]i\s*=\s*(\d+)', f)] if m]
            if not seals:
                sys.stderr.write('no ARC-Seal to remove\n')
                return 1
            del fields[max(seals)[1]]
            head = b'\r\n'.join(fields)
        else:
            sys.stderr.write('tamper %s: nothing to change\n' % argv[2])
            return 1
        sys.stdout.buffer.write(head + sep + body)
        return 0
    if cmd == 'has-ed25519':
        import dkim
        import dkim.crypto
        try:
            import nacl.signing  # noqa: F401
        except ImportError as e:
            print('no python3-nacl: %s' % e)
            return 1
        arc_algs = getattr(dkim.crypto, 'ARC_HASH_ALGORITHMS', {})
        if b'ed25519-sha256' not in arc_algs:
            print('dkimpy %s ARC accepts only %s' % (
                dkimpy_version(),
                b', '.join(sorted(arc_algs)).decode()))
            return 1
        return 0
    sys.stderr.write('usage: see the comment at the top of %s\n' % argv[0])
    return 64


if __name__ == '__main__':
    try:
        rc = main(sys.argv)
    except Exception as e:  # a crash must not read as "fail"
        print('error %s: %s' % (type(e).__name__, e))
        rc = 3
    sys.exit(rc)
