#!/usr/bin/env bash
# Measures whether the token endpoint's failure time reveals anything: the median time of N
# failed client authentications for each cause, interleaved, over one keep-alive connection,
# on a release build with the failure limits off. Prints each median and its ratio to the
# "wrong secret for an existing client" case (1.00 = equal).
#   bench/token_timing.sh [N]     (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
cargo build --release -p server --bin clavis --quiet
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
CLAVIS_DATABASE_URL="sqlite://$dir/b.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$dir/kek" CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" \
CLAVIS_ADMIN_USERNAME=bench CLAVIS_ADMIN_PASSWORD='bench password 123' CLAVIS_LOG=warn \
CLAVIS_TOKEN_MAX_FAILURES_PER_CLIENT=0 CLAVIS_TOKEN_MAX_FAILURES_PER_IP=0 \
  target/release/clavis serve >"$dir/log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
jar="$dir/cookies"
origin="Origin: http://127.0.0.1:$port"
curl -sf -c "$jar" -H "$origin" --data 'username=bench&password=bench+password+123' "http://127.0.0.1:$port/api/login" >/dev/null
new_client() {
  curl -sf -b "$jar" -H "$origin" --data "input[name]=$1&input[client_type]=client_credentials&input[scopes]=a&form_token=$(openssl rand -hex 16)" \
    "http://127.0.0.1:$port/api/clients/create"
}
python3 - "$port" "$n" "$(new_client Bench)" "$(new_client Other)" <<'PY'
import base64, http.client, json, statistics, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
a, b = (json.loads(x) for x in sys.argv[3:5])
aid, asec = a["client"]["client_id"], a["one_time_secrets"][0]["secret"]
bsec = b["one_time_secrets"][0]["secret"]
bad_sum = asec[:-1] + ("A" if asec[-1] != "A" else "B")
cases = {
    "wrong secret, existing client": (aid, bsec),
    "unknown client": ("0" * 32, asec),
    "malformed secret (checksum)": (aid, bad_sum),
}
conn = http.client.HTTPConnection("127.0.0.1", port)
def once(cid, sec):
    auth = base64.b64encode(f"{cid}:{sec}".encode()).decode()
    t = time.perf_counter()
    conn.request("POST", "/oauth2/token", body="grant_type=client_credentials",
                 headers={"Authorization": f"Basic {auth}", "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse(); body = r.read()
    dt = time.perf_counter() - t
    assert r.status == 401, (r.status, body)
    return dt, body
times = {k: [] for k in cases}
bodies = set()
for _ in range(n):
    for k, (cid, sec) in cases.items():
        dt, body = once(cid, sec)
        times[k].append(dt)
        bodies.add(body)
base = statistics.median(times["wrong secret, existing client"])
print(f"{n} failures per case, interleaved, one keep-alive connection; distinct bodies: {len(bodies)}")
for k, v in times.items():
    m = statistics.median(v)
    print(f"{k:32} median {m * 1e6:7.1f} µs   ratio {m / base:.2f}")
PY
