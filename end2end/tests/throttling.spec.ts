import { test, expect, unique } from './fixtures/console';

test('repeated failures are throttled with a clear message', async ({ page, signInPage }) => {
  // The name need not exist: throttling must look the same either way.
  const name = unique('target');
  for (let i = 0; i < 5; i++) {
    await signInPage.goto();
    await signInPage.signIn(name, `wrong password number ${i}`);
    await expect(signInPage.error()).toHaveText('The username or password is incorrect.');
  }
  await signInPage.goto();
  await signInPage.signIn(name, 'yet another wrong one');
  await expect(signInPage.error()).toContainText(/Too many failed attempts\. Try again in \d+ seconds\./);
  await expect(page).toHaveURL(/\/login/);
});
