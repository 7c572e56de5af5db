#!/usr/bin/env bash
# The grants of apps that people sign in to (authorization-code exchange, refresh) next to
# client credentials in the same interleaved rounds, through the whole router on a SQLite file,
# with an RS256 signature alone as the last row. Prints requests/s and the ratios to client
# credentials, once per run. The code is server/benches/grants.rs (it needs the app's types to
# make codes outside the timing); this is its entry point beside the other benchmarks.
#   bench/grants.sh [RUNS]     (a release build: about 15 minutes cold, seconds when warm)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
cargo bench -q -p server --features app/ssr --bench grants --no-run
for i in $(seq "$runs"); do
  echo "run $i of $runs"
  cargo bench -q -p server --features app/ssr --bench grants 2>/dev/null | grep -v '^$'
done
