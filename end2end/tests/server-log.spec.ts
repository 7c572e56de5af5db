import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { serverDir } from './fixtures/console';

// Runs after both browser projects (see playwright.config.ts). A server function that ran
// without the app state in its context (a resource made again by a Suspense re-run on the
// server) answers with an error the browser then hydrates into the page: a hydration mismatch
// in the making. It is logged as "AppState missing from context", and must never be.
for (const port of [3310, 3311, 3312, 3313]) {
  test(`every server function of the server on ${port} found its state`, async () => {
    const log = readFileSync(join(serverDir(port), 'server.log'), 'utf8');
    // The log is the right one: the run served pages and server functions.
    expect(log).toContain('Clavis is serving');
    const missing = log.split('\n').filter((l) => l.includes('AppState missing'));
    expect(missing, missing.slice(0, 3).join('\n')).toEqual([]);
  });
}
