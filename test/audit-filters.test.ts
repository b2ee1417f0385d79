/**
 * The audit log's filters and who each event came from (issue 21): `authEvents(userId:,
 * actorUserId:, types:)` keep exactly the events the unfiltered log holds that match, in the
 * same newest-first order, paged by keyset without repeats or gaps (several types are read one
 * type at a time and merged); `origin` tells a signed-in user, a sign-in attempt, the command
 * line and the system apart. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AuthEventsDocument,
  DeleteUserDocument,
  DisableUserDocument,
  KickSessionDocument,
  LogoutDocument,
  type AuthEventsQuery,
  type AuthEventsQueryVariables,
  type AuthEventType,
} from './generated/graphql.js';
import { kickAsOperator } from './support/app.js';
import { assertRefused, type TestClient } from './support/client.js';
import { DAY } from './support/clock.js';
import { DATABASE_KINDS } from './support/databases.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn, sweep } from './support/sessions.js';

type AuthEvent = AuthEventsQuery['authEvents']['edges'][number]['node'];
type Filter = Pick<AuthEventsQueryVariables, 'userId' | 'actorUserId' | 'types'>;

/** Every page of the log that `filter` keeps, `first` at a time; checks totalCount on each. */
async function readAll(admin: TestClient, filter: Filter, first = 100): Promise<AuthEvent[]> {
  const events: AuthEvent[] = [];
  let total: number | undefined;
  let after: string | undefined;
  for (let page = 0; page < 200; page++) {
    const { authEvents } = await admin.data(AuthEventsDocument, { ...filter, first, ...(after ? { after } : {}) });
    total ??= authEvents.totalCount;
    assert.equal(authEvents.totalCount, total, 'the same totalCount on every page');
    events.push(...authEvents.edges.map((edge) => edge.node));
    if (!authEvents.pageInfo.hasNextPage) {
      assert.equal(events.length, total, `totalCount ${total} is what the pages hold`);
      return events;
    }
    after = authEvents.pageInfo.endCursor ?? undefined;
    assert.ok(after);
  }
  throw new Error('runaway pagination');
}

const idsOf = (events: AuthEvent[]) => events.map((event) => event.id);

