import type { Page } from '@playwright/test';
import { test, expect, ADMIN, unique, hydrated, newWorker, recordPlaintexts } from './fixtures/console';

// People do not wait for the WebAssembly to arrive. Each form here is used while its page is
// still only server-rendered (every .wasm held back), and must keep everything the person
// entered once the page hydrates, and then submit it. Runs with JavaScript on only (see
// playwright.config.ts).

const HOLD_MS = 1500;

/** Holds back every WebAssembly file (the main one and the page's chunk) for HOLD_MS. */
async function holdWasm(page: Page): Promise<void> {
  await page.route(/\.wasm(\?.*)?$/, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    await route.continue();
  });
}

/** Opens `path` without waiting for hydration; it has not happened yet. */
async function openEarly(page: Page, path: string): Promise<void> {
  await holdWasm(page);
  await page.goto(path, { waitUntil: 'domcontentloaded' });
  await notHydratedYet(page);
}

async function notHydratedYet(page: Page): Promise<void> {
  expect(await page.locator('body').getAttribute('data-hydrated'), 'the page hydrated before the test acted').toBeNull();
}

test('new client: a type, answers and text entered before hydration are kept, and the form submits', async ({ page, signInPage, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/clients/new');
  const name = unique('Early worker');
  await page.getByRole('group', { name: /Does a person sign in/ }).getByLabel('No').check();
  await page.getByRole('group', { name: /Can the machine that runs it keep a secret/ }).getByLabel('Yes').check();
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Client credentials').check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Scopes').fill('reports:read');
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(page.getByRole('group', { name: 'Client type' }).getByLabel('Client credentials')).toBeChecked();
  await expect(page.getByRole('group', { name: /Does a person sign in/ }).getByLabel('No')).toBeChecked();
  await expect(page.getByRole('group', { name: /keep a secret/ }).getByLabel('Yes')).toBeChecked();
  await expect(page.getByText('Recommended: Client credentials.')).toBeVisible();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(page.getByLabel('Scopes')).toHaveValue('reports:read');
  // With the page running, only the chosen type's fields show.
  await expect(page.getByLabel('Redirect URIs', { exact: true })).toBeHidden();
  await expect(page.getByRole('group', { name: 'For machines (client credentials)' })).toBeVisible();

  await page.getByRole('button', { name: 'Create client' }).click();
  await oneTime.done();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('reports:read');
});

