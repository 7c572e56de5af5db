import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Locator, Page } from '@playwright/test';
import { test, expect, ADMIN, SUPPORT, unique, open, hydrated, recordPlaintexts, SignInPage } from './fixtures/console';

// The Webhooks page, JavaScript off and on, delivering to a receiver this test runs on
// 127.0.0.1 (serve.sh allows private networks and retries twice, a second apart). Other spec
// files change clients on the same server meanwhile, so an endpoint that must see only its own
// deliveries takes only webhook.test.

type Received = { id: string; timestamp: string; signatures: string[]; body: string };

/** A receiver that answers every POST with `status` and keeps what it got. */
class Receiver {
  status = 200;
  readonly got: Received[] = [];
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const h: IncomingHttpHeaders = req.headers;
        self!.got.push({
          id: String(h['webhook-id']),
          timestamp: String(h['webhook-timestamp']),
          signatures: String(h['webhook-signature'] ?? '').split(' ').filter(Boolean),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(self!.status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new Receiver(server, `http://127.0.0.1:${port}/hooks/${unique('in')}`);
    return self;
  }

  /** The requests that carried event `type`, in the order they came. */
  of(type: string): Received[] {
    return this.got.filter((r) => JSON.parse(r.body).type === type);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Whether `r` carries a valid signature made with `secret` (`whsec_` + base64), the Standard Webhooks way. */
function signedWith(r: Received, secret: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${r.id}.${r.timestamp}.${r.body}`).digest();
  return r.signatures.some((s) => {
    const [version, value] = s.split(',');
    const got = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** The one-time signing secret: its value, recorded for the leak scan; then "Done". */
async function takeSigningSecret(page: Page, js: boolean): Promise<string> {
  const block = page.getByRole('region', { name: 'Signing secret' });
  await expect(block).toContainText('will not be shown again');
  const field = block.getByRole('textbox', { name: 'Signing secret' });
  await expect(field).toHaveValue(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const secret = await field.inputValue();
  recordPlaintexts(page, [secret]);
  // "Done" is a link on the list page and the no-script page, and a button on the endpoint page.
  await block.getByRole('link', { name: 'Done' }).or(block.getByRole('button', { name: 'Done' })).click();
  await expect(block).toHaveCount(0);
  await hydrated(page, js);
  return secret;
}

async function createEndpoint(page: Page, js: boolean, url: string, description: string, events: string[]) {
  await open(page, '/webhooks', js);
  const form = page.getByRole('region', { name: 'New endpoint' });
  await form.getByLabel('URL', { exact: true }).fill(url);
  await form.getByLabel('Description', { exact: true }).fill(description);
  for (const e of events) {
    await form.getByLabel(e).check();
  }
  await form.getByRole('button', { name: 'Create endpoint' }).click();
  const secret = await takeSigningSecret(page, js);
  // From the list page (JavaScript) or the no-script page, "Done" leads to the endpoint.
  await expect(page).toHaveURL(/\/webhooks\/wh_[0-9a-f]{16}$/);
  await expect(page.getByRole('heading', { name: 'Webhook endpoint', level: 1 })).toBeVisible();
  return { id: page.url().split('/').pop()!, secret };
}

/** The deliveries table's row of the newest delivery of `type`. */
function newest(page: Page, type: string): Locator {
  return page.getByRole('table', { name: 'Deliveries, newest first' }).getByRole('row').filter({ hasText: type }).first();
}

/**
 * Waits until `row` says `state`. With JavaScript the table refreshes itself while a delivery
 * waits; without, the person reloads the page.
 */
async function until(page: Page, js: boolean, row: Locator, state: string): Promise<void> {
  if (js) {
    await expect(row.getByRole('cell').nth(2)).toContainText(state, { timeout: 15_000 });
    return;
  }
  await expect(async () => {
    await page.reload();
    await expect(row.getByRole('cell').nth(2)).toContainText(state, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
}

/** The deliveries table's row of the delivery whose `webhook-id` is `id`. */
function row(page: Page, id: string): Locator {
  return page.getByRole('table', { name: 'Deliveries, newest first' }).getByRole('row').filter({ hasText: id });
}

/**
 * "Send test event" on the endpoint page; waits until the receiver has the new delivery (with
 * JavaScript the click returns before the server has queued it, and the newest row is still
 * the previous delivery) and the table says it was delivered. Returns what the receiver got.
 */
async function sendTestEvent(page: Page, js: boolean): Promise<{ got: Received; row: Locator }> {
  const before = receiver.of('webhook.test').length;
  await page.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'A test event is on its way' })).toBeVisible();
  await hydrated(page, js);
  await expect.poll(() => receiver.of('webhook.test').length, { timeout: 15_000 }).toBe(before + 1);
  const got = receiver.of('webhook.test').at(-1)!;
  const delivered = row(page, got.id);
  await until(page, js, delivered, 'Delivered');
  return { got, row: delivered };
}

let receiver: Receiver;
test.beforeEach(async () => {
  receiver = await Receiver.start();
});
test.afterEach(async () => {
  await receiver.stop();
});

test('an endpoint is registered, its secret shown once, and its deliveries are signed, retried, redelivered and shown', async ({ page, signInPage, js }) => {
  // Four deliveries, one waiting out three attempts a second apart, and a rotation.
  test.setTimeout(90_000);
  await signInPage.signInAs(ADMIN);
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
  const description = unique('Deploy bot');
  const { id, secret } = await createEndpoint(page, js, receiver.url, description, ['webhook.test']);
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText(id);
  await expect(facts).toContainText(description);
  await expect(facts).toContainText('webhook.test');
  await expect(page.locator('body')).not.toContainText(secret);

  // A test event arrives once, signed with the secret, and the table says so with its status.
  const { got: test1, row: first } = await sendTestEvent(page, js);
  await expect(first).toContainText(/HTTP 200 in \d+ ms/);
  expect(receiver.of('webhook.test')).toHaveLength(1);
  expect(signedWith(test1, secret)).toBe(true);
  expect(JSON.parse(test1.body).data.actor).toBe('admin');

  // A receiver that answers 500 gets every attempt of the schedule; the delivery then fails,
  // with each attempt's status, and "Deliver again" brings it once the receiver works.
  receiver.status = 500;
  await page.getByRole('button', { name: 'Send test event' }).click();
  await hydrated(page, js);
  const second = newest(page, 'webhook.test');
  await until(page, js, second, 'Failed');
  await expect(second.getByRole('listitem')).toHaveCount(3);
  await expect(second.getByRole('listitem').first()).toContainText(/HTTP 500 in \d+ ms/);
  const failedId = receiver.of('webhook.test').at(-1)!.id;
  expect(receiver.got.filter((r) => r.id === failedId)).toHaveLength(3);
  await expect(second).toContainText(failedId);

  // Only failed deliveries, through the filter.
  await page.getByLabel('State', { exact: true }).selectOption({ label: 'Failed' });
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await expect(page).toHaveURL(/state=failed/);
  await hydrated(page, js);
  const table = page.getByRole('table', { name: 'Deliveries, newest first' });
  await expect(table.getByRole('row').filter({ hasText: 'Delivered' })).toHaveCount(0);
  await expect(table).toContainText(failedId);

  receiver.status = 200;
  const again = page.getByRole('button', { name: `Deliver ${failedId} again` });
  await again.click();
  // Queued again: no longer failed, so its button goes (from the filtered table, or after the
  // redirect without JavaScript).
  await expect(again).toHaveCount(0);
  await open(page, `/webhooks/${id}`, js);
  await until(page, js, newest(page, 'webhook.test'), 'Delivered');
  const after = receiver.got.filter((r) => r.id === failedId);
  expect(after).toHaveLength(4);
  expect(signedWith(after[3], secret)).toBe(true);

  // A rotation, confirmed first: the new secret once; deliveries carry both signatures until
  // the previous secret is ended.
  await page.getByText('Rotate signing secret…').click();
  await page.getByRole('button', { name: 'Rotate signing secret', exact: true }).click();
  const rotated = await takeSigningSecret(page, js);
  expect(rotated).not.toBe(secret);
  await expect(page).toHaveURL(new RegExp(`/webhooks/${id}`));
  await expect(facts).toContainText('the previous secret signs too until');
  const { got: both } = await sendTestEvent(page, js);
  expect(both.signatures).toHaveLength(2);
  expect(signedWith(both, rotated)).toBe(true);
  expect(signedWith(both, secret)).toBe(true);

  await page.getByText('End previous secret…').click();
  await page.getByRole('button', { name: 'End previous secret now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Only the current signing secret signs' })).toBeVisible();
  await hydrated(page, js);
  const { got: single } = await sendTestEvent(page, js);
  expect(single.id).not.toBe(both.id);
  expect(single.signatures).toHaveLength(1);
  expect(signedWith(single, rotated)).toBe(true);
  expect(signedWith(single, secret)).toBe(false);
  await expect(page.locator('body')).not.toContainText(rotated);
});

test('an endpoint is edited, then deleted after a confirmation', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  const { id } = await createEndpoint(page, js, receiver.url, unique('Chat'), []);
  await expect(page.locator('dl.facts')).toContainText('All events');
  const settings = page.getByRole('region', { name: 'Settings' });
  const renamed = unique('Chat channel');
  await settings.getByLabel('Description', { exact: true }).fill(renamed);
  await settings.getByLabel('secret.expiring').check();
  await settings.getByLabel('Enabled', { exact: true }).uncheck();
  await settings.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await hydrated(page, js);
  await page.reload();
  await hydrated(page, js);
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText(renamed);
  await expect(facts).toContainText('secret.expiring');
  await expect(facts).toContainText('Disabled');

  await open(page, '/webhooks', js);
  const row = page.getByRole('row').filter({ hasText: renamed });
  await expect(row).toContainText('Disabled');
  await row.getByRole('link').first().click();
  await expect(page).toHaveURL(new RegExp(`/webhooks/${id}$`));
  await hydrated(page, js);

  await page.getByText('Delete endpoint…').click();
  await page.getByRole('button', { name: 'Delete endpoint', exact: true }).click();
  await expect(page).toHaveURL(/\/webhooks(\?done=deleted)?$/);
  await hydrated(page, js);
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: renamed })).toHaveCount(0);
  await open(page, `/webhooks/${id}`, js);
  await expect(page.getByRole('alert')).toContainText(/not found|no webhook endpoint/i);
});

test('a link-local or metadata URL is refused next to the field, and nothing is registered', async ({ page, signInPage, js }) => {
  await signInPage.signInAs(ADMIN);
  await open(page, '/webhooks', js);
  const form = page.getByRole('region', { name: 'New endpoint' });
  const description = unique('Metadata');
  await form.getByLabel('URL', { exact: true }).fill('https://169.254.169.254/latest/meta-data');
  await form.getByLabel('Description', { exact: true }).fill(description);
  await form.getByRole('button', { name: 'Create endpoint' }).click();
  await hydrated(page, js);
  const again = page.getByRole('region', { name: 'New endpoint' });
  const url = again.getByLabel('URL', { exact: true });
  await expect(url).toHaveAccessibleDescription(/169\.254\.169\.254 is a (cloud metadata|link-local) address; webhooks never go there\./);
  if (js) {
    // Nothing typed is lost.
    await expect(url).toHaveValue('https://169.254.169.254/latest/meta-data');
    await expect(again.getByLabel('Description', { exact: true })).toHaveValue(description);
  }
  // No endpoint was made.
  await expect(page.getByRole('region', { name: 'Signing secret' })).toHaveCount(0);
  await open(page, '/webhooks', js);
  await expect(page.getByText(description)).toHaveCount(0);
});

test('support staff see endpoints and deliveries, and none of the actions', async ({ page, signInPage, js, browser }) => {
  await signInPage.signInAs(ADMIN);
  const description = unique('Pager');
  const { id } = await createEndpoint(page, js, receiver.url, description, ['webhook.test']);
  await sendTestEvent(page, js);

  const support = await browser.newPage({ javaScriptEnabled: js });
  await new SignInPage(support, js).signInAs(SUPPORT);
  await support.getByRole('link', { name: 'Webhooks' }).click();
  await hydrated(support, js);
  await expect(support.getByRole('row').filter({ hasText: description })).toBeVisible();
  await expect(support.getByRole('region', { name: 'New endpoint' })).toHaveCount(0);
  await open(support, `/webhooks/${id}`, js);
  await expect(support.getByRole('heading', { name: 'Webhook endpoint', level: 1 })).toBeVisible();
  await expect(newest(support, 'webhook.test')).toContainText('Delivered');
  await expect(support.getByRole('button', { name: 'Send test event' })).toHaveCount(0);
  await expect(support.getByText('Rotate signing secret…')).toHaveCount(0);
  await expect(support.getByRole('region', { name: 'Settings' })).toHaveCount(0);
  await expect(support.getByText('Delete endpoint…')).toHaveCount(0);
  await support.close();
});
