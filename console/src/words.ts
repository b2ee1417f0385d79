/** Enum values in words. Keys are strings so that reasons added to the schema later still read well. */
import type { CookieRefusal } from '../../src/client/index.js';

/** Why a session ended, as the end of "Signed out: …". */
const END_REASONS: Record<string, string> = {
  LOGOUT: 'this session was signed out.',
  KICKED: 'this session was ended by an administrator or from another of your devices.',
  SUPERSEDED: 'you signed in on another device, beyond your session limit.',
  EXPIRED: 'the session expired.',
  PASSWORD_CHANGED: 'the password was changed.',
  USER_SESSIONS_REVOKED: 'all of your sessions were ended.',
  USER_DISABLED: 'your account was disabled by an administrator.',
  USER_DELETED: 'your account was deleted by an administrator.',
  ALL_SESSIONS_REVOKED: 'an administrator signed everyone out.',
  SECOND_FACTORS_RESET: 'an administrator reset your second factors.',
  DEVICE_MISMATCH: "this session's cookie was used from another device.",
};

export const endReasonInWords = (reason: string | null | undefined) =>
  (reason && END_REASONS[reason]) ?? 'the session ended.';

/** Short labels for the ends-by-reason chart and the audit log. */
const END_REASON_LABELS: Record<string, string> = {
  LOGOUT: 'Signed out',
  KICKED: 'Ended by hand',
  SUPERSEDED: 'Over the limit',
  EXPIRED: 'Expired',
  PASSWORD_CHANGED: 'Password changed',
  USER_SESSIONS_REVOKED: 'All of a user’s ended',
  USER_DISABLED: 'Account disabled',
  USER_DELETED: 'Account deleted',
  ALL_SESSIONS_REVOKED: 'Everyone signed out',
  SECOND_FACTORS_RESET: 'Second factors reset',
  DEVICE_MISMATCH: 'Used from another device',
};

export const endReasonLabel = (reason: string) => END_REASON_LABELS[reason] ?? reason;

const EVENT_TYPES: Record<string, string> = {
  ALL_SESSIONS_REVOKED: 'Every session ended',
  DEVICE_BOUND: 'Bound to its device',
  LOGIN_FAILED: 'Failed sign-in',
  LOGIN_RATE_LIMITED: 'Sign-in throttled',
  LOGIN_REFUSED_DISABLED: 'Sign-in of a disabled account',
  LOGIN_SUCCEEDED: 'Signed in',
  PASSKEY_COUNTER_REGRESSED: 'Passkey counter went back',
  PASSWORD_CHANGED: 'Password changed',
  PASSWORD_RESET: 'Password reset',
  REAUTHENTICATED: 'Password confirmed',
  REAUTHENTICATION_FAILED: 'Password confirmation failed',
  RECOVERY_CODE_USED: 'Recovery code used',
  RECOVERY_CODES_REGENERATED: 'Recovery codes regenerated',
  SECOND_FACTOR_ADDED: 'Second factor added',
  SECOND_FACTOR_FAILED: 'Wrong second factor',
  SECOND_FACTOR_REMOVED: 'Second factor removed',
  SECOND_FACTOR_REQUESTED: 'Second step asked',
  SECOND_FACTORS_RESET: 'Second factors reset',
  SERVICE_TOKEN_CREATED: 'Service token created',
  SERVICE_TOKEN_REVOKED: 'Service token revoked',
  SESSION_ENDED: 'Session ended',
  SESSION_LIMIT_CHANGED: 'Session limit changed',
  SESSION_LIMIT_REACHED: 'Session limit reached',
  USER_CREATED: 'User created',
  USER_DELETED: 'User deleted',
  USER_DISABLED: 'User disabled',
  USER_ENABLED: 'User enabled',
  WEBHOOK_CREATED: 'Webhook created',
  WEBHOOK_DELETED: 'Webhook deleted',
  WEBHOOK_SECRET_ROTATED: 'Webhook secret rotated',
  WEBHOOK_UPDATED: 'Webhook changed',
};

export const eventTypeLabel = (type: string) => EVENT_TYPES[type] ?? type;

/** Every event type the console has words for, as [type, label], by label. */
export const EVENT_TYPE_CHOICES = Object.entries(EVENT_TYPES).sort(([, a], [, b]) => a.localeCompare(b));

