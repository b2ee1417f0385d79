/**
 * gatehouse/verify against a real Gatehouse over real HTTP and WebSocket, on each database: the
 * cache serves what Gatehouse verified, an end anywhere evicts it within a second, expiry and the
 * idle timeout hold without asking, and every fault (the feed cut by a network that stops
 * forwarding without closing, Gatehouse unreachable, the service token revoked) turns the cache
 * off and each check into a question to Gatehouse, or a 503 when it cannot answer in time.
 *
 * What each kind of bad input gets: a malformed token, a service token sent as a session's, an
 * absurd bound cookie: null (401 in the middleware) without asking Gatehouse; no credentials:
 * 401; Gatehouse silent past `requestTimeoutMs`, or refusing the service token: 503 UNAVAILABLE.
 * The server stays up and ends nothing in every case.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { createVerifier, GatehouseUnavailableError, type Verifier, type VerifiedSession } from '../src/verify/index.js';
import { sleep, waitFor } from './support/async.js';
import { SECOND } from './support/clock.js';
import { KickSessionDocument, LogoutDocument } from './generated/graphql.js';
import { signInBound } from './support/bound-sessions.js';
import type { TestClient } from './support/client.js';
import { createServiceToken, revokeServiceToken } from './support/end-feed.js';
import { HangingProxy } from './support/hanging-proxy.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';
import { recordingLogger, REFUSED_ON_THE_FEED, settlesWithoutIo } from './support/verifier.js';

// What the README tells a Fastify user to write: the request's type gains the decorator.
declare module 'fastify' {
  interface FastifyRequest {
    gatehouse: VerifiedSession | null;
  }
}

/** The revocation guarantee, carried into the service. */
const ONE_SECOND = 1_000;
/** Bounds for waits that are not the guarantee under test (a feed coming up, a reconnection). */
const FEED_UP_MS = 10_000;

/** A request to a service, with `headers`, for `verifier.fetch`. */
const requestWith = (headers: Record<string, string>) => new Request('http://service.test/orders', { headers });

async function signedIn(server: TestServer, admin: TestClient, username: string) {
  await createUser(admin, username);
  const { client, session } = await signIn(server, username);
  return { client, sessionId: session.id, token: client.token! };
}

async function trustedVerifier(url: string, serviceToken: string, options: { requestTimeoutMs?: number } = {}) {
  const log = recordingLogger();
  const verifier = createVerifier({ url, serviceToken, logger: log.logger, ...options });
  await waitFor('the end feed to prove itself', () => verifier.trusted, { timeoutMs: FEED_UP_MS });
  return { verifier, log };
}

/** Polls `verify` until it says null; how long that took after `since` (bounded by `ms`). */
async function refusedWithin(verifier: Verifier, token: string, since: number, ms: number): Promise<number> {
  await waitFor(`the session to be refused within ${ms} ms`, async () => (await verifier.verify(token)) === null, {
    timeoutMs: ms,
    intervalMs: 5,
  });
  return performance.now() - since;
}

