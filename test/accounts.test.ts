/**
 * Accounts and emergency controls (DESIGN.md): disable, enable, delete, reset the password, end
 * every session, and step-up before sensitive operations. Real servers over HTTP; the live
 * pushes of the new end reasons are in live.test.ts's END_CASES, their cross-instance eviction
 * below.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AuthEventsDocument,
  ChangePasswordDocument,
  CreateUserDocument,
  DeleteUserDocument,
  DisableUserDocument,
  EnableUserDocument,
  KickSessionDocument,
  LoginDocument,
  MeDocument,
  MyAccountDocument,
  ReauthenticateDocument,
  ResetPasswordDocument,
  RevokeAllSessionsDocument,
  RevokeOtherSessionsDocument,
  RevokeUserSessionsDocument,
  SessionsByUserDocument,
  UsersDocument,
} from './generated/graphql.js';
import { errorCode, type TestClient } from './support/client.js';
import { MINUTE } from './support/clock.js';
import { createPostgresDatabase, DATABASE_KINDS, POSTGRES_URL, type TestDatabase } from './support/databases.js';
import { openSocket, subscribeSse, subscribeWs } from './support/live.js';
import { ADMIN_USERNAME, startAppOn, startTestServer, type TestServer } from './support/server.js';
import { assertAnonymous, createUser, passwordOf, sessionRowsOf, signIn } from './support/sessions.js';
import { ManualClock } from './support/clock.js';
import { SessionRevokedDocument } from './generated/graphql.js';

/** Who the client is signed in as, or null. */
async function usernameOf(client: TestClient): Promise<string | null> {
  return (await client.data(MeDocument)).me?.username ?? null;
}

let counter = 0;
const uniqueName = (prefix: string) => `${prefix}${++counter}`;
const REAUTH_WINDOW_MS = 15 * MINUTE;

