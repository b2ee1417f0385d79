import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { NewUser, SessionStore, UserSessionsTx } from '../sessions/store.js';
import type { SessionEndReason, SessionRecord, UserRecord, Viewer } from '../sessions/types.js';
import { databaseKind, type DatabaseKind } from './database.js';
import { Session, User } from './models.js';

const UNIQUE_VIOLATION = /UNIQUE constraint failed|duplicate key value violates unique constraint/;

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

  async endSession(id: string, reason: SessionEndReason, at: Date): Promise<SessionRecord | undefined> {
    const [ended] = await endOpenSessions(this.db, [id], reason, at);
    return ended;
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
        listOpenSessions: async (now, idleTimeoutMs) =>
          await Session.query(trx)
            .where('user_id', userId)
            .whereNull('ended_at')
            .where('expires_at', '>', now.getTime())
            .where('last_seen_at', '>', now.getTime() - idleTimeoutMs)
            .orderBy([{ column: 'created_at' }, { column: 'id' }]),
        endSessions: (ids, reason, at) => endOpenSessions(trx, ids, reason, at),
        insertSession: async (session) => {
          await Session.query(trx).insert(session);
        },
      });
    });
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

/** Ends those of `ids` that are still open; returns exactly the sessions this call ended. */
async function endOpenSessions(
  db: Knex | Knex.Transaction,
  ids: readonly string[],
  reason: SessionEndReason,
  at: Date,
): Promise<SessionRecord[]> {
  if (ids.length === 0) return [];
  // RETURNING (SQLite ≥ 3.35, PostgreSQL) makes "which rows did I end" exact even when a
  // concurrent request ends some of the same sessions.
  const rows: Record<string, unknown>[] = await db('sessions')
    .update({ ended_at: at.getTime(), end_reason: reason })
    .whereIn('id', ids)
    .whereNull('ended_at')
    .returning('*');
  return rows.map((row) => Session.fromDatabaseJson(row));
}
