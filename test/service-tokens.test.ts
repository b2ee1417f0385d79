/**
 * Service tokens (DESIGN.md, "Other services"): created by an admin, shown once, stored hashed,
 * listed with their last use, revocable at once; a service token is not a session and may use
 * only the root fields of its scopes. Real servers over HTTP and WebSocket, SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI_OPERATOR } from '../src/sessions/types.js';
import type { ServiceScope } from '../src/sessions/service-tokens.js';
import { assertRefused } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { openSocket, subscribeWs } from './support/live.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';

let counter = 0;
const uniqueName = (prefix: string) => `${prefix} ${++counter}`;

for (const kind of DATABASE_KINDS) {
  describe(`service tokens (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
    });
    after(() => server?.stop());

    const createToken = async (scopes: ServiceScope[]) =>
      (await server.app.services.serviceTokens.create(CLI_OPERATOR, uniqueName('svc'), scopes)).token;
    const serviceClient = (token: string) => server.client({ authorization: `Bearer ${token}` });

    it('a READ_SESSIONS token reads sessions and is refused everything else (FORBIDDEN)', async () => {
      const admin = await server.adminClient();
      const service = serviceClient(await createToken(['READ_SESSIONS']));
      const stats = await service.data('{ sessionStats { activeSessions } }');
      assert.ok((stats as { sessionStats: { activeSessions: number } }).sessionStats.activeSessions >= 1);
      const sessions = await service.data('{ activeSessions(first: 5) { edges { node { id user { username } } } } }');
      assert.ok(JSON.stringify(sessions).includes('admin'));
      for (const query of ['{ me { id } }', '{ currentSession { id } }', '{ users(first: 1) { totalCount } }']) {
        assertRefused(await service.request(query), 'FORBIDDEN', query);
      }
      assert.ok(admin.cookie);
    });

    it('over WebSocket: a token in connectionParams reads within its scopes; an unknown one is closed 4401', async () => {
      const socket = openSocket(server, { token: await createToken(['READ_SESSIONS']) });
      try {
        await socket.connected;
        const stats = subscribeWs(socket.client, '{ sessionStats { activeSessions } }');
        assert.equal((await stats.received(1))[0]?.errors, undefined);
        const me = subscribeWs(socket.client, '{ me { id } }');
        const [refused] = await me.received(1).catch(async () => [await me.ended()]);
        assert.match(JSON.stringify(refused), /FORBIDDEN/);
      } finally {
        await socket.dispose();
      }
      const unknown = openSocket(server, { token: `ghs_${'B'.repeat(43)}` });
      assert.equal((await unknown.closedWithin()).code, 4401);
    });

    it('an unknown or malformed ghs_ token is UNAUTHENTICATED, never anonymous', async () => {
      for (const token of ['ghs_', 'ghs_short', `ghs_${'A'.repeat(43)}`]) {
        assertRefused(await serviceClient(token).request('{ me { id } }'), 'UNAUTHENTICATED', token);
      }
    });
  });
}
