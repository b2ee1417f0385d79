import type { Knex } from 'knex';
import type { PageCursor } from '../sessions/page.js';
import type { ActiveAt } from '../sessions/policy.js';
import type {
  BoundCookieRotation,
  DbscChallenge,
  DbscSession,
  DeviceBindingWrite,
  SessionProof,
  SessionStats,
  SessionStore,
  UserSessionsTx,
} from '../sessions/store.js';
import type { BoundCookieState, SessionEndReason, SessionRecord, Viewer } from '../sessions/types.js';
import type { DatabaseKind } from './database-kind.js';
import { Session, User } from './models.js';
import { lockedUserTx } from './locked-user.js';
import { LONG_STATEMENT } from './postgres-connections.js';
import { endInactiveBatch } from './session-rows.js';
import { sessionStats } from './session-stats.js';
import {
  endOpenSessions,
  findUserWhere,
  NEWEST_FIRST,
  SESSION_COLUMNS,
  toCount,
  unprefix,
  userColumnsAs,
  whereActive,
  whereOlderThan,
  whereOpenButInactive,
} from './sql.js';

/** Any fixed number: the advisory lock that serialises account changes which could leave no admin. */
const ACCOUNT_CHANGE_LOCK = 7_404_002;

/** What the hot path needs of a bound session's cookie (BoundCookieState), beside the record. */
const BOUND_COOKIE_COLUMNS = [
  'sessions.bound_cookie_hash as b_hash',
  'sessions.bound_cookie_expires_at as b_expires',
  'sessions.previous_bound_cookie_hash as b_previous',
  'sessions.previous_bound_cookie_until as b_until',
  'sessions.bound_cookie_seen_at as b_seen',
];

/** The hot path's select list: both rows in one, told apart by a prefix. */
const VIEWER_COLUMNS = [
  ...SESSION_COLUMNS.map((column) => `sessions.${column} as s_${column}`),
  ...userColumnsAs('u_'),
  ...BOUND_COOKIE_COLUMNS,
];

/** SQL for the earlier of `column` and `at` (epoch ms): a grace never outlives what it extends. */
const earlierOf = (db: Knex, column: string, at: number) =>
  db.raw(`CASE WHEN ${column} < ? THEN ${column} ELSE ? END`, [at, at]);

/** A new bound cookie and the next challenge, the challenges before it consumed. */
const newBoundCookie = (boundCookie: DbscChallenge, next: DbscChallenge) => ({
  bound_cookie_hash: boundCookie.hash,
  bound_cookie_expires_at: boundCookie.expiresAt,
  dbsc_challenge_hash: next.hash,
  dbsc_challenge_expires_at: next.expiresAt,
  dbsc_previous_challenge_hash: null,
  dbsc_previous_challenge_until: null,
});

const epochOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** A bound session's cookie state from the hot path's row; undefined for an unbound one. */
function boundCookieStateOf(row: Record<string, unknown>): BoundCookieState | undefined {
  if (row.s_device_bound_at === null || row.s_device_bound_at === undefined) return undefined;
  return {
    hash: (row.b_hash as string | null) ?? null,
    expiresAt: Number(row.b_expires ?? 0),
    previousHash: (row.b_previous as string | null) ?? null,
    previousUntil: Number(row.b_until ?? 0),
    seenAt: epochOrNull(row.b_seen),
  };
}

/** Sessions over Knex and Objection, for SQLite and PostgreSQL alike. */
export class KnexSessionStore implements SessionStore {
  constructor(
    private readonly db: Knex,
    private readonly kind: DatabaseKind,
    /** Where a request's session lookup reads (see createReadDatabase). Default: `db`. */
    private readonly reads: Knex = db,
  ) {}

  async findViewerByTokenHash(tokenHash: string): Promise<Viewer | undefined> {
    const row: Record<string, unknown> | undefined = await this.reads('sessions')
      .join('users', 'users.id', 'sessions.user_id')
      .where('sessions.token_hash', tokenHash)
      .first(VIEWER_COLUMNS);
    if (!row) return undefined;
    const session = Session.fromDatabaseJson(unprefix(row, 's_'));
    const user = User.fromDatabaseJson(unprefix(row, 'u_'));
    const deviceBinding = boundCookieStateOf(row);
    return deviceBinding ? { session, user, deviceBinding } : { session, user };
  }

  async findSessionById(id: string): Promise<SessionRecord | undefined> {
    return this.sessions().findById(id);
  }

