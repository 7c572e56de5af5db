"""The measuring half of bench/webhooks.sh (which starts Clavis and the receiver).

    webhooks_driver.py BASE RECEIVER EVENTS SECONDS ROUNDS WORKER_ID WORKER_SECRET ADMIN_ID ADMIN_SECRET

1. Delivery: EVENTS `webhook.test` events, written through the admin API as fast as 8 callers
   go, to 4 endpoints on the receiver. Prints events per second (from the first commit to the
   last arrival) and the lag from each event's commit to its arrival, p50 and p99. Every event
   must arrive once, with a signature that verifies.
2. Cost: the token endpoint under wrk, SECONDS without deliveries, then SECONDS while the
   dispatcher drains a backlog (written while the endpoints were disabled, enabled as wrk
   starts), in ROUNDS rounds. Prints requests/s and p99 of each, and the median ratio.
"""
import base64
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

base, receiver = sys.argv[1], sys.argv[2]
events, secs, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
worker = (sys.argv[6], sys.argv[7])
admin = (sys.argv[8], sys.argv[9])
ENDPOINTS, CALLERS, CONNS, THREADS = 4, 8, 64, 2


def call(url, method="GET", body=None, headers=None):
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, u.path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def basic(pair):
    return "Basic " + base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()


status, data = call(f"{base}/oauth2/token", "POST", "grant_type=client_credentials&scope=clavis:admin",
                    {"Authorization": basic(admin), "Content-Type": "application/x-www-form-urlencoded"})
assert status == 200, data
bearer = {"Authorization": "Bearer " + json.loads(data)["access_token"], "Content-Type": "application/json"}


def api(method, path, body=None):
    status, data = call(f"{base}/api/v1{path}", method, json.dumps(body) if body is not None else None, bearer)
    assert 200 <= status < 300, (method, path, status, data)
    return json.loads(data) if data else None


hooks, secrets = [], []
for i in range(ENDPOINTS):
    made = api("POST", "/webhooks", {"url": f"{receiver}/hook/{i}", "events": ["webhook.test"],
                                     "description": f"bench {i}"})
    hooks.append(made["id"])
    secrets.append(made["secret"])
assert call(f"{receiver}/control", "POST", json.dumps({"secrets": secrets}))[0] == 204


def write_events(n):
    """n test events, spread over the endpoints, from CALLERS keep-alive connections."""
    u = urlsplit(base)
    todo = iter(range(n))
    lock = threading.Lock()

    def caller():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            c.request("POST", f"/api/v1/webhooks/{hooks[i % ENDPOINTS]}/test", body="{}", headers=bearer)
            r = c.getresponse()
            body = r.read()
            assert r.status == 202 or r.status == 200, (r.status, body)

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def received():
    return int(call(f"{receiver}/count")[1])


def wait_for(count, limit=600):
    deadline = time.time() + limit
    while received() < count:
        assert time.time() < deadline, f"only {received()} of {count} deliveries arrived"
        time.sleep(0.1)


def deliveries():
    rows = [line.split() for line in call(f"{receiver}/deliveries")[1].decode().splitlines()]
    return [(r[0], int(r[1]), int(r[2]), r[3] == "1") for r in rows]


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# --- 1. Delivery ---
write_events(events)
wait_for(events)
time.sleep(1)  # any duplicate would arrive now
got = deliveries()
ids = {d[0] for d in got}
assert len(got) == events and len(ids) == events, f"{len(got)} deliveries of {len(ids)} events, want {events} once each"
assert all(d[3] for d in got), "a delivery whose signature did not verify"
lags = [arrival - commit for _, commit, arrival, _ in got]
span = (max(d[2] for d in got) - min(d[1] for d in got)) / 1000
rate = events / span
print(f"delivery: {events} events to {ENDPOINTS} endpoints in {span:.1f} s: {rate:.0f} events/s; "
      f"commit to arrival p50 {pct(lags, 50)} ms, p99 {pct(lags, 99)} ms, max {max(lags)} ms; "
      f"each once, every signature verified")

# --- 2. What delivering costs the token endpoint ---
lua = "/tmp/clavis-bench-webhooks.lua"
with open(lua, "w") as f:
    f.write('wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Authorization"] = "{basic(worker)}"\n'
            'wrk.body = "grant_type=client_credentials&scope=reports:read"\n')


def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000


def wrk():
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{CONNS}", f"-d{secs}s", "--latency", "-s", lua,
                          f"{base}/oauth2/token"], capture_output=True, text=True, check=True).stdout
    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    p99 = ms(next(line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")))
    assert "Non-2xx" not in out, out
    return rps, p99


# The backlog outlasts the window at the rate measured above.
backlog = max(events, int(rate * secs * 1.5))
rows = []
for r in range(1, rounds + 1):
    for h in hooks:
        api("PATCH", f"/webhooks/{h}", {"enabled": False})
    before = received()
    write_events(backlog)
    time.sleep(1)
    without = wrk()
    for h in hooks:
        api("PATCH", f"/webhooks/{h}", {"enabled": True})
    start = received()
    with_ = wrk()
    during = received() - start
    wait_for(before + backlog)
    rows.append((without, with_, during))
    print(f"round {r}: token endpoint without deliveries {without[0]:.0f} req/s (p99 {without[1]:.2f} ms); "
          f"while {during} of {backlog} queued deliveries went out {with_[0]:.0f} req/s (p99 {with_[1]:.2f} ms); "
          f"ratio {with_[0] / without[0]:.2f}")
ratio = statistics.median(w[0] / wo[0] for wo, w, _ in rows)
print(f"token endpoint req/s with deliveries / without: median {ratio:.2f} "
      f"({(1 - ratio) * 100:.1f}% cost; the target is at most 10%); "
      f"p99 without {statistics.median(wo[1] for wo, _, _ in rows):.2f} ms, "
      f"with {statistics.median(w[1] for _, w, _ in rows):.2f} ms")
