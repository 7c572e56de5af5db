import { test, expect, ADMIN } from './fixtures/console';

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
