import type { Knex } from 'knex';
import type { PendingStep } from '../sessions/assurance.js';
import type { PendingLoginStore } from '../sessions/store.js';
import type { NewPendingLogin, PendingLogin } from '../sessions/types.js';
import { User } from './models.js';
import { unprefix, userColumnsAs } from './sql.js';

const PENDING_COLUMNS = ['id', 'next_step', 'created_at', 'expires_at', 'user_agent', 'ip_address'];

/** A pending login and its user in one row, told apart by a prefix. */
const SELECTED = [
  ...PENDING_COLUMNS.map((column) => `pending_logins.${column} as p_${column}`),
  ...userColumnsAs('u_'),
];

function toPendingLogin(row: Record<string, unknown>): PendingLogin {
  const pending = unprefix(row, 'p_');
  return {
    id: pending.id as string,
    user: User.fromDatabaseJson(unprefix(row, 'u_')),
    nextStep: pending.next_step as PendingStep,
    createdAt: new Date(Number(pending.created_at)),
    expiresAt: new Date(Number(pending.expires_at)),
    userAgent: (pending.user_agent as string | null) ?? null,
    ipAddress: (pending.ip_address as string | null) ?? null,
  };
}

/** Pending logins over Knex, for SQLite and PostgreSQL alike. */
export class KnexPendingLoginStore implements PendingLoginStore {
  constructor(
    private readonly db: Knex,
    /** Where the lookup by token reads (see createReadDatabase). Default: `db`. */
    private readonly reads: Knex = db,
  ) {}

  async insertPendingLogin(pending: NewPendingLogin): Promise<void> {
    await this.db('pending_logins').insert({
      ...{ id: pending.id, token_hash: pending.tokenHash, user_id: pending.userId, next_step: pending.nextStep },
      ...{ created_at: pending.createdAt.getTime(), expires_at: pending.expiresAt.getTime() },
      ...{ user_agent: pending.userAgent, ip_address: pending.ipAddress },
    });
  }

  async findPendingLoginByTokenHash(tokenHash: string): Promise<PendingLogin | undefined> {
    const row: Record<string, unknown> | undefined = await this.reads('pending_logins')
      .join('users', 'users.id', 'pending_logins.user_id')
      .where('pending_logins.token_hash', tokenHash)
      .first(SELECTED);
    return row && toPendingLogin(row);
  }

  async deletePendingLogin(id: string): Promise<boolean> {
    return (await this.db('pending_logins').where('id', id).delete()) > 0;
  }

  async deletePendingLoginsExpiredBefore(cutoff: Date, limit: number): Promise<number> {
    const batch = this.db('pending_logins').where('expires_at', '<', cutoff.getTime()).select('id').limit(limit);
    return this.db('pending_logins').whereIn('id', batch).delete();
  }
}
