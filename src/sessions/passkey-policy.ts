/**
 * What passkeys Gatehouse accepts, and the site (relying party) a ceremony belongs to. A passkey
 * is a second factor (`PasskeyFactor` in store.ts) of kind `PASSKEY`.
 */
import type { AuthenticatorTransport } from '@simplewebauthn/server';

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

/** What a passkey is called when its user gives no name. */
export const DEFAULT_PASSKEY_NAME = 'Passkey';
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
