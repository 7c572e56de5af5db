import type { Locator, Page } from '@playwright/test';
import { test, expect, ADMIN, SUPPORT, open, unique, newWorker, hydrated } from './fixtures/console';

// The servers of these projects run with secret_max_lifetime = 90 days and the default notices
// (30, 7 and 1 day): see serve.sh.

/** Asks the token endpoint for a token with HTTP Basic, as a machine client would. */
async function token(page: Page, id: string, secret: string) {
  const basic = Buffer.from(`${id}:${secret}`).toString('base64');
  const r = await page.request.post('/oauth2/token', {
    headers: { Authorization: `Basic ${basic}` },
    form: { grant_type: 'client_credentials', scope: 'reports:read' },
  });
  expect(r.status()).toBe(200);
}

function group(page: Page, title: string): Locator {
  return page.getByRole('region', { name: new RegExp(`^${title}`) });
}

function rowOf(scope: Locator, name: string): Locator {
  return scope.getByRole('row').filter({ has: scope.page().getByRole('rowheader', { name, exact: true }) });
}

/** The row of client `name` in group `title` of the Overview, following the group's "More"
 * links (other tests add clients to the same server) until it shows. */
async function rowIn(page: Page, js: boolean, title: string, name: string): Promise<Locator> {
  await open(page, '/overview', js);
  for (let i = 0; i < 60; i++) {
    await expect(group(page, title)).toBeVisible();
    const row = rowOf(group(page, title), name);
    if ((await row.count()) > 0) return row;
    const more = group(page, title).getByRole('link', { name: `More: ${title}` });
    if ((await more.count()) === 0) break;
    const href = await more.getAttribute('href');
    await more.click();
    await hydrated(page, js);
    // With JavaScript the address changes at once and the old page stays up until the next one
    // has loaded: wait for the next page itself, whose "More" leads further (or is gone).
    // Two steps, so that a failure says which one did not happen: the link was followed, then
    // the next page came.
    await expect(page, `the address after following ${href}`).toHaveURL((u) => `${u.pathname}${u.search}` === href);
    await expect.poll(async () => (await more.count()) === 0 || (await more.getAttribute('href')) !== href,
      { message: `the page after ${href} (now at ${page.url()})` }).toBe(true);
  }
  throw new Error(`${name} is not in “${title}”`);
}

/** Rotates the secret of the client whose page is open; returns the new plaintext. */
async function rotateHere(page: Page, oneTime: { done(): Promise<string[]> }) {
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await page.getByRole('dialog', { name: 'Rotate the secret?' }).getByRole('button', { name: 'Rotate secret' }).click();
  const [secret] = await oneTime.done();
  return secret;
}

test('the overview lists what needs attention; an administrator rotates and disables from it', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  // Empty groups say so in one line (no secret on these servers was made before the policy).
  await expect(group(page, 'No expiry')).toContainText('Every valid secret has an expiry.');

  // A client with its own 10-day lifetime: the dialog says when the secret expires.
  const name = unique('Expiring');
  await open(page, '/clients/new', js);
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Client credentials').check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Scopes').fill('reports:read');
  await page.getByLabel('Secret lifetime (seconds)').fill('864000');
  await page.getByRole('button', { name: 'Create client' }).click();
  const tenDays = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  await expect(oneTime.dialog().locator('.expires')).toContainText(`expires ${tenDays}`);
  await oneTime.done();
  const secretCard = page.getByRole('region', { name: 'Secret', exact: true });
  await expect(secretCard.locator('dd.expires')).toContainText('(in 10 days)');
  await expect(page.locator('.facts')).toContainText('Secret lifetime10 days');

  // Expiring soon, with the days left and a badge in the navigation.
  const expiring = await rowIn(page, js, 'Expiring soon', name);
  await expect(expiring).toContainText('(10 days left)');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Overview \d+ need attention$/ })).toBeVisible();

  // "Rotate…" opens the rotation on the client's page; the row then names the new secret.
  await expiring.getByRole('link', { name: `Rotate ${name}` }).click();
  await hydrated(page, js);
  await page.getByRole('dialog', { name: 'Rotate the secret?' }).getByRole('button', { name: 'Rotate secret' }).click();
  const [fresh] = await oneTime.done();
  await expect(await rowIn(page, js, 'Expiring soon', name)).toContainText(`Secret …${fresh.slice(-4)} expires`);

  // Never used, so idle: disabled from the Overview after a confirmation.
  const idle = await rowIn(page, js, 'Idle clients', name);
  await expect(idle).toContainText('Never used');
  await idle.getByText('Disable…').click();
  await expect(idle).toContainText(`Disable ${name}? From its next request it gets no tokens`);
  await idle.getByRole('button', { name: `Disable ${name}` }).click();
  if (js) await expect(page.getByRole('status').filter({ hasText: 'The client was disabled.' })).toBeVisible();
  await hydrated(page, js);
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await open(page, `/clients/${await clientIdOf(page, js, name)}`, js);
  await expect(page.locator('.facts')).toContainText('StatusDisabled');
});

