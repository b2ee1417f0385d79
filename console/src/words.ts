/** Enum values in words. Keys are strings so that reasons added to the schema later still read well. */

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
};

export const eventTypeLabel = (type: string) => EVENT_TYPES[type] ?? type;
