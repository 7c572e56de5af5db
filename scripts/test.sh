#!/usr/bin/env bash
# Runs every check and test of Clavis. Installs what is missing first (scripts/setup.sh),
# starts a local PostgreSQL for the store tests and stops it again if it was not running.
# Order: format, clippy (server and browser side), release build, browser tests, API fuzzing,
# Rust tests last
# (so that cargo's summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
echo "disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free before the build"

step() {
  local name=$1 limit=$2; shift 2
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  local start=$SECONDS
  # A hung step must not eat the whole CI budget.
  timeout --foreground "$limit" "$@"
  printf '\033[2m    (%s: %ss)\033[0m\n' "$name" $((SECONDS - start))
}

pg_was_running=0
pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .* online' && pg_was_running=1
CLAVIS_TEST_POSTGRES_URL=$(./scripts/postgres.sh start)
case "$CLAVIS_TEST_POSTGRES_URL" in
  postgres://*) echo "PostgreSQL for the store tests: $CLAVIS_TEST_POSTGRES_URL" ;;
  *) echo "scripts/postgres.sh start gave no PostgreSQL URL: '$CLAVIS_TEST_POSTGRES_URL'" >&2; exit 1 ;;
esac
export CLAVIS_TEST_POSTGRES_URL CLAVIS_TEST_REQUIRE_POSTGRES=1
# The generated kustomize directory of an authorizer is built by a real `kubectl kustomize`
# (kustomize v5, which this machine's image ships). Where kubectl is missing that one test
# cannot run, and says so here rather than in captured test output.
if command -v kubectl >/dev/null 2>&1; then
  export CLAVIS_TEST_REQUIRE_KUBECTL=1
else
  echo "NOTE: kubectl is not installed: the test that builds an authorizer's kustomize directory does not run." >&2
  echo "      Install kubectl with kustomize v5 (https://kubernetes.io/docs/tasks/tools/) to run it." >&2
fi
cleanup() { [ "$pg_was_running" = 1 ] || ./scripts/postgres.sh stop; }
trap cleanup EXIT

log=$(mktemp)

step "format" 120 cargo fmt --all --check
step "layout (no import cycles, no file over 500 lines)" 60 python3 scripts/check_layout.py
step "clippy (server side)" 1800 cargo clippy -p app -p server --features app/ssr --all-targets -- -D warnings
# With `split`, as in the release build (the server side checks the other half of lazy_page!).
step "clippy (browser side)" 1200 cargo clippy -p frontend --target wasm32-unknown-unknown --features split -- -D warnings
# The browser tests run against what ships: the release build, split, hashed and precompressed.
step "build the site (release)" 2400 ./scripts/build-release.sh
step "browser tests (JavaScript off and on)" 900 \
  env CLAVIS_BIN=target/release/clavis bash -c 'cd end2end && npx playwright test' | tee -a "$log"
step "admin API fuzzing (schemathesis, from the OpenAPI document)" 900 ./scripts/fuzz_api.sh 100
step "Rust tests (unit, store on SQLite and PostgreSQL, router, binary)" 1800 \
  cargo test --no-fail-fast -p app -p server --features app/ssr --lib --bins --tests 2>&1 | tee -a "$log"

# One closing line with the totals of both runners.
passed=$(grep -oE '(test result: ok\. )?[0-9]+ passed' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '[0-9]+ failed' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
# cargo's "ignored": the PostgreSQL variants when no server was given (see app/build.rs).
# awk alone: a grep with no match would stop this script under pipefail.
skipped=$(awk '{ for (i = 1; i < NF; i++) if ($(i + 1) ~ /^ignored/) s += $i } END { print s + 0 }' "$log")
rm -f "$log"
echo
echo "disk: target/ is $(du -sh target 2>/dev/null | cut -f1), $(df -h --output=avail . | tail -1 | tr -d ' ') free"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