/** Why a sign-in that succeeded left the page signed out: the browser refused the session cookie. */
const COOKIE_REFUSALS: Record<CookieRefusal, string> = {
  PLAIN_HTTP:
    'This page reached Gatehouse over plain HTTP, and Gatehouse marks its cookie Secure (COOKIE_SECURE, on in ' +
    'production), which browsers keep only over HTTPS. Open the console at its https:// address.',
  OTHER_SITE:
    'Gatehouse is on another site than this page, and browsers do not send its cookie (SameSite=Lax) from one ' +
    'site to another. Serve the console and Gatehouse from one site.',
  BLOCKED: 'The browser blocks cookies for this site. Allow them, then sign in again.',
};

/** `refusal`: COOKIE_REFUSED's `extensions.reason` (gatehouse/client). */
export const cookieRefusalInWords = (refusal: string | undefined) =>
  `Your browser refused the session cookie, so you are not signed in. ${COOKIE_REFUSALS[refusal as CookieRefusal] ?? COOKIE_REFUSALS.BLOCKED}`;

const WEBHOOK_EVENTS: Record<string, string> = {
  SESSION_STARTED: 'Session started',
  SESSION_ENDED: 'Session ended',
  USER_CREATED: 'User created',
  USER_DISABLED: 'User disabled',
  USER_DELETED: 'User deleted',
  SECOND_FACTOR_ADDED: 'Second factor added',
  SECOND_FACTOR_REMOVED: 'Second factor removed',
  SECOND_FACTOR_FAILED: 'Wrong second factor',
  SECOND_FACTORS_RESET: 'Second factors reset',
};

export const webhookEventLabel = (type: string) => WEBHOOK_EVENTS[type] ?? type;

/** The events a webhook can be told of, as [type, label], in the schema's order. */
export const WEBHOOK_EVENT_CHOICES = Object.entries(WEBHOOK_EVENTS);

/** What a service token may do, as the Service tokens section says it, in the schema's order. */
const SERVICE_SCOPES: Record<string, string> = {
  VERIFY_SESSIONS: 'Verify sessions',
  READ_SESSIONS: 'Read sessions',
};

export const serviceScopeLabel = (scope: string) => SERVICE_SCOPES[scope] ?? scope;

/** The scopes a service token can have, as [scope, label]. */
export const SERVICE_SCOPE_CHOICES = Object.entries(SERVICE_SCOPES);

const DELIVERY_STATUSES: Record<string, string> = { PENDING: 'Pending', DELIVERED: 'Delivered', FAILED: 'Failed' };

export const deliveryStatusLabel = (status: string) => DELIVERY_STATUSES[status] ?? status;

const capitalized = (words: string) => words.charAt(0).toUpperCase() + words.slice(1);

/** A second factor's kind, as the Security section and the Users table name it. */
const FACTOR_KINDS: Record<string, string> = { TOTP: 'Authenticator app', PASSKEY: 'Passkey' };

export const factorKindInWords = (kind: string) => FACTOR_KINDS[kind] ?? kind;

/** A user's factors counted by kind, for the Users table: "None", "Authenticator app, 2 passkeys". */
export function factorsInWords(factors: ReadonlyArray<{ kind: string }>): string {
  if (factors.length === 0) return 'None';
  const counts = new Map<string, number>();
  for (const { kind } of factors) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, count]) => {
    const words = factorKindInWords(kind).toLowerCase();
    return count === 1 ? words : `${count} ${words}s`;
  });
  return capitalized(parts.join(', '));
}

/** How a session's login was proved, each method as the second half of "Password and …". */
const METHODS: Record<string, string> = {
  PASSWORD: 'password',
  TOTP: 'authenticator app',
  PASSKEY: 'passkey',
  RECOVERY_CODE: 'recovery code',
};

/** One method alone, as the audit log details a factor event: "Authenticator app". */
export const methodLabel = (method: string) => capitalized(METHODS[method] ?? method.toLowerCase());

export const recoveryCodesLeftInWords = (left: number) => `${left} recovery code${left === 1 ? '' : 's'} left`;

/**
 * A session's `authenticationMethods` in words, as the session tables show them: "Password",
 * "Password and authenticator app", "Passkey". A session from before Gatehouse recorded them
 * has none: a dash.
 */
export function methodsInWords(methods: readonly string[]): string {
  const words = methods.map((method) => METHODS[method] ?? method.toLowerCase());
  if (words.length === 0) return '—';
  return capitalized(words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);
}