/** The id of the client named `name`, from the client list's search. */
async function clientIdOf(page: Page, js: boolean, name: string): Promise<string> {
  await open(page, `/clients?q=${encodeURIComponent(name)}`, js);
  const href = await page.getByRole('link', { name, exact: true }).getAttribute('href');
  return href!.split('/').pop()!;
}

test('use shows on the client page and in the overview: a rotated secret still in use, a disabled client still used', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Metered');
  const { id, secret: old } = await newWorker(page, js, oneTime, name);
  await token(page, id, old);
  await open(page, `/clients/${id}`, js);
  const fresh = await rotateHere(page, oneTime);
  // A deployment that has not switched yet keeps using the old secret.
  await token(page, id, old);
  await token(page, id, fresh);

  // The batched recorder writes every few seconds: wait for its next write.
  const inUse = async () => rowIn(page, js, 'Rotated but still in use', name);
  await expect(async () => {
    await expect(await inUse()).toContainText(`Rotated secret …${old.slice(-4)} was used`);
  }).toPass({ timeout: 20_000 });
  await expect(await inUse()).toContainText('2 requests in the last 7 days');

  // The client page: each secret's share, the chart and its table.
  await open(page, `/clients/${id}`, js);
  const previous = page.getByRole('region', { name: 'Previously used secrets' });
  await expect(previous.getByRole('row').filter({ hasText: `…${old.slice(-4)}` })).toContainText('67% of requests in the last 7 days');
  await expect(page.getByRole('region', { name: 'Secret', exact: true }).locator('dl')).toContainText('33% of requests in the last 7 days');
  const use = page.getByRole('region', { name: 'Use over the last 30 days' });
  await expect(use.getByRole('img')).toHaveAccessibleName(/^3 requests in the last 30 days, at most 3 in a day; 1 day with a rotation or revocation/);
  await expect(use.locator('svg line.mark-rotation')).toHaveCount(1);
  await use.getByText('Daily numbers').click();
  const today = new Date().toISOString().slice(0, 10);
  const todayRow = use.getByRole('table').getByRole('row').filter({ has: page.getByRole('rowheader', { name: today }) });
  await expect(todayRow).toHaveText(new RegExp(`^${today}\\s*3\\s*3\\s*1 rotation$`));

  // Disabled while in use: it cannot get tokens, and the Overview says so first.
  await page.getByText('Disable client…').click();
  await page.getByRole('button', { name: 'Disable client' }).click();
  await expect(page.locator('.facts')).toContainText('StatusDisabled');
  const cannot = await rowIn(page, js, 'Cannot get tokens now', name);
  await expect(cannot).toContainText('Disabled, but used');
  await expect(cannot.getByRole('link', { name: /^Rotate/ })).toHaveCount(0);
});

test('support staff revoke a secret that is safe to revoke from the overview, and do nothing else there', async ({ page, signInPage, js, oneTime, browser, baseURL }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Unused rotated');
  const { id, secret } = await newWorker(page, js, oneTime, name);
  await open(page, `/clients/${id}`, js);
  await rotateHere(page, oneTime);

  const ctx = await browser.newContext({ javaScriptEnabled: js, baseURL });
  const p = await ctx.newPage();
  await p.goto('/login');
  await p.getByLabel('Username').fill(SUPPORT.username);
  await p.getByLabel('Password').fill(SUPPORT.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p).toHaveURL(/\/overview$/);
  await hydrated(p, js);
  // No administrator action is offered to support staff.
  await expect(p.getByRole('link', { name: /^(Rotate|Create secret) / })).toHaveCount(0);
  await expect(p.getByText('Disable…')).toHaveCount(0);

  const row = await rowIn(p, js, 'Safe to revoke', name);
  await expect(row).toContainText(`Rotated secret …${secret.slice(-4)}`);
  await row.getByText('Revoke…').click();
  await row.getByRole('button', { name: `Revoke secret …${secret.slice(-4)}` }).click();
  await expect(p.getByRole('status').filter({ hasText: 'The secret was revoked.' })).toBeVisible();
  await expect(p).toHaveURL(/\/overview/);
  await open(p, `/clients/${id}`, js);
  await expect(p.getByRole('region', { name: 'Previously used secrets' })).toContainText('Revoked by support');
  // The old secret is refused from now on.
  const basic = Buffer.from(`${id}:${secret}`).toString('base64');
  const refused = await p.request.post('/oauth2/token', {
    headers: { Authorization: `Basic ${basic}` },
    form: { grant_type: 'client_credentials', scope: 'reports:read' },
  });
  expect(refused.status()).toBe(401);
  await ctx.close();
});
