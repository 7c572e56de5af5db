import { test, expect, ADMIN, open } from './fixtures/console';

test('the audit log shows sign-ins and can be filtered', async ({ page, signInPage, js }) => {
  await signInPage.goto();
  await signInPage.signIn(ADMIN.username, 'a wrong password for the log');
  await expect(signInPage.error()).toBeVisible();
  await signInPage.signInAs(ADMIN);

  await open(page, '/audit', js);
  const table = page.getByRole('table', { name: 'Audit events, newest first' });
  await expect(table.getByRole('row').filter({ hasText: 'auth.sign_in_failed' }).first()).toContainText('admin');
  await expect(table.getByRole('row').filter({ hasText: /auth\.sign_in\b(?!_)/ }).first()).toContainText('admin');

  await page.getByLabel('Action').selectOption('auth.sign_in_failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/action=auth\.sign_in_failed/);
  const rows = table.getByRole('row');
  await expect(rows.nth(1)).toContainText('auth.sign_in_failed');
  await expect(table.getByText('auth.sign_in', { exact: true })).toHaveCount(0);

  // A filter that matches nothing says so.
  await page.getByLabel('Actor').fill('no-such-actor');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page.getByText('No events match these filters.')).toBeVisible();
});
