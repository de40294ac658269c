#!/usr/bin/python3
# opensmtpd_e2e.py - the client side of tests/e2e/opensmtpd.sh.
#
# Contract: run with Debian's /usr/bin/python3 (python3-dkim).  Every
# case prints "PASS: name" or "FAIL: name: why"; the exit status is the
# number of failures (capped at 100).  Keys come from key tables, never
# from the network.
#
#   sim FILTER DIR
#       filter-arc driven directly over a socketpair, as smtpd does it
#       (protocol-level cases: admd as authserv-id, malformed lines,
#       interleaved sessions, on-fail reject, temp file failure, EOF).
#       DIR holds seal.pem, origin.pem, keys.txt from arctool keygen.
#   smtp PORT DIR [SLOW]
#       messages over SMTP to a real smtpd running filter-arc, delivered
#       to DIR/out/maildir, checked with arctool and dkimpy.  SLOW=1 adds
#       the DNS timeout case (DIR/dns: unbound serving fast.example,
#       slow.example forwarded to a dead port).  Then every signal sent
#       to the running filter, a key rotation by SIGHUP with mail
#       flowing (s1 -> s2, DIR/seal2.pem), and a costly message while
#       small ones of other sessions arrive (their waits printed).
#   local DIR
#       the message the shell submitted through smtpd's socket.
import email.utils
import glob
import hashlib
import os
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time

import dkim

# reading key tables and verifying with dkimpy: the interop peer's code
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'interop'))
from dkimpy_peer import crlf, read, verify as dkimpy_verify  # noqa: E402

FAILS = 0
SEAL_DOM, SEAL_SEL = b'mx.example', b's1'
AUTHSERV = 'mx.example'


def result(name, ok, why=''):
    global FAILS
    if ok:
        print('PASS: %s' % name, flush=True)
    else:
        FAILS += 1
        print('FAIL: %s: %s' % (name, why), flush=True)


def arctool_verify(build, msg, keytable):
    p = subprocess.run([build + '/arctool', 'verify', '--no-dns', '--keys',
                        keytable, '-'], input=msg, capture_output=True)
    return {0: 'pass', 1: 'fail', 2: 'none'}.get(p.returncode, 'error'), \
        p.stdout.decode(errors='replace')


def make_msg(tag, body=None):
    if body is None:
        body = (b'Hello from %s.\r\n.a line with a leading dot\r\n'
                b'..and two\r\n\r\nlast line\r\n') % tag.encode()
    return (b'From: Sender <sender@origin.example>\r\n'
            b'To: rcpt@dest.example\r\n'
            b'Subject: test %s\r\n'
            b'Date: %s\r\n'
            b'Message-ID: <%s@origin.example>\r\n'
            b'X-Test-Id: %s\r\n'
            b'\r\n' % (tag.encode(), email.utils.formatdate().encode(),
                       tag.encode(), tag.encode())) + body


def dkimpy_seal(msg, keyfile, sel, dom):
    msg = b'Authentication-Results: %s; spf=pass smtp.mailfrom=%s\r\n' % (
        dom, dom) + msg
    hdrs = dkim.arc_sign(msg, sel, dom, read(keyfile), dom)
    if not hdrs:
        raise RuntimeError('dkimpy arc_sign produced nothing')
    return b''.join(hdrs) + msg


def tamper(msg):
    out = msg.replace(b'Hello from', b'Hullo from', 1)
    assert out != msg
    return out


def header_fields(msg):
    head = crlf(msg).split(b'\r\n\r\n', 1)[0]
    fields = []
    for line in head.split(b'\r\n'):
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1] += b' ' + line.strip()
        else:
            fields.append(line)
    out = []
    for f in fields:
        name, _, value = f.partition(b':')
        out.append((name.decode().lower(), value.strip().decode(
            errors='replace')))
    return out


def tag_value(value, tag):
    m = re.search(r'(?:^|;)\s*%s\s*=\s*([^;\s]+)' % tag, value)
    return m.group(1) if m else None


def our_arc_result(fields):
    for name, value in fields:
        if name == 'authentication-results' and \
                value.split(';')[0].strip() == AUTHSERV:
            m = re.search(r'\barc=(\w+)', value)
            return m.group(1) if m else None
    return None


def top_seal(fields):
    for name, value in fields:
        if name == 'arc-seal':
            return value
    return None


# ---- SMTP side -----------------------------------------------------------

class Sent:
    def __init__(self, tag, msg, kind):
        self.tag, self.msg, self.kind = tag, msg, kind
        self.code, self.reply, self.took, self.done_at = None, '', 0.0, 0.0


def send(port, sent):
    try:
        s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example',
                         timeout=60)
        s.ehlo()
        s.mail('sender@origin.example')
        s.rcpt('rcpt@dest.example')
        t0 = time.monotonic()
        sent.code, reply = s.data(sent.msg)
        sent.done_at = time.monotonic()
        sent.took = sent.done_at - t0
        sent.reply = reply.decode(errors='replace')
        s.quit()
    except Exception as e:  # a refusal or a dropped connection
        sent.code, sent.reply = -1, repr(e)


def send_all(port, batch):
    threads = [threading.Thread(target=send, args=(port, b)) for b in batch]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def maildir_index(d):
    idx = {}
    for path in glob.glob(os.path.join(d, 'out', 'maildir', 'new', '*')):
        try:
            data = read(path)
        except OSError:
            continue
        m = re.search(rb'^X-Test-Id: (\S+)', data, re.M)
        if m:
            idx.setdefault(m.group(1).decode(), []).append(data)
    return idx


def wait_delivered(d, tags, timeout=20):
    end = time.monotonic() + timeout
    while True:
        idx = maildir_index(d)
        if all(t in idx for t in tags) or time.monotonic() > end:
            return idx
        time.sleep(0.05)


EXPECT = {
    # kind: (our arc= result, top seal i, top seal cv, verifier verdict)
    'plain': ('none', '1', 'none', 'pass'),
    'sealed': ('pass', '2', 'pass', 'pass'),
    'tampered': ('fail', '2', 'fail', 'fail'),
}


