/**
 * The operator scripts build the core only (database, rules, end propagation), so they exit
 * when done, also with REDIS_URL set (accepted, unused); and an end they make is an end
 * everywhere: a running server on the same database stops serving the session.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import knex from 'knex';
import { LoginDocument, MeDocument } from './generated/graphql.js';
import { TestClient } from './support/client.js';
import { GatehouseProcess, killAllGatehouseProcesses, runCli } from './support/process.js';

const ADMIN = { ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'ops-password-for-script-tests' };
const SWEEP_OUTPUT = /^expired (\d+) sessions?, deleted (\d+) old rows? and (\d+) old audit events?$/m;

describe('gatehouse sweep (npm run sweep)', () => {
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
    const run = await runCli(['sweep'], { DATABASE_URL: freshDatabaseUrl() });
    assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
    assert.match(run.stdout, SWEEP_OUTPUT);
  });

  it('exits 1 naming a bad setting', async () => {
    const run = await runCli(['sweep'], { DATABASE_URL: freshDatabaseUrl(), SESSION_RETENTION: 'never' });
    assert.equal(run.exit.code, 1);
    assert.match(run.stderr, /SESSION_RETENTION/);
  });

  it('with REDIS_URL set (to nothing: it is unused), it exits; a server on the same file applied its end before it did', async () => {
    const settings = { DATABASE_URL: freshDatabaseUrl(), REDIS_URL: 'redis://127.0.0.1:1' };
    const server = await GatehouseProcess.start({ ...settings, ...ADMIN });
    const client = new TestClient(server.url);
    const credentials = { username: ADMIN.ADMIN_USERNAME, password: ADMIN.ADMIN_PASSWORD };
    const { login } = await client.data(LoginDocument, credentials);
    // Served (and so cached) by the server before it expires behind the server's back.
    assert.equal((await client.data(MeDocument)).me?.username, ADMIN.ADMIN_USERNAME);
    const filename = settings.DATABASE_URL.slice('sqlite:'.length);
    const db = knex({ client: 'sqlite3', connection: { filename }, useNullAsDefault: true });
    try {
      await db('sessions')
        .where({ id: login.session.id })
        .update({ expires_at: Date.now() - 1000 });
    } finally {
      await db.destroy();
    }

    const run = await runCli(['sweep'], settings);
    assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
    assert.equal(SWEEP_OUTPUT.exec(run.stdout)?.[1], '1', run.stdout);
    // The sweep returned only once the server had applied the end (from the end log): its
    // cached copy, still valid by its own expiry time, is gone, so the cookie is anonymous there.
    assert.equal((await client.data(MeDocument)).me, null);
  });
});
