import type { Knex } from 'knex';
import type { ActiveAt } from '../sessions/policy.js';
import type { SessionStats } from '../sessions/store.js';
import type { SessionEndReason } from '../sessions/types.js';
import { toCount, whereActive } from './sql.js';

/** The dashboard's figures, counted in parallel; each count is served by an index. */
export async function sessionStats(db: Knex, activeAt: ActiveAt, since: Date): Promise<SessionStats> {
  const sinceMs = since.getTime();
  const count = (query: Knex.QueryBuilder) => query.count({ count: '*' }).first().then(toCount);
  const [activeSessions, activeUsers, totalUsers, started, ended, reasons] = await Promise.all([
    count(whereActive(db('sessions'), activeAt)),
    whereActive(db('sessions'), activeAt).countDistinct({ count: 'user_id' }).first().then(toCount),
    count(db('users')),
    count(db('sessions').where('created_at', '>=', sinceMs)),
    count(db('sessions').where('ended_at', '>=', sinceMs)),
    db('sessions')
      .where('ended_at', '>=', sinceMs)
      .groupBy('end_reason')
      .select('end_reason')
      .count({ count: '*' }) as Promise<Array<{ end_reason: SessionEndReason; count: unknown }>>,
  ]);
  return {
    activeSessions,
    activeUsers,
    totalUsers,
    sessionsStartedSince: started,
    sessionsEndedSince: ended,
    endReasonsSince: reasons
      .map((row) => ({ reason: row.end_reason, count: Number(row.count) }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
  };
}