def check_delivered(ctx, name, sent, data):
    """Our A-R, the seal we added, and both verifiers agree."""
    want_ar, want_i, want_cv, want_v = EXPECT[sent.kind]
    fields = header_fields(data)
    why = []
    ar = our_arc_result(fields)
    if ar != want_ar:
        why.append('A-R arc=%s, want %s' % (ar, want_ar))
    seal = top_seal(fields)
    if seal is None:
        why.append('no ARC-Seal')
    else:
        if tag_value(seal, 'i') != want_i or tag_value(seal, 'cv') != \
                want_cv or tag_value(seal, 'd') != SEAL_DOM.decode():
            why.append('top seal i=%s cv=%s d=%s, want i=%s cv=%s d=%s' % (
                tag_value(seal, 'i'), tag_value(seal, 'cv'),
                tag_value(seal, 'd'), want_i, want_cv, SEAL_DOM.decode()))
    # the seal sits above smtpd's Received
    names = [n for n, _ in fields]
    if 'received' in names and 'arc-seal' in names and \
            names.index('arc-seal') > names.index('received'):
        why.append('ARC-Seal below Received')
    v, out = arctool_verify(ctx['build'], data, ctx['keys'])
    if v != want_v:
        why.append('arctool says %s, want %s (%s)' % (v, want_v,
                                                      out.strip()[:200]))
    try:
        cv, reason = dkimpy_verify(ctx['keys'], data)
    except Exception as e:
        cv, reason = 'error', repr(e)
    if cv != want_v:
        why.append('dkimpy says %s (%s), want %s' % (cv, reason, want_v))
    result(name, not why, '; '.join(why))


def build_msg(ctx, tag, kind):
    msg = make_msg(tag)
    if kind in ('sealed', 'tampered'):
        msg = dkimpy_seal(msg, ctx['dir'] + '/origin.pem', b'o1',
                          b'origin.example')
    if kind == 'tampered':
        msg = tamper(msg)
    return Sent(tag, msg, kind)


def smtp_basic(ctx):
    port, d = ctx['port'], ctx['dir']
    for kind in ('plain', 'sealed', 'tampered'):
        s = build_msg(ctx, 'basic-' + kind, kind)
        send(port, s)
        if s.code != 250:
            result('%s mail' % kind, False, 'SMTP %s %s' % (s.code, s.reply))
            continue
        idx = wait_delivered(d, [s.tag])
        if s.tag not in idx:
            result('%s mail' % kind, False, 'not delivered')
            continue
        check_delivered(ctx, '%s mail: %s' % (kind, {
            'plain': 'arc=none, seal i=1 verifies',
            'sealed': 'cv=pass, seal i=2 verifies',
            'tampered': 'cv=fail, seal i=2 cv=fail (5.1.2)'}[kind]),
            s, idx[s.tag][0])


def smtp_concurrent(ctx):
    kinds = ('plain', 'sealed', 'tampered')
    batch = [build_msg(ctx, 'conc-%02d' % i, kinds[i % 3])
             for i in range(20)]
    send_all(ctx['port'], batch)
    bad = [b.tag for b in batch if b.code != 250]
    idx = wait_delivered(ctx['dir'], [b.tag for b in batch])
    lost = [b.tag for b in batch if b.tag not in idx]
    dup = [b.tag for b in batch if len(idx.get(b.tag, [])) > 1]
    result('20 concurrent sessions: all accepted, delivered once',
           not bad and not lost and not dup,
           'refused %s lost %s duplicated %s; why: %s' % (
               bad, lost, dup, ['%s %s %.1fs' % (b.code, b.reply[:80], b.took)
                                for b in batch if b.code != 250][:3]))
    global FAILS
    before = FAILS
    for b in batch:
        if b.tag in idx:
            check_delivered(ctx, 'concurrent %s (%s)' % (b.tag, b.kind), b,
                            idx[b.tag][0])
    return FAILS == before


def smtp_long_line(ctx):
    body = b'short\r\n' + b'x' * 3000 + b'\r\nend\r\n'
    s = Sent('longline', make_msg('longline', body), 'plain')
    send(ctx['port'], s)
    idx = wait_delivered(ctx['dir'], [s.tag])
    if s.code != 250 or s.tag not in idx:
        result('line over 1997 chars: delivered, not sealed', False,
               'SMTP %s %s, delivered %s' % (s.code, s.reply, s.tag in idx))
        return
    fields = header_fields(idx[s.tag][0])
    ar = our_arc_result(fields)
    seal = top_seal(fields)
    log = read(ctx['dir'] + '/smtpd.log').decode(errors='replace')
    logged = re.search(r' sealed=no .*seal-dropped="a line longer than '
                       r'smtpd', log) is not None
    result('line over 1997 chars: delivered, A-R only, not sealed',
           ar == 'none' and seal is None and logged,
           'arc=%s seal=%s logged=%s' % (ar, seal is not None, logged))


