/**
 * Service tokens (DESIGN.md, "Other services"): created by an admin, shown once, stored hashed,
 * listed with their last use, revocable at once (here, and within a second on another instance);
 * a service token is not a session and may use only the root fields of its scopes. Real servers
 * over HTTP and WebSocket, SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app.js';
import {
  ActiveSessionsDocument,
  AuthEventsDocument,
  CreateServiceTokenDocument,
  KickSessionDocument,
  LoginDocument,
  LogoutDocument,
  MeDocument,
  RevokeServiceTokenDocument,
  ServiceTokensDocument,
  SessionStatsDocument,
  SessionsByUserWithUserDocument,
  UsersDocument,
  WhoamiDocument,
  type ServiceScope,
} from './generated/graphql.js';
import { onServiceTokenRevoked } from './support/app.js';
import { waitFor, within } from './support/async.js';
import { assertRefused, errorCode, TestClient } from './support/client.js';
import { DAY, MINUTE } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import { openSocket, subscribeWs } from './support/live.js';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  QUIET_SWEEPER,
  startAppOn,
  startTestServer,
  type TestServer,
} from './support/server.js';
import { createUser, rawSession, signIn, verify } from './support/sessions.js';

const TOKEN_SHAPE = /^ghs_[A-Za-z0-9_-]{43}$/;
/** A well-formed service token that no server issued. */
const UNKNOWN_TOKEN = `ghs_${'A'.repeat(43)}`;

let counter = 0;
const uniqueName = (prefix = 'service') => `${prefix} ${++counter}`;

/** Times of a session row that is live now (and for the next day). */
const LIVE = { createdAt: Date.now(), expiresAt: Date.now() + DAY };

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

