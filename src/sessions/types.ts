/** The records the session rules work with. Storage returns these; GraphQL renders them. */

export const ROLES = ['USER', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

export const SESSION_END_REASONS = [
  'LOGOUT',
  'KICKED',
  'SUPERSEDED',
  'EXPIRED',
  'PASSWORD_CHANGED',
  'USER_SESSIONS_REVOKED',
] as const;
export type SessionEndReason = (typeof SESSION_END_REASONS)[number];

export interface UserRecord {
  id: string;
  username: string;
  /** Normalised username: unique, what logins compare against. */
  usernameKey: string;
  passwordHash: string;
  role: Role;
  /** Per-user override of the global session limit; null falls back to the global one. */
  sessionLimit: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionRecord {
  /** Public id: safe to show and log, never the token. */
  id: string;
  userId: string;
  /** SHA-256 of the token (hex). The token itself is never stored. */
  tokenHash: string;
  /** The login time. */
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
}

/** Who made a request: the signed-in user and the session that carried it. */
export interface Viewer {
  user: UserRecord;
  session: SessionRecord;
}

/** Where a login came from, recorded on the session. */
export interface DeviceInfo {
  userAgent: string | null;
  ipAddress: string | null;
}
