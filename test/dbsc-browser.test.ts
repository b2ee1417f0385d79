/**
 * Device-bound sessions end to end, in the one browser here that speaks DBSC: Chromium 150
 * (issue 23; docs/dbsc/plan.md §8). Signing in at the console binds the session to a key the
 * browser holds; a refresh rotates the bound cookie while the page goes on; the browser's cookies
 * copied into a Node client stop working once the old bound cookie's grace has passed (a copied
 * jar is not a session); a kicked session's next refresh is told `{"continue": false}`.
 *
 * The bound cookie keeps its default lifetime (10 min; Chrome's signing quota makes short ones
 * flaky): a refresh is forced by deleting it from the browser's jar, as when it expires. One
 * Chromium for the file, a context (jar, DBSC sessions, signing quota) per test. Where Chromium 150
 * cannot be fetched the suite is skipped with the fetch script's line as the reason.
 */
import { FIRST_SEEN_GRACE_MS } from '../src/sessions/dbsc.js';
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { KickSessionDocument } from './generated/graphql.js';
import { BROWSER_TIMEOUT_MS, type TestBrowser } from './support/browser.js';
import { fetchChromium150, startChromium150 } from './support/chromium150.js';
import { within } from './support/async.js';
import { SECOND } from './support/clock.js';
import {
  assertNotServed,
  browserSession,
  DbscSite,
  describeExchange,
  diagnose,
  setCookies,
} from './support/dbsc-site.js';
import { QUIET_SWEEPER } from './support/server.js';

const chromium150 = await fetchChromium150();

/** How long the server still takes the bound cookie a rotation replaced (DESIGN: a few seconds; plan: 10 s). */
const BOUND_COOKIE_GRACE_MS = 10 * SECOND;
/** A whole test: a hung browser fails it instead of the run. */
const BOUNDED = { timeout: 60_000 };
const REGISTRATION_HEADER = /^\(ES256 RS256\);path="\/dbsc\/register";challenge="[A-Za-z0-9_-]+"$/;

const rotatedCount = (counters: Record<string, number>) => counters['refreshes{result="rotated"}'] ?? 0;
/** Series of `Secure-Session-Skipped` counted: the browser let a request go without the bound cookie. */
const skippedSeries = (counters: Record<string, number>) =>
  Object.entries(counters).filter(([series, value]) => series.startsWith('skipped') && value > 0);

type SocketAnswer = { me: string | null } | { errors: unknown } | { closed: number };

/** A graphql-transport-ws socket the page opens itself (the browser attaches its cookies to the upgrade). */
async function openPageSocket(page: Page): Promise<void> {
  const opened = page.evaluate(async () => {
    const socket = new WebSocket(`ws://${location.host}/graphql`, 'graphql-transport-ws');
    (window as unknown as { testSocket: WebSocket }).testSocket = socket;
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise<void>((resolve) => {
      socket.onmessage = (event) => {
        if ((JSON.parse(String(event.data)) as { type: string }).type === 'connection_ack') resolve();
      };
    });
  });
  await within(opened, BROWSER_TIMEOUT_MS, "the page's socket to open");
}

/** `{ me { id } }` over the page's socket: the id, the errors, or the close code if it closed instead. */
async function askOnPageSocket(page: Page): Promise<SocketAnswer> {
  const asked = page.evaluate(
    () =>
      new Promise<SocketAnswer>((resolve) => {
        const socket = (window as unknown as { testSocket: WebSocket }).testSocket;
        const id = String(Math.random());
        if (socket.readyState !== WebSocket.OPEN) return resolve({ closed: -1 });
        socket.onclose = (event) => resolve({ closed: event.code });
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { id?: string; type: string; payload: unknown };
          if (message.id !== id) return;
          if (message.type === 'next') {
            const payload = message.payload as { data?: { me: { id: string } | null }; errors?: unknown };
            resolve(payload.errors ? { errors: payload.errors } : { me: payload.data?.me?.id ?? null });
          } else if (message.type === 'error') resolve({ errors: message.payload });
        };
        socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query: '{ me { id } }' } }));
      }),
  );
  return within(asked, BROWSER_TIMEOUT_MS, "an answer on the page's socket");
}

/**
 * Sign in → bound → the copied jar served → a forced refresh rotates the bound cookie and the
 * browser goes on → past the grace the copied jar, and the session cookie alone, are refused.
 */
