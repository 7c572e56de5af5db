#!/usr/bin/env bash
# Token endpoint benchmark: Clavis (release build, SQLite) against a peer authorization server,
# oidc-provider (bench/peer), both issuing signed JWT access tokens for one client_credentials
# client on loopback. Both are driven by the same load generator (wrk, keep-alive) at the same
# concurrency for the same time, in alternating rounds (Clavis, peer, Clavis, peer, ...), so that
# a slow spell of this shared machine falls on both. Prints requests/s, p50 and p99 latency of
# each round, the peak RSS of each server, and the median of the per-round ratios: that ratio,
# not the absolute figures, is what to compare between machines and runs.
#
# Usage: bench/token.sh [SECONDS] [CONNECTIONS] [ROUNDS]    (defaults: 10 64 3)
#   CLAVIS_BASELINE_BIN=PATH adds a third server to every round, another build of Clavis, and
#   prints this build's requests/s as a ratio to it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
rounds=${3:-3}
threads=2
run=bench/.run
rm -rf "$run" && mkdir -p "$run"

. bench/lib.sh
need_wrk
(cd bench/peer && { [ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --silent; })
cargo build --release -p server --bin clavis --quiet

peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# --- Clavis, with one client_credentials client made through its own API ---
# start_clavis NAME BINARY: a server on a fresh SQLite file; sets port_NAME, pid_NAME, cid_NAME
# and secret_NAME.
start_clavis() {
  local name=$1 bin=$2 port pid jar created cid secret
  port=$(free_port)
  mkdir -p "$run/$name"
  CLAVIS_DATABASE_URL="sqlite://$run/$name/clavis.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$run/$name/kek" \
    CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" CLAVIS_LOG=warn \
    CLAVIS_ADMIN_USERNAME=bench CLAVIS_ADMIN_PASSWORD="bench password 123" \
    "$bin" serve >"$run/$name/clavis.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_for "http://127.0.0.1:$port/healthz"
  jar="$run/$name/cookies"
  curl -sf -c "$jar" -H "Origin: http://127.0.0.1:$port" \
    --data 'username=bench&password=bench+password+123' "http://127.0.0.1:$port/api/login" >/dev/null
  created=$(curl -sf -b "$jar" -H "Origin: http://127.0.0.1:$port" \
    --data "input[name]=Bench+worker&input[client_type]=client_credentials&input[scopes]=reports:read&form_token=$(openssl rand -hex 16)" \
    "http://127.0.0.1:$port/api/clients/create")
  read -r cid secret < <(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client"]["client_id"], d["one_time_secrets"][0]["secret"])' <<<"$created")
  printf -v "port_$name" %s "$port"; printf -v "pid_$name" %s "$pid"
  printf -v "cid_$name" %s "$cid"; printf -v "secret_$name" %s "$secret"
}
start_clavis clavis target/release/clavis
cport=$port_clavis cpid=$pid_clavis cid=$cid_clavis csecret=$secret_clavis
# CLAVIS_BASELINE_BIN: another build of Clavis (such as the commit before a change) in the same
# rounds, so that the change is measured against the build it replaces, on the same machine state.
[ -z "${CLAVIS_BASELINE_BIN:-}" ] || start_clavis baseline "$CLAVIS_BASELINE_BIN"

# --- The peer ---
pport=$(free_port)
pid_secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
node bench/peer/server.mjs "$pport" bench-client "$pid_secret" >"$run/peer.log" 2>&1 &
ppid=$!; pids+=("$ppid")
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$pport/.well-known/openid-configuration" && break; sleep 0.1; done

lua() { # $1: client id, $2: secret
  local basic
  basic=$(printf '%s:%s' "$1" "$2" | base64 -w0)
  cat <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
wrk.body = "grant_type=client_credentials&scope=reports:read"
LUA
}
lua "$cid" "$csecret" >"$run/clavis.lua"
lua bench-client "$pid_secret" >"$run/peer.lua"
[ -z "${CLAVIS_BASELINE_BIN:-}" ] || lua "$cid_baseline" "$secret_baseline" >"$run/baseline.lua"

# One request each first: both must answer 200 with a JWT, or the run means nothing.
c=$(curl -s -w '\n%{http_code}' -u "$cid:$csecret" --data 'grant_type=client_credentials&scope=reports:read' "http://127.0.0.1:$cport/oauth2/token")
p=$(curl -s -w '\n%{http_code}' -u "bench-client:$pid_secret" --data 'grant_type=client_credentials&scope=reports:read' "http://127.0.0.1:$pport/token")
for answer in "$c" "$p"; do
  [ "$(tail -1 <<<"$answer")" = 200 ] || { echo "a server refused the warm-up request: $answer" >&2; exit 1; }
  head -1 <<<"$answer" | grep -q '"access_token":"ey' || { echo "no JWT in: $answer" >&2; exit 1; }
done
python3 - "$(head -1 <<<"$c")" "$(head -1 <<<"$p")" <<'PY'
import base64, json, sys
for name, answer in zip(("clavis", "peer"), sys.argv[1:]):
    tok = json.loads(answer)["access_token"]
    head = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
    print(f"{name}: token alg {head['alg']}, kid {head.get('kid')}")
PY

measure() { # $1: name, $2: url, $3: lua, $4: round
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$3" "$2" >"$run/$1.$4.wrk"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ { print $2 }' "$run/$1.$4.wrk")
  p50=$(awk '$1 == "50%" { print $2 }' "$run/$1.$4.wrk")
  p99=$(awk '$1 == "99%" { print $2 }' "$run/$1.$4.wrk")
  errors=$(awk '/Non-2xx/ { print $5 }' "$run/$1.$4.wrk"); errors=${errors:-0}
  echo "$4 $1 $rps $p50 $p99 $errors"
}
echo "wrk -t$threads -c$conns -d${secs}s per run, $rounds rounds, keep-alive, POST client_credentials with HTTP Basic"
results=()
for r in $(seq 1 "$rounds"); do
  results+=("$(measure clavis "http://127.0.0.1:$cport/oauth2/token" "$run/clavis.lua" "$r")")
  results+=("$(measure peer "http://127.0.0.1:$pport/token" "$run/peer.lua" "$r")")
  [ -z "${CLAVIS_BASELINE_BIN:-}" ] ||
    results+=("$(measure baseline "http://127.0.0.1:$port_baseline/oauth2/token" "$run/baseline.lua" "$r")")
done
python3 - "$(peak_rss_mb "$cpid")" "$(peak_rss_mb "$ppid")" "${results[@]}" <<'PY'
import statistics, sys
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
rss = {"clavis": float(sys.argv[1]), "peer": float(sys.argv[2])}
rows = [r.split() for r in sys.argv[3:]]
print(f"{'round':>5} {'server':8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
by = {}
for rnd, name, rps, p50, p99, errors in rows:
    print(f"{rnd:>5} {name:8} {float(rps):10.0f} {ms(p50):8.2f} {ms(p99):8.2f} {errors:>8}")
    by.setdefault(rnd, {})[name] = (float(rps), ms(p99))
ratios = [v["clavis"][0] / v["peer"][0] for v in by.values()]
c_rps = statistics.median(v["clavis"][0] for v in by.values())
c_p99 = max(v["clavis"][1] for v in by.values())
print(f"peak RSS MB: clavis {rss['clavis']:.1f}, peer {rss['peer']:.1f} (ratio {rss['clavis'] / rss['peer']:.2f}x)")
print(f"clavis: median {c_rps:.0f} req/s, worst p99 {c_p99:.2f} ms")
print("ratio clavis/peer req/s per round: " + ", ".join(f"{x:.1f}x" for x in ratios)
      + f"; median {statistics.median(ratios):.1f}x")
if all("baseline" in v for v in by.values()):
    base = [v["clavis"][0] / v["baseline"][0] for v in by.values()]
    b_ratio = statistics.median(v["baseline"][0] / v["peer"][0] for v in by.values())
    print(f"baseline/peer req/s median {b_ratio:.1f}x; worst baseline p99 {max(v['baseline'][1] for v in by.values()):.2f} ms")
    print("ratio clavis/baseline req/s per round: " + ", ".join(f"{x:.2f}x" for x in base)
          + f"; median {statistics.median(base):.2f}x")
PY
