import { badUserInput } from './errors.js';
import { mixesScripts } from './username-scripts.js';
import { usernameSkeleton } from './username-skeleton.js';

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 64;
export const PASSWORD_MIN_LENGTH = 8;
/** Long enough for any passphrase or manager-generated secret; short enough to bound hashing work. */
export const PASSWORD_MAX_LENGTH = 256;

// Letters and digits of any script, plus . _ - @; starting with a letter or digit.
const USERNAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._@-]*$/u;

export interface NormalizedUsername {
  /** As shown: NFC, trimmed. */
  display: string;
  /** As compared: NFKC and lower case, so `Alice`, `ALICE` and `Ａｌｉｃｅ` are one user. */
  key: string;
  /** What it looks like (see username-skeleton.ts): no two accounts share one. */
  skeleton: string;
}

export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase();
}

/**
 * Validates a username for a new account; throws BAD_USER_INPUT naming the rule it broke. Letters
 * and digits of one script (see username-scripts.ts), marks on them, and `.` `_` `-` `@`, as
 * typed and once NFKC-normalised (`½` becomes `1⁄2`); nothing invisible.
 */
export function normalizeNewUsername(raw: string): NormalizedUsername {
  const display = raw.trim().normalize('NFC');
  const length = [...display].length;
  if (length < USERNAME_MIN_LENGTH || length > USERNAME_MAX_LENGTH) {
    throw badUserInput(`Username must be ${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} characters long`, 'username');
  }
  const key = usernameKey(display);
  if (!USERNAME_PATTERN.test(display) || !USERNAME_PATTERN.test(key)) {
    throw badUserInput(
      'Username may contain letters, digits and . _ - @, and must start with a letter or digit',
      'username',
    );
  }
  // NFKC can expand a character many times over (U+FDFA becomes 18): the key has the same bound.
  if ([...key].length > USERNAME_MAX_LENGTH) {
    throw badUserInput(`Username must be at most ${USERNAME_MAX_LENGTH} characters long once normalised`, 'username');
  }
  // Letters and marks that show nothing (U+3164 HANGUL FILLER, U+034F COMBINING GRAPHEME JOINER).
  if (/\p{Default_Ignorable_Code_Point}/u.test(display)) {
    throw badUserInput('Username may not contain invisible characters', 'username');
  }
  if (mixesScripts(display)) {
    throw badUserInput('Username must not mix scripts (such as Latin with Cyrillic or Greek letters)', 'username');
  }
  return { display, key, skeleton: usernameSkeleton(display) };
}

/** Validates a new password; throws BAD_USER_INPUT naming the rule it broke. */
export function validateNewPassword(password: string, field = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw badUserInput(`Password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`, field);
  }
  if (password.trim() === '') throw badUserInput('Password must not be only spaces', field);
}

/**
 * Login input that no account could match is refused as BAD_USER_INPUT without hashing: it says
 * nothing about whether the account exists, and an 8 KB "password" costs us nothing.
 */
export function checkLoginInputSize(username: string, password: string): void {
  if (username.length > USERNAME_MAX_LENGTH * 4) throw badUserInput('Username is too long', 'username');
  if (password.length > PASSWORD_MAX_LENGTH * 4) throw badUserInput('Password is too long', 'password');
}

/**
 * The comparison key of a username typed at login, or BAD_USER_INPUT when no account could have
 * it: too long once normalised, or with control characters (PostgreSQL text cannot hold NUL).
 */
export function loginUsernameKey(username: string): string {
  const key = usernameKey(username.trim());
  if ([...key].length > USERNAME_MAX_LENGTH) throw badUserInput('Username is too long', 'username');
  if (/\p{Cc}/u.test(key)) throw badUserInput('Username may not contain control characters', 'username');
  return key;
}
