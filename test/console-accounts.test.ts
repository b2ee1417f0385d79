/**
 * The console's account and emergency controls in real Chromium (issues 10 and 11): the Users
 * table from the `users` query (keyset pages, the username filter), Disable / Enable, Reset
 * password, Delete and the last admin (Disable, End all sessions and Delete ask first), `End
 * every session`, and the step-up password prompt that any action answered
 * REAUTHENTICATION_REQUIRED opens. The server's clock is the test's:
 * REAUTH_WINDOW is 2 s, and a test makes a session's proof old by moving the clock 3 s.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { SessionsByUserDocument } from './generated/graphql.js';
import { waitFor } from './support/async.js';
import { foreignRequests } from './support/browser.js';
import { alertText, BOUNDED, ConsoleBrowser, signedInAs, signInAt } from './support/console.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, sessionRow, signIn } from './support/sessions.js';

const REAUTH_WINDOW_MS = 2_000;

let browser: ConsoleBrowser;
let server: TestServer;

before(async () => {
  [browser, server] = await Promise.all([
    ConsoleBrowser.start(),
    startTestServer({ env: { ...QUIET_SWEEPER, REAUTH_WINDOW: `${REAUTH_WINDOW_MS / 1000}s` } }),
  ]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const adminPage = () => browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);
const userPage = (username: string) => browser.signedInPage(server, username);

/** Applies `Filter by username` (which narrows both All sessions and Users). */
async function filterBy(page: Page, text: string) {
  await page.getByLabel('Filter by username').fill(text);
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
}

const usersTable = (page: Page) => page.getByRole('region', { name: 'Users', exact: true });
const userRow = (page: Page, username: string) =>
  usersTable(page)
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name: username, exact: true }) });

async function activeSessionCount(username: string, userId: string): Promise<number> {
  const admin = await server.adminClient();
  const { sessionsByUser } = await admin.data(SessionsByUserDocument, { userId });
  return sessionsByUser.length - (username === ADMIN_USERNAME ? 1 : 0);
}

/** Makes every session's password proof older than REAUTH_WINDOW. */
const letProofsAge = () => server.clock.advance(REAUTH_WINDOW_MS + 1_000);

describe('console: the Users table', () => {
  it('lists every account newest first, pages by keyset, and follows the filter', BOUNDED, async () => {
    const admin = await server.adminClient();
    for (let n = 1; n <= 23; n++) {
      await createUser(admin, `pg-${String(n).padStart(2, '0')}`);
      server.clock.advance(10); // newest first is by creation time
    }
    await signIn(server, 'pg-07');
    const page = await adminPage();
    const names = usersTable(page).getByRole('rowheader');
    await filterBy(page, 'pg-');
    assert.equal(
      await alertText(page),
      '23 users’ names contain “pg-” (see Users): type one whole to see its sessions.',
    );
    await waitFor('the filtered users', async () => (await names.first().textContent()) === 'pg-23');
    assert.equal(
      await page.getByText(/whose name contains/).textContent(),
      '23 users whose name contains “pg-”, newest first',
    );
    assert.equal(await names.count(), 20);
    const pager = page.getByRole('navigation', { name: 'Users pages' });
    await pager.getByRole('button', { name: 'Next page' }).click();
    await waitFor('the second page', async () => (await names.count()) === 3);
    assert.deepEqual(await names.allTextContents(), ['pg-03', 'pg-02', 'pg-01']);
    await pager.getByRole('button', { name: 'Previous page' }).click();
    await waitFor('the first page again', async () => (await names.count()) === 20);

    // A name typed whole (any case) picks that user's sessions, and that user alone.
    await filterBy(page, 'PG-07');
    await waitFor('one user', async () => (await names.allTextContents()).join() === 'pg-07');
    await waitFor(
      'pg-07’s sessions',
      async () => (await page.locator('.count').textContent()) === '1 active session of pg-07',
    );
    await filterBy(page, '');
    await waitFor('every user again', async () => (await names.count()) === 20);
    assert.equal(await page.getByText(/whose name contains/).count(), 0);
  });
});

