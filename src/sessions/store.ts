/**
 * What the session rules need from storage, one interface per table. `src/storage/` implements
 * them over Knex and Objection; the rules never see SQL.
 */
import type { AuthEventFilter, AuthEventRecord } from './auth-events.js';
import type { LockedFactors, PasskeyStore, SecondFactorStore } from './factor-store.js';
import type { PageCursor } from './page.js';
import type { ActiveAt } from './policy.js';
import type { ServiceTokenStore } from './service-token-store.js';
import type { ThrottleCounter, ThrottleState } from './throttle-rules.js';
import type {
  NewPendingLogin,
  NewSession,
  PendingLogin,
  Role,
  SessionEndReason,
  SessionRecord,
  UserRecord,
  Viewer,
} from './types.js';
import type { WebauthnChallengeStore } from './webauthn-challenges.js';

export interface NewUser {
  username: string;
  usernameKey: string;
  /** What the username looks like (see username-skeleton.ts): unique, like the key. */
  usernameSkeleton: string;
  passwordHash: string;
  role: Role;
}

export interface SessionStats {
  activeSessions: number;
  activeUsers: number;
  totalUsers: number;
  sessionsStartedSince: number;
  sessionsEndedSince: number;
  endReasonsSince: Array<{ reason: SessionEndReason; count: number }>;
}

export interface UserStore {
  findUserById(id: string): Promise<UserRecord | undefined>;
  findUsersByIds(ids: readonly string[]): Promise<UserRecord[]>;
  findUserByUsernameKey(usernameKey: string): Promise<UserRecord | undefined>;
  /** The oldest user whose username looks like one with this skeleton. */
  findUserByUsernameSkeleton(usernameSkeleton: string): Promise<UserRecord | undefined>;
  /**
   * Returns undefined when a user has the key or the skeleton already, also when another insert
   * of either commits at the same time: of two such inserts, at most one succeeds.
   */
  insertUser(user: NewUser, now: Date): Promise<UserRecord | undefined>;
  updatePasswordHash(userId: string, passwordHash: string, now: Date): Promise<void>;
  /** Returns the updated user, or undefined when there is no such user. */
  updateSessionLimit(userId: string, sessionLimit: number | null, now: Date): Promise<UserRecord | undefined>;
  countAdmins(): Promise<number>;
  /** Newest first, strictly after `after`; with `usernameContains`, only users whose username key contains it. */
  listUsers(query: { usernameContains?: string; after?: PageCursor; limit: number }): Promise<UserRecord[]>;
  countUsers(usernameContains?: string): Promise<number>;
}

export interface SessionStore {
  /** The hot path: one indexed lookup by token hash, joined to the user. */
  findViewerByTokenHash(tokenHash: string): Promise<Viewer | undefined>;
  findSessionById(id: string): Promise<SessionRecord | undefined>;

  /** Newest first, strictly after `after` in that order. */
  listSessions(query: {
    userId?: string;
    activeAt?: ActiveAt;
    after?: PageCursor;
    limit: number;
  }): Promise<SessionRecord[]>;
  countActiveSessions(activeAt: ActiveAt, userId?: string): Promise<number>;
  /** Active sessions, and how many of them are bound to their device (DBSC), in one statement. */
  countActiveAndBoundSessions(activeAt: ActiveAt): Promise<{ active: number; bound: number }>;
  /** Active session counts for several users at once; users without one are absent. */
  countActiveSessionsByUser(activeAt: ActiveAt, userIds: readonly string[]): Promise<Map<string, number>>;
  sessionStats(activeAt: ActiveAt, since: Date): Promise<SessionStats>;

  /** Ends the session if still open; returns it as ended, or undefined if it was already ended. */
  endSession(id: string, reason: SessionEndReason, at: Date): Promise<SessionRecord | undefined>;
  /** Ends every active session of the user except `exceptSessionId`; returns those it ended. */
  endUserSessions(
    userId: string,
    reason: SessionEndReason,
    activeAt: ActiveAt,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]>;
  /** Ends (EXPIRED) up to `limit` open sessions, of one user or all, that are no longer active at `activeAt`. */
  endInactiveSessions(activeAt: ActiveAt, limit: number, userId?: string): Promise<SessionRecord[]>;
  /** Deletes up to `limit` sessions that ended before `cutoff`; returns how many. */
  deleteSessionsEndedBefore(cutoff: Date, limit: number): Promise<number>;

