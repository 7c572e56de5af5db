"""A webhook receiver for the tests: verifies every delivery with the `standardwebhooks`
package (a verifier that no one at Clavis wrote) and keeps what arrived.

    python webhook_receiver.py        prints "listening PORT" once it listens on 127.0.0.1

  POST /hook      a delivery. Verified with each secret set by /control; answers 500 while
                  `fail_next` is above zero (counting down), else 204.
  POST /control   JSON: {"secrets": [...]} and/or {"fail_next": N}.
  GET  /received  JSON list of deliveries: webhook-id, type, which secrets verified it, how many
                  signatures the header carried, and the status it was answered with.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

state = {"secrets": [], "fail_next": 0, "received": []}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            body = json.dumps(state["received"]).encode()
        self.reply(200, body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/control":
            with lock:
                state.update(json.loads(body))
            return self.reply(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            secrets = list(state["secrets"])
            failing = state["fail_next"] > 0
            if failing:
                state["fail_next"] -= 1
        verified_by = []
        event_type = None
        for i, secret in enumerate(secrets):
            try:
                payload = Webhook(secret).verify(body, headers)
                verified_by.append(i)
                event_type = payload.get("type")
            except WebhookVerificationError:
                pass
        status = 500 if failing else 204
        with lock:
            state["received"].append({
                "id": headers.get("webhook-id"),
                "type": event_type,
                "verified_by": verified_by,
                "signatures": len(headers.get("webhook-signature", "").split()),
                "status": status,
                "payload": json.loads(body) if verified_by else None,
            })
        self.reply(status)


import os

server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("RECEIVER_PORT", "0"))), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
