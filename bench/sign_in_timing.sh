#!/usr/bin/env bash
# Measures whether sign-in time reveals that a username exists: median time of N failed
# sign-ins for an existing account (wrong password) against N for an unknown name, interleaved,
# on a release build with throttling off. Prints both medians and their ratio (1.00 = equal).
#   bench/sign_in_timing.sh [N]     (needs target/release/clavis: scripts/run.sh builds it)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-40}
port=3977
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
CLAVIS_DATABASE_URL="sqlite://$dir/b.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$dir/kek" CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" \
CLAVIS_ADMIN_USERNAME=alice CLAVIS_ADMIN_PASSWORD='benchmark password' \
CLAVIS_LOGIN_MAX_FAILURES_PER_ACCOUNT=0 CLAVIS_LOGIN_MAX_FAILURES_PER_IP=0 CLAVIS_LOG=warn \
  target/release/clavis serve >"$dir/log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
attempt() {
  curl -s -o /dev/null -w '%{time_total}\n' -H "Origin: http://127.0.0.1:$port" \
    --data "username=$1&password=not+the+right+password" "http://127.0.0.1:$port/api/login"
}
for _ in $(seq "$n"); do
  attempt alice >>"$dir/known"
  attempt "nobody$RANDOM" >>"$dir/unknown"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
k=$(median "$dir/known"); u=$(median "$dir/unknown")
echo "existing user, wrong password: median ${k}s over $n"
echo "unknown user:                  median ${u}s over $n"
awk -v k="$k" -v u="$u" 'BEGIN {printf "ratio existing/unknown: %.2f\n", k/u}'
