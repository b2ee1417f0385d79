/**
 * `npm run screenshots`: the console as docs/operators.md shows it, at desktop and phone width, into
 * docs/. A test server with a few users and sessions from different devices, a webhook to a
 * receiver on loopback that refuses one delivery, Debian's Chromium (test/support/browser.ts),
 * and the same steps a person takes; one of alice's sessions is bound to its device by a Node
 * DBSC client. Besides the whole admin page, the audit log, the webhooks (with a webhook's
 * deliveries open) and the Security section (just after adding an authenticator app, its
 * recovery codes shown) get pictures of their own.
 */
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import {
  CreateWebhookDocument,
  DisableUserDocument,
  KickSessionDocument,
  UpdateWebhookDocument,
  WebhookDeliveriesDocument,
  type WebhookEventType,
} from '../test/generated/graphql.js';
import { kickAsOperator } from '../test/support/app.js';
import { waitFor } from '../test/support/async.js';
import { signInBound } from '../test/support/bound-sessions.js';
import { startBrowser } from '../test/support/browser.js';
import { Receiver } from '../test/support/receiver.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startTestServer } from '../test/support/server.js';
import { createUser, signIn } from '../test/support/sessions.js';

const DEVICES = {
  firefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  safari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  chrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  curl: 'curl/8.5.0',
};
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

async function signInAs(page: Page, username: string, password: string) {
  await page.goto(`${server.url}/console`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
}

// Retries 100 ms apart: the refused delivery has failed for good before the pictures are taken.
const server = await startTestServer({ env: { SWEEP_INTERVAL: '1h', WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms' } });
const browser = await startBrowser();
const receiver = await Receiver.start();
// The receiver refuses the news of bob's sign-out, every time.
receiver.answer = (_index, request) => (/"session\.ended".*"username":"bob"/.test(request.body) ? 503 : 200);
try {
  // The server's clock is the test's and stands still: each step moves it a second, so the
  // audit log reads in the order things happened.
  const later = () => server.clock.advance(1_000);
  const { client: admin } = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD, { 'user-agent': DEVICES.chrome });
  const webhook = async (url: string, events: WebhookEventType[], description: string) =>
    (await admin.data(CreateWebhookDocument, { url, events, description })).createWebhook.webhook.id;
  const hook = await webhook(receiver.url, ['SESSION_STARTED', 'SESSION_ENDED'], 'Billing service');
  const paused = await webhook('https://audit.example.com/gatehouse', ['USER_CREATED', 'USER_DELETED'], 'Archive');
  await admin.data(UpdateWebhookDocument, { id: paused, enabled: false });
  for (const name of ['alice', 'bob', 'carol']) await createUser(admin, name);
  later();
  // alice's Firefox on Windows bound its session to the device (DBSC): the tables' mark.
  await signInBound(server, 'alice', undefined, { 'user-agent': DEVICES.firefox });
  later();
  await signIn(server, 'alice', undefined, { 'user-agent': DEVICES.safari });
  later();
  await signIn(server, 'bob', undefined, { 'user-agent': DEVICES.edge });
  const bobOnCurl = await signIn(server, 'bob', undefined, { 'user-agent': DEVICES.curl });
  later();
  await kickAsOperator(server, bobOnCurl.session.id);
  later();
  const kicked = await signIn(server, 'carol', undefined, { 'user-agent': DEVICES.curl });
  later();
  await admin.data(KickSessionDocument, { sessionId: kicked.session.id });
  await admin.data(DisableUserDocument, { userId: kicked.user.id });
  later();
  await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD, { 'user-agent': DEVICES.safari });
  later();
  await server.client().request('mutation { login(username: "bob", password: "nope") { user { id } } }');
  await waitFor('the refused delivery to fail', async () => {
    const { webhooks } = await admin.data(WebhookDeliveriesDocument, { first: 50 });
    const deliveries = webhooks.find((candidate) => candidate.id === hook)?.deliveries.edges ?? [];
    return deliveries.some((edge) => edge.node.status === 'FAILED');
  });

  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    for (const [who, password] of [
      [ADMIN_USERNAME, ADMIN_PASSWORD],
      ['alice', 'alice-password'],
    ] as const) {
      const context = await browser.context({ viewport });
      const page = await context.page();
      await signInAs(page, who, password);
      await page.waitForTimeout(800);
      const name = who === ADMIN_USERNAME ? 'admin' : 'sessions';
      await page.screenshot({ path: `docs/console-${name}-${width}.png`, fullPage: who === ADMIN_USERNAME });
      if (who === ADMIN_USERNAME && width === 'desktop') {
        await page
          .getByRole('region', { name: 'Audit log' })
          .first()
          .screenshot({ path: 'docs/console-audit-desktop.png' });
        const webhooks = page.getByRole('region', { name: 'Webhooks', exact: true });
        await webhooks
          .getByRole('row')
          .filter({ has: page.getByRole('rowheader', { name: receiver.url }) })
          .getByRole('button', { name: 'Deliveries' })
          .click();
        await webhooks.getByRole('region', { name: 'Recent deliveries' }).waitFor();
        await webhooks.screenshot({ path: 'docs/console-webhooks-desktop.png' });
      }
      await context.close();
    }
  }

  // bob adds an authenticator app: the code is the one an app holding the key shows at the server's time.
  const context = await browser.context({ viewport: VIEWPORTS.desktop });
  const page = await context.page();
  await signInAs(page, 'bob', 'bob-password');
  await page.getByRole('button', { name: 'Add authenticator app' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add an authenticator app' });
  const secret = Secret.fromBase32(((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, ''));
  await dialog
    .getByLabel('Authentication code')
    .fill(new TOTP({ secret }).generate({ timestamp: server.clock.now().getTime() }));
  await dialog.getByLabel('Name').fill('Phone');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  const security = page.getByRole('region', { name: 'Security' });
  await security.getByRole('region', { name: 'Recovery codes' }).waitFor();
  await security.screenshot({ path: 'docs/console-security-desktop.png' });
  await context.close();
} finally {
  await browser.close();
  await receiver.close();
  await server.stop();
}
