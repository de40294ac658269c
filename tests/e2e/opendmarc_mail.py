#!/usr/bin/python3
# opendmarc_mail.py - the messages of tests/e2e/opendmarc.sh, made with
# dkimpy (Debian's python3-dkim), and a tiny syslog sink.
#
# Contract (keys come from the key table given, never from DNS):
#   author KEYTABLE ORIGKEY OUT     a message from alice@origin.example,
#                                   DKIM-signed by origin.example (o1);
#                                   checked to verify before it is written
#   list KEYTABLE IN OUT            what the list server list.example does:
#                                   verifies the author's DKIM, records it
#                                   in "Authentication-Results:
#                                   list.example; arc=none smtp.remote-ip=
#                                   192.0.2.7; dkim=pass ... spf=pass
#                                   ... dmarc=pass ...", then tags the
#                                   Subject and appends a footer (so the
#                                   author's signature breaks); not sealed
#   dkimpy-seal LISTKEY IN OUT      arc_sign IN as list.example (l1)
#   tamper IN OUT                   the body changed after sealing
#   syslog SOCKET LOG               receive syslog datagrams on SOCKET,
#                                   append each as one line to LOG
#   send PORT IN...                 one SMTP session per file from
#                                   bounce@list.example; prints "FILE 250"
#                                   or "FILE CODE text" per message
import socket
import sys

import dkim

FOOTER = b'-- \r\nlist@list.example: to unsubscribe, reply "unsubscribe".\r\n'


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def dnsfunc_for(keytable):
    keys = {}
    for line in read(keytable).decode().splitlines():
        if line.strip() and not line.startswith('#'):
            name, value = line.split(None, 1)
            keys[name.rstrip('.') + '.'] = value.strip().encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return keys.get(name.rstrip('.') + '.', b'')
    return dnsfunc


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ''
    if cmd == 'author' and len(argv) == 5:
        msg = (b'From: Alice <alice@origin.example>\r\n'
               b'To: list@list.example\r\n'
               b'Subject: quarterly figures\r\n'
               b'Date: Wed, 02 Dec 2026 09:00:00 +0000\r\n'
               b'Message-ID: <dmarc-e2e-1@origin.example>\r\n'
               b'\r\n'
               b'The figures are attached in spirit.\r\n')
        sig = dkim.sign(msg, b'o1', b'origin.example', read(argv[3]),
                        include_headers=[b'from', b'to', b'subject',
                                         b'date', b'message-id'])
        out = sig + msg
        if not dkim.verify(out, dnsfunc=dnsfunc_for(argv[2])):
            sys.stderr.write('author: own DKIM signature does not verify\n')
            return 1
        write(argv[4], out)
        return 0
    if cmd == 'list' and len(argv) == 5:
        msg = read(argv[3])
        if not dkim.verify(msg, dnsfunc=dnsfunc_for(argv[2])):
            sys.stderr.write('list: the author signature does not verify\n')
            return 1
        ar = (b'Authentication-Results: list.example;\r\n'
              b'\tarc=none smtp.remote-ip=192.0.2.7;\r\n'
              b'\tdkim=pass header.d=origin.example header.s=o1;\r\n'
              b'\tspf=pass smtp.mailfrom=alice@origin.example;\r\n'
              b'\tdmarc=pass header.from=origin.example\r\n')
        msg = msg.replace(b'Subject: quarterly', b'Subject: [list] quarterly')
        out = ar + msg + FOOTER
        if dkim.verify(out, dnsfunc=dnsfunc_for(argv[2])):
            sys.stderr.write('list: the change did not break DKIM\n')
            return 1
        write(argv[4], out)
        return 0
    if cmd == 'dkimpy-seal' and len(argv) == 5:
        msg = read(argv[3])
        hdrs = dkim.arc_sign(msg, b'l1', b'list.example', read(argv[2]),
                             b'list.example')
        if not hdrs:
            sys.stderr.write('dkimpy arc_sign produced nothing\n')
            return 1
        write(argv[4], b''.join(hdrs) + msg)
        return 0
    if cmd == 'tamper' and len(argv) == 4:
        msg = read(argv[2])
        out = msg.replace(b'in spirit.', b'in spirit!')
        if out == msg:
            return 1
        write(argv[3], out)
        return 0
    if cmd == 'syslog' and len(argv) == 4:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(argv[2])
        with open(argv[3], 'ab', buffering=0) as log:
            while True:
                data = s.recv(65536)
                log.write(data.rstrip(b'\0\n') + b'\n')
    if cmd == 'send' and len(argv) >= 4:
        import smtplib
        for path in argv[3:]:
            try:
                s = smtplib.SMTP('127.0.0.1', int(argv[2]), timeout=60)
                s.sendmail('bounce@list.example', ['bob@test.example'],
                           read(path))
                s.quit()
                print(path, 250)
            except smtplib.SMTPResponseException as e:
                print(path, e.smtp_code, e.smtp_error.decode(errors='replace'))
            except smtplib.SMTPRecipientsRefused as e:
                code, text = list(e.recipients.values())[0]
                print(path, code, text.decode(errors='replace'))
        return 0
    sys.stderr.write('usage: see the contract at the top\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
