#!/usr/bin/python3
"""A real SMTP server on loopback for the tests (Debian's python3-aiosmtpd).

smtp_sink.py DIR: listens on 127.0.0.1 on a free port, writes the port to
DIR/port once it accepts, and stores every message it receives as
DIR/<n>.eml (the DATA as sent, with the envelope in X-Envelope-* lines
first). With AUTH=user:password in the environment it requires that login
(over plain text, which aiosmtpd allows only when told: loopback only).
With TLS=cert.pem:key.pem it offers STARTTLS and refuses mail without it.
Runs until killed.
"""
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.folder, "%d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Envelope-From: %s\r\n" % envelope.mail_from.encode())
            for r in envelope.rcpt_tos:
                f.write(b"X-Envelope-To: %s\r\n" % r.encode())
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)  # readers never see half a message
        return "250 OK"


def authenticator(want):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login.decode(), auth_data.password.decode()) == want
        return AuthResult(success=ok)
    return check


async def main(folder):
    auth = os.environ.get("AUTH")
    kwargs = {}
    if auth:
        user, _, password = auth.partition(":")
        kwargs = dict(authenticator=authenticator((user, password)),
                      auth_required=True, auth_require_tls=False)
    tls = os.environ.get("TLS")
    if tls:
        import ssl
        cert, _, key = tls.partition(":")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    sink = Sink(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, **kwargs), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(folder, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(folder, "port.tmp"), os.path.join(folder, "port"))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
