/**
 * A login commits once: its session, its LOGIN_SUCCEEDED audit event and the throttle's success
 * (the account's counter cleared, the client IP's attempt given back) are one transaction. So a
 * login whose audit event cannot be written leaves no session behind and stays counted as an
 * attempt, and a session never exists without the event that says who started it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoginDocument, MeDocument } from './generated/graphql.js';
import { errorCode } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { allowEvents, refuseEvents, REFUSAL } from './support/refused-events.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

for (const kind of DATABASE_KINDS) {
  describe(`login: session, audit event and throttle in one transaction (${kind})`, () => {
    let server: TestServer;
    let userId: string;

    before(async () => {
      server = await startTestServer({ database: kind });
      userId = await createUser(await server.adminClient(), 'tess');
    });
    after(() => server?.stop());

    const sessionsOfTess = async () => (await server.db('sessions').where('user_id', userId).select('id')).length;
    const loginEventsOfTess = async () =>
      (await server.db('auth_events').where({ user_id: userId, type: 'LOGIN_SUCCEEDED' }).select('session_id')).map(
        (row: { session_id: string }) => row.session_id,
      );
    const counters = async () =>
      Object.fromEntries(
        (
          (await server.db('login_throttles').select('key', 'failures')) as Array<{ key: string; failures: number }>
        ).map((row) => [row.key, Number(row.failures)]),
      );

    it('a LOGIN_SUCCEEDED that cannot be written undoes the login, which stays counted; then it signs in', async () => {
      const before = await counters();
      const ipKeys = Object.keys(before).filter((key) => key.startsWith('ip:'));
      assert.equal(ipKeys.length, 1, `one client IP counted so far: ${JSON.stringify(before)}`);
      const ip = ipKeys[0]!;

      await refuseEvents(server.db, kind, 'LOGIN_SUCCEEDED');
      try {
        const refused = await server
          .client()
          .request(LoginDocument, { username: 'tess', password: passwordOf('tess') });
        assert.equal(errorCode(refused), 'INTERNAL_SERVER_ERROR', JSON.stringify(refused));
        assert.equal(refused.data, null, 'no login payload');
        assert.doesNotMatch(JSON.stringify(refused), new RegExp(REFUSAL), 'the cause is not shown to the client');
      } finally {
        await allowEvents(server.db, kind);
      }
      assert.equal(await sessionsOfTess(), 0, 'no session without its LOGIN_SUCCEEDED');
      assert.deepEqual(await loginEventsOfTess(), []);
      const afterRefusal = await counters();
      assert.equal(afterRefusal['account:tess'], 1, 'the attempt is still counted against the account');
      assert.equal(afterRefusal[ip], before[ip]! + 1, 'and against the client IP');

      const signedIn = await signIn(server, 'tess');
      const [session] = (await server.db('sessions').where('user_id', userId).select('id')) as Array<{ id: string }>;
      assert.ok(session && (await sessionsOfTess()) === 1, 'one session');
      assert.deepEqual(await loginEventsOfTess(), [session.id], 'its LOGIN_SUCCEEDED names it');
      const afterLogin = await counters();
      assert.equal(afterLogin['account:tess'], undefined, 'the account starts afresh');
      assert.equal(afterLogin[ip], before[ip]! + 1, 'the IP got this attempt back; the undone one stays counted');
      const { me } = await signedIn.client.data(MeDocument);
      assert.equal(me?.id, userId, 'and the cookie works');
    });
  });
}
