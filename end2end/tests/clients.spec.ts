import { test, expect, ADMIN, SUPPORT, unique, open, hydrated } from './fixtures/console';
import type { Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';

/** Creates a client through its server function, as automation would. */
async function apiCreate(page: Page, baseURL: string, fields: Record<string, string>) {
  const body = Object.entries(fields)
    .map(([k, v]) => `input[${k}]=${encodeURIComponent(v)}`)
    .concat(`form_token=${randomBytes(16).toString('hex')}`)
    .join('&');
  return page.request.post('/api/clients/create', {
    headers: { Origin: baseURL, 'Content-Type': 'application/x-www-form-urlencoded' },
    data: body,
  });
}

const TYPES = {
  confidential_pkce: 'Confidential, with PKCE',
  public_pkce: 'Public, with PKCE',
  client_credentials: 'Client credentials',
} as const;

async function answer(page: Page, js: boolean, person: boolean, secret: boolean) {
  const q1 = page.getByRole('group', { name: /Does a person sign in/ });
  const q2 = page.getByRole('group', { name: /Can the machine that runs it keep a secret/ });
  await q1.getByLabel(person ? 'Yes' : 'No').check();
  await q2.getByLabel(secret ? 'Yes' : 'No').check();
  if (!js) {
    await page.getByRole('button', { name: 'Recommend a type' }).click();
    await hydrated(page, js);
  }
}

async function createClient(page: Page, name: string, type: keyof typeof TYPES, extra: { redirects?: string; scopes?: string; audience?: string; newApplication?: string } = {}) {
  await page.getByRole('group', { name: 'Client type' }).getByLabel(TYPES[type]).check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  if (extra.redirects !== undefined) await page.getByLabel('Redirect URIs', { exact: true }).fill(extra.redirects);
  if (extra.scopes !== undefined) await page.getByLabel('Scopes').fill(extra.scopes);
  if (extra.audience !== undefined) await page.getByLabel('Token audience').fill(extra.audience);
  if (extra.newApplication !== undefined) await page.getByLabel('Or a new application').fill(extra.newApplication);
  await page.getByRole('button', { name: 'Create client' }).click();
}

test('the guided choice recommends a type for each pair of answers', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  const cases: [boolean, boolean, keyof typeof TYPES][] = [
    [true, true, 'confidential_pkce'],
    [true, false, 'public_pkce'],
    [false, true, 'client_credentials'],
    [false, false, 'client_credentials'],
  ];
  for (const [person, secret, want] of cases) {
    await open(page, '/clients/new', js);
    await answer(page, js, person, secret);
    await expect(page.getByRole('status').filter({ hasText: 'Recommended' })).toContainText(`Recommended: ${TYPES[want]}.`);
    await expect(page.getByRole('group', { name: 'Client type' }).getByLabel(TYPES[want])).toBeChecked();
  }
});

test('an administrator creates one client of each type', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const made: [string, keyof typeof TYPES, { redirects?: string; scopes?: string }][] = [
    [unique('Portal'), 'confidential_pkce', { redirects: 'https://portal.example.com/callback' }],
    [unique('Orders SPA'), 'public_pkce', { redirects: 'http://localhost:5173/cb\ncom.example.orders:/cb' }],
    [unique('Export worker'), 'client_credentials', { scopes: 'orders:read exports:write' }],
  ];
  for (const [name, type, extra] of made) {
    await open(page, '/clients/new', js);
    await createClient(page, name, type, extra);
    if (type !== 'public_pkce') {
      // A confidential client comes with its first secret, shown once.
      expect(await oneTime.done()).toHaveLength(1);
    }
    await expect(page).toHaveURL(/\/clients\/[0-9a-f]{32}$/);
    await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
    const id = page.url().split('/').pop()!;
    await expect(page.locator('#client-id')).toHaveText(id);
    await expect(page.locator('dl.facts')).toContainText(TYPES[type]);
  }
  await expect(page.getByText('Public clients have no secret')).toHaveCount(0);
  // Other tests add hundreds of clients, so look each one up rather than expect it on page one.
  for (const [name] of made) {
    await open(page, `/clients?q=${encodeURIComponent(name)}`, js);
    await expect(page.getByRole('link', { name, exact: true })).toBeVisible();
  }
});

test('a client people sign in to has post-logout redirect URIs and may skip consent', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Shop web');
  await open(page, '/clients/new', js);
  await page.getByRole('group', { name: 'Client type' }).getByLabel(TYPES.confidential_pkce).check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs', { exact: true }).fill('https://shop.example/cb');
  // A bad URI is refused next to its field.
  await page.getByLabel('Post-logout redirect URIs').fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Create client' }).click();
  await expect(page.locator('#post_logout_redirect_uris-error')).toContainText('javascript: scheme');

  await open(page, '/clients/new', js);
  await page.getByRole('group', { name: 'Client type' }).getByLabel(TYPES.confidential_pkce).check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs', { exact: true }).fill('https://shop.example/cb');
  await page.getByLabel('Post-logout redirect URIs').fill('https://shop.example/bye');
  await page.getByLabel('First-party: skip consent').check();
  await page.getByRole('button', { name: 'Create client' }).click();
  await oneTime.done();
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText('https://shop.example/bye');
  await expect(facts).toContainText('First-party: people are not asked for consent');

  // The edit form holds both, and unchecking asks for consent again.
  const edit = page.getByRole('region', { name: 'Edit' });
  await expect(edit.getByLabel('Post-logout redirect URIs')).toHaveValue('https://shop.example/bye');
  await expect(edit.getByLabel('First-party: skip consent')).toBeChecked();
  await edit.getByLabel('First-party: skip consent').uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.locator('dl.facts')).toContainText('People are asked for consent');
  await expect(page.locator('dl.facts')).toContainText('https://shop.example/bye');
});

