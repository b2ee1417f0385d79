/**
 * Device-bound sessions (DBSC, issue 23) end to end over real HTTP, on SQLite and PostgreSQL, with
 * a Node client that holds an ES256 (or RS256) WebCrypto key and a cookie jar
 * (support/dbsc-client.ts): registration, every refusal, refresh, replays, races, a stolen
 * jar, the wrong-key proof with and without the session cookie, ends, DBSC=off, an outage.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startAppOn, startTestServer, type TestServer } from './support/server.js';
import { DATABASE_KINDS, openMigratedDatabase } from './support/databases.js';
import { migrationSource } from '../migrations/index.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';
import { enrollTotp, freshCode } from './support/factors.js';
import { kickAsOperator } from './support/app.js';
import { SECOND, MINUTE } from './support/clock.js';
import { waitFor } from './support/async.js';
import { openSocket, subscribeSse, subscribeWs } from './support/live.js';
import { Receiver } from './support/receiver.js';
import { createWebhook, verified } from './support/webhooks.js';
import type { TestClient } from './support/client.js';
import {
  buildProof,
  challengeIdOf,
  challengeOf,
  DbscClient,
  generateDbscKey,
  type DbscAlg,
} from './support/dbsc-client.js';
import { FIRST_SEEN_GRACE_MS } from '../src/sessions/dbsc.js';

const SUITE_TIMEOUT_MS = 180_000;
const CURRENT_SESSION = '{ currentSession { id deviceBound deviceBoundAt } }';
const REVOKED = 'subscription { sessionRevoked { sessionId reason } }';

type CurrentSession = { currentSession: { id: string; deviceBound: boolean; deviceBoundAt: string | null } | null };

async function current(client: DbscClient) {
  return (await client.graphql<CurrentSession>(CURRENT_SESSION)).data?.currentSession ?? null;
}

/** A request with the session cookie alone (what a thief's copy is once the bound cookie is gone). */
function withoutBound(client: DbscClient): DbscClient {
  const copy = client.copyJar();
  for (const name of [...copy.jar.keys()]) if (name.endsWith('_bound')) copy.jar.delete(name);
  return copy;
}

