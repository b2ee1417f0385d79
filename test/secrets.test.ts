import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CreateUserDocument, LoginDocument, WhoamiDocument } from './generated/graphql.js';
import type { TestClient } from './support/client.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, startTestServer, type TestServer } from './support/server.js';

const USER_PASSWORD = 'erin-correct-horse-battery';
/** OWASP's floor for argon2id: 19 MiB, 2 passes, 1 lane. */
const ARGON2ID_FLOOR = { m: 19_456, t: 2, p: 1 };

/** The SQLite file and its WAL and shared-memory files, as bytes: what a dump or a stolen disk holds. */
function databaseFiles(path: string): Array<{ name: string; bytes: Buffer }> {
  return [path, `${path}-wal`, `${path}-shm`]
    .filter((file) => existsSync(file))
    .map((file) => ({ name: file, bytes: readFileSync(file) }));
}

function assertAbsent(files: Array<{ name: string; bytes: Buffer }>, secret: string | Buffer, label: string): void {
  for (const { name, bytes } of files) {
    assert.equal(bytes.includes(secret), false, `${label} found in ${name}`);
  }
}

function assertPresentSomewhere(files: Array<{ name: string; bytes: Buffer }>, text: string, label: string): void {
  assert.ok(
    files.some(({ bytes }) => bytes.includes(text)),
    `${label} not found in ${files.map((f) => f.name).join(', ')}: the scan is not reading the data`,
  );
}

describe('secrets at rest (sqlite)', () => {
  let server: TestServer;
  let sqlitePath: string;
  let adminClient: TestClient;
  let userClient: TestClient;

  before(async () => {
    server = await startTestServer({ database: 'sqlite' });
    assert.ok(server.database.sqlitePath);
    sqlitePath = server.database.sqlitePath;
    adminClient = await server.adminClient();
    await adminClient.data(CreateUserDocument, { username: 'erin', password: USER_PASSWORD });
    userClient = server.client();
    await userClient.data(LoginDocument, { username: 'erin', password: USER_PASSWORD });
  });
  after(() => server.stop());

  it('sessions.token_hash is the SHA-256 (hex) of the cookie token', async () => {
    for (const client of [adminClient, userClient]) {
      const token = client.token;
      assert.ok(token);
      const { currentSession } = await client.data(WhoamiDocument);
      assert.ok(currentSession);
      const row = (await server.db('sessions').where({ id: currentSession.id }).first()) as
        { token_hash: string } | undefined;
      assert.equal(row?.token_hash, createHash('sha256').update(token).digest('hex'));
    }
  });

  it('password hashes are argon2id at or above m=19456,t=2,p=1', async () => {
    const rows = (await server.db('users').select('username', 'password_hash')) as Array<{
      username: string;
      password_hash: string;
    }>;
    assert.deepEqual(rows.map((row) => row.username).sort(), [ADMIN_USERNAME, 'erin']);
    for (const row of rows) {
      assert.ok(row.password_hash.startsWith('$argon2id$'), `${row.username}: ${row.password_hash.slice(0, 20)}`);
      const params = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
        row.password_hash,
      );
      assert.ok(params, `${row.username}: unexpected hash format`);
      assert.ok(Number(params[1]) >= ARGON2ID_FLOOR.m, `m=${params[1]}`);
      assert.ok(Number(params[2]) >= ARGON2ID_FLOOR.t, `t=${params[2]}`);
      assert.ok(Number(params[3]) >= ARGON2ID_FLOOR.p, `p=${params[3]}`);
    }
    // Two users, two salts.
    assert.notEqual(rows[0]?.password_hash.split('$')[4], rows[1]?.password_hash.split('$')[4]);
  });

  it('the database files hold neither a raw token nor a raw password, while running and after a clean stop', async () => {
    const tokens = [adminClient.token, userClient.token];
    const check = (when: string) => {
      const files = databaseFiles(sqlitePath);
      assert.ok(files.length > 0);
      for (const token of tokens) {
        assert.ok(token);
        assertAbsent(files, token, `${when}: the cookie token`);
        assertAbsent(files, Buffer.from(token, 'base64url'), `${when}: the token's raw bytes`);
        // Positive control: what is stored instead is there.
        assertPresentSomewhere(files, createHash('sha256').update(token).digest('hex'), `${when}: the token hash`);
      }
      for (const password of [ADMIN_PASSWORD, USER_PASSWORD]) assertAbsent(files, password, `${when}: a password`);
      assertPresentSomewhere(files, '$argon2id$', `${when}: a password hash`);
      return files;
    };

    const running = check('running');
    // WAL mode: recent writes live in the -wal file, which the scan must have covered.
    assert.ok(
      running.some((file) => file.name.endsWith('-wal')),
      'no -wal file while running: is WAL on?',
    );

    await server.stopApp();
    check('stopped');
  });
});