for (const kind of DATABASE_KINDS) {
  describe(`audit log: filters and origins (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    let adminId: string;
    let aliceId: string;
    let bobId: string;
    let carolId: string;
    /** The whole log, unfiltered: what every filtered read is checked against. */
    let everything: AuthEvent[];

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      const ownLogin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      [admin, adminId] = [ownLogin.client, ownLogin.user.id];
      [aliceId, bobId, carolId] = [
        await createUser(admin, 'alice'),
        await createUser(admin, 'bob'),
        await createUser(admin, 'carol'),
      ];
      // Events of one instant come in id order; these are spread over time as well.
      const alice = await signIn(server, 'alice');
      server.clock.advance(1);
      await server
        .client()
        .request('mutation { login(username: "bob", password: "not-bobs-password") { user { id } } }');
      await signIn(server, 'bob');
      server.clock.advance(1);
      await admin.data(KickSessionDocument, { sessionId: alice.session.id });
      const aliceAgain = await signIn(server, 'alice');
      await aliceAgain.client.data(LogoutDocument);
      server.clock.advance(1);
      await admin.data(DisableUserDocument, { userId: bobId });
      const carol = await signIn(server, 'carol');
      await kickAsOperator(server, carol.session.id);
      await (await signIn(server, 'carol')).client.data(LogoutDocument);
      await signIn(server, 'carol');
      await admin.data(DeleteUserDocument, { userId: carolId });
      // The sweeper ends what expired: the system's doing. Every session goes, the admin's too.
      await signIn(server, 'alice');
      server.clock.advance(8 * DAY);
      assert.ok((await sweep(server)).expired >= 1);
      admin = await server.adminClient();
      everything = await readAll(admin, {});
    });
    after(() => server?.stop());

    /** Reads `filter` in pages of `first` and checks it against the unfiltered log. */
    async function assertKeeps(filter: Filter, keep: (event: AuthEvent) => boolean, first = 3) {
      const expected = everything.filter(keep);
      assert.ok(expected.length > 0, `${JSON.stringify(filter)} matches something`);
      assert.deepEqual(idsOf(await readAll(admin, filter, first)), idsOf(expected), JSON.stringify(filter));
      return expected;
    }

    it('one type: exactly those events, newest first, in pages', async () => {
      for (const type of ['USER_DISABLED', 'LOGIN_FAILED', 'SESSION_ENDED', 'LOGIN_SUCCEEDED'] as const) {
        await assertKeeps({ types: [type] }, (event) => event.type === type);
      }
    });

    it('several types: merged into one newest-first list, pages without repeats or gaps', async () => {
      const types: AuthEventType[] = ['SESSION_ENDED', 'LOGIN_FAILED', 'USER_DELETED'];
      for (const first of [1, 2, 5, 100]) {
        await assertKeeps({ types }, (event) => types.includes(event.type), first);
      }
      // A type named twice counts once.
      await assertKeeps({ types: ['USER_DELETED', 'USER_DELETED'] }, (event) => event.type === 'USER_DELETED');
    });

    it('by actor: what that user did while signed in, also after the account was deleted', async () => {
      const byAdmin = await assertKeeps({ actorUserId: adminId }, (event) => event.actorUserId === adminId);
      assert.ok(byAdmin.some((event) => event.type === 'USER_DISABLED' && event.userId === bobId));
      assert.ok(byAdmin.every((event) => event.origin === 'USER' && event.actor?.username === 'admin'));
      const byCarol = await assertKeeps({ actorUserId: carolId }, (event) => event.actorUserId === carolId);
      assert.deepEqual(
        byCarol.map((event) => [event.type, event.actor]),
        [['SESSION_ENDED', null]],
        'carol’s own sign-out, kept after her account went',
      );
      // alice ended her own session: she is both the actor and whom it concerns.
      await assertKeeps(
        { actorUserId: aliceId, userId: aliceId, types: ['SESSION_ENDED'] },
        (event) => event.actorUserId === aliceId && event.userId === aliceId && event.type === 'SESSION_ENDED',
      );
    });

    it('by user and type together, and by user alone as before', async () => {
      await assertKeeps(
        { userId: bobId, types: ['SESSION_ENDED', 'USER_DISABLED'] },
        (event) => event.userId === bobId && ['SESSION_ENDED', 'USER_DISABLED'].includes(event.type),
        2,
      );
      await assertKeeps({ userId: carolId }, (event) => event.userId === carolId);
      await assertKeeps(
        { userId: aliceId, actorUserId: adminId },
        (event) => event.userId === aliceId && event.actorUserId === adminId,
      );
    });

    it('origin: a signed-in user, a sign-in attempt, the command line, the system', async () => {
      const originOf = (match: (event: AuthEvent) => boolean) => {
        const found = everything.filter(match);
        assert.ok(found.length > 0);
        return [...new Set(found.map((event) => event.origin))];
      };
      assert.deepEqual(
        originOf((e) => e.type === 'USER_DISABLED'),
        ['USER'],
      );
      assert.deepEqual(
        originOf((e) => e.type === 'LOGIN_FAILED' || e.type === 'LOGIN_SUCCEEDED'),
        ['ANONYMOUS'],
      );
      assert.deepEqual(
        originOf((e) => e.type === 'SESSION_ENDED' && e.reason === 'KICKED' && e.userId === carolId),
        ['COMMAND_LINE'],
      );
      assert.deepEqual(
        originOf((e) => e.type === 'SESSION_ENDED' && e.reason === 'EXPIRED'),
        ['SYSTEM'],
      );
      // The first admin, made at start from ADMIN_USERNAME.
      assert.deepEqual(
        originOf((e) => e.type === 'USER_CREATED' && e.userId === adminId),
        ['SYSTEM'],
      );
      for (const event of everything.filter((e) => e.origin !== 'USER')) assert.equal(event.actor, null);
    });

    it('no match, an unknown or malformed id: an empty page, not an error', async () => {
      for (const filter of [
        { actorUserId: bobId },
        { actorUserId: '00000000-0000-4000-8000-000000000000' },
        { userId: 'not-an-id' },
        { userId: aliceId, types: ['WEBHOOK_CREATED'] as AuthEventType[] },
      ]) {
        const { authEvents } = await admin.data(AuthEventsDocument, { ...filter, first: 10 });
        assert.deepEqual(
          { count: authEvents.totalCount, edges: authEvents.edges.length, next: authEvents.pageInfo.hasNextPage },
          { count: 0, edges: 0, next: false },
          JSON.stringify(filter),
        );
      }
    });

    it('bad filters are BAD_USER_INPUT: no type at all, an unknown type; a USER is still FORBIDDEN', async () => {
      assertRefused(await admin.request(AuthEventsDocument, { types: [] }), 'BAD_USER_INPUT', 'types: []');
      const unknown = await admin.request(AuthEventsDocument, { types: ['NOT_A_TYPE' as AuthEventType] });
      assertRefused(unknown, 'BAD_USER_INPUT', 'an unknown type');
      const alice = await signIn(server, 'alice');
      assertRefused(
        await alice.client.request(AuthEventsDocument, { actorUserId: aliceId, types: ['LOGIN_SUCCEEDED'] }),
        'FORBIDDEN',
      );
      // The server is still up and the log whole.
      assert.equal((await readAll(admin, {})).length >= everything.length, true);
    });
  });
}
