#!/usr/bin/env bash
# First load of the console: cold /login in Chromium until the page is hydrated, on loopback and
# with the network emulated at 10 Mbit/s and 40 ms (Chrome DevTools Protocol), then a second
# visit with the browser's cache warm. Prints the time, the bytes on the wire and the size of the
# WebAssembly (raw, gzip, brotli), each next to the figures measured before issue 11 as a ratio.
#   bench/first_load.sh [RUNS]      (runs scripts/build-release.sh first unless CLAVIS_BIN is set)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
if [ -z "${CLAVIS_BIN:-}" ]; then
  ./scripts/build-release.sh >&2
fi
bin=${CLAVIS_BIN:-target/release/clavis}
port=3978
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
CLAVIS_DATABASE_URL="sqlite://$dir/b.db" CLAVIS_KEY_ENCRYPTION_KEY_FILE="$dir/kek" \
CLAVIS_LISTEN="127.0.0.1:$port" CLAVIS_ISSUER="http://127.0.0.1:$port" \
CLAVIS_ADMIN_USERNAME=alice CLAVIS_ADMIN_PASSWORD='benchmark password' CLAVIS_LOG=warn \
LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=clavis \
  "$bin" serve >"$dir/log" 2>&1 &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.2; done

wasm=$(ls target/site/pkg/clavis*.wasm | head -1)
raw=$(stat -c %s "$wasm")
gz=$(stat -c %s "$wasm.gz" 2>/dev/null || gzip -9c "$wasm" | wc -c)
br=$(stat -c %s "$wasm.br" 2>/dev/null || echo 0)
# The chunks that other pages load when first shown (none in a build without --split).
chunks=$(find target/site/pkg -name '*.wasm' ! -name 'clavis*' | wc -l)
chunks_br=$(find target/site/pkg -name '*.wasm.br' ! -name 'clavis*' -printf '%s\n' | awk '{s+=$1} END {print s+0}')

cd end2end
BASE="http://127.0.0.1:$port" RUNS="$runs" RAW="$raw" GZ="$gz" BR="$br" CHUNKS="$chunks" CHUNKS_BR="$chunks_br" WASM="$(basename "$wasm")" node - <<'JS'
const { chromium } = require('@playwright/test');
const base = process.env.BASE;
const runs = Number(process.env.RUNS);
// Measured before issue 11 (release build, same emulation).
const before = { ms: 2000, kib: 1715, raw: 1_720_000, br: 474_000 };

async function load(browser, emulate) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  if (emulate) {
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8,
    });
  }
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  const visit = async () => {
    bytes = 0;
    const start = Date.now();
    await page.goto(`${base}/login`, { waitUntil: 'commit' });
    await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
    const ms = Date.now() - start;
    await page.waitForLoadState('networkidle');
    return { ms, bytes };
  };
  const cold = await visit();
  const warm = await visit();
  await context.close();
  return { cold, warm };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic'],
  });
  const results = { loopback: [], emulated: [] };
  for (let i = 0; i < runs; i++) {
    results.loopback.push(await load(browser, false));
    results.emulated.push(await load(browser, true));
  }
  await browser.close();
  const kib = (b) => (b / 1024).toFixed(0);
  for (const [name, rs] of Object.entries(results)) {
    const ms = median(rs.map((r) => r.cold.ms));
    const bytes = median(rs.map((r) => r.cold.bytes));
    const warm = median(rs.map((r) => r.warm.bytes));
    const warmMs = median(rs.map((r) => r.warm.ms));
    let line = `${name.padEnd(9)} cold: hydrated in ${ms} ms, ${kib(bytes)} KiB on the wire; second visit: ${warmMs} ms, ${kib(warm)} KiB`;
    if (name === 'emulated') {
      line += `  (before: ${before.ms} ms, ${before.kib} KiB; ratio ${(ms / before.ms).toFixed(2)}, ${(bytes / 1024 / before.kib).toFixed(2)})`;
    }
    console.log(line);
  }
  const lo = median(results.loopback.map((r) => r.cold.ms));
  const em = median(results.emulated.map((r) => r.cold.ms));
  console.log(`emulated over loopback, run alongside: ${(em / lo).toFixed(2)}`);
  const raw = Number(process.env.RAW), gz = Number(process.env.GZ), br = Number(process.env.BR);
  console.log(`${process.env.WASM}: ${(raw / 1000).toFixed(0)} kB raw, ${(gz / 1000).toFixed(0)} kB gzip, ${(br / 1000).toFixed(0)} kB brotli`
    + `  (before: ${before.raw / 1000} kB raw, ${before.br / 1000} kB brotli; ratio ${(raw / before.raw).toFixed(2)}, ${(br / before.br).toFixed(2)})`);
  console.log(`other pages' chunks, loaded when first shown: ${process.env.CHUNKS} files, ${(Number(process.env.CHUNKS_BR) / 1000).toFixed(0)} kB brotli in all`);
  console.log(`median of ${runs} runs each, a fresh browser context (empty cache) per run`);
})();
JS
