import { readFileSync } from 'node:fs';
import { test, expect, ADMIN, SUPPORT, unique, open, SignInPage, newWorker } from './fixtures/console';

// Runs on the servers with client_secrets_stored_as_one_way_hash = false (see
// playwright.config.ts), JavaScript off and on: secrets are stored readable, and an
// administrator reveals one after giving their password again.

test('an administrator reveals a readable secret after giving their password again', async ({ page, signInPage, js, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  const { id, secret } = await newWorker(page, js, oneTime, unique('Readable'));
  const hint = secret.slice(-4);
  await expect(page.getByText('Readable: an administrator can reveal it.')).toBeVisible();

  await page.getByRole('button', { name: `Reveal secret …${hint}` }).click();
  const step = page.getByRole('dialog', { name: `Reveal secret …${hint}?` });
  await expect(step).toBeVisible();
  // A wrong password: the message is next to the field, and nothing is shown.
  await step.getByLabel('Your password').fill('not my password');
  await step.getByRole('button', { name: 'Reveal secret' }).click();
  const again = page.getByRole('dialog', { name: `Reveal secret …${hint}?` });
  await expect(again.getByText('That is not your password.')).toBeVisible();
  await expect(oneTime.dialog()).toHaveCount(0);

  await again.getByLabel('Your password').fill(ADMIN.password);
  await again.getByRole('button', { name: 'Reveal secret' }).click();
  const [shown] = await oneTime.done();
  expect(shown).toBe(secret);
  await expect(page).toHaveURL(new RegExp(`/clients/${id}$`));

  // The audit log names who revealed which secret, never the secret.
  await open(page, `/audit?action=secret.revealed`, js);
  const rows = page.getByRole('row').filter({ hasText: `…${hint}` });
  await expect(rows.first()).toContainText('admin');
  await expect(page.locator('body')).not.toContainText(secret);
});

test('support staff see whether a secret is readable but cannot reveal it', async ({ page, signInPage, js, oneTime, browser }) => {
  await signInPage.signInAs(ADMIN);
  const { id, secret } = await newWorker(page, js, oneTime, unique('Readable'));
  // The secret's id, from the administrator's "Reveal…" step.
  const secretId = await page.locator('form:has(input[name="confirm"][value="reveal"]) input[name="secret"]').getAttribute('value');
  expect(secretId).toMatch(/^\d+$/);
  // The administrator's own step URL does offer the password field.
  await open(page, `/clients/${id}?confirm=reveal&secret=${secretId}`, js);
  await expect(page.getByLabel('Your password')).toBeVisible();
  const support = await browser.newPage({ javaScriptEnabled: js });
  await new SignInPage(support, js).signInAs(SUPPORT);
  // For support staff, the very same URL offers nothing.
  await open(support, `/clients/${id}?confirm=reveal&secret=${secretId}`, js);
  await expect(support.getByText('Readable: an administrator can reveal it.')).toBeVisible();
  await expect(support.getByRole('button', { name: /^Reveal secret/ })).toHaveCount(0);
  await expect(support.getByLabel('Your password')).toHaveCount(0);
  await expect(support.locator('body')).not.toContainText(secret);
  await support.close();
});

test('each download of an authorizer file that holds the secret is its own audited reveal', async ({ page, signInPage, js, oneTime, browser }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/authorizers', js);
  const form = page.getByRole('region', { name: 'New authorizer' });
  const name = unique('Gateway');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Audience').fill('orders-api');
  await form.getByLabel('Image').fill('registry.example/authorizer:1.4');
  await form.getByRole('button', { name: 'Create authorizer' }).click();
  const [secret] = await oneTime.done();
  const hint = secret.slice(-4);
  const id = page.url().split('/').pop()!;
  await expect(page.getByText('every download is a reveal')).toBeVisible();

  for (const file of ['kustomization.yaml', '.env']) {
    await page.getByRole('button', { name: `Download ${file}…` }).click();
    const step = page.getByRole('dialog', { name: `Reveal secret …${hint}?` });
    await expect(step).toContainText(`to download ${file} with the secret filled in`);
    await step.getByLabel('Your password').fill(ADMIN.password);
    await step.getByRole('button', { name: 'Reveal secret' }).click();
    // The answer offers that one file, filled in.
    const files = oneTime.dialog().getByRole('region', { name: 'Configuration with this secret' });
    await expect(files.getByRole('link')).toHaveCount(1);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      files.getByRole('link', { name: file, exact: true }).click(),
    ]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toContain(file === '.env' ? `CLIENT_SECRET=${secret}\n` : `  - CLIENT_SECRET=${secret}\n`);
    const [shown] = await oneTime.done();
    expect(shown).toBe(secret);
    await expect(page).toHaveURL(new RegExp(`/authorizers/${id}$`));
  }
  // manifest.yaml holds no secret: a plain download.
  await expect(page.getByRole('region', { name: 'Files without the secret' }).getByRole('link', { name: 'manifest.yaml' })).toBeVisible();

  // One audit event per download, naming the file, never the secret.
  await open(page, '/audit?action=secret.revealed', js);
  const mine = page.getByRole('row').filter({ hasText: id });
  await expect(mine.filter({ hasText: 'for the file kustomization.yaml' })).toHaveCount(1);
  await expect(mine.filter({ hasText: 'for the file .env' })).toHaveCount(1);
  await expect(page.locator('body')).not.toContainText(secret);

  // Support staff get the files with CLIENT_SECRET empty, and no way to reveal it.
  const support = await browser.newPage({ javaScriptEnabled: js });
  await new SignInPage(support, js).signInAs(SUPPORT);
  await open(support, `/authorizers/${id}`, js);
  await expect(support.getByText('only an administrator can reveal the secret')).toBeVisible();
  await expect(support.getByRole('button', { name: /^Download / })).toHaveCount(0);
  await open(support, `/authorizers/${id}?confirm=reveal&secret=1&file=.env`, js);
  await expect(support.getByLabel('Your password')).toHaveCount(0);
  await support.close();
});
