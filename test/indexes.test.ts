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
import type { AuthEventFilter } from '../src/sessions/auth-events.js';
import { KnexAuthEventStore } from '../src/storage/auth-event-store.js';
import { KnexSessionStore } from '../src/storage/session-store.js';
import { HOUR } from './support/clock.js';
import { openMigratedDatabase, type MigratedDatabase } from './support/databases.js';

interface Statement {
  sql: string;
  bindings: readonly unknown[];
}

/** The statements `work` sends on `db` that touch `table`. */
async function statementsOn(db: Knex, table: string, work: () => Promise<unknown>): Promise<Statement[]> {
  const sent: Statement[] = [];
  const listener = (query: Statement) => sent.push({ sql: query.sql, bindings: query.bindings ?? [] });
  db.on('query', listener);
  try {
    await work();
  } finally {
    db.removeListener('query', listener);
  }
  return sent.filter((statement) => new RegExp(`\\b${table}\\b`).test(statement.sql));
}

/** SQLite's plan for the statement, one line per step. */
async function sqlitePlan(db: Knex, { sql, bindings }: Statement): Promise<string[]> {
  const rows = (await db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings as Knex.RawBinding[])) as Array<{ detail: string }>;
  return rows.map((row) => row.detail);
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

  const statementsOf = (work: () => Promise<unknown>) => statementsOn(db, 'sessions', work);
  const planOf = (statement: Statement) => sqlitePlan(db, statement);

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

describe('audit indexes: the console’s filtered pages read them in order (sqlite)', () => {
  let opened: MigratedDatabase;
  let db: Knex;
  let store: KnexAuthEventStore;
  const cursor = { createdAt: new Date(), id: 'x' };

  before(async () => {
    opened = await openMigratedDatabase('sqlite');
    db = opened.db;
    store = new KnexAuthEventStore(db, 'sqlite');
  });
  after(() => opened?.close());

  /** SQLite's plan of each statement on `auth_events` that `work` sends. */
  async function plansOf(work: () => Promise<unknown>): Promise<string[][]> {
    const plans: string[][] = [];
    for (const statement of await statementsOn(db, 'auth_events', work)) plans.push(await sqlitePlan(db, statement));
    return plans;
  }

  /** Each statement of the page and of its count goes through `index`, with no sort of its own. */
  async function assertPagedBy(filter: AuthEventFilter, indexes: string[]) {
    for (const page of [{ limit: 26 }, { after: cursor, limit: 26 }]) {
      const plans = await plansOf(() => store.listAuthEvents({ ...filter, ...page }));
      const counts = await plansOf(() => store.countAuthEvents(filter));
      assert.equal(plans.length, indexes.length, `one read per type: ${JSON.stringify(plans)}`);
      plans.forEach((plan, i) => {
        assert.ok(
          plan.some((step) => step.includes(`INDEX ${indexes[i]}`)),
          plan.join(' | '),
        );
        assert.ok(!plan.some((step) => step.includes('TEMP B-TREE')), plan.join(' | '));
      });
      for (const plan of counts.filter((_, i) => indexes[i] !== 'auth_events_created_index')) {
        assert.ok(!plan.some((step) => /^SCAN auth_events$/.test(step)), `count: ${plan.join(' | ')}`);
      }
    }
  }

  it('one type, and several (one read each): the type index; SESSION_ENDED, which it leaves out, in time order', async () => {
    await assertPagedBy({ types: ['USER_DELETED'] }, ['auth_events_type_index']);
    await assertPagedBy({ types: ['SESSION_ENDED'] }, ['auth_events_created_index']);
    await assertPagedBy({ types: ['LOGIN_FAILED', 'SESSION_ENDED', 'LOGIN_RATE_LIMITED'] }, [
      'auth_events_type_index',
      'auth_events_created_index',
      'auth_events_type_index',
    ]);
  });

  it('by actor, by user, each with a type: the person’s index, not the type’s', async () => {
    await assertPagedBy({ actorUserId: 'someone' }, ['auth_events_actor_index']);
    await assertPagedBy({ actorUserId: 'someone', types: ['USER_DISABLED'] }, ['auth_events_actor_index']);
    await assertPagedBy({ userId: 'someone', types: ['LOGIN_FAILED'] }, ['auth_events_user_index']);
    await assertPagedBy({ userId: 'someone', types: ['SESSION_ENDED'] }, ['auth_events_user_index']);
  });
});
