/**
 * Migration 15 rolls back and applies again (with the audit log's `service_token_id`), and the
 * service tokens' cache, where the servers cannot reach it: a token unused and unwatched is
 * dropped (so the recheck does not run forever for every token ever used), one a feed or socket
 * watches stays, and a dropped token's next use reads its row again. A real database; the rule's
 * delay is shortened (`forgetUnusedMs`) so that the test need not wait ten seconds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrationSource } from '../migrations/index.js';
import { silentLogger } from '../src/logger.js';
import { AuditLog } from '../src/sessions/audit-log.js';
import { systemClock } from '../src/sessions/clock.js';
import { SessionLifecycle } from '../src/sessions/lifecycle.js';
import { ServiceTokens } from '../src/sessions/service-tokens.js';
import { CLI_OPERATOR } from '../src/sessions/types.js';
import { KnexAuthEventStore } from '../src/storage/auth-event-store.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { KnexServiceTokenStore } from '../src/storage/service-token-store.js';
import { sleep, waitFor } from './support/async.js';
import { DATABASE_KINDS, openMigratedDatabase, type MigratedDatabase } from './support/databases.js';

const FORGET_UNUSED_MS = 300;

for (const kind of DATABASE_KINDS) {
  it(`migration 15 rolls back (the table, auth_events.service_token_id, the triggers kept) and applies again (${kind})`, async () => {
    const { db, close } = await openMigratedDatabase(kind);
    try {
      const triggers = async () =>
        kind === 'sqlite'
          ? ((await db('sqlite_master').where('type', 'trigger').pluck('name')) as string[])
          : ((await db('information_schema.triggers').distinct().pluck('trigger_name')) as string[]);
      const before = (await triggers()).sort();
      assert.ok(Object.keys(await db('auth_events').columnInfo()).includes('service_token_id'));
      await db.migrate.down({ migrationSource, name: '20261208_15_service_tokens' });
      assert.equal(await db.schema.hasTable('service_tokens'), false);
      assert.ok(!Object.keys(await db('auth_events').columnInfo()).includes('service_token_id'));
      assert.deepEqual((await triggers()).sort(), before, 'the webhooks’ triggers on auth_events survive');
      await migrateToLatest(db);
      assert.ok(Object.keys(await db('auth_events').columnInfo()).includes('service_token_id'));
    } finally {
      await close();
    }
  });

  describe(`service token cache (${kind})`, () => {
    let opened: MigratedDatabase;
    let tokens: ServiceTokens;
    before(async () => {
      opened = await openMigratedDatabase(kind);
      const audit = new AuditLog(
        new KnexAuthEventStore(opened.db, kind),
        systemClock,
        new SessionLifecycle(silentLogger),
        silentLogger,
      );
      const store = new KnexServiceTokenStore(opened.db);
      tokens = new ServiceTokens({
        store,
        clock: systemClock,
        audit,
        logger: silentLogger,
        forgetUnusedMs: FORGET_UNUSED_MS,
      });
    });
    after(async () => {
      await tokens?.close();
      await opened?.close();
    });

    it('drops a token unused and unwatched, keeps a watched one, and reads a dropped one again on its next use', async () => {
      const idle = await tokens.create(CLI_OPERATOR, 'idle', ['READ_SESSIONS']);
      const watched = await tokens.create(CLI_OPERATOR, 'watched', ['VERIFY_SESSIONS']);
      assert.equal((await tokens.authenticate(idle.token))?.tokenId, idle.serviceToken.id);
      assert.equal((await tokens.authenticate(watched.token))?.tokenId, watched.serviceToken.id);
      const heard: string[] = [];
      const unwatch = tokens.watch(watched.serviceToken.id, {
        revoked: () => heard.push('revoked'),
        unproven: () => heard.push('unproven'),
      });
      assert.equal(tokens.cached, 2);

      await waitFor('the unused token to be dropped', () => tokens.cached === 1, { timeoutMs: 3_000 });
      // Several recheck rounds later, the watched one is still cached and proven.
      await sleep(3 * FORGET_UNUSED_MS);
      assert.equal(tokens.cached, 1, 'the watched token stays');
      assert.deepEqual(heard, [], 'rechecked all along: never unproven');

      assert.equal((await tokens.authenticate(idle.token))?.tokenId, idle.serviceToken.id, 'read again');
      assert.equal(tokens.cached, 2);
      unwatch();
      await waitFor('both dropped once nothing uses or watches them', () => tokens.cached === 0, { timeoutMs: 3_000 });
      assert.equal((await tokens.authenticate(watched.token))?.tokenId, watched.serviceToken.id, 'read again too');
    });
  });
}
