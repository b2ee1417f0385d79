import { badUserInput } from './errors.js';

/**
 * Names people give things (a service token, a second factor): one line of text, as people read
 * it. Safety rules, so that two names that look alike are one name:
 * - Normalised to NFC: "é" typed as one character or as "e" and an accent is one name.
 * - No control characters (Cc), no format characters (Cf: zero-width spaces and joiners,
 *   direction marks), which are invisible: "billing\u200B" would sit beside "billing". And no lone
 *   surrogate (Cs), which is no text at all and which no database stores as it came.
 * - Length in characters as people count them (code points), as PostgreSQL's varchar does.
 */

/** Control, format and lone surrogate code points (in a `u` regex, a pair is one code point, never Cs). */
const INVISIBLE_OR_BROKEN = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/** `raw` trimmed and in NFC; empty when it was blank. BAD_USER_INPUT on `field` past `maxLength` or for a character above. */
export function displayName(raw: string, maxLength: number, field = 'name'): string {
  const name = raw.normalize('NFC').trim();
  if (INVISIBLE_OR_BROKEN.test(name)) {
    throw badUserInput(`${field} must not contain control, invisible or ill-formed characters`, field);
  }
  if ([...name].length > maxLength) throw badUserInput(`${field} must be at most ${maxLength} characters`, field);
  return name;
}
