/**
 * `gatehouse/client` (src/client/) in Node against a real server over real HTTP and a real
 * socket: both sign-in steps, who am I, my sessions, ending one, hearing of the end with its
 * reason, and the socket rules (none before login, one per client, never again after 4403).
 * Every bad input rejects with a GatehouseError whose `code` says why, leaves the client's
 * state as it was (or signed out, when the session is gone), and leaves the server up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { GatehouseError, type SessionEndReason, type SessionEndedEvent } from '../src/client/index.js';
import { KickSessionDocument } from './generated/graphql.js';
import { sleep, waitFor, within } from './support/async.js';
import { MINUTE } from './support/clock.js';
import { enrollTotp, freshCode } from './support/factors.js';
import { HangingProxy } from './support/hanging-proxy.js';
import { nodeClient, type NodeClient } from './support/node-client.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

/** A bound on waiting for a push, far above what one takes. */
const WAIT_MS = 10_000;
/**
 * How long "nothing reconnects" is watched. graphql-ws retries a closed socket after 1.3–4 s
 * (docs/front-ends.md), so a retry would show within this; a slow machine only makes it surer.
 */
const NO_RECONNECT_MS = 4_500;
/** A bound on graphql-ws giving up on a dead network: its 3 retries wait 7.9–16 s in all (docs/front-ends.md). */
const RETRIES_SPENT_MS = 25_000;

/** Rejects unless `promise` rejects with a GatehouseError of `code`; returns the error. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<GatehouseError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but it succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GatehouseError, `expected a GatehouseError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  assert.equal(error.extensions.code, code);
  return error;
}

/** The ends a client's listener hears, and a promise of the first. */
function recordEnds(client: NodeClient['client']) {
  const ends: Array<{ reason: SessionEndReason | null; event: SessionEndedEvent }> = [];
  let first!: () => void;
  const heard = new Promise<void>((resolve) => (first = resolve));
  const stop = client.onSessionEnded((reason, event) => {
    ends.push({ reason, event });
    first();
  });
  return { ends, heard: () => within(heard, WAIT_MS, 'onSessionEnded'), stop };
}

/** Waits until the server holds the client's `sessionRevoked` watch (one socket: 3 watches, see live-sockets.test.ts). */
const watched = (server: TestServer, sessionId: string) =>
  waitFor('the socket to watch the session', () => server.app.core.watcher.watchCount(sessionId) >= 3, {
    timeoutMs: WAIT_MS,
  });