describe('console: disabling, enabling, resetting, deleting', () => {
  it(
    'Disable signs the user’s open page out within 1 s, with why; sign-in then says disabled; Enable lets them in',
    BOUNDED,
    async () => {
      await createUser(await server.adminClient(), 'lena');
      const lena = await userPage('lena');
      const page = await adminPage();
      await filterBy(page, 'lena');
      const row = userRow(page, 'lena');
      assert.match((await row.textContent()) ?? '', /^lenaUserCan sign in1/);

      await row.getByRole('button', { name: 'Disable', exact: true }).click();
      const clickedAt = performance.now();
      await page
        .getByRole('dialog', { name: 'Disable lena?' })
        .getByRole('button', { name: 'Yes, disable lena' })
        .click();
      await lena.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor({ timeout: 1_000 });
      const elapsed = performance.now() - clickedAt;
      assert.ok(elapsed < 1_000, `${elapsed} ms`);
      assert.equal(await alertText(lena), 'Signed out: your account was disabled by an administrator.');
      await row.getByRole('button', { name: 'Enable', exact: true }).waitFor();
      assert.match((await row.textContent()) ?? '', /^lenaUserDisabled0/);

      await signInAt(lena, server, 'lena');
      await lena.getByRole('alert').filter({ hasText: 'disabled' }).waitFor();
      assert.equal(await alertText(lena), 'This account is disabled. Ask an administrator.');

      await row.getByRole('button', { name: 'Enable', exact: true }).click();
      await row.getByRole('button', { name: 'Disable', exact: true }).waitFor();
      await signedInAs(lena, server, 'lena');
    },
  );

  it('Reset password asks for the new one, ends the user’s sessions; the new one signs in', BOUNDED, async () => {
    await createUser(await server.adminClient(), 'mona');
    const mona = await userPage('mona');
    const page = await adminPage();
    await filterBy(page, 'mona');
    await userRow(page, 'mona').getByRole('button', { name: 'Reset password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set mona’s password' });
    await dialog.getByLabel('Password to set').fill('mona-second-password');
    await dialog.getByRole('button', { name: 'Set password' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('status').filter({ hasText: 'Password set; mona’s sessions ended.' }).waitFor();
    await mona.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor();
    assert.equal(await alertText(mona), 'Signed out: the password was changed.');
    await signedInAs(mona, server, 'mona', 'mona-second-password');
  });

  it(
    'the last admin cannot be disabled or deleted (in words); Delete asks first, then removes the user',
    BOUNDED,
    async () => {
      const ninaId = await createUser(await server.adminClient(), 'nina');
      const nina = await userPage('nina');
      const page = await adminPage();
      await filterBy(page, ADMIN_USERNAME);
      const own = userRow(page, ADMIN_USERNAME);
      const lastAdmin = 'This is the last administrator who can sign in: it cannot be disabled or deleted.';
      await own.getByRole('button', { name: 'Disable', exact: true }).click();
      await page
        .getByRole('dialog', { name: 'Disable admin?' })
        .getByRole('button', { name: 'Yes, disable admin' })
        .click();
      await own.getByRole('alert').filter({ hasText: lastAdmin }).waitFor();
      await own.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByRole('dialog', { name: 'Delete admin?' })
        .getByRole('button', { name: 'Yes, delete admin' })
        .click();
      await own.getByRole('alert').filter({ hasText: lastAdmin }).waitFor();

      await filterBy(page, 'nina');
      const row = userRow(page, 'nina');
      await row.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete nina?' });
      // The focus starts on Cancel, so Enter cannot delete by accident; Escape cancels. The
      // dialog moves the focus once it has rendered: waited for, not read at once.
      await confirm.waitFor();
      await page.waitForFunction(() => document.activeElement?.textContent === 'Cancel', undefined, { timeout: 2_000 });
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'detached' });
      assert.equal(await activeSessionCount('nina', ninaId), 1);
      await row.getByRole('button', { name: 'Delete' }).click();
      await confirm.getByRole('button', { name: 'Yes, delete nina' }).click();
      await row.waitFor({ state: 'detached' });
      await nina.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor();
      assert.equal(await alertText(nina), 'Signed out: your account was deleted by an administrator.');
    },
  );
});

