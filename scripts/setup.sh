#!/usr/bin/env bash
# Installs what Clavis needs to build, run and test, and only what is missing. Safe to re-run.
# `setup.sh run` skips what only the tests need (Chromium, PostgreSQL).
# Pins: see ../shared/TOOLCHAIN.md (cargo-leptos 0.3.10, wasm-bindgen-cli = Cargo.lock's version).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

mode=${1:-test}

# Debian packages: Chromium for the browser tests, PostgreSQL for the store tests.
missing=()
if [ "$mode" != run ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql)
fi
# kubectl (with kustomize v5) builds an authorizer's generated configuration in one test. It is
# not installed here: Debian's kubernetes-client is 1.20, whose kustomize is too old to trust
# as a check. scripts/test.sh says when the test cannot run.
if [ "$mode" != run ] && ! command -v kubectl >/dev/null 2>&1; then
  say "kubectl is missing: the kustomize build test will not run (see scripts/test.sh)"
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Rust: the WebAssembly target, cargo-leptos and the matching wasm-bindgen CLI.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "0.3.10" ]; then
  say "installing cargo-leptos 0.3.10 (about 15 minutes the first time)"
  cargo install cargo-leptos --locked --version 0.3.10 --features no_downloads
fi
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[" ]/, "", $0); sub("version=", "", $0); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version"
  cargo install wasm-bindgen-cli --locked --version "$wb_version"
fi

# Node: Playwright and wasm-opt (binaryen) for the browser tests and release builds.
if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
fi
# Python: schemathesis, which fuzzes the admin API from its OpenAPI document (scripts/fuzz_api.sh),
# in a virtual environment under the project, pinned.
st_version=4.32.5
if [ "$mode" != run ] && ! .venv/schemathesis/bin/schemathesis --version 2>/dev/null | grep -qx "schemathesis, version $st_version"; then
  say "installing schemathesis $st_version into .venv/schemathesis"
  python3 -m venv --help >/dev/null 2>&1 || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null; }
  rm -rf .venv/schemathesis
  python3 -m venv .venv/schemathesis
  .venv/schemathesis/bin/pip install -q --disable-pip-version-check "schemathesis==$st_version"
fi
# Python: the Standard Webhooks verifier that the webhook tests' receiver uses, and a JSON
# Schema validator that checks each delivery against the OpenAPI document's `webhooks`
# (server/tests/support/webhook_receiver.py), pinned.
sw_version=1.3.0
js_version=4.25.1
if ! .venv/webhooks/bin/pip show standardwebhooks 2>/dev/null | grep -qx "Version: $sw_version" ||
   ! .venv/webhooks/bin/pip show jsonschema 2>/dev/null | grep -qx "Version: $js_version"; then
  say "installing standardwebhooks $sw_version and jsonschema $js_version into .venv/webhooks"
  python3 -m venv --help >/dev/null 2>&1 || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null; }
  rm -rf .venv/webhooks
  python3 -m venv .venv/webhooks
  .venv/webhooks/bin/pip install -q --disable-pip-version-check "standardwebhooks==$sw_version" "jsonschema==$js_version"
fi
say "ready"
