#!/usr/bin/env bash
# Starts a Clavis server for one Playwright project on PORT, with a fresh SQLite database and
# two accounts made by the CLI: admin (administrator) and support (support staff).
#   serve.sh PORT [readable]    readable: client_secrets_stored_as_one_way_hash = false
set -euo pipefail
port=$1
cd "$(dirname "$0")/.."
dir=end2end/.tmp/$port
rm -rf "$dir" && mkdir -p "$dir"
# The settings go in the server's own clavis.toml, which the CLI reads too (apps.spec.ts runs it
# as an operator would): a client made from the command line gets the same secret policy.
{
  echo "database_url = \"sqlite://$dir/clavis.db\""
  echo "key_encryption_key_file = \"$dir/key-encryption-key\""
  echo "listen = \"127.0.0.1:$port\""
  echo "issuer = \"http://127.0.0.1:$port\""
  echo "login_max_failures_per_ip = 1000"
  # Parallel refreshes with one token within 2 s are not theft (apps.spec.ts waits past it).
  echo "refresh_token_reuse_interval = 2"
  # The main servers expire secrets after 90 days (overview.spec.ts, secrets.spec.ts); the
  # readable ones keep the default of no expiry.
  if [ "${2:-}" = readable ]; then
    echo "client_secrets_stored_as_one_way_hash = false"
  else
    echo "secret_max_lifetime = 7776000"
    # webhooks.spec.ts delivers to a receiver of its own on 127.0.0.1, and waits out a failure
    # (three attempts, a second apart).
    echo "webhook_allow_private_networks = true"
    echo "webhook_retry_schedule = [1, 1]"
  fi
} >"$dir/clavis.toml"
export CLAVIS_CONFIG="$dir/clavis.toml" CLAVIS_LOG="info,tower_http=warn"
export LEPTOS_SITE_ROOT=${CLAVIS_SITE_ROOT:-target/site} LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=clavis
bin=${CLAVIS_BIN:-target/debug/clavis}
"$bin" migrate
printf 'e2e admin password\n' | "$bin" admin create --username admin --role admin --password-stdin
printf 'e2e support password\n' | "$bin" admin create --username support --role support --password-stdin
exec "$bin" serve >"$dir/server.log" 2>&1
