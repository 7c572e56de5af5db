import { test, expect, ADMIN, unique } from './fixtures/console';

// These tests change who is an administrator, so they run one after another.
test.describe.configure({ mode: 'serial' });

test('the last active administrator cannot be disabled or demoted', async ({ page, signInPage, accountsPage }) => {
  await signInPage.signInAs(ADMIN);
  await accountsPage.goto();
  await accountsPage.disable('admin');
  await expect(page.getByRole('alert')).toContainText('admin is the last active administrator');
  await expect(accountsPage.row('admin')).toContainText('Active');
  await accountsPage.changeRole('admin', 'Support');
  await expect(page.getByRole('alert')).toContainText('cannot be demoted');
  await expect(accountsPage.row('admin')).toContainText('Administrator');
});

test('an administrator creates an account, changes its role and disables it', async ({ page, signInPage, accountsPage, browser, js }) => {
  const name = unique('user');
  const password = 'a fresh long password';
  await signInPage.signInAs(ADMIN);
  await accountsPage.goto();

  // Bad input: a short password is refused next to its field, and nothing is created.
  await accountsPage.create(name, 'short', 'support');
  await expect(page.locator('#new-password-error')).toContainText('at least 12 characters');
  await expect(accountsPage.row(name)).toHaveCount(0);

  await accountsPage.create(name, password, 'support');
  await expect(accountsPage.status()).toHaveText(`Account ${name} created.`);
  await expect(accountsPage.row(name)).toContainText('Support');
  // The password typed for the new account does not linger in the form.
  await expect(page.locator('#new-password')).toHaveValue('');

  if (js) {
    // The role change's confirmation takes the focus; Escape closes it, changes nothing, and
    // gives the focus back to its summary.
    const r = accountsPage.row(name);
    await r.getByText('Make Administrator…').click();
    await expect(r.locator('p.confirm-text')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(r.locator('summary', { hasText: 'Make Administrator…' })).toBeFocused();
    await expect(r).toContainText('Support');
  }
  await accountsPage.changeRole(name, 'Administrator');
  await expect(accountsPage.status()).toHaveText(`${name} is now Administrator.`);
  await expect(accountsPage.row(name)).toContainText('Administrator');

  await accountsPage.disable(name);
  await expect(accountsPage.status()).toHaveText(`${name} is now disabled.`);
  await expect(accountsPage.row(name)).toContainText('Disabled');

  // The disabled account cannot sign in, and is told nothing more than a wrong password.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  await p2.goto('/login');
  await p2.getByLabel('Username').fill(name);
  await p2.getByLabel('Password').fill(password);
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await expect(p2.getByRole('alert')).toHaveText('The username or password is incorrect.');
  await other.close();

  await accountsPage.row(name).getByRole('button', { name: `Enable ${name}` }).click();
  await expect(accountsPage.row(name)).toContainText('Active');
});

test('a duplicate username is refused next to the field', async ({ page, signInPage, accountsPage }) => {
  await signInPage.signInAs(ADMIN);
  await accountsPage.goto();
  await accountsPage.create('support', 'some long password', 'support');
  await expect(page.locator('#new-username-error')).toHaveText('An account named support already exists.');
});

test('an administrator resets a password, which ends that account\'s sessions', async ({ page, signInPage, accountsPage, browser, js }) => {
  const name = unique('reset');
  await signInPage.signInAs(ADMIN);
  await accountsPage.goto();
  await accountsPage.create(name, 'the first long password', 'support');
  await expect(accountsPage.row(name)).toBeVisible();

  // The account signs in elsewhere.
  const other = await browser.newContext({ javaScriptEnabled: js });
  const p2 = await other.newPage();
  await p2.goto('/login');
  await p2.getByLabel('Username').fill(name);
  await p2.getByLabel('Password').fill('the first long password');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await expect(p2).toHaveURL(/\/overview$/);

  await accountsPage.resetPassword(name, 'short');
  await expect(page.getByRole('alert')).toContainText('at least 12 characters');
  await accountsPage.resetPassword(name, 'the second long password');
  await expect(accountsPage.status()).toHaveText(`The password of ${name} was reset; their sessions ended.`);

  // Their open session is gone, and only the new password works.
  await p2.goto('/clients');
  await expect(p2).toHaveURL(/\/login$/);
  await p2.getByLabel('Username').fill(name);
  await p2.getByLabel('Password').fill('the second long password');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await expect(p2).toHaveURL(/\/overview$/);
  await other.close();
});
