#!/usr/bin/env bash
# Builds Clavis (release) and serves the console on the embedded SQLite default.
# Installs what is missing first. Configuration: clavis.toml and CLAVIS_* (see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh run
./scripts/build-release.sh
export LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=clavis
exec target/release/clavis serve
