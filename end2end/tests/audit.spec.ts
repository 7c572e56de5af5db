import { test, expect, ADMIN, open } from './fixtures/console';

test('the audit log shows sign-ins and can be filtered', async ({ page, signInPage, js }) => {
  await signInPage.goto();
  await signInPage.signIn(ADMIN.username, 'a wrong password for the log');
  await expect(signInPage.error()).toBeVisible();
  await signInPage.signInAs(ADMIN);

  await open(page, '/audit', js);
  const table = page.getByRole('table', { name: 'Audit events, newest first' });
  // Other tests sign in at the same time, so look at this actor's events only.
  await page.getByLabel('Actor').fill(ADMIN.username);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/actor=admin/);
  const actions = table.getByRole('row').locator('code');
  await expect(table.getByText('auth.sign_in', { exact: true }).first()).toBeVisible();
  await expect(table.getByText('auth.sign_in_failed', { exact: true }).first()).toBeVisible();
  const actors = await table.getByRole('row').locator('td:nth-child(2)').allTextContents();
  expect(actors.length).toBeGreaterThan(0);
  expect(new Set(actors)).toEqual(new Set([ADMIN.username]));

  await page.getByLabel('Action').selectOption('auth.sign_in_failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/action=auth\.sign_in_failed/);
  await expect(actions.first()).toHaveText('auth.sign_in_failed');
  await expect(table.getByText('auth.sign_in', { exact: true })).toHaveCount(0);

  // A filter that matches nothing says so.
  await page.getByLabel('Actor').fill('no-such-actor');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('No events match these filters.')).toBeVisible();
});
