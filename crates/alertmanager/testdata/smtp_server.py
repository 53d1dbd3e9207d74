"""Test SMTP server for the alert manager's email tests (aiosmtpd from PyPI).

usage: smtp_server.py OUT_DIR PORT [USER PASSWORD]

Every message is parsed and written to OUT_DIR/<n>.json (envelope, headers, decoded
parts, authenticated user). With USER/PASSWORD, AUTH PLAIN/LOGIN is required (allowed
without TLS: the test talks to localhost). Prints READY when listening; exits when stdin
closes.
"""
import email
import json
import os
import sys
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

out_dir, port = sys.argv[1], int(sys.argv[2])
user = sys.argv[3].encode() if len(sys.argv) > 4 else None
password = sys.argv[4].encode() if len(sys.argv) > 4 else None
count = 0


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        parts = {}
        for p in msg.walk():
            if p.get_content_maintype() == "multipart":
                continue
            parts[p.get_content_type()] = p.get_content()
        login = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        rec = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k: str(v) for k, v in msg.items()},
            "content_type": msg.get_content_type(),
            "parts": parts,
            "login": login,
        }
        count += 1
        tmp = os.path.join(out_dir, "%d.tmp" % count)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(out_dir, "%d.json" % count))
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user
        and auth_data.password == password
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


kwargs = {}
if user is not None:
    kwargs = dict(authenticator=authenticator, auth_require_tls=False, auth_required=True)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