describe('console: step-up when the password proof is older than REAUTH_WINDOW', () => {
  it(
    'an admin action opens the prompt; Escape cancels; a wrong password stays; the right one goes through',
    BOUNDED,
    async () => {
      const oscarId = await createUser(await server.adminClient(), 'oscar');
      await signIn(server, 'oscar');
      const page = await adminPage();
      await filterBy(page, 'oscar');
      const row = userRow(page, 'oscar');
      const endAll = row.getByRole('button', { name: 'End all sessions' });
      await endAll.waitFor();
      letProofsAge();

      // Asked first (it cannot be undone), then the password, as the proof is old.
      const confirmEndAll = async () => {
        await endAll.click();
        await page
          .getByRole('dialog', { name: 'End all of oscar’s sessions?' })
          .getByRole('button', { name: 'Yes, end oscar’s sessions' })
          .click();
      };
      await confirmEndAll();
      const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
      await prompt.waitFor();
      await page.waitForFunction(
        () => document.activeElement?.closest('dialog') && document.activeElement.getAttribute('name') === 'password',
      );
      await page.keyboard.press('Escape');
      await prompt.waitFor({ state: 'detached' });
      await row.getByRole('alert').filter({ hasText: 'Confirm your password to do this.' }).waitFor();
      // The focus goes back to the button that asked, once its action is done.
      await page.waitForFunction(() => document.activeElement?.textContent === 'End all sessions');
      assert.equal(await activeSessionCount('oscar', oscarId), 1);

      await confirmEndAll();
      await prompt.getByLabel('Password').fill('not-my-password');
      await prompt.getByRole('button', { name: 'Confirm' }).click();
      assert.equal(await prompt.getByRole('alert').textContent(), 'That is not your password. Try again.');
      await prompt.getByLabel('Password').fill(ADMIN_PASSWORD);
      await prompt.getByRole('button', { name: 'Confirm' }).click();
      await prompt.waitFor({ state: 'detached' });
      await waitFor('oscar’s sessions to end', async () => (await activeSessionCount('oscar', oscarId)) === 0);
    },
  );

  it('a user ending their other sessions is asked too, and it goes through', BOUNDED, async () => {
    await createUser(await server.adminClient(), 'pete');
    const other = await signIn(server, 'pete');
    const page = await userPage('pete');
    await page.getByRole('region', { name: 'Your sessions' }).getByRole('button', { name: 'End session' }).waitFor();
    letProofsAge();
    await page.getByRole('button', { name: 'Sign out other sessions' }).click();
    const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
    await prompt.getByLabel('Password').fill(passwordOf('pete'));
    await prompt.getByRole('button', { name: 'Confirm' }).click();
    await waitFor(
      'the other session to end',
      async () => (await sessionRow(server, other.session.id)).endReason === 'USER_SESSIONS_REVOKED',
    );
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
  });
});

describe('console: End every session', () => {
  it('asks first, then signs every other page out with why; the admin stays and reads the count', BOUNDED, async () => {
    await createUser(await server.adminClient(), 'quinn');
    const quinn = await userPage('quinn');
    await signIn(server, 'quinn');
    const page = await adminPage();
    await page.getByRole('button', { name: 'End every session' }).click();
    const confirm = page.getByRole('dialog', { name: 'End every session?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await quinn.getByRole('heading', { name: 'Your sessions' }).count(), 1);

    await page.getByRole('button', { name: 'End every session' }).click();
    const clickedAt = performance.now();
    await confirm.getByRole('button', { name: 'Yes, end every session' }).click();
    await quinn.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor({ timeout: 2_000 });
    const elapsed = performance.now() - clickedAt;
    assert.ok(elapsed < 2_000, `${elapsed} ms`);
    assert.equal(await alertText(quinn), 'Signed out: an administrator signed everyone out.');
    const outcome = await page.getByRole('status').filter({ hasText: 'ended' }).textContent();
    assert.match(outcome ?? '', /^\d+ sessions ended\. Yours stays signed in\.$/);
    assert.ok(Number(/^\d+/.exec(outcome ?? '')?.[0]) >= 2, outcome ?? '');
    await page.reload();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
  });

  it('its confirmation fits a phone', BOUNDED, async () => {
    const { page } = await browser.newPage({ width: 390, height: 844 });
    await signedInAs(page, server, ADMIN_USERNAME, ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'End every session' }).click();
    const box = await page.getByRole('dialog', { name: 'End every session?' }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, JSON.stringify(box));
    await page.keyboard.press('Escape');
  });
});

describe('console: accounts, overall', () => {
  it('no request left the server’s origin; no policy violation or page error', () => {
    assert.deepEqual(foreignRequests(browser.requests, server.url), []);
    assert.deepEqual(
      browser.problems.filter((problem) => /Content Security Policy|page error/.test(problem)),
      [],
    );
  });
});
