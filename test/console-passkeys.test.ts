/**
 * The console's passkeys in real Chromium (issue 22), with Chromium's virtual authenticator over
 * CDP (ctap2, internal, resident keys, user verification that always succeeds): `Add passkey` in
 * the Security section, `Sign in with a passkey` with no username or password typed, a passkey
 * as the second step of a password sign-in, and as the proof of a step-up.
 *
 * WebAuthn needs a secure context and a domain for its relying-party id: the pages are opened on
 * http://localhost (secure by the browser's rule for loopback; 127.0.0.1 is secure too but an IP
 * address is no RP id). Gatehouse takes the RP id and the origin from the request's host, as
 * WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS are unset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { foreignRequests } from './support/browser.js';
import type { TestClient } from './support/client.js';
import { BOUNDED, ConsoleBrowser } from './support/console.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf } from './support/sessions.js';

const REAUTH_WINDOW_MS = 2_000;

let browser: ConsoleBrowser;
let server: TestServer;
let admin: TestClient;
/** The server's address by name: a secure context with a domain for passkeys. */
let origin: string;

before(async () => {
  [browser, server] = await Promise.all([
    ConsoleBrowser.start(),
    startTestServer({ env: { ...QUIET_SWEEPER, REAUTH_WINDOW: `${REAUTH_WINDOW_MS / 1000}s` } }),
  ]);
  admin = await server.adminClient();
  origin = server.url.replace('//127.0.0.1:', '//localhost:');
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page with a platform authenticator of its own that keeps passkeys and always verifies the user. */
async function pageWithAuthenticator(): Promise<{ page: Page; authenticator: CDPSession; authenticatorId: string }> {
  const { page } = await browser.newPage();
  const authenticator = await page.context().newCDPSession(page);
  await authenticator.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await authenticator.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, authenticator, authenticatorId };
}

async function signInWithPassword(page: Page, username: string) {
  await page.goto(`${origin}/console`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(passwordOf(username));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** `Add passkey` in the Security section, named `name`; waits for its row. */
async function addPasskey(page: Page, name: string) {
  const security = page.getByRole('region', { name: 'Security' });
  await security.getByRole('button', { name: 'Add passkey' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a passkey' });
  // Named for the device by default, as the sessions table names it.
  assert.equal(await dialog.getByLabel('Name').inputValue(), 'Chrome on Linux');
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create passkey' }).click();
  await dialog.waitFor({ state: 'detached' });
  await security.getByRole('row').filter({ hasText: name }).waitFor();
  const codes = security.getByRole('region', { name: 'Recovery codes' });
  if ((await codes.count()) > 0) await codes.getByRole('button', { name: 'Done' }).click();
}

/** The `Sign-in method` cell of this device's row in `Your sessions`. */
const signInMethod = (page: Page) =>
  page
    .getByRole('region', { name: 'Your sessions' })
    .getByRole('row')
    .filter({ hasText: 'This device' })
    .locator('td')
    .nth(4)
    .textContent();

describe('console: passkeys', () => {
  it(
    'offers Sign in with a passkey only where the device can hold one: elsewhere one button matches "Sign in"',
    BOUNDED,
    async () => {
      // Clients outside this repository find the password form's button by a name match that is
      // a substring match by default; without a passkey authenticator it must stay the only one.
      const { page: plain } = await browser.newPage();
      await plain.goto(`${origin}/console`);
      await plain.getByLabel('Username').waitFor();
      assert.equal(await plain.getByRole('button', { name: 'Sign in' }).count(), 1);
      assert.equal(await plain.getByRole('button', { name: 'Sign in with a passkey' }).count(), 0);

      const { page } = await pageWithAuthenticator();
      await page.goto(`${origin}/console`);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).count(), 1);
    },
  );

  it('Add passkey, sign out, Sign in with a passkey: signed in with nothing typed', BOUNDED, async () => {
    await createUser(admin, 'pia');
    const { page, authenticator, authenticatorId } = await pageWithAuthenticator();
    await signInWithPassword(page, 'pia');
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    await addPasskey(page, 'Laptop');
    const row = page.getByRole('region', { name: 'Security' }).getByRole('row').filter({ hasText: 'Laptop' });
    assert.deepEqual((await row.locator('th, td').allTextContents()).slice(0, 2), ['Laptop', 'Passkey']);
    const { credentials } = await authenticator.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]?.isResidentCredential, true, 'a discoverable passkey');

    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    assert.deepEqual(
      [await page.getByLabel('Username').inputValue(), await page.getByLabel('Password').inputValue()],
      ['', ''],
    );
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    assert.match((await page.locator('.who').textContent()) ?? '', /Signed in as pia/);
    assert.equal(await signInMethod(page), 'Passkey');
  });

  it('a passkey as the second step of a password sign-in: Use a passkey', BOUNDED, async () => {
    await createUser(admin, 'quin');
    const { page } = await pageWithAuthenticator();
    await signInWithPassword(page, 'quin');
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    await addPasskey(page, 'Laptop');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();

    await signInWithPassword(page, 'quin');
    await page.getByLabel('Authentication code').waitFor();
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    assert.equal(await signInMethod(page), 'Password and passkey');
  });

  it('a step-up is proved with the passkey alone', BOUNDED, async () => {
    await createUser(admin, 'rhea');
    const { page } = await pageWithAuthenticator();
    await signInWithPassword(page, 'rhea');
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    await addPasskey(page, 'Laptop');
    server.clock.advance(REAUTH_WINDOW_MS + 1_000);

    const row = page.getByRole('region', { name: 'Security' }).getByRole('row').filter({ hasText: 'Laptop' });
    await row.getByRole('button', { name: 'Remove' }).click();
    await page
      .getByRole('dialog', { name: 'Remove Laptop?' })
      .getByRole('button', { name: 'Yes, remove Laptop' })
      .click();
    const prompt = page.getByRole('dialog', { name: 'Confirm your password' });
    await prompt.getByRole('button', { name: 'Use a passkey' }).click();
    await prompt.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
  });

  it('no request left the server’s origin; no policy violation or page error', () => {
    assert.deepEqual(foreignRequests(browser.requests, origin), []);
    assert.deepEqual(
      browser.problems.filter((problem) => /Content Security Policy|page error/.test(problem)),
      [],
    );
  });
});
