import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createArgon2Hasher } from '../src/sessions/passwords.js';
import {
  ActiveSessionsDocument,
  LoginDocument,
  LogoutDocument,
  SessionsByUserDocument,
  SetUserSessionLimitDocument,
  WhoamiDocument,
} from './generated/graphql.js';
import { errorCode, type TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import {
  assertAnonymous,
  createUser,
  isSignedIn,
  passwordOf,
  sessionRowsOf,
  signIn,
  type SignedIn,
} from './support/sessions.js';
const CONCURRENT_LOGINS = 40;
/**
 * The production hasher, with as many verifications in flight as there are logins: they then
 * finish close together, so the logins' transactions really overlap (with the default bound of
 * one per core they mostly queue up behind the hashing, and a missing lock would go unnoticed).
 */
const racingHasher = () => createArgon2Hasher(CONCURRENT_LOGINS);

for (const kind of DATABASE_KINDS) {
  /** What the API says about a user's sessions: active ids (newest first), and every row with its end reason. */
  async function sessionsOf(admin: TestClient, userId: string) {
    const active = await admin.data(ActiveSessionsDocument, { userId, first: 100 });
    const all = await admin.data(SessionsByUserDocument, { userId, includeEnded: true });
    return {
      totalCount: active.activeSessions.totalCount,
      active: active.activeSessions.edges.map((edge) => edge.node.id),
      all: all.sessionsByUser,
    };
  }

  describe(`limits: MAX_SESSIONS_PER_USER=1, revoke-oldest (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, MAX_SESSIONS_PER_USER: '1' },
        overrides: { hasher: racingHasher() },
      });
      // The admin is limited too: this is the one admin session of the suite.
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    it('a second login ends the first with SUPERSEDED; the first cookie is anonymous at once', async () => {
      await createUser(admin.client, 'solo');
      const first = await signIn(server, 'solo');
      assert.equal(await isSignedIn(first.client), true); // now cached, where there is a cache
      server.clock.advance(1000);
      const second = await signIn(server, 'solo');

      await assertAnonymous(first.client, 'the first cookie');
      const bearer = server.client({ authorization: `Bearer ${first.client.token}` });
      assert.equal(await isSignedIn(bearer), false, 'the first token as a bearer');
      assert.equal(await isSignedIn(second.client), true);

      const sessions = await sessionsOf(admin.client, first.user.id);
      assert.equal(sessions.totalCount, 1);
      assert.deepEqual(sessions.active, [second.session.id]);
      assert.deepEqual(
        sessions.all.map((s) => [s.id, s.endReason, s.endedAt]),
        [
          [second.session.id, null, null],
          [first.session.id, 'SUPERSEDED', server.clock.now().toISOString()],
        ],
      );
      assert.equal(await isSignedIn(admin.client), true, 'other users are not affected');
    });

    it(`${CONCURRENT_LOGINS} concurrent logins of one user leave exactly one active session; the other ${CONCURRENT_LOGINS - 1} are SUPERSEDED`, async () => {
      const userId = await createUser(admin.client, 'stampede');
      const clients = Array.from({ length: CONCURRENT_LOGINS }, () => server.client());
      const results = await Promise.all(
        clients.map((client) =>
          client.request(LoginDocument, { username: 'stampede', password: passwordOf('stampede') }),
        ),
      );
      for (const result of results) assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      const issued = results.map((result) => result.data?.login.session.id);
      assert.equal(new Set(issued).size, CONCURRENT_LOGINS);

      const sessions = await sessionsOf(admin.client, userId);
      assert.equal(sessions.totalCount, 1);
      assert.equal(sessions.active.length, 1);
      assert.equal(sessions.all.length, CONCURRENT_LOGINS);
      const survivors = sessions.all.filter((s) => s.endReason === null);
      assert.deepEqual(
        survivors.map((s) => s.id),
        sessions.active,
      );
      assert.equal(sessions.all.filter((s) => s.endReason === 'SUPERSEDED').length, CONCURRENT_LOGINS - 1);

      // Exactly one of the 40 cookies still signs in, and it is the surviving session's.
      const signedIn = await Promise.all(clients.map((client) => client.data(WhoamiDocument)));
      const alive = signedIn.filter((who) => who.me !== null);
      assert.equal(alive.length, 1);
      assert.equal(alive[0]?.currentSession?.id, sessions.active[0]);
      // The stored rows agree.
      const rows = await sessionRowsOf(server, userId);
      assert.equal(rows.filter((row) => row.endedAt === null).length, 1);
    });

    it('a per-user limit overrides the global one: 3 lets three live, 0 is unlimited, null falls back to 1', async () => {
      const userId = await createUser(admin.client, 'trio');
      await admin.client.data(SetUserSessionLimitDocument, { userId, limit: 3 });
      const logins: SignedIn[] = [];
      const login = async () => {
        server.clock.advance(1000);
        const signedIn = await signIn(server, 'trio');
        logins.push(signedIn);
        return signedIn;
      };
      for (let i = 0; i < 3; i++) await login();
      let sessions = await sessionsOf(admin.client, userId);
      assert.equal(sessions.totalCount, 3);
      for (const signedIn of logins) assert.equal(await isSignedIn(signedIn.client), true);

      // A fourth ends the oldest only.
      await login();
      sessions = await sessionsOf(admin.client, userId);
      assert.deepEqual(
        sessions.active,
        logins
          .slice(1)
          .map((s) => s.session.id)
          .reverse(),
      );
      assert.equal(sessions.all.find((s) => s.id === logins[0]?.session.id)?.endReason, 'SUPERSEDED');

      // 0: no limit for this user, while the global limit stays 1.
      await admin.client.data(SetUserSessionLimitDocument, { userId, limit: 0 });
      for (let i = 0; i < 4; i++) await login();
      sessions = await sessionsOf(admin.client, userId);
      assert.equal(sessions.totalCount, 7);
      assert.equal(sessions.all.filter((s) => s.endReason === 'SUPERSEDED').length, 1);

      // null: back to the global limit of 1, from the next login.
      await admin.client.data(SetUserSessionLimitDocument, { userId, limit: null });
      const last = await login();
      sessions = await sessionsOf(admin.client, userId);
      assert.deepEqual(sessions.active, [last.session.id]);
      assert.equal(sessions.all.filter((s) => s.endReason === 'SUPERSEDED').length, 8);
      assert.equal(await isSignedIn(logins[4]?.client ?? server.client()), false);
    });

    it('setUserSessionLimit refuses negative and above-10000 limits with BAD_USER_INPUT, and the limit stays', async () => {
      const userId = await createUser(admin.client, 'range');
      await admin.client.data(SetUserSessionLimitDocument, { userId, limit: 2 });
      for (const limit of [-1, 10_001]) {
        const result = await admin.client.request(SetUserSessionLimitDocument, { userId, limit });
        assert.equal(errorCode(result), 'BAD_USER_INPUT', `limit ${limit}`);
      }
      // Still 2: two logins live side by side under a global limit of 1.
      const first = await signIn(server, 'range');
      server.clock.advance(1000);
      const second = await signIn(server, 'range');
      assert.equal(await isSignedIn(first.client), true);
      assert.equal(await isSignedIn(second.client), true);
      assert.equal((await sessionsOf(admin.client, userId)).totalCount, 2);
    });
  });

  describe(`limits: MAX_SESSIONS_PER_USER=1, deny-new (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, MAX_SESSIONS_PER_USER: '1', SESSION_LIMIT_STRATEGY: 'deny-new' },
        overrides: { hasher: racingHasher() },
      });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    it('a second login is refused with SESSION_LIMIT: no cookie, no new row, the first session untouched', async () => {
      const userId = await createUser(admin.client, 'denise');
      const first = await signIn(server, 'denise');
      assert.equal(await isSignedIn(first.client), true);
      const rowsBefore = await sessionRowsOf(server, userId);

      server.clock.advance(1000);
      const second = server.client();
      const refused = await second.request(LoginDocument, { username: 'denise', password: passwordOf('denise') });
      assert.equal(errorCode(refused), 'SESSION_LIMIT', JSON.stringify(refused.errors));
      assert.equal(refused.data ?? null, null);
      assert.deepEqual(refused.headers.getSetCookie(), []);
      assert.equal(second.cookie, undefined);

      assert.equal(await isSignedIn(first.client), true);
      assert.deepEqual(await sessionRowsOf(server, userId), rowsBefore);
      const sessions = await sessionsOf(admin.client, userId);
      assert.deepEqual(sessions.active, [first.session.id]);
      assert.deepEqual(
        sessions.all.map((s) => [s.id, s.endReason]),
        [[first.session.id, null]],
      );
    });

    it(`${CONCURRENT_LOGINS} concurrent logins of a user without a session: exactly one succeeds, the rest are SESSION_LIMIT`, async () => {
      const userId = await createUser(admin.client, 'crowd');
      const clients = Array.from({ length: CONCURRENT_LOGINS }, () => server.client());
      const results = await Promise.all(
        clients.map((client) => client.request(LoginDocument, { username: 'crowd', password: passwordOf('crowd') })),
      );
      const codes = results.map((result) => errorCode(result) ?? 'OK');
      assert.equal(codes.filter((code) => code === 'OK').length, 1, codes.join(','));
      assert.equal(codes.filter((code) => code === 'SESSION_LIMIT').length, CONCURRENT_LOGINS - 1);
      assert.equal(clients.filter((client) => client.cookie !== undefined).length, 1);
      const rows = await sessionRowsOf(server, userId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.endedAt, null);
    });

    it('an ended or expired session frees the slot', async () => {
      await createUser(admin.client, 'freya');
      const first = await signIn(server, 'freya');
      await first.client.data(LogoutDocument);
      const second = await signIn(server, 'freya');
      assert.equal(await isSignedIn(second.client), true);

      // Idle for longer than SESSION_IDLE_TIMEOUT (24h): expired, though nothing has ended it yet.
      server.clock.advance(24 * 3_600_000 + 1000);
      const third = await signIn(server, 'freya');
      assert.equal(await isSignedIn(third.client), true);
      assert.equal(await isSignedIn(second.client), false);
    });
  });

  describe(`limits: MAX_SESSIONS_PER_USER=2, revoke-oldest (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, MAX_SESSIONS_PER_USER: '2' } });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    it('a third login ends the oldest by login time, even when the oldest was used last', async () => {
      const userId = await createUser(admin.client, 'duo');
      const s1 = await signIn(server, 'duo');
      server.clock.advance(60_000);
      const s2 = await signIn(server, 'duo');
      server.clock.advance(60_000);
      assert.equal(await isSignedIn(s1.client), true); // s1 is now the most recently used
      server.clock.advance(60_000);
      const s3 = await signIn(server, 'duo');

      assert.equal(await isSignedIn(s1.client), false);
      assert.equal(await isSignedIn(s2.client), true);
      assert.equal(await isSignedIn(s3.client), true);
      const sessions = await sessionsOf(admin.client, userId);
      assert.equal(sessions.totalCount, 2);
      assert.deepEqual(sessions.active, [s3.session.id, s2.session.id]);
      assert.deepEqual(
        sessions.all.map((s) => [s.id, s.endReason]),
        [
          [s3.session.id, null],
          [s2.session.id, null],
          [s1.session.id, 'SUPERSEDED'],
        ],
      );

      // And again: now s2 is the oldest.
      server.clock.advance(60_000);
      const s4 = await signIn(server, 'duo');
      assert.deepEqual((await sessionsOf(admin.client, userId)).active, [s4.session.id, s3.session.id]);
      assert.equal(await isSignedIn(s2.client), false);
    });

    it('expired sessions do not count towards the limit and are not the ones superseded', async () => {
      const userId = await createUser(admin.client, 'lapse');
      const old = await signIn(server, 'lapse');
      // Idle past SESSION_IDLE_TIMEOUT (24h), with no request that would end it.
      server.clock.advance(24 * 3_600_000 + 1000);
      const a = await signIn(server, 'lapse');
      server.clock.advance(1000);
      const b = await signIn(server, 'lapse');
      assert.equal(await isSignedIn(a.client), true);
      assert.equal(await isSignedIn(b.client), true);
      // The admin's session idled out as well.
      const freshAdmin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      assert.deepEqual((await sessionsOf(freshAdmin.client, userId)).active, [b.session.id, a.session.id]);
      const oldRow = (await sessionRowsOf(server, userId)).find((row) => row.id === old.session.id);
      assert.notEqual(oldRow?.endReason, 'SUPERSEDED');
    });
  });

  describe(`limits: no global limit, per-user limit of 1 (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    it('a per-user limit of 1 makes single login for that user only', async () => {
      const single = await createUser(admin.client, 'single');
      const multi = await createUser(admin.client, 'multi');
      await admin.client.data(SetUserSessionLimitDocument, { userId: single, limit: 1 });
      const s1 = await signIn(server, 'single');
      server.clock.advance(1000);
      const s2 = await signIn(server, 'single');
      const m1 = await signIn(server, 'multi');
      const m2 = await signIn(server, 'multi');
      assert.equal(await isSignedIn(s1.client), false);
      for (const signedIn of [s2, m1, m2]) assert.equal(await isSignedIn(signedIn.client), true);
      assert.equal((await sessionsOf(admin.client, single)).totalCount, 1);
      assert.equal((await sessionsOf(admin.client, multi)).totalCount, 2);
    });
  });
}