// The verifier sees only Gatehouse's HTTP and feed, alike on both databases: the feed on
// PostgreSQL is session-end-feed.test.ts's, the verifier on both is verify-package.test.ts's.
for (const kind of ['sqlite'] as const) {
  describe(`gatehouse/verify against a real Gatehouse (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    let serviceToken: string;
    let verifier: Verifier;
    let log: ReturnType<typeof recordingLogger>;
    let users = 0;
    const nextUser = () => signedIn(server, admin, `user${++users}`);

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await server.adminClient();
      serviceToken = (await createServiceToken(server, ['VERIFY_SESSIONS'])).token;
      ({ verifier, log } = await trustedVerifier(server.url, serviceToken));
    });

    after(async () => {
      await verifier?.close();
      await server?.stop();
    });

    it('asks Gatehouse once per session, then answers from memory: cookie, bearer and the middleware alike', async () => {
      const { token, sessionId } = await nextUser();
      const first = verifier.verify(token);
      assert.equal(await settlesWithoutIo(first), false, 'the first check asks Gatehouse');
      const verified = await first;
      assert.equal(verified?.session.id, sessionId);
      assert.equal(verified?.user.username, `user${users}`);
      assert.equal(verified?.user.role, 'USER');
      assert.equal(verified?.session.assurance, 'AAL1');
      assert.equal(verified?.session.deviceBound, false);
      assert.ok(verified?.session.expiresAt instanceof Date && verified.session.expiresAt.getTime() > Date.now());
      assert.equal(await settlesWithoutIo(verifier.verify(token)), true, 'the second comes from memory');
      const byCookie = verifier.fetch(requestWith({ cookie: `other=1; gatehouse_session=${token}` }));
      assert.equal(await settlesWithoutIo(byCookie), true);
      assert.equal(((await byCookie) as VerifiedSession).session.id, sessionId);
      const byBearer = await verifier.fetch(requestWith({ authorization: `Bearer ${token}` }));
      assert.equal((byBearer as VerifiedSession).session.id, sessionId);
      assert.equal(log.at('warn').length + log.at('error').length, 0, JSON.stringify(log.lines));
    });

    it('concurrent first checks of one token share a single question to Gatehouse', async () => {
      const { token } = await nextUser();
      const answers = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
      assert.ok(answers[0]);
      assert.ok(
        answers.every((answer) => answer === answers[0]),
        'every caller got the one answer',
      );
    });

    it('a kick reaches the cache within a second: the cached session is refused', async () => {
      const { token, sessionId } = await nextUser();
      assert.ok(await verifier.verify(token));
      assert.equal(await settlesWithoutIo(verifier.verify(token)), true, 'served from memory before the kick');
      await admin.data(KickSessionDocument, { sessionId });
      const latency = await refusedWithin(verifier, token, performance.now(), ONE_SECOND);
      assert.equal(await settlesWithoutIo(verifier.verify(token)), false, 'not cached again after the end');
      assert.equal(await verifier.verify(token), null);
      assert.ok(latency < ONE_SECOND, `${latency} ms`);
    });

    it('a logout likewise, and every key of the session goes (its token with and without a bound cookie)', async () => {
      const { client, token } = await nextUser();
      assert.ok(await verifier.verify(token));
      assert.ok(await verifier.verify(token, 'stray-bound-cookie'), 'an unbound session ignores a bound cookie');
      await client.data(LogoutDocument);
      await refusedWithin(verifier, token, performance.now(), ONE_SECOND);
      assert.equal(await verifier.verify(token, 'stray-bound-cookie'), null);
    });

    it('a device-bound session is served only with its bound cookie, from the cookies of the request; never cached without it', async () => {
      await createUser(admin, 'bound-user');
      const bound = await signInBound(server, 'bound-user');
      const cookie = bound.client.cookieHeader();
      const verified = (await verifier.fetch(requestWith({ cookie }))) as VerifiedSession;
      assert.equal(verified.session.id, bound.sessionId);
      assert.equal(verified.session.deviceBound, true);
      const token = /gatehouse_session=([^;]+)/.exec(cookie)![1]!;
      // In the binding window Gatehouse admits the session cookie alone; the verifier does not cache that.
      assert.equal((await verifier.verify(token))?.session.id, bound.sessionId);
      assert.equal(
        await settlesWithoutIo(verifier.verify(token)),
        false,
        'asked again: not cached without its bound cookie',
      );
      // Past the registration window (by the server's clock), in which the session cookie alone still works.
      server.clock.advance(11 * SECOND);
      assert.equal(await verifier.verify(token), null, 'the session cookie alone is refused');
      const refused = await verifier.fetch(requestWith({ cookie: `gatehouse_session=${token}` }));
      assert.equal((refused as Response).status, 401);
    });

    it('refuses garbage without asking Gatehouse, and answers 401 like Gatehouse when there is no session', async () => {
      const garbage = [
        '',
        'short',
        'x'.repeat(43) + '!',
        `ghs_${randomBytes(32).toString('base64url')}`,
        'é'.repeat(43),
      ];
      for (const token of garbage) {
        const answer = verifier.verify(token);
        assert.equal(await settlesWithoutIo(answer), true, `${JSON.stringify(token)} is refused at once`);
        assert.equal(await answer, null);
      }
      const { token } = await nextUser();
      assert.equal(await verifier.verify(token, 'x'.repeat(5000)), null, 'an absurd bound cookie');
      const unknown = randomBytes(32).toString('base64url');
      assert.equal(await verifier.verify(unknown), null, 'a well-formed unknown token: Gatehouse says no one');
      const refused = (await verifier.fetch(requestWith({}))) as Response;
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
      assert.equal(refused.headers.get('cache-control'), 'no-store');
      const body = (await refused.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      assert.equal(body.errors[0]?.extensions.code, 'UNAUTHENTICATED');
      assert.match(body.errors[0]!.message, /^No valid session/);
      assert.ok(await verifier.verify(token), 'the server is up and the session unharmed');
    });

    it('Express and Fastify apps put the session on the request (cookie or bearer), and refuse with 401 JSON', async () => {
      const { token, sessionId } = await nextUser();
      const expressApp = express();
      expressApp.use(verifier.express());
      expressApp.get('/me', (req, res) => void res.json({ sessionId: req.gatehouse?.session.id }));
      const fastify = Fastify();
      await fastify.register(verifier.fastify());
      fastify.get('/me', async (request) => ({ sessionId: request.gatehouse?.session.id }));
      const expressServer = expressApp.listen(0, '127.0.0.1');
      await new Promise((resolve) => expressServer.once('listening', resolve));
      const fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
      try {
        const address = expressServer.address() as { port: number };
        for (const base of [`http://127.0.0.1:${address.port}`, fastifyUrl]) {
          const credentials: Array<Record<string, string>> = [
            { cookie: `gatehouse_session=${token}` },
            { authorization: `Bearer ${token}` },
          ];
          for (const headers of credentials) {
            const ok = await fetch(`${base}/me`, { headers });
            assert.equal(ok.status, 200, `${base} ${Object.keys(headers)[0]}`);
            assert.deepEqual(await ok.json(), { sessionId });
          }
          const refused = await fetch(`${base}/me`);
          assert.equal(refused.status, 401, base);
          assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
          assert.equal(
            ((await refused.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
            'UNAUTHENTICATED',
          );
        }
      } finally {
        expressServer.close();
        await fastify.close();
      }
    });

    describe('faults between the service and Gatehouse', () => {
      let proxy: HangingProxy;
      const isFeed = (connection: { firstLine: string | undefined }) =>
        connection.firstLine?.startsWith('GET ') === true;

      before(async () => {
        proxy = await HangingProxy.start(server.url, { postgres: false });
      });
      after(async () => {
        await proxy?.close();
      });

      it('the feed cut without a close: trust lapses within a second, a kick is still refused within a second (Gatehouse asked), and all recovers', async () => {
        const { verifier: cut, log: cutLog } = await trustedVerifier(proxy.urlFor(server.url), serviceToken);
        try {
          const alice = await nextUser();
          const bob = await nextUser();
          assert.ok(await cut.verify(alice.token));
          assert.ok(await cut.verify(bob.token));
          const hungAt = performance.now();
          proxy.hang({ which: isFeed, andNew: true });
          await admin.data(KickSessionDocument, { sessionId: alice.sessionId });
          const latency = await refusedWithin(cut, alice.token, hungAt, ONE_SECOND);
          assert.ok(latency < ONE_SECOND, `${latency} ms`);
          // Refused only once the cache was off: trust lapsed within the second as well.
          assert.equal(cut.trusted, false);
          const remote = cut.verify(bob.token);
          assert.equal(await settlesWithoutIo(remote), false, 'the cache is off: Gatehouse is asked');
          assert.equal((await remote)?.session.id, bob.sessionId);
          assert.equal(cutLog.at('warn').length, 1, JSON.stringify(cutLog.lines));
          assert.match(cutLog.at('warn')[0]!, /not proven/);
          proxy.resume();
          await waitFor('the feed to be back', () => cut.trusted, { timeoutMs: FEED_UP_MS });
          assert.match(cutLog.at('info').at(-1)!, /again/);
          // The first proof after the cut may be short-lived (its ping was sent during the cut): an
          // answer is cached once trust holds through a whole check.
          await waitFor(
            'answers from memory again',
            async () => (await cut.verify(bob.token)) && settlesWithoutIo(cut.verify(bob.token)),
            { timeoutMs: FEED_UP_MS },
          );
        } finally {
          proxy.resume();
          await cut.close();
        }
      });

      it('an answer that left Gatehouse before the session ended and arrives after its ENDED is neither served nor cached', async () => {
        const { verifier: slow } = await trustedVerifier(proxy.urlFor(server.url), serviceToken);
        try {
          const { token, sessionId } = await nextUser();
          // The same session under a second key (an unbound session ignores a bound cookie): its
          // eviction shows when the ENDED has reached this verifier.
          assert.ok(await slow.verify(token, 'stray-bound-cookie'));
          const heldFrom = performance.now();
          proxy.hang({ which: (connection) => !isFeed(connection), andNew: true, hold: 'answers' });
          const raced = slow.verify(token);
          await waitFor('Gatehouse to have answered (the answer held on its way back)', () =>
            proxy.connections().some((connection) => (connection.firstAnswerHeldAt ?? 0) >= heldFrom),
          );
          await admin.data(KickSessionDocument, { sessionId });
          await waitFor(
            'the ENDED to evict the other key',
            async () => !(await settlesWithoutIo(slow.verify(token, 'stray-bound-cookie'))),
            { timeoutMs: ONE_SECOND },
          );
          proxy.resume();
          assert.equal(await raced, null, 'the answer from before the end is not served');
          const again = slow.verify(token);
          assert.equal(await settlesWithoutIo(again), false, 'nor was it cached');
          assert.equal(await again, null);
        } finally {
          proxy.resume();
          await slow.close();
        }
      });

      it('a check joins a remote check of its session only if that one was sent less than a second before it', async () => {
        // A proxy of its own: no connection of another test is pooled for its address, so each
        // remote check that cannot share one opens a connection, and the count says what was sent.
        const own = await HangingProxy.start(server.url, { postgres: false });
        const { verifier: slow } = await trustedVerifier(own.urlFor(server.url), serviceToken, {
          requestTimeoutMs: 10_000,
        });
        const checksSent = () => own.connections().filter((connection) => !isFeed(connection)).length;
        try {
          const { token } = await nextUser();
          own.hang({ which: (connection) => !isFeed(connection), andNew: true, hold: 'answers' });
          const first = slow.verify(token);
          const joined = slow.verify(token);
          await waitFor('the first check to reach Gatehouse', () => checksSent() === 1);
          await sleep(ONE_SECOND + 50);
          // Gatehouse may have answered the first before an end this request must see: it asks anew.
          const late = slow.verify(token);
          await waitFor('a second check to be sent', () => checksSent() === 2, { timeoutMs: ONE_SECOND });
          own.resume();
          const answers = await Promise.all([first, joined, late]);
          assert.ok(answers.every((answer) => answer !== null));
          assert.equal(checksSent(), 2, 'the concurrent one joined the first');
        } finally {
          own.resume();
          await slow.close();
          await own.close();
        }
      });

      it('Gatehouse unreachable: every check is a 503 within requestTimeoutMs, never a stale answer', async () => {
        const requestTimeoutMs = 500;
        const { verifier: cut } = await trustedVerifier(proxy.urlFor(server.url), serviceToken, { requestTimeoutMs });
        try {
          const { token } = await nextUser();
          assert.ok(await cut.verify(token));
          proxy.hang({ andNew: true });
          await waitFor('trust to lapse', () => !cut.trusted, { timeoutMs: ONE_SECOND + 100 });
          const startedAt = performance.now();
          await assert.rejects(cut.verify(token), GatehouseUnavailableError);
          const elapsed = performance.now() - startedAt;
          assert.ok(elapsed >= requestTimeoutMs - 50 && elapsed < requestTimeoutMs + 1_000, `${elapsed} ms`);
          const refused = (await cut.fetch(requestWith({ cookie: `gatehouse_session=${token}` }))) as Response;
          assert.equal(refused.status, 503);
          assert.equal(refused.headers.get('retry-after'), '5');
          assert.equal(
            ((await refused.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code,
            'UNAVAILABLE',
          );
          proxy.resume();
          await waitFor('the feed to be back', () => cut.trusted, { timeoutMs: FEED_UP_MS });
          assert.ok(await cut.verify(token));
        } finally {
          proxy.resume();
          await cut.close();
        }
      });
    });

    it('a revoked service token closes its feed: an error is logged, the cache is off, every check is a 503', async () => {
      const doomed = await createServiceToken(server, ['VERIFY_SESSIONS']);
      const { verifier: revoked, log: revokedLog } = await trustedVerifier(server.url, doomed.token);
      try {
        const { token } = await nextUser();
        assert.ok(await revoked.verify(token));
        await revokeServiceToken(server, doomed.id);
        await waitFor('the feed to close', () => !revoked.trusted, { timeoutMs: ONE_SECOND });
        await assert.rejects(revoked.verify(token), GatehouseUnavailableError);
        const refused = (await revoked.fetch(requestWith({ authorization: `Bearer ${token}` }))) as Response;
        assert.equal(refused.status, 503);
        await waitFor(
          () => `the refusal logged: ${JSON.stringify(revokedLog.lines)}`,
          () => revokedLog.at('error').some((line) => REFUSED_ON_THE_FEED.test(line)),
          { timeoutMs: ONE_SECOND },
        );
        assert.ok(await verifier.verify(token), 'other services are unaffected');
      } finally {
        await revoked.close();
      }
    });

    it('an unknown service token: the feed is refused and logged once, checks are 503', async () => {
      const bogus = `ghs_${randomBytes(32).toString('base64url')}`;
      const log = recordingLogger();
      const refused = createVerifier({ url: server.url, serviceToken: bogus, logger: log.logger });
      try {
        const { token } = await nextUser();
        await assert.rejects(refused.verify(token), GatehouseUnavailableError);
        await waitFor('the refusal logged', () => log.at('error').length >= 2, { timeoutMs: FEED_UP_MS });
        await sleep(300);
        assert.equal(refused.trusted, false);
        assert.equal(log.at('error').length, 2, 'once for the feed, once for verifySession');
      } finally {
        await refused.close();
      }
    });
  });

  describe(`gatehouse/verify honours expiry and the idle timeout without asking (${kind})`, () => {
    // The server's clock stands still (a ManualClock): Gatehouse itself would still accept these
    // sessions, so a refusal can only come from the verifier's own check.
    let short: TestServer;
    let idle: TestServer;
    const verifiers: Verifier[] = [];

    before(async () => {
      short = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, SESSION_MAX_AGE: '2s' } });
      idle = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '2s' } });
    });
    after(async () => {
      for (const verifier of verifiers) await verifier.close();
      await short?.stop();
      await idle?.stop();
    });

    /** A verifier, and a session that starts now by both clocks (the server's stopped one moved to the real time). */
    async function setUp(server: TestServer) {
      const admin = await server.adminClient();
      const { token: serviceToken } = await createServiceToken(server, ['VERIFY_SESSIONS']);
      const { verifier } = await trustedVerifier(server.url, serviceToken);
      verifiers.push(verifier);
      await createUser(admin, 'carol');
      server.clock.advance(Date.now() - server.clock.now().getTime());
      const { client, session } = await signIn(server, 'carol');
      return { verifier, serviceToken, token: client.token!, sessionId: session.id };
    }

    /** Gatehouse's own answer, asked directly. */
    async function gatehouseSays(server: TestServer, serviceToken: string, token: string) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${serviceToken}` },
        body: JSON.stringify({
          query: 'query($t: String!) { verifySession(token: $t) { session { id } } }',
          variables: { t: token },
        }),
      });
      return ((await response.json()) as { data: { verifySession: { session: { id: string } } | null } }).data
        .verifySession;
    }

    it('past expiresAt the session is refused from memory, though Gatehouse (its clock stopped) would still take it', async () => {
      const { verifier, serviceToken, token, sessionId } = await setUp(short);
      const verified = await verifier.verify(token);
      assert.ok(verified);
      assert.equal(await settlesWithoutIo(verifier.verify(token)), true, 'cached');
      // Gatehouse's Date header says its clock to the second: the verifier is sure of the end a second after it.
      await sleep(Math.max(0, verified.session.expiresAt.getTime() - Date.now()) + ONE_SECOND + 100);
      const answer = verifier.verify(token);
      assert.equal(await settlesWithoutIo(answer), true, 'decided without asking');
      assert.equal(await answer, null);
      assert.equal((await gatehouseSays(short, serviceToken, token))?.session.id, sessionId);
    });

    it('past idleExpiresAt the session is checked with Gatehouse again, which ends it', async () => {
      const { verifier, token } = await setUp(idle);
      assert.ok(await verifier.verify(token));
      assert.equal(await settlesWithoutIo(verifier.verify(token)), true);
      // Idle 2 s after Gatehouse answered: possibly idle (by its Date header, to the second) from 1 s on, surely from 2 s.
      await sleep(2_100);
      idle.clock.advance(3_000);
      const answer = verifier.verify(token);
      assert.equal(await settlesWithoutIo(answer), false, 'Gatehouse is asked');
      assert.equal(await answer, null);
    });
  });
}
