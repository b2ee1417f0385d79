/**
 * The one place where failures become words. Gatehouse puts a stable code in
 * `extensions.code` (DESIGN.md); the console shows the words for it, never a raw message,
 * except for BAD_USER_INPUT, whose message names the field and the rule.
 */
import type { GatehouseError } from '../../src/client/index.js';
import { cookieRefusalInWords } from './words.js';

type Extensions = {
  code?: string;
  retryAfterSeconds?: number;
  limit?: number;
  reason?: string;
  /** On REAUTHENTICATION_REQUIRED: the user has a second factor, so the proof needs it too. */
  secondFactor?: boolean;
  /** On SECOND_FACTOR_REQUIRED from a pending login: the step it waits for. */
  nextStep?: string;
};

/** RATE_LIMITED in words, naming what was tried too often ("failed sign-ins", "wrong codes"). */
export function tooMany(what: string) {
  return ({ retryAfterSeconds }: Extensions) =>
    retryAfterSeconds === undefined
      ? `Too many ${what}. Wait a little, then try again.`
      : `Too many ${what}. Try again in ${waitInWords(retryAfterSeconds)}.`;
}

/** Why something was FORBIDDEN, when it is not a matter of role. */
const FORBIDDEN_REASONS: Record<string, string> = {
  LAST_ADMIN: 'This is the last administrator who can sign in: it cannot be disabled or deleted.',
  LAST_SECOND_FACTOR:
    'This server requires a second factor for your account, and this is your only one: add another first.',
  NO_SECOND_FACTOR: 'Recovery codes come with a second factor: add one first.',
  SECRETS_KEY_UNSET:
    'This server cannot keep authenticator app secrets yet: its operator must set SECRETS_KEY. A passkey works.',
};

/** Words for each code a response can carry; a function when the words need the details. */
const WORDS: Record<string, string | ((extensions: Extensions, message: string) => string)> = {
  INVALID_CREDENTIALS: 'Wrong username or password.',
  RATE_LIMITED: tooMany('failed sign-ins'),
  SESSION_LIMIT: ({ limit }) =>
    `You already have ${limit ?? 'the most'} active session${limit === 1 ? '' : 's'}, the most allowed. ` +
    'Sign out on another device first.',
  UNAUTHENTICATED: 'You are signed out. Sign in again.',
  FORBIDDEN: ({ reason }) => FORBIDDEN_REASONS[reason ?? ''] ?? 'Only an administrator may do that.',
  NOT_FOUND: 'It no longer exists (it may have ended already).',
  BAD_USER_INPUT: (_extensions, message) => message,
  UNAVAILABLE: 'Gatehouse cannot reach its database right now. Try again in a few seconds.',
  ACCOUNT_DISABLED: 'This account is disabled. Ask an administrator.',
  REAUTHENTICATION_REQUIRED: 'Confirm your password to do this.',
  SECOND_FACTOR_REQUIRED: 'Confirm it is you with your second factor to do this.',
  INVALID_SECOND_FACTOR: 'That code is not right. Enter the code your authenticator app shows now, or a recovery code.',
  // The client's own codes (gatehouse/client): no answer, and a sign-in whose cookie the browser refused.
  NETWORK_ERROR: 'Gatehouse cannot be reached. Check the connection and try again.',
  COOKIE_REFUSED: ({ reason }) => cookieRefusalInWords(reason),
};

function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

const extensionsOf = (error: GatehouseError | undefined) => error?.extensions as Extensions | undefined;

/** The code of the failure, if any. */
export function errorCode(error: GatehouseError | undefined): string | undefined {
  return error?.code;
}

/**
 * What a step-up must prove when `error` asks for one, else undefined: REAUTHENTICATION_REQUIRED
 * (a second factor too when the server says the user has one) or SECOND_FACTOR_REQUIRED that is
 * not a pending login's refusal (that one carries `nextStep`: no step-up finishes a login).
 */
export function stepUpNeeded(error: GatehouseError | undefined): { secondFactor: boolean } | undefined {
  const extensions = extensionsOf(error);
  if (extensions?.code === 'SECOND_FACTOR_REQUIRED' && !extensions.nextStep) return { secondFactor: true };
  if (extensions?.code === 'REAUTHENTICATION_REQUIRED') return { secondFactor: extensions.secondFactor === true };
  return undefined;
}

/** The step a pending login waits for, when `error` is its refusal of anything else. */
export function pendingStep(error: GatehouseError | undefined): string | undefined {
  const extensions = extensionsOf(error);
  return extensions?.code === 'SECOND_FACTOR_REQUIRED' ? extensions.nextStep : undefined;
}

/**
 * What to tell a person about a failed operation; `instead` replaces the words of some codes
 * where the usual ones would mislead (a password prompt has no username to get wrong).
 */
export function describeError(error: GatehouseError, instead: Partial<typeof WORDS> = {}): string {
  const extensions = error.extensions as Extensions;
  const words = instead[error.code] ?? WORDS[error.code];
  if (typeof words === 'function') return words(extensions, error.message);
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
