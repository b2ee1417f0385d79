import type { Knex } from 'knex';
import type { UserSessionsTx } from '../sessions/store.js';
import type { UserRecord } from '../sessions/types.js';
import { KnexAuthEventStore } from './auth-event-store.js';
import type { DatabaseKind } from './database-kind.js';
import { KnexLoginThrottleStore } from './login-throttle-store.js';
import { Session, User } from './models.js';
import { KnexPendingLoginStore } from './pending-login-store.js';
import { LONG_STATEMENT } from './postgres-connections.js';
import { lockedFactors } from './second-factor-store.js';
import { endOpenSessions, SESSION_COLUMNS, whereActive, whereOpenButInactive } from './sql.js';

/** The user-scoped operations of `withUserLocked`, on the transaction that holds the lock. */
export function lockedUserTx(
  trx: Knex.Transaction,
  kind: DatabaseKind,
  userId: string,
  user: UserRecord | undefined,
): UserSessionsTx {
  // Ending all of them takes time in proportion to their number (see LONG_STATEMENT).
  const sessions = () => trx('sessions').where('user_id', userId).options(LONG_STATEMENT);
  const authEvents = new KnexAuthEventStore(trx, kind);
  return {
    user,
    insertAuthEvents: (events) => authEvents.insertAuthEvents(events),
    loginThrottles: new KnexLoginThrottleStore(trx),
    factors: lockedFactors(trx, userId),
    insertPendingLogin: (pending) => new KnexPendingLoginStore(trx).insertPendingLogin(pending),
    takePendingLogin: async (id, now) =>
      (await trx('pending_logins').where({ id, user_id: userId }).where('expires_at', '>', now.getTime()).delete()) > 0,
    listActiveSessions: async (activeAt) =>
      await whereActive(
        Session.query(trx)
          .select([...SESSION_COLUMNS])
          .where('user_id', userId),
        activeAt,
      ).orderBy([{ column: 'created_at' }, { column: 'id' }]),
    endSessions: (ids, reason, at) => endOpenSessions(trx('sessions').whereIn('id', ids), reason, at),
    endOpenSessions: async (reason, activeAt) => [
      ...(await endOpenSessions(whereOpenButInactive(sessions(), activeAt), 'EXPIRED', activeAt.now)),
      ...(await endOpenSessions(sessions(), reason, activeAt.now)),
    ],
    insertSession: async (session) => {
      // Raw, as the user's read in withUserLocked: the query builder cost more than the insert.
      const row = Session.fromJson(session).$toDatabaseJson();
      const columns = Object.keys(row);
      const placeholders = columns.map(() => '?').join(', ');
      await trx.raw(`INSERT INTO sessions (${columns.join(', ')}) VALUES (${placeholders})`, Object.values(row));
    },
    setDisabledAt: async (at, now) => {
      await User.query(trx).findById(userId).patch({ disabledAt: at, updatedAt: now });
      return (await User.query(trx).findById(userId)) as UserRecord;
    },
    setPasswordHash: async (passwordHash, now) => {
      await User.query(trx).findById(userId).patch({ passwordHash, updatedAt: now });
    },
    countEnabledAdmins: () => User.query(trx).where('role', 'ADMIN').whereNull('disabled_at').resultSize(),
    deleteUser: async () => {
      if (user)
        await trx('auth_events').where('user_id', userId).whereNull('username').update({ username: user.username });
      await trx('users').where('id', userId).delete();
    },
  };
}