for (const kind of DATABASE_KINDS) {
  describe(`service tokens (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await server.adminClient();
    });
    after(() => server?.stop());

    const create = async (scopes: ServiceScope[], name = uniqueName()) =>
      (await admin.data(CreateServiceTokenDocument, { name, scopes })).createServiceToken;
    const serviceClient = (token: string) => server.client({ authorization: `Bearer ${token}` });
    const tokenRows = async () => (await server.db('service_tokens').select()) as Array<Record<string, unknown>>;

    it('creates a token shown once, with only its SHA-256 stored, and records who created it', async () => {
      const name = uniqueName('billing');
      const { serviceToken, token } = await create(['VERIFY_SESSIONS', 'READ_SESSIONS'], `  ${name}  `);
      assert.match(token, TOKEN_SHAPE);
      assert.equal(serviceToken.name, name, 'the name is trimmed');
      assert.deepEqual(serviceToken.scopes, ['VERIFY_SESSIONS', 'READ_SESSIONS']);
      assert.equal(serviceToken.createdBy?.username, ADMIN_USERNAME);
      assert.equal(serviceToken.lastUsedAt, null);
      assert.equal(serviceToken.revokedAt, null);

      const row = (await tokenRows()).find((candidate) => candidate.id === serviceToken.id);
      assert.ok(row);
      assert.equal(row.token_hash, sha256(token));
      const stored = JSON.stringify(await tokenRows());
      assert.ok(!stored.includes(token) && !stored.includes(token.slice(4)), 'the token itself is stored nowhere');

      const listed = JSON.stringify(await admin.data(ServiceTokensDocument, { includeRevoked: true }));
      assert.ok(listed.includes(serviceToken.id) && !listed.includes(token.slice(4)), 'never listed with its token');
      const { authEvents } = await admin.data(AuthEventsDocument, { types: ['SERVICE_TOKEN_CREATED'], first: 50 });
      const created = authEvents.edges.find((edge) => edge.node.serviceTokenId === serviceToken.id)?.node;
      assert.equal(created?.actor?.username, ADMIN_USERNAME, 'the audit event names the token and who created it');
    });

    it('lists lastUsedAt once the token is used, written at most once a minute', async () => {
      const { serviceToken, token } = await create(['READ_SESSIONS']);
      const lastUsed = async () =>
        (await admin.data(ServiceTokensDocument, {})).serviceTokens.find((listed) => listed.id === serviceToken.id)
          ?.lastUsedAt;
      assert.equal(await lastUsed(), null);
      const service = serviceClient(token);
      await service.data(SessionStatsDocument);
      const first = await lastUsed();
      assert.equal(first, server.clock.now().toISOString());

      server.clock.advance(30_000);
      await service.data(SessionStatsDocument);
      assert.equal(await lastUsed(), first, 'a use within the minute writes nothing');
      server.clock.advance(MINUTE);
      await service.data(SessionStatsDocument);
      assert.equal(await lastUsed(), server.clock.now().toISOString());
    });

    it('revokes at once: its next request is UNAUTHENTICATED; revoking again changes nothing', async () => {
      const { serviceToken, token } = await create(['READ_SESSIONS']);
      const service = serviceClient(token);
      await service.data(SessionStatsDocument);
      const revocations = async () =>
        (await admin.data(AuthEventsDocument, { types: ['SERVICE_TOKEN_REVOKED'], first: 1 })).authEvents.totalCount;
      const revocationsBefore = await revocations();
      const heard: string[] = [];
      const stopListening = onServiceTokenRevoked(server, (id) => heard.push(id));
      try {
        const { revokeServiceToken: revoked } = await admin.data(RevokeServiceTokenDocument, { id: serviceToken.id });
        assert.ok(revoked.revokedAt);
        assert.deepEqual(heard, [serviceToken.id], 'the local hook hears it before the answer');
        // What sessionEndFeed asks before it opens a feed, for a request authenticated before this.
        assert.equal(server.app.services.serviceTokens.isRevoked(serviceToken.id), true);
        assertRefused(await service.request(SessionStatsDocument), 'UNAUTHENTICATED');

        const again = await admin.data(RevokeServiceTokenDocument, { id: serviceToken.id });
        assert.equal(again.revokeServiceToken.revokedAt, revoked.revokedAt, 'idempotent');
        assert.deepEqual(heard, [serviceToken.id], 'heard once');
      } finally {
        stopListening();
      }
      assert.equal(await revocations(), revocationsBefore + 1, 'one audit event for two revocations');
      const { authEvents } = await admin.data(AuthEventsDocument, { types: ['SERVICE_TOKEN_REVOKED'], first: 1 });
      assert.equal(authEvents.edges[0]?.node.serviceTokenId, serviceToken.id, 'the audit event names the token');

      const active = (await admin.data(ServiceTokensDocument, {})).serviceTokens;
      assert.ok(!active.some((listed) => listed.id === serviceToken.id), 'listed only with includeRevoked');
      const all = (await admin.data(ServiceTokensDocument, { includeRevoked: true })).serviceTokens;
      assert.ok(all.some((listed) => listed.id === serviceToken.id && listed.revokedAt !== null));
      // Rotation: a new token under the old name.
      assert.match((await create(['READ_SESSIONS'], serviceToken.name)).token, TOKEN_SHAPE);
    });

    it('READ_SESSIONS reads activeSessions, sessionsByUser and sessionStats, with the nested fields', async () => {
      const username = uniqueName('reader').replace(' ', '');
      const userId = await createUser(admin, username);
      await signIn(server, username);
      const service = serviceClient((await create(['READ_SESSIONS'])).token);

      const { activeSessions } = await service.data(ActiveSessionsDocument, { first: 50 });
      assert.ok(activeSessions.edges.length >= 2);
      const { sessionsByUser } = await service.data(SessionsByUserWithUserDocument, { userId });
      assert.equal(sessionsByUser.length, 1);
      assert.equal(sessionsByUser[0]?.user.sessions.length, 1, "the user's own sessions resolve for the service");
      const { sessionStats } = await service.data(SessionStatsDocument);
      assert.ok(sessionStats.activeSessions >= 2);
      assert.deepEqual(await service.data('{ __typename }'), { __typename: 'Query' });
    });

    it('is FORBIDDEN outside its scopes, for the whole operation: me, login, kickSession, users, its own admin', async () => {
      const reader = serviceClient((await create(['READ_SESSIONS'])).token);
      const verifier = serviceClient((await create(['VERIFY_SESSIONS'])).token);
      const { sessionStats: before } = await admin.data(SessionStatsDocument);
      const { activeSessions } = await admin.data(ActiveSessionsDocument, { first: 1 });
      const sessionId = activeSessions.edges[0]?.node.id ?? '';
      const outside: Array<[string, () => ReturnType<TestClient['request']>]> = [
        ['me', () => reader.request(MeDocument)],
        ['me and currentSession', () => reader.request(WhoamiDocument)],
        ['login', () => reader.request(LoginDocument, { username: ADMIN_USERNAME, password: 'wrong' })],
        ['logout', () => reader.request(LogoutDocument)],
        ['kickSession', () => reader.request(KickSessionDocument, { sessionId })],
        ['users', () => reader.request(UsersDocument, { first: 1 })],
        ['serviceTokens', () => reader.request(ServiceTokensDocument, {})],
        [
          'createServiceToken',
          () => reader.request(CreateServiceTokenDocument, { name: 'x', scopes: ['READ_SESSIONS'] }),
        ],
        ['sessionStats with me', () => reader.request('{ sessionStats { activeSessions } me { id } }')],
        ['VERIFY_SESSIONS: activeSessions', () => verifier.request(ActiveSessionsDocument, { first: 1 })],
        ['VERIFY_SESSIONS: sessionStats', () => verifier.request(SessionStatsDocument)],
        ['VERIFY_SESSIONS: me', () => verifier.request(MeDocument)],
        // docs/security.md: a service token cannot read the schema.
        ['introspection', () => reader.request('{ __schema { queryType { name } } }')],
        ['VERIFY_SESSIONS: introspection', () => verifier.request('{ __schema { queryType { name } } }')],
      ];
      for (const [label, send] of outside) assertRefused(await send(), 'FORBIDDEN', label);
      const { sessionStats: afterwards } = await admin.data(SessionStatsDocument);
      assert.equal(afterwards.activeSessions, before.activeSessions, 'no session started or ended');
    });

    it('only an admin manages them: a user is FORBIDDEN, the anonymous UNAUTHENTICATED', async () => {
      const { serviceToken } = await create(['READ_SESSIONS']);
      const user = await server.userClient(uniqueName('plain').replace(' ', ''));
      const anonymous = server.client();
      for (const [client, code] of [
        [user, 'FORBIDDEN'],
        [anonymous, 'UNAUTHENTICATED'],
      ] as const) {
        assertRefused(await client.request(ServiceTokensDocument, {}), code, 'list');
        assertRefused(await client.request(CreateServiceTokenDocument, { name: 'x', scopes: ['READ_SESSIONS'] }), code);
        assertRefused(await client.request(RevokeServiceTokenDocument, { id: serviceToken.id }), code, 'revoke');
      }
      const row = (await tokenRows()).find((candidate) => candidate.id === serviceToken.id);
      assert.equal(row?.revoked_at, null);
    });

    it('refuses bad input with BAD_USER_INPUT or NOT_FOUND, adding nothing', async () => {
      const taken = uniqueName('tak\u00e9n');
      await create(['READ_SESSIONS'], taken);
      const rowsBefore = (await tokenRows()).length;
      const refusals: Array<[string, { name: string; scopes: ServiceScope[] }]> = [
        ['empty name', { name: '', scopes: ['READ_SESSIONS'] }],
        ['blank name', { name: '   ', scopes: ['READ_SESSIONS'] }],
        ['101 characters', { name: 'n'.repeat(101), scopes: ['READ_SESSIONS'] }],
        ['a control character', { name: 'bell\u0007', scopes: ['READ_SESSIONS'] }],
        ['a line break', { name: 'two\nlines', scopes: ['READ_SESSIONS'] }],
        ['a zero-width space', { name: `${taken}\u200B`, scopes: ['READ_SESSIONS'] }],
        ['a lone surrogate', { name: 'broken\uD800', scopes: ['READ_SESSIONS'] }],
        ['no scopes', { name: uniqueName(), scopes: [] }],
        ['a duplicate name', { name: taken, scopes: ['VERIFY_SESSIONS'] }],
        ['a duplicate name once trimmed', { name: ` ${taken} `, scopes: ['VERIFY_SESSIONS'] }],
        ['a duplicate name once in NFC', { name: taken.normalize('NFD'), scopes: ['READ_SESSIONS'] }],
      ];
      for (const [label, variables] of refusals) {
        assertRefused(await admin.request(CreateServiceTokenDocument, variables), 'BAD_USER_INPUT', label);
      }
      const unknownScope = await admin.request('mutation { createServiceToken(name: "x", scopes: [ADMIN]) { token } }');
      assertRefused(unknownScope, 'BAD_USER_INPUT', 'an unknown scope is refused by validation');
      assert.equal((await tokenRows()).length, rowsBefore, 'nothing added');

      const longest = await create(['READ_SESSIONS', 'READ_SESSIONS'], 'é'.repeat(100));
      assert.deepEqual(longest.serviceToken.scopes, ['READ_SESSIONS'], 'duplicate scopes folded');
      for (const id of ['00000000-0000-4000-8000-000000000000', 'not-an-id', '']) {
        assertRefused(await admin.request(RevokeServiceTokenDocument, { id }), 'NOT_FOUND', `revoke ${id}`);
      }
    });

    it('never mixes up a service token and a session token', async () => {
      const { token } = await create(['READ_SESSIONS']);
      const session = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const sessionToken = session.client.token ?? '';
      const unauthenticated: Array<[string, string]> = [
        ['ghs_ alone', 'ghs_'],
        ['too short', 'ghs_short'],
        ['too long', `${token}A`],
        ['a bad character', `ghs_${'*'.repeat(43)}`],
        ['unknown', UNKNOWN_TOKEN],
        ['a session token behind ghs_', `ghs_${sessionToken}`],
      ];
      for (const [label, bearer] of unauthenticated) {
        assertRefused(await serviceClient(bearer).request(MeDocument), 'UNAUTHENTICATED', label);
      }
      // A session token that begins with ghs_ by chance (one in 16.7 million) is still a session's.
      const lucky = `ghs_${randomBytes(32).toString('base64url').slice(4)}`;
      await server.db('sessions').insert({ ...rawSession(session.user.id, LIVE), token_hash: sha256(lucky) });
      assert.equal((await serviceClient(lucky).data(MeDocument)).me?.username, ADMIN_USERNAME);
      // A service token where a session is expected: it signs no one in.
      const asCookie = server.client({ cookie: `gatehouse_session=${token}` });
      assert.deepEqual(await asCookie.data(MeDocument), { me: null });
      assert.equal((await verify(server, { authorization: `Bearer ${token}` })).status, 401);
      assert.equal((await verify(server, { cookie: `gatehouse_session=${token}` })).status, 401);
      // A session token as a bearer is a session, as before.
      const asBearer = server.client({ authorization: `Bearer ${sessionToken}` });
      assert.equal((await asBearer.data(MeDocument)).me?.username, ADMIN_USERNAME);
      const live = await server.client().request(MeDocument);
      assert.deepEqual(live.data, { me: null }, 'the server is up');
    });

    it('over WebSocket: connectionParams authenticate; FORBIDDEN outside scopes; revoked or unknown is refused', async () => {
      const { serviceToken, token } = await create(['READ_SESSIONS']);
      const socket = openSocket(server, { token });
      try {
        await socket.connected;
        const stats = await subscribeWs(socket.client, SessionStatsDocument).received(1);
        assert.equal(stats[0]?.errors, undefined);
        const me = subscribeWs(socket.client, MeDocument);
        const [refused] = await me.received(1);
        assert.equal(refused?.errors?.[0]?.extensions?.code, 'FORBIDDEN');

        await admin.data(RevokeServiceTokenDocument, { id: serviceToken.id });
        // The contract: a revoked token's sockets close at once (as a session's do when it ends).
        assert.deepEqual(await socket.closedWithin(1_000), { code: 4403, reason: 'Service token revoked' });
      } finally {
        await socket.dispose();
      }
      for (const refusedToken of [token, UNKNOWN_TOKEN, 'ghs_malformed']) {
        const refusedSocket = openSocket(server, { token: refusedToken });
        assert.equal((await refusedSocket.closedWithin()).code, 4401, refusedToken);
      }
    });

    it('a row deleted by hand (not revoked) is refused within a second too', async () => {
      const { serviceToken, token } = await create(['READ_SESSIONS']);
      const service = serviceClient(token);
      await service.data(SessionStatsDocument);
      await server.db('service_tokens').where('id', serviceToken.id).delete();
      const deletedAt = performance.now();
      await waitFor(
        'the deleted token to be refused',
        async () => errorCode(await service.request(SessionStatsDocument)) === 'UNAUTHENTICATED',
        { intervalMs: 10 },
      );
      assert.ok(performance.now() - deletedAt < 1_000);
    });

    it('a revocation on one instance reaches another within a second', async (t) => {
      const second = await startAppOn(server.database, server.clock, QUIET_SWEEPER);
      try {
        const { serviceToken, token } = await create(['READ_SESSIONS']);
        const onSecond = new TestClient(second.url, { authorization: `Bearer ${token}` });
        await onSecond.data(SessionStatsDocument);
        assert.equal(second.app.services.serviceTokens.isRevoked(serviceToken.id), false);
        const heard = waitHeard(second.app, serviceToken.id);
        const revokedAt = performance.now();
        await admin.data(RevokeServiceTokenDocument, { id: serviceToken.id });
        await waitFor(
          'the second instance to refuse the token',
          async () =>
            (await onSecond.request(SessionStatsDocument)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED',
          { intervalMs: 10 },
        );
        const refusedMs = performance.now() - revokedAt;
        const heardMs = (await heard) - revokedAt;
        t.diagnostic(
          `second instance: refused ${refusedMs.toFixed(0)} ms, onRevoked ${heardMs.toFixed(0)} ms after the revocation`,
        );
        assert.ok(refusedMs < 1_000, `refused after ${Math.round(refusedMs)} ms`);
        assert.ok(heardMs < 1_000, `onRevoked heard after ${Math.round(heardMs)} ms`);
        assert.equal(
          second.app.services.serviceTokens.isRevoked(serviceToken.id),
          true,
          'a feed opened now is refused',
        );
      } finally {
        await second.app.stop();
      }
    });
  });
}

/** `performance.now()` when `app` hears of the revocation of `tokenId`. */
function waitHeard(app: App, tokenId: string): Promise<number> {
  const heard = new Promise<number>((resolve) => {
    const stop = onServiceTokenRevoked({ app }, (id) => {
      if (id !== tokenId) return;
      stop();
      resolve(performance.now());
    });
  });
  return within(heard, 2_000, 'the revocation to be heard');
}
