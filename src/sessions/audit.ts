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
