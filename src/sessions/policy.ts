/**
 * How long sessions live and how many a user may hold. One reading of "expired" and "active"
 * for every rule, so a request, a list, the sweeper and a live watch never disagree.
 */
import type { SessionRecord } from './types.js';

export const SESSION_LIMIT_STRATEGIES = ['revoke-oldest', 'deny-new'] as const;
/** What a login beyond the session limit does: end the oldest session, or refuse the login. */
export type SessionLimitStrategy = (typeof SESSION_LIMIT_STRATEGIES)[number];

/** Who must have a second factor (`REQUIRE_SECOND_FACTOR`): no one, admins, or everyone. */
export const SECOND_FACTOR_REQUIREMENTS = ['off', 'admins', 'all'] as const;
export type SecondFactorRequirement = (typeof SECOND_FACTOR_REQUIREMENTS)[number];

/** The highest session limit, global or per user; 0 means no limit. */
export const MAX_SESSION_LIMIT = 10_000;

export interface SessionPolicy {
  /** Absolute lifetime of a session, in ms. */
  maxAgeMs: number;
  /** A session unused this long ends, in ms. */
  idleTimeoutMs: number;
  /** Active sessions allowed per user when the user has no override; 0 is no limit. */
  maxSessionsPerUser: number;
  /** What a login beyond the limit does. */
  limitStrategy: SessionLimitStrategy;
  /** How recent the last password proof must be for a sensitive operation (step-up), in ms. */
  reauthWindowMs: number;
  /** How long a right password waits for its second step (a pending login), in ms. */
  secondFactorTimeoutMs: number;
  /** Who may not sign in without a second factor: they must enroll one first. */
  requireSecondFactor: SecondFactorRequirement;
}

/** Whether the policy holds `user` to having a second factor. */
export function mustHaveSecondFactor(user: { role: string }, policy: SessionPolicy): boolean {
  return policy.requireSecondFactor === 'all' || (policy.requireSecondFactor === 'admins' && user.role === 'ADMIN');
}

/**
 * When a session counts as active: not ended, before its absolute expiry, and used within the
 * idle timeout. Every query that filters on "active" takes one of these (see
 * `LastSeenWriter.activeAt`, the only maker of one).
 */
export interface ActiveAt {
  now: Date;
  idleTimeoutMs: number;
}

/** The moment the session expires if nobody uses it: the earlier of its absolute and idle expiry. */
export function expiryDue(session: SessionRecord, policy: SessionPolicy): number {
  return Math.min(session.expiresAt.getTime(), session.lastSeenAt.getTime() + policy.idleTimeoutMs);
}

/** True when the session is past its absolute expiry or has been idle too long at `now`. */
export function hasExpired(session: SessionRecord, now: Date, policy: SessionPolicy): boolean {
  return now.getTime() >= expiryDue(session, policy);
}

/** The session limit that applies to a user: their own, else the global one (0: none). */
export function sessionLimitOf(user: { sessionLimit: number | null }, policy: SessionPolicy): number {
  return user.sessionLimit ?? policy.maxSessionsPerUser;
}
