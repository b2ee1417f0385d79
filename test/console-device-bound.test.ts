/**
 * The console and device-bound sessions (DBSC, issue 23) in Debian's Chromium, which has no DBSC
 * itself: sessions are bound through the protocol by a Node client (support/bound-sessions.ts),
 * and a page either shows such a session of its user or is signed in with its two cookies. A
 * bound session carries the mark `Bound` and its time in the last column, `Device binding`, of
 * `Your sessions` and of the admin's `All sessions` (filtered by username too); other rows read
 * `—`, and `This device` still names one row. When a thief's key is used with the session's
 * cookie, the session ends as DEVICE_MISMATCH and the open page says why in words, told live.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { signInBound } from './support/bound-sessions.js';
import type { TestClient } from './support/client.js';
import { alertText, BOUNDED, ConsoleBrowser } from './support/console.js';
import { generateDbscKey } from './support/dbsc-client.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const HEADERS = ['Device', 'IP address', 'Signed in', 'Last seen', 'Sign-in method', 'Device binding'];

let browser: ConsoleBrowser;
let server: TestServer;
let admin: TestClient;

before(async () => {
  [browser, server] = await Promise.all([ConsoleBrowser.start(), startTestServer({ env: QUIET_SWEEPER })]);
  admin = await server.adminClient();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** `username` signed in from Firefox on Windows, that session bound through the protocol. */
const boundFromFirefox = (username: string) =>
  signInBound(server, username, undefined, { 'user-agent': FIREFOX_ON_WINDOWS });

/** The `Device binding` cell of `row`: the last cell before the action. */
const bindingCell = (row: Locator) => row.locator('td').nth(5);

/** The mark and its time, as a person and a screen reader meet them. */
async function assertBound(row: Locator, boundAt: Date): Promise<void> {
  const cell = bindingCell(row);
  assert.match((await cell.textContent()) ?? '', /^Bound (just now|.+ ago)$/);
  const time = cell.locator('time');
  assert.equal(await time.getAttribute('datetime'), boundAt.toISOString());
  assert.match((await time.getAttribute('title')) ?? '', /\d/, 'the exact instant in its tooltip');
}

describe('console: the mark on sessions bound to their device', () => {
  it(
    'Your sessions: the bound session says Bound and when; this device’s row —, found by This device',
    BOUNDED,
    async () => {
      await createUser(admin, 'dora');
      const { boundAt } = await boundFromFirefox('dora');
      const page = await browser.signedInPage(server, 'dora');
      const table = page.getByRole('region', { name: 'Your sessions' }).getByRole('table');
      const boundRow = table.getByRole('row').filter({ hasText: 'Firefox on Windows' });
      await boundRow.waitFor();
      assert.deepEqual(await table.getByRole('columnheader').allTextContents(), [...HEADERS, 'Action']);
      await assertBound(boundRow, boundAt);
      assert.equal(await boundRow.getByRole('button', { name: 'End session' }).count(), 1);

      const thisRow = table.getByRole('row').filter({ hasText: 'This device' });
      assert.equal(await thisRow.count(), 1, 'the mark does not say "this device"');
      assert.equal(await bindingCell(thisRow).textContent(), '—');
      assert.match((await thisRow.textContent()) ?? '', /^Chrome on Linux127\.0\.0\.1.+—This device$/);
      assert.equal(await table.getByRole('cell', { name: /^Bound/ }).count(), 1);
    },
  );

  it(
    'All sessions: the admin sees the mark on the user’s bound session, with and without the filter',
    BOUNDED,
    async () => {
      await createUser(admin, 'otto');
      const { boundAt } = await boundFromFirefox('otto');
      await signIn(server, 'otto');
      const page = await browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const region = page.getByRole('region', { name: 'All sessions' });
      const ottoRows = () => region.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'otto' }) });
      const boundRow = () => ottoRows().filter({ hasText: 'Firefox on Windows' });
      await boundRow().waitFor();
      assert.deepEqual(await region.getByRole('columnheader').allTextContents(), ['User', ...HEADERS, 'Action']);
      await assertBound(boundRow(), boundAt);

      await page.getByLabel('Filter by username').fill('otto');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByText('2 active sessions of otto').waitFor();
      await assertBound(boundRow(), boundAt);
      const unboundRow = ottoRows().filter({ hasNotText: 'Firefox on Windows' });
      assert.equal(await bindingCell(unboundRow).textContent(), '—');
    },
  );
});

describe('console: a page signed in with a bound session’s cookies', () => {
  it(
    'its own row says Bound; a thief’s key with its cookie ends it as DEVICE_MISMATCH: the alert says why',
    BOUNDED,
    async () => {
      await createUser(admin, 'ezra');
      const owner = await signInBound(server, 'ezra');
      const { page, recorded } = await browser.newPage();
      const url = server.url;
      await recorded.context.addCookies([...owner.client.jar].map(([name, value]) => ({ name, value, url })));
      await page.goto(`${server.url}/console`);
      const table = page.getByRole('region', { name: 'Your sessions' }).getByRole('table');
      const thisRow = table.getByRole('row').filter({ hasText: 'This device' });
      await thisRow.waitFor();
      await assertBound(thisRow, owner.boundAt);
      // The page subscribes as soon as it is signed in; give the socket its handshake.
      await page.waitForTimeout(150);

      const thief = owner.client.copyJar();
      thief.key = await generateDbscKey('ES256');
      const mismatch = await thief.refresh();
      assert.deepEqual([mismatch.status, mismatch.body], [200, { continue: false }]);
      await page.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor({ timeout: 2_000 });
      assert.equal(await alertText(page), "Signed out: this session's cookie was used from another device.");
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

      // The audit log names no user for it, but says where the proof came from.
      const adminPage = await browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const ended = adminPage
        .getByRole('region', { name: 'Audit log' })
        .getByRole('row')
        .filter({ hasText: 'Used from another device' })
        .filter({ has: adminPage.getByRole('cell', { name: 'ezra', exact: true }) });
      await ended.waitFor();
      const cells = await ended.locator('th, td').allTextContents();
      assert.deepEqual(cells.slice(1, 4), ['Session endedUsed from another device', 'another device', 'ezra']);
    },
  );
});
