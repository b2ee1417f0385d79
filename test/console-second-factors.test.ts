/**
 * The console's second factors in real Chromium (issue 22): `Add authenticator app` in the
 * Security section (the QR code drawn in the page, the key read off the page, codes computed
 * here with otpauth), recovery codes shown once and downloaded, the second step of a password
 * sign-in (`Authentication code`, `Verify`, a recovery code in the same field, wrong and expired
 * attempts in words), the session's sign-in method in the sessions table, `Remove` behind a
 * step-up that asks for a code, an admin's `Reset second factors`, and the screen of an account
 * that must add a factor (REQUIRE_SECOND_FACTOR).
 *
 * The server's clock is the test's and stands still: a code is the one for its time, a code is
 * accepted once (the clock moves 30 s to the next one), and moving it past REAUTH_WINDOW (2 s)
 * makes a session's proof old.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import type { Page } from 'playwright-core';
import { waitFor } from './support/async.js';
import { foreignRequests } from './support/browser.js';
import type { TestClient } from './support/client.js';
import { alertText, BOUNDED, ConsoleBrowser, signedInAs, signInAt } from './support/console.js';
import type { ManualClock } from './support/clock.js';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  QUIET_SWEEPER,
  startAppOn,
  startTestServer,
  type TestServer,
} from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

const REAUTH_WINDOW_MS = 2_000;
const TOTP_STEP_MS = 30_000;

let browser: ConsoleBrowser;
let server: TestServer;
let admin: TestClient;
/** The origins the pages of this file were opened on. */
const servedOrigins: string[] = [];

before(async () => {
  [browser, server] = await Promise.all([
    ConsoleBrowser.start(),
    startTestServer({ env: { ...QUIET_SWEEPER, REAUTH_WINDOW: `${REAUTH_WINDOW_MS / 1000}s` } }),
  ]);
  admin = await server.adminClient();
  servedOrigins.push(server.url);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** What an authenticator app holding `secret` shows now, by the server's clock (RFC 6238 defaults). */
const codeFor = (secret: string, target: { clock: ManualClock } = server) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: target.clock.now().getTime() });

/** A code counts once: the next use needs the next 30-second step (and the proofs age past REAUTH_WINDOW). */
const nextCode = () => server.clock.advance(TOTP_STEP_MS);

/** A six-digit code that is not the one of now. */
const wrongCodeFor = (secret: string) => String((Number(codeFor(secret)) + 1) % 1_000_000).padStart(6, '0');

interface AppEnrolled {
  secret: string;
  recoveryCodes: string[];
}

/** Creates `username` with an authenticator app named "Phone", through the API, and signs that session out. */
async function userWithApp(username: string): Promise<AppEnrolled> {
  await createUser(admin, username);
  const { client } = await signIn(server, username);
  const { startTotpEnrollment } = await client.data<{ startTotpEnrollment: { secret: string } }, object>(
    'mutation { startTotpEnrollment { secret } }',
  );
  const { secret } = startTotpEnrollment;
  const { confirmTotpEnrollment } = await client.data<
    { confirmTotpEnrollment: { recoveryCodes: string[] } },
    { code: string }
  >('mutation ($code: String!) { confirmTotpEnrollment(code: $code, name: "Phone") { recoveryCodes } }', {
    code: codeFor(secret),
  });
  await client.data('mutation { logout }');
  nextCode();
  return { secret, recoveryCodes: confirmTotpEnrollment.recoveryCodes };
}

