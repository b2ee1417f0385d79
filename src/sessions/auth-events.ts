/** What the audit log records: the kinds of event and the shape of one. */
import type { SessionEndReason } from './types.js';

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
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
}

/** What an event says beyond its type and origin. */
export type AuthEventFields = Partial<Pick<AuthEventRecord, 'userId' | 'sessionId' | 'username' | 'reason'>>;
