/**
 * Passkeys as the rules see them: the record of one, what storage must do with them, and the
 * site (relying party) a ceremony belongs to. A passkey is a `second_factors` row of kind
 * `PASSKEY`, confirmed when it is created (a verified registration is its own confirmation).
 */
import type { AuthenticatorTransport } from '@simplewebauthn/server';

/** One registered passkey: a WebAuthn credential and who it signs in. */
export interface PasskeyRecord {
  id: string;
  userId: string;
  /** The user's label for it ("Work laptop"); shown, never trusted. */
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** The credential id, base64url: unique across all users. */
  credentialId: string;
  /** The COSE public key as the authenticator gave it at registration. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The signature counter last seen; 0 for authenticators that keep none (synced passkeys). */
  signCount: number;
  /** How the browser may reach the authenticator (`internal`, `hybrid`, `usb`…): a hint, never trusted. */
  transports: AuthenticatorTransport[];
}

export interface PasskeyStore {
  /** The user's passkeys, oldest first. */
  listPasskeys(userId: string): Promise<PasskeyRecord[]>;
  findPasskeyByCredentialId(credentialId: string): Promise<PasskeyRecord | undefined>;
  /** False, storing nothing, when a passkey with this credential id exists already (anyone's). */
  insertPasskey(passkey: PasskeyRecord): Promise<boolean>;
  /**
   * Records a verified use in one atomic statement: the counter and `lastUsedAt`, but only while
   * the stored counter is below `signCount`, or both are 0. False when it was not (another use
   * with a counter at least as high got there first), and then nothing is written.
   */
  recordPasskeyUse(id: string, signCount: number, at: Date): Promise<boolean>;
}

/**
 * The relying party a ceremony is for, as the request that carries it sees it (built in
 * `http/webauthn-site.ts` from the settings and the request's host).
 */
export interface WebauthnSite {
  /** The RP ID: the domain passkeys are bound to. */
  rpId: string;
  /** Whether a ceremony may come from this origin (as the browser wrote it in clientDataJSON). */
  allowsOrigin(origin: string): boolean;
}

/** Shown where the user gave no name. */
export const DEFAULT_PASSKEY_NAME = 'Passkey';
/** The `second_factors.name` column's size. */
export const PASSKEY_NAME_MAX_LENGTH = 64;
/**
 * Registrations a user may hold: each is listed in every registration's `excludeCredentials`
 * and every second step's `allowCredentials`, so the lists stay small.
 */
export const MAX_PASSKEYS_PER_USER = 20;
/** ES256 and RS256 (COSE algorithm ids), what nearly every authenticator offers; nothing else is accepted. */
export const PASSKEY_ALGORITHMS = [-7, -257];
/** The transports the library's types name; others are dropped rather than stored. */
export const KNOWN_TRANSPORTS: ReadonlySet<string> = new Set<AuthenticatorTransport>([
  'ble',
  'hybrid',
  'internal',
  'nfc',
  'usb',
]);
