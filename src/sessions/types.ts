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
  'USER_DISABLED',
  'USER_DELETED',
  'ALL_SESSIONS_REVOKED',
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
  /** When an admin disabled the account; null while it may sign in. */
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A session as everything but its insertion sees it: no token, and no hash of one either. */
export interface SessionRecord {
  /** Public id: safe to show and log, never the token. */
  id: string;
  userId: string;
  /** The login time. */
  createdAt: Date;
  lastSeenAt: Date;
  /** When the user last proved the password on this session: the login, or a re-authentication. */
  authenticatedAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
}

/** A session as first written. The hash is only ever looked up by, never read back. */
export interface NewSession extends SessionRecord {
  /** SHA-256 of the token (hex). The token itself is never stored. */
  tokenHash: string;
}

/** Who made a request: the signed-in user and the session that carried it. */
export interface Viewer {
  user: UserRecord;
  session: SessionRecord;
}

/** Where a request came from, recorded on the sessions it starts and in the audit log. */
export interface DeviceInfo {
  userAgent: string | null;
  ipAddress: string | null;
}

/** Where a change came from, for the audit log: who asked, from which address and client. */
export interface ChangeOrigin {
  /** The signed-in user who asked; null for the system (sweeper, expiry). */
  actorUserId: string | null;
  device: DeviceInfo;
}

/** Changes nobody asked for: expiry, the sweeper. */
export const SYSTEM_ORIGIN: ChangeOrigin = { actorUserId: null, device: { userAgent: null, ipAddress: null } };

/**
 * Who asks for an operation: a signed-in user over the API (authorised and stepped up per
 * operation), or the operator at the command line, who is trusted because it holds the
 * server's own settings and database.
 */
export type Actor = { viewer: Viewer; device: DeviceInfo } | { operator: string };

/** The operator at the `gatehouse` command line, as the audit log records it. */
export const CLI_OPERATOR: Actor = { operator: 'gatehouse-cli' };

/** A change asked for by the signed-in `viewer` from `device`. */
export function originOf(viewer: Viewer, device: DeviceInfo): ChangeOrigin {
  return { actorUserId: viewer.user.id, device };
}

/** Where a change asked for by `actor` came from, for the audit log. */
export function originOfActor(actor: Actor): ChangeOrigin {
  if ('operator' in actor) return { actorUserId: null, device: { userAgent: actor.operator, ipAddress: null } };
  return originOf(actor.viewer, actor.device);
}
