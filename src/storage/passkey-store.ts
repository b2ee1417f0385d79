import type { Knex } from 'knex';
import type { AuthenticatorTransport } from '@simplewebauthn/server';
import type { PasskeyRecord, PasskeyStore } from '../sessions/passkey-records.js';
import { isUniqueViolation } from './sql.js';

/** The `second_factors` columns a passkey uses (never the TOTP ones). */
const PASSKEY_COLUMNS = [
  'id',
  'user_id',
  'name',
  'created_at',
  'last_used_at',
  'credential_id',
  'public_key',
  'sign_count',
  'transports',
] as const;

interface PasskeyRow {
  id: string;
  user_id: string;
  name: string;
  created_at: number | string;
  last_used_at: number | string | null;
  credential_id: string;
  /** The COSE key, base64url. */
  public_key: string;
  sign_count: number | string;
  /** Comma-separated. */
  transports: string | null;
}

function toPasskey(row: PasskeyRow): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    createdAt: new Date(Number(row.created_at)),
    lastUsedAt: row.last_used_at === null ? null : new Date(Number(row.last_used_at)),
    credentialId: row.credential_id,
    publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
    signCount: Number(row.sign_count),
    transports: row.transports ? (row.transports.split(',') as AuthenticatorTransport[]) : [],
  };
}

/** Passkeys: the `second_factors` rows of kind PASSKEY. */
export class KnexPasskeyStore implements PasskeyStore {
  constructor(private readonly db: Knex) {}

  private passkeys() {
    return this.db('second_factors').select(PASSKEY_COLUMNS).where('kind', 'PASSKEY');
  }

  async listPasskeys(userId: string): Promise<PasskeyRecord[]> {
    const rows: PasskeyRow[] = await this.passkeys().where('user_id', userId).orderBy(['created_at', 'id']);
    return rows.map(toPasskey);
  }

  async findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined> {
    const row = (await this.passkeys().where('credential_id', credentialId).first()) as PasskeyRow | undefined;
    return row && toPasskey(row);
  }

  async insertPasskey(passkey: PasskeyRecord): Promise<boolean> {
    const createdAt = passkey.createdAt.getTime();
    try {
      await this.db('second_factors').insert({
        ...{ id: passkey.id, user_id: passkey.userId, kind: 'PASSKEY', name: passkey.name },
        // A verified registration is its own confirmation.
        ...{ created_at: createdAt, confirmed_at: createdAt, last_used_at: passkey.lastUsedAt?.getTime() ?? null },
        ...{ credential_id: passkey.credentialId, public_key: Buffer.from(passkey.publicKey).toString('base64url') },
        ...{ sign_count: passkey.signCount, transports: passkey.transports.join(',') || null },
      });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async recordPasskeyUse(id: string, signCount: number, at: Date): Promise<boolean> {
    // The counter's rule in the statement itself, so that of two uses racing with one counter
    // value, one writes and the other is refused.
    const updated = await this.db('second_factors')
      .where({ id, kind: 'PASSKEY' })
      .where((rule) =>
        rule
          .where('sign_count', '<', signCount)
          .orWhere((none) => none.where('sign_count', 0).whereRaw('? = 0', [signCount])),
      )
      .update({ sign_count: signCount, last_used_at: at.getTime() });
    return updated === 1;
  }
}
