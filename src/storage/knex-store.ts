import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { ActiveAt, NewUser, PageCursor, SessionStats, SessionStore, UserSessionsTx } from '../sessions/store.js';
import type { AuthEventRecord } from '../sessions/audit.js';
import { THROTTLE_WINDOW_MS, type ThrottleRule, type ThrottleState } from '../sessions/throttle.js';
import type { SessionEndReason, SessionRecord, UserRecord, Viewer } from '../sessions/types.js';
import { databaseKind, type DatabaseKind } from './database.js';
import { AuthEvent, Session, User } from './models.js';

const UNIQUE_VIOLATION = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

type AnyQuery = Knex.QueryBuilder | QueryBuilder<Session, unknown> | QueryBuilder<AuthEvent, unknown>;

/**
 * Keyset pagination: rows strictly older than the cursor in (created_at desc, id desc) order,
 * so rows added or removed between pages neither repeat nor shift the next page.
 */
function whereOlderThan<Q extends AnyQuery>(query: Q, cursor: PageCursor | undefined): Q {
  if (!cursor) return query;
  const createdAt = cursor.createdAt.getTime();
  return query.where((older) =>
    older
      .where('created_at', '<', createdAt)
      .orWhere((tie) => tie.where('created_at', createdAt).where('id', '<', cursor.id)),
  ) as Q;
}

const NEWEST_FIRST = [
  { column: 'created_at', order: 'desc' },
  { column: 'id', order: 'desc' },
] as const;

/** Restricts a sessions query to sessions active at `activeAt` (see {@link ActiveAt}). */
function whereActive<Q extends AnyQuery>(query: Q, { now, idleTimeoutMs }: ActiveAt, table = 'sessions'): Q {
  return query
    .whereNull(`${table}.ended_at`)
    .where(`${table}.expires_at`, '>', now.getTime())
    .where(`${table}.last_seen_at`, '>', now.getTime() - idleTimeoutMs) as Q;
}

/** Open (not ended) but no longer active: past the absolute expiry or idle too long. */
function whereOpenButInactive<Q extends AnyQuery>(query: Q, { now, idleTimeoutMs }: ActiveAt): Q {
  return query
    .whereNull('ended_at')
    .where((expired) =>
      expired.where('expires_at', '<=', now.getTime()).orWhere('last_seen_at', '<=', now.getTime() - idleTimeoutMs),
    ) as Q;
}

interface ThrottleRow {
  key: string;
  failures: number;
  window_started_at: number;
  last_failure_at: number;
}

function toThrottleState(row: ThrottleRow): ThrottleState {
  return {
    failures: Number(row.failures),
    windowStartedAt: new Date(Number(row.window_started_at)),
    lastFailureAt: new Date(Number(row.last_failure_at)),
  };
}

function toCount(row: unknown): number {
  const value = (row as { count?: unknown } | undefined)?.count;
  return Number(value ?? 0);
}

/** The session store over Knex and Objection, for SQLite and PostgreSQL alike. */
export class KnexSessionStore implements SessionStore {
  private readonly kind: DatabaseKind;

  constructor(
    private readonly db: Knex,
    databaseUrl: string,
  ) {
    this.kind = databaseKind(databaseUrl);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return User.query(this.db).findById(id);
  }

  async findUsersByIds(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    return User.query(this.db).whereIn('id', ids);
  }

  async findUserByUsernameKey(usernameKey: string): Promise<UserRecord | undefined> {
    return User.query(this.db).findOne('username_key', usernameKey);
  }

