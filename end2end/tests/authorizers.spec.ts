import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { test, expect, ADMIN, SUPPORT, unique, open, OneTimeSecret, SignInPage } from './fixtures/console';

// Authorizers, JavaScript off and on, with client secrets stored as hashes (the default).

/** Downloads the file `name` from a link in `scope`; its text. */
async function download(page: Page, scope: Locator, name: string) {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    scope.getByRole('link', { name, exact: true }).click(),
  ]);
  // Saved under its own name; `.env` as `<slug>.env` (browsers refuse a leading dot).
  expect(file.suggestedFilename()).toMatch(name === '.env' ? /^[a-z0-9-]+\.env$/ : new RegExp(`^${name.replace('.', '\\.')}$`));
  return readFileSync((await file.path())!, 'utf8');
}

async function createAuthorizer(page: Page, js: boolean, oneTime: OneTimeSecret, name: string) {
  await open(page, '/authorizers', js);
  const form = page.getByRole('region', { name: 'New authorizer' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Audience').fill('orders-api');
  await form.getByLabel('Image').fill('registry.example/authorizer:1.4');
  await form.getByRole('button', { name: 'Create authorizer' }).click();
  const dialog = oneTime.dialog();
  const id = (await dialog.locator('code.client-id').textContent())!.trim();
  // The first secret comes with the configuration, filled in, in this answer only.
  const kustomization = await download(page, dialog.getByRole('region', { name: 'Configuration with this secret' }), 'kustomization.yaml');
  const [secret] = await oneTime.done();
  expect(kustomization).toContain(`  - CLIENT_ID=${id}\n  - CLIENT_SECRET=${secret}\n`);
  await expect(page).toHaveURL(new RegExp(`/authorizers/${id}$`));
  return { id, secret };
}

test('an authorizer is made with its client; its configuration has an empty secret until a rotation fills it in', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await page.getByRole('link', { name: 'Authorizers' }).click();
  await expect(page.getByRole('heading', { name: 'Authorizers', level: 1 })).toBeVisible();
  const name = unique('Gateway');
  const { id, secret } = await createAuthorizer(page, js, oneTime, name);
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(page.locator('code.client-id')).toHaveText(id);

  // Stored as a hash: the page's files leave CLIENT_SECRET empty, and say why.
  const generated = page.getByRole('region', { name: 'Generated configuration' });
  const slug = name.toLowerCase();
  const kustomization = await download(page, generated, 'kustomization.yaml');
  expect(kustomization).toBe(
    `resources:\n- manifest.yaml\nsecretGenerator:\n- name: ${slug}-authorizer-secrets\n  namespace: clavis-system\n` +
    `  literals:\n  - CLIENT_ID=${id}\n  - CLIENT_SECRET=\n  - ISSUER_URL=${new URL(page.url()).origin}\n`);
  expect(await download(page, generated, '.env')).toContain('CLIENT_SECRET=\n');
  expect(await download(page, generated, 'manifest.yaml')).toContain(`name: ${slug}-authorizer-secrets`);
  expect(await download(page, generated, 'values.yaml')).toContain('clientSecret: ""');
  await expect(page.getByText('the secret is stored as a hash, so nobody can read it again')).toBeVisible();
  await expect(page.locator('body')).not.toContainText(secret);

  // "Rotate secret and download configuration": the dialog offers the files, filled in, once.
  await page.getByRole('button', { name: 'Rotate secret and download configuration' }).click();
  const dialog = oneTime.dialog();
  const filled = await download(page, dialog.getByRole('region', { name: 'Configuration with this secret' }), 'kustomization.yaml');
  const [fresh] = await oneTime.done();
  expect(fresh).not.toBe(secret);
  expect(filled).toContain(`  - CLIENT_SECRET=${fresh}\n`);
  await expect(page).toHaveURL(new RegExp(`/(authorizers|clients)/${id}$`));
});

test('support staff see authorizers but cannot change them', async ({ page, signInPage, js, oneTime, browser }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Gateway');
  const { id, secret } = await createAuthorizer(page, js, oneTime, name);
  const support = await browser.newPage({ javaScriptEnabled: js });
  await new SignInPage(support, js).signInAs(SUPPORT);
  await open(support, '/authorizers', js);
  await expect(support.getByRole('link', { name })).toBeVisible();
  await expect(support.getByRole('region', { name: 'New authorizer' })).toHaveCount(0);
  await open(support, `/authorizers/${id}`, js);
  await expect(support.getByRole('heading', { name, level: 1 })).toBeVisible();
  await expect(support.getByRole('button', { name: 'Rotate secret and download configuration' })).toHaveCount(0);
  await expect(support.getByText('Delete authorizer…')).toHaveCount(0);
  await expect(support.getByRole('region', { name: 'Settings' })).toHaveCount(0);
  await expect(support.locator('body')).not.toContainText(secret);
  await support.close();
});

test('an administrator changes an authorizer; a refused change names the field and keeps what was typed', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const name = unique('Gateway');
  const { id } = await createAuthorizer(page, js, oneTime, name);
  const settings = page.getByRole('region', { name: 'Settings' });
  await expect(settings.getByLabel('Image')).toHaveValue('registry.example/authorizer:1.4');

  // The admin API's own audience is Clavis's to check, never an authorizer's.
  const origin = new URL(page.url()).origin;
  await settings.getByLabel('Audience').fill(`${origin}/api/v1`);
  await settings.getByLabel('Image').fill('registry.example/authorizer:2.0');
  await settings.getByRole('button', { name: 'Save changes' }).click();
  const again = page.getByRole('region', { name: 'Settings' });
  await expect(again.getByText("This is the audience of Clavis's own admin API")).toBeVisible();
  if (js) {
    // Nothing typed is lost.
    await expect(again.getByLabel('Audience')).toHaveValue(`${origin}/api/v1`);
    await expect(again.getByLabel('Image')).toHaveValue('registry.example/authorizer:2.0');
  }
  await open(page, `/authorizers/${id}`, js);
  await expect(page.locator('dd code').filter({ hasText: 'registry.example/authorizer:1.4' })).toBeVisible();

  const form = page.getByRole('region', { name: 'Settings' });
  await form.getByLabel('Audience').fill('billing-api');
  await form.getByLabel('Image').fill('registry.example/authorizer:2.0');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(page.locator('dd code').filter({ hasText: 'billing-api' })).toBeVisible();
  const manifest = await download(page, page.getByRole('region', { name: 'Generated configuration' }), 'manifest.yaml');
  expect(manifest).toContain('image: "registry.example/authorizer:2.0"');
});
