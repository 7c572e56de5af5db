#!/usr/bin/env python3
"""After scripts/fuzz_api.sh: every client secret that the fuzzed API handed out (read from the
run's HAR file) must appear in exactly one answer, that answer must be `Cache-Control: no-store`,
and no secret may appear in the server's database files or its log.
    fuzz_leak_scan.py RUN.har SERVER.LOG DATABASE.db"""
import base64
import json
import pathlib
import sys


def body(entry):
    content = entry["response"].get("content", {})
    text = content.get("text") or ""
    if content.get("encoding") == "base64":
        text = base64.b64decode(text).decode("utf-8", "replace")
    return text


def main(har_path, log_path, db_path):
    entries = json.loads(pathlib.Path(har_path).read_text())["log"]["entries"]
    secrets = {}
    for e in entries:
        text = body(e)
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("client_secret"), str):
            headers = {h["name"].lower(): h["value"] for h in e["response"]["headers"]}
            where = f'{e["request"]["method"]} {e["request"]["url"]}'
            if headers.get("cache-control") != "no-store":
                sys.exit(f"an answer with a secret is not no-store: {where}")
            secrets[doc["client_secret"]] = where
    failures = []
    for secret, where in secrets.items():
        seen = sum(body(e).count(secret) for e in entries)
        if seen != 1:
            failures.append(f"the secret from {where} is in {seen} answers")
    stored = b"".join(
        p.read_bytes() for p in pathlib.Path(db_path).parent.glob(pathlib.Path(db_path).name + "*")
    )
    log = pathlib.Path(log_path).read_bytes()
    for secret, where in secrets.items():
        if secret.encode() in stored:
            failures.append(f"the secret from {where} is in the database files")
        if secret.encode() in log:
            failures.append(f"the secret from {where} is in the server log")
    if failures:
        sys.exit("\n".join(failures))
    if not secrets:
        sys.exit("the fuzzing made no secret: nothing was scanned")
    print(f"leak scan: {len(secrets)} secrets from {len(entries)} answers, each in its one answer only")


if __name__ == "__main__":
    main(*sys.argv[1:4])