/** Signs in through the form with the password, then the code of now at `Verify`. */
async function signInWithCode(page: Page, username: string, secret: string) {
  await signInAt(page, server, username);
  await page.getByLabel('Authentication code').fill(codeFor(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
  nextCode();
}

const security = (page: Page) => page.getByRole('region', { name: 'Security' });
/** The `Sign-in method` cell of this device's row in `Your sessions`. */
const signInMethod = (page: Page) =>
  page
    .getByRole('region', { name: 'Your sessions' })
    .getByRole('row')
    .filter({ hasText: 'This device' })
    .locator('td')
    .nth(4)
    .textContent();

describe('console: adding an authenticator app', () => {
  it(
    'the QR code is drawn in the page, the key shown as text confirms; recovery codes shown once, downloaded, copied',
    BOUNDED,
    async () => {
      await createUser(admin, 'tara');
      const { page, recorded } = await browser.newPage();
      await signedInAs(page, server, 'tara');
      const section = security(page);
      assert.match((await section.textContent()) ?? '', /Your password alone signs you in/);
      await section.getByRole('button', { name: 'Add authenticator app' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add an authenticator app' });

      // A QR code of a whole otpauth URI: an inline SVG of at least 25 × 25 modules, its dark ones one path.
      const qr = dialog.getByRole('img', { name: /QR code/ });
      assert.equal(await qr.evaluate((element) => element.tagName), 'svg');
      const size = Number((await qr.getAttribute('viewBox'))?.split(' ')[2]);
      assert.ok(size >= 25 + 8, `viewBox ${size}`);
      assert.ok(((await qr.locator('path').getAttribute('d')) ?? '').length > 1_000);

      const secret = ((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
      assert.match(secret, /^[A-Z2-7]{16,}$/);
      await dialog.getByLabel('Authentication code').fill(wrongCodeFor(secret));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      assert.match((await dialog.getByRole('alert').textContent()) ?? '', /^That code is not right\./);
      await dialog.getByLabel('Authentication code').fill(codeFor(secret));
      await dialog.getByLabel('Name').fill('Work phone');
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.waitFor({ state: 'detached' });

      const codes = section.getByRole('region', { name: 'Recovery codes' });
      const shown = (await codes.getByRole('listitem').allTextContents()).map((code) => code.trim());
      assert.equal(shown.length, 10);
      assert.equal(new Set(shown).size, 10);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        codes.getByRole('button', { name: 'Download' }).click(),
      ]);
      assert.match(download.suggestedFilename(), /^gatehouse-recovery-codes-tara-.+\.txt$/);
      const file = await readFile((await download.path()) ?? '', 'utf8');
      assert.deepEqual(file.trim().split('\n').slice(2), shown);
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await codes.getByRole('button', { name: 'Copy' }).click();
      await codes.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
      assert.deepEqual((await page.evaluate(() => navigator.clipboard.readText())).split('\n'), shown);
      await codes.getByRole('button', { name: 'Done' }).click();
      await codes.waitFor({ state: 'detached' });

      const row = section.getByRole('row').filter({ hasText: 'Work phone' });
      // Added, and used once already: the code that confirmed it. (The server's clock stands still, the page's runs.)
      const [name, kind, added, lastUsed, action] = await row.locator('th, td').allTextContents();
      assert.deepEqual([name, kind, action], ['Work phone', 'Authenticator app', 'Remove']);
      for (const time of [added, lastUsed]) assert.match(time ?? '', /^(just now|\d+ sec\.? ago)$/);
      // The secret went to the page over GraphQL, and nowhere else: no image service, no other origin.
      assert.deepEqual(foreignRequests(recorded.requests, server.url), []);
      assert.ok(recorded.requests.every((url) => !url.includes(secret)));
      assert.deepEqual(recorded.problems, []);

      // Recovery codes are shown once: a reload has none, and regenerating shows new ones.
      await page.reload();
      await section.getByRole('row').filter({ hasText: 'Work phone' }).waitFor();
      assert.equal(await section.getByRole('region', { name: 'Recovery codes' }).count(), 0);
      await section.getByRole('button', { name: 'Regenerate recovery codes' }).click();
      await page
        .getByRole('dialog', { name: 'Make new recovery codes?' })
        .getByRole('button', { name: 'Yes, make new codes' })
        .click();
      const renewed = (await codes.getByRole('listitem').allTextContents()).map((code) => code.trim());
      assert.equal(renewed.length, 10);
      assert.ok(renewed.every((code) => !shown.includes(code)));
    },
  );
});

describe('console: the second step of a password sign-in', () => {
  it('asks for the Authentication code; a wrong one is refused in words, the right one signs in', BOUNDED, async () => {
    const { secret } = await userWithApp('uma');
    const { page } = await browser.newPage();
    await signInAt(page, server, 'uma');
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await code.fill(wrongCodeFor(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
    assert.equal(
      await alertText(page),
      'That code is not right. Enter the code your authenticator app shows now, or a recovery code.',
    );
    // Spaces as an app groups the digits are fine.
    await code.fill(codeFor(secret).replace(/^(\d{3})/, '$1 '));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    assert.equal(await signInMethod(page), 'Password and authenticator app');
  });

  it('too many wrong codes: the wait, in words', BOUNDED, async () => {
    const { secret } = await userWithApp('ursula');
    const { page } = await browser.newPage();
    await signInAt(page, server, 'ursula');
    const alert = page.getByRole('alert');
    let words = '';
    for (let attempt = 1; attempt <= 10 && !words.startsWith('Too many'); attempt++) {
      await page.getByLabel('Authentication code').fill(wrongCodeFor(secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      // Disabled while the code is checked: enabled again, the alert is this attempt's.
      await page.getByRole('button', { name: 'Verify' }).and(page.locator(':enabled')).waitFor();
      words = (await alert.textContent()) ?? '';
    }
    assert.match(words, /^Too many wrong codes\. Try again in \d+ (seconds?|minutes?)\.$/);
  });

  it('a recovery code works at Verify, once', BOUNDED, async () => {
    const { recoveryCodes } = await userWithApp('vera');
    const { page } = await browser.newPage();
    await signInAt(page, server, 'vera');
    await page.getByLabel('Authentication code').fill(recoveryCodes[0] ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    assert.equal(await signInMethod(page), 'Password and recovery code');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signInAt(page, server, 'vera');
    await page.getByLabel('Authentication code').fill(recoveryCodes[0] ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'not right' }).waitFor();
  });

  it(
    'a reload keeps the second step; Cancel signs the pending login out; one left waiting too long goes back to the form, saying so',
    BOUNDED,
    async () => {
      const { secret } = await userWithApp('walt');
      const { page } = await browser.newPage();
      await signInAt(page, server, 'walt');
      await page.getByLabel('Authentication code').waitFor();
      await page.reload();
      await page.getByText('Your password for walt was right.').waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('alert').filter({ hasText: 'Sign-in cancelled.' }).waitFor();
      assert.deepEqual(await page.context().cookies(), []);

      await signInAt(page, server, 'walt');
      await page.getByLabel('Authentication code').waitFor();
      server.clock.advance(6 * 60_000);
      await page.getByLabel('Authentication code').fill(codeFor(secret));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'too long' }).waitFor();
      assert.equal(
        await alertText(page),
        'The sign-in waited too long for its second step, so it was cancelled. Sign in again.',
      );
      await page.getByLabel('Username').waitFor();
    },
  );
});

describe('console: removing a factor and resetting them', () => {
  it('Remove asks first, then for the password and a code (step-up), and the factor is gone', BOUNDED, async () => {
    const { secret } = await userWithApp('xena');
    const { page } = await browser.newPage();
    await signInWithCode(page, 'xena', secret);
    const row = security(page).getByRole('row').filter({ hasText: 'Phone' });
    await row.waitFor();
    server.clock.advance(REAUTH_WINDOW_MS + 1_000);

    await row.getByRole('button', { name: 'Remove' }).click();
    await page
      .getByRole('dialog', { name: 'Remove Phone?' })
      .getByRole('button', { name: 'Yes, remove Phone' })
      .click();
    const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
    await prompt.getByLabel('Password').fill(passwordOf('xena'));
    await prompt.getByLabel('Authentication code').fill(codeFor(secret));
    await prompt.getByRole('button', { name: 'Confirm' }).click();
    await prompt.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    assert.match((await security(page).textContent()) ?? '', /Your password alone signs you in/);

    // Without a factor, the password alone signs in again.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signedInAs(page, server, 'xena');
  });

  it(
    'an admin’s Reset second factors signs the user’s open page out with why; the password alone then signs in',
    BOUNDED,
    async () => {
      const { secret } = await userWithApp('yuri');
      const { page: yuri } = await browser.newPage();
      await signInWithCode(yuri, 'yuri', secret);
      const page = await browser.signedInPage(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      await page.getByLabel('Filter by username').fill('yuri');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      const row = page
        .getByRole('region', { name: 'Users', exact: true })
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: 'yuri', exact: true }) });
      await waitFor('yuri’s row', async () =>
        /^yuriUserCan sign in1Authenticator app/.test((await row.textContent()) ?? ''),
      );

      await row.getByRole('button', { name: 'Reset second factors' }).click();
      await page
        .getByRole('dialog', { name: 'Reset yuri’s second factors?' })
        .getByRole('button', { name: 'Yes, reset yuri’s second factors' })
        .click();
      await yuri.getByRole('alert').filter({ hasText: 'Signed out' }).waitFor();
      assert.equal(await alertText(yuri), 'Signed out: an administrator reset your second factors.');
      await waitFor('the row to say none', async () =>
        /^yuriUserCan sign in0None/.test((await row.textContent()) ?? ''),
      );
      await signedInAs(yuri, server, 'yuri');
    },
  );
});

describe('console: an account that must have a second factor (REQUIRE_SECOND_FACTOR=all)', () => {
  it('signs in to a screen that offers only adding one; once added, the console', BOUNDED, async () => {
    // The user is made before the rule holds: with it, the admin too could only enroll.
    const setup = await startTestServer({ env: QUIET_SWEEPER });
    await createUser(await setup.adminClient(), 'zoe');
    await setup.stopApp();
    const strict = await startAppOn(setup.database, setup.clock, { ...QUIET_SWEEPER, REQUIRE_SECOND_FACTOR: 'all' });
    servedOrigins.push(strict.url);
    try {
      const { page } = await browser.newPage();
      await signInAt(page, strict, 'zoe');
      await page.getByRole('heading', { name: 'Add a second factor' }).waitFor();
      assert.match((await alertText(page)) ?? '', /must have a second factor/);
      assert.equal(await page.getByRole('heading', { name: 'Your sessions' }).count(), 0);
      await page.getByRole('button', { name: 'Add authenticator app' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add an authenticator app' });
      const secret = ((await dialog.locator('code.secret').textContent()) ?? '').replace(/\s/g, '');
      await dialog.getByLabel('Authentication code').fill(codeFor(secret, setup));
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      const codes = page.getByRole('region', { name: 'Recovery codes' });
      await codes.waitFor();
      assert.equal(await codes.getByRole('listitem').count(), 10);
      await codes.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
      await security(page).getByRole('row').filter({ hasText: 'Authenticator app' }).waitFor();
      assert.equal(await signInMethod(page), 'Password and authenticator app');
    } finally {
      await strict.app.stop();
      await setup.stop();
    }
  });
});

describe('console: second factors, overall', () => {
  it('no request left the server’s origin; no policy violation or page error', () => {
    const foreign = servedOrigins.reduce((left, origin) => foreignRequests(left, origin), browser.requests);
    assert.deepEqual(foreign, []);
    assert.deepEqual(
      browser.problems.filter((problem) => /Content Security Policy|page error/.test(problem)),
      [],
    );
  });
});
