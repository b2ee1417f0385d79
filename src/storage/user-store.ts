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

  async findUserByUsernameSkeleton(usernameSkeleton: string): Promise<UserRecord | undefined> {
    return User.query(this.db).where('username_skeleton', usernameSkeleton).orderBy(['created_at', 'id']).first();
  }

  /**
   * The unique indexes on `username_key` and on (`username_skeleton`, `username_skeleton_tiebreak`)
   * decide between inserts racing each other. The read before them finds the lookalikes that
   * migration 10 kept: the index lets those be, with their own id as the tiebreak.
   */
  async insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined> {
    if (await this.findUserByUsernameSkeleton(user.usernameSkeleton)) return undefined;
    const id = randomUUID();
    try {
      await this.db('users').insert({
        ...{ id, username: user.username, username_key: user.usernameKey, username_skeleton: user.usernameSkeleton },
        ...{ password_hash: user.passwordHash, role: user.role, session_limit: null, disabled_at: null },
        ...{ created_at: now.getTime(), updated_at: now.getTime() },
      });
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
    return this.findUserById(id);
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
