/**
 * The pending login (DESIGN.md, "Second factors and passkeys"): a right password that still owes
 * its second step may finish the login, start over, sign out or read itself, and nothing else:
 * SECOND_FACTOR_REQUIRED over HTTP, WebSocket and SSE, 401 at /auth/verify, in no count, list or
 * limit. And REQUIRE_SECOND_FACTOR: a covered user without a factor can only enroll one, which
 * finishes the login. Real servers, SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ActiveSessionsDocument,
  AssuredCurrentSessionDocument,
  ConfirmTotpEnrollmentDocument,
  KickSessionDocument,
  LogoutDocument,
  MeDocument,
  MySecondFactorsDocument,
  RemoveSecondFactorDocument,
  RevokeOtherSessionsDocument,
  SessionRevokedDocument,
  SessionStatsDocument,
  SessionsByUserDocument,
  StartTotpEnrollmentDocument,
  UsersDocument,
  VerifySecondFactorDocument,
} from './generated/graphql.js';
import { assertRefused, TestClient, type GraphQLResponse } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { enrollTotp, freshCode, passwordLogin, PENDING_TOKEN } from './support/factors.js';
import { openSocket, subscribeSse, subscribeWs } from './support/live.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { assertAnonymous, createUser, sessionRowsOf, signIn, verify } from './support/sessions.js';
import { totpCode } from './support/totp.js';

const SECRETS_KEY = randomBytes(32).toString('base64');

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}${++counter}`;

/** SECOND_FACTOR_REQUIRED for the whole operation, naming the step the login waits for. */
function assertGated(result: GraphQLResponse<unknown>, label: string, nextStep = 'SECOND_FACTOR'): void {
  assertRefused(result, 'SECOND_FACTOR_REQUIRED', label);
  assert.equal(result.errors?.[0]?.extensions?.nextStep, nextStep, label);
}

