/** The records the session rules work with. Storage returns these; GraphQL renders them. */
import type { PendingStep, SessionAssurance } from './assurance.js';

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
  'SECOND_FACTORS_RESET',
  'DEVICE_MISMATCH',
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
export interface SessionRecord extends SessionAssurance {
  /** Public id: safe to show and log, never the token. */
  id: string;
  userId: string;
  /** The login time. */
  createdAt: Date;
  lastSeenAt: Date;
  /**
   * When the user last proved who they are on this session: the login, or a step-up
   * (`reauthenticate`, a second factor confirmed on it).
   */
  authenticatedAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  userAgent: string | null;
  ipAddress: string | null;
  /**
   * When the browser bound this session to a key it holds (DBSC, DESIGN.md "Device-bound
   * sessions"); null while unbound. A bound session is served only with its bound cookie too.
   */
  deviceBoundAt: Date | null;
}

/** A session as first written. The hash is only ever looked up by, never read back. */
export interface NewSession extends SessionRecord {
  /** SHA-256 of the token (hex). The token itself is never stored. */
  tokenHash: string;
  /** SHA-256 (hex) of the DBSC registration challenge offered with the login, if any. */
  dbscChallengeHash?: string;
  /** Epoch ms: when that challenge lapses. */
  dbscChallengeExpiresAt?: number;
}

/**
 * A bound session's short-lived cookie as the hot path checks it (DBSC): hashes and epoch-ms
 * times only. Kept beside the SessionRecord, never in it: a SessionRecord is rendered, announced
 * and sent to webhooks, and holds no token nor hash of one.
 */
export interface BoundCookieState {
  /** SHA-256 (hex) of the current bound cookie; null until the first is set. */
  hash: string | null;
  /** When the server stops accepting it, whatever the browser's Max-Age. */
  expiresAt: number;
  /** The cookie before the last rotation, accepted until {@link previousUntil} (requests in flight). */
  previousHash: string | null;
  previousUntil: number;
  /** The first request that carried a bound cookie; null while the registration window is open. */
  seenAt: number | null;
}

/** Who made a request: the signed-in user and the session that carried it. */
export interface Viewer {
  user: UserRecord;
  session: SessionRecord;
  /** Set when the session is device-bound: what its bound cookie must be (see dbsc.ts). */
  deviceBinding?: BoundCookieState;
}

/**
 * A right password waiting for its second step (or, under REQUIRE_SECOND_FACTOR, for the user to
 * enroll a factor): not a session. Its token is told apart from a session's by its shape alone
 * (tokens.ts), so it never reaches the session lookup, the cache, a limit or a list.
 */
export interface PendingLogin {
  /** Public id, shown as the session id while the login is pending; never the token. */
  id: string;
  user: UserRecord;
  nextStep: PendingStep;
  createdAt: Date;
  /** After this, it is void: SECOND_FACTOR_TIMEOUT after the password. */
  expiresAt: Date;
  userAgent: string | null;
  ipAddress: string | null;
}

/** A pending login as first written, with the hash of its token (never read back). */
export interface NewPendingLogin extends Omit<PendingLogin, 'user'> {
  userId: string;
  tokenHash: string;
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

/** Login events are the system's doing until someone is signed in. */
export const anonymousOrigin = (device: DeviceInfo): ChangeOrigin => ({ actorUserId: null, device });

/** Where a change asked for by `actor` came from, for the audit log. */
export function originOfActor(actor: Actor): ChangeOrigin {
  if ('operator' in actor) return { actorUserId: null, device: { userAgent: actor.operator, ipAddress: null } };
  return originOf(actor.viewer, actor.device);
}