test('bad input shows an error next to its field and creates nothing', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Bad');
  await open(page, '/clients/new', js);
  await createClient(page, name, 'public_pkce', { redirects: 'javascript:alert(1)' });
  await expect(page.locator('#redirect_uris-error')).toContainText('javascript: scheme');
  await open(page, '/clients/new', js);
  await createClient(page, name, 'confidential_pkce', { redirects: 'https://*.example.com/cb' });
  await expect(page.locator('#redirect_uris-error')).toContainText('wildcard');
  await open(page, '/clients/new', js);
  await createClient(page, name, 'client_credentials', { scopes: 'say"hi"' });
  await expect(page.locator('#scopes-error')).toContainText('not a valid scope');
  await open(page, '/clients/new', js);
  await createClient(page, name, 'client_credentials', { scopes: 'a', audience: 'orders api' });
  await expect(page.locator('#audience-error')).toContainText('not a valid audience');
  await open(page, '/clients/new', js);
  await createClient(page, '   ', 'client_credentials', { scopes: 'a' });
  await expect(page.locator('#name-error')).toHaveText('Enter a name.');
  await open(page, `/clients?q=${encodeURIComponent(name)}`, js);
  await expect(page.getByText('No clients match this search.')).toBeVisible();
});

test('edit, disable and delete with the name as confirmation', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Lifecycle');
  const app = unique('Lifecycle app');
  await open(page, '/clients/new', js);
  await createClient(page, name, 'confidential_pkce', { redirects: 'https://app.example.com/cb', newApplication: app });
  await oneTime.done();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await hydrated(page, js);
  await expect(page.getByRole('region', { name: 'Previously used secrets' })).toBeVisible();
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText(`Application${app}`);

  // Saving other changes keeps the application.
  const edit = page.getByRole('region', { name: 'Edit' });
  const renamed = `${name} v2`;
  await expect(edit.getByLabel('Application', { exact: true })).toHaveValue(/^\d+$/);
  await edit.getByLabel('Name', { exact: true }).fill(renamed);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('heading', { name: renamed, level: 1 })).toBeVisible();
  await expect(facts).toContainText(`Application${app}`);
  // It can be cleared, and chosen again from the list.
  await edit.getByLabel('Application', { exact: true }).selectOption({ label: 'No application' });
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(facts).toContainText('Application—');
  await edit.getByLabel('Application', { exact: true }).selectOption({ label: app });
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(facts).toContainText(`Application${app}`);

  // Disabling asks first, naming what happens; Escape closes the question.
  const disable = page.getByRole('button', { name: 'Disable client', exact: true });
  await page.getByText('Disable client…').click();
  await expect(page.getByText(`Disable ${renamed}? From its next request it gets no tokens`)).toBeVisible();
  if (js) {
    // The focus goes to what will happen, not to the button that does it.
    await expect(page.locator('p.confirm-text', { hasText: `Disable ${renamed}?` })).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(disable).toBeHidden();
    await expect(page.locator('summary', { hasText: 'Disable client…' })).toBeFocused();
    await page.getByText('Disable client…').click();
  }
  await disable.click();
  await expect(page.locator('dl.facts')).toContainText('Disabled');
  await page.getByRole('button', { name: 'Enable client' }).click();
  await expect(page.locator('dl.facts')).toContainText('Enabled');
  await expect(page.getByRole('region', { name: 'History' })).toContainText('client.disabled');

  await page.getByText('Delete client…').click();
  await page.getByLabel(/to delete this client for good/).fill('not the name');
  await page.getByRole('button', { name: 'Delete client' }).click();
  await expect(page.locator('#confirm_name-error')).toContainText('Type the client');
  if (!(await page.getByLabel(/to delete this client for good/).isVisible())) {
    await page.getByText('Delete client…').click();
  }
  await page.getByLabel(/to delete this client for good/).fill(renamed);
  await page.getByRole('button', { name: 'Delete client' }).click();
  await expect(page).toHaveURL(/\/clients$/);
  await open(page, `/clients?q=${encodeURIComponent(renamed)}`, js);
  await expect(page.getByText('No clients match this search.')).toBeVisible();
});