test('edit client: changes made before hydration are kept, and saved', async ({ page, signInPage, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const { id } = await newWorker(page, true, oneTime, unique('Edit early'));
  const renamed = unique('Renamed early');
  await openEarly(page, `/clients/${id}`);
  const edit = page.getByRole('region', { name: 'Edit' });
  await edit.getByLabel('Name', { exact: true }).fill(renamed);
  await edit.getByLabel('Description').fill('Typed before the page hydrated.');
  await edit.getByLabel('Scopes').fill('reports:read reports:write');
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(edit.getByLabel('Name', { exact: true })).toHaveValue(renamed);
  await expect(edit.getByLabel('Description')).toHaveValue('Typed before the page hydrated.');
  await expect(edit.getByLabel('Scopes')).toHaveValue('reports:read reports:write');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('heading', { name: renamed, level: 1 })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('Typed before the page hydrated.');
  await expect(page.locator('dl.facts')).toContainText('reports:write');
});

test('new client of a type people sign in to: the first-party checkbox ticked before hydration is kept', async ({ page, signInPage, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/clients/new');
  const name = unique('Early shop');
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Confidential, with PKCE').check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Redirect URIs', { exact: true }).fill('https://shop.example/cb');
  await page.getByLabel('First-party: skip consent').check();
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(page.getByRole('group', { name: 'Client type' }).getByLabel('Confidential, with PKCE')).toBeChecked();
  await expect(page.getByLabel('First-party: skip consent')).toBeChecked();
  await expect(page.getByLabel('Scopes')).toBeHidden();
  await page.getByRole('button', { name: 'Create client' }).click();
  await oneTime.done();
  await expect(page.locator('dl.facts')).toContainText('First-party: people are not asked for consent');
});

test('new authorizer: text typed before hydration is kept, and the form submits', async ({ page, signInPage, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/authorizers');
  const name = unique('Early gateway');
  const form = page.getByRole('region', { name: 'New authorizer' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Audience').fill('orders-api');
  await form.getByLabel('Image').fill('registry.example/authorizer:1.4');
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(form.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(form.getByLabel('Audience')).toHaveValue('orders-api');
  await expect(form.getByLabel('Image')).toHaveValue('registry.example/authorizer:1.4');
  await form.getByRole('button', { name: 'Create authorizer' }).click();
  await oneTime.done();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
});

test('new person: what was typed before hydration is kept, and the person is added', async ({ page, signInPage }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/people');
  const username = unique('early').toLowerCase();
  const password = `${unique('early person password')} long`;
  recordPlaintexts(page, [password]);
  const form = page.getByRole('region', { name: 'Add a person' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Display name').fill('Early Bird');
  await form.getByLabel('E-mail').fill('early@example.com');
  await form.getByLabel('Password').fill(password);
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(form.getByLabel('Username')).toHaveValue(username);
  await expect(form.getByLabel('Display name')).toHaveValue('Early Bird');
  await expect(form.getByLabel('E-mail')).toHaveValue('early@example.com');
  await expect(form.getByLabel('Password')).toHaveValue(password);
  await form.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${username} was added.` })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: username })).toContainText('Early Bird');
});

test('new account: a role chosen and text typed before hydration are kept, and the account is made', async ({ page, signInPage, accountsPage }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/accounts');
  const username = unique('early-ops').toLowerCase();
  const password = `${unique('early account password')} long`;
  recordPlaintexts(page, [password]);
  const form = page.getByRole('region', { name: 'New account' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  // Not the default (Support): a choice that hydration could undo.
  await form.getByLabel('Role').selectOption('admin');
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(form.getByLabel('Username')).toHaveValue(username);
  await expect(form.getByLabel('Password')).toHaveValue(password);
  await expect(form.getByLabel('Role')).toHaveValue('admin');
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(accountsPage.status()).toHaveText(`Account ${username} created.`);
  await expect(accountsPage.row(username)).toContainText('Administrator');
});

test('new webhook endpoint: the URL, description and event boxes set before hydration are kept, and the form submits', async ({ page, signInPage }) => {
  await signInPage.signInAs(ADMIN);
  await openEarly(page, '/webhooks');
  const description = unique('Early hook');
  const form = page.getByRole('region', { name: 'New endpoint' });
  await form.getByLabel('URL', { exact: true }).fill('https://hooks.example.com/clavis');
  await form.getByLabel('Description', { exact: true }).fill(description);
  await form.getByLabel('secret.expiring').check();
  await form.getByLabel('secret.expired').check();
  await notHydratedYet(page);

  await hydrated(page, true);
  await expect(form.getByLabel('URL', { exact: true })).toHaveValue('https://hooks.example.com/clavis');
  await expect(form.getByLabel('Description', { exact: true })).toHaveValue(description);
  await expect(form.getByLabel('secret.expiring')).toBeChecked();
  await expect(form.getByLabel('secret.expired')).toBeChecked();
  await expect(form.getByLabel('client.created')).not.toBeChecked();
  await form.getByRole('button', { name: 'Create endpoint' }).click();
  const block = page.getByRole('region', { name: 'Signing secret' });
  const secret = await block.getByRole('textbox', { name: 'Signing secret' }).inputValue();
  expect(secret).toMatch(/^whsec_/);
  recordPlaintexts(page, [secret]);
  await block.getByRole('link', { name: 'Done' }).click();
  await expect(page.getByRole('heading', { name: 'Webhook endpoint', level: 1 })).toBeVisible();
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText(description);
  await expect(facts).toContainText('secret.expiring');
  await expect(facts).not.toContainText('client.created');
});
