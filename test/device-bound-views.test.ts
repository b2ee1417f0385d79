/**
 * Where a session bound to its device (DBSC, issue 23; bound through the protocol by a Node
 * client, support/bound-sessions.ts) shows outside the protocol: the GraphQL views of sessions
 * (the user's own, the admin's `sessionsByUser` and `activeSessions`) and the gauge
 * `gatehouse_device_bound_sessions` beside `gatehouse_active_sessions`, on SQLite and PostgreSQL. The console's mark is in console-device-bound.test.ts, the command line's
 * column in cli.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import {
  DeviceBindingsOfUserDocument,
  KickSessionDocument,
  MyDeviceBindingsDocument,
  type MyDeviceBindingsQuery,
} from './generated/graphql.js';
import { signInBound, type BoundSession } from './support/bound-sessions.js';
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
    let bound: BoundSession;
    let unbound: SignedIn;

    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await server.adminClient();
      userId = await createUser(admin, 'bea');
      bound = await signInBound(server, 'bea');
      unbound = await signIn(server, 'bea');
    });
    after(() => server?.stop());

    const expected = () =>
      new Map([
        [bound.sessionId, { deviceBound: true, deviceBoundAt: bound.boundAt.toISOString() }],
        [unbound.session.id, { deviceBound: false, deviceBoundAt: null }],
      ]);
    const byId = (sessions: Array<{ id: string; deviceBound: boolean; deviceBoundAt?: string | null }>) =>
      new Map(sessions.map(({ id, deviceBound, deviceBoundAt }) => [id, { deviceBound, deviceBoundAt }]));

    it("the user's own sessions: deviceBound and deviceBoundAt, from either session", async () => {
      const fromUnbound = (await unbound.client.data(MyDeviceBindingsDocument)).me;
      assert.deepEqual(byId(fromUnbound!.sessions), expected());
      const fromBound = await bound.client.graphql<MyDeviceBindingsQuery>(print(MyDeviceBindingsDocument));
      assert.deepEqual(byId(fromBound.data!.me!.sessions), expected(), 'served with both cookies');
    });

    it("the admin's sessionsByUser and activeSessions show the same", async () => {
      const { sessionsByUser, activeSessions } = await admin.data(DeviceBindingsOfUserDocument, { userId });
      assert.deepEqual(byId(sessionsByUser), expected());
      assert.deepEqual(byId(activeSessions.edges.map((edge) => edge.node)), expected());
    });

    it('gatehouse_device_bound_sessions counts active bound sessions only: 1, then 0 once it has ended', async () => {
      const active = await gauge(server, 'gatehouse_active_sessions');
      assert.equal(await gauge(server, 'gatehouse_device_bound_sessions'), 1);
      await admin.data(KickSessionDocument, { sessionId: bound.sessionId });
      assert.equal(await gauge(server, 'gatehouse_device_bound_sessions'), 0);
      assert.equal(await gauge(server, 'gatehouse_active_sessions'), active - 1);
      const { sessionsByUser } = await admin.data(DeviceBindingsOfUserDocument, { userId });
      assert.deepEqual(byId(sessionsByUser), new Map([[unbound.session.id, expected().get(unbound.session.id)]]));
    });
  });
}
