/**
 * The console's Service tokens section in real Chromium: an admin creates a token with a name and
 * scopes (shown once in a dialog, with a copy button), sees it listed with its last use, revokes
 * it after a question (refused by the server at once), and reads the server's refusals in words.
 * A user sees no such section. One Chromium for the file; one context (cookie jar) per person.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { ServiceTokensDocument, SessionStatsDocument } from './generated/graphql.js';
import { errorCode, TestClient, type TestClient as Client } from './support/client.js';
import { BOUNDED, ConsoleBrowser } from './support/console.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';

let browser: ConsoleBrowser;
let server: TestServer;
let admin: Client;

before(async () => {
  [browser, server] = await Promise.all([ConsoleBrowser.start(), startTestServer({ env: QUIET_SWEEPER })]);
  admin = await server.adminClient();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const adminPage = () => browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);
const section = (page: Page) => page.getByRole('region', { name: 'Service tokens', exact: true });
const tokenRow = (page: Page, name: string) =>
  section(page)
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name, exact: true }) });
const cellsOf = (row: Locator) => row.locator('th, td').allTextContents();
const tokenNames = async () => (await admin.data(ServiceTokensDocument, {})).serviceTokens.map((token) => token.name);

async function createToken(page: Page, name: string, scopes: string[]) {
  await section(page).getByLabel('Service name').fill(name);
  for (const scope of scopes) await section(page).getByRole('checkbox', { name: scope }).check();
  await section(page).getByRole('button', { name: 'Create service token' }).click();
}

describe('console: service tokens', () => {
  it(
    'creates one (shown once, with Copy token), lists its last use, revokes it after a question',
    BOUNDED,
    async () => {
      const page = await adminPage();
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Service tokens' }).click();
      await createToken(page, 'billing', ['Verify sessions', 'Read sessions']);
      const created = page.getByRole('dialog', { name: 'Service token created' });
      const token = await created.getByLabel('Service token').inputValue();
      assert.match(token, /^ghs_[A-Za-z0-9_-]{43}$/);
      await created.getByRole('button', { name: 'Copy token' }).click();
      // Over plain HTTP there is no clipboard: the token is selected and the dialog says how to copy it.
      await created
        .getByRole('status')
        .filter({ hasText: /^(Copied\.|Selected: copy it with Ctrl\+C)/ })
        .waitFor();
      await created.getByRole('button', { name: 'Done' }).click();
      await created.waitFor({ state: 'detached' });

      const row = tokenRow(page, 'billing');
      const [name, scopes, , createdBy, lastUsed] = await cellsOf(row);
      assert.deepEqual(
        [name, scopes, createdBy, lastUsed],
        ['billing', 'Verify sessions, Read sessions', ADMIN_USERNAME, 'Never'],
      );

      const service = new TestClient(server.url, { authorization: `Bearer ${token}` });
      await service.data(SessionStatsDocument);
      await page.reload();
      // Waits for the reloaded row: its last use is a time now, where it said Never.
      const lastUse = tokenRow(page, 'billing').locator('th, td').nth(4).locator('time');
      await lastUse.waitFor();
      const usedAt = (await lastUse.getAttribute('datetime')) ?? '';
      assert.ok(Number.isFinite(Date.parse(usedAt)), `its last use, once used, is a date: ${usedAt}`);

      await tokenRow(page, 'billing').getByRole('button', { name: 'Revoke' }).click();
      const question = page.getByRole('dialog', { name: 'Revoke this service token?' });
      await question.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(errorCode(await service.request(SessionStatsDocument)), undefined, 'Cancel revokes nothing');
      await tokenRow(page, 'billing').getByRole('button', { name: 'Revoke' }).click();
      await question.getByRole('button', { name: 'Yes, revoke the token' }).click();
      await tokenRow(page, 'billing').waitFor({ state: 'detached' });
      assert.equal(errorCode(await service.request(SessionStatsDocument)), 'UNAUTHENTICATED');
      assert.deepEqual(await tokenNames(), []);
    },
  );

  it("says the server's refusals in words, and creates nothing", BOUNDED, async () => {
    const page = await adminPage();
    await createToken(page, 'no scopes', []);
    assert.equal(await section(page).getByRole('alert').textContent(), 'scopes must name at least one scope');
    await section(page).getByRole('checkbox', { name: 'Read sessions' }).check();
    await section(page).getByLabel('Service name').fill('reports');
    await section(page).getByRole('button', { name: 'Create service token' }).click();
    await page.getByRole('dialog', { name: 'Service token created' }).getByRole('button', { name: 'Done' }).click();
    await createToken(page, 'reports', ['Read sessions']);
    assert.equal(
      await section(page).getByRole('alert').textContent(),
      'A service token named "reports" already exists',
    );
    assert.deepEqual(await tokenNames(), ['reports']);
  });

  it('a user sees no Service tokens section', BOUNDED, async () => {
    await server.userClient('ursula');
    const page = await browser.signedInPage(server, 'ursula');
    assert.equal(await section(page).count(), 0);
  });
});
