import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { serverDir } from './fixtures/console';


// Runs after the browser projects (see playwright.config.ts): every plaintext secret the run
// was shown must be absent from each server's database files and log. The servers on 3312 and
// 3313 store secrets readable (client_secrets_stored_as_one_way_hash = false): their database
// holds sealed copies, which must not contain the plaintext either.
for (const [port, readable] of [[3310, false], [3311, false], [3312, true], [3313, true]] as const) {
  test(`no plaintext secret in the database or the log of the server on ${port}`, async () => {
    const dir = serverDir(port);
    const shown = readFileSync(join(dir, 'plaintexts.txt'), 'utf8').split('\n').filter(Boolean);
    // The run creates and rotates secrets in several tests; a near-empty list means the
    // recording broke, and the scan below would prove nothing.
    expect(shown.length).toBeGreaterThanOrEqual(readable ? 2 : 8);
    const files = readdirSync(dir).filter((f) => f.startsWith('clavis.db') || f === 'server.log');
    expect(files).toContain('clavis.db');
    expect(files).toContain('server.log');
    let all = '';
    for (const f of files) {
      const bytes = readFileSync(join(dir, f)).toString('latin1');
      all += bytes;
      for (const secret of shown) {
        expect(bytes.includes(secret), `${secret.slice(0, 14)}… in ${f}`).toBe(false);
        // Not even the random part without the prefix and checksum.
        expect(bytes.includes(secret.slice(10, 53)), `random part of …${secret.slice(-4)} in ${f}`).toBe(false);
      }
    }
    // The store did record these secrets, as hashes: the files scanned are the right ones.
    expect(all).toContain('sha256:');
    // And no hash of them is in the log.
    const log = readFileSync(join(dir, 'server.log'), 'utf8');
    for (const secret of shown) {
      const hash = createHash('sha256').update(secret).digest('hex');
      expect(log.includes(hash), `hash of …${secret.slice(-4)} in server.log`).toBe(false);
    }
  });
}
