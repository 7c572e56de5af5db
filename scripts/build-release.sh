#!/usr/bin/env bash
# The release build that Clavis ships and that the browser tests and benchmarks run against:
# the server in release mode, the WebAssembly optimised for size and split per page (the sign-in
# page loads only the main bundle; each other page loads its own chunk when first shown, see
# `lazy_page!` in app/src/lib.rs), every asset with a content hash in its name and
# precompressed (.br, .gz). Writes target/release/clavis and target/site.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt (binaryen from npm, see TOOLCHAIN) shrinks the WebAssembly; wasm-bindgen is on PATH.
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
exec cargo leptos build --release --precompress --split --lib-features split "$@"
