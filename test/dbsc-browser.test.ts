/**
 * Device-bound sessions end to end, in the one browser here that speaks DBSC: Chromium 150
 * (issue 23; docs/dbsc/plan.md §8). Signing in at the console binds the session to a key the
 * browser holds; a refresh rotates the bound cookie while the page goes on; the browser's cookies
 * copied into a Node client stop working once the old bound cookie's grace has passed (a copied
 * jar is not a session); a kicked session's next refresh is told `{"continue": false}`.
 *
 * The browser is reached at http://localhost:<port> (Chrome ignores DBSC on plain HTTP off
 * loopback). The bound cookie keeps its default lifetime (10 min): a refresh is forced by
 * deleting it from the browser's jar, as a person's browser would see it expire. Where Chromium 150
 * cannot be fetched the suite is skipped with the fetch script's line as the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Cookie, Locator, Page } from 'playwright-core';
import { KickSessionDocument } from './generated/graphql.js';
import { waitFor, within } from './support/async.js';
import { BROWSER_TIMEOUT_MS, type RecordedContext, type TestBrowser } from './support/browser.js';
import { fetchChromium150, startChromium150 } from './support/chromium150.js';
import type { TestClient } from './support/client.js';
import { DbscClient } from './support/dbsc-client.js';
import { SECOND } from './support/clock.js';
import { signInAt } from './support/console.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser } from './support/sessions.js';
import { recordWire, type Exchange, type WireLog } from './support/wire-log.js';

const chromium150 = await fetchChromium150();

const SESSION_COOKIE = 'gatehouse_session';
const BOUND_COOKIE = 'gatehouse_bound';
/** How long the server still takes the bound cookie a rotation replaced (DESIGN: a few seconds; plan: 10 s). */
const BOUND_COOKIE_GRACE_MS = 10 * SECOND;
/** A whole test: a hung browser fails it instead of the run. */
const BOUNDED = { timeout: 60_000 };
/** Until the server side (branch wp-dbsc) is merged: the flow runs, its failures are reported as TODO. */
const SERVER_SIDE = {
  ...BOUNDED,
  todo: 'needs the server side (wp-dbsc): the login header, /dbsc/register, /dbsc/refresh',
};
const REGISTRATION_HEADER = /^\(ES256 RS256\);path="\/dbsc\/register";challenge="[A-Za-z0-9_-]+"$/;

type SignedInBrowser = { recorded: RecordedContext; page: Page; sessionId: string };

interface BrowserSession {
  id: string;
  deviceBound: boolean;
}

