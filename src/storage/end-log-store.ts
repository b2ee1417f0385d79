import type { Knex } from 'knex';
import type { EndLogStore, LoggedEnd } from '../events/sqlite-propagation.js';
import { Session } from './models.js';

/** The SQLite end log (migration 05) and the servers that follow it. */
export class KnexEndLogStore implements EndLogStore {
  constructor(private readonly db: Knex) {}

  async lastSeq(): Promise<number> {
    const row: { seq?: unknown } | undefined = await this.db('session_end_log').max({ seq: 'seq' }).first();
    return Number(row?.seq ?? 0);
  }

  async endsAfter(seq: number, limit: number): Promise<LoggedEnd[]> {
    const rows: Array<Record<string, unknown> & { seq: number; session_id: string }> = await this.db('session_end_log')
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(limit);
    return rows.map(({ seq: logSeq, session_id, ...columns }) => ({
      seq: Number(logSeq),
      session: Session.fromDatabaseJson({ id: session_id, ...columns }),
    }));
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
    const rows: Array<{ id: string; applied_seq: unknown }> = await this.db('server_instances')
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
