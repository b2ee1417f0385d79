/**
 * `User.secondFactors` on a page of users (the console's Users table asks for it on every row):
 * one query for the whole page, each user's own factors, oldest first, and nobody else's.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TestClient } from './support/client.js';
import { DATABASE_KINDS } from './support/databases.js';
import { enrollTotp } from './support/factors.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

const SECRETS_KEY = randomBytes(32).toString('base64');
const USERS_WITH_FACTORS = `query UsersWithFactors($contains: String) {
  users(first: 50, usernameContains: $contains) {
    edges { node { username secondFactors { id name kind } } }
  }
}`;

interface Listed {
  users: {
    edges: Array<{ node: { username: string; secondFactors: Array<{ id: string; name: string; kind: string }> } }>;
  };
}

for (const kind of DATABASE_KINDS) {
  describe(`second factors listed per user (${kind})`, () => {
    let server: TestServer;
    let admin: TestClient;
    before(async () => {
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, SECRETS_KEY } });
      admin = await server.adminClient();
    });
    after(() => server?.stop());

    it('a page of users reads every user’s factors in one query, each user its own, oldest first', async () => {
      const enrolled = new Map<string, string[]>();
      for (const [index, username] of ['lista', 'listb', 'listc', 'listd'].entries()) {
        await createUser(admin, username);
        const { client } = await signIn(server, username);
        const names = Array.from({ length: index % 3 }, (_, n) => `${username}-app-${n + 1}`);
        for (const name of names) {
          await enrollTotp(server, client, name);
          // Factors added within one millisecond are ordered by id; a test clock stands still.
          server.clock.advance(1_000);
        }
        enrolled.set(username, names);
      }
      const statements: string[] = [];
      const listener = (query: { sql: string }) => statements.push(query.sql);
      server.db.on('query', listener);
      let listed: Listed;
      try {
        listed = await admin.data<Listed, { contains: string }>(USERS_WITH_FACTORS, { contains: 'list' });
      } finally {
        server.db.removeListener('query', listener);
      }
      const byUser = new Map(listed.users.edges.map(({ node }) => [node.username, node.secondFactors]));
      for (const [username, names] of enrolled) {
        assert.deepEqual(
          byUser.get(username)?.map((factor) => [factor.name, factor.kind]),
          names.map((name) => [name, 'TOTP']),
          username,
        );
      }
      assert.equal(statements.filter((sql) => /\bsecond_factors\b/.test(sql)).length, 1, statements.join('\n'));
    });
  });
}