  /**
   * Ends (with `reason`) up to `limit` sessions of anyone that are active at `activeAt`, but
   * `exceptSessionId`: one batch of an end of every session.
   */
  endActiveSessions(query: {
    reason: SessionEndReason;
    activeAt: ActiveAt;
    limit: number;
    exceptSessionId?: string;
  }): Promise<SessionRecord[]>;
  /**
   * Records a fresh proof on an open session (`authenticatedAt`, and what it proved); returns
   * the session, or undefined if it has ended.
   */
  recordProof(id: string, proof: SessionProof): Promise<SessionRecord | undefined>;

  /** Writes throttled `lastSeenAt` values, all in one transaction. Ended sessions are left alone. */
  touchSessions(lastSeen: ReadonlyMap<string, Date>): Promise<void>;

  /**
   * DBSC (dbsc.ts): session `id` with its bound key, and whether `tokenHash` (the request's
   * session cookie) is that session's own, compared in SQL so the hash is never read back.
   */
  findDbscSession(id: string, tokenHash: string | undefined): Promise<DbscSession | undefined>;
  /**
   * Binds an open, unbound session whose outstanding challenge is `write.challengeHash` (and
   * unexpired at `write.now`): key, first bound cookie and next challenge in one statement,
   * which also consumes the challenge. False, writing nothing, otherwise.
   */
  bindDevice(write: DeviceBindingWrite): Promise<boolean>;
  /**
   * Rotates the bound cookie of an open bound session if `write.challengeHash` is its current or
   * previous challenge, unexpired: the old cookie kept until `write.graceUntil`, the challenges
   * consumed and the next one stored. False, writing nothing, otherwise (the loser of a race).
   */
  rotateBoundCookie(write: BoundCookieRotation): Promise<boolean>;
  /** A new outstanding challenge on an open session; the current one stays valid until `previousUntil`. */
  issueDbscChallenge(id: string, challenge: DbscChallenge, previousUntil: number): Promise<boolean>;
  /** Records the first request that carried the bound cookie (closes the registration window). */
  markBoundCookieSeen(id: string, at: number): Promise<void>;

  /**
   * Runs `work` in a transaction that holds the user's row locked, so that logins, limits and
   * account changes of one user run one after another: a session limit cannot be overshot, and
   * a login racing a disable cannot leave a session behind. With `accountChange`, changes that
   * could leave no admin (disable, delete) are also serialised with each other.
   */
  withUserLocked<T>(
    userId: string,
    work: (tx: UserSessionsTx) => Promise<T>,
    options?: { accountChange?: boolean },
  ): Promise<T>;
}

/** A DBSC challenge as stored: its SHA-256 (hex) and expiry (epoch ms). */
export interface DbscChallenge {
  hash: string;
  expiresAt: number;
}

/** A session as DBSC's refresh and registration read it (see `SessionStore.findDbscSession`). */
export interface DbscSession {
  session: SessionRecord;
  /** Whether the request's session cookie is this session's. */
  own: boolean;
  /** The bound public JWK (JSON text) and its algorithm; null while unbound. */
  publicKey: string | null;
  alg: string | null;
}

export interface DeviceBindingWrite {
  id: string;
  challengeHash: string;
  now: number;
  publicKey: string;
  alg: string;
  boundCookie: DbscChallenge;
  next: DbscChallenge;
}

export interface BoundCookieRotation {
  id: string;
  challengeHash: string;
  now: number;
  boundCookie: DbscChallenge;
  /** Until when the cookie it replaces is still accepted. */
  graceUntil: number;
  next: DbscChallenge;
}

/** What a step-up leaves on a session: when, and how sure the session now is of its user. */
export type SessionProof = Pick<SessionRecord, 'authenticatedAt' | 'assurance' | 'authenticationMethods'>;

