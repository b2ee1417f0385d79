/**
 * `npm run screenshots`: the console as the README shows it, at desktop and phone width, into
 * docs/. A test server with a few users and sessions from different devices, Debian's
 * Chromium (test/support/browser.ts), and the same steps a person takes.
 */
import { DisableUserDocument, KickSessionDocument } from '../test/generated/graphql.js';
import { startBrowser } from '../test/support/browser.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startTestServer } from '../test/support/server.js';
import { createUser, signIn } from '../test/support/sessions.js';

const DEVICES = {
  firefox: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  safari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  curl: 'curl/8.5.0',
};
const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

const server = await startTestServer({ env: { SWEEP_INTERVAL: '1h' } });
const browser = await startBrowser();
try {
  const admin = await server.adminClient();
  for (const name of ['alice', 'bob', 'carol']) await createUser(admin, name);
  await signIn(server, 'alice', undefined, { 'user-agent': DEVICES.firefox });
  await signIn(server, 'alice', undefined, { 'user-agent': DEVICES.safari });
  await signIn(server, 'bob', undefined, { 'user-agent': DEVICES.edge });
  const kicked = await signIn(server, 'carol', undefined, { 'user-agent': DEVICES.curl });
  await admin.data(KickSessionDocument, { sessionId: kicked.session.id });
  await admin.data(DisableUserDocument, { userId: kicked.user.id });
  await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD, { 'user-agent': DEVICES.safari });
  await server.client().request('mutation { login(username: "bob", password: "nope") { user { id } } }');

  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    for (const [who, password] of [
      [ADMIN_USERNAME, ADMIN_PASSWORD],
      ['alice', 'alice-password'],
    ] as const) {
      const context = await browser.context({ viewport });
      const page = await context.page();
      await page.goto(`${server.url}/console`);
      await page.getByLabel('Username').fill(who);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
      await page.waitForTimeout(800);
      const name = who === ADMIN_USERNAME ? 'admin' : 'sessions';
      await page.screenshot({ path: `docs/console-${name}-${width}.png`, fullPage: who === ADMIN_USERNAME });
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