def smtp_large(ctx):
    # 3 MiB: beyond the in-memory spool, so the temporary file is used
    line = b'0123456789' * 7 + b'abcdef\r\n'
    body = b'Hello from large.\r\n' + line * (3 * 1024 * 1024 // len(line))
    s = Sent('large', make_msg('large', body), 'plain')
    send(ctx['port'], s)
    idx = wait_delivered(ctx['dir'], [s.tag], 60)
    if s.code != 250 or s.tag not in idx:
        result('3 MiB message', False, 'SMTP %s %s, delivered %s' % (
            s.code, s.reply, s.tag in idx))
        return
    data = crlf(idx[s.tag][0])
    got = data.split(b'\r\n\r\n', 1)[1]
    result('3 MiB message (temp file spool): body intact',
           hashlib.sha256(got).digest() == hashlib.sha256(body).digest(),
           'body differs (%d vs %d bytes)' % (len(got), len(body)))
    check_delivered(ctx, '3 MiB message: sealed i=1, verifies', s,
                    idx[s.tag][0])


def smtp_slow_dns(ctx):
    """One message waits for a key lookup that times out; the others,
    sent while it waits, must not wait with it."""
    d = ctx['dir']
    slow = Sent('dns-slow', dkimpy_seal(make_msg('dns-slow'),
                d + '/slow.pem', b'k1', b'slow.example'), 'slow')
    fast = []
    for i in range(5):
        if i % 2:
            m = Sent('dns-fast-%d' % i, make_msg('dns-fast-%d' % i), 'plain')
        else:
            m = Sent('dns-fast-%d' % i, dkimpy_seal(
                make_msg('dns-fast-%d' % i), d + '/fast.pem', b'f1',
                b'fast.example'), 'sealed')
        fast.append(m)
    ts = threading.Thread(target=send, args=(ctx['port'], slow))
    ts.start()
    time.sleep(0.5)	# the slow message is at its lookup by now
    send_all(ctx['port'], fast)
    ts.join()
    timeout = ctx['dns_timeout']
    slow_ok = slow.code == 250 and slow.took >= timeout * 0.8
    fast_ok = all(f.code == 250 and f.took < min(1.5, timeout / 2) and
                  f.done_at < slow.done_at for f in fast)
    result('DNS timeout delays only its own message',
           slow_ok and fast_ok,
           'slow: %s after %.2fs; fast: %s' % (
               slow.code, slow.took, ['%s %.2fs' % (f.code, f.took)
                                      for f in fast]))
    idx = wait_delivered(d, [slow.tag] + [f.tag for f in fast])
    if slow.tag in idx:
        fields = header_fields(idx[slow.tag][0])
        ar = [v for n, v in fields if n == 'authentication-results' and
              v.startswith(AUTHSERV + ';')]
        result('DNS timeout: message delivered, arc=fail (timeout)',
               our_arc_result(fields) == 'fail',
               'A-R %s' % ar)
    else:
        result('DNS timeout: message delivered', False, 'not delivered')
    for f in fast:
        if f.tag in idx:
            check_delivered(ctx, 'key over DNS (%s, %s)' % (f.tag, f.kind),
                            f, idx[f.tag][0])
        else:
            result('key over DNS (%s)' % f.tag, False, 'not delivered')


def filter_pid(d):
    """The running filter-arc of this test (smtpd's grandchild)."""
    me = os.path.realpath(d + '/filter-arc')
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                if os.readlink('/proc/%s/exe' % pid) == me:
                    return int(pid)
            except OSError:
                pass
    return None


def smtpd_log(d):
    return read(d + '/smtpd.log').decode(errors='replace')


def wait_log(d, what, n=1, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if smtpd_log(d).count(what) >= n:
            return True
        time.sleep(0.05)
    return False


def smtp_signals(ctx):
    """Each signal an operator may send, to the running filter: smtpd
    keeps delivering, the filter stays the same process."""
    import signal
    d = ctx['dir']
    pid = filter_pid(d)
    if pid is None:
        result('signals: filter-arc found', False, 'no process')
        return
    for name in ('SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGTERM',
                 'SIGINT'):
        os.kill(pid, getattr(signal, name))
        time.sleep(0.2)
        s = build_msg(ctx, 'sig-' + name.lower(), 'sealed')
        send(ctx['port'], s)
        idx = wait_delivered(d, [s.tag])
        alive = filter_pid(d) == pid
        if s.code != 250 or s.tag not in idx or not alive:
            result('%s to filter-arc: smtpd still delivers' % name, False,
                   'SMTP %s %s, delivered %s, same filter %s' % (
                       s.code, s.reply, s.tag in idx, alive))
            continue
        check_delivered(ctx, '%s to filter-arc: smtpd still delivers, '
                        'sealed, verifies' % name, s, idx[s.tag][0])
    log = smtpd_log(d)
    result('signals: logged (reload, status, ignored)',
           'SIGHUP: ' in log and 'SIGUSR1: status' in log and
           'SIGTERM ignored' in log and 'lost processor' not in log,
           'log lines missing')


def write_conf(d, selector, key):
    text = read(d + '/arc.conf').decode()
    text = re.sub(r'(?m)^seal-selector\s.*$', 'seal-selector\t' + selector,
                  text)
    text = re.sub(r'(?m)^seal-key\s.*$', 'seal-key\t' + key, text)
    with open(d + '/arc.conf.new', 'w') as f:
        f.write(text)
    os.chmod(d + '/arc.conf.new', 0o644)
    os.rename(d + '/arc.conf.new', d + '/arc.conf')


def smtp_rotate(ctx):
    """Key rotation with mail flowing: 50 messages over 5 sessions at a
    time, arc.conf switched from selector s1 to s2 and SIGHUP sent
    mid-stream.  Every message is delivered once and verifies against a
    key table with both selectors; both selectors were used."""
    import signal
    d, n = ctx['dir'], 50
    pid = filter_pid(d)
    gen0 = smtpd_log(d).count('reloaded (generation')
    batch = [build_msg(ctx, 'rot-%02d' % i, ('plain', 'sealed')[i % 2])
             for i in range(n)]
    box = {'i': 0}
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if box['i'] >= n:
                    return
                b = batch[box['i']]
                box['i'] += 1
            send(ctx['port'], b)
    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    while box['i'] < n // 3:
        time.sleep(0.01)
    write_conf(d, 's2', d + '/seal2.pem')
    os.kill(pid, signal.SIGHUP)
    reloaded = wait_log(d, 'reloaded (generation', gen0 + 1)
    for t in threads:
        t.join()
    idx = wait_delivered(d, [b.tag for b in batch], 30)
    lost = [b.tag for b in batch if b.tag not in idx]
    dup = [b.tag for b in batch if len(idx.get(b.tag, [])) > 1]
    refused = [b.tag for b in batch if b.code != 250]
    sels, bad = {}, []
    for b in batch:
        if b.tag not in idx:
            continue
        data = idx[b.tag][0]
        seal = top_seal(header_fields(data))
        sel = tag_value(seal or '', 's')
        sels[sel] = sels.get(sel, 0) + 1
        v, out = arctool_verify(ctx['build'], data, ctx['keys'])
        try:
            cv, _ = dkimpy_verify(ctx['keys'], data)
        except Exception as e:
            cv = repr(e)
        if v != 'pass' or cv != 'pass':
            bad.append('%s: arctool %s dkimpy %s' % (b.tag, v, cv))
    result('key rotation mid-stream: %d messages, none lost or refused, '
           'each once' % n, reloaded and not lost and not dup and
           not refused, 'reloaded %s lost %s dup %s refused %s' % (
               reloaded, lost, dup, refused))
    result('key rotation: every message verifies (arctool, dkimpy), '
           'sealed by s1 before and s2 after (%s)' % sels,
           not bad and sels.get('s1', 0) > 0 and sels.get('s2', 0) > 0 and
           set(sels) <= {'s1', 's2'}, '; '.join(bad[:5]) or repr(sels))
    # back to s1 for the cases after this one
    write_conf(d, 's1', d + '/seal.pem')
    os.kill(pid, signal.SIGHUP)
    wait_log(d, 'reloaded (generation', gen0 + 2)


def attack_msg(nfields, nsets):
    """nsets forged ARC sets (keys from origin.example's record, b=
    garbage, body hashes right) whose AMSs each cover nfields header
    fields of 60 KB: the verifier must hash all of them for each AMS."""
    import base64
    big = []
    for k in range(nfields):
        val = ('%03d' % k) + 'a' * 60000
        lines = [val[i:i + 76] for i in range(0, len(val), 76)]
        big.append(b'X-Big-%03d: ' % k + '\r\n\t'.join(lines).encode() +
                   b'\r\n')
    body = b'big body\r\n'
    bh = base64.b64encode(hashlib.sha256(body).digest()).decode()
    names = ':'.join('x-big-%03d' % k for k in range(nfields))
    hval = '\r\n\t'.join(names[i:i + 70] for i in range(0, len(names), 70))
    junk = base64.b64encode(os.urandom(256)).decode()
    sets = []
    for i in range(nsets, 0, -1):
        sets.append(('ARC-Seal: i=%d; a=rsa-sha256; cv=%s; d=origin.example;'
                     ' s=o1; t=1700000000;\r\n\tb=%s\r\n' % (
                         i, 'none' if i == 1 else 'pass', junk)).encode())
        sets.append(('ARC-Message-Signature: i=%d; a=rsa-sha256; '
                     'c=relaxed/relaxed; d=origin.example; s=o1; '
                     't=1700000000;\r\n\th=%s;\r\n\tbh=%s;\r\n\tb=%s\r\n'
                     % (i, hval, bh, junk)).encode())
        sets.append(('ARC-Authentication-Results: i=%d; hop%d.example; '
                     'arc=none\r\n' % (i, i)).encode())
    head = make_msg('attack', b'')
    return b''.join(sets) + b''.join(big) + head[:-2] + b'\r\n' + body


def smtp_attack(ctx):
    """One costly message (50 forged sets, each AMS over 400 fields of
    60 KB: 24 MB of header, under smtpd's 35 MB default size limit)
    while small messages of other sessions arrive: they must not wait
    for it.  Prints the waits; asserts only ordering and a generous
    bound."""
    nfields = int(os.environ.get('ATTACK_FIELDS', '400'))
    big = Sent('attack', attack_msg(nfields, 50), 'attack')
    smalls = []
    tb = threading.Thread(target=send, args=(ctx['port'], big))
    t0 = time.monotonic()
    tb.start()
    i = 0
    while tb.is_alive() and i < 40:
        time.sleep(0.25)
        s = Sent('attack-small-%02d' % i, make_msg('attack-small-%02d' % i),
                 'plain')
        s.sent_at = time.monotonic()
        send(ctx['port'], s)
        smalls.append(s)
        i += 1
    tb.join()
    big_end = big.done_at
    waits = [s.took for s in smalls if s.code == 250]
    before = [s for s in smalls if s.code == 250 and s.done_at < big_end]
    print('attack: %d-byte message took %.2fs; %d small messages sent '
          'meanwhile, DATA-to-250 waits min %.3fs max %.3fs, %d done '
          'before the big one' % (len(big.msg), big.took, len(smalls),
                                  min(waits or [0]), max(waits or [0]),
                                  len(before)), flush=True)
    result('costly message: small messages of other sessions are '
           'answered before it, none waits over 10 s',
           big.code == 250 and smalls and len(waits) == len(smalls) and
           before and max(waits) < 10,
           'big %s after %.2fs; small %s' % (
               big.code, big.took, ['%s %.2f' % (s.code, s.took)
                                    for s in smalls]))
    idx = wait_delivered(ctx['dir'], [big.tag] + [s.tag for s in smalls],
                         60)
    result('costly message and the small ones delivered',
           big.tag in idx and all(s.tag in idx for s in smalls),
           'missing %s' % [t for t in [big.tag] + [s.tag for s in smalls]
                           if t not in idx])
    if big.tag in idx:
        ar = our_arc_result(header_fields(idx[big.tag][0]))
        result('costly message: arc=fail in our A-R', ar == 'fail',
               'arc=%s' % ar)


def smtp_no_signed_field(ctx):
    """Issue 12: a message with none of the fields the AMS signs was
    sealed with an h= read from an unterminated buffer (heap bytes)."""
    port, d = ctx['port'], ctx['dir']
    name = 'no signed field: clean h=, printable ARC set, verifies'
    s = Sent('nosigned', b'X-Test-Id: nosigned\r\nX-Only: y\r\n\r\n'
             b'body\r\n', 'plain')
    send(port, s)
    if s.code != 250:
        result(name, False, 'SMTP %s %s' % (s.code, s.reply))
        return
    idx = wait_delivered(d, [s.tag])
    if s.tag not in idx:
        result(name, False, 'not delivered')
        return
    data = idx[s.tag][0]
    why = []
    head = crlf(data).split(b'\r\n\r\n', 1)[0]
    for line in head.split(b'\r\n'):
        if re.search(rb'[^\x20-\x7e\t]', line) or len(line) > 998:
            why.append('bad header line %r' % line[:80])
    ams = [v for n, v in header_fields(data) if n == 'arc-message-signature']
    h = tag_value(ams[0], 'h') if ams else None
    if h is None or not re.fullmatch(r'[a-z-]+(:[a-z-]+)*', h):
        why.append('h=%r' % h)
    v, out = arctool_verify(ctx['build'], data, ctx['keys'])
    if v != 'pass':
        why.append('arctool says %s (%s)' % (v, out.strip()[:200]))
    try:
        cv, reason = dkimpy_verify(ctx['keys'], data)
    except Exception as e:
        cv, reason = 'error', repr(e)
    if cv != 'pass':
        why.append('dkimpy says %s (%s)' % (cv, reason))
    result(name, not why, '; '.join(why))


def send_env(port, sent, mail_from, rcpt):
    """send() with the envelope given."""
    try:
        s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example',
                         timeout=60)
        s.ehlo()
        s.mail(mail_from)
        s.rcpt(rcpt)
        sent.code, reply = s.data(sent.msg)
        sent.reply = reply.decode(errors='replace')
        s.quit()
    except Exception as e:
        sent.code, sent.reply = -1, repr(e)


def smtp_many_domains(ctx):
    """Issue 15: OpenDKIM-format KeyTable and SigningTable in arc.conf,
    reloaded by SIGHUP: each message sealed by its own domain's key
    (recipient, envelope sender), the default identity when nothing
    matches, a bad table refused with file:line while the running one
    stays, and a reload that adds a domain."""
    import grp
    import signal
    d, pid = ctx['dir'], filter_pid(ctx['dir'])
    gid = grp.getgrnam('opensmtpd').gr_gid
    keys = {}
    for dom, sel in (('one.example', 's1'), ('two.example', 's1'),
                     ('two.example', 's2'), ('three.example', 's1')):
        pem = '%s/%s-%s.pem' % (d, dom, sel)
        p = subprocess.run([d + '/arctool', 'keygen', '--domain', dom,
                            '--selector', sel, '--out', pem],
                           capture_output=True)
        if p.returncode != 0:
            result('many domains: keygen', False, p.stderr.decode())
            return
        os.chown(pem, 0, gid)
        os.chmod(pem, 0o640)
        with open(ctx['keys'], 'ab') as f:
            f.write(p.stdout)
        keys[(dom, sel)] = pem
    kt, st = d + '/KeyTable', d + '/SigningTable'

    def tables(lines_kt, lines_st):
        for path, lines in ((kt, lines_kt), (st, lines_st)):
            with open(path + '.new', 'w') as f:
                f.write('# OpenDKIM format\n' + ''.join(
                    l + '\n' for l in lines))
            os.chmod(path + '.new', 0o644)
            os.rename(path + '.new', path)
    base = read(d + '/arc.conf').decode()

    def reload(n):
        os.kill(pid, signal.SIGHUP)
        return wait_log(d, 'reloaded (generation', n)

    def one(tag, mail_from, rcpt, dom, sel, how):
        s = Sent(tag, make_msg(tag), 'plain')
        send_env(ctx['port'], s, mail_from, rcpt)
        idx = wait_delivered(d, [tag])
        name = 'many domains: %s sealed d=%s s=%s (%s)' % (tag, dom, sel,
                                                          how)
        if s.code != 250 or tag not in idx:
            result(name, False, 'SMTP %s %s, delivered %s' % (
                s.code, s.reply, tag in idx))
            return
        data = idx[tag][0]
        seal = top_seal(header_fields(data)) or ''
        ams = [v for n, v in header_fields(data)
               if n == 'arc-message-signature']
        why = []
        for v in (seal, ams[0] if ams else ''):
            if tag_value(v, 'd') != dom or tag_value(v, 's') != sel:
                why.append('d=%s s=%s' % (tag_value(v, 'd'),
                                          tag_value(v, 's')))
        v, out = arctool_verify(ctx['build'], data, ctx['keys'])
        if v != 'pass':
            why.append('arctool says %s (%s)' % (v, out.strip()[:200]))
        try:
            cv, reason = dkimpy_verify(ctx['keys'], data)
        except Exception as e:
            cv, reason = 'error', repr(e)
        if cv != 'pass':
            why.append('dkimpy says %s (%s)' % (cv, reason))
        if not wait_log(d, how, 1, 5):
            why.append('no "%s" in the log' % how)
        result(name, not why, '; '.join(why))

    gen = smtpd_log(d).count('reloaded (generation')
    tables(['one\tone.example:s1:' + keys[('one.example', 's1')],
            'two\ttwo.example:s1:' + keys[('two.example', 's1')],
            'two-new\ttwo.example:s2:' + keys[('two.example', 's2')]],
           ['*@one.example\tone', '*.two.example\ttwo-new',
            'two.example\ttwo'])
    with open(d + '/arc.conf.new', 'w') as f:
        f.write(base + '\nseal-key-table %s\nseal-signing-table %s\n' %
                (kt, st))
    os.chmod(d + '/arc.conf.new', 0o644)
    os.rename(d + '/arc.conf.new', d + '/arc.conf')
    result('many domains: SIGHUP loads the tables', reload(gen + 1),
           'no reload line')
    one('md-one', 'sender@origin.example', 'u@one.example', 'one.example',
        's1', 'seal=one.example/s1 match=rcpt:*@one.example')
    one('md-two', 'sender@origin.example', 'u@lists.two.example',
        'two.example', 's2', 'seal=two.example/s2 match=rcpt:*.two.example')
    one('md-two-apex', 'sender@origin.example', 'u@two.example',
        'two.example', 's1', 'seal=two.example/s1 match=rcpt:two.example')
    one('md-none', 'sender@origin.example', 'rcpt@dest.example',
        SEAL_DOM.decode(), SEAL_SEL.decode(), 'seal=default match=none')
    # a bad line: refused with file:line, the running tables stay
    tables(['one\tone.example:s1:' + keys[('one.example', 's1')]],
           ['*@one.example\tone', '*@three.example\tthree'])
    os.kill(pid, signal.SIGHUP)
    result('many domains: a bad signing table is refused with file:line',
           wait_log(d, '%s:3: key "three" is not in the key table' % st),
           'no such log line')
    one('md-two-kept', 'sender@origin.example', 'u@x.two.example',
        'two.example', 's2', 'seal=two.example/s2 match=rcpt:*.two.example')
    # a reload that adds a domain, chosen by the envelope sender
    tables(['one\tone.example:s1:' + keys[('one.example', 's1')],
            'two\ttwo.example:s1:' + keys[('two.example', 's1')],
            'two-new\ttwo.example:s2:' + keys[('two.example', 's2')],
            'three\tthree.example:s1:' + keys[('three.example', 's1')]],
           ['*@one.example\tone', '*.two.example\ttwo-new',
            'two.example\ttwo', '*@three.example\tthree'])
    result('many domains: SIGHUP adds three.example', reload(gen + 2),
           'no reload line')
    one('md-three', 'bounces@three.example', 'rcpt@dest.example',
        'three.example', 's1', 'seal=three.example/s1 match=sender:'
        '*@three.example')
    # back to the single identity
    with open(d + '/arc.conf.new', 'w') as f:
        f.write(base)
    os.chmod(d + '/arc.conf.new', 0o644)
    os.rename(d + '/arc.conf.new', d + '/arc.conf')
    reload(gen + 3)


def cmd_smtp(port, d, slow):
    ctx = {'port': port, 'dir': d, 'build': d, 'keys': d + '/keys-all.txt',
           'dns_timeout': float(os.environ.get('DNS_TIMEOUT_MS', '3000'))
           / 1000}
    smtp_basic(ctx)
    smtp_concurrent(ctx)
    smtp_long_line(ctx)
    smtp_large(ctx)
    smtp_no_signed_field(ctx)
    if slow:
        smtp_slow_dns(ctx)
    smtp_signals(ctx)
    smtp_rotate(ctx)
    smtp_attack(ctx)
    smtp_many_domains(ctx)


# ---- protocol simulation ---------------------------------------------------

class Filter:
    """filter-arc with stdin and stdout on one socketpair, as smtpd
    runs it."""

    def __init__(self, path, conf, admd='admd.example', env=None):
        a, b = socket.socketpair()
        self.err = open(conf + '.log', 'ab')
        self.p = subprocess.Popen([path, '-c', conf], stdin=b, stdout=b,
                                  stderr=self.err, env=env)
        b.close()
        self.sock, self.rf = a, a.makefile('rb')
        self.pending = []
        for line in ('config|smtpd-version|6.8.0p2',
                     'config|smtp-session-timeout|300',
                     'config|subsystem|smtp-in', 'config|admd|' + admd,
                     'config|ready'):
            self.w(line)
        self.registered = [self.rline() for _ in range(4)]

    def w(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.sock.sendall(line + b'\n')

    def rline(self):
        self.sock.settimeout(20)
        line = self.rf.readline()
        if not line:
            raise EOFError('filter closed its output')
        return line.rstrip(b'\n').decode(errors='replace')

    def until(self, sid, pred):
        """The lines about session sid up to and including the first one
        pred accepts; other sessions' lines are kept for later calls."""
        out, i = [], 0
        mine = '|%s|' % sid
        while True:
            while i < len(self.pending):
                line = self.pending[i]
                if mine not in line:
                    i += 1
                    continue
                del self.pending[i]
                out.append(line)
                if pred(line):
                    return out
            self.pending.append(self.rline())

    def close(self):
        self.sock.shutdown(socket.SHUT_WR)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = 'hung'
        self.err.close()
        return rc


def session_lines(sid, msgid='a0d45a85'):
    return ['report|0.6|1.0|smtp-in|link-connect|%s|localhost|pass|'
            '192.0.2.9:53718|127.0.0.1:2526' % sid,
            'report|0.6|1.0|smtp-in|link-identify|%s|EHLO|client.example'
            % sid,
            'report|0.6|1.0|smtp-in|tx-begin|%s|%s' % (sid, msgid),
            'report|0.6|1.0|smtp-in|tx-rcpt|%s|%s|ok|rcpt@dest.example'
            % (sid, msgid)]


def data_lines(sid, tok, msg):
    """msg (CRLF) as smtpd's data-lines, with its Received first and
    the dot-stuffing of the wire."""
    lines = ['Received: from client.example (localhost [192.0.2.9])',
             '\tby mx.example (OpenSMTPD) with ESMTP id a0d45a85']
    for ln in crlf(msg).split(b'\r\n')[:-1]:
        ln = ln.decode(errors='replace')
        lines.append('.' + ln if ln.startswith('.') else ln)
    out = ['filter|0.6|1.0|smtp-in|data-line|%s|%s|%s' % (sid, tok, ln)
           for ln in lines]
    return out + ['filter|0.6|1.0|smtp-in|data-line|%s|%s|.' % (sid, tok)]


def dataline_text(line):
    return line.split('|', 3)[3]


def message_of(lines):
    """The echoed data-lines as a message: unstuffed, without '.'."""
    text = [dataline_text(ln) for ln in lines
            if ln.startswith('filter-dataline|')]
    assert text[-1] == '.'
    return crlf('\n'.join(ln[1:] if ln.startswith('.') else ln
                          for ln in text[:-1]).encode() + b'\n')


def run_message(f, sid, tok, msg, commit=True):
    for ln in session_lines(sid):
        f.w(ln)
    # written while the output is read, as smtpd does: the filter may
    # hold its input back until its output is taken (a message passed on
    # writes its kept lines first)
    lines = data_lines(sid, tok, msg)
    writer = threading.Thread(target=lambda: [f.w(ln) for ln in lines])
    writer.start()
    out = f.until(sid, lambda ln: ln == 'filter-dataline|%s|%s|.' %
                  (sid, tok))
    writer.join()
    res = None
    if commit:
        f.w('filter|0.6|1.0|smtp-in|commit|%s|%s|' % (sid, tok))
        res = f.until(sid, lambda ln: ln.startswith('filter-result|'))[-1]
    return out, res


def sim_conf(d, name, extra='', dns=False):
    path = '%s/%s.conf' % (d, name)
    with open(path, 'w') as f:
        f.write('seal-domain mx.example\nseal-selector s1\n'
                'seal-key %s/seal.pem\nkey-table %s/keys.txt\n%s%s'
                % (d, d, '' if dns else 'dns no\n', extra))
    return path


def sim_basic(filt, d):
    f = Filter(filt, sim_conf(d, 'sim-basic'), admd='admd.example')
    result('sim: handshake registers data-line, commit, reports, ready',
           f.registered == ['register|report|smtp-in|*',
                            'register|filter|smtp-in|data-line',
                            'register|filter|smtp-in|commit',
                            'register|ready'], repr(f.registered))
    msg = make_msg('sim-1')
    out, res = run_message(f, '00000000000000a1', '00000000000000b1', msg)
    delivered = message_of(out)
    fields = header_fields(delivered)
    ar = [v for n, v in fields if n == 'authentication-results']
    result('sim: config|admd becomes the authserv-id',
           ar and ar[0].startswith('admd.example; arc=none') and
           'smtp.remote-ip=192.0.2.9' in ar[0], repr(ar))
    names = [n for n, _ in fields]
    result('sim: fields go above Received, in order',
           names[:5] == ['arc-seal', 'arc-message-signature',
                         'arc-authentication-results',
                         'authentication-results', 'received'],
           repr(names[:5]))
    result('sim: dot-stuffing kept on output',
           any(dataline_text(ln) == '..a line with a leading dot'
               for ln in out), 'stuffed line not echoed as received')
    v, why = arctool_verify(d, delivered, d + '/keys.txt')
    result('sim: sealed message verifies', v == 'pass', why[:200])
    result('sim: commit proceeds',
           res == 'filter-result|00000000000000a1|00000000000000b1|proceed',
           repr(res))

    # malformed input: logged, never fatal; a stray phase proceeds
    for junk in ('garbage', '', 'filter|0.6|1|smtp-in|data-line|zz|yy|x',
                 'report|0.6|1|smtp-in|link-connect|', 'config|',
                 '|||||||', 'filter|0.6|1|smtp-in|data-line|'
                 '00000000000000c1|00000000000000d1'):
        f.w(junk)
    f.w(b'filter|0.6|1|smtp-in|helo|00000000000000a2|00000000000000b2|x')
    res = f.until('00000000000000a2',
                  lambda ln: ln.startswith('filter-result|'))
    result('sim: an unregistered phase gets proceed',
           res[-1].endswith('|proceed'), repr(res))

    # two sessions interleaved line by line
    m1, m2 = make_msg('sim-i1'), make_msg('sim-i2')
    for ln in session_lines('00000000000000e1') + \
            session_lines('00000000000000e2'):
        f.w(ln)
    d1 = data_lines('00000000000000e1', '00000000000000f1', m1)
    d2 = data_lines('00000000000000e2', '00000000000000f2', m2)
    for i in range(max(len(d1), len(d2))):
        if i < len(d2):
            f.w(d2[i])
        if i < len(d1):
            f.w(d1[i])
    o1 = f.until('00000000000000e1', lambda ln: ln.endswith('|.'))
    o2 = f.until('00000000000000e2', lambda ln: ln.endswith('|.'))
    ok = True
    for o, m in ((o1, m1), (o2, m2)):
        got = message_of(o)
        ok = ok and got.endswith(crlf(m)) and \
            arctool_verify(d, got, d + '/keys.txt')[0] == 'pass'
    result('sim: interleaved sessions kept apart, both sealed', ok,
           'a message was mixed up or does not verify')

    # a data-line holding '|' is passed on whole
    m3 = make_msg('sim-bar', b'a|b||c|\r\n')
    out, _ = run_message(f, '00000000000000a3', '00000000000000b3', m3)
    result('sim: data-line text with | kept whole',
           any(dataline_text(ln) == 'a|b||c|' for ln in out), 'lost')
    rc = f.close()
    result('sim: exits 0 at EOF, not before', rc == 0, 'rc %s' % rc)


def sim_reject(filt, d):
    f = Filter(filt, sim_conf(d, 'sim-reject', 'on-fail reject\n'
                              'authserv-id mx.example\n'))
    good = dkimpy_seal(make_msg('sim-r1'), d + '/origin.pem', b'o1',
                       b'origin.example')
    bad = tamper(dkimpy_seal(make_msg('sim-r2'), d + '/origin.pem', b'o1',
                             b'origin.example'))
    _, res1 = run_message(f, '00000000000000a4', '00000000000000b4', good)
    out, res2 = run_message(f, '00000000000000a5', '00000000000000b5', bad)
    result('sim: on-fail reject: a passing chain proceeds',
           res1.endswith('|proceed'), repr(res1))
    result('sim: on-fail reject: a failing chain is refused at commit',
           res2 == 'filter-result|00000000000000a5|00000000000000b5|'
           'reject|550 5.7.29 ARC validation failure', repr(res2))
    result('sim: on-fail reject: all lines echoed before the refusal',
           message_of(out).endswith(crlf(bad)), 'lines missing')
    f.close()


def sim_passthru(filt, d):
    # no usable temporary directory and a message beyond the memory spool
    env = dict(os.environ, TMPDIR='/nonexistent/dir')
    f = Filter(filt, sim_conf(d, 'sim-tmp', 'authserv-id mx.example\n'),
               env=env)
    body = b''.join(b'line %07d of a big message\r\n' % i
                    for i in range(60000))
    msg = make_msg('sim-big', body)
    out, res = run_message(f, '00000000000000a6', '00000000000000b6', msg)
    got = message_of(out)
    want = crlf(b'Received: from client.example (localhost [192.0.2.9])\n'
                b'\tby mx.example (OpenSMTPD) with ESMTP id a0d45a85\n') + msg
    log = read(d + '/sim-tmp.conf.log').decode(errors='replace')
    result('sim: temp file failure: passed on unchanged',
           got == want and res.endswith('|proceed') and
           'passed on unchanged' in log,
           'got %d bytes, want %d; logged %s' % (
               len(got), len(want), 'passed on unchanged' in log))
    # the next message is handled normally
    out, _ = run_message(f, '00000000000000a7', '00000000000000b7',
                         make_msg('sim-after'))
    result('sim: next message after a failure is sealed',
           any('ARC-Seal:' in ln for ln in out), 'not sealed')
    f.close()


def sim_enospc(filt, d):
    """The spool's temporary file fills its file system (a 64 KB tmpfs):
    the message goes out intact and unsealed, the log says what really
    happened (no space) and claims no damage."""
    tiny = d + '/tiny'
    os.makedirs(tiny, exist_ok=True)
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k,mode=1777',
                       'tmpfs', tiny], capture_output=True).returncode:
        print('SKIP: ENOSPC case (cannot mount a tmpfs here)')
        return
    try:
        env = dict(os.environ, TMPDIR=tiny)
        conf = sim_conf(d, 'sim-enospc', 'authserv-id mx.example\n')
        f = Filter(filt, conf, env=env)
        # 3 MB: 1 MB in memory, then 64 KB of file, then ENOSPC
        body = b''.join(b'line %07d of a message too big for /tmp\r\n' % i
                        for i in range(75000))
        msg = make_msg('sim-enospc', body)
        out, res = run_message(f, '00000000000000aa', '00000000000000ba',
                               msg)
        got = message_of(out)
        want = crlf(b'Received: from client.example (localhost '
                    b'[192.0.2.9])\n\tby mx.example (OpenSMTPD) with '
                    b'ESMTP id a0d45a85\n') + msg
        # the next, small message is handled normally
        out2, _ = run_message(f, '00000000000000ab', '00000000000000bb',
                              make_msg('sim-enospc-2'))
        f.close()
        log = read(conf + '.log').decode(errors='replace')
        result('sim: ENOSPC in the spool: message passed on intact, '
               'logged as no space, no damage claimed',
               got == want and res.endswith('|proceed') and
               'No space left on device' in log and
               'passed on intact' in log and 'damaged' not in log,
               'intact %s, %s, log: %s' % (
                   got == want, res,
                   [ln for ln in log.splitlines() if 'sim-enospc' in ln or
                    'space' in ln][:3]))
        result('sim: ENOSPC: the next message is sealed',
               any('ARC-Seal:' in ln for ln in out2), 'not sealed')
    finally:
        subprocess.run(['umount', tiny])


