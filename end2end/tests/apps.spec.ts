import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, unique, serverDir, ADMIN, open } from './fixtures/console';

// People signing in to apps, in Chromium, JavaScript off and on (the sign-in and consent pages
// carry none either way). A real relying party drives the flow: openid-client (pinned in
// package.json), with no relaxed check except plain http on loopback. The app's redirect URI
// and post-logout URI are answered by the test (page.route), as the app's server would.

const ROOT = join(__dirname, '..', '..');
const CALLBACK = 'https://orders.example/callback';
const GOODBYE = 'https://orders.example/signed-out';


function portOf(baseURL: string): string {
  return new URL(baseURL).port;
}

/** Runs the CLI against the server on `port`'s database, as an operator would. */
function cli(port: string, args: string[], input?: string): string {
  const dir = join('end2end', '.tmp', port);
  return execFileSync(process.env.CLAVIS_BIN ?? 'target/debug/clavis', args, {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: {
      ...process.env,
      // The server's own settings (serve.sh), so the CLI applies the same secret policy.
      CLAVIS_CONFIG: join(dir, 'clavis.toml'),
      CLAVIS_LOG: 'warn',
    },
  });
}

function record(port: string, values: string[]): void {
  appendFileSync(join(serverDir(port), 'plaintexts.txt'), values.map((v) => `${v}\n`).join(''));
}

type App = { id: string; secret?: string };

function newApp(port: string, type: 'confidential-pkce' | 'public-pkce', firstParty = false): App {
  const out = cli(port, [
    'clients', 'create', '--name', unique(type === 'public-pkce' ? 'Orders SPA' : 'Orders web'),
    '--type', type, '--redirect-uri', CALLBACK, '--post-logout-redirect-uri', GOODBYE,
    ...(firstParty ? ['--first-party'] : []), '--format', 'json',
  ]);
  const made = JSON.parse(out);
  const app: App = { id: made.client_id, secret: made.client_secret ?? undefined };
  if (app.secret) record(port, [app.secret]);
  return app;
}

function newPerson(port: string): { username: string; password: string } {
  const username = unique('dana').toLowerCase();
  const password = `${unique('person password')} long`;
  record(port, [password]);
  cli(port, ['people', 'create', '--username', username, '--display-name', 'Dana Scully',
    '--email', `${username}@example.com`, '--password-stdin'], `${password}\n`);
  return { username, password };
}

/**
 * Answers the app's URIs in the browser from now on; the promise inside resolves with the
 * first URL the browser lands on there.
 */
