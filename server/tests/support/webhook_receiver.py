"""A webhook receiver for the tests: verifies every delivery with the `standardwebhooks`
package (a verifier that no one at Clavis wrote), validates its body against the OpenAPI
document's `webhooks` with `jsonschema` when given one, and keeps what arrived.

    python webhook_receiver.py        prints "listening PORT" once it listens on 127.0.0.1

  POST /hook      a delivery. Verified with each secret set by /control; answers 500 while
                  `fail_next` is above zero (counting down), else 204.
  POST /control   JSON: {"secrets": [...]}, {"fail_next": N} and/or {"openapi": document}.
  GET  /received  JSON list of deliveries: webhook-id, type, which secrets verified it, how many
                  signatures the header carried, the status it was answered with, and
                  `schema_errors`: what the document's schema for its type finds wrong (null
                  without a document).
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

state = {"secrets": [], "fail_next": 0, "received": [], "openapi": None}


def schema_errors(document, payload):
    """What is wrong with `payload` by the schema of its type in `document`'s `webhooks`."""
    if document is None:
        return None
    hook = document.get("webhooks", {}).get(payload.get("type"))
    if hook is None:
        return [f"the document has no webhook {payload.get('type')!r}"]
    # The whole document is the root, so that its #/components/... references resolve.
    schema = dict(document)
    schema["$ref"] = hook["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    validator = Draft202012Validator(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]
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
            document = state["openapi"]
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
        payload = json.loads(body) if verified_by else None
        status = 500 if failing else 204
        with lock:
            state["received"].append({
                "id": headers.get("webhook-id"),
                "type": event_type,
                "verified_by": verified_by,
                "signatures": len(headers.get("webhook-signature", "").split()),
                "status": status,
                "payload": payload,
                "schema_errors": schema_errors(document, payload) if payload else None,
            })
        self.reply(status)


import os

server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("RECEIVER_PORT", "0"))), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
