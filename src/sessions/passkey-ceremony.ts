/**
 * The checks both ceremonies make on a parsed response before the library verifies it, so that
 * each refusal says why (the library's own messages echo the challenge, and are never passed on
 * or logged), and the call into the library that maps whatever it throws to a refusal.
 *
 * The origin is checked here against the site's matcher (exact origins, and the strict wildcards
 * of ALLOWED_ORIGINS); the library is then given that one origin, so its own comparison is exact.
 */
import { hash } from 'node:crypto';
import { GatehouseError, invalidSecondFactor } from './errors.js';
import type { WebauthnSite } from './passkey-policy.js';
import type { AuthenticatorFacts, ClientData } from './webauthn-responses.js';

export type CeremonyType = 'webauthn.create' | 'webauthn.get';

/** Why a response that passed every check here was refused: the library's verification failed. */
export const NOT_VERIFIED = 'The passkey response did not verify';

/** Longest origin quoted back in a refusal: it is the sender's text. */
const QUOTED_ORIGIN_LENGTH = 100;

export function checkCeremony(
  parsed: { clientData: ClientData; authenticator: AuthenticatorFacts },
  site: WebauthnSite,
  type: CeremonyType,
): void {
  const { clientData, authenticator } = parsed;
  if (clientData.type !== type) throw invalidSecondFactor(`Expected a ${type} response`);
  if (!site.allowsOrigin(clientData.origin)) {
    const origin = JSON.stringify(clientData.origin.slice(0, QUOTED_ORIGIN_LENGTH));
    throw invalidSecondFactor(`The ceremony ran on ${origin}, which is not an origin allowed for passkeys here`);
  }
  if (!Buffer.from(authenticator.rpIdHash).equals(hash('sha256', site.rpId, 'buffer'))) {
    throw invalidSecondFactor(`The passkey answered for another relying party than ${site.rpId}`);
  }
  if (!authenticator.userVerified) {
    throw invalidSecondFactor('The authenticator did not verify the user (PIN or biometrics): required here');
  }
}

/**
 * Runs one of the library's verifications; a throw or a `verified: false` is a refusal. A
 * GatehouseError thrown inside passes through as it is.
 */
export async function verifiedBy<T extends { verified: boolean }>(
  verify: () => Promise<T>,
): Promise<T & { verified: true }> {
  let result: T;
  try {
    result = await verify();
  } catch (error) {
    if (error instanceof GatehouseError) throw error;
    throw invalidSecondFactor(NOT_VERIFIED);
  }
  if (!result.verified) throw invalidSecondFactor(NOT_VERIFIED);
  return result as T & { verified: true };
}
