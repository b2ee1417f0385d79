import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { AuthEventFilter, AuthEventRecord, AuthEventType } from '../sessions/auth-events.js';
import type { PageCursor } from '../sessions/page.js';
import type { AuthEventStore } from '../sessions/store.js';
import type { DatabaseKind } from './database-kind.js';
import { AuthEvent } from './models.js';
import { NEWEST_FIRST, toCount, whereOlderThan } from './sql.js';

/**
 * Events per statement: one JSON text of 5,000 events is about a megabyte. (A batch of the
 * sweeper is smaller; a user with more sessions than this ending them all takes several.)
 */
const INSERT_CHUNK_ROWS = 5_000;

const COLUMNS = [
  'id',
  'type',
  'user_id',
  'session_id',
  'actor_user_id',
  'username',
  'reason',
  'ip_address',
  'user_agent',
  'created_at',
  'factor_id',
  'method',
  'recovery_codes_left',
  'service_token_id',
];
const CREATED_AT = COLUMNS.indexOf('created_at');
const RECOVERY_CODES_LEFT = COLUMNS.indexOf('recovery_codes_left');

/** Each column's value of an event, in COLUMNS' order. */
const VALUES: ReadonlyArray<(e: AuthEventRecord) => unknown> = [
  (e) => e.id,
  (e) => e.type,
  (e) => e.userId,
  (e) => e.sessionId,
  (e) => e.actorUserId,
  (e) => e.username,
  (e) => e.reason,
  (e) => e.ipAddress,
  (e) => e.userAgent,
  (e) => e.createdAt.getTime(),
  (e) => e.factorId,
  (e) => e.method,
  (e) => e.recoveryCodesLeft,
  (e) => e.serviceTokenId,
];

/**
 * The columns whose value differs within `events`, a bit each. The id always counts as
 * differing: it is what makes a row of the JSON text, even for a single event.
 */
function differingColumns(events: readonly AuthEventRecord[]): number {
  let mask = 1;
  for (let column = 1; column < COLUMNS.length; column++) {
    const value = VALUES[column]!;
    const first = value(events[0]!);
    for (const event of events) {
      if (value(event) !== first) {
        mask |= 1 << column;
        break;
      }
    }
  }
  return mask;
}

/**
 * One statement inserts a whole batch from one JSON parameter: rows as JSON arrays cost the
 * event loop a fraction of what bound parameters do on the `sqlite3` driver (see
 * session-rows.ts), and no model or query builder runs per row. `->>` reads an array element
 * as SQL text or NULL on both databases.
 *
 * The columns every event of the batch shares (a sweep's batch differs only in id, user and
 * session) are bound once instead of read from each row: in SQLite, each `->>` parses its row's
 * JSON again: a sweep's audit insert went from 18–20 to 12–13 µs a row (bench/sweep-breakdown.ts).
 * (Casts, because PostgreSQL cannot otherwise type a parameter in a SELECT list.)
 */
function insertSql(kind: DatabaseKind, differing: number): string {
  const source = kind === 'sqlite' ? 'json_each(?)' : 'json_array_elements(?::json)';
  let inRow = 0;
  const fields = COLUMNS.map((_, column) => {
    const type = column === CREATED_AT ? 'BIGINT' : column === RECOVERY_CODES_LEFT ? 'INTEGER' : 'TEXT';
    return differing & (1 << column) ? `CAST(value->>${inRow++} AS ${type})` : `CAST(? AS ${type})`;
  });
  return `INSERT INTO auth_events (${COLUMNS.join(', ')}) SELECT ${fields.join(', ')} FROM ${source}`;
}

/** The statement's parameters: the shared values in column order, then the rows' JSON text. */
function parametersOf(events: readonly AuthEventRecord[], differing: number): unknown[] {
  const shared: unknown[] = [];
  const inRow: Array<(e: AuthEventRecord) => unknown> = [];
  VALUES.forEach((value, column) => (differing & (1 << column) ? inRow.push(value) : shared.push(value(events[0]!))));
  const rows = new Array<unknown[]>(events.length);
  for (let i = 0; i < events.length; i++) {
    const row = new Array<unknown>(inRow.length);
    for (let j = 0; j < inRow.length; j++) row[j] = inRow[j]!(events[i]!);
    rows[i] = row;
  }
  return [...shared, JSON.stringify(rows)];
}

/**
 * The statement for each database kind and set of differing columns met so far: a handful in
 * practice. Shared by every store, also those a transaction makes (see locked-user.ts).
 */
