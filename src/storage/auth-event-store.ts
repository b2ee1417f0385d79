import type { Knex } from 'knex';
import type { AuthEventRecord } from '../sessions/audit-log.js';
import type { PageCursor } from '../sessions/page.js';
import type { AuthEventStore } from '../sessions/store.js';
import type { DatabaseKind } from './database.js';
import { AuthEvent } from './models.js';
import { NEWEST_FIRST, toCount, whereOlderThan } from './sql.js';

/**
 * Events per statement: one JSON text of 5,000 events is about a megabyte. (A batch of the
 * sweeper is smaller; a user with more sessions than this ending them all takes several.)
 */
const INSERT_CHUNK_ROWS = 5_000;

const COLUMNS = 'id, type, user_id, session_id, actor_user_id, username, reason, ip_address, user_agent, created_at';

/**
 * One statement inserts a whole batch from one JSON parameter: rows as JSON arrays cost the
 * event loop a fraction of what bound parameters do on the `sqlite3` driver (see
 * session-rows.ts), and no model or query builder runs per row. `->>` reads an array element
 * as SQL text or NULL on both databases.
 */
function insertSql(kind: DatabaseKind): string {
  const source = kind === 'sqlite' ? 'json_each(?)' : 'json_array_elements(?::json)';
  const fields = COLUMNS.split(', ').map((_, i) => (i === 9 ? `CAST(value->>${i} AS BIGINT)` : `value->>${i}`));
  return `INSERT INTO auth_events (${COLUMNS}) SELECT ${fields.join(', ')} FROM ${source}`;
}

function toJson(events: readonly AuthEventRecord[], from: number, to: number): string {
  const rows: unknown[] = [];
  for (let i = from; i < to; i++) {
    const e = events[i]!;
    const at = e.createdAt.getTime();
    rows.push([e.id, e.type, e.userId, e.sessionId, e.actorUserId, e.username, e.reason, e.ipAddress, e.userAgent, at]);
  }
  return JSON.stringify(rows);
}

/** The audit log's table. */
export class KnexAuthEventStore implements AuthEventStore {
  private readonly insertSql: string;

  constructor(
    private readonly db: Knex,
    kind: DatabaseKind,
  ) {
    this.insertSql = insertSql(kind);
  }

  async insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length <= INSERT_CHUNK_ROWS)
      return void (await this.db.raw(this.insertSql, [toJson(events, 0, events.length)]));
    // One commit (one fsync) for all of them.
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < events.length; i += INSERT_CHUNK_ROWS) {
        await trx.raw(this.insertSql, [toJson(events, i, Math.min(events.length, i + INSERT_CHUNK_ROWS))]);
      }
    });
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