async function bindRefreshAndRefuseTheCopy(t: TestContext, site: DbscSite, username: string) {
  const signedIn = await site.signIn(t, username);
  const { page, userId, sessionId, loggedInAt } = signedIn;

  // Login offered the binding; the browser registered a key on its own.
  assert.match(signedIn.registration ?? '(no Secure-Session-Registration on the login answer)', REGISTRATION_HEADER);
  const [registered] = site.registrationsSince(loggedInAt);
  assert.ok(registered, 'no POST /dbsc/register reached the server');
  assert.equal(registered.status, 200, describeExchange(registered));
  t.diagnostic(`registration: POST /dbsc/register ${registered.at - loggedInAt} ms after the login answer`);
  diagnose(t, registered);
  assert.deepEqual(await browserSession(page), { id: sessionId, deviceBound: true });

  // Both cookies copied off the browser: served while the bound one is valid.
  const copied = await site.cookies(signedIn);
  const sessionCookie = copied.find((cookie) => cookie.name === site.sessionCookie);
  const firstBound = copied.find((cookie) => cookie.name === site.boundCookie);
  assert.ok(sessionCookie && firstBound, `cookies in the browser: ${copied.map((cookie) => cookie.name).join(', ')}`);
  assert.deepEqual(
    { httpOnly: firstBound.httpOnly, sameSite: firstBound.sameSite, path: firstBound.path },
    { httpOnly: true, sameSite: 'Lax', path: '/' },
  );
  assert.equal(firstBound.secure, sessionCookie.secure, 'Secure on one cookie and not the other');
  assert.equal(await site.nodeClientWith(copied).me(), userId, 'the whole jar, copied');
  // Past the grace after the bound cookie was first seen (for requests the page sent before the browser stored it).
  site.server.clock.advance(FIRST_SEEN_GRACE_MS);
  await assertNotServed(site.nodeClientWith([sessionCookie]), 'the session cookie alone, once bound');

  // The bound cookie gone from the browser: its next request waits for a refresh.
  const yourSessions = page.getByRole('heading', { name: 'Your sessions' });
  assert.equal(site.refreshes(sessionId).length, 0, 'refreshes while the bound cookie was there (attributes?)');
  const countersBefore = await site.dbscCounters();
  const { heldMs, exchanges } = await site.reloadWithoutBoundCookie(signedIn, yourSessions);
  t.diagnostic(`forced refresh: reload held ${heldMs} ms, ${exchanges.length} POST /dbsc/refresh`);
  for (const exchange of exchanges) diagnose(t, exchange);
  const newBound = (await site.cookies(signedIn)).find((cookie) => cookie.name === site.boundCookie);
  assert.ok(newBound, 'no bound cookie after the refresh');
  assert.notEqual(newBound.value, firstBound.value, 'the refresh set the same bound cookie again');
  const rotation = exchanges.at(-1);
  assert.ok(rotation, 'the browser reloaded without a refresh');
  assert.equal(rotation.status, 200, describeExchange(rotation));
  assert.ok(
    setCookies(rotation).some((line) => line.startsWith(`${site.boundCookie}=${newBound.value};`)),
    `the server did not set the cookie the browser now holds: ${describeExchange(rotation)}`,
  );
  assert.deepEqual(await browserSession(page), { id: sessionId, deviceBound: true }, 'the browser after the refresh');
  const counters = await site.dbscCounters();
  assert.equal(rotatedCount(counters) - rotatedCount(countersBefore), 1, 'the metric of rotations');
  assert.deepEqual(skippedSeries(counters), [], 'the browser said it skipped a refresh');
  assert.equal(await site.refreshesOnReload(signedIn, yourSessions), 0, 'the new bound cookie did not satisfy Chrome');

  // The copied jar (old bound cookie): served only within the grace for requests in flight.
  assert.equal(await site.nodeClientWith(copied).me(), userId, 'the copied jar within the grace');
  site.server.clock.advance(BOUND_COOKIE_GRACE_MS + SECOND);
  await assertNotServed(site.nodeClientWith(copied), 'the copied jar past the grace');
  await assertNotServed(site.nodeClientWith([sessionCookie]), 'the session cookie alone past the grace');
  assert.deepEqual(await browserSession(page), { id: sessionId, deviceBound: true }, 'the browser past the grace');
  assert.deepEqual(
    { ...(await site.bindingOf(signedIn)), deviceBoundAt: undefined },
    { id: sessionId, active: true, deviceBound: true, deviceBoundAt: undefined },
    'the refusals ended nothing',
  );
}

