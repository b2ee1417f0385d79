/**
 * Recovery codes: the way back in when the authenticator app is lost. Ten per user, shown once,
 * each good for one second step (or step-up).
 *
 * Rules: 120 random bits each (ASVS 6.5.2 asks for at least 112), written as 24 base32
 * characters in six groups of four, which are easy to copy by hand. So much entropy needs no slow
 * hash: the database keeps SHA-256 of each, which a dump cannot turn back into a code. What users
 * type is read leniently: any case, with or without spaces and hyphens.
 */
import { createHash, randomBytes } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 15;
/** RFC 4648 base32: 15 bytes are exactly 24 characters. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CODE_PATTERN = /^[A-Z2-7]{24}$/;
const GROUP = 4;

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return text;
}

/** New codes, as shown to the user once (`ABCD-EFGH-…`). */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const text = base32(randomBytes(CODE_BYTES));
    return text.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
  });
}

/** A typed code in its one stored spelling, or undefined when it cannot be a recovery code. */
export function normalizeRecoveryCode(typed: string): string | undefined {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return CODE_PATTERN.test(code) ? code : undefined;
}

/** What the database keeps of a (normalised) code: SHA-256, hex. */
export function hashRecoveryCode(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}

/** What the database keeps of new codes (from {@link newRecoveryCodes}). */
export function hashRecoveryCodes(codes: readonly string[]): string[] {
  return codes.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!));
}
