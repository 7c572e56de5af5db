#!/usr/bin/env bash
# Starts a Clavis server for one Playwright project on PORT, with a fresh SQLite database and
# two accounts made by the CLI: admin (administrator) and support (support staff).
#   serve.sh PORT [readable]    readable: client_secrets_stored_as_one_way_hash = false
set -euo pipefail
port=$1
cd "$(dirname "$0")/.."
dir=end2end/.tmp/$port
rm -rf "$dir" && mkdir -p "$dir"
export CLAVIS_DATABASE_URL="sqlite://$dir/clavis.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$dir/key-encryption-key"
export CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port"
export CLAVIS_LOGIN_MAX_FAILURES_PER_IP=1000 CLAVIS_LOG="info,tower_http=warn"
# Parallel refreshes with one token within 2 s are not theft (apps.spec.ts waits past it).
export CLAVIS_REFRESH_TOKEN_REUSE_INTERVAL=2
# The main servers expire secrets after 90 days (overview.spec.ts, secrets.spec.ts); the readable
# ones keep the default of no expiry.
if [ "${2:-}" = readable ]; then
  export CLAVIS_CLIENT_SECRETS_STORED_AS_ONE_WAY_HASH=false
else
  export CLAVIS_SECRET_MAX_LIFETIME=7776000
fi
export LEPTOS_SITE_ROOT=${CLAVIS_SITE_ROOT:-target/site} LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=clavis
bin=${CLAVIS_BIN:-target/debug/clavis}
"$bin" migrate
printf 'e2e admin password\n' | "$bin" admin create --username admin --role admin --password-stdin
printf 'e2e support password\n' | "$bin" admin create --username support --role support --password-stdin
exec "$bin" serve >"$dir/server.log" 2>&1