/** The operations allowed while a user's row is locked. */
export interface UserSessionsTx {
  /** The user as the lock found it; undefined when there is no such user (any more). */
  readonly user: UserRecord | undefined;
  /** Active sessions, oldest first. */
  listActiveSessions(activeAt: ActiveAt): Promise<SessionRecord[]>;
  endSessions(ids: readonly string[], reason: SessionEndReason, at: Date): Promise<SessionRecord[]>;
  /**
   * Ends every open session of the user: those no longer active at `activeAt` as EXPIRED, the
   * rest with `reason`. Returns both.
   */
  endOpenSessions(reason: SessionEndReason, activeAt: ActiveAt): Promise<SessionRecord[]>;
  insertSession(session: NewSession): Promise<void>;
  setDisabledAt(at: Date | null, now: Date): Promise<UserRecord>;
  setPasswordHash(passwordHash: string, now: Date): Promise<void>;
  /** Admins who may sign in, this user included if it is one. */
  countEnabledAdmins(): Promise<number>;
  /**
   * Deletes the user (its session rows go with it) and writes its username on its audit events,
   * so the trail stays readable without the user row.
   */
  deleteUser(): Promise<void>;
  /** Audit events written in this transaction: they commit with the change they record, or not at all. */
  insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void>;
  /** The login throttle's counters, written in this transaction. */
  readonly loginThrottles: LoginThrottleSuccess;
  /**
   * Deletes the pending login `id` of this user if it has not expired at `now`: true when this
   * call deleted it. Of two second steps on one pending login, only one can.
   */
  takePendingLogin(id: string, now: Date): Promise<boolean>;
  /** Inserts a pending login of this user (`PendingLoginStore.insertPendingLogin`, in this transaction). */
  insertPendingLogin(pending: NewPendingLogin): Promise<void>;
  /** The user's second factors, changed under the lock (the last one is counted and kept alike). */
  readonly factors: LockedFactors;
}

/** What using a second step's proof writes (proof-use.ts): in the transaction that holds the user's lock. */
export type ProofWrites = Pick<UserSessionsTx, 'factors' | 'loginThrottles'>;

/** Pending logins (`pending_logins`): see `PendingLogin`. */
export interface PendingLoginStore {
  insertPendingLogin(pending: NewPendingLogin): Promise<void>;
  /** With its user; expired ones too (the caller decides). */
  findPendingLoginByTokenHash(tokenHash: string): Promise<PendingLogin | undefined>;
  /** True when this call deleted it. */
  deletePendingLogin(id: string): Promise<boolean>;
  /** Deletes up to `limit` pending logins that expired before `cutoff`; returns how many. */
  deletePendingLoginsExpiredBefore(cutoff: Date, limit: number): Promise<number>;
}

/** What a login's success writes to the throttle: in the login's transaction (`UserSessionsTx`) or alone. */
export type LoginThrottleSuccess = Pick<LoginThrottleStore, 'clearLoginThrottle' | 'releaseLoginAttempt'>;

export interface LoginThrottleStore {
  /**
   * Counts one attempt against each of `counters` (keys all different) whose rule allows one at
   * `now`, in one atomic statement (a new window starts where the last one ended). Returns the
   * counters that refused it, by key, as they hold; the others have counted it.
   */
  reserveLoginAttempts(counters: readonly ThrottleCounter[], now: Date): Promise<Map<string, ThrottleState>>;
  /** Gives back an attempt counted by {@link reserveLoginAttempts} (it succeeded, or another counter refused it). */
  releaseLoginAttempt(key: string): Promise<void>;
  clearLoginThrottle(key: string): Promise<void>;
  /** Deletes counters whose window started before `cutoff`. */
  deleteLoginThrottlesBefore(cutoff: Date): Promise<number>;
}

export interface AuthEventStore {
  insertAuthEvents(events: readonly AuthEventRecord[]): Promise<void>;
  /** Newest first, strictly after `after` in that order. */
  listAuthEvents(query: AuthEventFilter & { after?: PageCursor; limit: number }): Promise<AuthEventRecord[]>;
  countAuthEvents(filter?: AuthEventFilter): Promise<number>;
  /** Deletes up to `limit` events older than `cutoff`; returns how many. */
  deleteAuthEventsBefore(cutoff: Date, limit: number): Promise<number>;
}

/** All of storage, as the wiring hands it to the rules: one store per table. */
export interface Stores {
  users: UserStore;
  sessions: SessionStore;
  loginThrottles: LoginThrottleStore;
  authEvents: AuthEventStore;
  secondFactors: SecondFactorStore;
  pendingLogins: PendingLoginStore;
  /** The passkey rows of `second_factors`. */
  passkeys: PasskeyStore;
  webauthnChallenges: WebauthnChallengeStore;
  serviceTokens: ServiceTokenStore;
}
