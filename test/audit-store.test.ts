/**
 * The audit log's store writes a batch in one statement, binding once the columns every event of
 * the batch shares and reading the rest from each row (auth-event-store.ts). Whatever the mix,
 * what is read back must be exactly what was written, nulls and times included.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { timeOrderedUuid } from '../src/sessions/audit-log.js';
import type { AuthEventRecord } from '../src/sessions/auth-events.js';
import { KnexAuthEventStore } from '../src/storage/auth-event-store.js';
import { DATABASE_KINDS, openMigratedDatabase, type MigratedDatabase } from './support/databases.js';

function event(fields: Partial<AuthEventRecord> & { createdAt: Date }): AuthEventRecord {
  return {
    ...{ id: timeOrderedUuid(fields.createdAt.getTime()), type: 'SESSION_ENDED', userId: null, sessionId: null },
    ...{ actorUserId: null, username: null, reason: null, ipAddress: null, userAgent: null },
    ...{ factorId: null, method: null, recoveryCodesLeft: null, serviceTokenId: null },
    ...fields,
  };
}

for (const kind of DATABASE_KINDS) {
  describe(`audit store: batches written as read back (${kind})`, () => {
    let opened: MigratedDatabase;
    let db: Knex;
    let store: KnexAuthEventStore;

    before(async () => {
      opened = await openMigratedDatabase(kind);
      db = opened.db;
      store = new KnexAuthEventStore(db, kind);
    });
    after(() => opened?.close());

    async function assertStored(events: AuthEventRecord[]): Promise<void> {
      await store.insertAuthEvents(events);
      const stored = await store.listAuthEvents({ limit: 10_000 });
      for (const written of events) {
        const read = stored.find((row) => row.id === written.id);
        assert.ok(read, `event ${written.id} is stored`);
        assert.deepEqual({ ...read }, written);
      }
    }

    it('a sweep-like batch: only ids, users and sessions differ', async () => {
      const at = new Date(1_800_000_000_123);
      await assertStored(
        Array.from({ length: 300 }, (_, i) =>
          event({ createdAt: at, userId: `user-${i % 7}`, sessionId: randomUUID(), reason: 'EXPIRED' }),
        ),
      );
    });

    it('a mixed batch: every column differs somewhere, with nulls, quotes and unicode', async () => {
      const base = 1_800_000_100_000;
      await assertStored([
        event({ createdAt: new Date(base), type: 'LOGIN_FAILED', username: `o'brien "x" ✓`, ipAddress: '::1' }),
        event({
          createdAt: new Date(base + 1),
          type: 'LOGIN_SUCCEEDED',
          userId: 'u1',
          sessionId: 's1',
          userAgent: 'UA/1',
        }),
        event({ createdAt: new Date(base + 2), userId: 'u2', sessionId: 's2', actorUserId: 'admin', reason: 'KICKED' }),
        event({
          createdAt: new Date(base + 3),
          type: 'SECOND_FACTOR_ADDED',
          userId: 'u2',
          factorId: 'f1',
          method: 'TOTP',
        }),
        event({ createdAt: new Date(base + 4), type: 'RECOVERY_CODE_USED', userId: 'u2', recoveryCodesLeft: 9 }),
      ]);
    });

    it('one event alone, and a batch larger than one statement takes', async () => {
      await assertStored([event({ createdAt: new Date(1_800_000_200_000), type: 'PASSWORD_CHANGED', userId: 'u3' })]);
      const at = new Date(1_800_000_300_000);
      await assertStored(
        Array.from({ length: 5_001 }, (_, i) =>
          event({ createdAt: new Date(at.getTime() + (i % 2)), sessionId: `s-${i}`, reason: 'ALL_SESSIONS_REVOKED' }),
        ),
      );
    });
  });
}
