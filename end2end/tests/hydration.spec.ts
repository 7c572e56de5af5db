import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, ADMIN, open, unique } from './fixtures/console';

/** Whether the site was built split (scripts/build-release.sh, as in CI), not by a plain `cargo leptos build`. */
const splitBuild = readdirSync(join(__dirname, '../../target/site/pkg')).some((f) => f.startsWith('__wasm_split_manifest'));

// Runs only with JavaScript on (see playwright.config.ts).
test('the page hydrates into the WebAssembly app', async ({ page, signInPage }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signInPage.signInAs(ADMIN);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // Client-side navigation: no full page load happens when a nav link is followed.
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42);
  expect(errors).toEqual([]);
});

test('Escape on the one-time dialog asks before the secret is dropped', async ({ page, signInPage, oneTime }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/clients/new', true);
  await page.getByRole('group', { name: 'Client type' }).getByLabel('Client credentials').check();
  await page.getByLabel('Name', { exact: true }).fill(unique('Escape worker'));
  await page.getByLabel('Scopes').fill('reports:read');
  await page.getByRole('button', { name: 'Create client' }).click();
  const dialog = oneTime.dialog();
  await oneTime.values();
  await expect(dialog.getByRole('button', { name: 'Copy' })).toBeFocused();

  const ask = dialog.getByRole('group', { name: 'Close without saving the secret?' });
  await page.keyboard.press('Escape');
  await expect(ask).toBeVisible();
  await expect(ask.getByRole('button', { name: 'Keep it open' })).toBeFocused();
  // A second Escape lets the browser close a modal dialog whatever the page says: it opens
  // again, still asking.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeVisible();
  await expect(ask).toBeVisible();
  await expect(oneTime.field()).toHaveValue(/^clavis_cs_/);
  await ask.getByRole('button', { name: 'Keep it open' }).click();
  await expect(ask).toBeHidden();
  await expect(dialog.getByRole('button', { name: 'Copy' })).toBeFocused();

  await page.keyboard.press('Escape');
  await ask.getByRole('button', { name: 'Close without saving' }).click();
  await expect(dialog).toHaveCount(0);
});

test('the sign-in page loads only the main WebAssembly; another page loads its chunk when first shown', async ({ page, signInPage }) => {
  test.skip(!splitBuild, 'the site was built without --split (run scripts/build-release.sh)');
  const wasm: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) wasm.push(path);
  });
  await signInPage.goto();
  await page.waitForLoadState('networkidle');
  // The chunk loader that the main bundle imports is fetched alongside it, not a round trip later.
  await expect(page.locator('head link[rel="modulepreload"][href^="/pkg/__wasm_split."]')).toHaveCount(1);
  expect(wasm).toEqual([expect.stringMatching(/^\/pkg\/clavis\.[\w-]+\.wasm$/)]);

  await signInPage.signInAs(ADMIN);
  expect(wasm.some((p) => p.includes('split___overview_route_view'))).toBe(true);
  expect(wasm.some((p) => p.includes('split___audit_route_view'))).toBe(false);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  expect(wasm.some((p) => p.includes('split___audit_route_view'))).toBe(true);
});
