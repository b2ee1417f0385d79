/**
 * A Gatehouse as Chromium 150 meets it in test/dbsc-browser.test.ts: reached at
 * http://localhost:<port> (Chrome ignores DBSC on plain HTTP off loopback), with the /dbsc/*
 * exchanges recorded inside the server (the browser makes them itself, out of the page's sight),
 * and the steps of the flow: sign in at the console, wait for the binding, force a refresh by
 * deleting the bound cookie, copy the jar into a Node client.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Cookie, Locator, Page } from 'playwright-core';
import { waitFor, within } from './async.js';
import { BROWSER_TIMEOUT_MS, type RecordedContext, type TestBrowser } from './browser.js';
import type { TestClient } from './client.js';
import { DbscClient } from './dbsc-client.js';
import { signInAt } from './console.js';
import { startTestServer, type TestServer } from './server.js';
import { createUser } from './sessions.js';
import { recordWire, type Exchange, type WireLog } from './wire-log.js';

/** A console page signed in, in a context (cookie jar, DBSC sessions, signing quota) of its own. */
export interface SignedInBrowser {
  recorded: RecordedContext;
  page: Page;
  userId: string;
  sessionId: string;
  /** When the server finished answering the login (`Date.now()`). */
  loggedInAt: number;
  /** The login answer's `Secure-Session-Registration`, as the browser received it. */
  registration: string | undefined;
}

/** A session as its own page sees it. */
export interface BrowserSession {
  id: string;
  deviceBound: boolean;
}

export class DbscSite {
  /** The server as the browser reaches it: localhost, a secure context over plain HTTP. */
  readonly origin: string;
  readonly sessionCookie: string;
  readonly boundCookie: string;
  private readonly contexts: RecordedContext[] = [];

  private constructor(
    readonly server: TestServer,
    private readonly browser: TestBrowser,
    private readonly admin: TestClient,
    private readonly wire: WireLog,
    secure: boolean,
  ) {
    this.origin = server.url.replace('//127.0.0.1:', '//localhost:');
    this.sessionCookie = `${secure ? '__Host-' : ''}gatehouse_session`;
    this.boundCookie = `${secure ? '__Host-' : ''}gatehouse_bound`;
  }

