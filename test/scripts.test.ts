/**
 * The operator scripts build the core only (database, rules, bus), so they exit when done, also
 * with REDIS_URL set; and an end they make is an end everywhere: announced on the bus like any
 * other, so a running server stops serving the session.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import knex from 'knex';
import { LoginDocument, MeDocument } from './generated/graphql.js';
import { TestClient } from './support/client.js';
import { REDIS_URL } from './support/databases.js';
import { sleep } from './support/async.js';
import { GatehouseProcess, killAllGatehouseProcesses, runScript } from './support/process.js';

const ADMIN = { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'ops-password-for-script-tests' };
const SWEEP_OUTPUT = /^expired (\d+) sessions, deleted (\d+) old rows and (\d+) old audit events$/m;

describe('npm run sweep (scripts/sweep.ts)', () => {
  const dirs: string[] = [];
  const freshDatabaseUrl = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-scripts-'));
    dirs.push(dir);
    return `sqlite:${join(dir, 'gatehouse.db')}`;
  };

  after(async () => {
    await killAllGatehouseProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('prints what it did and exits 0 on a fresh database', async () => {
    const run = await runScript('scripts/sweep.ts', { DATABASE_URL: freshDatabaseUrl() });
    assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
    assert.match(run.stdout, SWEEP_OUTPUT);
  });

  it('exits 1 naming a bad setting', async () => {
    const run = await runScript('scripts/sweep.ts', { DATABASE_URL: freshDatabaseUrl(), SESSION_RETENTION: 'never' });
    assert.equal(run.exit.code, 1);
    assert.match(run.stderr, /SESSION_RETENTION/);
  });

  it(
    'with REDIS_URL: exits, and the session it expires stops being served by a running server',
    { skip: !REDIS_URL },
    async () => {
      const settings = {
        DATABASE_URL: freshDatabaseUrl(),
        REDIS_URL: REDIS_URL ?? '',
        REDIS_CHANNEL_PREFIX: `gatehouse-test-${randomBytes(4).toString('hex')}:`,
      };
      const server = await GatehouseProcess.start({ ...settings, ...ADMIN });
      const client = new TestClient(server.url);
      const { login } = await client.data(LoginDocument, {
        username: ADMIN.ADMIN_USERNAME,
        password: ADMIN.ADMIN_PASSWORD,
      });
      // Served (and so cached) by the server before it expires behind the server's back.
      assert.equal((await client.data(MeDocument)).me?.username, ADMIN.ADMIN_USERNAME);
      const db = knex({
        client: 'sqlite3',
        connection: { filename: settings.DATABASE_URL.slice('sqlite:'.length) },
        useNullAsDefault: true,
      });
      try {
        await db('sessions')
          .where({ id: login.session.id })
          .update({ expires_at: Date.now() - 1000 });
      } finally {
        await db.destroy();
      }

      const run = await runScript('scripts/sweep.ts', settings);
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
      assert.equal(SWEEP_OUTPUT.exec(run.stdout)?.[1], '1', run.stdout);

      // The end travelled over Redis: the server's cached copy (still valid by its own expiry
      // time) was evicted, so the cookie is anonymous there.
      let me = (await client.data(MeDocument)).me;
      for (let tries = 0; me && tries < 20; tries++) {
        await sleep(50);
        me = (await client.data(MeDocument)).me;
      }
      assert.equal(me, null);
    },
  );
});