describe('DBSC in Chromium 150', { skip: chromium150.skip ?? false }, () => {
  let browser: TestBrowser | undefined;
  before(async () => {
    assert.ok(chromium150.path);
    browser = await startChromium150(chromium150.path);
  });
  after(() => browser?.close());
  const running = () => {
    assert.ok(browser, 'Chromium 150 did not start');
    return browser;
  };

  describe('plain cookies (COOKIE_SECURE off)', () => {
    let site: DbscSite | undefined;
    before(async () => void (site = await DbscSite.start(running(), QUIET_SWEEPER)));
    after(() => site?.stop());
    const current = () => {
      assert.ok(site);
      return site;
    };

    it(
      'binds at sign-in; a refresh rotates the bound cookie; a copied jar stops working after the grace',
      BOUNDED,
      (t) => bindRefreshAndRefuseTheCopy(t, current(), 'carol'),
    );

    it('a kicked session: the console says so; its next refresh is told {"continue": false}', BOUNDED, async (t) => {
      const site = current();
      const signedIn = await site.signIn(t, 'dave');
      const { page, sessionId } = signedIn;

      const kickedAt = Date.now();
      await site.server.adminClient().then((admin) => admin.data(KickSessionDocument, { sessionId }));
      const alert = page.getByRole('alert').filter({ hasText: 'Signed out' });
      await alert.waitFor();
      t.diagnostic(`kick → alert: ${Date.now() - kickedAt} ms`);
      assert.match((await alert.textContent()) ?? '', /^Signed out: this session was ended by an administrator/);

      // The browser still holds its DBSC session: a request without the bound cookie refreshes.
      const signInForm = page.getByLabel('Username');
      const countersBefore = await site.dbscCounters();
      const { exchanges: told } = await site.reloadWithoutBoundCookie(signedIn, signInForm);
      for (const exchange of told) diagnose(t, exchange);
      const ending = told.at(-1);
      assert.ok(ending, 'no refresh after the kick');
      assert.equal(ending.status, 200, describeExchange(ending));
      assert.equal((JSON.parse(ending.body ?? '') as { continue?: unknown }).continue, false, describeExchange(ending));
      const stopped = (counters: Record<string, number>) => counters['refreshes{result="continue_false"}'] ?? 0;
      assert.equal(
        stopped(await site.dbscCounters()) - stopped(countersBefore),
        1,
        'the metric of refreshes told to stop',
      );

      // Told to stop, the browser dropped its DBSC session: no more refreshes.
      assert.equal(await site.refreshesOnReload(signedIn, signInForm), 0, 'the browser refreshed an ended session');
    });
  });

  describe('an open socket', () => {
    let site: DbscSite | undefined;
    before(async () => void (site = await DbscSite.start(running(), QUIET_SWEEPER)));
    after(() => site?.stop());

    it(
      'a socket opened with the bound cookie stays signed in after the cookie rotates (or is closed to reconnect)',
      BOUNDED,
      async (t) => {
        assert.ok(site);
        const signedIn = await site.signIn(t, 'gwen');
        const { page, userId } = signedIn;
        await openPageSocket(page);
        assert.deepEqual(await askOnPageSocket(page), { me: userId }, 'on the socket, before the rotation');

        // A rotation the page does not reload for: its fetch is held for the refresh.
        await signedIn.recorded.context.clearCookies({ name: site.boundCookie });
        assert.deepEqual(await browserSession(page), { id: signedIn.sessionId, deviceBound: true });
        site.server.clock.advance(BOUND_COOKIE_GRACE_MS + SECOND);
        assert.deepEqual(await browserSession(page), { id: signedIn.sessionId, deviceBound: true }, 'over HTTP');
        const answer = await askOnPageSocket(page);
        assert.ok(
          ('me' in answer && answer.me === userId) || ('closed' in answer && answer.closed !== 4403),
          `on the same socket, past the grace: ${JSON.stringify(answer)} (signed in over HTTP all along)`,
        );
      },
    );
  });

  describe('__Host- cookies (COOKIE_SECURE on, as in production)', () => {
    let site: DbscSite | undefined;
    before(async () => void (site = await DbscSite.start(running(), { ...QUIET_SWEEPER, COOKIE_SECURE: 'true' })));
    after(() => site?.stop());

    it('the same flow with Secure __Host- cookies over http://localhost', BOUNDED, (t) => {
      assert.ok(site);
      return bindRefreshAndRefuseTheCopy(t, site, 'erin');
    });
  });
});
