import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ActiveSessionsDocument,
  ActiveSessionsWithUserSessionsDocument,
  ChangePasswordDocument,
  CreateUserDocument,
  KickSessionDocument,
  type KickSessionMutation,
  LoginDocument,
  LogoutDocument,
  MySessionsDocument,
  RevokeOtherSessionsDocument,
  RevokeUserSessionsDocument,
  SessionsByUserDocument,
  SessionsByUserWithUserDocument,
  SessionStatsDocument,
  SetUserSessionLimitDocument,
  type SessionEndReason,
} from './generated/graphql.js';
import { flushLastSeen } from './support/app.js';
import { assertRefused, type GraphQLResponse, type TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import {
  assertAnonymous,
  createUser,
  passwordOf,
  sessionRow,
  signedInAs,
  signIn,
  sweep,
  type SignedIn,
} from './support/sessions.js';

/** A failed root field: exactly one error, with `code`, and no data. */
function assertRefusedAlone(result: GraphQLResponse<unknown>, code: string, label = ''): void {
  assertRefused(result, code, label);
  assert.equal(result.errors?.length, 1, label);
}

async function assertSignedIn(client: TestClient, userId: string, label = ''): Promise<void> {
  assert.equal(await signedInAs(client), userId, `${label}: expected to be signed in`);
}

const ids = (rows: ReadonlyArray<{ id: string }>) => rows.map((row) => row.id);

for (const kind of DATABASE_KINDS) {
  describe(`control: authorization and ending sessions (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    });
    after(() => server.stop());

    /** Creates a USER and signs them in `times` times, a second apart (so newest-first is defined). */
    async function userWithSessions(username: string, times = 1): Promise<SignedIn[]> {
      await createUser(admin.client, username);
      const sessions: SignedIn[] = [];
      for (let i = 0; i < times; i++) {
        server.clock.advance(1000);
        sessions.push(await signIn(server, username));
      }
      return sessions;
    }

    it('activeSessions: ADMIN lists everyone; a USER is FORBIDDEN even for their own id; anonymous is UNAUTHENTICATED', async () => {
      const [alice] = await userWithSessions('alice');
      assert.ok(alice);

      const all = await admin.client.data(ActiveSessionsDocument, { first: 100 });
      const listed = all.activeSessions.edges.map((edge) => edge.node.id);
      assert.ok(listed.includes(alice.session.id));
      assert.ok(listed.includes(admin.session.id));
      assert.equal(all.activeSessions.totalCount, listed.length);

      const hers = await admin.client.data(ActiveSessionsDocument, { userId: alice.user.id });
      assert.deepEqual(
        hers.activeSessions.edges.map((edge) => [edge.node.id, edge.node.user.id]),
        [[alice.session.id, alice.user.id]],
      );
      assert.equal(hers.activeSessions.totalCount, 1);

      assertRefusedAlone(await alice.client.request(ActiveSessionsDocument, {}), 'FORBIDDEN', 'USER, all');
      assertRefusedAlone(
        await alice.client.request(ActiveSessionsDocument, { userId: alice.user.id }),
        'FORBIDDEN',
        'USER, own id',
      );
      assertRefusedAlone(await server.client().request(ActiveSessionsDocument, {}), 'UNAUTHENTICATED', 'anonymous');
      assertRefusedAlone(
        await server.client({ cookie: 'gatehouse_session=not-a-token' }).request(ActiveSessionsDocument, {}),
        'UNAUTHENTICATED',
        'garbage cookie',
      );
    });

    it('sessionsByUser: ADMIN for anyone, a user for themself, another USER FORBIDDEN, anonymous UNAUTHENTICATED, unknown user NOT_FOUND', async () => {
      const [b1, b2] = await userWithSessions('bella', 2);
      const [other] = await userWithSessions('bruno');
      assert.ok(b1 && b2 && other);
      const bellaId = b1.user.id;

      const byAdmin = await admin.client.data(SessionsByUserDocument, { userId: bellaId });
      assert.deepEqual(ids(byAdmin.sessionsByUser), [b2.session.id, b1.session.id], 'newest first');
      for (const session of byAdmin.sessionsByUser) {
        assert.equal(session.user.id, bellaId);
        assert.equal(session.active, true);
        assert.equal(session.current, false);
        assert.equal(session.endedAt, null);
      }

      const bySelf = await b1.client.data(SessionsByUserDocument, { userId: bellaId });
      assert.deepEqual(ids(bySelf.sessionsByUser), [b2.session.id, b1.session.id]);
      assert.deepEqual(
        bySelf.sessionsByUser.map((session) => session.current),
        [false, true],
      );

      assertRefusedAlone(
        await other.client.request(SessionsByUserDocument, { userId: bellaId }),
        'FORBIDDEN',
        'other USER',
      );
      assertRefusedAlone(
        await server.client().request(SessionsByUserDocument, { userId: bellaId }),
        'UNAUTHENTICATED',
        'anonymous',
      );
      assertRefusedAlone(
        await admin.client.request(SessionsByUserDocument, { userId: randomUUID() }),
        'NOT_FOUND',
        'ADMIN, unknown user',
      );
      // A USER cannot tell an unknown id from someone else's.
      assertRefusedAlone(
        await other.client.request(SessionsByUserDocument, { userId: randomUUID() }),
        'FORBIDDEN',
        'USER, unknown user',
      );

      // Ended sessions only with includeEnded.
      assert.equal((await b2.client.data(LogoutDocument)).logout, true);
      const active = await admin.client.data(SessionsByUserDocument, { userId: bellaId });
      assert.deepEqual(ids(active.sessionsByUser), [b1.session.id]);
      const withEnded = await b1.client.data(SessionsByUserDocument, { userId: bellaId, includeEnded: true });
      assert.deepEqual(ids(withEnded.sessionsByUser), [b2.session.id, b1.session.id]);
      const [ended] = withEnded.sessionsByUser;
      assert.equal(ended?.endReason, 'LOGOUT');
      assert.equal(ended?.active, false);
      assert.equal(ended?.endedAt, server.clock.now().toISOString());
    });

    it('User.sessions and User.sessionLimit: ADMIN for any user, the user for themself; no route reaches them for another USER or the anonymous', async () => {
      const [c1, c2] = await userWithSessions('cora', 2);
      const [other] = await userWithSessions('cyril');
      assert.ok(c1 && c2 && other);
      const coraId = c1.user.id;
      assert.equal((await c2.client.data(LogoutDocument)).logout, true);

      // ADMIN reaches another user's User through sessionsByUser and through activeSessions.
      const viaList = await admin.client.data(SessionsByUserWithUserDocument, { userId: coraId });
      const user = viaList.sessionsByUser[0]?.user;
      assert.equal(user?.id, coraId);
      assert.equal(user?.sessionLimit, null);
      assert.equal(user?.activeSessionCount, 1);
      assert.deepEqual(
        user?.sessions.map((session) => [session.id, session.endReason]),
        [
          [c2.session.id, 'LOGOUT'],
          [c1.session.id, null],
        ],
      );
      const viaActive = await admin.client.data(ActiveSessionsWithUserSessionsDocument);
      const node = viaActive.activeSessions.edges.find((edge) => edge.node.id === c1.session.id)?.node;
      assert.deepEqual(ids(node?.user.sessions ?? []), [c2.session.id, c1.session.id]);

      // The user themself, through me.
      await admin.client.data(SetUserSessionLimitDocument, { userId: coraId, limit: 5 });
      const mine = await c1.client.data(MySessionsDocument, { includeEnded: false });
      assert.equal(mine.me?.id, coraId);
      assert.equal(mine.me?.sessionLimit, 5);
      assert.equal(mine.me?.activeSessionCount, 1);
      assert.deepEqual(ids(mine.me?.sessions ?? []), [c1.session.id]);
      assert.equal(mine.me?.sessions[0]?.current, true);
      const mineAll = await c1.client.data(MySessionsDocument, { includeEnded: true });
      assert.deepEqual(ids(mineAll.me?.sessions ?? []), [c2.session.id, c1.session.id]);
      assert.equal(
        (await admin.client.data(SetUserSessionLimitDocument, { userId: coraId, limit: null })).setUserSessionLimit
          .sessionLimit,
        null,
      );

      // Another USER: every field that returns someone else's User is closed to them.
      assertRefusedAlone(
        await other.client.request(SessionsByUserWithUserDocument, { userId: coraId }),
        'FORBIDDEN',
        'other USER via sessionsByUser',
      );
      assertRefusedAlone(
        await other.client.request(ActiveSessionsWithUserSessionsDocument),
        'FORBIDDEN',
        'other USER via activeSessions',
      );
      // Anonymous: me is null and the other routes are UNAUTHENTICATED.
      const anonymous = await server.client().request(MySessionsDocument, { includeEnded: true });
      assert.equal(anonymous.errors, undefined);
      assert.deepEqual(anonymous.data, { me: null });
      assertRefusedAlone(
        await server.client().request(SessionsByUserWithUserDocument, { userId: coraId }),
        'UNAUTHENTICATED',
        'anonymous via sessionsByUser',
      );
    });

    it('sessionStats: ADMIN only (USER FORBIDDEN, anonymous UNAUTHENTICATED)', async () => {
      const [dina] = await userWithSessions('dina');
      assert.ok(dina);
      const stats = await admin.client.data(SessionStatsDocument);
      assert.ok(stats.sessionStats.activeSessions >= 2);
      assertRefusedAlone(await dina.client.request(SessionStatsDocument), 'FORBIDDEN', 'USER');
      assertRefusedAlone(await server.client().request(SessionStatsDocument), 'UNAUTHENTICATED', 'anonymous');
    });

    it('kickSession by ADMIN ends anyone’s session (KICKED, row kept); its cached cookie and token are anonymous at once', async () => {
      const [emma] = await userWithSessions('emma');
      assert.ok(emma);
      const token = emma.client.token;
      assert.ok(token);
      const bearer = server.client({ authorization: `Bearer ${token}` });
      // Used first, so the validated session sits in the in-process cache (SQLite).
      await assertSignedIn(emma.client, emma.user.id, 'before the kick');
      await assertSignedIn(bearer, emma.user.id, 'bearer before the kick');

      server.clock.advance(5000);
      const kickedAt = server.clock.now().toISOString();
      const { kickSession } = await admin.client.data(KickSessionDocument, { sessionId: emma.session.id });
      assert.equal(kickSession.id, emma.session.id);
      assert.equal(kickSession.endReason, 'KICKED');
      assert.equal(kickSession.endedAt, kickedAt);
      assert.equal(kickSession.active, false);
      assert.equal(kickSession.current, false);
      assert.equal(kickSession.user.id, emma.user.id);

      await assertAnonymous(emma.client, 'cookie after the kick');
      await assertAnonymous(bearer, 'bearer after the kick');

      const rows = await admin.client.data(SessionsByUserDocument, { userId: emma.user.id, includeEnded: true });
      assert.deepEqual(
        rows.sessionsByUser.map((s) => [s.id, s.endReason, s.endedAt]),
        [[emma.session.id, 'KICKED', kickedAt]],
      );
      const row = await sessionRow(server, emma.session.id);
      assert.deepEqual([row.endReason, row.endedAt], ['KICKED', Date.parse(kickedAt)]);
    });

    it('kickSession by the owner ends their other session, and their current one (which signs them out)', async () => {
      const [f1, f2] = await userWithSessions('fiona', 2);
      assert.ok(f1 && f2);
      await assertSignedIn(f1.client, f1.user.id);
      await assertSignedIn(f2.client, f1.user.id);

      const other = await f1.client.data(KickSessionDocument, { sessionId: f2.session.id });
      assert.equal(other.kickSession.endReason, 'KICKED');
      assert.equal(other.kickSession.current, false);
      await assertAnonymous(f2.client, 'the kicked session');
      await assertSignedIn(f1.client, f1.user.id, 'the kicking session');

      const self = await f1.client.data(KickSessionDocument, { sessionId: f1.session.id });
      assert.equal(self.kickSession.endReason, 'KICKED');
      assert.equal(self.kickSession.current, true);
      assert.equal(self.kickSession.active, false);
      await assertAnonymous(f1.client, 'after kicking itself');
      assert.equal((await sessionRow(server, f1.session.id)).endReason, 'KICKED');
      assert.equal((await sessionRow(server, f2.session.id)).endReason, 'KICKED');
    });

    it('kickSession: another USER’s session is NOT_FOUND (and stays active), like an unknown id; anonymous is UNAUTHENTICATED', async () => {
      const [gabe] = await userWithSessions('gabe');
      const [hana] = await userWithSessions('hana');
      assert.ok(gabe && hana);
      await assertSignedIn(gabe.client, gabe.user.id);

      const notHis = await hana.client.request(KickSessionDocument, { sessionId: gabe.session.id });
      assertRefusedAlone(notHis, 'NOT_FOUND', 'another user’s session');
      const unknown = await hana.client.request(KickSessionDocument, { sessionId: randomUUID() });
      assertRefusedAlone(unknown, 'NOT_FOUND', 'unknown id, USER');
      // Same answer either way: ids cannot be probed.
      assert.deepEqual(notHis.errors?.[0]?.message, unknown.errors?.[0]?.message);
      assert.deepEqual(notHis.errors?.[0]?.extensions, unknown.errors?.[0]?.extensions);

      assertRefusedAlone(
        await admin.client.request(KickSessionDocument, { sessionId: randomUUID() }),
        'NOT_FOUND',
        'ADMIN',
      );
      for (const sessionId of ['not-a-session-id', 'x'.repeat(200), "' OR '1'='1"]) {
        assertRefusedAlone(
          await admin.client.request(KickSessionDocument, { sessionId }),
          'NOT_FOUND',
          `ADMIN, malformed id ${sessionId.slice(0, 20)}`,
        );
      }
      assertRefusedAlone(
        await server.client().request(KickSessionDocument, { sessionId: gabe.session.id }),
        'UNAUTHENTICATED',
        'anonymous',
      );

      await assertSignedIn(gabe.client, gabe.user.id, 'after the refused kicks');
      const row = await sessionRow(server, gabe.session.id);
      assert.deepEqual([row.endedAt, row.endReason], [null, null]);
    });

    it('kickSession of an already-ended session returns it unchanged, with its original endReason and endedAt', async () => {
      const [i1] = await userWithSessions('ines');
      assert.ok(i1);
      await i1.client.data(LogoutDocument);
      const loggedOutAt = server.clock.now().toISOString();
      server.clock.advance(60_000);

      const kickers: Array<[string, TestClient]> = [
        ['ADMIN', admin.client],
        ['owner', (await signIn(server, 'ines')).client],
      ];
      for (const [label, client] of kickers) {
        const { kickSession }: KickSessionMutation = await client.data(KickSessionDocument, {
          sessionId: i1.session.id,
        });
        assert.equal(kickSession.id, i1.session.id, label);
        assert.equal(kickSession.endReason, 'LOGOUT', label);
        assert.equal(kickSession.endedAt, loggedOutAt, label);
        assert.equal(kickSession.active, false, label);
      }
      const row = await sessionRow(server, i1.session.id);
      assert.deepEqual([row.endReason, row.endedAt], ['LOGOUT', Date.parse(loggedOutAt)]);
    });

    interface EndingContext {
      /** The user's sessions, oldest first. */
      mine: SignedIn[];
      /** Another user's session. */
      other: SignedIn;
    }

    /**
     * Mutations that end several of a user's sessions at once, and what each ends. Same shape
     * each time: the user's sessions and another user's are signed in; a second later the step
     * runs; exactly the sessions it ends are anonymous and stored as ended with `reason` at that
     * instant, and the user's other sessions and the other user are still signed in. `before` and
     * `after` hold what is particular to each mutation.
     */
    const ENDINGS: Array<{
      title: string;
      reason: SessionEndReason;
      /** The user, how many sessions they have, and which of them (by index) the step ends. */
      username: string;
      sessions: number;
      ended: number[];
      otherUsername: string;
      before?(ctx: EndingContext): Promise<void>;
      end(ctx: EndingContext): Promise<void>;
      after?(ctx: EndingContext): Promise<void>;
    }> = [
      {
        title:
          'revokeOtherSessions ends the caller’s other sessions (USER_SESSIONS_REVOKED) and nobody else’s; anonymous is UNAUTHENTICATED',
        reason: 'USER_SESSIONS_REVOKED',
        username: 'jonas',
        sessions: 3,
        ended: [0, 2],
        otherUsername: 'kai',
        async end({ mine: [, caller] }) {
          assert.equal((await caller!.client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 2);
        },
        async after({ mine: [, caller], other: kai }) {
          assert.equal((await caller!.client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 0);

          // An ADMIN ends only their own other sessions too.
          await createUser(admin.client, 'ops', passwordOf('ops'), 'ADMIN');
          const ops1 = await signIn(server, 'ops');
          const ops2 = await signIn(server, 'ops');
          assert.equal((await ops2.client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 1);
          await assertAnonymous(ops1.client, 'the admin’s other session');
          await assertSignedIn(ops2.client, ops2.user.id);
          await assertSignedIn(kai.client, kai.user.id, 'a user, after an admin revoked their own others');
          await assertSignedIn(admin.client, admin.user.id, 'another admin');

          assertRefusedAlone(
            await server.client().request(RevokeOtherSessionsDocument),
            'UNAUTHENTICATED',
            'anonymous',
          );
        },
      },
      {
        title:
          'revokeUserSessions: ADMIN ends all of a user’s sessions; a USER is FORBIDDEN (even for themself); anonymous UNAUTHENTICATED; unknown user NOT_FOUND',
        reason: 'USER_SESSIONS_REVOKED',
        username: 'lena',
        sessions: 2,
        ended: [0, 1],
        otherUsername: 'milo',
        async before({ mine: [l1, l2], other: milo }) {
          const userId = l1!.user.id;
          assertRefusedAlone(await l1!.client.request(RevokeUserSessionsDocument, { userId }), 'FORBIDDEN', 'self');
          assertRefusedAlone(await milo.client.request(RevokeUserSessionsDocument, { userId }), 'FORBIDDEN', 'other');
          assertRefusedAlone(
            await server.client().request(RevokeUserSessionsDocument, { userId }),
            'UNAUTHENTICATED',
            'anonymous',
          );
          await assertSignedIn(l1!.client, userId, 'after the refused attempts');
          await assertSignedIn(l2!.client, userId, 'after the refused attempts');
        },
        async end({ mine: [l1] }) {
          const { revokeUserSessions } = await admin.client.data(RevokeUserSessionsDocument, { userId: l1!.user.id });
          assert.equal(revokeUserSessions, 2);
        },
        async after({ mine: [l1] }) {
          const again = await admin.client.data(RevokeUserSessionsDocument, { userId: l1!.user.id });
          assert.equal(again.revokeUserSessions, 0);
          assertRefusedAlone(
            await admin.client.request(RevokeUserSessionsDocument, { userId: randomUUID() }),
            'NOT_FOUND',
            'unknown user',
          );
          // The user can sign in again.
          await signIn(server, 'lena');
        },
      },
      {
        title:
          'changePassword ends the caller’s other sessions with PASSWORD_CHANGED, keeps the caller’s; only the new password works',
        reason: 'PASSWORD_CHANGED',
        username: 'nora',
        sessions: 3,
        ended: [1, 2],
        otherUsername: 'omar',
        async end({ mine: [caller] }) {
          const result = await caller!.client.data(ChangePasswordDocument, {
            currentPassword: passwordOf('nora'),
            newPassword: 'nora-new-password',
          });
          assert.equal(result.changePassword, true);
        },
        async after() {
          const old = await server.client().request(LoginDocument, { username: 'nora', password: passwordOf('nora') });
          assertRefusedAlone(old, 'INVALID_CREDENTIALS', 'old password');
          await signIn(server, 'nora', 'nora-new-password');
        },
      },
    ];

    for (const c of ENDINGS) {
      it(c.title, async () => {
        const mine = await userWithSessions(c.username, c.sessions);
        const [other] = await userWithSessions(c.otherUsername);
        assert.ok(other);
        const userId = mine[0]!.user.id;
        for (const session of mine) await assertSignedIn(session.client, userId);
        const ctx = { mine, other };
        await c.before?.(ctx);

        server.clock.advance(1000);
        const endedAt = server.clock.now().toISOString();
        await c.end(ctx);
        for (const [i, session] of mine.entries()) {
          if (c.ended.includes(i)) await assertAnonymous(session.client, `session ${i + 1}, ended`);
          else await assertSignedIn(session.client, userId, `session ${i + 1}, kept`);
        }
        await assertSignedIn(other.client, other.user.id, 'another user');
        const rows = await admin.client.data(SessionsByUserDocument, { userId, includeEnded: true });
        assert.deepEqual(
          rows.sessionsByUser.map((s) => [s.id, s.endReason, s.endedAt]),
          [...mine.entries()]
            .reverse()
            .map(([i, s]) => (c.ended.includes(i) ? [s.session.id, c.reason, endedAt] : [s.session.id, null, null])),
          'newest first, each with its end',
        );
        await c.after?.(ctx);
      });
    }

    it('changePassword: a wrong current password is INVALID_CREDENTIALS, a too-short new one BAD_USER_INPUT, and nothing changes; anonymous is UNAUTHENTICATED', async () => {
      const [p1, p2] = await userWithSessions('pia', 2);
      assert.ok(p1 && p2);

      const wrong = await p1.client.request(ChangePasswordDocument, {
        currentPassword: 'not-pias-password',
        newPassword: 'pia-next-password',
      });
      assertRefusedAlone(wrong, 'INVALID_CREDENTIALS', 'wrong current password');
      const short = await p1.client.request(ChangePasswordDocument, {
        currentPassword: passwordOf('pia'),
        newPassword: 'short',
      });
      assertRefusedAlone(short, 'BAD_USER_INPUT', 'too-short new password');
      const anonymous = await server.client().request(ChangePasswordDocument, {
        currentPassword: passwordOf('pia'),
        newPassword: 'pia-next-password',
      });
      assertRefusedAlone(anonymous, 'UNAUTHENTICATED', 'anonymous');

      await assertSignedIn(p1.client, p1.user.id);
      await assertSignedIn(p2.client, p1.user.id);
      for (const password of ['pia-next-password', 'short']) {
        const attempt = await server.client().request(LoginDocument, { username: 'pia', password });
        assertRefusedAlone(attempt, 'INVALID_CREDENTIALS', password);
      }
      await signIn(server, 'pia');
      for (const session of [p1, p2]) {
        const row = await sessionRow(server, session.session.id);
        assert.deepEqual([row.endedAt, row.endReason], [null, null]);
      }
    });

    it('setUserSessionLimit: ADMIN only (USER FORBIDDEN even for themself, anonymous UNAUTHENTICATED); unknown user NOT_FOUND; out of range BAD_USER_INPUT', async () => {
      const [quinn] = await userWithSessions('quinn');
      const [rosa] = await userWithSessions('rosa');
      assert.ok(quinn && rosa);
      const quinnId = quinn.user.id;

      assertRefusedAlone(
        await quinn.client.request(SetUserSessionLimitDocument, { userId: quinnId, limit: 0 }),
        'FORBIDDEN',
        'self',
      );
      assertRefusedAlone(
        await rosa.client.request(SetUserSessionLimitDocument, { userId: quinnId, limit: 0 }),
        'FORBIDDEN',
        'other',
      );
      assertRefusedAlone(
        await server.client().request(SetUserSessionLimitDocument, { userId: quinnId, limit: 0 }),
        'UNAUTHENTICATED',
        'anonymous',
      );
      // As the admin sees it (a fresh read of the user).
      const limitOf = async () =>
        (await admin.client.data(SessionsByUserWithUserDocument, { userId: quinnId })).sessionsByUser[0]?.user
          .sessionLimit;
      assert.equal(await limitOf(), null);

      const set = await admin.client.data(SetUserSessionLimitDocument, { userId: quinnId, limit: 3 });
      assert.deepEqual(
        { ...set.setUserSessionLimit },
        { id: quinnId, username: 'quinn', sessionLimit: 3, activeSessionCount: 1 },
      );
      for (const limit of [-1, 10_001, 2 ** 31 - 1]) {
        assertRefusedAlone(
          await admin.client.request(SetUserSessionLimitDocument, { userId: quinnId, limit }),
          'BAD_USER_INPUT',
          `limit ${limit}`,
        );
      }
      assert.equal(await limitOf(), 3, 'unchanged by the refused values');
      for (const limit of [0, 10_000, null]) {
        const result = await admin.client.data(SetUserSessionLimitDocument, { userId: quinnId, limit });
        assert.equal(result.setUserSessionLimit.sessionLimit, limit);
        assert.equal(await limitOf(), limit);
      }
      assertRefusedAlone(
        await admin.client.request(SetUserSessionLimitDocument, { userId: randomUUID(), limit: 2 }),
        'NOT_FOUND',
        'unknown user',
      );
    });

    it('User.sessionLimit as the user sees it (me) follows a change made while their session is in use', async () => {
      const [rhea] = await userWithSessions('rhea');
      assert.ok(rhea);
      // Used first, so the validated session (with its user) is cached where there is a cache.
      assert.equal((await rhea.client.data(MySessionsDocument, {})).me?.sessionLimit, null);
      for (const limit of [4, 0, null]) {
        await admin.client.data(SetUserSessionLimitDocument, { userId: rhea.user.id, limit });
        assert.equal((await rhea.client.data(MySessionsDocument, {})).me?.sessionLimit, limit, `limit ${limit}`);
      }
    });

    it('createUser: ADMIN only (USER FORBIDDEN, anonymous UNAUTHENTICATED)', async () => {
      const [sam] = await userWithSessions('sam');
      assert.ok(sam);
      const vars = { username: 'tess', password: passwordOf('tess') };
      assertRefusedAlone(await sam.client.request(CreateUserDocument, vars), 'FORBIDDEN', 'USER');
      assertRefusedAlone(await server.client().request(CreateUserDocument, vars), 'UNAUTHENTICATED', 'anonymous');
      assertRefusedAlone(await server.client().request(LoginDocument, vars), 'INVALID_CREDENTIALS', 'not created');
      const { createUser: created } = await admin.client.data(CreateUserDocument, vars);
      assert.equal(created.role, 'USER');
      await signIn(server, 'tess');
    });
  });

  describe(`control: activeSessions pagination (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;
    /** Every active session, newest first: (createdAt desc, id desc). */
    let expected: Array<{ id: string; createdAt: string; userId: string }>;
    const usernames = ['pat', 'pete', 'pola'];
    const userIds: string[] = [];

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      for (const username of usernames) userIds.push(await createUser(admin.client, username));
      const sessions = [{ id: admin.session.id, createdAt: admin.session.createdAt, userId: admin.user.id }];
      // 12 logins over 6 instants: pairs share a createdAt, so the id tie-break is exercised too.
      for (let i = 0; i < 12; i++) {
        if (i % 2 === 0) server.clock.advance(1000);
        const signedIn = await signIn(server, usernames[i % 3] ?? '');
        sessions.push({ id: signedIn.session.id, createdAt: signedIn.session.createdAt, userId: signedIn.user.id });
      }
      expected = newestFirst(sessions);
    });
    after(() => server.stop());

    function newestFirst<T extends { id: string; createdAt: string }>(rows: T[]): T[] {
      return [...rows].sort((a, b) =>
        a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : Date.parse(b.createdAt) - Date.parse(a.createdAt),
      );
    }

    async function page(first: number, after?: string | null, userId?: string) {
      const { activeSessions } = await admin.client.data(ActiveSessionsDocument, {
        first,
        after: after ?? null,
        userId: userId ?? null,
      });
      const { edges, pageInfo } = activeSessions;
      assert.equal(pageInfo.hasPreviousPage, false);
      assert.equal(pageInfo.startCursor, edges[0]?.cursor ?? null);
      assert.equal(pageInfo.endCursor, edges.at(-1)?.cursor ?? null);
      for (const edge of edges) assert.equal(edge.node.active, true);
      return { ids: edges.map((edge) => edge.node.id), ...activeSessions };
    }

    it('pages through more rows than a page: newest first, no duplicates, none missing, totalCount on every page', async () => {
      assert.equal(expected.length, 13);
      const collected: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      for (;;) {
        const result = await page(5, cursor);
        assert.equal(result.totalCount, 13);
        collected.push(...result.ids);
        sizes.push(result.ids.length);
        cursor = result.pageInfo.endCursor;
        if (!result.pageInfo.hasNextPage) break;
        assert.ok(sizes.length < 10, 'paging does not end');
      }
      assert.deepEqual(sizes, [5, 5, 3]);
      assert.equal(new Set(collected).size, collected.length, 'duplicates');
      assert.deepEqual(
        collected,
        expected.map((s) => s.id),
      );
      // The last session is the admin's, the oldest.
      assert.equal(collected.at(-1), admin.session.id);

      assert.equal((await page(13)).pageInfo.hasNextPage, false);
      assert.equal((await page(12)).pageInfo.hasNextPage, true);
      const all = await page(100);
      assert.deepEqual(
        all.ids,
        expected.map((s) => s.id),
      );
      // The default page size (50) covers them all too.
      const byDefault = await admin.client.data(ActiveSessionsDocument, {});
      assert.equal(byDefault.activeSessions.edges.length, 13);
    });

    it('activeSessions(userId:) lists and counts only that user’s sessions, across pages', async () => {
      const userId = userIds[1] ?? '';
      const theirs = expected.filter((s) => s.userId === userId).map((s) => s.id);
      assert.equal(theirs.length, 4);
      const collected: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const result = await page(3, cursor, userId);
        assert.equal(result.totalCount, 4);
        for (const edge of result.edges) assert.equal(edge.node.user.id, userId);
        collected.push(...result.ids);
        cursor = result.pageInfo.endCursor;
        if (!result.pageInfo.hasNextPage) break;
      }
      assert.deepEqual(collected, theirs);
    });

    it('rejects a malformed cursor and a page size outside 1..100 with BAD_USER_INPUT', async () => {
      const badCursors = [
        'garbage!!',
        Buffer.from('not-a-cursor').toString('base64url'),
        Buffer.from('123:not-a-uuid').toString('base64url'),
        Buffer.from(`abc:${randomUUID()}`).toString('base64url'),
        Buffer.from(`${Date.now()}:${randomUUID()}:extra`).toString('base64url'),
      ];
      for (const after of badCursors) {
        assertRefusedAlone(await admin.client.request(ActiveSessionsDocument, { after }), 'BAD_USER_INPUT', after);
      }
      for (const first of [0, -1, 101, 1_000_000]) {
        assertRefusedAlone(
          await admin.client.request(ActiveSessionsDocument, { first }),
          'BAD_USER_INPUT',
          `first ${first}`,
        );
      }
      assert.equal((await page(100)).ids.length, 13);
      assert.equal((await page(1)).ids.length, 1);
      // A well-formed cursor older than every row is simply an empty page.
      const oldest = Buffer.from(`0:${randomUUID()}`).toString('base64url');
      const empty = await page(10, oldest);
      assert.deepEqual(empty.ids, []);
      assert.equal(empty.pageInfo.hasNextPage, false);
      assert.equal(empty.totalCount, 13);
    });

    it('stays correct while sessions start and end between pages: no duplicates, ended rows left out, nothing older than the cursor skipped', async () => {
      const E = expected.map((s) => s.id);
      const kick = async (id: string | undefined) => {
        assert.ok(id);
        assert.equal((await admin.client.data(KickSessionDocument, { sessionId: id })).kickSession.endReason, 'KICKED');
      };
      const addSession = async () => {
        server.clock.advance(1000);
        return (await signIn(server, 'pola')).session.id;
      };

      const page1 = await page(4);
      assert.deepEqual(page1.ids, E.slice(0, 4));
      assert.equal(page1.totalCount, 13);

      // Between pages: two new sessions (newer than everything), two unseen ones end, and one
      // already seen ends (with OFFSET paging that would shift E[4] onto the previous page).
      const added = [await addSession(), await addSession()];
      await kick(E[5]);
      await kick(E[9]);
      await kick(E[1]);
      const page2 = await page(4, page1.pageInfo.endCursor);
      assert.deepEqual(page2.ids, [E[4], E[6], E[7], E[8]]);
      assert.equal(page2.totalCount, 13 + 2 - 3);
      assert.equal(page2.pageInfo.hasNextPage, true);

      added.push(await addSession());
      await kick(E[4]);
      await kick(E[11]);
      const page3 = await page(4, page2.pageInfo.endCursor);
      assert.deepEqual(page3.ids, [E[10], E[12]]);
      assert.equal(page3.totalCount, 12 + 1 - 2);
      assert.equal(page3.pageInfo.hasNextPage, false);

      const collected = [...page1.ids, ...page2.ids, ...page3.ids];
      assert.equal(new Set(collected).size, collected.length, 'duplicates');
      for (const id of added) assert.ok(!collected.includes(id), 'a session newer than the first page appeared');

      // A fresh walk sees exactly the sessions active now: the new ones first.
      const now = await page(100);
      assert.deepEqual(now.ids, [...[...added].reverse(), ...E.filter((_, i) => ![1, 4, 5, 9, 11].includes(i))]);
      assert.equal(now.totalCount, 11);
    });
  });

  describe(`control: sessionStats (${kind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
    });
    after(() => server.stop());

    const byReason = (rows: ReadonlyArray<{ reason: string; count: number }>) =>
      [...rows].sort((a, b) => a.reason.localeCompare(b.reason)).map((row) => ({ ...row }));

    it('counts active sessions and users, and sessions started and ended in the last 24 hours by reason', async () => {
      const t0 = server.clock.now().getTime();
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      for (const username of ['una', 'vic', 'walt']) await createUser(admin.client, username);
      const s1 = await signIn(server, 'una');
      const s2 = await signIn(server, 'una');
      const s3 = await signIn(server, 'vic');
      const s4 = await signIn(server, 'vic');
      await s1.client.data(LogoutDocument); // LOGOUT
      await admin.client.data(KickSessionDocument, { sessionId: s3.session.id }); // KICKED
      await admin.client.data(SetUserSessionLimitDocument, { userId: s3.user.id, limit: 1 });
      const s5 = await signIn(server, 'vic'); // s4: SUPERSEDED
      await signIn(server, 'una'); // s6
      assert.equal((await s2.client.data(RevokeOtherSessionsDocument)).revokeOtherSessions, 1); // s6: USER_SESSIONS_REVOKED
      assert.equal((await sessionRow(server, s4.session.id)).endReason, 'SUPERSEDED');

      let { sessionStats } = await admin.client.data(SessionStatsDocument);
      assert.deepEqual(
        { ...sessionStats, endReasonsLast24h: byReason(sessionStats.endReasonsLast24h) },
        {
          activeSessions: 3, // admin, s2, s5
          activeUsers: 3,
          totalUsers: 4,
          sessionsStartedLast24h: 7,
          sessionsEndedLast24h: 4,
          endReasonsLast24h: [
            { reason: 'KICKED', count: 1 },
            { reason: 'LOGOUT', count: 1 },
            { reason: 'SUPERSEDED', count: 1 },
            { reason: 'USER_SESSIONS_REVOKED', count: 1 },
          ],
          averageSessionsPerActiveUser: 1,
          since: new Date(t0 - 86_400_000).toISOString(),
        },
      );

      // Two hours on: the admin stays active by using the session, vic logs out.
      server.clock.advance(2 * 3_600_000);
      await s5.client.data(LogoutDocument);
      ({ sessionStats } = await admin.client.data(SessionStatsDocument));
      assert.deepEqual(
        [sessionStats.activeSessions, sessionStats.activeUsers, sessionStats.sessionsEndedLast24h],
        [2, 2, 5],
      );
      assert.equal(sessionStats.averageSessionsPerActiveUser, 1);

      // 25 hours after the start: una's s2 has been idle for 25 h (expired, not yet ended); only
      // vic's logout (at +2 h) is within the last 24 hours, and nothing started in them.
      server.clock.advance(23 * 3_600_000);
      // The admin's use at +2 h is queued in memory and written within a second of real time;
      // the manual clock skipped those 23 hours in no time, so write it as they would have.
      await flushLastSeen(server);
      ({ sessionStats } = await admin.client.data(SessionStatsDocument));
      assert.deepEqual(
        { ...sessionStats, endReasonsLast24h: byReason(sessionStats.endReasonsLast24h) },
        {
          activeSessions: 1,
          activeUsers: 1,
          totalUsers: 4,
          sessionsStartedLast24h: 0,
          sessionsEndedLast24h: 1,
          endReasonsLast24h: [{ reason: 'LOGOUT', count: 1 }],
          averageSessionsPerActiveUser: 1,
          since: new Date(server.clock.now().getTime() - 86_400_000).toISOString(),
        },
      );
      // The sweeper ends s2 with EXPIRED, which now counts as ended in the last 24 hours.
      assert.deepEqual(await sweep(server), { expired: 1, deleted: 0 });
      ({ sessionStats } = await admin.client.data(SessionStatsDocument));
      assert.deepEqual(byReason(sessionStats.endReasonsLast24h), [
        { reason: 'EXPIRED', count: 1 },
        { reason: 'LOGOUT', count: 1 },
      ]);
      assert.equal(sessionStats.sessionsEndedLast24h, 2);
    });
  });

  describe(`control: device info (${kind})`, () => {
    let server: TestServer;
    let proxied: TestServer;
    let admin: SignedIn;

    before(async () => {
      [server, proxied] = await Promise.all([
        startTestServer({ database: kind, env: QUIET_SWEEPER }),
        startTestServer({ database: kind, env: { ...QUIET_SWEEPER, TRUST_PROXY: 'on' } }),
      ]);
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      await createUser(admin.client, 'xena');
      await createUser((await signIn(proxied, ADMIN_USERNAME, ADMIN_PASSWORD)).client, 'xena');
    });
    after(() => Promise.all([server.stop(), proxied.stop()]));

    const LOOPBACK = ['127.0.0.1', '::ffff:127.0.0.1'];

    it('login records the User-Agent and the socket’s IP; X-Forwarded-For is ignored without TRUST_PROXY', async () => {
      const userAgent = 'GatehouseTest/1.0 (X11; Linux x86_64) device-info';
      const signedIn = await signIn(server, 'xena', undefined, {
        'user-agent': userAgent,
        'x-forwarded-for': '1.2.3.4, 5.6.7.8',
      });
      assert.equal(signedIn.session.userAgent, userAgent);
      assert.ok(LOOPBACK.includes(signedIn.session.ipAddress ?? ''), String(signedIn.session.ipAddress));

      const listed = await admin.client.data(SessionsByUserDocument, { userId: signedIn.user.id });
      const session = listed.sessionsByUser.find((s) => s.id === signedIn.session.id);
      assert.equal(session?.userAgent, userAgent);
      assert.equal(session?.ipAddress, signedIn.session.ipAddress);
      const row = await sessionRow(server, signedIn.session.id);
      assert.deepEqual([row.userAgent, row.ipAddress], [userAgent, signedIn.session.ipAddress]);
    });

    it('a very long User-Agent does not break the login; what is stored is a prefix of it', async () => {
      const userAgent = `Mozilla/5.0 ${'x'.repeat(4000)}`;
      const signedIn = await signIn(server, 'xena', undefined, { 'user-agent': userAgent });
      const stored = (await sessionRow(server, signedIn.session.id)).userAgent ?? '';
      assert.ok(stored.length > 0 && userAgent.startsWith(stored));
    });

    it('with TRUST_PROXY=on the IP is the last X-Forwarded-For entry (the one our proxy added)', async () => {
      const forwarded = await signIn(proxied, 'xena', undefined, { 'x-forwarded-for': '1.2.3.4, 5.6.7.8' });
      assert.equal(forwarded.session.ipAddress, '5.6.7.8');
      assert.equal((await sessionRow(proxied, forwarded.session.id)).ipAddress, '5.6.7.8');
      const single = await signIn(proxied, 'xena', undefined, { 'x-forwarded-for': '203.0.113.9' });
      assert.equal(single.session.ipAddress, '203.0.113.9');
      // No header: the socket's address.
      const direct = await signIn(proxied, 'xena');
      assert.ok(LOOPBACK.includes(direct.session.ipAddress ?? ''), String(direct.session.ipAddress));
    });
  });
}
