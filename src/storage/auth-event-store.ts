import type { Knex } from 'knex';
import type { AuthEventRecord } from '../sessions/auth-events.js';
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
];
const CREATED_AT = COLUMNS.indexOf('created_at');

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
    const type = column === CREATED_AT ? 'BIGINT' : 'TEXT';
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

  async listAuthEvents(query: { userId?: string; after?: PageCursor; limit: number }): Promise<AuthEventRecord[]> {
    let builder = AuthEvent.query(this.db);
    if (query.userId !== undefined) builder = builder.where('user_id', query.userId);
    return whereOlderThan(builder, query.after)
      .orderBy([...NEWEST_FIRST])
      .limit(query.limit);
  }

  async countAuthEvents(userId?: string): Promise<number> {
    let builder = this.db('auth_events');
    if (userId !== undefined) builder = builder.where('user_id', userId);
    return toCount(await builder.count({ count: '*' }).first());
  }

  async deleteAuthEventsBefore(cutoff: Date, limit: number): Promise<number> {
    const batch = this.db('auth_events').where('created_at', '<', cutoff.getTime()).select('id').limit(limit);
    return this.db('auth_events').whereIn('id', batch).delete();
  }
}