async function landing(page: Page, prefix: string): Promise<{ url: Promise<URL> }> {
  let arrived: (u: URL) => void = () => {};
  const url = new Promise<URL>((resolve) => { arrived = resolve; });
  await page.route(`${prefix}**`, async (route) => {
    arrived(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Back at the app</h1>' });
  });
  return { url };
}

async function signIn(page: Page, person: { username: string; password: string }) {
  await expect(page.getByRole('heading', { name: 'Sign in', level: 1 })).toBeVisible();
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

for (const kind of ['confidential-pkce', 'public-pkce'] as const) {
  test(`openid-client signs a person in to a ${kind} app, verifies, refreshes and logs out`, async ({ page, baseURL }) => {
    const oidc = await import('openid-client');
    const port = portOf(baseURL!);
    const app = newApp(port, kind);
    const person = newPerson(port);
    const auth = app.secret ? oidc.ClientSecretBasic(app.secret) : oidc.None();
    // The client's defaults: ID tokens signed with RS256, as OpenID Connect expects.
    const config = await oidc.discovery(new URL(baseURL!), app.id, undefined, auth, {
      execute: [oidc.allowInsecureRequests],
    });
    // ID tokens are checked against the JWKS, not only trusted for coming over TLS.
    oidc.enableNonRepudiationChecks(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const back = await landing(page, CALLBACK);
    await page.goto(url.href);
    await expect(page.getByText(/asks you to sign in/)).toBeVisible();
    await expect(page.getByText('See your e-mail address')).toBeVisible();
    await signIn(page, person);
    await expect(page.getByRole('heading', { name: /^Allow Orders/ })).toBeVisible();
    await expect(page.getByText('Dana Scully')).toBeVisible();
    await page.getByRole('button', { name: 'Allow' }).click();
    const callback = await back.url;
    await expect(page.getByRole('heading', { name: 'Back at the app' })).toBeVisible();
    expect(callback.searchParams.get('iss')).toBe(baseURL!.replace(/\/$/, ''));

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    record(port, [tokens.refresh_token!, callback.searchParams.get('code')!]);
    const claims = tokens.claims()!;
    expect(claims.sub).toMatch(/^p_[0-9a-f]{32}$/);
    expect(claims.preferred_username).toBe(person.username);
    expect(claims.email).toBe(`${person.username}@example.com`);

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.name).toBe('Dana Scully');

    // Two refreshes with one token at once (two tabs, or a retry after a lost answer): both get
    // new tokens, within the reuse interval (2 s on the test servers, see serve.sh).
    const [refreshed, twin] = await Promise.all([
      oidc.refreshTokenGrant(config, tokens.refresh_token!),
      oidc.refreshTokenGrant(config, tokens.refresh_token!),
    ]);
    record(port, [refreshed.refresh_token!, twin.refresh_token!]);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(twin.refresh_token).not.toBe(refreshed.refresh_token);
    expect(refreshed.claims()!.sub).toBe(claims.sub);
    // Past the interval, the used refresh token again is theft: refused, and the grant is gone.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(config, twin.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // Logout, with the browser's cookies: back to the registered URI with the state...
    const logout = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: GOODBYE,
      state: 'bye',
    });
    const out = await page.request.get(logout.href, { maxRedirects: 0 });
    expect(out.status()).toBe(303);
    expect(out.headers()['location']).toBe(`${GOODBYE}?state=bye`);
    // ...and the person's session is over: a silent sign-in is refused.
    const silent = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'none',
    });
    const again = await page.request.get(silent.href, { maxRedirects: 0 });
    expect(new URL(again.headers()['location']).searchParams.get('error')).toBe('login_required');
  });
}

test('a wrong password shows its message, and a disabled person cannot sign in', async ({ page, baseURL, signInPage, js }) => {
  const port = portOf(baseURL!);
  const app = newApp(port, 'public-pkce', true);
  const person = newPerson(port);
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
  const authorize = `/oauth2/authorize?response_type=code&client_id=${app.id}&redirect_uri=${encodeURIComponent(CALLBACK)}`
    + `&scope=openid&state=st&code_challenge=${challenge}&code_challenge_method=S256`;
  await page.goto(authorize);
  await signIn(page, { username: person.username, password: 'not the password at all' });
  const password = page.getByLabel('Password');
  await expect(page.getByRole('alert')).toHaveText('The username or the password is wrong.');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Username')).toHaveValue(person.username);
  await expect(password).toHaveValue('');

  // A first-party app: no consent page, straight back with a code.
  const back = await landing(page, CALLBACK);
  await password.fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const callback = await back.url;
    await expect(page.getByRole('heading', { name: 'Back at the app' })).toBeVisible();
  expect(callback.searchParams.get('state')).toBe('st');
  record(port, [callback.searchParams.get('code')!]);

  // An administrator disables the person: the next sign-in fails with the same message.
  await signInPage.signInAs(ADMIN);
  await open(page, `/people`, js);
  const row = page.getByRole('row').filter({ hasText: person.username });
  await row.getByText('Disable…').click();
  await row.getByRole('button', { name: `Disable ${person.username}` }).click();
  await expect(page.getByRole('row').filter({ hasText: person.username })).toContainText('Disabled');
  await page.context().clearCookies();
  await page.goto(authorize);
  await signIn(page, person);
  await expect(page.getByRole('alert')).toHaveText('The username or the password is wrong.');
});
