/**
 * SQLite's read connection (src/storage/database.ts, createReadDatabase): while another process
 * holds the write lock and one of the server's writes waits for it, the server still looks
 * sessions up and still polls its end log, so its session cache stays trusted and signed-in
 * requests are answered. Before it, the waiting write held SQLite's one connection: the poll
 * queued behind it, the proof lapsed after a second and every request waited for the lock.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import sqlite3 from 'sqlite3';
import { LoginDocument, MeDocument } from './generated/graphql.js';
import { errorCode } from './support/client.js';
import { ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';

/** Longer than the cache's trust deadline (1 s), shorter than the writer's busy timeout (5 s). */
const LOCK_HELD_MS = 2_500;

const run = (db: sqlite3.Database, sql: string) =>
  new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SQLite: another process holds the write lock', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
  });
  after(() => server.stop());

  it('signed-in requests are answered and the cache stays trusted while a write waits for the lock', async () => {
    const user = await server.userClient('reader-user');
    // Not cached: the next request must look the session up.
    server.app.services.cache?.evictAll();

    const other = new sqlite3.Database(server.database.url.slice('sqlite:'.length));
    try {
      await run(other, 'BEGIN IMMEDIATE');
      const lockedAt = performance.now();
      // One of the server's writes (a failed login's throttle counters) now waits for the lock.
      const waitingWrite = server.client().request(LoginDocument, { username: ADMIN_USERNAME, password: 'wrong' });
      await sleep(1_500);

      assert.equal(server.app.core.propagation.trusted(), true, 'the end log poll stopped: the cache is not trusted');
      const askedAt = performance.now();
      const { me } = await user.data(MeDocument);
      const answeredAt = performance.now();
      assert.equal(me?.username, 'reader-user');
      assert.ok(answeredAt - lockedAt < LOCK_HELD_MS, 'the request waited for the lock');
      assert.ok(answeredAt - askedAt < 500, `{ me } took ${(answeredAt - askedAt).toFixed(0)} ms`);

      await sleep(Math.max(0, LOCK_HELD_MS - (performance.now() - lockedAt)));
      await run(other, 'ROLLBACK');
      // The waiting write went through once the lock was free: nothing was lost or refused early.
      assert.equal(errorCode(await waitingWrite), 'INVALID_CREDENTIALS');
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
