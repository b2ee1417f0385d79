/**
 * What issue 21 found missing in the console, in real Chromium: relative times that tick, the
 * sign-in that a browser refused the cookie of (plain HTTP with a Secure cookie) said as such,
 * the audit log's Who / Whom / From columns and its filters, webhooks managed end to end
 * against a real receiver, confirmations before Disable and End all sessions, and a way back
 * from GraphiQL. One Chromium for the file; one context (cookie jar) per person.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
  DisableUserDocument,
  LogoutDocument,
  SessionsByUserDocument,
  UsersDocument,
  WebhooksDocument,
} from './generated/graphql.js';
import { kickAsOperator } from './support/app.js';
import { waitFor } from './support/async.js';
import { foreignRequests } from './support/browser.js';
import type { TestClient } from './support/client.js';
import { BOUNDED, ConsoleBrowser, signedInAs, signInAt } from './support/console.js';
import { Receiver } from './support/receiver.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';
import { verified } from './support/webhooks.js';

/** A name Chromium resolves to 127.0.0.1 (test/support/browser.ts) but, unlike it, no secure context. */
const PLAIN_HTTP_HOST = 'gatehouse.test';

/** A delivery's whole schedule in half a second (as in webhooks.test.ts). */
const FAST_RETRIES = { WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms', WEBHOOK_TIMEOUT: '3s' };

let browser: ConsoleBrowser;
let server: TestServer;
let admin: TestClient;
/** The origins the pages of this file were opened on. */
const servedOrigins: string[] = [];

before(async () => {
  [browser, server] = await Promise.all([
    ConsoleBrowser.start(),
    startTestServer({ env: { ...QUIET_SWEEPER, ...FAST_RETRIES } }),
  ]);
  admin = await server.adminClient();
  servedOrigins.push(server.url);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const adminPage = () => browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);

/** The cells of a table row as text, in order. */
const cellsOf = (row: Locator) => row.locator('th, td').allTextContents();

describe('console: relative times tick', () => {
  it(
    'a session 20 s old reads "20 sec. ago", 100 s old "2 min. ago", an hour more "1 hr. ago", without a reload',
    BOUNDED,
    async (t) => {
      await createUser(admin, 'tina');
      const { page } = await browser.newPage();
      // The page's clock starts where the server's (the test's) stands.
      await page.clock.install({ time: server.clock.now() });
      await signedInAs(page, server, 'tina');
      const signedInAt = page
        .getByRole('region', { name: 'Your sessions' })
        .getByRole('row')
        .filter({ hasText: 'This device' })
        .locator('time')
        .first();
      const createdAt = Date.parse((await signedInAt.getAttribute('datetime')) ?? '');
      const reads = (words: RegExp) => async () => words.test((await signedInAt.textContent()) ?? '');
      // From here the page’s time moves only as the test says, its timers firing as they fall due.
      await page.clock.pauseAt(createdAt + 20_000);
      await waitFor('20 seconds', reads(/^20 sec\.? ago$/));
      await page.clock.runFor(80_000);
      await waitFor('two minutes', reads(/^2 min\.? ago$/));
      // One shared clock that wakes when words change: about one timer a minute here, where a
      // ticker every second would fire 3,600 times.
      await page.evaluate(`(() => {
        window.timersFired = 0;
        for (const name of ['setTimeout', 'setInterval']) {
          const original = window[name];
          window[name] = (callback, ...rest) => original(() => (window.timersFired++, callback()), ...rest);
        }
      })()`);
      await page.clock.runFor(60 * 60_000);
      await waitFor('an hour', reads(/^1 hr\.? ago$/));
      const fired = await page.evaluate('window.timersFired');
      t.diagnostic(`timers fired in the page's hour: ${String(fired)}`);
      assert.ok(typeof fired === 'number' && fired < 300, `${String(fired)} timers in an hour`);
    },
  );
});

describe('console: a session cookie the browser refused', () => {
  let production: TestServer;
  before(async () => {
    production = await startTestServer({ env: { ...QUIET_SWEEPER, NODE_ENV: 'production' } });
    servedOrigins.push(production.url, production.url.replace('127.0.0.1', PLAIN_HTTP_HOST));
  });
  after(() => production?.stop());

  it(
    'over plain HTTP with a Secure cookie: the alert says the cookie was refused and that HTTPS is needed',
    BOUNDED,
    async () => {
      const { page, recorded } = await browser.newPage();
      const url = production.url.replace('127.0.0.1', PLAIN_HTTP_HOST);
      await signInAt(page, { ...production, url }, ADMIN_USERNAME, ADMIN_PASSWORD);
      const alert = page.getByRole('alert').filter({ hasText: 'refused the session cookie' });
      await alert.waitFor();
      assert.equal(
        await alert.textContent(),
        'Your browser refused the session cookie, so you are not signed in. This page reached Gatehouse over plain ' +
          'HTTP, and Gatehouse marks its cookie Secure (COOKIE_SECURE, on in production), which browsers keep only ' +
          'over HTTPS. Open the console at its https:// address.',
      );
      // The form stays, and nothing says the session ended.
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      assert.equal(await page.getByText('Signed out').count(), 0);
      assert.deepEqual(await page.context().cookies(), []);
      assert.deepEqual(
        recorded.problems.filter((problem) => /Content Security Policy|page error/.test(problem)),
        [],
      );
    },
  );

  it('the same server on 127.0.0.1, which Chromium trusts with Secure cookies: signed in', BOUNDED, async () => {
    const { page } = await browser.newPage();
    await signedInAs(page, production, ADMIN_USERNAME, ADMIN_PASSWORD);
    assert.equal(await page.getByRole('alert').count(), 0);
  });
});

describe('console: the audit log says who, to whom, from where, and filters', () => {
  let page: Page;
  let audit: Locator;

  before(async () => {
    await createUser(admin, 'olga');
    await createUser(admin, 'pavel');
    await server.client().request('mutation { login(username: "olga", password: "not-olgas") { user { id } } }');
    const olga = await signIn(server, 'olga', undefined, {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    });
    await kickAsOperator(server, olga.session.id);
    const pavel = await signIn(server, 'pavel');
    await admin.data(DisableUserDocument, { userId: pavel.user.id });
    page = await adminPage();
    audit = page.getByRole('region', { name: 'Audit log' });
  });

  it(
    'columns When, Event, Who, Whom, From: an admin, themself, someone signing in, the command line',
    BOUNDED,
    async () => {
      assert.deepEqual(await audit.getByRole('columnheader').allTextContents(), [
        'When',
        'Event',
        'Who',
        'Whom',
        'From',
      ]);
      const row = (event: string, whom: string) =>
        audit
          .getByRole('row')
          .filter({ hasText: event })
          .filter({ has: page.getByRole('cell', { name: whom, exact: true }) })
          .first();
      await row('User disabled', 'pavel').waitFor();
      assert.deepEqual((await cellsOf(row('User disabled', 'pavel'))).slice(1), [
        'User disabled',
        'admin',
        'pavel',
        '127.0.0.1 · node',
      ]);
      assert.deepEqual((await cellsOf(row('Failed sign-in', 'olga'))).slice(1, 4), [
        'Failed sign-in',
        'someone signing in',
        'olga',
      ]);
      assert.deepEqual((await cellsOf(row('Signed in', 'olga'))).slice(1), [
        'Signed in',
        'themself',
        'olga',
        '127.0.0.1 · Firefox on Linux',
      ]);
      assert.deepEqual((await cellsOf(row('Session ended', 'olga'))).slice(1), [
        'Session endedEnded by hand',
        'command line',
        'olga',
        'the server',
      ]);
    },
  );

  it(
    'filters by user (as whom, as who) and by event type; a name that matches no one is said in words',
    BOUNDED,
    async () => {
      const filters = page.getByRole('search', { name: 'Audit log filters' });
      const rows = audit.getByRole('row').filter({ has: page.getByRole('cell') });
      await filters.getByLabel('User', { exact: true }).fill('pavel');
      await filters.getByLabel('Event type').selectOption({ label: 'User disabled' });
      await filters.getByRole('button', { name: 'Show events' }).click();
      await page.getByText('1 “User disabled” event concerning pavel, newest first').waitFor();
      await waitFor('one row', async () => (await rows.count()) === 1);
      assert.deepEqual((await cellsOf(rows.first())).slice(1, 4), ['User disabled', 'admin', 'pavel']);

      await filters.getByLabel('User', { exact: true }).fill('admin');
      await filters.getByLabel('Match the user as').selectOption('who');
      await filters.getByLabel('Event type').selectOption({ label: 'All events' });
      await filters.getByRole('button', { name: 'Show events' }).click();
      await page.getByText(/^\d+ events by admin, newest first$/).waitFor();
      const whoColumn = () => rows.evaluateAll((found) => found.map((row) => row.children[2]?.textContent));
      await waitFor('only what admin did', async () => {
        const who = await whoColumn();
        return who.length >= 3 && who.every((name) => name === 'admin' || name === 'themself');
      });

      await filters.getByLabel('User', { exact: true }).fill('nobody');
      await filters.getByRole('button', { name: 'Show events' }).click();
      assert.equal(await filters.getByRole('alert').textContent(), 'No user’s name contains “nobody”.');
    },
  );
});

describe('console: webhooks, end to end with a real receiver', () => {
  let receiver: Receiver;
  before(async () => {
    receiver = await Receiver.start();
  });
  after(() => receiver?.close());

  it(
    'creates one (secret shown once), shows a failed delivery, retries it, rotates the secret, disables, deletes',
    BOUNDED,
    async () => {
      const page = await adminPage();
      const section = page.getByRole('region', { name: 'Webhooks', exact: true });
      await section.getByLabel('Webhook URL').fill(receiver.url);
      await section.getByRole('checkbox', { name: 'Session started' }).check();
      await section.getByRole('checkbox', { name: 'Session ended' }).check();
      await section.getByLabel('Description').fill('the test receiver');
      await section.getByRole('button', { name: 'Create webhook' }).click();
      const created = page.getByRole('dialog', { name: 'Webhook created' });
      const secret = await created.getByLabel('Signing secret').inputValue();
      assert.match(secret, /^whsec_/);
      await created.getByRole('button', { name: 'Done' }).click();
      await created.waitFor({ state: 'detached' });

      const row = section.getByRole('row').filter({ has: page.getByRole('rowheader', { name: receiver.url }) });
      assert.deepEqual((await cellsOf(row)).slice(0, 5), [
        receiver.url,
        'Session started, Session ended',
        'Enabled',
        'the test receiver',
        'None yet',
      ]);

      // Every attempt answered 503: the delivery fails after its schedule, and the row says so by itself.
      receiver.answer = () => 503;
      await createUser(admin, 'wendy');
      const wendy = await signIn(server, 'wendy');
      await waitFor(
        'the delivery to fail',
        async () => /1 failed/.test((await row.locator('td').nth(3).textContent()) ?? ''),
        { timeoutMs: 8_000 },
      );
      await row.getByRole('button', { name: 'Deliveries' }).click();
      const deliveries = section.getByRole('region', { name: 'Recent deliveries' });
      const failed = deliveries.getByRole('row').filter({ hasText: 'Failed' });
      const [, event, status, attempts, lastAnswer] = await cellsOf(failed);
      assert.deepEqual([event, status, attempts], ['Session started', 'Failed', '4']);
      assert.match(lastAnswer ?? '', /^HTTP 503\b/);

      // Retried with the receiver back: delivered, signed with the secret the dialog showed.
      receiver.answer = () => 200;
      const before = receiver.requests.length;
      await failed.getByRole('button', { name: 'Retry' }).click();
      await deliveries.getByRole('row').filter({ hasText: 'Delivered' }).waitFor();
      const [retried] = (await receiver.waitForRequests(before + 1)).slice(before);
      assert.ok(retried);
      assert.equal(verified(secret, retried).type, 'session.started');

      await row.getByRole('button', { name: 'Rotate secret' }).click();
      await page
        .getByRole('dialog', { name: 'Rotate this webhook’s secret?' })
        .getByRole('button', { name: 'Yes, rotate the secret' })
        .click();
      const rotated = page.getByRole('dialog', { name: 'New webhook secret' });
      const newSecret = await rotated.getByLabel('Signing secret').inputValue();
      assert.match(newSecret, /^whsec_/);
      assert.notEqual(newSecret, secret);
      await rotated.getByRole('button', { name: 'Done' }).click();
      const sent = receiver.requests.length;
      await wendy.client.request(LogoutDocument);
      const [ended] = (await receiver.waitForRequests(sent + 1)).slice(sent);
      assert.ok(ended);
      assert.equal(verified(newSecret, ended).type, 'session.ended');
      assert.throws(() => verified(secret, ended), 'the old secret no longer signs');

      await row.getByRole('button', { name: 'Disable' }).click();
      const disable = page.getByRole('dialog', { name: 'Disable this webhook?' });
      await disable.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await cellsOf(row))[2], 'Enabled');
      await row.getByRole('button', { name: 'Disable' }).click();
      await disable.getByRole('button', { name: 'Yes, disable the webhook' }).click();
      await row.getByRole('button', { name: 'Enable' }).waitFor();
      assert.equal((await cellsOf(row))[2], 'Disabled');
      await row.getByRole('button', { name: 'Enable' }).click();
      await row.getByRole('button', { name: 'Disable' }).waitFor();

      await row.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Delete this webhook?' })
        .getByRole('button', { name: 'Yes, delete the webhook' })
        .click();
      await row.waitFor({ state: 'detached' });
      assert.deepEqual((await admin.data(WebhooksDocument)).webhooks, []);
    },
  );

  it('a URL the server refuses is said in words, and nothing is created', BOUNDED, async () => {
    const page = await adminPage();
    const section = page.getByRole('region', { name: 'Webhooks', exact: true });
    await section.getByLabel('Webhook URL').fill('ftp://example.com/hook');
    await section.getByRole('checkbox', { name: 'Session ended' }).check();
    await section.getByRole('button', { name: 'Create webhook' }).click();
    assert.equal(await section.getByRole('alert').textContent(), 'url must use http or https');
    assert.deepEqual((await admin.data(WebhooksDocument)).webhooks, []);
  });
});

