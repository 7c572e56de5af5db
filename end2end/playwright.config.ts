import { defineConfig } from '@playwright/test';

// One server per project, each with its own database, so the two runs cannot disturb each other.
const SSR_PORT = 3310;
const HYDRATE_PORT = 3311;
// The same two, on servers with client_secrets_stored_as_one_way_hash = false (readable.spec.ts).
const SSR_READABLE_PORT = 3312;
const HYDRATE_READABLE_PORT = 3313;
const READABLE = /readable\.spec\.ts/;

const chromium = {
  browserName: 'chromium' as const,
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  },
};

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 7_000 },
  fullyParallel: false,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: { trace: 'retain-on-failure' },
  projects: [
    {
      name: 'ssr',
      use: { ...chromium, javaScriptEnabled: false, baseURL: `http://127.0.0.1:${SSR_PORT}` },
      testIgnore: [/hydration\.spec\.ts/, /before-hydration\.spec\.ts/, /leak-scan\.spec\.ts/, /server-log\.spec\.ts/, READABLE],
    },
    {
      name: 'hydrate',
      use: { ...chromium, javaScriptEnabled: true, baseURL: `http://127.0.0.1:${HYDRATE_PORT}` },
      testIgnore: [/leak-scan\.spec\.ts/, /server-log\.spec\.ts/, READABLE],
    },
    {
      name: 'ssr-readable',
      use: { ...chromium, javaScriptEnabled: false, baseURL: `http://127.0.0.1:${SSR_READABLE_PORT}` },
      testMatch: [READABLE],
    },
    {
      name: 'hydrate-readable',
      use: { ...chromium, javaScriptEnabled: true, baseURL: `http://127.0.0.1:${HYDRATE_READABLE_PORT}` },
      testMatch: [READABLE],
    },
    {
      // After both runs: no plaintext secret they were shown is in a database file or a log, and
      // no server function ran without its state.
      name: 'leak-scan',
      dependencies: ['ssr', 'hydrate', 'ssr-readable', 'hydrate-readable'],
      testMatch: [/leak-scan\.spec\.ts/, /server-log\.spec\.ts/],
    },
  ],
  webServer: [
    [SSR_PORT, ''], [HYDRATE_PORT, ''], [SSR_READABLE_PORT, 'readable'], [HYDRATE_READABLE_PORT, 'readable'],
  ].map(([port, mode]) => ({
    command: `./serve.sh ${port} ${mode}`.trim(),
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  })),
});
