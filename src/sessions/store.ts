import type { Role, SessionEndReason, SessionRecord, UserRecord, Viewer } from './types.js';

export interface NewUser {
  username: string;
  usernameKey: string;
  passwordHash: string;
  role: Role;
}

/**
 * When a session counts as active: not ended, before its absolute expiry, and used within the
 * idle timeout. Every query that filters on "active" takes one of these.
 */
export interface ActiveAt {
  now: Date;
  idleTimeoutMs: number;
}

/** Position in the newest-first order of sessions: (createdAt, id), both descending. */
export interface SessionCursor {
  createdAt: Date;
  id: string;
}

export interface SessionStats {
  activeSessions: number;
  activeUsers: number;
  totalUsers: number;
  sessionsStartedSince: number;
  sessionsEndedSince: number;
  endReasonsSince: Array<{ reason: SessionEndReason; count: number }>;
}

/**
 * What the session rules need from storage. `src/storage/` implements it over Knex and
 * Objection; the rules never see SQL.
 */
export interface SessionStore {
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUsersByIds(ids: readonly string[]): Promise<UserRecord[]>;
  findUserByUsernameKey(usernameKey: string): Promise<UserRecord | undefined>;
  /** Returns undefined when the username key is already taken. */
  insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined>;
  updatePasswordHash(userId: string, passwordHash: string, now: Date): Promise<void>;
  /** Returns the updated user, or undefined when there is no such user. */
  updateSessionLimit(userId: string, sessionLimit: number | null, now: Date): Promise<UserRecord | undefined>;
  countAdmins(): Promise<number>;

  /** The hot path: one indexed lookup by token hash, joined to the user. */
  findViewerByTokenHash(tokenHash: string): Promise<Viewer | undefined>;
  findSessionById(id: string): Promise<SessionRecord | undefined>;

  /** Newest first, strictly after `after` in that order. */
  listSessions(query: {
    userId?: string;
    activeAt?: ActiveAt;
    after?: SessionCursor;
    limit: number;
  }): Promise<SessionRecord[]>;
  countActiveSessions(activeAt: ActiveAt, userId?: string): Promise<number>;
  /** Active session counts for several users at once; users without one are absent. */
  countActiveSessionsByUser(activeAt: ActiveAt, userIds: readonly string[]): Promise<Map<string, number>>;
  sessionStats(activeAt: ActiveAt, since: Date): Promise<SessionStats>;

  /** Ends the session if still open; returns it as ended, or undefined if it was already ended. */
  endSession(id: string, reason: SessionEndReason, at: Date): Promise<SessionRecord | undefined>;
  /** Ends every open session of the user except `exceptSessionId`; returns those it ended. */
  endUserSessions(
    userId: string,
    reason: SessionEndReason,
    at: Date,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]>;
  /** Ends up to `limit` open sessions that are no longer active at `activeAt`. */
  endInactiveSessions(activeAt: ActiveAt, limit: number): Promise<SessionRecord[]>;
  /** Deletes up to `limit` sessions that ended before `cutoff`; returns how many. */
  deleteSessionsEndedBefore(cutoff: Date, limit: number): Promise<number>;

  /** Writes throttled `lastSeenAt` values, all in one transaction. Ended sessions are left alone. */
  touchSessions(lastSeen: ReadonlyMap<string, Date>): Promise<void>;

  /**
   * Runs `work` in a transaction that holds the user's row locked, so concurrent logins of one
   * user run one after another and a session limit cannot be overshot.
   */
  withUserLocked<T>(userId: string, work: (tx: UserSessionsTx) => Promise<T>): Promise<T>;

  /** True when the database answers. */
  ping(): Promise<boolean>;
}

/** The operations allowed while a user's row is locked. */
export interface UserSessionsTx {
  /** Active sessions, oldest first. */
  listActiveSessions(activeAt: ActiveAt): Promise<SessionRecord[]>;
  endSessions(ids: readonly string[], reason: SessionEndReason, at: Date): Promise<SessionRecord[]>;
  insertSession(session: SessionRecord): Promise<void>;
}