describe('DBSC in Chromium 150', { skip: chromium150.skip ?? false }, () => {
  let browser: TestBrowser | undefined;
  let server: TestServer | undefined;
  let admin: TestClient;
  let wire: WireLog;
  /** The server as the browser reaches it: localhost, a secure context over plain HTTP. */
  let origin: string;
  const contexts: RecordedContext[] = [];

  before(async () => {
    const executablePath = chromium150.path;
    assert.ok(executablePath);
    // Both at once; whichever started is stopped in after() even when the other failed.
    const started = await Promise.allSettled([
      startChromium150(executablePath).then((started) => (browser = started)),
      startTestServer({ env: QUIET_SWEEPER }).then((started) => (server = started)),
    ]);
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    const target = server as TestServer;
    admin = await target.adminClient();
    wire = recordWire(target.app.server, ['/dbsc/', '/graphql']);
    origin = target.url.replace('//127.0.0.1:', '//localhost:');
  });

  after(async () => {
    wire?.stop();
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
    await browser?.close();
    await server?.stop();
  });

  const running = () => {
    assert.ok(server && browser);
    return { server, browser };
  };

  /** The signed-in page's own session, asked from the page (its cookies, its DBSC). */
  async function browserSession(page: Page): Promise<BrowserSession | null> {
    const ask = page.evaluate(async () => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ currentSession { id deviceBound } }' }),
      });
      return ((await response.json()) as { data: { currentSession: BrowserSession | null } }).data.currentSession;
    });
    return within(ask, BROWSER_TIMEOUT_MS, 'the page to ask for its session');
  }

  /** What the admin API says of the session's binding (and whether it is still active). */
  async function bindingOf(userId: string, sessionId: string) {
    type Listed = { id: string; active: boolean; deviceBound: boolean; deviceBoundAt: string | null };
    const { sessionsByUser } = await admin.data<{ sessionsByUser: Listed[] }, { userId: string }>(
      'query Binding($userId: ID!) { sessionsByUser(userId: $userId, includeEnded: true) { id active deviceBound deviceBoundAt } }',
      { userId },
    );
    const session = sessionsByUser.find((listed) => listed.id === sessionId);
    assert.ok(session, `session ${sessionId} not listed`);
    return session;
  }

  /** A fresh context (own jar, own signing quota) signed in at the console as a new user. */
  async function signedInBrowser(t: TestContext, username: string) {
    const { server: target, browser: chromium } = running();
    const userId = await createUser(admin, username);
    const recorded = await chromium.context();
    contexts.push(recorded);
    const page = await recorded.page();
    const login = page.waitForResponse(
      (response) =>
        response.url() === `${origin}/graphql` && /mutation SignIn\b/.test(response.request().postData() ?? ''),
    );
    const exchangesBefore = wire.exchanges.length;
    await signInAt(page, { url: origin }, username);
    const loginResponse = await login;
    await page.getByRole('heading', { name: 'Your sessions' }).waitFor();
    const session = await browserSession(page);
    assert.ok(session, 'the console is signed in but the page has no session');
    // The login as the server answered it: the one answer since that set a session cookie.
    const loginExchange = wire.exchanges
      .slice(exchangesBefore)
      .find((exchange) => setCookies(exchange).some((line) => line.startsWith(`${SESSION_COOKIE}=`)));
    assert.ok(loginExchange?.doneAt, 'the server recorded no login');
    t.diagnostic(`${username} signed in at ${origin}/console`);
    return {
      target,
      recorded,
      page,
      userId,
      sessionId: session.id,
      loggedInAt: loginExchange.doneAt,
      registration: (await loginResponse.allHeaders())['secure-session-registration'],
    };
  }

  async function boundCookie(recorded: RecordedContext): Promise<Cookie | undefined> {
    return (await recorded.context.cookies(origin)).find((cookie) => cookie.name === BOUND_COOKIE);
  }

  /** A Node client holding exactly these cookies and no key, as a thief who copied them would. */
  function nodeClientWith(target: TestServer, cookies: readonly Cookie[]): DbscClient {
    const client = new DbscClient(target.url);
    for (const cookie of cookies) client.jar.set(cookie.name, cookie.value);
    return client;
  }

  /** The request is not signed in, and nothing else happens: no data, no error (as for no cookie at all). */
  async function assertNotServed(client: DbscClient, label: string): Promise<void> {
    const result = await client.graphql('{ me { id } currentSession { id } }');
    assert.deepEqual(
      { status: result.status, data: result.data, errors: result.errors },
      { status: 200, data: { me: null, currentSession: null }, errors: undefined },
      label,
    );
  }

  /** The refreshes the server received for this session, by their `Sec-Secure-Session-Id` (Chrome's: bare). */
  const refreshes = (sessionId: string) =>
    wire.to('/dbsc/refresh').filter((exchange) => exchange.requestHeaders['sec-secure-session-id'] === sessionId);

  /**
   * Deletes the bound cookie from the browser's jar, as if it had expired, and reloads the
   * console: Chrome holds the navigation until it has refreshed. What reached /dbsc/refresh meanwhile.
   */
  async function reloadWithoutBoundCookie(signedIn: SignedInBrowser, ready: Locator) {
    const { recorded, page, sessionId } = signedIn;
    const before = refreshes(sessionId).length;
    await recorded.context.clearCookies({ name: BOUND_COOKIE });
    const reloadAt = Date.now();
    await page.reload();
    await ready.waitFor();
    return { heldMs: Date.now() - reloadAt, exchanges: refreshes(sessionId).slice(before) };
  }

  /** Reloads the console and counts the refreshes that took: none when the browser is content with its cookies. */
  async function refreshesOnReload({ page, sessionId }: SignedInBrowser, ready: Locator): Promise<number> {
    const before = refreshes(sessionId).length;
    await page.reload();
    await ready.waitFor();
    return refreshes(sessionId).length - before;
  }

  it(
    'binds at sign-in; a refresh rotates the bound cookie; a copied jar stops working after the grace',
    SERVER_SIDE,
    async (t) => {
      const signedIn = await signedInBrowser(t, 'carol');
      const { target, recorded, page, userId, sessionId, loggedInAt, registration } = signedIn;

      // Login offered the binding; the browser registered a key on its own.
      assert.match(registration ?? '(no Secure-Session-Registration on the login response)', REGISTRATION_HEADER);
      const bound = await waitFor(
        'the admin API to say the session is device-bound',
        async () => (await bindingOf(userId, sessionId)).deviceBound,
        { timeoutMs: BROWSER_TIMEOUT_MS },
      );
      assert.equal(bound, true);
      const [registered] = wire
        .to('/dbsc/register')
        .filter((exchange) => exchange.at >= loggedInAt && exchange.path === '/dbsc/register');
      assert.ok(registered, 'no POST /dbsc/register reached the server');
      assert.equal(registered.status, 200, describeExchange(registered));
      t.diagnostic(`registration: POST /dbsc/register ${registered.at - loggedInAt} ms after the login answer`);
      diagnose(t, registered);
      assert.deepEqual(await browserSession(page), { id: sessionId, deviceBound: true });

      // Both cookies copied off the browser: served (the bound one is still valid).
      const copied = await recorded.context.cookies(origin);
      const sessionCookie = copied.find((cookie) => cookie.name === SESSION_COOKIE);
      const firstBound = copied.find((cookie) => cookie.name === BOUND_COOKIE);
      assert.ok(
        sessionCookie && firstBound,
        `cookies in the browser: ${copied.map((cookie) => cookie.name).join(', ')}`,
      );
      assert.deepEqual(
        { httpOnly: firstBound.httpOnly, sameSite: firstBound.sameSite, path: firstBound.path },
        { httpOnly: true, sameSite: 'Lax', path: '/' },
      );
      assert.equal(await nodeClientWith(target, copied).me(), userId, 'the whole jar, copied');
      await assertNotServed(nodeClientWith(target, [sessionCookie]), 'the session cookie alone, once bound');

      // The bound cookie gone from the browser: its next request waits for a refresh.
      const yourSessions = page.getByRole('heading', { name: 'Your sessions' });
      assert.equal(
        refreshes(sessionId).length,
        0,
        'refreshes before the bound cookie was deleted (attributes mismatch?)',
      );
      const { heldMs, exchanges } = await reloadWithoutBoundCookie(signedIn, yourSessions);
      t.diagnostic(`forced refresh: reload held ${heldMs} ms, ${exchanges.length} POST /dbsc/refresh`);
      for (const exchange of exchanges) diagnose(t, exchange);
      const newBound = await boundCookie(recorded);
      assert.ok(newBound, 'no bound cookie after the refresh');
      assert.notEqual(newBound.value, firstBound.value, 'the refresh set the same bound cookie again');
      const rotation = exchanges.at(-1);
      assert.ok(rotation, 'the browser reloaded without a refresh');
      assert.equal(rotation.status, 200, describeExchange(rotation));
      assert.ok(
        setCookies(rotation).some((line) => line.startsWith(`${BOUND_COOKIE}=${newBound.value};`)),
        `the server did not set the cookie the browser now holds: ${describeExchange(rotation)}`,
      );
      assert.deepEqual(
        await browserSession(page),
        { id: sessionId, deviceBound: true },
        'the browser after the refresh',
      );
      assert.equal(
        await refreshesOnReload(signedIn, yourSessions),
        0,
        'the new bound cookie did not satisfy the browser',
      );

      // The copied jar (old bound cookie): served only within the grace for requests in flight.
      assert.equal(await nodeClientWith(target, copied).me(), userId, 'the copied jar within the grace');
      target.clock.advance(BOUND_COOKIE_GRACE_MS + SECOND);
      await assertNotServed(nodeClientWith(target, copied), 'the copied jar past the grace');
      await assertNotServed(nodeClientWith(target, [sessionCookie]), 'the session cookie alone past the grace');
      assert.deepEqual(await browserSession(page), { id: sessionId, deviceBound: true }, 'the browser past the grace');
      assert.deepEqual(
        { ...(await bindingOf(userId, sessionId)), deviceBoundAt: undefined },
        { id: sessionId, active: true, deviceBound: true, deviceBoundAt: undefined },
        'the refusals ended nothing',
      );
    },
  );

  it(
    'a kicked session: the console says so, and the next refresh is told {"continue": false}',
    SERVER_SIDE,
    async (t) => {
      const signedIn = await signedInBrowser(t, 'dave');
      const { page, userId, sessionId } = signedIn;
      await waitFor('the session to be device-bound', async () => (await bindingOf(userId, sessionId)).deviceBound, {
        timeoutMs: BROWSER_TIMEOUT_MS,
      });

      const kickedAt = Date.now();
      await admin.data(KickSessionDocument, { sessionId });
      const alert = page.getByRole('alert').filter({ hasText: 'Signed out' });
      await alert.waitFor();
      t.diagnostic(`kick → alert: ${Date.now() - kickedAt} ms`);
      assert.match((await alert.textContent()) ?? '', /^Signed out: this session was ended by an administrator/);

      // The browser still holds its DBSC session: a request without the bound cookie refreshes.
      const signInForm = page.getByLabel('Username');
      const { exchanges: told } = await reloadWithoutBoundCookie(signedIn, signInForm);
      for (const exchange of told) diagnose(t, exchange);
      const ending = told.at(-1);
      assert.ok(ending, 'no refresh after the kick');
      assert.equal(ending.status, 200, describeExchange(ending));
      assert.equal((JSON.parse(ending.body ?? '') as { continue?: unknown }).continue, false, describeExchange(ending));

      // Told to stop, the browser dropped its DBSC session: no more refreshes.
      assert.equal(await refreshesOnReload(signedIn, signInForm), 0, 'the browser refreshed an ended session again');
    },
  );
});