for (const kind of DATABASE_KINDS) {
  describe(`DBSC (${kind})`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let server: TestServer;
    let admin: TestClient;
    let users = 0;
    // PostgreSQL needs SECRETS_KEY for authenticator apps (the second-step test); every instance shares it.
    const env = { SWEEP_INTERVAL: '1h', SECRETS_KEY: randomBytes(32).toString('base64') };

    /** A new user, signed in on a new client, bound unless `bind: false`. */
    async function signedIn(options: { alg?: DbscAlg; bind?: boolean } = {}) {
      const username = `dbsc${++users}`;
      await createUser(admin, username);
      const client = await DbscClient.signIn(server.url, username, passwordOf(username), options);
      return { client, username };
    }

    /** Uses the bound cookie once, which closes the registration window (after a grace for requests in flight). */
    async function used<T extends { client: DbscClient }>(signed: T): Promise<T> {
      assert.ok(await signed.client.me(), 'served with both cookies');
      server.clock.advance(FIRST_SEEN_GRACE_MS);
      return signed;
    }

    before(async () => {
      server = await startTestServer({ database: kind, env });
      admin = await server.adminClient();
    });
    after(async () => {
      await server?.stop();
    });

    it('login offers registration; register binds: instructions, bound cookie, early challenge, deviceBound', async () => {
      const { client } = await signedIn({ bind: false });
      assert.match(
        client.registration ?? '',
        /^\(ES256 RS256\);path="\/dbsc\/register";challenge="[A-Za-z0-9_-]{43}"$/,
      );
      const before = await current(client);
      assert.equal(before?.deviceBound, false);
      const result = await client.register({ quoted: true });
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.equal(result.headers.get('cache-control'), 'no-store');
      const name = 'gatehouse_bound';
      const attributes = 'Path=/; HttpOnly; SameSite=Lax';
      assert.deepEqual(result.body, {
        session_identifier: before!.id,
        refresh_url: '/dbsc/refresh',
        scope: { include_site: false, scope_specification: [] },
        credentials: [{ type: 'cookie', name, attributes }],
      });
      const setCookie = result.headers.getSetCookie().find((each) => each.startsWith(`${name}=`));
      assert.ok(setCookie, 'the bound cookie is set');
      // The attributes of the Set-Cookie are exactly the instructions' (else Chrome refreshes on every request).
      assert.equal(setCookie.replace(/^[^;]*; Max-Age=\d+; Expires=[^;]*; /, ''), attributes);
      assert.match(setCookie, /Max-Age=600;/);
      const challenge = result.headers.get('secure-session-challenge');
      assert.equal(challengeIdOf(challenge), before!.id);
      assert.ok(challengeOf(challenge));
      const after = await current(client);
      assert.equal(after?.deviceBound, true);
      assert.ok(after?.deviceBoundAt);
      const audit = await admin.data(
        '{ authEvents(types: [DEVICE_BOUND], first: 5) { edges { node { sessionId userId actorUserId ipAddress } } } }',
      );
      type Row = { sessionId: string; userId: string; actorUserId: string; ipAddress: string };
      const { edges } = (audit as { authEvents: { edges: Array<{ node: Row }> } }).authEvents;
      const row = edges.find((edge) => edge.node.sessionId === before!.id)?.node;
      assert.ok(row, 'the binding is in the audit log');
      assert.equal(row.actorUserId, row.userId, 'done by the user themself');
      assert.equal(row.ipAddress, '127.0.0.1');
    });

    it('a registration with a bare Secure-Session-Response (as Chrome sends it) binds too', async () => {
      const { client } = await signedIn({ bind: false });
      assert.equal((await client.register({ quoted: false })).status, 200);
      assert.equal((await current(client))?.deviceBound, true);
    });

    it('each refused registration leaves the session unbound and working', async () => {
      const other = await generateDbscKey('ES256');
      const small = await generateDbscKey('RS256', 1024);
      type Case = [label: string, status: number, attempt: (client: DbscClient, challenge: string) => Promise<number>];
      const forged =
        (options: Parameters<typeof buildProof>[1], key?: Awaited<ReturnType<typeof generateDbscKey>>) =>
        async (client: DbscClient, challenge: string) =>
          (
            await client.register({
              jwt: await buildProof(key ?? client.key!, { ...options, jti: options.jti || challenge }),
            })
          ).status;
      const cases: Case[] = [
        ['no proof', 400, async (client) => (await client.register({ omitProof: true })).status],
        ['not a JWS', 400, async (client) => (await client.register({ jwt: 'not.a.jws' })).status],
        [
          'bad signature',
          400,
          async (client, challenge) => {
            const jwt = await buildProof(client.key!, { jti: challenge, withJwk: true });
            return (await client.register({ jwt: `${jwt.slice(0, -6)}AAAAAA` })).status;
          },
        ],
        ['wrong typ', 400, forged({ jti: '', withJwk: true, typ: 'jwt' })],
        ['alg none', 400, forged({ jti: '', withJwk: true, alg: 'none' })],
        ['HS256', 400, forged({ jti: '', withJwk: true, alg: 'HS256' })],
        ['missing jwk', 400, forged({ jti: '' })],
        [
          'a jwk of another key',
          400,
          async (client, challenge) =>
            (await client.register({ jwt: await buildProof(client.key!, { jti: challenge, jwk: other.publicJwk }) }))
              .status,
        ],
        ['unknown jti', 400, forged({ jti: 'not-the-challenge', withJwk: true })],
        ['RSA under 2048 bits', 400, forged({ jti: '', withJwk: true }, small)],
        ['no session cookie', 401, async (client) => (await client.register({ cookies: false })).status],
        [
          'a bearer token instead of the cookie',
          401,
          async (client, challenge) => {
            const jwt = await buildProof(client.key!, { jti: challenge, withJwk: true });
            const response = await fetch(`${server.url}/dbsc/register`, {
              method: 'POST',
              headers: { authorization: `Bearer ${client.cookie('_session')}`, 'secure-session-response': jwt },
            });
            return response.status;
          },
        ],
      ];
      for (const [label, status, attempt] of cases) {
        const { client } = await signedIn({ bind: false });
        const challenge = challengeOf(client.registration)!;
        assert.equal(await attempt(client, challenge), status, label);
        const session = await current(client);
        assert.equal(session?.deviceBound, false, `${label}: still unbound`);
        // The refusal consumed nothing: the right proof still binds.
        if (label !== 'no session cookie') assert.equal((await client.register()).status, 200, `${label}: binds after`);
        assert.ok(await client.me(), `${label}: still working`);
      }
    });

    it('a reused jti binds nothing: another session’s challenge, and a proof already used', async () => {
      const { client: a } = await signedIn({ bind: false });
      const { client: b } = await signedIn({ bind: false });
      const jwtA = await buildProof(a.key!, { jti: challengeOf(a.registration)!, withJwk: true });
      assert.equal((await b.register({ jwt: jwtA })).status, 400, "another session's challenge");
      assert.equal((await current(b))?.deviceBound, false);
      assert.equal((await a.register({ jwt: jwtA })).status, 200);
      assert.equal((await a.register({ jwt: jwtA })).status, 400, 'the same proof again');
      assert.ok(await a.me());
    });

    it('a pending login (second step owed) binds nothing', async () => {
      // A pending login's cookie is no session: the registration finds none.
      const pending = new DbscClient(server.url, await generateDbscKey());
      pending.jar.set('gatehouse_session', `p.${'A'.repeat(43)}`);
      pending.registration = '(ES256);path="/dbsc/register";challenge="x"';
      assert.equal((await pending.register()).status, 401);
    });

    it('the second step offers registration, the pending login before it does not', async () => {
      const username = `dbsc${++users}`;
      await createUser(admin, username);
      const { client: owner } = await signIn(server, username);
      const { secret } = await enrollTotp(server, owner);
      const client = new DbscClient(server.url, await generateDbscKey());
      const login = await client.graphql<{ login: { nextStep: string } }>(
        'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { nextStep } }',
        { u: username, p: passwordOf(username) },
      );
      assert.equal(login.data?.login.nextStep, 'SECOND_FACTOR');
      assert.equal(client.registration, null, 'no offer to a pending login');
      client.registration = '(ES256);path="/dbsc/register";challenge="x"';
      assert.equal((await client.register()).status, 401, 'a pending login binds nothing');
      client.registration = null;
      const step = await client.graphql<{ verifySecondFactor: { nextStep: string } }>(
        'mutation($c: String!) { verifySecondFactor(code: $c) { nextStep } }',
        { c: freshCode(server, secret) },
      );
      assert.equal(step.data?.verifySecondFactor.nextStep, 'DONE');
      assert.ok(client.registration, 'the second step offers registration');
      assert.equal((await client.register()).status, 200);
      assert.ok(await client.me());
    });

    it('metrics count registrations, refreshes and Secure-Session-Skipped (counted, never trusted)', async () => {
      const { client } = await used(await signedIn());
      await client.refresh();
      await withoutBound(client).me({
        'secure-session-skipped': `quota_exceeded;session_identifier="${client.sessionId}"`,
      });
      const text = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(text, /gatehouse_dbsc_registrations_total\{result="bound"\} [1-9]/);
      assert.match(text, /gatehouse_dbsc_refreshes_total\{result="rotated"\} [1-9]/);
      assert.match(text, /gatehouse_dbsc_skipped_total\{reason="quota_exceeded"\} [1-9]/);
    });

    it('an already bound session refuses a second key and keeps the first', async () => {
      const { client } = await used(await signedIn());
      const thief = await generateDbscKey('ES256');
      const jwt = await buildProof(thief, { jti: client.challenge!, withJwk: true });
      const second = await client.register({ jwt });
      assert.equal(second.status, 400);
      assert.match(String((second.body as { errors: Array<{ message: string }> }).errors[0]!.message), /bound/);
      assert.ok(await client.me(), 'still served');
      assert.equal((await client.refresh()).status, 200, 'the first key still refreshes');
      assert.ok(await client.me());
    });

    it('a bound session is served only with its bound cookie: HTTP, SSE, WebSocket, /auth/verify, bearer', async () => {
      const { client } = await used(await signedIn());
      const alone = withoutBound(client);
      assert.equal(await alone.me(), null, 'HTTP with the session cookie alone');
      const token = client.cookie('_session')!;
      const bearer = new DbscClient(server.url);
      assert.equal(
        await bearer.me({ authorization: `Bearer ${token}` }),
        null,
        'a bearer token without the bound cookie',
      );
      const withBound = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          cookie: `gatehouse_bound=${client.cookie('_bound')}`,
        },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      assert.ok(
        ((await withBound.json()) as { data: { me: unknown } }).data.me,
        'a bearer token with the bound cookie',
      );
      assert.equal(
        (await fetch(`${server.url}/auth/verify`, { headers: { cookie: alone.cookieHeader() } })).status,
        401,
      );
      assert.equal(
        (await fetch(`${server.url}/auth/verify`, { headers: { cookie: client.cookieHeader() } })).status,
        200,
      );
      // A socket may open anonymously; what its upgrade's cookies sign in is what counts.
      for (const [jar, signedIn] of [
        [alone, false],
        [client, true],
      ] as const) {
        const socket = openSocket(server, { cookie: jar.cookieHeader() });
        await socket.connected;
        const result = subscribeWs<{ me: { id: string } | null }>(socket.client, '{ me { id } }');
        const [answer] = await result.received(1);
        assert.equal(
          Boolean(answer?.data?.me),
          signedIn,
          `WebSocket, ${signedIn ? 'both cookies' : 'session cookie alone'}`,
        );
        await socket.dispose();
      }
      const sse = subscribeSse(server, REVOKED, { cookie: alone.cookieHeader() });
      await sse.ended();
      assert.equal(sse.events[0]?.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'SSE');
      // Skipped refreshes are a client's claim: they excuse nothing.
      const skipped = await alone.me({
        'secure-session-skipped': `server_error;session_identifier="${client.sessionId}"`,
      });
      assert.equal(skipped, null);
      // None of it ended the session.
      assert.ok(await client.me(), 'the owner is still served');
    });

    it('the registration window: the session cookie alone is served until a few seconds after the bound cookie is first seen, at most 10 s', async () => {
      const { client } = await signedIn();
      const alone = withoutBound(client);
      assert.ok(await alone.me(), 'in the window');
      server.clock.advance(11 * SECOND);
      assert.equal(await alone.me(), null, 'after 10 s');
      assert.ok(await client.me(), 'with both cookies');

      const { client: other } = await signedIn();
      assert.ok(await other.me(), 'the bound cookie, first seen');
      server.clock.advance(FIRST_SEEN_GRACE_MS - SECOND);
      assert.ok(await withoutBound(other).me(), 'requests sent before the browser stored it are still served');
      server.clock.advance(SECOND);
      assert.equal(await withoutBound(other).me(), null, 'closed a few seconds after the bound cookie is first seen');
    });

    it('a socket its upgrade signed in stays signed in past rotations and the bound cookie’s expiry; one that did not, stays out', async () => {
      const { client } = await used(await signedIn());
      const owner = openSocket(server, { cookie: client.cookieHeader() });
      // The session cookie alone, past the registration window: an anonymous socket.
      const stranger = openSocket(server, { cookie: withoutBound(client).cookieHeader() });
      await Promise.all([owner.connected, stranger.connected]);
      const me = async (socket: ReturnType<typeof openSocket>) => {
        const [answer] = await subscribeWs<{ me: { id: string } | null }>(socket.client, '{ me { id } }').received(1);
        return answer?.data?.me ?? null;
      };
      try {
        assert.ok(await me(owner));
        assert.equal((await client.refresh()).status, 200, 'rotated');
        server.clock.advance(11 * SECOND);
        assert.ok(await me(owner), 'the upgrade’s bound cookie is past its grace: the socket is still the session’s');
        server.clock.advance(10 * MINUTE);
        assert.equal((await client.refresh()).status, 200, 'the owner refreshes');
        assert.ok(await me(owner), 'the upgrade’s bound cookie has expired too');
        assert.equal(await me(stranger), null, 'a socket the session cookie alone opened proves nothing later');
        await kickAsOperator(server, client.sessionId!);
        assert.equal((await owner.closedWithin(2_000)).code, 4403, 'and closes when the session ends');
      } finally {
        await owner.dispose();
        await stranger.dispose();
      }
    });

    it('the server enforces the bound cookie’s expiry; a refresh renews it', async () => {
      const { client } = await used(await signedIn());
      server.clock.advance(10 * MINUTE + SECOND);
      assert.equal(await client.me(), null, 'expired bound cookie');
      const refreshed = await client.refresh();
      assert.equal(refreshed.status, 200);
      assert.ok(await client.me());
    });

    it('refresh without a proof: 403 + a challenge naming the session; with one: rotated, the old cookie kept for the grace', async () => {
      const { client } = await used(await signedIn());
      const oldJar = client.copyJar();
      for (const quoted of [false, true]) {
        const challenged = await client.refresh({ proof: false, followChallenge: false, quoted });
        assert.equal(challenged.status, 403);
        assert.equal(challenged.headers.get('cache-control'), 'no-store');
        const header = challenged.headers.get('secure-session-challenge');
        assert.equal(challengeIdOf(header), client.sessionId);
        assert.match(header ?? '', /^"[A-Za-z0-9_-]{43}";id="[0-9a-f-]{36}"$/);
      }
      const rotated = await client.refresh({ quoted: true });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.notEqual(client.cookie('_bound'), oldJar.cookie('_bound'));
      assert.ok(await client.me(), 'the new cookie');
      assert.ok(await oldJar.me(), 'the old cookie, within the grace');
      server.clock.advance(11 * SECOND);
      assert.equal(await oldJar.me(), null, 'the old cookie after the grace');
      // Early challenge: the next refresh is one POST with its proof.
      const early = await client.refresh({ followChallenge: false });
      assert.equal(early.status, 200);
    });

    it('challenges: the one before the newest is honoured for 30 s; a stale one gets a new challenge', async () => {
      const { client } = await used(await signedIn());
      const challenge = async () =>
        challengeOf(
          (await client.refresh({ proof: false, followChallenge: false })).headers.get('secure-session-challenge'),
        )!;
      const signed = async (jti: string) =>
        (await client.refresh({ jwt: await buildProof(client.key!, { jti }) })).status;
      const first = await challenge();
      await challenge();
      assert.equal(await signed(first), 200, 'the previous challenge, signed by a request that raced');
      const third = await challenge();
      await challenge();
      server.clock.advance(31 * SECOND);
      assert.equal(await signed(third), 403, 'the previous challenge after 30 s');
      const fifth = await challenge();
      server.clock.advance(2 * MINUTE + SECOND);
      assert.equal(await signed(fifth), 403, 'a challenge past its 2 minutes');
      assert.equal((await client.refresh()).status, 200, 'a fresh one works');
      assert.ok(await client.me());
    });

    it('a registration challenge lapses after 2 minutes: refused, the session unbound and working', async () => {
      const { client } = await signedIn({ bind: false });
      server.clock.advance(2 * MINUTE + SECOND);
      const late = await client.register();
      assert.equal(late.status, 400);
      assert.equal((await current(client))?.deviceBound, false);
      assert.ok(await client.me());
    });

    it('a replayed proof gets a new challenge and changes nothing', async () => {
      const { client } = await used(await signedIn());
      const jwt = await buildProof(client.key!, { jti: client.challenge! });
      assert.equal((await client.refresh({ jwt })).status, 200);
      const cookie = client.cookie('_bound');
      const replay = await client.refresh({ jwt });
      assert.equal(replay.status, 403);
      assert.ok(challengeOf(replay.headers.get('secure-session-challenge')));
      assert.equal(client.cookie('_bound'), cookie);
      assert.ok(await client.me(), 'session intact');
    });

    it('two refreshes at once with the same proof: exactly one rotation', async () => {
      const { client } = await used(await signedIn());
      const jwt = await buildProof(client.key!, { jti: client.challenge! });
      const [a, b] = await Promise.all([client.refresh({ jwt }), client.refresh({ jwt })]);
      assert.deepEqual([a.status, b.status].sort(), [200, 403]);
      assert.ok(await client.me());
    });

    it('a stolen jar: served until the owner rotates and the grace passes; its own key with the cookie ends the session (DEVICE_MISMATCH)', async () => {
      const receiver = await Receiver.start();
      const hook = await createWebhook(admin, receiver.url, ['SESSION_ENDED']);
      try {
        const { client } = await used(await signedIn());
        const socket = openSocket(server, { cookie: client.cookieHeader() });
        await socket.connected;
        const live = subscribeWs<{ sessionRevoked: { sessionId: string; reason: string } }>(socket.client, REVOKED);
        const thief = client.copyJar();
        thief.key = await generateDbscKey('ES256');
        assert.ok(await thief.me(), 'a fresh copy works until the bound cookie rotates');
        assert.equal((await client.refresh()).status, 200);
        server.clock.advance(11 * SECOND);
        assert.equal(await thief.me(), null, 'refused once the bound cookie rotated and the grace passed');
        assert.ok(await client.me(), 'the owner is served');

        const mismatch = await thief.refresh();
        assert.equal(mismatch.status, 200);
        assert.deepEqual(mismatch.body, { continue: false });
        assert.equal(await client.me(), null, 'the session has ended');
        const [event] = await live.received(1);
        assert.deepEqual(event?.data?.sessionRevoked, { sessionId: client.sessionId, reason: 'DEVICE_MISMATCH' });
        await socket.dispose();
        await waitFor('the webhook', () => receiver.requests.length > 0, { timeoutMs: 10_000 });
        const delivered = verified(hook.secret, receiver.requests.at(-1)!);
        assert.equal(delivered.type, 'session.ended');
        assert.equal(delivered.data.reason, 'DEVICE_MISMATCH');
        const audit = await admin.data(
          '{ authEvents(types: [SESSION_ENDED], first: 5) { edges { node { sessionId reason ipAddress } } } }',
        );
        type Row = { sessionId: string; reason: string; ipAddress: string };
        const edges = (audit as { authEvents: { edges: Array<{ node: Row }> } }).authEvents.edges;
        const nodes = edges.map((edge) => edge.node);
        const row = nodes.find((each) => each.sessionId === client.sessionId);
        assert.equal(row?.reason, 'DEVICE_MISMATCH');
        assert.ok(row?.ipAddress, 'the address of the request that presented the foreign proof');
        assert.deepEqual((await client.refresh()).body, { continue: false }, 'the owner is told to stop too');
      } finally {
        await admin.data(`mutation { deleteWebhook(id: "${hook.id}") }`).catch(() => undefined);
        await receiver.close();
      }
    });

    it('a wrong-key proof without the session cookie changes nothing, and is throttled by address while the owner refreshes', async () => {
      const { client } = await used(await signedIn());
      const stranger = new DbscClient(server.url, await generateDbscKey('ES256'));
      stranger.sessionId = client.sessionId;
      stranger.jar.set('gatehouse_bound', client.cookie('_bound')!);
      const statuses: number[] = [];
      for (let i = 0; i < 35; i++) {
        const jwt = await buildProof(stranger.key!, { jti: client.challenge ?? 'x' });
        const answer = await stranger.refresh({ jwt });
        statuses.push(answer.status);
        if (answer.status === 200) assert.deepEqual(answer.body, { continue: false });
        if (answer.status === 503) assert.ok(Number(answer.headers.get('retry-after')) > 0);
      }
      assert.ok(
        statuses.slice(0, 30).every((status) => status === 200),
        statuses.join(),
      );
      assert.ok(
        statuses.slice(30).every((status) => status === 503),
        statuses.join(),
      );
      assert.ok(await client.me(), 'unchanged');
      assert.equal((await client.refresh()).status, 200, 'the owner still refreshes');
      assert.ok(await client.me());
      server.clock.advance(MINUTE);
    });

    it('kick, logout, expiry, an unknown id: the next refresh gets {"continue": false}', async () => {
      const { client: kicked } = await used(await signedIn());
      await kickAsOperator(server, kicked.sessionId!);
      assert.deepEqual((await kicked.refresh()).body, { continue: false });

      const { client: out } = await used(await signedIn());
      const id = out.sessionId;
      await out.graphql('mutation { logout }');
      assert.equal(out.cookie('_bound'), undefined, 'logout clears the bound cookie too');
      assert.equal(out.cookie('_session'), undefined);
      out.sessionId = id;
      assert.deepEqual((await out.refresh()).body, { continue: false });

      const { client: expiring } = await used(await signedIn());
      server.clock.advance(25 * 60 * MINUTE);
      // Past the idle timeout: the admin's session has expired too.
      admin = await server.adminClient();
      const expired = await expiring.refresh();
      assert.deepEqual(expired.body, { continue: false });
      assert.ok(
        expired.headers.getSetCookie().some((each) => /^gatehouse_bound=;/.test(each)),
        'clears the bound cookie',
      );

      const { client: unknown } = await used(await signedIn());
      unknown.sessionId = '00000000-0000-4000-8000-000000000000';
      assert.deepEqual((await unknown.refresh()).body, { continue: false });
      unknown.sessionId = 'garbage id';
      assert.deepEqual((await unknown.refresh()).body, { continue: false });
    });

    it('an unbound session is unaffected, and a refresh for it does not end it', async () => {
      const { client } = await signedIn({ bind: false });
      assert.ok(await client.me());
      client.sessionId = (await current(client))!.id;
      assert.deepEqual((await client.refresh()).body, { continue: false });
      assert.ok(await client.me(), 'still working');
      assert.equal((await current(client))?.deviceBound, false);
    });

    it('RS256: registration and refresh', async () => {
      const { client } = await used(await signedIn({ alg: 'RS256' }));
      assert.equal((await client.refresh()).status, 200);
      assert.ok(await client.me());
    });

    it('two instances: a binding on one evicts the other’s cached copy; a rotation on one is honoured by the other', async () => {
      const other = await startAppOn(server.database, server.clock, env);
      try {
        const { client } = await signedIn({ bind: false });
        const onOther = (jar: DbscClient) => {
          const there = new DbscClient(other.url);
          for (const [name, value] of jar.jar) there.jar.set(name, value);
          return there;
        };
        assert.ok(await onOther(client).me(), 'the other instance caches the unbound session');
        assert.equal((await client.register()).status, 200);
        await used({ client });
        // The announcement reaches the other instance; its unbound copy must not serve the cookie alone.
        await waitFor('the other instance to refuse the session cookie alone', async () =>
          (await onOther(withoutBound(client)).me()) === null ? true : undefined,
        );
        assert.ok(await onOther(client).me(), 'both cookies are served there');
        assert.equal((await client.refresh()).status, 200);
        assert.ok(await onOther(client).me(), 'the new bound cookie, rotated on the first instance');
      } finally {
        await other.app.stop();
      }
    });

    it('DBSC=off: no registration header, /dbsc/* 404, and a bound session is served with its session cookie alone', async () => {
      const { client } = await used(await signedIn());
      const off = await startAppOn(server.database, server.clock, { ...env, DBSC: 'off' });
      try {
        const username = `dbsc${++users}`;
        await createUser(admin, username);
        const fresh = await DbscClient.signIn(off.url, username, passwordOf(username), { bind: false });
        assert.equal(fresh.registration, null);
        for (const path of ['/dbsc/register', '/dbsc/refresh']) {
          assert.equal((await fetch(off.url + path, { method: 'POST' })).status, 404, path);
        }
        const alone = withoutBound(client);
        const there = new DbscClient(off.url);
        for (const [name, value] of alone.jar) there.jar.set(name, value);
        assert.ok(await there.me(), 'served without the bound cookie');
      } finally {
        await off.app.stop();
      }
    });

    it('the database down during a refresh: 503 with Retry-After, never a 4xx', async () => {
      const { client } = await used(await signedIn());
      const cut = await startAppOn(server.database, server.clock, env);
      const there = client.copyJar();
      there.key = client.key;
      there.challenge = client.challenge;
      (there as { baseUrl: string }).baseUrl = cut.url;
      await cut.app.db.destroy();
      try {
        const answer = await there.refresh();
        assert.equal(answer.status, 503, JSON.stringify(answer.body));
        assert.ok(Number(answer.headers.get('retry-after')) > 0);
      } finally {
        await cut.app.stop().catch(() => undefined);
      }
    });
  });
}

for (const kind of DATABASE_KINDS) {
  it(`migration 14 rolls back (columns, the BOUND announcement) and applies again (${kind})`, async () => {
    const { db, close } = await openMigratedDatabase(kind);
    try {
      const triggers = async () =>
        kind === 'sqlite'
          ? ((await db('sqlite_master').where('type', 'trigger').pluck('name')) as string[])
          : ((await db('information_schema.triggers').distinct().pluck('trigger_name')) as string[]);
      assert.ok((await triggers()).includes(kind === 'sqlite' ? 'sessions_log_bound' : 'sessions_announce_bound'));
      await db.migrate.down({ migrationSource, name: '20261208_14_device_bound_sessions' });
      const columns = Object.keys(await db('sessions').columnInfo());
      assert.ok(!columns.some((column) => /bound|dbsc/.test(column)), columns.join());
      assert.ok(!(await triggers()).some((name) => name.endsWith('_bound')));
      assert.ok((await triggers()).includes(kind === 'sqlite' ? 'sessions_log_ended' : 'sessions_announce_ended'));
      await migrateToLatest(db);
      assert.ok(Object.keys(await db('sessions').columnInfo()).includes('bound_cookie_hash'));
    } finally {
      await close();
    }
  });
}
