import type { Knex } from 'knex';
import type { SecondFactorKind } from '../sessions/assurance.js';
import type { AuthEventRecord } from '../sessions/auth-events.js';
import type {
  LockedFactors,
  SecondFactorRecord,
  SecondFactorStore,
  TotpConfirmation,
  TotpFactor,
} from '../sessions/factor-store.js';
import { KnexAuthEventStore } from './auth-event-store.js';
import type { DatabaseKind } from './database-kind.js';
import { rowsOf, toCount } from './sql.js';

/** A `second_factors` row as the driver returns it. */
export type FactorRow = Record<string, unknown>;

/** What the API may see of a factor: never `totp_secret_encrypted` or a passkey's key. */
export const FACTOR_COLUMNS = ['id', 'user_id', 'kind', 'name', 'created_at', 'confirmed_at', 'last_used_at'];
const TOTP_COLUMNS = [...FACTOR_COLUMNS, 'totp_secret_encrypted', 'totp_last_step'];

const date = (value: unknown) => (value === null || value === undefined ? null : new Date(Number(value)));

export function toFactor(row: FactorRow): SecondFactorRecord {
  return {
    id: row.id as string,
    userId: row.user_id as string,
    kind: row.kind as SecondFactorKind,
    name: row.name as string,
    createdAt: date(row.created_at) as Date,
    confirmedAt: date(row.confirmed_at),
    lastUsedAt: date(row.last_used_at),
  };
}

function toTotpFactor(row: FactorRow): TotpFactor {
  const lastStep = row.totp_last_step;
  return {
    ...toFactor(row),
    sealedSecret: row.totp_secret_encrypted as string,
    lastStep: lastStep === null || lastStep === undefined ? null : Number(lastStep),
  };
}

/** Oldest first, as a user added them. */
const OLDEST_FIRST = [{ column: 'created_at' }, { column: 'id' }];

/**
 * Deletes one factor of a user; returns it when this call deleted it. Read, then deleted by the
 * same key: DELETE … RETURNING is not run as a query by the SQLite client (sqlite-statements.ts).
 * Shared by the store and the locked transaction (locked-user.ts).
 */
async function deleteFactorOf(db: Knex, userId: string, id: string): Promise<SecondFactorRecord | undefined> {
  const row: FactorRow | undefined = await db('second_factors').where({ id, user_id: userId }).first(FACTOR_COLUMNS);
  if (!row) return undefined;
  const deleted = await db('second_factors').where({ id, user_id: userId }).delete();
  return deleted > 0 ? toFactor(row) : undefined;
}

const confirmedOf = (db: Knex, userId: string) =>
  db('second_factors').where('user_id', userId).whereNotNull('confirmed_at');

/**
 * A verified use of the user's passkey (`LockedFactors.recordPasskeyUse`). The counter's rule is
 * in the statement itself, so that of two uses racing with one counter value, one writes and the
 * other is refused.
 */
async function recordPasskeyUse(
  trx: Knex.Transaction,
  userId: string,
  id: string,
  signCount: number,
  at: Date,
): Promise<boolean> {
  const updated = await trx('second_factors')
    .where({ id, user_id: userId, kind: 'PASSKEY' })
    .where((rule) =>
      rule
        .where('sign_count', '<', signCount)
        .orWhere((none) => none.where('sign_count', 0).whereRaw('? = 0', [signCount])),
    )
    .update({ sign_count: signCount, last_used_at: at.getTime() });
  return updated === 1;
}

