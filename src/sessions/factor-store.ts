/**
 * What the second-factor rules need from storage (`second_factors`, `recovery_codes`): the
 * factors as the API shows them, authenticator apps and passkeys with their secrets and keys,
 * and what the locked user's transaction may do to them. `src/storage/` implements them.
 */
import type { AuthenticatorTransport } from '@simplewebauthn/server';
import type { SecondFactorKind } from './assurance.js';
import type { AuthEventRecord } from './auth-events.js';

/** Second factors of the locked user (`UserSessionsTx.factors`). */
export interface LockedFactors {
  /** Confirmed factors. */
  count(): Promise<number>;
  /** Deletes one factor of the user, confirmed or not; returns it, or undefined when it has none of that id. */
  delete(id: string): Promise<SecondFactorRecord | undefined>;
  deleteRecoveryCodes(): Promise<void>;
  /** Deletes every factor, recovery code and pending login of the user; returns how many confirmed factors went. */
  deleteAll(): Promise<number>;
  /**
   * Records `step` as the authenticator app's last accepted time step, if it is later than the
   * last one: true when this call did (a code is accepted once, also by concurrent requests).
   */
  acceptTotpStep(id: string, step: number, at: Date): Promise<boolean>;
  /** Marks the user's unused recovery code used; returns how many unused are left, or undefined when it was not one. */
  useRecoveryCode(codeHash: string, at: Date): Promise<number | undefined>;
  /**
   * Records a verified use of the user's passkey in one atomic statement: the counter and
   * `lastUsedAt`, but only while the stored counter is below `signCount`, or both are 0. False
   * when it was not (another use with a counter at least as high got there first), and then
   * nothing is written.
   */
  recordPasskeyUse(id: string, signCount: number, at: Date): Promise<boolean>;
}

/** A second factor as the API shows it: never a secret or a key. */
export interface SecondFactorRecord {
  id: string;
  userId: string;
  kind: SecondFactorKind;
  name: string;
  createdAt: Date;
  /** Null while an authenticator app's enrollment waits for its first code: not a factor yet. */
  confirmedAt: Date | null;
  lastUsedAt: Date | null;
}

/** An authenticator app with its secret, sealed (secrets-box.ts), and the last time step it accepted. */
export interface TotpFactor extends SecondFactorRecord {
  sealedSecret: string;
  lastStep: number | null;
}

/**
 * A passkey: a WebAuthn credential and who it signs in, confirmed when it is registered (a
 * verified registration is its own confirmation).
 */
export interface PasskeyFactor extends SecondFactorRecord {
  kind: 'PASSKEY';
  /** The credential id, base64url: unique across all users. */
  credentialId: string;
  /** The COSE public key as the authenticator gave it at registration. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The signature counter last seen; 0 for authenticators that keep none (synced passkeys). */
  signCount: number;
  /** How the browser may reach the authenticator (`internal`, `hybrid`, `usb`…): a hint, never trusted. */
  transports: AuthenticatorTransport[];
}

/** What registering a passkey writes, in one transaction. */
export interface NewPasskey {
  passkey: PasskeyFactor;
  /** SHA-256 (hex) of new recovery codes, stored only if the user has no unused ones. */
  recoveryCodeHashes: readonly string[];
  events: readonly AuthEventRecord[];
}

/** Passkeys: the `second_factors` rows of kind PASSKEY, with their keys. */
export interface PasskeyStore {
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyFactor[]>;
  findPasskeyByCredentialId(credentialId: string): Promise<PasskeyFactor | undefined>;
  /**
   * Stores the passkey, its events and (if the user has no unused ones) the recovery codes.
   * Undefined, storing nothing, when a passkey with its credential id exists already (anyone's);
   * else whether the recovery codes were stored.
   */
  insertPasskey(registration: NewPasskey): Promise<{ recoveryCodesStored: boolean } | undefined>;
}

/** What confirming an enrollment writes with it, in its transaction. */
export interface TotpConfirmation {
  userId: string;
  id: string;
  name: string;
  /** The time step of the code that confirmed it: it is not accepted again. */
  step: number;
  at: Date;
  /** SHA-256 (hex) of new recovery codes, stored only if the user has no unused ones. */
  recoveryCodeHashes: readonly string[];
  events: readonly AuthEventRecord[];
}

/** Second factors and recovery codes (`second_factors`, `recovery_codes`). */
export interface SecondFactorStore {
  /** The confirmed factors of each user, oldest first; users without one are absent. */
  listFactors(userIds: readonly string[]): Promise<Map<string, SecondFactorRecord[]>>;
  /** One indexed lookup: on every login's path. */
  hasConfirmedFactor(userId: string): Promise<boolean>;
  /** Confirmed factors per user; users without one are absent. */
  countFactorsByUser(userIds: readonly string[]): Promise<Map<string, number>>;
  /** A factor of the user, confirmed or not. */
  findFactor(userId: string, id: string): Promise<SecondFactorRecord | undefined>;
  /** Deletes one factor of the user (confirmed or not); returns it, or undefined when there was none. */
  deleteFactor(userId: string, id: string): Promise<SecondFactorRecord | undefined>;

  /** The user's authenticator apps: the confirmed ones, or the enrollment waiting for its code. */
  findTotpFactors(userId: string, confirmed: boolean): Promise<TotpFactor[]>;
  /** Any confirmed authenticator app of anyone: the start checks that the key opens its secret. */
  findAnyTotpFactor(): Promise<TotpFactor | undefined>;
  /** Inserts an enrollment, replacing the user's earlier unconfirmed one (one transaction). */
  replaceTotpEnrollment(factor: TotpFactor): Promise<void>;
  /**
   * Confirms the enrollment if it still waits, with its recovery codes and events, in one
   * transaction. Returns undefined when it was not waiting (confirmed or replaced meanwhile),
   * else whether the recovery codes were stored.
   */
  confirmTotp(confirmation: TotpConfirmation): Promise<{ recoveryCodesStored: boolean } | undefined>;

  /** The user's recovery codes become these, with `events`, in one transaction. */
  replaceRecoveryCodes(
    userId: string,
    codeHashes: readonly string[],
    at: Date,
    events: readonly AuthEventRecord[],
  ): Promise<void>;
}