for (const kind of DATABASE_KINDS) {
  const env = { ...QUIET_SWEEPER, ...(kind === 'postgres' ? { SECRETS_KEY } : {}) };

  describe(`pending logins: what a right password without its second step may do (${kind})`, () => {
    let server: TestServer;
    let limited: TestServer;
    before(async () => {
      [server, limited] = await Promise.all([
        startTestServer({ database: kind, env }),
        startTestServer({ database: kind, env: { ...env, MAX_SESSIONS_PER_USER: '1' } }),
      ]);
    });
    after(() => Promise.all([server?.stop(), limited?.stop()]));

    /** A USER with an authenticator app, and a client of theirs that gave only the password. */
    async function pendingUser(on: TestServer, signedInAdmin?: TestClient) {
      const admin = signedInAdmin ?? (await on.adminClient());
      const username = uniqueName('ruth');
      const userId = await createUser(admin, username);
      const signedIn = (await signIn(on, username)).client;
      const { secret } = await enrollTotp(on, signedIn);
      const { client, login } = await passwordLogin(on, username);
      assert.equal(login.nextStep, 'SECOND_FACTOR');
      return { admin, username, userId, secret, signedIn, client, pendingId: login.session.id };
    }

    it('anything but finishing the login, starting over, signing out or reading itself is SECOND_FACTOR_REQUIRED, before it runs', async () => {
      const { userId, signedIn, client, pendingId } = await pendingUser(server);
      const { currentSession: own } = await signedIn.data(AssuredCurrentSessionDocument);
      assertGated(await client.request(MeDocument), 'me');
      assertGated(await client.request(SessionsByUserDocument, { userId }), 'sessionsByUser');
      assertGated(await client.request(KickSessionDocument, { sessionId: own!.id }), 'kickSession');
      assertGated(await client.request(RevokeOtherSessionsDocument), 'revokeOtherSessions');
      assertGated(await client.request(StartTotpEnrollmentDocument), 'startTotpEnrollment');
      assertGated(await client.request('{ currentSession { id } me { id } }'), 'an allowed field beside another');
      assertGated(await client.request('{ __schema { types { name } } }'), 'introspection');
      assertGated(
        await client.request(`{ ...Mine } fragment Mine on Query { currentSession { id } me { id } }`),
        'through a fragment',
      );
      const bearer = new TestClient(server.url, { authorization: `Bearer ${client.token}` });
      assertGated(await bearer.request(MeDocument), 'the pending token as a bearer token');
      assert.equal((await signedIn.data(AssuredCurrentSessionDocument)).currentSession?.active, true, 'kick refused');

      const allowed = await client.data('{ __typename currentSession { id current active } }');
      assert.deepEqual(allowed, {
        __typename: 'Query',
        currentSession: { id: pendingId, current: true, active: false },
      });
      // A service that checks a token with `currentSession` alone must not take a password for a session.
      const checked = await bearer.data('{ currentSession { id active assurance } }');
      assert.deepEqual(checked, { currentSession: { id: pendingId, active: false, assurance: 'AAL1' } });
      // Fields below an allowed root are authorised as usual: a pending login is not its user.
      const nested = await client.request('{ currentSession { user { sessions { id } } } }');
      assert.equal(nested.errors?.[0]?.extensions?.code, 'SECOND_FACTOR_REQUIRED');

      const credentials: Array<Record<string, string>> = [
        { cookie: client.cookie! },
        { authorization: `Bearer ${client.token}` },
      ];
      for (const headers of credentials) {
        const response = await verify(server, headers);
        assert.equal(response.status, 401, `/auth/verify with ${Object.keys(headers)[0]}`);
      }
    });

    it('no live feed: over WebSocket and SSE a subscription is SECOND_FACTOR_REQUIRED, and the socket has no viewer', async (t) => {
      const { client } = await pendingUser(server);
      const socket = openSocket(server, { cookie: client.cookie });
      t.after(() => socket.dispose());
      await socket.connected;
      const revoked = subscribeWs(socket.client, SessionRevokedDocument);
      const end = await revoked.ended();
      const errors = revoked.events[0]?.errors ?? (end.error as Array<{ extensions?: Record<string, unknown> }>);
      assert.equal(errors?.[0]?.extensions?.code, 'SECOND_FACTOR_REQUIRED', JSON.stringify(end));
      const me = subscribeWs(socket.client, MeDocument);
      await me.ended();
      assert.equal(me.events[0]?.errors?.[0]?.extensions?.code, 'SECOND_FACTOR_REQUIRED', 'a query over the socket');

      for (const method of ['POST', 'GET'] as const) {
        const sse = subscribeSse(server, SessionRevokedDocument, { cookie: client.cookie, method });
        await sse.ended();
        const payload = sse.events[0];
        assert.equal(payload?.errors?.[0]?.extensions?.code, 'SECOND_FACTOR_REQUIRED', `SSE ${method}`);
        assert.equal(payload?.data ?? null, null);
      }
    });

    it('a pending login is in no count or list: sessionStats, activeSessions and activeSessionCount leave it out', async () => {
      const admin = await server.adminClient();
      const before = (await admin.data(SessionStatsDocument)).sessionStats.activeSessions;
      const { userId, username } = await pendingUser(server, admin);
      const stats = (await admin.data(SessionStatsDocument)).sessionStats.activeSessions;
      assert.equal(stats, before + 1, 'the enrolling session only');
      const { activeSessions } = await admin.data(ActiveSessionsDocument, { userId, first: 50 });
      assert.equal(activeSessions.totalCount, 1);
      const { users } = await admin.data(UsersDocument, { usernameContains: username });
      assert.equal(users.edges[0]?.node.activeSessionCount, 1);
      assert.equal((await sessionRowsOf(server, userId)).length, 1);
    });

    it('MAX_SESSIONS_PER_USER=1: a pending login supersedes nothing; the login it completes does', async () => {
      const { signedIn, client, secret, userId } = await pendingUser(limited);
      const { currentSession: first } = await signedIn.data(AssuredCurrentSessionDocument);
      assert.equal((await signedIn.data(AssuredCurrentSessionDocument)).currentSession?.active, true);
      const { verifySecondFactor } = await client.data(VerifySecondFactorDocument, {
        code: freshCode(limited, secret),
      });
      assert.equal(verifySecondFactor.nextStep, 'DONE');
      await assertAnonymous(signedIn, 'superseded by the completed login');
      const rows = await sessionRowsOf(limited, userId);
      assert.deepEqual(
        rows.map((row) => [row.id, row.endReason]),
        [
          [first!.id, 'SUPERSEDED'],
          [verifySecondFactor.session.id, null],
        ],
      );
    });

    it('logout signs a pending login out (its row goes); login starts over (the old pending login goes)', async () => {
      const { username, client, pendingId, secret } = await pendingUser(server);
      const oldToken = client.token!;
      const again = await client.data(
        `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { nextStep session { id } } }`,
        { u: username, p: `${username}-password` },
      );
      const restarted = (again as { login: { nextStep: string; session: { id: string } } }).login;
      assert.equal(restarted.nextStep, 'SECOND_FACTOR');
      assert.notEqual(restarted.session.id, pendingId);
      assert.match(client.token!, PENDING_TOKEN);
      assert.notEqual(client.token, oldToken);
      assert.equal(await server.db('pending_logins').where({ id: pendingId }).first(), undefined);
      const old = new TestClient(server.url, { authorization: `Bearer ${oldToken}` });
      const stale = await old.request(VerifySecondFactorDocument, { code: freshCode(server, secret) });
      assertRefused(stale, 'UNAUTHENTICATED', 'the replaced pending login');

      assert.deepEqual(await client.data(LogoutDocument), { logout: true });
      assert.equal(client.cookie, undefined, 'the cookie is cleared');
      assert.equal(await server.db('pending_logins').where({ id: restarted.session.id }).first(), undefined);
    });
  });

  describe(`REQUIRE_SECOND_FACTOR=admins: an admin without a factor can only enroll one (${kind})`, () => {
    let server: TestServer;
    let adminSecret: string | undefined;
    before(async () => {
      server = await startTestServer({ database: kind, env: { ...env, REQUIRE_SECOND_FACTOR: 'admins' } });
    });
    after(() => server?.stop());

    it('the login is held to enroll (ENROLL_SECOND_FACTOR); enrolling needs no step-up and finishes it; users are not held', async () => {
      const { client, login } = await passwordLogin(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      assert.equal(login.nextStep, 'ENROLL_SECOND_FACTOR');
      const pendingToken = client.token!;
      assert.match(pendingToken, PENDING_TOKEN);
      assertGated(await client.request(MeDocument), 'me', 'ENROLL_SECOND_FACTOR');
      assertGated(await client.request(SessionStatsDocument), 'sessionStats', 'ENROLL_SECOND_FACTOR');
      assertGated(
        await client.request(VerifySecondFactorDocument, { code: '123456' }),
        'verify',
        'ENROLL_SECOND_FACTOR',
      );
      assert.equal((await verify(server, { cookie: client.cookie! })).status, 401);

      const { startTotpEnrollment } = await client.data(StartTotpEnrollmentDocument);
      adminSecret = startTotpEnrollment.secret;
      const code = totpCode(adminSecret, server.clock.now());
      const { confirmTotpEnrollment } = await client.data(ConfirmTotpEnrollmentDocument, { code });
      assert.equal(confirmTotpEnrollment.recoveryCodes.length, 10);
      assert.ok(client.token && client.token !== pendingToken && !PENDING_TOKEN.test(client.token), 'a new token');
      const { currentSession } = await client.data(AssuredCurrentSessionDocument);
      assert.equal(currentSession?.assurance, 'AAL2');
      assert.deepEqual(currentSession?.authenticationMethods, ['PASSWORD', 'TOTP']);
      assert.equal((await client.data(MeDocument)).me?.username, ADMIN_USERNAME);
      await assertAnonymous(
        new TestClient(server.url, { authorization: `Bearer ${pendingToken}` }),
        'the pending token',
      );

      const username = uniqueName('sam');
      await createUser(client, username);
      assert.equal((await passwordLogin(server, username)).login.nextStep, 'DONE', 'a USER is not held');
      assert.equal((await passwordLogin(server, ADMIN_USERNAME, ADMIN_PASSWORD)).login.nextStep, 'SECOND_FACTOR');
    });

    it('a covered admin cannot remove their last factor (FORBIDDEN, LAST_SECOND_FACTOR); with two, one may go', async () => {
      assert.ok(adminSecret, 'the test above enrolled the admin');
      const { client } = await passwordLogin(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      await client.data(VerifySecondFactorDocument, { code: freshCode(server, adminSecret) });
      const [only] = (await client.data(MySecondFactorsDocument)).me?.secondFactors ?? [];
      assert.ok(only);
      const refused = await client.request(RemoveSecondFactorDocument, { id: only.id });
      assertRefused(refused, 'FORBIDDEN');
      assert.equal(refused.errors?.[0]?.extensions?.reason, 'LAST_SECOND_FACTOR');
      assert.equal((await client.data(MySecondFactorsDocument)).me?.secondFactors.length, 1, 'nothing removed');
      const { factorId } = await enrollTotp(server, client, 'Backup phone');
      assert.deepEqual(await client.data(RemoveSecondFactorDocument, { id: only.id }), { removeSecondFactor: true });
      const left = (await client.data(MySecondFactorsDocument)).me?.secondFactors.map((factor) => factor.id);
      assert.deepEqual(left, [factorId]);
    });
  });
}
