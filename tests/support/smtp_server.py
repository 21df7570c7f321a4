"""A real SMTP server (aiosmtpd) for the tests of e-mail deliveries.

Each message it takes is written to DIR as NNNN.json: the envelope, the decoded headers the
tests check, whether the raw headers are ASCII (RFC 2047), and the text and HTML parts.

  --fail N         answer the first N messages "451 try again later" (a transient failure)
  --reject ADDR    refuse the recipient ADDR with "550 no such mailbox" (a permanent failure)
  --drop N         take the first N messages that are not failed, write them, and close the
                   connection before answering (the answer is lost)

It prints "ready" once it listens, and runs until it is killed.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, fail, reject, drop):
        self.out, self.fail, self.reject, self.drop = out, fail, set(reject), drop
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fail > 0:
            self.fail -= 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or envelope.content
        head = raw.split(b"\r\n\r\n", 1)[0]
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "message_id": str(msg["message-id"]),
            "list_unsubscribe": str(msg["list-unsubscribe"]),
            "list_unsubscribe_post": str(msg["list-unsubscribe-post"]),
            "content_type": msg.get_content_type(),
            "headers_ascii": all(b < 128 for b in head),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        path = os.path.join(self.out, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        if self.drop > 0:
            self.drop -= 1
            server.transport.close()
            return "250 OK (never heard)"
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--drop", type=int, default=0)
    a = p.parse_args()
    handler = Handler(a.dir, a.fail, [r.lower() for r in a.reject], a.drop)
    c = Controller(handler, hostname="127.0.0.1", port=a.port)
    c.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        c.stop()


if __name__ == "__main__":
    sys.exit(main())
