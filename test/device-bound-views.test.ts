/**
 * Where a session's binding to its device (DBSC, issue 23) shows outside the protocol: the
 * GraphQL views of sessions (the user's own, the admin's `sessionsByUser` and `activeSessions`)
 * and the gauge `gatehouse_device_bound_sessions` beside `gatehouse_active_sessions`, on SQLite
 * and PostgreSQL. The console's mark is in console-device-bound.test.ts, the command line's
 * column in cli.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeviceBindingsOfUserDocument, KickSessionDocument, MyDeviceBindingsDocument } from './generated/graphql.js';
import { bindSession } from './support/bound-sessions.js';
import type { TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn, type SignedIn } from './support/sessions.js';

/** `name`'s value in the Prometheus text of `server`'s `/metrics` (one unlabelled sample). */
async function gauge(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((sample) => sample.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

for (const kind of DATABASE_KINDS) {
  describe(`a device-bound session in the API and the metrics (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    let userId: string;
    let bound: SignedIn;
    let unbound: SignedIn;
    let boundAt: Date;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await server.adminClient();
      userId = await createUser(admin, 'bea');
      bound = await signIn(server, 'bea');
      unbound = await signIn(server, 'bea');
      boundAt = await bindSession(server, bound.session.id);
    });
    after(() => server?.stop());

    const expected = () =>
      new Map([
        [bound.session.id, { deviceBound: true, deviceBoundAt: boundAt.toISOString() }],
        [unbound.session.id, { deviceBound: false, deviceBoundAt: null }],
      ]);
    const byId = (sessions: Array<{ id: string; deviceBound: boolean; deviceBoundAt?: string | null }>) =>
      new Map(sessions.map(({ id, deviceBound, deviceBoundAt }) => [id, { deviceBound, deviceBoundAt }]));

    it("the user's own sessions: deviceBound and deviceBoundAt, from either session", async () => {
      for (const { client } of [bound, unbound]) {
        const { me } = await client.data(MyDeviceBindingsDocument);
        assert.deepEqual(byId(me!.sessions), expected());
      }
    });

    it("the admin's sessionsByUser and activeSessions show the same", async () => {
      const { sessionsByUser, activeSessions } = await admin.data(DeviceBindingsOfUserDocument, { userId });
      assert.deepEqual(byId(sessionsByUser), expected());
      assert.deepEqual(byId(activeSessions.edges.map((edge) => edge.node)), expected());
    });

    it('gatehouse_device_bound_sessions counts active bound sessions only: 1, then 0 once it has ended', async () => {
      const active = await gauge(server, 'gatehouse_active_sessions');
      assert.equal(await gauge(server, 'gatehouse_device_bound_sessions'), 1);
      await admin.data(KickSessionDocument, { sessionId: bound.session.id });
      assert.equal(await gauge(server, 'gatehouse_device_bound_sessions'), 0);
      assert.equal(await gauge(server, 'gatehouse_active_sessions'), active - 1);
      const { sessionsByUser } = await admin.data(DeviceBindingsOfUserDocument, { userId });
      assert.deepEqual(byId(sessionsByUser), new Map([[unbound.session.id, expected().get(unbound.session.id)]]));
    });
  });
}
