/**
 * The one place where failures become words. Gatehouse puts a stable code in
 * `extensions.code` (DESIGN.md); the console shows the words for it, never a raw message,
 * except for BAD_USER_INPUT, whose message names the field and the rule.
 */
import type { CombinedError } from '@urql/core';

type Extensions = { code?: string; retryAfterSeconds?: number; limit?: number; reason?: string };

/** Words for each code a response can carry; a function when the words need the details. */
const WORDS: Record<string, string | ((extensions: Extensions, message: string) => string)> = {
  INVALID_CREDENTIALS: 'Wrong username or password.',
  RATE_LIMITED: ({ retryAfterSeconds }) =>
    retryAfterSeconds === undefined
      ? 'Too many failed sign-ins. Wait a little, then try again.'
      : `Too many failed sign-ins. Try again in ${waitInWords(retryAfterSeconds)}.`,
  SESSION_LIMIT: ({ limit }) =>
    `You already have ${limit ?? 'the most'} active session${limit === 1 ? '' : 's'}, the most allowed. ` +
    'Sign out on another device first.',
  UNAUTHENTICATED: 'You are signed out. Sign in again.',
  FORBIDDEN: ({ reason }) =>
    reason === 'LAST_ADMIN'
      ? 'This is the last administrator who can sign in: it cannot be disabled or deleted.'
      : 'Only an administrator may do that.',
  NOT_FOUND: 'It no longer exists (it may have ended already).',
  BAD_USER_INPUT: (_extensions, message) => message,
  UNAVAILABLE: 'Gatehouse cannot reach its database right now. Try again in a few seconds.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator.',
  REAUTHENTICATION_REQUIRED: 'Confirm your password to do this.',
};

function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** The code of the first GraphQL error, if any. */
export function errorCode(error: CombinedError | undefined): string | undefined {
  return (error?.graphQLErrors[0]?.extensions as Extensions | undefined)?.code;
}

/**
 * What to tell a person about a failed operation; `instead` replaces the words of some codes
 * where the usual ones would mislead (a password prompt has no username to get wrong).
 */
export function describeError(error: CombinedError, instead: Partial<typeof WORDS> = {}): string {
  if (error.networkError) return 'Gatehouse cannot be reached. Check the connection and try again.';
  const first = error.graphQLErrors[0];
  const extensions = (first?.extensions ?? {}) as Extensions;
  const words = extensions.code === undefined ? undefined : (instead[extensions.code] ?? WORDS[extensions.code]);
  if (typeof words === 'function') return words(extensions, first?.message ?? '');
  return words ?? 'Something went wrong on the server. Try again.';
}

/** A failure in words, announced as it appears; nothing when there is none. */
export function ErrorAlert({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p role="alert" class="error">
      {message}
    </p>
  );
}
