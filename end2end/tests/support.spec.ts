import { test, expect, SUPPORT, open } from './fixtures/console';

test('support staff see no administrator controls', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(SUPPORT);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Audit log' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Accounts' })).toHaveCount(0);
  await expect(page.getByText('Support', { exact: true })).toBeVisible();

  await open(page, '/accounts', js);
  await expect(page.getByRole('heading', { name: 'Not available to your role' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create account' })).toHaveCount(0);

  // The audit log is open to support staff.
  await open(page, '/audit', js);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
});