/** The locked user's factors (`UserSessionsTx.factors`), on the transaction that holds the lock. */
export function lockedFactors(trx: Knex.Transaction, userId: string): LockedFactors {
  return {
    count: async () => toCount(await confirmedOf(trx, userId).count({ count: '*' }).first()),
    delete: (id) => deleteFactorOf(trx, userId, id),
    deleteRecoveryCodes: async () => {
      await trx('recovery_codes').where('user_id', userId).delete();
    },
    deleteAll: async () => {
      const confirmed = await confirmedOf(trx, userId).delete();
      await trx('second_factors').where('user_id', userId).delete();
      await trx('recovery_codes').where('user_id', userId).delete();
      await trx('pending_logins').where('user_id', userId).delete();
      return confirmed;
    },
    acceptTotpStep: async (id, step, at) => {
      // The rule in the statement itself: of two requests with one code, one updates the row.
      const updated = await confirmedOf(trx, userId)
        .where({ id, kind: 'TOTP' })
        .where((later) => later.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
        .update({ totp_last_step: step, last_used_at: at.getTime() });
      return updated > 0;
    },
    useRecoveryCode: async (codeHash, at) => {
      const unused = () => trx('recovery_codes').where('user_id', userId).whereNull('used_at');
      const used = await unused().where('code_hash', codeHash).update({ used_at: at.getTime() });
      if (used === 0) return undefined;
      return toCount(await unused().count({ count: '*' }).first());
    },
    recordPasskeyUse: (id, signCount, at) => recordPasskeyUse(trx, userId, id, signCount, at),
  };
}

/** Second factors and recovery codes over Knex, for SQLite and PostgreSQL alike. */
export class KnexSecondFactorStore implements SecondFactorStore {
  constructor(
    private readonly db: Knex,
    private readonly kind: DatabaseKind,
  ) {}

  async listFactors(userIds: readonly string[]): Promise<Map<string, SecondFactorRecord[]>> {
    const byUser = new Map<string, SecondFactorRecord[]>();
    if (userIds.length === 0) return byUser;
    const rows: FactorRow[] = await this.db('second_factors')
      .whereIn('user_id', [...userIds])
      .whereNotNull('confirmed_at')
      .select(FACTOR_COLUMNS)
      .orderBy(OLDEST_FIRST);
    for (const factor of rows.map(toFactor)) {
      const list = byUser.get(factor.userId);
      if (list) list.push(factor);
      else byUser.set(factor.userId, [factor]);
    }
    return byUser;
  }

  async hasConfirmedFactor(userId: string): Promise<boolean> {
    // Raw, on every login's path: the query builder costs more than the statement.
    const sql = 'SELECT 1 AS found FROM second_factors WHERE user_id = ? AND confirmed_at IS NOT NULL LIMIT 1';
    return rowsOf(await this.db.raw(sql, [userId])).length > 0;
  }

  async countFactorsByUser(userIds: readonly string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    const rows: Array<{ user_id: string; count: unknown }> = await this.db('second_factors')
      .whereIn('user_id', userIds)
      .whereNotNull('confirmed_at')
      .groupBy('user_id')
      .select('user_id')
      .count({ count: '*' });
    return new Map(rows.map((row) => [row.user_id, Number(row.count)]));
  }

  async findFactor(userId: string, id: string): Promise<SecondFactorRecord | undefined> {
    const row: FactorRow | undefined = await this.db('second_factors')
      .where({ id, user_id: userId })
      .first(FACTOR_COLUMNS);
    return row && toFactor(row);
  }

  deleteFactor(userId: string, id: string): Promise<SecondFactorRecord | undefined> {
    return deleteFactorOf(this.db, userId, id);
  }

  async findTotpFactors(userId: string, confirmed: boolean): Promise<TotpFactor[]> {
    const query = this.db('second_factors').where({ user_id: userId, kind: 'TOTP' });
    const rows: FactorRow[] = await (confirmed ? query.whereNotNull('confirmed_at') : query.whereNull('confirmed_at'))
      .select(TOTP_COLUMNS)
      .orderBy(OLDEST_FIRST);
    return rows.map(toTotpFactor);
  }

  async findAnyTotpFactor(): Promise<TotpFactor | undefined> {
    const row: FactorRow | undefined = await this.db('second_factors')
      .where('kind', 'TOTP')
      .whereNotNull('confirmed_at')
      .first(TOTP_COLUMNS);
    return row && toTotpFactor(row);
  }

  async replaceTotpEnrollment(factor: TotpFactor): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('second_factors').where({ user_id: factor.userId, kind: 'TOTP' }).whereNull('confirmed_at').delete();
      await trx('second_factors').insert({
        ...{ id: factor.id, user_id: factor.userId, kind: 'TOTP', name: factor.name },
        ...{ created_at: factor.createdAt.getTime(), confirmed_at: null, last_used_at: null },
        ...{ totp_secret_encrypted: factor.sealedSecret, totp_last_step: null },
      });
    });
  }

  async confirmTotp(confirmation: TotpConfirmation): Promise<{ recoveryCodesStored: boolean } | undefined> {
    const { userId, id, name, step, at } = confirmation;
    return this.db.transaction(async (trx) => {
      const confirmed = await trx('second_factors')
        .where({ id, user_id: userId, kind: 'TOTP' })
        .whereNull('confirmed_at')
        .update({ name, confirmed_at: at.getTime(), last_used_at: at.getTime(), totp_last_step: step });
      if (confirmed === 0) return undefined;
      const recoveryCodesStored = await storeFirstRecoveryCodes(trx, userId, confirmation.recoveryCodeHashes, at);
      await this.insertEvents(trx, confirmation.events);
      return { recoveryCodesStored };
    });
  }

  async replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    at: Date,
    events: readonly AuthEventRecord[],
  ): Promise<void> {
    await this.db.transaction(async (trx) => {
      await storeRecoveryCodes(trx, userId, codeHashes, at);
      await this.insertEvents(trx, events);
    });
  }

  /** Audit events that commit with the change they record (and, by their trigger, its webhooks). */
  private insertEvents(trx: Knex.Transaction, events: readonly AuthEventRecord[]): Promise<void> {
    return new KnexAuthEventStore(trx, this.kind).insertAuthEvents(events);
  }
}

/** The user's recovery codes, used or not, become `codeHashes`. */
async function storeRecoveryCodes(trx: Knex.Transaction, userId: string, codeHashes: readonly string[], at: Date) {
  await trx('recovery_codes').where('user_id', userId).delete();
  if (codeHashes.length === 0) return;
  const rows = codeHashes.map((hash) => ({
    code_hash: hash,
    user_id: userId,
    created_at: at.getTime(),
    used_at: null,
  }));
  await trx('recovery_codes').insert(rows);
}

/**
 * A first factor's recovery codes (an app's or a passkey's), stored unless the user still has
 * unused ones, which they keep; true when these were stored.
 */
export async function storeFirstRecoveryCodes(
  trx: Knex.Transaction,
  userId: string,
  codeHashes: readonly string[],
  at: Date,
): Promise<boolean> {
  const unused = await trx('recovery_codes').where('user_id', userId).whereNull('used_at').first('code_hash');
  if (unused) return false;
  await storeRecoveryCodes(trx, userId, codeHashes, at);
  return true;
}
