/** Enum values in words. Keys are strings so that reasons added to the schema later still read well. */
import type { CookieRefusal } from './gatehouse.js';

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
};

export const endReasonLabel = (reason: string) => END_REASON_LABELS[reason] ?? reason;

const EVENT_TYPES: Record<string, string> = {
  ALL_SESSIONS_REVOKED: 'Every session ended',
  LOGIN_FAILED: 'Failed sign-in',
  LOGIN_RATE_LIMITED: 'Sign-in throttled',
  LOGIN_REFUSED_DISABLED: 'Sign-in of a disabled account',
  LOGIN_SUCCEEDED: 'Signed in',
  PASSWORD_CHANGED: 'Password changed',
  PASSWORD_RESET: 'Password reset',
  REAUTHENTICATED: 'Password confirmed',
  REAUTHENTICATION_FAILED: 'Password confirmation failed',
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

export const cookieRefusalInWords = (refusal: CookieRefusal) =>
  `Your browser refused the session cookie, so you are not signed in. ${COOKIE_REFUSALS[refusal]}`;

const WEBHOOK_EVENTS: Record<string, string> = {
  SESSION_STARTED: 'Session started',
  SESSION_ENDED: 'Session ended',
  USER_CREATED: 'User created',
  USER_DISABLED: 'User disabled',
  USER_DELETED: 'User deleted',
};

export const webhookEventLabel = (type: string) => WEBHOOK_EVENTS[type] ?? type;

/** The events a webhook can be told of, as [type, label], in the schema's order. */
export const WEBHOOK_EVENT_CHOICES = Object.entries(WEBHOOK_EVENTS);

const DELIVERY_STATUSES: Record<string, string> = { PENDING: 'Pending', DELIVERED: 'Delivered', FAILED: 'Failed' };

export const deliveryStatusLabel = (status: string) => DELIVERY_STATUSES[status] ?? status;
