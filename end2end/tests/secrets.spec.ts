import { readFileSync } from 'node:fs';
import type { Browser, Page } from '@playwright/test';
import { test, expect, ADMIN, SUPPORT, unique, open, hydrated, OneTimeSecret, newWorker } from './fixtures/console';

const FORMAT = /^clavis_cs_[A-Za-z0-9_-]{49}$/;

/** Rotates through the confirmation and returns the new secret. */
async function rotate(page: Page, oneTime: OneTimeSecret, grace = 'Until it is revoked') {
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const confirm = page.getByRole('dialog', { name: 'Rotate the secret?' });
  await expect(confirm).toBeVisible();
  await confirm.getByLabel(grace).check();
  await confirm.getByRole('button', { name: 'Rotate secret' }).click();
  const [secret] = await oneTime.done();
  return secret;
}

/** Revokes one rotated secret through its row's confirmation; with JavaScript, opening the
 *  confirmation moves the focus to what it says will happen. */
async function revokeOne(page: Page, js: boolean, secret: string) {
  const r = row(page, secret);
  await r.getByText('Revoke…').click();
  await expect(r).toContainText(`Revoke secret …${secret.slice(-4)}? Apps that still use it are refused`);
  const button = r.getByRole('button', { name: `Revoke secret …${secret.slice(-4)}`, exact: true });
  if (js) await expect(r.locator('p.confirm-text')).toBeFocused();
  await button.click();
}

function previous(page: Page) {
  return page.getByRole('region', { name: 'Previously used secrets' });
}

/** The row of the secret ending in the last 4 characters of `secret`. */
function row(page: Page, secret: string) {
  return previous(page).getByRole('row').filter({ has: page.getByRole('rowheader', { name: `…${secret.slice(-4)}` }) });
}

async function download(page: Page, js: boolean, scope: ReturnType<OneTimeSecret['dialog']>, name: string) {
  const role = js ? 'button' : 'link';
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    scope.getByRole(role, { name, exact: true }).click(),
  ]);
  return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
}

test('a new confidential client shows its secret once, with copy and download', async ({ page, signInPage, js, oneTime, context, baseURL }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/clients/new', js);
  const name = unique('Portal');
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Confidential, with PKCE').check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs', { exact: true }).fill('https://portal.example.com/callback');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/clients/create'));
  await page.getByRole('button', { name: 'Create client' }).click();
  expect((await answer).headers()['cache-control']).toBe('no-store');

  const dialog = oneTime.dialog();
  await expect(dialog).toBeVisible();
  const secret = await oneTime.field().inputValue();
  expect(secret).toMatch(FORMAT);
  await expect(oneTime.field()).toHaveAttribute('readonly', '');
  await expect(dialog).toContainText('will not be shown again');
  // The servers of these projects have a 90-day policy: the dialog says when it expires.
  const expiry = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
  await expect(dialog.locator('.expires')).toContainText(`This secret expires ${expiry}`);
  const id = (await dialog.locator('code.client-id').textContent())!.trim();
  expect(id).toMatch(/^[0-9a-f]{32}$/);

  if (js) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
    await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
    await expect(dialog.getByRole('status')).toHaveText('Copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  }
  const env = await download(page, js, dialog, 'Download');
  expect(env.name).toMatch(/\.env$/);
  expect(env.text).toMatch(new RegExp(`^# CLIENT_SECRET expires at ${expiry}T[0-9:]+Z: rotate it before then\\.\nCLIENT_ID=${id}\nCLIENT_SECRET=${secret}\n$`));
  const json = await download(page, js, dialog, 'JSON');
  const parsed = JSON.parse(json.text);
  expect(parsed).toEqual({ client_id: id, client_secret: secret, client_secret_expires_at: parsed.client_secret_expires_at });
  expect(Math.abs(parsed.client_secret_expires_at - (Date.now() / 1000 + 90 * 86_400))).toBeLessThan(120);
  const k8s = await download(page, js, dialog, 'Kubernetes Secret');
  expect(k8s.text).toContain('kind: Secret');
  expect(k8s.text).toContain(`clavis/client-secret-expires-at: "${expiry}T`);
  expect(k8s.text).toContain(`CLIENT_SECRET: "${secret}"`);

  await oneTime.done();
  await expect(page).toHaveURL(new RegExp(`/clients/${id}$`));
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  // The page shows only the hint, and after a reload the plaintext is nowhere.
  await expect(page.getByRole('region', { name: 'Secret', exact: true })).toContainText(`…${secret.slice(-4)}`);
  expect(await page.content()).not.toContain(secret);
  await page.reload();
  await hydrated(page, js);
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  expect(await page.content()).not.toContain(secret);
  for (const path of ['/clients', '/audit', `/clients/${id}?confirm=rotate`]) {
    await open(page, path, js);
    expect(await page.content()).not.toContain(secret);
  }
});

