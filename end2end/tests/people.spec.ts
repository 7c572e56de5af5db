import { test, expect, ADMIN, SUPPORT, unique, open, SignInPage, recordPlaintexts } from './fixtures/console';

// The People page, JavaScript off and on: the directory of people who sign in to apps.

test('an administrator adds a person, disables and enables them, and resets their password', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  await page.getByRole('link', { name: 'People' }).click();
  await expect(page.getByRole('heading', { name: 'People', level: 1 })).toBeVisible();
  const username = unique('ada').toLowerCase();
  const password = `${unique('person password')} long`;
  recordPlaintexts(page, [password]);
  const form = page.getByRole('region', { name: 'Add a person' });

  // A bad e-mail address: the message is next to its field, and nobody is added.
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Display name').fill('Ada Lovelace');
  // The browser's own check of type=email is skipped here: the server's rule is under test.
  await form.getByLabel('E-mail').evaluate((e) => e.setAttribute('type', 'text'));
  await form.getByLabel('E-mail').fill('ada@nowhere');
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Add person' }).click();
  const again = page.getByRole('region', { name: 'Add a person' });
  await expect(again.getByText('Enter an e-mail address such as ada@example.com')).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: username })).toHaveCount(0);
  if (js) {
    await expect(again.getByLabel('Username')).toHaveValue(username);
    await expect(again.getByLabel('Display name')).toHaveValue('Ada Lovelace');
  }

  await again.getByLabel('Username').fill(username);
  await again.getByLabel('Display name').fill('Ada Lovelace');
  await again.getByLabel('E-mail').fill('ada@example.com');
  await again.getByLabel('Password').fill(password);
  await again.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${username} was added.` })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: username });
  await expect(row).toContainText('Ada Lovelace');
  await expect(row).toContainText('ada@example.com');
  await expect(row).toContainText('Active');
  // The password is not kept in the form, nor anywhere on the page.
  await expect(page.getByRole('region', { name: 'Add a person' }).getByLabel('Password')).toHaveValue('');
  expect(await page.content()).not.toContain(password);

  // Disabling asks first.
  await row.getByText('Disable…').click();
  await expect(row.getByText(`Disable ${username}? They can no longer sign in to any app`)).toBeVisible();
  await row.getByRole('button', { name: `Disable ${username}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `${username} is disabled` })).toBeVisible();
  const disabled = page.getByRole('row').filter({ hasText: username });
  await expect(disabled).toContainText('Disabled');
  await disabled.getByRole('button', { name: `Enable ${username}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `${username} is enabled again.` })).toBeVisible();

  // A password that breaks the rules is refused with the rule; a good one is set.
  const reset = () => page.getByRole('row').filter({ hasText: username });
  await reset().getByText('Reset password…').click();
  await reset().getByLabel(`New password for ${username}`).fill('short');
  await reset().getByRole('button', { name: `Set password of ${username}` }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'A password needs at least 12 characters.' })).toBeVisible();
  const newPassword = `${unique('new person password')} long`;
  recordPlaintexts(page, [newPassword]);
  if (!js) await reset().getByText('Reset password…').click();
  await reset().getByLabel(`New password for ${username}`).fill(newPassword);
  await reset().getByRole('button', { name: `Set password of ${username}` }).click();
  await expect(page.getByRole('status').filter({ hasText: `The password of ${username} was reset.` })).toBeVisible();

  // Each change is in the audit log, by username.
  await open(page, '/audit?action=person.password_reset', js);
  await expect(page.getByRole('row').filter({ hasText: username }).first()).toContainText('admin');
});

test('support staff see the directory but cannot change it', async ({ page, signInPage, js, browser }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/people', js);
  const username = unique('grace').toLowerCase();
  const form = page.getByRole('region', { name: 'Add a person' });
  const password = `${unique('person password')} long`;
  recordPlaintexts(page, [password]);
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Display name').fill('Grace Hopper');
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${username} was added.` })).toBeVisible();

  const support = await browser.newPage({ javaScriptEnabled: js });
  await new SignInPage(support, js).signInAs(SUPPORT);
  await open(support, '/people', js);
  await expect(support.getByRole('row').filter({ hasText: username })).toContainText('Grace Hopper');
  await expect(support.getByRole('region', { name: 'Add a person' })).toHaveCount(0);
  await expect(support.getByRole('columnheader', { name: 'Actions' })).toHaveCount(0);
  await expect(support.getByText('Disable…')).toHaveCount(0);
  await expect(support.getByText('Reset password…')).toHaveCount(0);
  await support.close();
});
