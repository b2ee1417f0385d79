import type { Knex } from 'knex';
import type { EndLogStore, LoggedEnd } from '../events/sqlite-propagation.js';
import { toSessionRecord, type SessionTuple } from './session-rows.js';
import { rowsOf, SESSION_COLUMNS } from './sql.js';

/** The log's copy of a session, in SESSION_COLUMNS' order (its id is `session_id`). */
const LOG_COLUMNS = SESSION_COLUMNS.map((column) => (column === 'id' ? 'session_id' : column)).join(', ');

/** The SQLite end log (migration 05) and the servers that follow it. */
export class KnexEndLogStore implements EndLogStore {
  constructor(
    private readonly db: Knex,
    /** Where the poll and the barrier read (see createReadDatabase). Default: `db`. */
    private readonly reads: Knex = db,
  ) {}

  async lastSeq(): Promise<number> {
    const row: { seq?: unknown } | undefined = await this.reads('session_end_log').max({ seq: 'seq' }).first();
    return Number(row?.seq ?? 0);
  }

  async endsAfter(seq: number, limit: number): Promise<{ ends: LoggedEnd[]; lastSeq: number }> {
    // A server reads back every end (a sweep writes thousands a second): one JSON text per read
    // and a plain mapping, not a result row and a model per end (see session-rows.ts). One
    // statement, so the last seq is that of the same snapshot.
    const [row] = rowsOf<{ j: string | null; last: number | null }>(
      await this.reads.raw(
        `SELECT (SELECT max(seq) FROM session_end_log) AS last,
          (SELECT json_group_array(json_array(${LOG_COLUMNS}, seq, event))
            FROM (SELECT * FROM session_end_log WHERE seq > ? ORDER BY seq LIMIT ?)) AS j`,
        [seq, limit],
      ),
    );
    // The seq last, so that each row is a SessionTuple as it stands (no copy of 2,000 arrays).
    const ends = JSON.parse(row?.j ?? '[]') as Array<[...SessionTuple, number, 'ENDED' | 'BOUND']>;
    return {
      ends: ends.map((end) => {
        const type = end[SESSION_COLUMNS.length + 1] as 'ENDED' | 'BOUND';
        const session = toSessionRecord(end);
        // A binding's row holds the binding time where an end's holds the end (migration 14).
        if (type === 'BOUND') Object.assign(session, { endedAt: null, endReason: null });
        return { seq: end[SESSION_COLUMNS.length] as number, session, type };
      }),
      lastSeq: Number(row?.last ?? 0),
    };
  }

  async registerInstance(id: string, appliedSeq: number, now: Date): Promise<void> {
    await this.db('server_instances')
      .insert({ id, heartbeat_at: now.getTime(), applied_seq: appliedSeq })
      .onConflict('id')
      .merge();
  }

  async removeInstance(id: string): Promise<void> {
    await this.db('server_instances').where({ id }).delete();
  }

  async livePeers(selfId: string, heardSince: Date): Promise<Array<{ id: string; appliedSeq: number }>> {
    const rows: Array<{ id: string; applied_seq: unknown }> = await this.reads('server_instances')
      .whereNot('id', selfId)
      .where('heartbeat_at', '>=', heardSince.getTime())
      .select('id', 'applied_seq');
    return rows.map((row) => ({ id: row.id, appliedSeq: Number(row.applied_seq) }));
  }

  async deleteBefore(cutoff: Date): Promise<number> {
    const ends = await this.db('session_end_log').where('ended_at', '<', cutoff.getTime()).delete();
    await this.db('server_instances').where('heartbeat_at', '<', cutoff.getTime()).delete();
    return ends;
  }
}
