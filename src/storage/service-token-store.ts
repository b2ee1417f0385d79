import type { Knex } from 'knex';
import type { ServiceScope, ServiceTokenRecord, ServiceTokenStore } from '../sessions/service-token-store.js';
import { isUniqueViolation, NEWEST_FIRST } from './sql.js';

type Row = Record<string, unknown>;

const COLUMNS = [
  'id',
  'name',
  'scopes',
  'created_at',
  'created_by_user_id',
  'last_used_at',
  'revoked_at',
  'revoked_by_user_id',
];

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value)));

function toServiceToken(row: Row): ServiceTokenRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    scopes: (row.scopes as string).split(',') as ServiceScope[],
    createdAt: date(row.created_at) as Date,
    createdByUserId: (row.created_by_user_id as string | null) ?? null,
    lastUsedAt: date(row.last_used_at),
    revokedAt: date(row.revoked_at),
    revokedByUserId: (row.revoked_by_user_id as string | null) ?? null,
  };
}

/** Service tokens over Knex, for SQLite and PostgreSQL alike. */
export class KnexServiceTokenStore implements ServiceTokenStore {
  constructor(
    private readonly db: Knex,
    /** Where the lookups of requests read (see createReadDatabase). Default: `db`. */
    private readonly reads: Knex = db,
  ) {}

  async insertServiceToken(record: ServiceTokenRecord, tokenHash: string): Promise<boolean> {
    try {
      await this.db('service_tokens').insert({
        ...{ id: record.id, name: record.name, scopes: record.scopes.join(','), token_hash: tokenHash },
        ...{ created_at: record.createdAt.getTime(), created_by_user_id: record.createdByUserId },
      });
      return true;
    } catch (error) {
      // The partial unique index on the names of unrevoked tokens (migration 15). A collision of
      // token_hash (unique too) would read as a taken name as well: 256 random bits never collide.
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async findServiceTokenByHash(tokenHash: string): Promise<ServiceTokenRecord | undefined> {
    const row: Row | undefined = await this.reads('service_tokens').where('token_hash', tokenHash).first(COLUMNS);
    return row && toServiceToken(row);
  }

  async listServiceTokens(includeRevoked: boolean): Promise<ServiceTokenRecord[]> {
    const query = this.db('service_tokens')
      .select(COLUMNS)
      .orderBy([...NEWEST_FIRST]);
    if (!includeRevoked) query.whereNull('revoked_at');
    return ((await query) as Row[]).map(toServiceToken);
  }

  async revokeServiceToken(
    id: string,
    at: Date,
    byUserId: string | null,
  ): Promise<{ token: ServiceTokenRecord; revoked: boolean } | undefined> {
    const revoked = await this.db('service_tokens')
      .where('id', id)
      .whereNull('revoked_at')
      .update({ revoked_at: at.getTime(), revoked_by_user_id: byUserId });
    const row: Row | undefined = await this.db('service_tokens').where('id', id).first(COLUMNS);
    return row && { token: toServiceToken(row), revoked: revoked > 0 };
  }

  async touchServiceTokens(lastUsed: ReadonlyMap<string, Date>): Promise<void> {
    await this.db.transaction(async (trx) => {
      for (const [id, at] of lastUsed) {
        // Never backwards: another instance may have written a later use.
        await trx('service_tokens')
          .where('id', id)
          .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', at.getTime()))
          .update({ last_used_at: at.getTime() });
      }
    });
  }

  async unrevokedServiceTokens(ids: readonly string[]): Promise<string[]> {
    const rows: Row[] = await this.reads('service_tokens').whereIn('id', ids).whereNull('revoked_at').select('id');
    return rows.map((row) => row.id as string);
  }
}
