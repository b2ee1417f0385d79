import { validateNewPassword, PASSWORD_MIN_LENGTH } from './credentials.js';
import { GatehouseError } from './errors.js';

/** The service's own name: a context-specific word (ASVS 6.2.11) no password may be made of. */
export const SERVICE_NAME = 'gatehouse';

/** Why a new password was refused, in `extensions.reason` beside the message. */
export type PasswordRefusal = 'MADE_OF_USERNAME' | 'MADE_OF_SERVICE_NAME' | 'COMMON_PASSWORD';

const MESSAGES: Record<PasswordRefusal, string> = {
  MADE_OF_USERNAME: 'Password must not be made of the username',
  MADE_OF_SERVICE_NAME: `Password must not be made of the service's name (${SERVICE_NAME})`,
  COMMON_PASSWORD: 'Password is one of the most commonly used passwords: choose another',
};

/**
 * Checks a password being set for `username` (ASVS 5.0 6.2): its length, then that it is not
 * made of the username or of the service's name, nor one of the most common passwords.
 * Throws BAD_USER_INPUT saying which rule it broke, never which list entry it matched; the
 * password is neither logged nor kept. Passwords set before these rules are not affected.
 */
export async function checkNewPassword(password: string, username: string, field = 'password'): Promise<void> {
  validateNewPassword(password, field);
  const refusal = await passwordRefusal(password, username);
  if (refusal) throw new GatehouseError('BAD_USER_INPUT', MESSAGES[refusal], { field, reason: refusal });
}

/** The rule `password` breaks, if any (the length rules apart: see validateNewPassword). */
export async function passwordRefusal(password: string, username: string): Promise<PasswordRefusal | undefined> {
  if (isMadeOf(password, username)) return 'MADE_OF_USERNAME';
  if (isMadeOf(password, SERVICE_NAME)) return 'MADE_OF_SERVICE_NAME';
  if ((await commonPasswords()).has(folded(password))) return 'COMMON_PASSWORD';
  return undefined;
}

/**
 * Whether `password` is made of `word`, both NFKC-normalised and lower-cased: the word or its
 * reverse, once or several times in a row, with only digits, punctuation, symbols or spaces
 * added anywhere. Made of `dana`: `DANA2024`, `anad!!!!`, `dana.dana`, `2024-Dana-2024`. Not
 * made of it: `dana-password` (letters added), `d4n4d4n4` (letters replaced). A word without
 * letters (`2024`) keeps its digits: `2024!2024` is made of it, `2024abcd` is not.
 */
export function isMadeOf(password: string, word: string): boolean {
  const foldedWord = folded(word);
  const significant = /\p{L}/u.test(foldedWord) ? LETTERS : LETTERS_AND_DIGITS;
  const unit = foldedWord.replace(significant, '');
  const rest = folded(password).replace(significant, '');
  if (unit === '' || rest === '' || rest.length % unit.length !== 0) return false;
  const reversed = [...unit].reverse().join('');
  for (let at = 0; at < rest.length; at += unit.length) {
    const piece = rest.slice(at, at + unit.length);
    if (piece !== unit && piece !== reversed) return false;
  }
  return true;
}

/** Everything but letters (and the marks on them). */
const LETTERS = /[^\p{L}\p{M}]/gu;
/** Everything but letters, marks and digits. */
const LETTERS_AND_DIGITS = /[^\p{L}\p{M}\p{N}]/gu;

const folded = (text: string) => text.normalize('NFKC').toLowerCase();

let common: Promise<ReadonlySet<string>> | undefined;

/**
 * The most common passwords, lower case: zxcvbn-ts's list (49,233 entries from leaked-password
 * frequency counts, MIT), read on first use, once per process. Entries shorter than
 * PASSWORD_MIN_LENGTH are left out: the length rule refuses them first. 17,950 entries remain.
 * Measured on a 2-core machine: the first use takes ~0.25 s (up to 1.5 s when the machine is
 * busy) and keeps ~3 MB of heap (~16 MB of RSS with the package's code); a lookup, microseconds.
 */
export function commonPasswords(): Promise<ReadonlySet<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => {
    const entries = dictionary['passwords-common'].filter((entry) => [...entry].length >= PASSWORD_MIN_LENGTH);
    return new Set(entries.map(folded));
  });
  return common;
}