  async listSessions(query: {
    userId?: string;
    activeAt?: ActiveAt;
    after?: PageCursor;
    limit: number;
  }): Promise<SessionRecord[]> {
    let builder = this.sessions();
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

  async countActiveAndBoundSessions(activeAt: ActiveAt): Promise<{ active: number; bound: number }> {
    // COUNT(column) skips nulls: the rows the active count reads anyway give the bound count.
    const row = (await whereActive(this.db('sessions'), activeAt)
      .count({ active: '*', bound: 'device_bound_at' })
      .first()) as { active?: unknown; bound?: unknown } | undefined;
    return { active: Number(row?.active ?? 0), bound: Number(row?.bound ?? 0) };
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

  sessionStats(activeAt: ActiveAt, since: Date): Promise<SessionStats> {
    return sessionStats(this.db, activeAt, since);
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
    let query = whereActive(this.db('sessions').where('user_id', userId).options(LONG_STATEMENT), activeAt);
    if (exceptSessionId !== undefined) query = query.whereNot('id', exceptSessionId);
    return endOpenSessions(query, reason, activeAt.now);
  }

  async endInactiveSessions(activeAt: ActiveAt, limit: number, userId?: string): Promise<SessionRecord[]> {
    // Everyone's: the sweeper's batch, its hot path (session-rows.ts).
    if (userId === undefined) return endInactiveBatch(this.db, this.kind, activeAt, limit);
    const batch = whereOpenButInactive(this.db('sessions'), activeAt)
      .select('id')
      .limit(limit)
      .where('user_id', userId);
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

  async endActiveSessions(query: {
    reason: SessionEndReason;
    activeAt: ActiveAt;
    limit: number;
    exceptSessionId?: string;
  }): Promise<SessionRecord[]> {
    let batch = whereActive(this.db('sessions'), query.activeAt).select('id').limit(query.limit);
    if (query.exceptSessionId !== undefined) batch = batch.whereNot('id', query.exceptSessionId);
    return endOpenSessions(this.db('sessions').whereIn('id', batch), query.reason, query.activeAt.now);
  }

  async recordProof(id: string, proof: SessionProof): Promise<SessionRecord | undefined> {
    const [row] = await this.db('sessions')
      .where({ id })
      .whereNull('ended_at')
      .update({
        authenticated_at: proof.authenticatedAt.getTime(),
        assurance: proof.assurance,
        authentication_methods: proof.authenticationMethods.join(','),
      })
      .returning([...SESSION_COLUMNS]);
    return row ? Session.fromDatabaseJson(row as Record<string, unknown>) : undefined;
  }

  async findDbscSession(id: string, tokenHash: string | undefined): Promise<DbscSession | undefined> {
    const row: Record<string, unknown> | undefined = await this.db('sessions')
      .where({ id })
      .first([
        ...SESSION_COLUMNS,
        'dbsc_public_key',
        'dbsc_alg',
        this.db.raw('CASE WHEN token_hash = ? THEN 1 ELSE 0 END AS own', [tokenHash ?? '']),
      ]);
    if (!row) return undefined;
    const { dbsc_public_key: publicKey, dbsc_alg: alg, own, ...session } = row;
    return {
      session: Session.fromDatabaseJson(session),
      own: Number(own) === 1,
      publicKey: (publicKey as string | null) ?? null,
      alg: (alg as string | null) ?? null,
    };
  }

  async bindDevice(write: DeviceBindingWrite): Promise<boolean> {
    const updated = await this.db('sessions')
      .where({ id: write.id, dbsc_challenge_hash: write.challengeHash })
      .whereNull('ended_at')
      .whereNull('device_bound_at')
      .where('dbsc_challenge_expires_at', '>', write.now)
      .update({
        device_bound_at: write.now,
        dbsc_public_key: write.publicKey,
        dbsc_alg: write.alg,
        ...newBoundCookie(write.boundCookie, write.next),
      });
    return updated === 1;
  }

  async rotateBoundCookie(write: BoundCookieRotation): Promise<boolean> {
    const { db } = this;
    const updated = await db('sessions')
      .where({ id: write.id })
      .whereNull('ended_at')
      .whereNotNull('device_bound_at')
      .where((challenge) =>
        challenge
          .where((current) =>
            current
              .where('dbsc_challenge_hash', write.challengeHash)
              .where('dbsc_challenge_expires_at', '>', write.now),
          )
          .orWhere((previous) =>
            previous
              .where('dbsc_previous_challenge_hash', write.challengeHash)
              .where('dbsc_previous_challenge_until', '>', write.now),
          ),
      )
      .update({
        previous_bound_cookie_hash: db.ref('bound_cookie_hash'),
        // Never longer than the old cookie's own expiry.
        previous_bound_cookie_until: earlierOf(db, 'bound_cookie_expires_at', write.graceUntil),
        ...newBoundCookie(write.boundCookie, write.next),
      });
    return updated === 1;
  }

  async issueDbscChallenge(id: string, challenge: DbscChallenge, previousUntil: number): Promise<boolean> {
    const { db } = this;
    const updated = await db('sessions')
      .where({ id })
      .whereNull('ended_at')
      .update({
        dbsc_previous_challenge_hash: db.ref('dbsc_challenge_hash'),
        dbsc_previous_challenge_until: earlierOf(db, 'dbsc_challenge_expires_at', previousUntil),
        dbsc_challenge_hash: challenge.hash,
        dbsc_challenge_expires_at: challenge.expiresAt,
      });
    return updated === 1;
  }

  async markBoundCookieSeen(id: string, at: number): Promise<void> {
    await this.db('sessions').where({ id }).whereNull('bound_cookie_seen_at').update({ bound_cookie_seen_at: at });
  }

  async withUserLocked<T>(
    userId: string,
    work: (tx: UserSessionsTx) => Promise<T>,
    { accountChange = false }: { accountChange?: boolean } = {},
  ): Promise<T> {
    return this.db.transaction(async (trx) => {
      // SQLite runs on a single connection, so the transaction is already alone. PostgreSQL
      // needs locks: the user's row queues logins and changes of that user; an advisory lock,
      // taken first so no two orders can deadlock, queues changes that count admins.
      if (this.kind === 'postgres' && accountChange)
        await trx.raw('SELECT pg_advisory_xact_lock(?)', [ACCOUNT_CHANGE_LOCK]);
      const user = await findUserWhere(trx, 'id', userId, { forUpdate: this.kind === 'postgres' });
      return work(lockedUserTx(trx, this.kind, userId, user));
    });
  }

  /** Sessions as the rules see them: every column but the token hash. */
  private sessions(db: Knex = this.db) {
    return Session.query(db).select([...SESSION_COLUMNS]);
  }
}
