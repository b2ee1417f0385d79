import type { Knex } from 'knex';
import type { AuthenticatorTransport } from '@simplewebauthn/server';
import type { NewPasskey, PasskeyFactor, PasskeyStore } from '../sessions/factor-store.js';
import { KnexAuthEventStore } from './auth-event-store.js';
import type { DatabaseKind } from './database-kind.js';
import { FACTOR_COLUMNS, storeFirstRecoveryCodes, toFactor, type FactorRow } from './second-factor-store.js';
import { isUniqueViolation } from './sql.js';

/** The `second_factors` columns a passkey uses (never the TOTP ones). */
const PASSKEY_COLUMNS = [...FACTOR_COLUMNS, 'credential_id', 'public_key', 'sign_count', 'transports'];

function toPasskey(row: FactorRow): PasskeyFactor {
  const transports = row.transports as string | null;
  return {
    ...toFactor(row),
    kind: 'PASSKEY',
    credentialId: row.credential_id as string,
    // The COSE key, base64url.
    publicKey: new Uint8Array(Buffer.from(row.public_key as string, 'base64url')),
    signCount: Number(row.sign_count),
    // Comma-separated.
    transports: transports ? (transports.split(',') as AuthenticatorTransport[]) : [],
  };
}

function passkeyRow(passkey: PasskeyFactor) {
  return {
    ...{ id: passkey.id, user_id: passkey.userId, kind: 'PASSKEY', name: passkey.name },
    ...{ created_at: passkey.createdAt.getTime(), confirmed_at: passkey.confirmedAt?.getTime() ?? null },
    ...{ last_used_at: passkey.lastUsedAt?.getTime() ?? null, credential_id: passkey.credentialId },
    ...{ public_key: Buffer.from(passkey.publicKey).toString('base64url'), sign_count: passkey.signCount },
    transports: passkey.transports.join(',') || null,
  };
}

/** Passkeys: the `second_factors` rows of kind PASSKEY. */
export class KnexPasskeyStore implements PasskeyStore {
  constructor(
    private readonly db: Knex,
    private readonly kind: DatabaseKind,
  ) {}

  private passkeys() {
    return this.db('second_factors').select(PASSKEY_COLUMNS).where('kind', 'PASSKEY');
  }

  async listPasskeys(userId: string): Promise<PasskeyFactor[]> {
    const rows: FactorRow[] = await this.passkeys().where('user_id', userId).orderBy(['created_at', 'id']);
    return rows.map(toPasskey);
  }

  async findPasskeyByCredentialId(credentialId: string): Promise<PasskeyFactor | undefined> {
    const row = (await this.passkeys().where('credential_id', credentialId).first()) as FactorRow | undefined;
    return row && toPasskey(row);
  }

  async insertPasskey({
    passkey,
    recoveryCodeHashes,
    events,
  }: NewPasskey): Promise<{ recoveryCodesStored: boolean } | undefined> {
    try {
      // One transaction: the factor, its recovery codes and its audit event (whose trigger makes
      // the webhook delivery) commit together or not at all.
      return await this.db.transaction(async (trx) => {
        await trx('second_factors').insert(passkeyRow(passkey));
        const recoveryCodesStored = await storeFirstRecoveryCodes(
          trx,
          passkey.userId,
          recoveryCodeHashes,
          passkey.createdAt,
        );
        await new KnexAuthEventStore(trx, this.kind).insertAuthEvents(events);
        return { recoveryCodesStored };
      });
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }
}