test('rotation keeps the old secret as previously used, and the cap revokes the oldest', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const { secret: first } = await newWorker(page, js, oneTime, unique('Rotating worker'));
  await expect(previous(page)).toContainText('None yet');

  // The confirmation says what happens to the current secret.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const confirm = page.getByRole('dialog', { name: 'Rotate the secret?' });
  await expect(confirm).toContainText(`The current secret …${first.slice(-4)} stays valid as a rotated secret`);
  await expect(confirm).not.toContainText('this rotation revokes');
  // With JavaScript the focus moves into the confirmation, and back to its button on Cancel.
  if (js) await expect(confirm.getByRole('heading', { name: 'Rotate the secret?' })).toBeFocused();
  await confirm.getByRole('link', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  if (js) await expect(page.getByRole('button', { name: 'Rotate secret' })).toBeFocused();

  const second = await rotate(page, oneTime);
  expect(second).toMatch(FORMAT);
  expect(second).not.toBe(first);
  await expect(row(page, first)).toContainText('Rotated, still valid');
  // "Until revoked", yet no longer than its own lifetime (these servers: 90 days).
  await expect(row(page, first)).toContainText(new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10));
  await expect(row(page, first)).toContainText('safe to revoke');

  // With a cap of one, the next rotation names the secret it will revoke, then revokes it.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const again = page.getByRole('dialog', { name: 'Rotate the secret?' });
  await expect(again).toContainText('A client keeps at most 1 rotated secret, so this rotation revokes:');
  await expect(again.getByRole('listitem')).toHaveText(`…${first.slice(-4)}, last used never`);
  await again.getByLabel('For 1 day').check();
  await again.getByRole('button', { name: 'Rotate secret' }).click();
  const third = (await oneTime.done())[0];
  // "Done" gives the focus back to the button that started the rotation.
  if (js) await expect(page.getByRole('button', { name: 'Rotate secret' })).toBeFocused();
  await expect(page.getByRole('region', { name: 'Secret', exact: true })).toContainText(`…${third.slice(-4)}`);
  await expect(row(page, first)).toContainText('Revoked (rotation limit)');
  await expect(row(page, first).getByText('Revoke…')).toHaveCount(0);
  await expect(row(page, second)).toContainText('Rotated, still valid');
  // Its grace period of one day shows as an expiry date.
  await expect(row(page, second).getByRole('cell').nth(4)).toHaveText(/^\d{4}-\d\d-\d\d /);

  const history = page.getByRole('region', { name: 'History' });
  await expect(history).toContainText('secret.auto_revoked');
  await expect(history).toContainText('secret.rotated');
  expect(await page.content()).not.toContain(third);
});

