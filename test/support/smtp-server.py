"""A real SMTP server for tests: aiosmtpd on a loopback port, STARTTLS required,
AUTH (PLAIN/LOGIN) required after STARTTLS, one JSON file per accepted message.

Run by test/support/smtp-server.ts as:
  python smtp-server.py <port> <cert.pem> <key.pem> <maildir> [--no-starttls]
--no-starttls: a server that offers no STARTTLS and takes AUTH in the clear,
for testing that a client refuses it.
with SMTP_TEST_USERNAME and SMTP_TEST_PASSWORD in the environment.
"""
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, maildir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
starttls = "--no-starttls" not in sys.argv[5:]
USERNAME = os.environ["SMTP_TEST_USERNAME"].encode()
PASSWORD = os.environ["SMTP_TEST_PASSWORD"].encode()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USERNAME and auth_data.password == PASSWORD
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Recorder:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "from": str(parsed["from"]),
            "to": str(parsed["to"]),
            "subject": str(parsed["subject"]),
            "text": body.get_content() if body is not None else "",
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "tls": session.ssl is not None,
        }
        path = os.path.join(maildir, "%06d.json" % self.count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(
    Recorder(),
    hostname="127.0.0.1",
    port=port,
    tls_context=context if starttls else None,
    require_starttls=starttls,
    auth_required=True,
    auth_require_tls=starttls,
    authenticator=authenticator,
)
stopping = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopping.set())
signal.signal(signal.SIGINT, lambda *_: stopping.set())
controller.start()
print("ready", flush=True)
stopping.wait()
controller.stop()