/** One diagnostic line per line of {@link describeExchange} (node:test escapes newlines). */
function diagnose(t: TestContext, exchange: Exchange): void {
  for (const line of describeExchange(exchange).split('\n')) t.diagnostic(line);
}

function setCookies(exchange: Exchange): string[] {
  const value = exchange.responseHeaders?.['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

/** One exchange on a few lines, the DBSC headers in full (long proofs shortened), for diagnostics and failures. */
function describeExchange(exchange: Exchange): string {
  const shorten = (value: unknown) => {
    const text = Array.isArray(value) ? value.join(' | ') : String(value);
    return text.length > 120 ? `${text.slice(0, 60)}…${text.slice(-20)} (${text.length} chars)` : text;
  };
  const request = Object.entries(exchange.requestHeaders)
    .filter(([name]) => /^(sec-secure-session-id|secure-session-response|secure-session-skipped|cookie)$/.test(name))
    .map(([name, value]) => `${name}: ${shorten(value)}`);
  const response = Object.entries(exchange.responseHeaders ?? {})
    .filter(([name]) => /^(set-cookie|secure-session-challenge|content-type|cache-control|retry-after)$/.test(name))
    .map(([name, value]) => `${name}: ${shorten(value)}`);
  return [
    `${exchange.method} ${exchange.path} → ${exchange.status ?? 'unfinished'} in ${(exchange.doneAt ?? NaN) - exchange.at} ms`,
    ...request.map((line) => `  > ${line}`),
    ...response.map((line) => `  < ${line}`),
    `  < body: ${shorten(exchange.body ?? '')}`,
  ].join('\n');
}