// The client sees only HTTP and WebSocket, alike on both databases (the server's own suites
// run on both): one database keeps its slow network-drop cases to one run.
for (const kind of ['sqlite'] as const) {
  describe(`gatehouse/client in Node (${kind})`, { timeout: 120_000 }, () => {
    let server: TestServer;
    let adminId: string;
    before(async () => {
      // SECRETS_KEY: PostgreSQL needs one for authenticator apps (SQLite generates its own).
      server = await startTestServer({ database: kind, env: { SECRETS_KEY: randomBytes(32).toString('base64') } });
      const admin = await server.adminClient();
      await createUser(admin, 'alice');
      await createUser(admin, 'bob');
      await createUser(admin, 'carol');
      adminId = (await admin.data<{ me: { id: string } }, never>('{ me { id } }')).me.id;
    });
    after(() => server.stop());

    it('login, me, sessions, request, logout: the state follows, and no socket opens without a listener', async () => {
      const { client, sockets } = nodeClient(server);
      assert.equal(client.state.status, 'loading');
      const login = await client.login('alice', passwordOf('alice'));
      assert.equal(login.nextStep, 'DONE');
      assert.equal(login.user.username, 'alice');
      assert.deepEqual(login.session.authenticationMethods, ['PASSWORD']);
      assert.equal(client.state.status, 'signedIn');
      assert.equal(client.state.session?.id, login.session.id);
      assert.deepEqual(await client.me(), login.user);
      const sessions = await client.sessions();
      assert.deepEqual(
        sessions.filter((session) => session.current).map((session) => session.id),
        [login.session.id],
      );
      const data = await client.request<{ currentSession: { id: string } }, Record<string, never>>(
        '{ currentSession { id } }',
      );
      assert.equal(data.currentSession.id, login.session.id);
      await client.logout();
      assert.equal(client.state.status, 'signedOut');
      assert.equal(client.state.endedReason, null);
      assert.equal(await client.me(), null);
      assert.equal(sockets.opened, 0, 'nothing listened, so no socket');
      client.dispose();
    });

    it('a second factor: login says SECOND_FACTOR, a wrong code is refused, the right one signs in at AAL2', async () => {
      const dave = await signIn(server, await ensureUser('dave'));
      const { secret } = await enrollTotp(server, dave.client);
      const { client } = nodeClient(server);
      const login = await client.login('dave', passwordOf('dave'));
      assert.equal(login.nextStep, 'SECOND_FACTOR');
      assert.equal(client.state.status, 'secondStep');
      assert.equal(client.state.nextStep, 'SECOND_FACTOR');
      assert.equal(client.state.user?.username, 'dave');
      const refused = await rejectsWith(client.me(), 'SECOND_FACTOR_REQUIRED');
      assert.equal(refused.extensions.nextStep, 'SECOND_FACTOR');
      await rejectsWith(client.verifySecondFactor('000000'), 'INVALID_SECOND_FACTOR');
      assert.equal(client.state.status, 'secondStep', 'a wrong code leaves the step waiting');
      const done = await client.verifySecondFactor(freshCode(server, secret));
      assert.equal(done.nextStep, 'DONE');
      assert.equal(done.session.assurance, 'AAL2');
      assert.equal(client.state.status, 'signedIn');
      assert.notEqual(done.session.id, login.session.id, 'the second step is a new session');
      assert.equal((await client.me())?.username, 'dave');
      client.dispose();
    });

    it('a second step after the pending login timed out is UNAUTHENTICATED and leaves the client signed out', async () => {
      const erin = await signIn(server, await ensureUser('erin'));
      const { secret } = await enrollTotp(server, erin.client);
      const { client } = nodeClient(server);
      await client.login('erin', passwordOf('erin'));
      server.clock.advance(6 * MINUTE);
      await rejectsWith(client.verifySecondFactor(freshCode(server, secret)), 'UNAUTHENTICATED');
      assert.equal(client.state.status, 'signedOut');
      client.dispose();
    });

    it('refresh: a new client on the same cookies finds the session, the pending step, or none', async () => {
      const first = nodeClient(server);
      await first.client.login('bob', passwordOf('bob'));
      const tab = nodeClient(server, { jar: first.jar });
      const state = await tab.client.refresh();
      assert.equal(state.status, 'signedIn');
      assert.equal(state.user?.username, 'bob');
      assert.equal(state.session?.id, first.client.state.session?.id);
      await first.client.logout();
      assert.equal((await tab.client.refresh()).status, 'signedOut');

      const dave = nodeClient(server);
      await dave.client.login('dave', passwordOf('dave'));
      const daveTab = nodeClient(server, { jar: dave.jar });
      const pending = await daveTab.client.refresh();
      assert.equal(pending.status, 'secondStep');
      assert.equal(pending.nextStep, 'SECOND_FACTOR');
      assert.equal(pending.user?.username, 'dave');
      for (const { client } of [first, tab, dave, daveTab]) client.dispose();
    });

    it('onSessionEnded: an admin kick reaches the listener with KICKED, once, on the one socket, which never reconnects', async () => {
      const { client, sockets } = nodeClient(server);
      const { ends, heard } = recordEnds(client);
      await sleep(50);
      assert.equal(sockets.opened, 0, 'a listener before login opens no socket (it would be anonymous)');
      const { session } = await client.login('carol', passwordOf('carol'));
      await watched(server, session.id);
      assert.equal(sockets.opened, 1);

      const admin = await server.adminClient();
      await admin.data(KickSessionDocument, { sessionId: session.id });
      await heard();
      assert.equal(ends.length, 1);
      assert.equal(ends[0]!.reason, 'KICKED');
      assert.equal(ends[0]!.event.sessionId, session.id);
      assert.ok(ends[0]!.event.at === null || !Number.isNaN(Date.parse(ends[0]!.event.at)));
      assert.equal(client.state.status, 'signedOut');
      assert.equal(client.state.endedReason, 'KICKED');

      await waitFor('the socket to close', () => sockets.closes.length === 1, { timeoutMs: WAIT_MS });
      // Gatehouse's 4403, or the client's own 1000 when it closed first on the event (a race:
      // docs/front-ends.md). The 4403 arriving first is the next test's.
      assert.ok(
        [`4403 Session ended: KICKED`, '1000 Normal Closure'].includes(
          `${sockets.closes[0]!.code} ${sockets.closes[0]!.reason}`,
        ),
        `closed ${sockets.closes[0]!.code} ${sockets.closes[0]!.reason}`,
      );
      await sleep(NO_RECONNECT_MS);
      assert.equal(sockets.opened, 1, 'no socket after the end: a new one would be anonymous');
      assert.equal(ends.length, 1, 'the end is told once');
      const subscribed = await new Promise<GatehouseError>((resolve) =>
        client.subscribe('subscription { sessionRevoked { reason } }', undefined, { next: () => {}, error: resolve }),
      );
      assert.equal(subscribed.code, 'UNAUTHENTICATED');
      assert.equal(sockets.opened, 1, 'a subscription while signed out opens nothing');
      client.dispose();
    });

    it('a 4403 close that comes before any event: the end is reported once with its reason, and nothing reconnects', async () => {
      // A stand-in for Gatehouse's socket that closes as Gatehouse does, but sends no sessionRevoked first.
      const standIn = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      let upgrades = 0;
      standIn.on('connection', (socket) => {
        upgrades++;
        socket.on('message', (raw: Buffer) => {
          const message = JSON.parse(raw.toString()) as { type: string };
          if (message.type === 'connection_init') socket.send(JSON.stringify({ type: 'connection_ack' }));
          if (message.type === 'subscribe') socket.close(4403, 'Session ended: KICKED');
        });
      });
      await new Promise((resolve) => standIn.once('listening', resolve));
      const { port } = standIn.address() as AddressInfo;
      const { client, sockets } = nodeClient(server, { socketUrl: `ws://127.0.0.1:${port}/graphql` });
      const { ends, heard } = recordEnds(client);
      const { session } = await client.login('carol', passwordOf('carol'));
      await heard();
      assert.deepEqual(ends, [{ reason: 'KICKED', event: { sessionId: session.id, reason: 'KICKED', at: null } }]);
      assert.equal(client.state.endedReason, 'KICKED');
      await sleep(NO_RECONNECT_MS);
      assert.deepEqual(sockets.closes, [{ code: 4403, reason: 'Session ended: KICKED' }]);
      assert.equal(upgrades, 1, 'no retry after 4403');
      assert.equal(ends.length, 1);
      client.dispose();
      await new Promise((resolve) => standIn.close(resolve));
    });

    it('one socket per client: the end watch and every subscription share it; a new login gets a new one', async () => {
      const { client, sockets } = nodeClient(server);
      const { ends, stop } = recordEnds(client);
      const first = await client.login('admin', 'admin-password-for-tests');
      const events: unknown[] = [];
      const stops = [1, 2].map(() =>
        client.subscribe('subscription { sessionEvents { type } }', undefined, { next: (data) => events.push(data) }),
      );
      await watched(server, first.session.id);
      await signIn(server, 'alice');
      await waitFor('both subscriptions to hear the login', () => events.length >= 2, { timeoutMs: WAIT_MS });
      assert.equal(sockets.opened, 1);

      const second = await client.login('admin', 'admin-password-for-tests');
      await watched(server, second.session.id);
      assert.equal(sockets.opened, 2, 'the new session has its own socket');
      await waitFor('the first socket to close', () => sockets.closes.length === 1, { timeoutMs: WAIT_MS });
      assert.equal(ends.length, 0, 'replacing a session is not its end');
      for (const unsubscribe of stops) unsubscribe();
      stop();
      await waitFor('the idle socket to close', () => sockets.closes.length === 2, { timeoutMs: WAIT_MS });
      assert.equal(sockets.opened, 2);
      await client.logout();
      client.dispose();
    });

    it('endSession: ending one of my other sessions, then my own, which my listener hears as KICKED', async () => {
      const other = await signIn(server, 'bob');
      const { client } = nodeClient(server);
      const { ends, heard } = recordEnds(client);
      const { session } = await client.login('bob', passwordOf('bob'));
      await watched(server, session.id);
      const ended = await client.endSession(other.session.id);
      assert.equal(ended.id, other.session.id);
      assert.ok(!(await client.sessions()).some((listed) => listed.id === other.session.id));
      await client.endSession(session.id);
      await heard();
      assert.deepEqual(
        ends.map((end) => end.reason),
        ['KICKED'],
      );
      assert.equal(client.state.status, 'signedOut');
      client.dispose();
    });

    it('logout is not an end the listener hears, and closes the socket', async () => {
      const { client, sockets } = nodeClient(server);
      const { ends } = recordEnds(client);
      const { session } = await client.login('alice', passwordOf('alice'));
      await watched(server, session.id);
      await client.logout();
      await waitFor('the socket to close', () => sockets.closes.length === 1, { timeoutMs: WAIT_MS });
      await sleep(200);
      assert.equal(ends.length, 0);
      assert.equal(sockets.opened, 1);
      client.dispose();
    });

    /**
     * Signs `username` in on a client behind a proxy, listened to, then cuts the network (the
     * proxy closes: the socket drops, every retry is refused) until graphql-ws has given up.
     * `reconnect` brings the network back on the same port.
     */
    async function droppedPastRetries(username: string) {
      const proxy = await HangingProxy.start(server.url, { postgres: false });
      const { client, sockets } = nodeClient(server, { url: proxy.urlFor(server.url) });
      const recorded = recordEnds(client);
      const { session } = await client.login(username, passwordOf(username));
      await watched(server, session.id);
      await proxy.close();
      await waitFor('the socket and its 3 retries to close', () => sockets.closes.length >= 4, {
        timeoutMs: RETRIES_SPENT_MS,
      });
      assert.equal(sockets.opened, 4, 'the socket, then 3 retries');
      const reconnect = () => HangingProxy.start(server.url, { postgres: false, port: proxy.port });
      return { client, sockets, session, reconnect, ...recorded };
    }

    it('a network drop past graphql-ws’s retries: once Gatehouse is back the watch is taken up again, and a kick is heard', async () => {
      const { client, session, reconnect, ends, heard } = await droppedPastRetries('alice');
      const proxy = await reconnect();
      await watched(server, session.id);
      assert.equal(client.state.status, 'signedIn');
      await (await server.adminClient()).data(KickSessionDocument, { sessionId: session.id });
      await heard();
      assert.deepEqual(
        ends.map((end) => end.reason),
        ['KICKED'],
      );
      client.dispose();
      await proxy.close();
    });

    it('an end during a network drop is reported once Gatehouse is back (reason null), and no socket opens on the dead cookie', async () => {
      const { client, sockets, session, reconnect, ends, heard } = await droppedPastRetries('bob');
      await (await server.adminClient()).data(KickSessionDocument, { sessionId: session.id });
      const proxy = await reconnect();
      await heard();
      assert.deepEqual(ends, [{ reason: null, event: { sessionId: session.id, reason: null, at: null } }]);
      assert.equal(client.state.status, 'signedOut');
      await sleep(NO_RECONNECT_MS);
      assert.equal(sockets.opened, 4, 'asked over HTTP, so no upgrade with the ended session’s cookie');
      client.dispose();
      await proxy.close();
    });

    it('a session that ended while nothing held the socket: a listener added later hears the end, and no socket opens', async () => {
      const { client, sockets } = nodeClient(server);
      const { session } = await client.login('carol', passwordOf('carol'));
      await (await server.adminClient()).data(KickSessionDocument, { sessionId: session.id });
      assert.equal(client.state.status, 'signedIn', 'nothing told this client yet');
      const { ends, heard } = recordEnds(client);
      await heard();
      assert.deepEqual(
        ends.map((end) => end.reason),
        [null],
      );
      assert.equal(client.state.status, 'signedOut');
      assert.equal(sockets.opened, 0);
      client.dispose();
    });

    it('refresh: an answer older than a logout is dropped, and a session gone between its two questions is signed out', async () => {
      // Holds the next request of `operation` at `at` until release(); `reached` once it waits there.
      let held: Promise<void> | undefined;
      let reached = false;
      let release = () => {};
      const hold = (operation: string, at: 'request' | 'answer') => (body: string, when: 'request' | 'answer') => {
        if (!body.includes(operation) || when !== at || !held) return undefined;
        reached = true;
        return held;
      };
      const holdNext = () => {
        reached = false;
        held = new Promise<void>((resolve) => (release = () => ((held = undefined), resolve())));
      };

      const answerHeld = nodeClient(server, { pause: hold('GatehouseMe', 'answer') });
      const { ends } = recordEnds(answerHeld.client);
      const first = await answerHeld.client.login('alice', passwordOf('alice'));
      await watched(server, first.session.id);
      holdNext();
      const refreshed = answerHeld.client.refresh();
      await waitFor('refresh’s answer to who I am', () => reached);
      await answerHeld.client.logout();
      release();
      assert.equal((await refreshed).status, 'signedOut', 'the answer from before the logout is dropped');
      assert.equal(answerHeld.client.state.status, 'signedOut');
      await sleep(200);
      assert.equal(answerHeld.sockets.opened, 1, 'only the socket of the session before the logout');
      assert.equal(ends.length, 0);

      const requestHeld = nodeClient(server, { pause: hold('GatehouseMe', 'request') });
      const { session } = await requestHeld.client.login('bob', passwordOf('bob'));
      holdNext();
      const signedOut = requestHeld.client.refresh();
      await waitFor('refresh to ask who I am', () => reached);
      await (await server.adminClient()).data(KickSessionDocument, { sessionId: session.id });
      release();
      assert.equal((await signedOut).status, 'signedOut', 'me: null is no session');
      for (const { client } of [answerHeld, requestHeld]) client.dispose();
    });

    it('bad input of every kind rejects with its code, keeps the state, and the server stays up', async () => {
      const { client } = nodeClient(server);
      // A wrong password: INVALID_CREDENTIALS, still signed out.
      const wrong = await rejectsWith(client.login('alice', 'not her password'), 'INVALID_CREDENTIALS');
      assert.equal(wrong.status, 200);
      assert.notEqual(client.state.status, 'signedIn');
      // Signed out: my sessions and ending one are UNAUTHENTICATED; a second step with no pending login too.
      await rejectsWith(client.sessions(), 'UNAUTHENTICATED');
      await rejectsWith(client.endSession('00000000-0000-0000-0000-000000000000'), 'UNAUTHENTICATED');
      await rejectsWith(client.verifySecondFactor('123456'), 'UNAUTHENTICATED');
      await client.login('alice', passwordOf('alice'));
      // Someone else's session, or none: NOT_FOUND (never a hint that it exists); a malformed id likewise.
      const adminSession = (await signIn(server, 'admin', 'admin-password-for-tests')).session.id;
      await rejectsWith(client.endSession(adminSession), 'NOT_FOUND');
      await rejectsWith(client.endSession('not-an-id'), 'NOT_FOUND');
      // Documents: a syntax error (400) and an unknown field are BAD_USER_INPUT, an admin field FORBIDDEN.
      const syntax = await rejectsWith(client.request('{ me {'), 'BAD_USER_INPUT');
      assert.equal(syntax.status, 400);
      await rejectsWith(client.request('{ noSuchField }'), 'BAD_USER_INPUT');
      await rejectsWith(client.request('{ users { totalCount } }'), 'FORBIDDEN');
      await rejectsWith(client.request('query ($id: ID!) { sessionsByUser(userId: $id) { id } }'), 'BAD_USER_INPUT');
      const forbidden = await rejectsWith(
        client.request('query ($id: ID!) { sessionsByUser(userId: $id) { id } }', { id: adminId }),
        'FORBIDDEN',
      );
      assert.ok(forbidden.errors.length >= 1);
      assert.equal(client.state.status, 'signedIn', 'refusals leave the session as it was');
      assert.equal((await client.me())?.username, 'alice', 'and the server still serves');
      await client.logout();
      client.dispose();
    });

    it('transport failures: NETWORK_ERROR when Gatehouse is unreachable or not GraphQL, COOKIE_REFUSED when no cookie is kept', async () => {
      const unreachable = nodeClient(server, { url: 'http://127.0.0.1:9/graphql' });
      await rejectsWith(unreachable.client.me(), 'NETWORK_ERROR');
      const page = createServer((_request, response) => response.end('<!doctype html><p>Not Gatehouse</p>'));
      await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
      const notGraphQL = nodeClient(server, { url: `http://127.0.0.1:${(page.address() as AddressInfo).port}` });
      const html = await rejectsWith(notGraphQL.client.me(), 'NETWORK_ERROR');
      assert.equal(html.status, 200);
      page.close();
      const refusing = nodeClient(server, { refuseCookies: true });
      const refused = await rejectsWith(refusing.client.login('alice', passwordOf('alice')), 'COOKIE_REFUSED');
      assert.equal(refused.extensions.reason, 'BLOCKED', 'loopback over HTTP: neither plain HTTP nor another site');
      assert.notEqual(refusing.client.state.status, 'signedIn');
      for (const { client } of [unreachable, notGraphQL, refusing]) client.dispose();
    });

    /** Creates `username` through a fresh admin session (for users given a second factor, kept apart from the rest). */
    async function ensureUser(username: string): Promise<string> {
      const admin = await server.adminClient();
      await createUser(admin, username).catch((error: unknown) => {
        if (!String(error).includes('already taken')) throw error;
      });
      return username;
    }
  });
}