  async insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined> {
    try {
      return await User.query(this.db).insertAndFetch({
        id: randomUUID(),
        ...user,
        sessionLimit: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      if (error instanceof Error && UNIQUE_VIOLATION.test(error.message)) return undefined;
      throw error;
    }
  }

  async updatePasswordHash(userId: string, passwordHash: string, now: Date): Promise<void> {
    await User.query(this.db).findById(userId).patch({ passwordHash, updatedAt: now });
  }

  async updateSessionLimit(userId: string, sessionLimit: number | null, now: Date): Promise<UserRecord | undefined> {
    const updated = await User.query(this.db).findById(userId).patch({ sessionLimit, updatedAt: now });
    return updated === 0 ? undefined : this.findUserById(userId);
  }

  async countAdmins(): Promise<number> {
    return User.query(this.db).where('role', 'ADMIN').resultSize();
  }

  async findViewerByTokenHash(tokenHash: string): Promise<Viewer | undefined> {
    const session = await Session.query(this.db)
      .withGraphJoined('user')
      .where('sessions.token_hash', tokenHash)
      .first();
    if (!session?.user) return undefined;
    const { user } = session;
    delete session.user;
    return { user, session };
  }

  async findSessionById(id: string): Promise<SessionRecord | undefined> {
    return Session.query(this.db).findById(id);
  }

  async listSessions(query: {
    userId?: string;
    activeAt?: ActiveAt;
    after?: { createdAt: Date; id: string };
    limit: number;
  }): Promise<SessionRecord[]> {
    let builder = Session.query(this.db);
    if (query.userId !== undefined) builder = builder.where('user_id', query.userId);
    if (query.activeAt) builder = whereActive(builder, query.activeAt);
    return whereOlderThan(builder, query.after)
      .orderBy([...NEWEST_FIRST])
      .limit(query.limit);
  }

  async countActiveSessions(activeAt: ActiveAt, userId?: string): Promise<number> {
    let builder = whereActive(this.db('sessions'), activeAt);
    if (userId !== undefined) builder = builder.where('user_id', userId);
    return toCount(await builder.count({ count: '*' }).first());
  }

  async countActiveSessionsByUser(activeAt: ActiveAt, userIds: readonly string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    const rows: Array<{ user_id: string; count: unknown }> = await whereActive(this.db('sessions'), activeAt)
      .whereIn('user_id', userIds)
      .groupBy('user_id')
      .select('user_id')
      .count({ count: '*' });
    return new Map(rows.map((row) => [row.user_id, Number(row.count)]));
  }

  async sessionStats(activeAt: ActiveAt, since: Date): Promise<SessionStats> {
    const sinceMs = since.getTime();
    const [activeSessions, activeUsers, totalUsers, started, ended, reasons] = await Promise.all([
      this.countActiveSessions(activeAt),
      whereActive(this.db('sessions'), activeAt).countDistinct({ count: 'user_id' }).first().then(toCount),
      this.db('users').count({ count: '*' }).first().then(toCount),
      this.db('sessions').where('created_at', '>=', sinceMs).count({ count: '*' }).first().then(toCount),
      this.db('sessions').where('ended_at', '>=', sinceMs).count({ count: '*' }).first().then(toCount),
      this.db('sessions')
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

  async endSession(id: string, reason: SessionEndReason, at: Date): Promise<SessionRecord | undefined> {
    const [ended] = await endOpenSessions(this.db('sessions').where('id', id), reason, at);
    return ended;
  }

  async endUserSessions(
    userId: string,
    reason: SessionEndReason,
    activeAt: ActiveAt,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]> {
    let query = whereActive(this.db('sessions').where('user_id', userId), activeAt);
    if (exceptSessionId !== undefined) query = query.whereNot('id', exceptSessionId);
    return endOpenSessions(query, reason, activeAt.now);
  }

  async endInactiveSessions(activeAt: ActiveAt, limit: number, userId?: string): Promise<SessionRecord[]> {
    let batch = whereOpenButInactive(this.db('sessions'), activeAt).select('id').limit(limit);
    if (userId !== undefined) batch = batch.where('user_id', userId);
    return endOpenSessions(this.db('sessions').whereIn('id', batch), 'EXPIRED', activeAt.now);
  }

  async deleteSessionsEndedBefore(cutoff: Date, limit: number): Promise<number> {
    const batch = this.db('sessions').where('ended_at', '<', cutoff.getTime()).select('id').limit(limit);
    return this.db('sessions').whereIn('id', batch).delete();
  }

  async touchSessions(lastSeen: ReadonlyMap<string, Date>): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const [id, at] of lastSeen) {
        await trx('sessions')
          .update({ last_seen_at: at.getTime() })
          .where({ id })
          .whereNull('ended_at')
          .andWhere('last_seen_at', '<', at.getTime());
      }
    });
  }

  async withUserLocked<T>(userId: string, work: (tx: UserSessionsTx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (trx) => {
      // SQLite runs on a single connection, so the transaction is already alone; PostgreSQL
      // needs the row lock to queue concurrent logins of the same user.
      if (this.kind === 'postgres') await trx('users').where({ id: userId }).forUpdate().first('id');
      return work({
        listActiveSessions: async (activeAt) =>
          await whereActive(Session.query(trx).where('user_id', userId), activeAt).orderBy([
            { column: 'created_at' },
            { column: 'id' },
          ]),
        endSessions: (ids, reason, at) => endOpenSessions(trx('sessions').whereIn('id', ids), reason, at),
        insertSession: async (session) => {
          await Session.query(trx).insert(session);
        },
      });
    });
  }

  async reserveLoginAttempt(key: string, rule: ThrottleRule, now: Date): Promise<ThrottleState | undefined> {
    const nowMs = now.getTime();
    const windowOver = nowMs - THROTTLE_WINDOW_MS;
    // The delay after n failures, as SQL: base · 2^(n − free), capped (see retryAfterMs).
    const doublings = Math.ceil(Math.log2(rule.maxDelayMs / rule.baseDelayMs));
    const delay = `CASE WHEN login_throttles.failures - ${rule.freeFailures} >= ${doublings} THEN ${rule.maxDelayMs}
      ELSE ${rule.baseDelayMs} * (1 << (login_throttles.failures - ${rule.freeFailures})) END`;
    // Insert or count, but only where the rule allows an attempt now; the row lock that the
    // upsert takes makes check and count one step for concurrent attempts.
    const rows: ThrottleRow[] = await this.db
      .raw(
        `INSERT INTO login_throttles ("key", failures, window_started_at, last_failure_at) VALUES (?, 1, ?, ?)
         ON CONFLICT ("key") DO UPDATE SET
           failures = CASE WHEN login_throttles.window_started_at <= ? THEN 1 ELSE login_throttles.failures + 1 END,
           window_started_at = CASE WHEN login_throttles.window_started_at <= ? THEN ? ELSE login_throttles.window_started_at END,
           last_failure_at = ?
         WHERE login_throttles.window_started_at <= ?
            OR login_throttles.failures < ?
            OR (login_throttles.failures < ? AND login_throttles.last_failure_at + ${delay} <= ?)
         RETURNING *`,
        [
          key,
          nowMs,
          nowMs,
          windowOver,
          windowOver,
          nowMs,
          nowMs,
          windowOver,
          rule.freeFailures,
          rule.maxFailuresPerWindow,
          nowMs,
        ],
      )
      .then((result: unknown) => (Array.isArray(result) ? result : (result as { rows: ThrottleRow[] }).rows));
    if (rows.length > 0) return undefined;
    const refusing: ThrottleRow | undefined = await this.db('login_throttles').where({ key }).first();
    return refusing ? toThrottleState(refusing) : undefined;
  }

  async releaseLoginAttempt(key: string): Promise<void> {
    await this.db('login_throttles').where({ key }).where('failures', '>', 0).decrement('failures', 1);
  }

  async clearLoginThrottle(key: string): Promise<void> {
    await this.db('login_throttles').where({ key }).delete();
  }

  async deleteLoginThrottlesBefore(cutoff: Date): Promise<number> {
    return this.db('login_throttles').where('window_started_at', '<', cutoff.getTime()).delete();
  }

  async insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    // Objection inserts several rows at once only on PostgreSQL, so rows are formatted by the
    // model and inserted by Knex; chunked because SQLite caps the variables in one statement.
    const rows = events.map((event) => AuthEvent.fromJson(event).$toDatabaseJson());
    for (let i = 0; i < rows.length; i += 50) {
      await this.db('auth_events').insert(rows.slice(i, i + 50));
    }
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

  async ping(): Promise<boolean> {
    try {
      await this.db.raw('select 1');
      return true;
    } catch {
      return false;
    }
  }
}

/** Ends the open sessions among those `query` selects; returns exactly the sessions this call ended. */
async function endOpenSessions(query: Knex.QueryBuilder, reason: SessionEndReason, at: Date): Promise<SessionRecord[]> {
  // RETURNING (SQLite ≥ 3.35, PostgreSQL) makes "which rows did I end" exact even when a
  // concurrent request ends some of the same sessions.
  const rows: Record<string, unknown>[] = await query
    .whereNull('ended_at')
    .update({ ended_at: at.getTime(), end_reason: reason })
    .returning('*');
  return rows.map((row) => Session.fromDatabaseJson(row));
}