test('search and pages over a few hundred clients', async ({ page, signInPage, js, baseURL }) => {
  await signInPage.signInAs(ADMIN);
  const prefix = unique('bulk');
  for (let i = 0; i < 250; i++) {
    const res = await apiCreate(page, baseURL!, {
      name: `${prefix} ${String(i).padStart(3, '0')}`,
      client_type: 'client_credentials',
      scopes: 'jobs:run',
    });
    expect(res.status()).toBe(200);
  }
  await open(page, '/clients', js);
  await page.getByLabel('Search').fill(prefix.toUpperCase());
  await page.getByRole('button', { name: 'Search' }).click();
  const rows = page.getByRole('table', { name: 'Registered clients' }).getByRole('rowheader');
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toHaveText(`${prefix} 000`);
  // Pages of 50 in name order, each starting where the last one ended, five in all.
  for (const first of ['050', '100', '150', '200']) {
    await page.getByRole('link', { name: 'Next page' }).click();
    await expect(rows.first()).toHaveText(`${prefix} ${first}`);
    await expect(rows).toHaveCount(50);
  }
  await expect(rows.last()).toHaveText(`${prefix} 249`);
  await expect(page.getByRole('link', { name: 'Next page' })).toHaveCount(0);
  await page.getByRole('link', { name: 'First page' }).click();
  await expect(rows.first()).toHaveText(`${prefix} 000`);
});

test('support staff can look but see no edit controls', async ({ page, signInPage, js, browser, baseURL }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Readonly');
  const res = await apiCreate(page, baseURL!, {
    name,
    client_type: 'public_pkce',
    redirect_uris: 'https://ro.example/cb',
  });
  expect(res.status()).toBe(200);
  const id = (await res.json()).client.client_id as string;

  const ctx = await browser.newContext({ javaScriptEnabled: js, baseURL });
  const p = await ctx.newPage();
  await p.goto('/login');
  await p.getByLabel('Username').fill(SUPPORT.username);
  await p.getByLabel('Password').fill(SUPPORT.password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p).toHaveURL(/\/overview$/);
  await open(p, '/clients', js);
  await expect(p.getByRole('link', { name: 'New client' })).toHaveCount(0);
  await p.goto(`/clients/${id}`);
  await expect(p.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(p.getByText('Public clients have no secret')).toBeVisible();
  await expect(p.getByRole('button', { name: 'Save changes' })).toHaveCount(0);
  await expect(p.getByText('Delete client…')).toHaveCount(0);
  await expect(p.getByText('Disable client…')).toHaveCount(0);
  await p.goto('/clients/new');
  await expect(p.getByRole('heading', { name: 'Not available to your role' })).toBeVisible();
  await ctx.close();
});

for (const [key, title, clients] of [
  ['ssr-spa-api', 'Server-rendered app with SPA and API', 3],
  ['bff', 'Backend-for-frontend', 2],
  ['worker', 'Worker or command-line tool', 1],
] as const) {
  test(`preset "${title}" creates an application with ${clients} clients`, async ({ page, signInPage, js, oneTime }) => {
    await signInPage.signInAs(ADMIN);
    await open(page, '/clients/new', js);
    await page.getByRole('link', { name: title }).click();
    await expect(page).toHaveURL(new RegExp(`preset=${key}`));
    await hydrated(page, js);
    const appName = unique(key);
    await page.getByLabel('Application name').fill(appName);
    await page.getByRole('button', { name: 'Create application and clients' }).click();
    // With several secrets shown at once, every button and link names its client: no two
    // share an accessible name.
    await expect(oneTime.dialog()).toBeVisible();
    const names = await oneTime.dialog().locator('button, a').evaluateAll((els) =>
      els.map((e) => e.getAttribute('aria-label') ?? (e.textContent ?? '').trim()));
    expect(names.length).toBeGreaterThan(2);
    expect(new Set(names).size, names.join(' | ')).toBe(names.length);
    // Every confidential client of the preset got its first secret, shown once.
    expect((await oneTime.done()).length).toBeGreaterThan(0);
    await expect(page).toHaveURL(/\/clients\?application=\d+$/);
    const rows = page.getByRole('table', { name: 'Registered clients' }).getByRole('row');
    await expect(rows).toHaveCount(clients + 1);
    await expect(page.getByRole('table', { name: 'Registered clients' })).toContainText(appName);
    // The list is filtered to the new application, and the filter says so.
    await expect(page.getByLabel('Application')).toHaveValue(/\d+/);
    await expect(page.getByLabel('Application').locator('option:checked')).toHaveText(appName);
  });
}

test('a preset with one bad field creates nothing', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/clients/new?preset=ssr-spa-api', js);
  const appName = unique('broken');
  const webName = unique('Broken web');
  await page.getByLabel('Application name').fill(appName);
  await page.getByLabel('Name of the server-rendered web app').fill(webName);
  await page.getByLabel('Redirect URIs of the single-page app').fill('http://example.com/cb');
  await page.getByRole('button', { name: 'Create application and clients' }).click();
  await expect(page.locator('#p-1-redirects-error')).toContainText('uses http');
  // The valid first client was not created either.
  await open(page, `/clients?q=${encodeURIComponent(webName)}`, js);
  await expect(page.getByText('No clients match this search.')).toBeVisible();
});
