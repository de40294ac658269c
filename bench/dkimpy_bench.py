#!/usr/bin/python3
# dkimpy_bench.py - the peer column of arcbench: dkimpy (Debian's
# python3-dkim) sealing and verifying, in-process, the very messages
# arcbench timed.
#
# Contract:
#   dkimpy_bench.py SECONDS CASEFILE [ROUNDS]
#  - CASEFILE (written by arcbench) has one case a line:
#      ID KIND ALG MSGFILE KEYTABLE KEYFILE SELECTOR DOMAIN SRVID
#    KIND is seal (no chain: arc_sign), verify (arc_verify of a chain)
#    or vseal (arc_verify, then arc_sign with the verdict, as a forwarder
#    does).  Keys come from KEYTABLE through dnsfunc; nothing touches DNS.
#  - Each case runs once untimed, then for SECONDS of this process's CPU
#    time (time.process_time, as arcbench counts its own) cut into ROUNDS
#    slices (default 5), each at least one operation; the best slice
#    counts, as in arcbench.
#  - Prints "ID RATE ITERATIONS VERDICT" per case: RATE in operations per
#    CPU second, VERDICT "ok", or what went wrong; RATE "-" when dkimpy
#    cannot do the case at all (its ARC signer takes only RSA keys).
#  - dkimpy 1.1 has no ed25519-sha256 in its ARC algorithm list; its DKIM
#    Ed25519 code (python3-nacl) verifies once the list has it, which is
#    done here, as tests/interop/dkimpy_peer.py does.
import hashlib
import os
import sys
import time

import dkim
import dkim.crypto

# the key table reader and dnsfunc are the interop peer's
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'tests', 'interop'))
from dkimpy_peer import dnsfunc_for, read  # noqa: E402

dkim.crypto.ARC_HASH_ALGORITHMS.setdefault(b'ed25519-sha256', hashlib.sha256)


def make_op(kind, alg, msg, dnsfunc, key, sel, dom, srv):
    def verify():
        cv, _res, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
        if cv != b'pass':
            raise RuntimeError('cv=%s %s' % (cv, reason))
        return cv

    def seal(m):
        hdrs = dkim.arc_sign(m, sel, dom, key, srv, timestamp=1795000000)
        if not hdrs:
            raise RuntimeError('arc_sign produced nothing')

    def verify_seal():
        # the verdict goes into our Authentication-Results, then the AAR
        cv = verify()
        seal(b'Authentication-Results: ' + srv + b'; arc=' + cv + b'\r\n' +
             msg)

    if kind == 'verify':
        return verify
    if kind == 'seal':
        # no chain: the message's own Authentication-Results (spf=) is
        # what the AAR carries, as with arcbench
        return lambda: seal(msg)
    return verify_seal


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: dkimpy_bench.py SECONDS CASEFILE '
                         '[ROUNDS]\n')
        return 64
    rounds = int(argv[3]) if len(argv) == 4 else 5
    secs = float(argv[1]) / rounds
    for line in read(argv[2]).decode().splitlines():
        f = line.split()
        if len(f) != 9:
            continue
        cid, kind, alg, msgfile, keytable, keyfile, sel, dom, srv = f
        if kind != 'verify' and alg != 'rsa-sha256':
            print('%s - 0 dkimpy ARC signs with RSA only' % cid, flush=True)
            continue
        op = make_op(kind, alg, read(msgfile), dnsfunc_for(keytable),
                     read(keyfile), sel.encode(), dom.encode(), srv.encode())
        try:
            op()
            best, total = 0.0, 0
            for _ in range(rounds):
                n, t0 = 0, time.process_time()
                while True:
                    op()
                    n += 1
                    el = time.process_time() - t0
                    if el >= secs:
                        break
                best = max(best, n / el)
                total += n
            print('%s %.2f %d ok' % (cid, best, total), flush=True)
        except Exception as e:  # a failure is a verdict, not a crash
            print('%s - 0 %s: %s' % (cid, type(e).__name__,
                                     str(e).replace('\n', ' ')[:80]),
                  flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
