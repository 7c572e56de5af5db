#!/usr/bin/env bash
# Fuzzes the admin API from its own OpenAPI document with schemathesis: starts the release
# server on a fresh database, makes an automation client with scope clavis:admin through the
# CLI, gets a token, and runs the checks not_a_server_error, status_code_conformance,
# response_schema_conformance and negative_data_rejection at a fixed number of examples per
# operation, with a fixed seed. No stateful phase: schemathesis 4.32.5 infers links from the
# Location of a new application to GET /clients/{client_id} and then fails on its own link.
# Then it scans for every secret the fuzzing was handed
# (scripts/fuzz_leak_scan.py). Exits non-zero on any failure.
#   scripts/fuzz_api.sh [EXAMPLES]      (needs target/release/clavis, or CLAVIS_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-20}
bin=${CLAVIS_BIN:-target/release/clavis}
st=.venv/schemathesis/bin/schemathesis
[ -x "$st" ] || { echo "schemathesis is missing: run scripts/setup.sh" >&2; exit 1; }
port=3395
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
export CLAVIS_DATABASE_URL="sqlite://$dir/fuzz.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$dir/kek"
export CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" CLAVIS_LOG=warn
export CLAVIS_ADMIN_USERNAME=fuzz CLAVIS_ADMIN_PASSWORD='fuzzing password'
# The fuzzer finds its own client (GET /clients) and rotates its secrets. A token dies with the
# secret that minted it, and at the default cap of one rotated secret a second rotation revokes
# that secret, which would leave every later request a 401. A high cap keeps it valid.
export CLAVIS_MAX_NUMBER_OF_CLIENT_ROTATED_SECRETS=100
export LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=clavis
"$bin" migrate 2>/dev/null
eval "$("$bin" clients create --name 'API fuzzer' --type client-credentials --scope clavis:admin --format env)"
"$bin" serve >"$dir/server.log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done
token=$(curl -sf -u "$CLAVIS_CLIENT_ID:$CLAVIS_CLIENT_SECRET" -d grant_type=client_credentials \
  "http://127.0.0.1:$port/oauth2/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
status=0
# The fuzzer's caches stay in the temporary directory.
(cd "$dir" && "$OLDPWD/$st" --config-file "$OLDPWD/scripts/schemathesis.toml" run \
  "http://127.0.0.1:$port/api/v1/openapi.json" --wait-for-schema 30 \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,negative_data_rejection \
  --max-examples "$examples" --seed 42 --generation-database none \
  --phases examples,coverage,fuzzing \
  --request-retries 0 --workers 1 --no-color --report har --report-har-path "$dir/run.har") || status=$?
# Every secret handed out: in its one no-store answer, and nowhere in the database or the log.
python3 scripts/fuzz_leak_scan.py "$dir/run.har" "$dir/server.log" "$dir/fuzz.db" || status=1
if grep -q "$CLAVIS_CLIENT_SECRET" "$dir/server.log"; then
  echo "the automation client's secret is in the server log" >&2
  status=1
fi
if grep -qiE "panicked|request failed" "$dir/server.log"; then
  echo "the server logged a failure during the fuzzing:" >&2
  grep -iE "panicked|request failed" "$dir/server.log" | head -20 >&2
  status=1
fi
exit $status