test('"Revoke" revokes one rotated secret and "Revoke all rotated" the rest', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const { secret: first } = await newWorker(page, js, oneTime, unique('Revoking worker'));
  const second = await rotate(page, oneTime);
  if (js) {
    // Escape closes a row's confirmation, revokes nothing, and gives the focus back to it.
    const r = row(page, first);
    await r.getByText('Revoke…').click();
    await expect(r.locator('p.confirm-text')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(r.locator('summary', { hasText: 'Revoke…' })).toBeFocused();
    await expect(r).toContainText('Rotated, still valid');
  }
  await revokeOne(page, js, first);
  await expect(page.getByRole('status').filter({ hasText: 'was revoked' })).toBeVisible();
  await expect(row(page, first)).toContainText('Revoked by admin');
  await expect(previous(page).getByRole('button', { name: 'Revoke all rotated' })).toHaveCount(0);

  await rotate(page, oneTime);
  await expect(row(page, second)).toContainText('Rotated, still valid');
  const revokeAll = previous(page).getByRole('button', { name: 'Revoke all rotated' });
  const confirm = page.getByRole('dialog', { name: 'Revoke 1 rotated secret?' });
  if (js) {
    // The focus moves into the confirmation, and back to its button on Cancel.
    await revokeAll.click();
    await expect(confirm.getByRole('heading', { name: 'Revoke 1 rotated secret?' })).toBeFocused();
    await confirm.getByRole('link', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(revokeAll).toBeFocused();
  }
  await revokeAll.click();
  await expect(confirm).toContainText('The current secret keeps working');
  await confirm.getByRole('button', { name: 'Revoke all rotated' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(row(page, second)).toContainText('Revoked by admin');
  await expect(previous(page).getByText('Revoke…')).toHaveCount(0);
});

async function signedIn(browser: Browser, js: boolean, baseURL: string, user: { username: string; password: string }) {
  const ctx = await browser.newContext({ javaScriptEnabled: js, baseURL });
  const p = await ctx.newPage();
  await p.goto('/login');
  await p.getByLabel('Username').fill(user.username);
  await p.getByLabel('Password').fill(user.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p).toHaveURL(/\/overview$/);
  return p;
}

test('support staff revoke rotated secrets and cannot rotate', async ({ page, signInPage, js, oneTime, browser, baseURL }) => {
  await signInPage.signInAs(ADMIN);
  const { id, secret: first } = await newWorker(page, js, oneTime, unique('Support worker'));
  await rotate(page, oneTime);

  const p = await signedIn(browser, js, baseURL!, SUPPORT);
  await open(p, `/clients/${id}`, js);
  await expect(previous(p)).toBeVisible();
  await expect(p.getByRole('button', { name: 'Rotate secret' })).toHaveCount(0);
  await open(p, `/clients/${id}?confirm=rotate`, js);
  await expect(p.getByRole('dialog', { name: 'Rotate the secret?' })).toHaveCount(0);
  // The server refuses a rotation whatever the page shows.
  const refused = await p.request.post('/api/secrets/rotate', {
    headers: { Origin: baseURL!, 'Content-Type': 'application/x-www-form-urlencoded' },
    data: `client_id=${id}&grace=&form_token=${'0'.repeat(32)}`,
  });
  expect(refused.status()).toBe(403);
  expect(await refused.text()).not.toContain('clavis_cs_');

  await revokeOne(p, js, first);
  await expect(row(p, first)).toContainText('Revoked by support');
  await p.context().close();
});

/** Asks the token endpoint for a token with HTTP Basic, as a machine client would. */
async function tokenRequest(page: Page, id: string, secret: string) {
  const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
  return page.request.post('/oauth2/token', {
    headers: { Authorization: `Basic ${basic}` },
    form: { grant_type: 'client_credentials', scope: 'reports:read' },
  });
}

test('a rotation sent twice rotates once, and the old secret keeps working', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const { id, secret: first } = await newWorker(page, js, oneTime, unique('Twice worker'));
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const confirm = page.getByRole('dialog', { name: 'Rotate the secret?' });
  if (js) {
    // A double click sends the form once.
    await confirm.getByRole('button', { name: 'Rotate secret' }).dblclick();
    await oneTime.done();
  } else {
    // Reloading the page that shows the new secret sends the form again.
    await confirm.getByRole('button', { name: 'Rotate secret' }).click();
    await oneTime.values();
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Already done' })).toBeVisible();
    await expect(page.getByText('Any secret it made was shown in that first answer, once, and cannot be shown again.')).toBeVisible();
    expect(await page.content()).not.toContain('clavis_cs_');
    await page.getByRole('link', { name: 'Go to the client' }).click();
    await expect(page).toHaveURL(new RegExp(`/clients/${id}$`));
  }
  // One rotation: the first secret is the one rotated secret, still valid (with the cap of 1 a
  // second rotation would have revoked it), and it still gets tokens.
  await expect(previous(page).getByRole('row')).toHaveCount(2);
  await expect(row(page, first)).toContainText('Rotated, still valid');
  expect((await tokenRequest(page, id, first)).status()).toBe(200);
  const history = page.getByRole('region', { name: 'History' });
  await expect(history.getByText('secret.rotated', { exact: true })).toHaveCount(1);
});

test('rotation and revocation take effect at the token endpoint', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/clients/new', js);
  const name = unique('Token worker');
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Client credentials').check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Scopes').fill('reports:read reports:write');
  await page.getByLabel('Token audience').fill('https://reports.example.test');
  await page.getByRole('button', { name: 'Create client' }).click();
  // The machine's credentials come from the downloaded .env, as an operator would deploy them.
  const env = await download(page, js, oneTime.dialog(), 'Download');
  const vars = Object.fromEntries(env.text.trim().split('\n').map((l) => l.split('=', 2)));
  const [shown] = await oneTime.done();
  expect(vars.CLIENT_SECRET).toBe(shown);
  const id = vars.CLIENT_ID;

  const first = await tokenRequest(page, id, vars.CLIENT_SECRET);
  expect(first.status()).toBe(200);
  expect(first.headers()['cache-control']).toBe('no-store');
  const body = await first.json();
  expect(body.token_type).toBe('Bearer');
  expect(body.scope).toBe('reports:read');
  const parts = body.access_token.split('.');
  expect(parts).toHaveLength(3);
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  expect(claims).toMatchObject({ sub: id, client_id: id, scope: 'reports:read', aud: 'https://reports.example.test' });

  // After a rotation, the old and the new secret both work.
  const second = await rotate(page, oneTime);
  expect((await tokenRequest(page, id, vars.CLIENT_SECRET)).status()).toBe(200);
  expect((await tokenRequest(page, id, second)).status()).toBe(200);

  // "Revoke all rotated": the old one fails at once, the new one works.
  await previous(page).getByRole('button', { name: 'Revoke all rotated' }).click();
  await page.getByRole('dialog', { name: /^Revoke 1 rotated secret/ }).getByRole('button', { name: 'Revoke all rotated' }).click();
  await expect(row(page, vars.CLIENT_SECRET)).toContainText('Revoked by admin');
  const refused = await tokenRequest(page, id, vars.CLIENT_SECRET);
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error).toBe('invalid_client');
  expect(refused.headers()['www-authenticate']).toContain('Basic');
  expect((await tokenRequest(page, id, second)).status()).toBe(200);

  // Use is recorded in batches every few seconds; the page then shows when.
  await expect(async () => {
    await open(page, `/clients/${id}`, js);
    const current = page.getByRole('region', { name: 'Secret', exact: true }).locator('dl');
    await expect(current).not.toContainText('never', { timeout: 1000 });
    await expect(current).toContainText(/Last used\s*\d{4}-\d\d-\d\d/, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator('dl.facts')).toContainText(/Token audience\s*https:\/\/reports\.example\.test/);
});