  /** A fresh server (SQLite) with `env`, recording its /dbsc/* and /graphql exchanges. */
  static async start(browser: TestBrowser, env: Record<string, string>): Promise<DbscSite> {
    const server = await startTestServer({ env });
    try {
      const admin = await server.adminClient();
      const wire = recordWire(server.app.server, ['/dbsc/', '/graphql']);
      return new DbscSite(server, browser, admin, wire, env.COOKIE_SECURE === 'true');
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /**
   * Signs in at the console as a new user, in a fresh context, and waits for the binding. The
   * page's socket often leaves while the browser is still registering, with the session cookie
   * alone: the server must keep it signed in once the bound cookie has been seen (it once answered
   * it as signed out, and the console said "Signed out: the session ended." in 1 sign-in of 10).
   */
  async signIn(t: TestContext, username: string): Promise<SignedInBrowser> {
    const userId = await createUser(this.admin, username);
    const recorded = await this.browser.context();
    this.contexts.push(recorded);
    const page = await recorded.page();
    const login = page.waitForResponse(
      (response) =>
        response.url() === `${this.origin}/graphql` &&
        /mutation GatehouseLogin\b/.test(response.request().postData() ?? ''),
    );
    const exchangesBefore = this.wire.exchanges.length;
    await signInAt(page, { url: this.origin }, username);
    const loginResponse = await login;
    const { data } = (await loginResponse.json()) as { data: { login: { session: { id: string } | null } } };
    assert.ok(data.login.session, `the login of ${username} made no session`);
    const yourSessions = page.getByRole('heading', { name: 'Your sessions' });
    const signedOut = page.getByRole('alert').filter({ hasText: 'Signed out' });
    await yourSessions.or(signedOut).first().waitFor();
    // The login as the server answered it: the one answer since that set a session cookie.
    const loginExchange = this.wire.exchanges
      .slice(exchangesBefore)
      .find((exchange) => setCookies(exchange).some((line) => line.startsWith(`${this.sessionCookie}=`)));
    assert.ok(loginExchange?.doneAt, 'the server recorded no login');
    const signedIn: SignedInBrowser = {
      ...{ recorded, page, userId, sessionId: data.login.session.id, loggedInAt: loginExchange.doneAt },
      registration: (await loginResponse.allHeaders())['secure-session-registration'],
    };
    await this.waitUntilBound(signedIn);
    // The page's subscription, on a socket that may have left with the session cookie alone, is
    // refused within a few milliseconds when it is refused at all (measured: 39–78 ms for an end).
    await page.waitForTimeout(300);
    if (await signedOut.isVisible()) assert.fail(`the console said "${await signedOut.textContent()}"`);
    t.diagnostic(`${username} signed in at ${this.origin}/console`);
    return signedIn;
  }

  /** What the admin API says of the session's binding (and whether it is still active). */
  async bindingOf({ userId, sessionId }: Pick<SignedInBrowser, 'userId' | 'sessionId'>) {
    type Listed = { id: string; active: boolean; deviceBound: boolean; deviceBoundAt: string | null };
    const { sessionsByUser } = await this.admin.data<{ sessionsByUser: Listed[] }, { userId: string }>(
      'query Binding($userId: ID!) { sessionsByUser(userId: $userId, includeEnded: true) { id active deviceBound deviceBoundAt } }',
      { userId },
    );
    const session = sessionsByUser.find((listed) => listed.id === sessionId);
    assert.ok(session, `session ${sessionId} not listed`);
    return session;
  }

  /**
   * Waits until the admin API says the session is bound (the browser registers on its own) and
   * the browser holds the bound cookie (it stores the answer after the server has committed it).
   */
  async waitUntilBound(signedIn: SignedInBrowser): Promise<void> {
    const bound = async () =>
      (await this.bindingOf(signedIn)).deviceBound &&
      (await this.cookies(signedIn)).some((cookie) => cookie.name === this.boundCookie);
    await waitFor('the session to be device-bound, its cookie in the browser', bound, {
      timeoutMs: BROWSER_TIMEOUT_MS,
    });
  }

  /** The registrations the server answered since `since` (`Date.now()`). */
  registrationsSince(since: number): Exchange[] {
    return this.wire.to('/dbsc/register').filter((exchange) => exchange.at >= since);
  }

  /** The refreshes the server answered for this session, by their `Sec-Secure-Session-Id` (Chrome's: bare). */
  refreshes(sessionId: string): Exchange[] {
    return this.wire
      .to('/dbsc/refresh')
      .filter((exchange) => exchange.requestHeaders['sec-secure-session-id'] === sessionId);
  }

  async cookies({ recorded }: SignedInBrowser): Promise<Cookie[]> {
    return recorded.context.cookies(this.origin);
  }

  /**
   * Deletes the bound cookie from the browser's jar, as if it had expired, and reloads the
   * console: Chrome holds the navigation until it has refreshed. What reached /dbsc/refresh meanwhile.
   */
  async reloadWithoutBoundCookie(signedIn: SignedInBrowser, ready: Locator) {
    const { recorded, page, sessionId } = signedIn;
    const before = this.refreshes(sessionId).length;
    await recorded.context.clearCookies({ name: this.boundCookie });
    const reloadAt = Date.now();
    await page.reload();
    await ready.waitFor();
    return { heldMs: Date.now() - reloadAt, exchanges: this.refreshes(sessionId).slice(before) };
  }

  /** Reloads the console and counts the refreshes on the way: none when the browser is content with its cookies. */
  async refreshesOnReload({ page, sessionId }: SignedInBrowser, ready: Locator): Promise<number> {
    const before = this.refreshes(sessionId).length;
    await page.reload();
    await ready.waitFor();
    return this.refreshes(sessionId).length - before;
  }

  /**
   * The DBSC counters of /metrics (`gatehouse_dbsc_*_total`), by series as printed, e.g.
   * `refreshes{result="rotated"}`; a series not printed yet is absent.
   */
  async dbscCounters(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.server.url}/metrics`)).text();
    const counters: Record<string, number> = {};
    for (const match of text.matchAll(/^gatehouse_dbsc_(\w+?)_total(\{[^}]*\})? (\S+)$/gm)) {
      counters[`${match[1]}${match[2] ?? ''}`] = Number(match[3]);
    }
    return counters;
  }

  /** A Node client holding exactly these cookies and no key, as a thief who copied them would. */
  nodeClientWith(cookies: readonly Cookie[]): DbscClient {
    const client = new DbscClient(this.server.url);
    for (const cookie of cookies) client.jar.set(cookie.name, cookie.value);
    return client;
  }

  async stop(): Promise<void> {
    await Promise.all(this.contexts.map((context) => context.close().catch(() => undefined)));
    this.wire.stop();
    await this.server.stop();
  }
}

/** The signed-in page's own session, asked from the page (its cookies, its DBSC). */
export function browserSession(page: Page): Promise<BrowserSession | null> {
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

/** The request is not signed in, and nothing else happens: no data, no error (as for no cookie at all). */
export async function assertNotServed(client: DbscClient, label: string): Promise<void> {
  const result = await client.graphql('{ me { id } currentSession { id } }');
  assert.deepEqual(
    { status: result.status, data: result.data, errors: result.errors },
    { status: 200, data: { me: null, currentSession: null }, errors: undefined },
    label,
  );
}

export function setCookies(exchange: Exchange): string[] {
  const value = exchange.responseHeaders?.['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
}

/** One exchange on a few lines, the DBSC headers (long proofs shortened), for diagnostics and failures. */
export function describeExchange(exchange: Exchange): string {
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

/** One diagnostic line per line of {@link describeExchange} (node:test escapes newlines). */
export function diagnose(t: TestContext, exchange: Exchange): void {
  for (const line of describeExchange(exchange).split('\n')) t.diagnostic(line);
}