const STATEMENTS: Record<DatabaseKind, Map<number, string>> = { sqlite: new Map(), postgres: new Map() };

/** The type `auth_events_type_index` leaves out: the sweeper writes it by the hundred thousand. */
const UNINDEXED_TYPE: AuthEventType = 'SESSION_ENDED';

/** Each type once, in the order given; undefined for no filter by type. */
const distinct = (types: readonly AuthEventType[] | undefined) => (types ? [...new Set(types)] : undefined);

/** (createdAt, id) descending, as the database orders a page. */
const newestFirst = (a: AuthEventRecord, b: AuthEventRecord) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The audit log's table; on a transaction, its writes commit with the transaction. */
export class KnexAuthEventStore implements AuthEventStore {
  private readonly statements: Map<number, string>;

  constructor(
    private readonly db: Knex,
    private readonly kind: DatabaseKind,
  ) {
    this.statements = STATEMENTS[kind];
  }

  async insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length <= INSERT_CHUNK_ROWS) return this.insertChunk(this.db, events);
    // One commit (one fsync) for all of them.
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < events.length; i += INSERT_CHUNK_ROWS) {
        await this.insertChunk(trx, events.slice(i, i + INSERT_CHUNK_ROWS));
      }
    });
  }

  private async insertChunk(db: Knex, events: readonly AuthEventRecord[]): Promise<void> {
    const differing = differingColumns(events);
    let sql = this.statements.get(differing);
    if (sql === undefined) this.statements.set(differing, (sql = insertSql(this.kind, differing)));
    await db.raw(sql, parametersOf(events, differing) as Knex.RawBinding[]);
  }

  /**
   * With several types, one read per type, merged: each reads its page off the type's index in
   * order, where `type IN (…)` would have both databases read every row of those types and sort
   * them (SQLite's plan: a temporary B-tree; PostgreSQL's: a bitmap scan and a sort).
   */
  async listAuthEvents({
    after,
    limit,
    ...filter
  }: AuthEventFilter & { after?: PageCursor; limit: number }): Promise<AuthEventRecord[]> {
    const read = (type?: AuthEventType) =>
      whereOlderThan(this.matching(AuthEvent.query(this.db), filter, type), after)
        .orderBy([...NEWEST_FIRST])
        .limit(limit);
    const types = distinct(filter.types);
    if (types === undefined || types.length === 1) return read(types?.[0]);
    const pages = await Promise.all(types.map(read));
    return pages.flat().sort(newestFirst).slice(0, limit);
  }

  async countAuthEvents(filter: AuthEventFilter = {}): Promise<number> {
    const count = async (type?: AuthEventType) =>
      toCount(await this.matching(this.db('auth_events'), filter, type).count({ count: '*' }).first());
    const types = distinct(filter.types);
    if (types === undefined || types.length === 1) return count(types?.[0]);
    return (await Promise.all(types.map(count))).reduce((sum, each) => sum + each, 0);
  }

  /** `query` narrowed to the filter's user and actor, and to `type` when given. */
  private matching<Q extends Knex.QueryBuilder | QueryBuilder<AuthEvent, AuthEvent[]>>(
    query: Q,
    { userId, actorUserId }: AuthEventFilter,
    type: AuthEventType | undefined,
  ): Q {
    let narrowed = query;
    if (userId !== undefined) narrowed = narrowed.where('user_id', userId) as Q;
    if (actorUserId !== undefined) narrowed = narrowed.where('actor_user_id', actorUserId) as Q;
    if (type === undefined) return narrowed;
    // A user's (or an actor's) events are few beside a type's, but SQLite's planner, without
    // statistics, would rather walk the type's index and read all of that type for one user's
    // page: the unary `+` keeps it on the person's index.
    if (this.kind === 'sqlite' && (userId !== undefined || actorUserId !== undefined)) {
      return narrowed.whereRaw('+type = ?', [type]) as Q;
    }
    narrowed = narrowed.where('type', type) as Q;
    // The type index leaves out the sweeper's type (migration 09), and a partial index serves
    // only a query that states its condition.
    return (type === UNINDEXED_TYPE ? narrowed : narrowed.whereRaw(`type <> '${UNINDEXED_TYPE}'`)) as Q;
  }

  async deleteAuthEventsBefore(cutoff: Date, limit: number): Promise<number> {
    const batch = this.db('auth_events').where('created_at', '<', cutoff.getTime()).select('id').limit(limit);
    return this.db('auth_events').whereIn('id', batch).delete();
  }
}
