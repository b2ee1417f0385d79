/**
 * Secrets at rest (authenticator apps' TOTP secrets): sealed with AES-256-GCM under SECRETS_KEY.
 *
 * Rules:
 * - A sealed value is `v1.<iv>.<ciphertext>.<tag>` (base64url): the version names the algorithm
 *   and key use, so another can be added later without guessing at old rows.
 * - The IV is 12 random bytes per seal. NIST SP 800-38D allows 2^32 seals with random IVs under
 *   one key; a deployment seals one per enrollment.
 * - The row's id is bound as additional data: a sealed secret copied onto another factor's row
 *   does not open there.
 * - Opening with the wrong key, or anything tampered with, fails (the GCM tag): never garbage.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES-256 takes a key of exactly this many bytes. */
export const SECRETS_KEY_BYTES = 32;

/** Where the key comes from: a setting, a file, or none (see `storage/secrets-key.ts`). */
export interface SecretsKeySource {
  /**
   * The key, or undefined when there is none. With `create`, a source that may make one (a new
   * key file on a development machine) does: at first need, not at start.
   */
  key(options: { create: boolean }): Buffer | undefined;
}

/** Why a secret could not be sealed or opened. */
export class SecretsBoxError extends Error {
  constructor(
    readonly reason: 'NO_KEY' | 'UNREADABLE',
    message: string,
  ) {
    super(message);
    this.name = 'SecretsBoxError';
  }
}

export class SecretsBox {
  constructor(private readonly source: SecretsKeySource) {}

  /** Whether a secret can be sealed now (making a key if the source may). */
  canSeal(): boolean {
    return this.source.key({ create: true }) !== undefined;
  }

  seal(plaintext: string, rowId: string): string {
    const key = this.requireKey(true);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(rowId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
  }

  /** The secret sealed for `rowId`; throws SecretsBoxError when it cannot be opened. */
  open(sealed: string, rowId: string): string {
    const key = this.requireKey(false);
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) {
      throw new SecretsBoxError('UNREADABLE', 'A sealed secret has an unknown format');
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(rowId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsBoxError('UNREADABLE', 'A sealed secret does not open with this SECRETS_KEY');
    }
  }

  private requireKey(create: boolean): Buffer {
    const key = this.source.key({ create });
    if (!key) throw new SecretsBoxError('NO_KEY', 'SECRETS_KEY is not set');
    return key;
  }
}
