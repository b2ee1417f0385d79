import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { PageCursor } from '../sessions/page.js';
import type { NewUser, UserStore } from '../sessions/store.js';
import type { UserRecord } from '../sessions/types.js';
import { User } from './models.js';
import { findUserWhere, isUniqueViolation, NEWEST_FIRST, toCount, whereOlderThan } from './sql.js';

/** `LIKE` with the text taken literally: its own wildcards escaped. */
function withUsernameContaining<Q extends Knex.QueryBuilder | ReturnType<typeof User.query>>(
  query: Q,
  text?: string,
): Q {
  if (text === undefined || text === '') return query;
  const literal = text.replace(/[\\%_]/g, (character) => `\\${character}`);
  return query.whereRaw("username_key LIKE ? ESCAPE '\\'", [`%${literal}%`]) as Q;
}

/** Users over Objection. */
export class KnexUserStore implements UserStore {
  constructor(private readonly db: Knex) {}

  async findUserById(id: string): Promise<UserRecord | undefined> {
    return findUserWhere(this.db, 'id', id);
  }

  async findUsersByIds(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    return User.query(this.db).whereIn('id', ids);
  }

  async findUserByUsernameKey(usernameKey: string): Promise<UserRecord | undefined> {
    return findUserWhere(this.db, 'username_key', usernameKey);
  }

  async insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined> {
    try {
      return await User.query(this.db).insertAndFetch({
        id: randomUUID(),
        ...user,
        sessionLimit: null,
        disabledAt: null,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
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

  async listUsers(query: { usernameContains?: string; after?: PageCursor; limit: number }): Promise<UserRecord[]> {
    return whereOlderThan(withUsernameContaining(User.query(this.db), query.usernameContains), query.after)
      .orderBy([...NEWEST_FIRST])
      .limit(query.limit);
  }

  async countUsers(usernameContains?: string): Promise<number> {
    return toCount(await withUsernameContaining(this.db('users'), usernameContains).count({ count: '*' }).first());
  }
}
