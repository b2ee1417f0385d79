import type { Knex } from 'knex';
import type { AuthEventRecord } from '../sessions/audit-log.js';
import type { PageCursor } from '../sessions/page.js';
import type { AuthEventStore } from '../sessions/store.js';
import { AuthEvent } from './models.js';
import { NEWEST_FIRST, toCount, whereOlderThan } from './sql.js';

/** Rows per statement: 500 rows of 11 columns stay under SQLite's 32,766 variables and PostgreSQL's 65,535. */
const INSERT_CHUNK_ROWS = 500;

/** The audit log's table. */
export class KnexAuthEventStore implements AuthEventStore {
  constructor(private readonly db: Knex) {}

  async insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void> {
    // Objection inserts several rows at once only on PostgreSQL, so rows are formatted by the
    // model and inserted by Knex.
    const rows = events.map((event) => AuthEvent.fromJson(event).$toDatabaseJson());
    if (rows.length <= INSERT_CHUNK_ROWS) return void (await this.db('auth_events').insert(rows));
    // One commit (one fsync) for all of them.
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
        await trx('auth_events').insert(rows.slice(i, i + INSERT_CHUNK_ROWS));
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