def sim_disconnect(filt, d):
    """Clients that vanish mid-message, late lines, rollbacks."""
    f = Filter(filt, sim_conf(d, 'sim-disc', 'authserv-id mx.example\n'))
    sid, tok = '00000000000000a8', '00000000000000b8'
    lines = data_lines(sid, tok, make_msg('sim-gone'))
    for ln in session_lines(sid) + lines[:5]:
        f.w(ln)
    f.w('report|0.6|1.0|smtp-in|link-disconnect|%s' % sid)
    for ln in lines[5:8]:	# overtaken by the disconnect report
        f.w(ln)
    f.w('report|0.6|1.0|smtp-in|tx-rollback|%s|a0d45a85' % sid)
    f.w('report|0.6|1.0|smtp-in|link-disconnect|%s' % sid)
    # a message with a rollback reported between its "." and commit
    out, res = run_message(f, '00000000000000a9', '00000000000000b9',
                           make_msg('sim-next'))
    result('sim: a client gone mid-message changes nothing for others',
           any('ARC-Seal:' in ln for ln in out) and res.endswith('proceed'),
           'next message not sealed or not committed')
    rc = f.close()
    result('sim: still alive after vanished clients, exits 0 at EOF',
           rc == 0, 'rc %s' % rc)


def sim_dns(filt, d, port):
    """Messages waiting for a key lookup that never answers: freed while
    waiting, given up by message-timeout, failed by dns-timeout."""
    conf = sim_conf(d, 'sim-dns', 'authserv-id mx.example\n'
                    'dns-forwarder 127.0.0.1@%s\n'
                    'dns-timeout 1500\nmessage-timeout 800\n' % port,
                    dns=True)
    f = Filter(filt, conf)

    def slow_msg(tag):
        return dkimpy_seal(make_msg(tag), d + '/slow.pem', b'k1',
                           b'slow.example')
    # 1: the client goes away while its message waits for DNS
    sid = '0000000000000da1'
    for ln in session_lines(sid) + data_lines(sid, '0000000000000db1',
                                              slow_msg('sim-dns-1')):
        f.w(ln)
    time.sleep(0.2)
    f.w('report|0.6|1.0|smtp-in|link-disconnect|%s' % sid)
    # 2: given up after message-timeout, committed and freed while its
    # lookup is still under way
    t0 = time.monotonic()
    out, res = run_message(f, '0000000000000da2', '0000000000000db2',
                           slow_msg('sim-dns-2'))
    took = time.monotonic() - t0
    ar = [v for n, v in header_fields(message_of(out))
          if n == 'authentication-results']
    result('sim: lookups unfinished after message-timeout: passed on',
           0.6 < took < 1.4 and ar and 'arc=fail' in ar[0] and
           res.endswith('proceed'), 'after %.2fs, A-R %s' % (took, ar))
    # 3: after the lookups above timed out, all still works
    time.sleep(2)
    out, res = run_message(f, '0000000000000da3', '0000000000000db3',
                           make_msg('sim-dns-3'))
    result('sim: alive after lookups of freed messages ended',
           any('ARC-Seal:' in ln for ln in out), 'not sealed')
    rc = f.close()
    result('sim: DNS cases: exits 0 at EOF', rc == 0, 'rc %s' % rc)


def cmd_sim(filt, d):
    sim_basic(filt, d)
    sim_disconnect(filt, d)
    if os.environ.get('SIM_DNS_PORT'):
        sim_dns(filt, d, os.environ['SIM_DNS_PORT'])
    sim_reject(filt, d)
    sim_passthru(filt, d)
    sim_enospc(filt, d)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == 'sim':
        cmd_sim(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == 'local':
        d = sys.argv[2]
        idx = wait_delivered(d, ['local-socket'])
        if 'local-socket' not in idx:
            result('listen on socket: local submission delivered', False,
                   'not delivered')
        else:
            check_delivered({'build': d, 'keys': d + '/keys-all.txt'},
                            'listen on socket: local submission sealed, '
                            'verifies', Sent('local-socket', b'', 'plain'),
                            idx['local-socket'][0])
    elif len(sys.argv) >= 4 and sys.argv[1] == 'smtp':
        cmd_smtp(int(sys.argv[2]), sys.argv[3],
                 len(sys.argv) > 4 and sys.argv[4] == '1')
    else:
        sys.exit('usage: opensmtpd_e2e.py sim FILTER DIR | '
                 'smtp PORT DIR [SLOW]')
    sys.exit(min(FAILS, 100))


if __name__ == '__main__':
    main()
