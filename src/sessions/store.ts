import type { Role, SessionEndReason, SessionRecord, UserRecord, Viewer } from './types.js';

export interface NewUser {
  username: string;
  usernameKey: string;
  passwordHash: string;
  role: Role;
}

/**
 * What the session rules need from storage. `src/storage/` implements it over Knex and
 * Objection; the rules never see SQL.
 */
export interface SessionStore {
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUserByUsernameKey(usernameKey: string): Promise<UserRecord | undefined>;
  /** Returns undefined when the username key is already taken. */
  insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined>;
  countAdmins(): Promise<number>;

  /** The hot path: one indexed lookup by token hash, joined to the user. */
  findViewerByTokenHash(tokenHash: string): Promise<Viewer | undefined>;
  findSessionById(id: string): Promise<SessionRecord | undefined>;

  /** Ends the session if still open; returns it as ended, or undefined if it was already ended. */
  endSession(id: string, reason: SessionEndReason, at: Date): Promise<SessionRecord | undefined>;

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
  /** Open sessions that have not expired at `now`, oldest first. */
  listOpenSessions(now: Date, idleTimeoutMs: number): Promise<SessionRecord[]>;
  endSessions(ids: readonly string[], reason: SessionEndReason, at: Date): Promise<SessionRecord[]>;
  insertSession(session: SessionRecord): Promise<void>;
}