for (const kind of DATABASE_KINDS) {
  describe(`accounts: disable, enable, delete, reset (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind });
    });
    after(() => server?.stop());

    it('disableUser ends every session at once; the right password then gives ACCOUNT_DISABLED, a wrong one INVALID_CREDENTIALS', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('dora');
      const userId = await createUser(admin, name);
      const [first, second] = [await signIn(server, name), await signIn(server, name)];
      const { disableUser } = await admin.data(DisableUserDocument, { userId });
      assert.deepEqual(disableUser, { id: userId, username: name, disabled: true });
      for (const signedIn of [first, second]) await assertAnonymous(signedIn.client, 'a session of the disabled user');
      const rows = await sessionRowsOf(server, userId);
      assert.deepEqual(
        rows.map((row) => row.endReason),
        ['USER_DISABLED', 'USER_DISABLED'],
      );
      const right = await server.client().request(LoginDocument, { username: name, password: passwordOf(name) });
      assert.equal(errorCode(right), 'ACCOUNT_DISABLED');
      assert.deepEqual(right.headers.getSetCookie(), [], 'no cookie for a disabled account');
      const wrong = await server.client().request(LoginDocument, { username: name, password: 'not-the-password' });
      assert.equal(errorCode(wrong), 'INVALID_CREDENTIALS');
      // Disabling again changes nothing; enabling lets the password in again (its old sessions stay ended).
      assert.equal((await admin.data(DisableUserDocument, { userId })).disableUser.disabled, true);
      assert.deepEqual((await admin.data(EnableUserDocument, { userId })).enableUser, { id: userId, disabled: false });
      const again = await signIn(server, name);
      assert.deepEqual((await again.client.data(MyAccountDocument)).me, { id: userId, disabled: false });
      await assertAnonymous(first.client, 'an old session after enableUser');
    });

    it('deleteUser ends the sessions, removes the user and its session rows, and keeps its audit trail readable', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('dave');
      const userId = await createUser(admin, name);
      const signedIn = await signIn(server, name);
      const before = await admin.data(AuthEventsDocument, { userId, first: 50 });
      const loggedIn = before.authEvents.edges.find((edge) => edge.node.type === 'LOGIN_SUCCEEDED')?.node;
      assert.equal(loggedIn?.user?.username, name, 'an event names its user while the account exists');
      assert.deepEqual(await admin.data(DeleteUserDocument, { userId }), { deleteUser: true });
      await assertAnonymous(signedIn.client, "the deleted user's session");
      assert.deepEqual(await sessionRowsOf(server, userId), [], 'session rows go with the user');
      assert.equal(errorCode(await admin.request(SessionsByUserDocument, { userId })), 'NOT_FOUND');
      const login = await server.client().request(LoginDocument, { username: name, password: passwordOf(name) });
      assert.equal(errorCode(login), 'INVALID_CREDENTIALS', 'as if it never existed');
      const { authEvents } = await admin.data(AuthEventsDocument, { userId, first: 50 });
      const types = authEvents.edges.map((edge) => edge.node.type);
      for (const type of ['USER_CREATED', 'LOGIN_SUCCEEDED', 'SESSION_ENDED', 'USER_DELETED']) {
        assert.ok(types.includes(type as never), `${type} in ${types.join(', ')}`);
      }
      for (const { node } of authEvents.edges) assert.equal(node.username, name, `${node.type} names the user`);
      const ended = authEvents.edges.find((edge) => edge.node.type === 'SESSION_ENDED');
      assert.equal(ended?.node.reason, 'USER_DELETED');
      const deleted = authEvents.edges.find((edge) => edge.node.type === 'USER_DELETED')?.node;
      assert.equal(deleted?.user, null, 'the account is gone: no user to show');
      assert.equal(deleted?.actor?.username, 'admin', 'the admin who deleted it');
      assert.equal(errorCode(await admin.request(DeleteUserDocument, { userId })), 'NOT_FOUND', 'deleting twice');
    });

    it('resetPassword ends every session (PASSWORD_CHANGED); the new password works, the old one does not', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('rosa');
      const userId = await createUser(admin, name);
      const signedIn = await signIn(server, name);
      const short = await admin.request(ResetPasswordDocument, { userId, newPassword: 'short' });
      assert.equal(errorCode(short), 'BAD_USER_INPUT');
      assert.equal(await usernameOf(signedIn.client), name, 'a refused reset changes nothing');
      await admin.data(ResetPasswordDocument, { userId, newPassword: 'chosen-by-the-admin' });
      await assertAnonymous(signedIn.client);
      assert.deepEqual(
        (await sessionRowsOf(server, userId)).map((row) => row.endReason),
        ['PASSWORD_CHANGED'],
      );
      const old = await server.client().request(LoginDocument, { username: name, password: passwordOf(name) });
      assert.equal(errorCode(old), 'INVALID_CREDENTIALS');
      await signIn(server, name, 'chosen-by-the-admin');
    });

    it('the last admin who can sign in cannot be disabled or deleted (FORBIDDEN, reason LAST_ADMIN); a second admin can', async () => {
      const admin = await server.adminClient();
      const { me } = await admin.data(MeDocument);
      for (const document of [DisableUserDocument, DeleteUserDocument]) {
        const refused = await admin.request(document, { userId: me!.id });
        assert.equal(errorCode(refused), 'FORBIDDEN');
        assert.equal(refused.errors?.[0]?.extensions?.reason, 'LAST_ADMIN');
      }
      const deputy = uniqueName('deputy');
      const deputyId = await createUser(admin, deputy, passwordOf(deputy), 'ADMIN');
      const byDeputy = (await signIn(server, deputy)).client;
      // With two, either may go; the one left is again the last.
      await byDeputy.data(DisableUserDocument, { userId: me!.id });
      assert.equal(errorCode(await byDeputy.request(DisableUserDocument, { userId: deputyId })), 'FORBIDDEN');
      await (await signIn(server, deputy)).client.data(EnableUserDocument, { userId: me!.id });
      await (await server.adminClient()).data(DeleteUserDocument, { userId: deputyId });
    });

    it('users: newest first, keyset pages, a case-insensitive filter with wildcards taken literally; ADMIN only', async () => {
      const admin = await server.adminClient();
      const prefix = uniqueName('Listed_');
      for (const suffix of ['a', 'b', 'c']) {
        await createUser(admin, `${prefix}${suffix}`);
        server.clock.advance(1_000); // newest first is by creation time; ids break only ties
      }
      await createUser(admin, `${prefix.replace('_', 'x')}d`);
      const filter = { usernameContains: prefix.toUpperCase() };
      const first = await admin.data(UsersDocument, { first: 2, ...filter });
      assert.equal(first.users.totalCount, 3, 'the _ is not a wildcard: the x user does not match');
      assert.deepEqual(
        first.users.edges.map((edge) => edge.node.username),
        [`${prefix}c`, `${prefix}b`],
      );
      assert.equal(first.users.pageInfo.hasNextPage, true);
      const next = await admin.data(UsersDocument, { first: 2, after: first.users.pageInfo.endCursor, ...filter });
      assert.deepEqual(
        next.users.edges.map((edge) => edge.node.username),
        [`${prefix}a`],
      );
      assert.equal(next.users.pageInfo.hasNextPage, false);
      const all = await admin.data(UsersDocument, { first: 100 });
      assert.ok(all.users.totalCount >= 5);
      const tooLong = await admin.request(UsersDocument, { usernameContains: 'x'.repeat(257) });
      assert.equal(errorCode(tooLong), 'BAD_USER_INPUT');
      const user = (await signIn(server, `${prefix}a`)).client;
      assert.equal(errorCode(await user.request(UsersDocument, {})), 'FORBIDDEN');
      assert.equal(errorCode(await server.client().request(UsersDocument, {})), 'UNAUTHENTICATED');
    });

    it('every admin mutation is FORBIDDEN to a USER and UNAUTHENTICATED to the anonymous, and changes nothing', async () => {
      const admin = await server.adminClient();
      const target = uniqueName('tess');
      const targetId = await createUser(admin, target);
      const ursula = uniqueName('ursula');
      await createUser(admin, ursula);
      const user = (await signIn(server, ursula)).client;
      const calls = [
        [DisableUserDocument, { userId: targetId }],
        [EnableUserDocument, { userId: targetId }],
        [DeleteUserDocument, { userId: targetId }],
        [ResetPasswordDocument, { userId: targetId, newPassword: 'taken-over-password' }],
        [RevokeAllSessionsDocument, {}],
      ] as const;
      for (const [document, variables] of calls) {
        assert.equal(errorCode(await user.request(document as never, variables as never)), 'FORBIDDEN');
        assert.equal(
          errorCode(await server.client().request(document as never, variables as never)),
          'UNAUTHENTICATED',
        );
      }
      await signIn(server, target);
      assert.equal(
        errorCode(await server.client().request(ReauthenticateDocument, { password: 'x' })),
        'UNAUTHENTICATED',
      );
    });
  });

  describe(`accounts: step-up and reauthenticate (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind });
    });
    after(() => server?.stop());

    it('past REAUTH_WINDOW every step-up operation is REAUTHENTICATION_REQUIRED; after reauthenticate each goes through', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('sara');
      const userId = await createUser(admin, name);
      const me = await signIn(server, name);
      const other = await signIn(server, name);
      server.clock.advance(REAUTH_WINDOW_MS + 1_000);
      const stale: Array<[string, () => Promise<{ errors?: Array<{ extensions?: Record<string, unknown> }> }>]> = [
        [
          'kickSession of my other session',
          () => me.client.request(KickSessionDocument, { sessionId: other.session.id }),
        ],
        ['revokeOtherSessions', () => me.client.request(RevokeOtherSessionsDocument)],
        [
          'changePassword',
          () =>
            me.client.request(ChangePasswordDocument, {
              currentPassword: passwordOf(name),
              newPassword: 'new-pass-phrase',
            }),
        ],
        ['revokeUserSessions', () => admin.request(RevokeUserSessionsDocument, { userId })],
        ['revokeAllSessions', () => admin.request(RevokeAllSessionsDocument)],
        ['resetPassword', () => admin.request(ResetPasswordDocument, { userId, newPassword: 'new-pass-phrase' })],
        ['disableUser', () => admin.request(DisableUserDocument, { userId })],
        ['deleteUser', () => admin.request(DeleteUserDocument, { userId })],
        [
          'createUser with role ADMIN',
          () =>
            admin.request(CreateUserDocument, {
              username: uniqueName('boss'),
              password: 'boss-password',
              role: 'ADMIN',
            }),
        ],
      ];
      for (const [what, call] of stale) {
        const result = await call();
        assert.equal(result.errors?.[0]?.extensions?.code, 'REAUTHENTICATION_REQUIRED', what);
        assert.equal(result.errors?.[0]?.extensions?.reauthWindowSeconds, 900, what);
      }
      // Nothing happened: both sessions live, the user enabled.
      assert.equal(await usernameOf(other.client), name);
      // Not step-up: a user or an admin creating a USER, an admin kicking someone else's session, ending one's own.
      await admin.data(CreateUserDocument, { username: uniqueName('plain'), password: 'plain-password' });

      const before = (await me.client.data(MyAccountDocument)).currentSession!;
      const proof = await me.client.data(ReauthenticateDocument, { password: passwordOf(name) });
      assert.equal(proof.reauthenticate.id, before.id);
      assert.equal(proof.reauthenticate.current, true);
      assert.equal(proof.reauthenticate.authenticatedAt, server.clock.now().toISOString());
      assert.ok(proof.reauthenticate.authenticatedAt > before.authenticatedAt);
      await me.client.data(KickSessionDocument, { sessionId: other.session.id });
      await assertAnonymous(other.client);
      await admin.data(ReauthenticateDocument, { password: 'admin-password-for-tests' });
      await admin.data(DisableUserDocument, { userId });
      await assertAnonymous(me.client);
    });

    it('a fresh login counts; authenticatedAt is the login time; kicking another user or oneself needs no step-up', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('fay');
      await createUser(admin, name);
      const signedIn = await signIn(server, name);
      const { currentSession } = await signedIn.client.data(MyAccountDocument);
      assert.equal(currentSession?.authenticatedAt, currentSession?.createdAt);
      await signedIn.client.data(RevokeOtherSessionsDocument);
      server.clock.advance(REAUTH_WINDOW_MS + 1_000);
      const victim = await signIn(server, name);
      const staleAdmin = admin;
      await staleAdmin.data(KickSessionDocument, { sessionId: victim.session.id });
      await signedIn.client.data(KickSessionDocument, { sessionId: signedIn.session.id });
      await assertAnonymous(signedIn.client, 'kicked its own current session');
    });

    it('reauthenticate: a wrong password is INVALID_CREDENTIALS and audited; it is throttled like a login', async () => {
      const admin = await server.adminClient();
      const name = uniqueName('rita');
      const userId = await createUser(admin, name);
      const signedIn = await signIn(server, name);
      let last;
      for (let i = 0; i < 7; i++)
        last = await signedIn.client.request(ReauthenticateDocument, { password: `wrong-${i}` });
      assert.equal(errorCode(last!), 'RATE_LIMITED', JSON.stringify(last!.errors));
      const right = await signedIn.client.request(ReauthenticateDocument, { password: passwordOf(name) });
      assert.equal(errorCode(right), 'RATE_LIMITED', 'the right password waits for the throttle too');
      const { authEvents } = await admin.data(AuthEventsDocument, { userId, first: 50 });
      assert.ok(authEvents.edges.some((edge) => edge.node.type === 'REAUTHENTICATION_FAILED'));
      assert.equal(await usernameOf(signedIn.client), name, 'failed proofs do not end the session');
      // One per request: aliases cannot multiply guesses.
      const twice = await signedIn.client.request(
        'mutation { a: reauthenticate(password: "x") { id } b: reauthenticate(password: "y") { id } }',
      );
      assert.equal(errorCode(twice), 'BAD_USER_INPUT');
    });
  });

  describe(`accounts: revokeAllSessions (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind });
    });
    after(() => server?.stop());

    it("ends every active session but the caller's (ALL_SESSIONS_REVOKED), told live over WebSocket and SSE", async () => {
      const admin = await server.adminClient();
      const names = [uniqueName('amy'), uniqueName('ben'), uniqueName('cy')];
      for (const name of names) await createUser(admin, name);
      const signedIn = await Promise.all(names.map((name) => signIn(server, name)));
      const otherAdmin = await server.adminClient();
      const live = signedIn[0]!;
      const socket = openSocket(server, { cookie: live.client.cookie });
      await socket.connected;
      const ws = subscribeWs(socket.client, SessionRevokedDocument);
      const sse = subscribeSse(server, SessionRevokedDocument, { cookie: live.client.cookie });
      assert.equal(await sse.opened, 200);
      const { revokeAllSessions } = await admin.data(RevokeAllSessionsDocument);
      assert.equal(revokeAllSessions, names.length + 1, 'the three users and the other admin session');
      for (const subscription of [ws, sse]) {
        const [event] = await subscription.received(1, 1_000);
        assert.equal(event?.data?.sessionRevoked.reason, 'ALL_SESSIONS_REVOKED');
      }
      assert.equal((await socket.closedWithin(1_000)).code, 4403);
      for (const { client } of signedIn) await assertAnonymous(client);
      await assertAnonymous(otherAdmin, "another admin's session");
      assert.equal(await usernameOf(admin), ADMIN_USERNAME, "the caller's own session stays");
      assert.equal((await admin.data(RevokeAllSessionsDocument)).revokeAllSessions, 0, 'nothing left to end');
    });
  });
}

describe('accounts: a login racing a disable never leaves an active session', () => {
  for (const kind of DATABASE_KINDS) {
    it(`on ${kind}${kind === 'postgres' ? ', logins on one instance and the disable on another' : ''}`, async () => {
      const server = await startTestServer({ database: kind });
      const other = kind === 'postgres' ? await startAppOn(server.database, server.clock) : undefined;
      try {
        const admin = await (other ? signInAt(other.url) : server.adminClient());
        for (let round = 0; round < 3; round++) {
          const name = uniqueName('racer');
          const userId = await createUser(admin, name);
          const logins = Array.from({ length: 12 }, () =>
            server.client().request(LoginDocument, { username: name, password: passwordOf(name) }),
          );
          await new Promise((resolve) => setTimeout(resolve, 15 * round));
          await admin.data(DisableUserDocument, { userId });
          const codes = (await Promise.all(logins)).map((result) => errorCode(result) ?? 'OK');
          const open = (await sessionRowsOf(server, userId)).filter((row) => row.endedAt === null);
          assert.deepEqual(open, [], `round ${round}: ${codes.join(' ')}`);
          // A refused login (disabled, or throttled: refusals of a disabled account count as failures).
          for (const code of codes) assert.ok(['OK', 'ACCOUNT_DISABLED', 'RATE_LIMITED'].includes(code), code);
        }
      } finally {
        await other?.app.stop();
        await server.stop();
      }
    });
  }
});

/** An admin client on any URL (a second instance). */
async function signInAt(url: string): Promise<TestClient> {
  const { TestClient } = await import('./support/client.js');
  const client = new TestClient(url);
  await client.data(LoginDocument, { username: ADMIN_USERNAME, password: 'admin-password-for-tests' });
  return client;
}

describe(
  'accounts: across instances (two servers, one PostgreSQL database)',
  { skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set' },
  () => {
    let database: TestDatabase;
    const clock = new ManualClock();
    let a: { url: string; stop(): Promise<void> };
    let b: { url: string; stop(): Promise<void> };
    before(async () => {
      database = await createPostgresDatabase();
      const first = await startAppOn(database, clock);
      const second = await startAppOn(database, clock);
      a = { url: first.url, stop: () => first.app.stop() };
      b = { url: second.url, stop: () => second.app.stop() };
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await database?.drop();
    });

    it('a disable, a delete or an end of every session on A is refused on B as soon as it returns', async () => {
      const adminA = await signInAt(a.url);
      const { TestClient } = await import('./support/client.js');
      const onB = async (name: string) => {
        const client = new TestClient(b.url);
        await client.data(LoginDocument, { username: name, password: passwordOf(name) });
        assert.equal((await client.data(MeDocument)).me?.username, name, 'B validates (and caches) it');
        return client;
      };
      const disabled = uniqueName('xena');
      const deleted = uniqueName('yuri');
      const bystander = uniqueName('zoe');
      const ids = new Map<string, string>();
      for (const name of [disabled, deleted, bystander]) ids.set(name, await createUser(adminA, name));
      const [cDisabled, cDeleted, cBystander] = [await onB(disabled), await onB(deleted), await onB(bystander)];
      await adminA.data(DisableUserDocument, { userId: ids.get(disabled)! });
      assert.equal((await cDisabled.data(MeDocument)).me, null);
      await adminA.data(DeleteUserDocument, { userId: ids.get(deleted)! });
      assert.equal((await cDeleted.data(MeDocument)).me, null);
      assert.equal((await cBystander.data(MeDocument)).me?.username, bystander);
      await adminA.data(RevokeAllSessionsDocument);
      assert.equal((await cBystander.data(MeDocument)).me, null);
      assert.equal((await adminA.data(MeDocument)).me?.username, ADMIN_USERNAME);
    });
  },
);

describe('accounts: every error has a contract code', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('a malformed JSON body is 400 BAD_USER_INPUT, not Yoga BAD_REQUEST, and tells nothing of the parser', async () => {
    for (const body of ['{"query": ', 'not json', '[]', '{"query": 42}', '{}']) {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body,
        });
        const text = await response.text();
        const parsed = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> };
        assert.equal(parsed.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${body}: ${text}`);
        assert.ok(!text.includes('originalError') && !text.includes('SyntaxError'), `${body}: ${text}`);
        assert.equal(response.status, 400, `${body} (${accept})`);
      }
    }
  });
});
