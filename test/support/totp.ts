/**
 * TOTP codes as an authenticator app computes them (RFC 6238, through `otpauth`), for tests that
 * sign in with a second factor. test/totp-rfc6238.test.ts checks this against the RFC's vectors.
 */
import { Secret, TOTP } from 'otpauth';

/** The code for `secret` (a Secret, or base32 as enrollment shows it) at `at`: SHA-1, 30-second steps. */
export function totpCode(secret: Secret | string, at: Date, digits = 6): string {
  const key = typeof secret === 'string' ? Secret.fromBase32(secret) : secret;
  return TOTP.generate({ secret: key, algorithm: 'SHA1', digits, period: 30, timestamp: at.getTime() });
}
