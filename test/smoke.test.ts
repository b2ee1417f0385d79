import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MeDocument } from './generated/graphql.js';
import { DATABASE_KINDS } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';

for (const kind of DATABASE_KINDS) {
  describe(`smoke (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ database: kind });
    });
    after(() => server.stop());

    it('signs the admin in and answers me', async () => {
      const admin = await server.adminClient();
      const { me } = await admin.data(MeDocument);
      assert.equal(me?.username, 'admin');
      assert.equal(me?.role, 'ADMIN');
    });
  });
}