describe('console: destructive admin buttons ask first', () => {
  const userRow = (page: Page, username: string) =>
    page
      .getByRole('region', { name: 'Users', exact: true })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: username, exact: true }) });

  async function userState(username: string) {
    const { users } = await admin.data(UsersDocument, { first: 5, usernameContains: username });
    const user = users.edges.find((edge) => edge.node.username === username)?.node;
    assert.ok(user);
    const { sessionsByUser } = await admin.data(SessionsByUserDocument, { userId: user.id });
    return { disabled: user.disabled, sessions: sessionsByUser.length };
  }

  it('Disable: a dialog; Cancel changes nothing; Yes disables', BOUNDED, async () => {
    await createUser(admin, 'nora');
    await signIn(server, 'nora');
    const page = await adminPage();
    await page.getByLabel('Filter by username').fill('nora');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    const row = userRow(page, 'nora');
    await row.getByRole('button', { name: 'End all sessions' }).click();
    const endAll = page.getByRole('dialog', { name: 'End all of nora’s sessions?' });
    await endAll.getByRole('button', { name: 'Cancel' }).click();
    await endAll.waitFor({ state: 'detached' });
    assert.deepEqual(await userState('nora'), { disabled: false, sessions: 1 });

    await row.getByRole('button', { name: 'Disable', exact: true }).click();
    const disable = page.getByRole('dialog', { name: 'Disable nora?' });
    // Escape reaches the dialog once it has rendered and moved the focus (a press before that was
    // lost once under load), as console-accounts.test.ts waits for it.
    await disable.waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent === 'Cancel', undefined, { timeout: 2_000 });
    await page.keyboard.press('Escape');
    await disable.waitFor({ state: 'detached' });
    assert.deepEqual(await userState('nora'), { disabled: false, sessions: 1 });

    await row.getByRole('button', { name: 'Disable', exact: true }).click();
    await disable.getByRole('button', { name: 'Yes, disable nora' }).click();
    await row.getByRole('button', { name: 'Enable', exact: true }).waitFor();
    assert.deepEqual(await userState('nora'), { disabled: true, sessions: 0 });
  });

  it('End all sessions: a dialog; Yes ends them', BOUNDED, async () => {
    await createUser(admin, 'otto');
    await signIn(server, 'otto');
    await signIn(server, 'otto');
    const page = await adminPage();
    await page.getByLabel('Filter by username').fill('otto');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await userRow(page, 'otto').getByRole('button', { name: 'End all sessions' }).click();
    await page
      .getByRole('dialog', { name: 'End all of otto’s sessions?' })
      .getByRole('button', { name: 'Yes, end otto’s sessions' })
      .click();
    await waitFor('otto’s sessions to end', async () => (await userState('otto')).sessions === 0);
  });
});

describe('console: GraphiQL has a way back', () => {
  it(
    'the console’s GraphiQL link, then “Back to the console”: the console again, still signed in',
    BOUNDED,
    async () => {
      const page = await adminPage();
      await page.getByRole('link', { name: 'GraphiQL' }).click();
      await page.waitForURL(`${server.url}/graphql`);
      const back = page.getByRole('link', { name: 'Back to the console' });
      assert.ok(await back.isVisible());
      await back.click();
      await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/console/');
    },
  );
});

describe('console: issue 21, overall', () => {
  it('no request left the servers’ origins; no policy violation or page error', () => {
    const elsewhere = browser.requests.filter((url) =>
      servedOrigins.every((origin) => foreignRequests([url], origin).length === 1),
    );
    assert.deepEqual(elsewhere, []);
    assert.deepEqual(
      browser.problems.filter((problem) => /Content Security Policy|page error/.test(problem)),
      [],
    );
  });
});
