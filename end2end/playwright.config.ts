import { defineConfig } from '@playwright/test';

// One server per project, each with its own database, so the two runs cannot disturb each other.
const SSR_PORT = 3310;
const HYDRATE_PORT = 3311;

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
      testIgnore: [/hydration\.spec\.ts/, /leak-scan\.spec\.ts/],
    },
    {
      name: 'hydrate',
      use: { ...chromium, javaScriptEnabled: true, baseURL: `http://127.0.0.1:${HYDRATE_PORT}` },
      testIgnore: /leak-scan\.spec\.ts/,
      // CAUTION: one retry, for a rare hydration mismatch on /clients right after sign-in: seen
      // once in a CI run (and once before as an "unreachable" panic while hydrating /clients,
      // likely the same), never in isolation (45 runs of the client and secret specs, each
      // signing in and loading /clients). The client
      // renders the list's error branch (`Err(e) => … form-error` in app/src/clients/mod.rs)
      // where the server sent the list. A retried test is reported as "flaky" with its first
      // failure in full, and test.sh counts it in its closing line, so it stays visible.
      // Remove once the cause is found.
      retries: 1,
    },
    {
      // After both runs: no plaintext secret they were shown is in a database file or a log.
      name: 'leak-scan',
      dependencies: ['ssr', 'hydrate'],
      testMatch: /leak-scan\.spec\.ts/,
    },
  ],
  webServer: [SSR_PORT, HYDRATE_PORT].map((port) => ({
    command: `./serve.sh ${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
  })),
});
