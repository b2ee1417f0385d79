/** What the audit log records: the kinds of event and the shape of one. */
import type { AuthenticationMethod } from './assurance.js';
import { CLI_OPERATOR, type SessionEndReason } from './types.js';

export const AUTH_EVENT_TYPES = [
  'LOGIN_SUCCEEDED',
  'LOGIN_FAILED',
  'LOGIN_RATE_LIMITED',
  'SESSION_LIMIT_REACHED',
  'SESSION_ENDED',
  'PASSWORD_CHANGED',
  'USER_CREATED',
  'SESSION_LIMIT_CHANGED',
  'LOGIN_REFUSED_DISABLED',
  'USER_DISABLED',
  'USER_ENABLED',
  'USER_DELETED',
  'PASSWORD_RESET',
  'ALL_SESSIONS_REVOKED',
  'REAUTHENTICATED',
  'REAUTHENTICATION_FAILED',
  'WEBHOOK_CREATED',
  'WEBHOOK_UPDATED',
  'WEBHOOK_DELETED',
  'WEBHOOK_SECRET_ROTATED',
  /** The password was right; the login waits for a second factor (or for the user to enroll one). */
  'SECOND_FACTOR_REQUESTED',
  'SECOND_FACTOR_ADDED',
  'SECOND_FACTOR_REMOVED',
  /** A well-formed code or passkey proof that did not match. */
  'SECOND_FACTOR_FAILED',
  /** An admin (or the command line) removed all of a user's factors and recovery codes. */
  'SECOND_FACTORS_RESET',
  'RECOVERY_CODE_USED',
  'RECOVERY_CODES_REGENERATED',
  /** A passkey's signature counter did not go up: the authenticator may have been cloned. */
  'PASSKEY_COUNTER_REGRESSED',
  /** A browser bound a session to a key it holds and cannot export (DBSC). */
  'DEVICE_BOUND',
  /** An admin (or the command line) created a service token; the server's log names it (never the token). */
  'SERVICE_TOKEN_CREATED',
  'SERVICE_TOKEN_REVOKED',
] as const;
export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/** One row of the audit log. Never a token or a password. */
export interface AuthEventRecord {
  id: string;
  type: AuthEventType;
  /** The user it concerns. */
  userId: string | null;
  sessionId: string | null;
  /** Who did it, when not the user themself (the admin who kicked). */
  actorUserId: string | null;
  /** The name typed at a failed or throttled login. */
  username: string | null;
  /** For SESSION_ENDED: why. */
  reason: SessionEndReason | null;
  /** For factor events: the factor it concerns. */
  factorId: string | null;
  /**
   * For factor events: the factor's kind (TOTP, PASSKEY), or the method a failed code was meant
   * as; for a login or step-up completed by a second factor: that factor's method.
   */
  method: AuthenticationMethod | null;
  /** For service token events: the token it concerns. */
  serviceTokenId: string | null;
  /** For RECOVERY_CODE_USED and RECOVERY_CODES_REGENERATED: the user's unused recovery codes now. */
  recoveryCodesLeft: number | null;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
}

/** What an event says beyond its type and origin. */
export type AuthEventFields = Partial<
  Pick<
    AuthEventRecord,
    'userId' | 'sessionId' | 'username' | 'reason' | 'factorId' | 'method' | 'recoveryCodesLeft' | 'serviceTokenId'
  >
>;

/** Which events a read of the log keeps: each part given must hold. */
export interface AuthEventFilter {
  /** Events concerning this user. */
  userId?: string;
  /** Events this signed-in user brought about. */
  actorUserId?: string;
  /** Events of any of these types; at least one. */
  types?: readonly AuthEventType[];
}

const COMMAND_LINE_NAME = 'operator' in CLI_OPERATOR ? CLI_OPERATOR.operator : undefined;

export const AUTH_EVENT_ORIGINS = ['USER', 'ANONYMOUS', 'COMMAND_LINE', 'SYSTEM'] as const;
export type AuthEventOrigin = (typeof AUTH_EVENT_ORIGINS)[number];

/**
 * Who brought an event about, as its row tells: a signed-in user (its actor); a request without
 * a session (a sign-in attempt, from its IP and device); the operator's command line (recorded
 * with its name in place of a device and no address: `originOfActor` in types.ts); or Gatehouse
 * itself (expiry, the sweeper: no actor, no device).
 */
export function originOfEvent(
  event: Pick<AuthEventRecord, 'actorUserId' | 'ipAddress' | 'userAgent'>,
): AuthEventOrigin {
  if (event.actorUserId !== null) return 'USER';
  if (event.ipAddress === null && event.userAgent === null) return 'SYSTEM';
  if (event.ipAddress === null && event.userAgent === COMMAND_LINE_NAME) return 'COMMAND_LINE';
  return 'ANONYMOUS';
}
