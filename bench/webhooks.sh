#!/usr/bin/env bash
# Webhook delivery benchmark: Clavis (release build, SQLite) delivers EVENTS events to a local
# receiver (bench/webhook-receiver.mjs, which verifies each signature), and the token endpoint
# runs under wrk with and without deliveries going on. See bench/webhooks_driver.py for what is
# measured. Prints events per second, the lag from commit to arrival (p50, p99), and the token
# endpoint's requests/s and p99 with and without deliveries, as a ratio (target: at most 10% less).
#
# Usage: [CLAVIS_BIN=PATH] bench/webhooks.sh [EVENTS] [SECONDS] [ROUNDS]    (defaults: 10000 10 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
events=${1:-10000}
secs=${2:-10}
rounds=${3:-3}
run=bench/.run-webhooks
rm -rf "$run" && mkdir -p "$run"
need_wrk
# CLAVIS_BIN: a clavis binary already built (such as the release build of scripts/build-release.sh).
bin=${CLAVIS_BIN:-}
[ -n "$bin" ] || { cargo build --release -p server --bin clavis --quiet; bin=target/release/clavis; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

port=$(free_port)
export CLAVIS_DATABASE_URL="sqlite://$run/clavis.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$run/kek" CLAVIS_LOG=warn \
  CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" \
  CLAVIS_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true
"$bin" migrate >/dev/null
# client NAME SCOPE: a client-credentials client made by the CLI; prints its id and secret.
client() {
  "$bin" clients create --name "$1" --type client-credentials --scope "$2" --format json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])'
}
read -r wid wsecret < <(client "Bench worker" reports:read)
read -r aid asecret < <(client "Bench automation" clavis:admin)
"$bin" serve >"$run/clavis.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/healthz"
rport=$(free_port)
node bench/webhook-receiver.mjs "$rport" >"$run/receiver.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$rport/count"

echo "$events events; token endpoint: wrk -t2 -c64 -d${secs}s, $rounds rounds, keep-alive, POST client_credentials with HTTP Basic"
python3 bench/webhooks_driver.py "http://127.0.0.1:$port" "http://127.0.0.1:$rport" "$events" "$secs" "$rounds" \
  "$wid" "$wsecret" "$aid" "$asecret"
