import { test, expect, ADMIN, open } from './fixtures/console';

test('an administrator signs in and sees the console', async ({ page, signInPage }) => {
  await signInPage.signInAs(ADMIN);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Clients' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Audit log' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Accounts' })).toBeVisible();
  await expect(page.getByText('Administrator', { exact: true })).toBeVisible();
});

test('a wrong password gets one message that does not say which part was wrong', async ({ page, signInPage }) => {
  await signInPage.goto();
  await signInPage.signIn(ADMIN.username, 'definitely not the password');
  await expect(signInPage.error()).toHaveText('The username or password is incorrect.');
  await expect(page).toHaveURL(/\/login/);
  // An unknown user gets exactly the same words.
  await signInPage.goto();
  await signInPage.signIn('nobody-by-this-name', 'definitely not the password');
  await expect(signInPage.error()).toHaveText('The username or password is incorrect.');
});

test('signing out ends the session', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await open(page, '/clients', js);
  await expect(page).toHaveURL(/\/login$/);
});

test('a signed-out visitor is sent to sign in, and unknown pages say so', async ({ page, js }) => {
  await open(page, '/accounts', js);
  await expect(page).toHaveURL(/\/login$/);
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
