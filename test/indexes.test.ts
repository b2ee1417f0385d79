/**
 * The session queries that run often, or over many rows, are served by an index, on SQLite
 * (whose planner has no statistics here, so a wrong plan is a full scan at any size). Each
 * statement is captured as the store sends it and explained with its own bindings. Migration 08
 * made the indexes of open sessions partial: a query uses one only when its WHERE says
 * `ended_at IS NULL` where the planner looks for it, which is easy to lose in a refactor (the
 * sweeper's OR needs it in each arm). PostgreSQL plans by cost and data; its plans were checked
 * by hand on 200,000 rows (BitmapOr over the two partial expiry indexes for the sweeper's batch).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { KnexSessionStore } from '../src/storage/session-store.js';
import { HOUR } from './support/clock.js';
import { openMigratedDatabase, type MigratedDatabase } from './support/databases.js';

interface Statement {
  sql: string;
  bindings: readonly unknown[];
}

describe('session indexes: the hot queries use them (sqlite)', () => {
  let opened: MigratedDatabase;
  let db: Knex;
  let store: KnexSessionStore;
  const activeAt = { now: new Date(), idleTimeoutMs: HOUR };

  before(async () => {
    opened = await openMigratedDatabase('sqlite');
    db = opened.db;
    store = new KnexSessionStore(db, 'sqlite');
  });
  after(() => opened?.close());

  /** The statements `work` sends that touch `sessions`. */
  async function statementsOf(work: () => Promise<unknown>): Promise<Statement[]> {
    const sent: Statement[] = [];
    const listener = (query: Statement) => sent.push({ sql: query.sql, bindings: query.bindings ?? [] });
    db.on('query', listener);
    try {
      await work();
    } finally {
      db.removeListener('query', listener);
    }
    return sent.filter((statement) => /\bsessions\b/.test(statement.sql));
  }

  /** SQLite's plan for the statement, one line per step. */
  async function planOf({ sql, bindings }: Statement): Promise<string[]> {
    const rows = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as Knex.RawBinding[])) as Array<{
      detail: string;
    }>;
    return rows.map((row) => row.detail);
  }

  async function assertServedBy(work: () => Promise<unknown>, indexes: string[]): Promise<void> {
    const [statement, ...others] = await statementsOf(work);
    assert.ok(statement, 'the work sent a statement on sessions');
    assert.equal(others.length, 0, 'one statement');
    const plan = await planOf(statement);
    for (const index of indexes)
      assert.ok(
        plan.some((step) => step.includes(`INDEX ${index}`)),
        plan.join(' | '),
      );
    assert.ok(!plan.some((step) => /^SCAN sessions$/.test(step)), `no full scan: ${plan.join(' | ')}`);
  }

  it("the sweeper's batch: both halves of the OR through the partial indexes of open sessions", async () => {
    await assertServedBy(
      () => store.endInactiveSessions(activeAt, 1_000),
      ['sessions_open_expiry_index', 'sessions_open_idle_index'],
    );
  });

  it("a user's active sessions (the login's limit, counts) through the user's open-session index", async () => {
    await assertServedBy(() => store.countActiveSessions(activeAt, 'someone'), ['sessions_user_open_index']);
  });

  it('a page of everyone’s active sessions in (created_at, id) order, without a sort, first and next', async () => {
    const after = { createdAt: new Date(), id: 'x' };
    for (const page of [
      { activeAt, limit: 51 },
      { activeAt, after, limit: 51 },
    ]) {
      const [statement] = await statementsOf(() => store.listSessions(page));
      assert.ok(statement);
      const plan = await planOf(statement);
      assert.ok(
        plan.some((step) => step.includes('INDEX sessions_open_created_index')),
        plan.join(' | '),
      );
      assert.ok(!plan.some((step) => step.includes('TEMP B-TREE')), plan.join(' | '));
    }
  });

  it("a user's sessions with the ended ones, and rows past their retention, through indexes an end does not move", async () => {
    await assertServedBy(() => store.listSessions({ userId: 'someone', limit: 51 }), ['sessions_user_index']);
    await assertServedBy(() => store.deleteSessionsEndedBefore(new Date(), 1_000), ['sessions_ended_index']);
  });
});
