import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, normalizeNewUsername, usernameKey, validateNewPassword } from './credentials.js';
import { badUserInput, GatehouseError, invalidCredentials } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionCursor, SessionStats, SessionStore } from './store.js';
import { generateToken, hashToken, isWellFormedToken } from './tokens.js';
import type { DeviceInfo, Role, SessionEndReason, SessionRecord, UserRecord, Viewer } from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface SessionPolicy {
  /** Absolute lifetime of a session, in ms. */
  maxAgeMs: number;
  /** A session unused this long ends, in ms. */
  idleTimeoutMs: number;
  /** Active sessions allowed per user when the user has no override; 0 is no limit. */
  maxSessionsPerUser: number;
  /** What a login beyond the limit does. */
  limitStrategy: 'revoke-oldest' | 'deny-new';
}

/** Told after a session starts or ends, once the change is committed. Must not throw. */
export interface SessionLifecycleListener {
  sessionStarted?(session: SessionRecord, user: UserRecord): void;
  sessionEnded?(session: SessionRecord): void;
}

export interface SessionServiceOptions {
  store: SessionStore;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  logger: Logger;
  /** Validated-session cache; omit it where ends on other instances cannot reach this one. */
  cache?: ViewerCache;
  listeners?: SessionLifecycleListener[];
  /** How often throttled `lastSeenAt` values are written, batched. Default 1000 ms. */
  lastSeenFlushIntervalMs?: number;
}

export interface LoginResult {
  viewer: Viewer;
  /** The bearer secret: goes to the client once, is never stored. */
  token: string;
}

/** `lastSeenAt` is written at most this often per session (DESIGN: once a minute). */
const LAST_SEEN_WRITE_INTERVAL_MS = 60_000;
/** Rows the sweeper ends or deletes per statement: short transactions leave room for requests. */
const SWEEP_BATCH_SIZE = 500;
/** Per-user limits an admin can set; 0 means no limit for that user. */
export const MAX_SESSION_LIMIT = 10_000;
/** `sessionsByUser` is a plain list; this bounds it for users with a long history. */
const USER_SESSION_LIST_LIMIT = 500;

export interface SessionPage {
  sessions: SessionRecord[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface SweepResult {
  /** Sessions found past their expiry and ended with `EXPIRED`. */
  expired: number;
  /** Rows deleted because they ended longer ago than the retention period. */
  deleted: number;
}

/**
 * The session rules: sign in, authenticate a token, end sessions. Knows nothing of GraphQL,
 * HTTP or SQL; storage, hashing, time and notification are handed in.
 */
export class SessionService {
  private readonly store: SessionStore;
  private readonly hasher: PasswordHasher;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache: ViewerCache | undefined;
  private readonly listeners: SessionLifecycleListener[];
  readonly policy: SessionPolicy;
  /**
   * Throttle for `lastSeenAt` writes. With a short idle timeout, once a minute would let an
   * active session idle out, so the interval shrinks to a quarter of the timeout.
   */
  private readonly lastSeenWriteIntervalMs: number;
  private pendingLastSeen = new Map<string, Date>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushTimer: NodeJS.Timeout;

  constructor(options: SessionServiceOptions) {
    this.store = options.store;
    this.hasher = options.hasher;
    this.clock = options.clock;
    this.logger = options.logger;
    this.cache = options.cache;
    this.listeners = options.listeners ?? [];
    this.policy = options.policy;
    this.lastSeenWriteIntervalMs = Math.min(LAST_SEEN_WRITE_INTERVAL_MS, Math.floor(options.policy.idleTimeoutMs / 4));
    // Flushing well within the throttle interval keeps the stored value (which other instances
    // and SQL counts see) close to what this process knows.
    const flushIntervalMs =
      options.lastSeenFlushIntervalMs ?? Math.max(50, Math.min(1000, Math.floor(this.lastSeenWriteIntervalMs / 2)));
    this.flushTimer = setInterval(() => void this.flushLastSeen(), flushIntervalMs);
    this.flushTimer.unref();
  }

  addListener(listener: SessionLifecycleListener): void {
    this.listeners.push(listener);
  }

  /** Signs a user in: verifies the password, applies the session limit, issues a new token. */
  async login(username: string, password: string, device: DeviceInfo): Promise<LoginResult> {
    checkLoginInputSize(username, password);
    const user = await this.store.findUserByUsernameKey(usernameKey(username.trim()));
    // Always one verification, against a dummy hash for unknown users: same time, same error.
    const passwordMatches = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !passwordMatches) throw invalidCredentials();

    const now = this.clock.now();
    const token = generateToken();
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      tokenHash: hashToken(token),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.policy.maxAgeMs),
      endedAt: null,
      endReason: null,
      userAgent: device.userAgent,
      ipAddress: device.ipAddress,
    };
    const limit = user.sessionLimit ?? this.policy.maxSessionsPerUser;
    // The login may supersede sessions whose ids are not known yet (see endSession).
    if (limit > 0) this.cache?.evictUser(user.id);

    // The limit is checked and applied under the user's row lock, in the same transaction as the
    // insert: concurrent logins cannot both see room for one more.
    const superseded = await this.store.withUserLocked(user.id, async (tx) => {
      let ended: SessionRecord[] = [];
      if (limit > 0) {
        const open = await tx.listActiveSessions(this.activeAt(now));
        if (open.length >= limit) {
          if (this.policy.limitStrategy === 'deny-new') {
            throw new GatehouseError('SESSION_LIMIT', `Session limit reached (${limit} active)`, { limit });
          }
          const oldest = open.slice(0, open.length - limit + 1).map((s) => s.id);
          ended = await tx.endSessions(oldest, 'SUPERSEDED', now);
        }
      }
      await tx.insertSession(session);
      return ended;
    });

    for (const ended of superseded) this.afterSessionEnded(ended);
    this.notify((listener) => listener.sessionStarted?.(session, user));
    return { viewer: { user, session }, token };
  }

  /**
   * Turns a token into the viewer it belongs to, or null. Garbage, unknown, ended and expired
   * tokens are all simply null; an expired session found here is ended with `EXPIRED`.
   */
  async authenticate(token: string | undefined): Promise<Viewer | null> {
    if (token === undefined || !isWellFormedToken(token)) return null;
    const tokenHash = hashToken(token);
    let viewer = this.cache?.get(tokenHash);
    if (!viewer) {
      const generation = this.cache?.generation ?? 0;
      viewer = await this.store.findViewerByTokenHash(tokenHash);
      if (!viewer) return null;
      if (viewer.session.endedAt === null) this.cache?.setIfUnchanged(tokenHash, viewer, generation);
    }
    const { session } = viewer;
    if (session.endedAt !== null) return null;

    const now = this.clock.now();
    const pending = this.pendingLastSeen.get(session.id);
    if (pending && pending > session.lastSeenAt) session.lastSeenAt = pending;
    if (this.hasExpired(session, now)) {
      await this.endSession(session.id, 'EXPIRED');
      return null;
    }
    if (now.getTime() - session.lastSeenAt.getTime() >= this.lastSeenWriteIntervalMs) {
      // The cached record is shared, so updating it here is what the next request sees.
      session.lastSeenAt = now;
      this.pendingLastSeen.set(session.id, now);
    }
    return viewer;
  }

  /** True when the session is past its absolute expiry or has been idle too long at `now`. */
  hasExpired(session: SessionRecord, now: Date): boolean {
    return (
      now.getTime() >= session.expiresAt.getTime() ||
      now.getTime() - session.lastSeenAt.getTime() >= this.policy.idleTimeoutMs
    );
  }

  /** Not ended and not expired now. */
  isActive(session: SessionRecord): boolean {
    return session.endedAt === null && !this.hasExpired(session, this.clock.now());
  }

  async findSession(sessionId: string): Promise<SessionRecord | undefined> {
    return this.store.findSessionById(sessionId);
  }

  async requireUser(userId: string): Promise<UserRecord> {
    const user = await this.store.findUserById(userId);
    if (!user) throw new GatehouseError('NOT_FOUND', 'No such user');
    return user;
  }

  /** Ends the viewer's own session (`LOGOUT`). */
  async logout(viewer: Viewer): Promise<void> {
    await this.endSession(viewer.session.id, 'LOGOUT');
  }

  /**
   * Ends one session with `reason`, keeping its row. Returns the ended session, or undefined
   * when it was already ended (or never existed): ending is idempotent.
   */
  async endSession(sessionId: string, reason: SessionEndReason): Promise<SessionRecord | undefined> {
    // Evict before the write as well as after: no request may be served from the cache while
    // the end is in flight.
    this.cache?.evictSession(sessionId);
    const ended = await this.store.endSession(sessionId, reason, this.clock.now());
    if (ended) this.afterSessionEnded(ended);
    return ended;
  }

  /**
   * Ends one session on behalf of `actor`: an ADMIN may end any, a user only their own. Someone
   * else's session is reported as not found, so ids cannot be probed. An already-ended session
   * is returned unchanged.
   */
  async kickSession(actor: Viewer, sessionId: string): Promise<SessionRecord> {
    const session = await this.store.findSessionById(sessionId);
    if (!session || (actor.user.role !== 'ADMIN' && session.userId !== actor.user.id)) {
      throw new GatehouseError('NOT_FOUND', 'No such session');
    }
    if (session.endedAt !== null) return session;
    return (await this.endSession(sessionId, 'KICKED')) ?? (await this.store.findSessionById(sessionId)) ?? session;
  }

  /** Ends all of the viewer's sessions but the current one. Returns how many ended. */
  async revokeOtherSessions(viewer: Viewer): Promise<number> {
    return (await this.endUserSessions(viewer.user.id, 'USER_SESSIONS_REVOKED', viewer.session.id)).length;
  }

  /** Ends all of a user's sessions (an admin action). Returns how many ended. */
  async revokeUserSessions(userId: string): Promise<number> {
    await this.requireUser(userId);
    return (await this.endUserSessions(userId, 'USER_SESSIONS_REVOKED')).length;
  }

  /**
   * Changes the viewer's password after checking the current one, and ends their other
   * sessions (`PASSWORD_CHANGED`): whoever knew the old password is signed out everywhere else.
   */
  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string): Promise<number> {
    checkLoginInputSize(viewer.user.username, currentPassword);
    validateNewPassword(newPassword, 'newPassword');
    const user = await this.requireUser(viewer.user.id);
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new GatehouseError('INVALID_CREDENTIALS', 'Current password is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.store.updatePasswordHash(user.id, passwordHash, this.clock.now());
    viewer.user.passwordHash = passwordHash;
    return (await this.endUserSessions(user.id, 'PASSWORD_CHANGED', viewer.session.id)).length;
  }

  /**
   * Sets a user's own session limit (0 = unlimited for them), or null to fall back to the
   * global `MAX_SESSIONS_PER_USER`. Applies from the user's next login.
   */
  async setUserSessionLimit(userId: string, limit: number | null): Promise<UserRecord> {
    if (limit !== null && (!Number.isInteger(limit) || limit < 0 || limit > MAX_SESSION_LIMIT)) {
      throw badUserInput(`Session limit must be from 0 (no limit) to ${MAX_SESSION_LIMIT}, or null`, 'limit');
    }
    const user = await this.store.updateSessionLimit(userId, limit, this.clock.now());
    if (!user) throw new GatehouseError('NOT_FOUND', 'No such user');
    return user;
  }

  /** One page of active sessions, newest first, with the total across all pages. */
  async listActiveSessions(query: { userId?: string; first: number; after?: SessionCursor }): Promise<SessionPage> {
    const activeAt = this.activeAt(this.clock.now());
    const [rows, totalCount] = await Promise.all([
      this.store.listSessions({ ...query, activeAt, limit: query.first + 1 }),
      this.store.countActiveSessions(activeAt, query.userId),
    ]);
    return { sessions: rows.slice(0, query.first), hasNextPage: rows.length > query.first, totalCount };
  }

  /** A user's sessions, newest first; ended and expired ones too when `includeEnded`. */
  async listUserSessions(userId: string, includeEnded: boolean): Promise<SessionRecord[]> {
    return this.store.listSessions({
      userId,
      ...(includeEnded ? {} : { activeAt: this.activeAt(this.clock.now()) }),
      limit: USER_SESSION_LIST_LIMIT,
    });
  }

  async findUsersByIds(ids: readonly string[]): Promise<UserRecord[]> {
    return this.store.findUsersByIds(ids);
  }

  /** Active session counts per user; users without one are absent from the map. */
  async countActiveSessionsByUser(userIds: readonly string[]): Promise<Map<string, number>> {
    return this.store.countActiveSessionsByUser(this.activeAt(this.clock.now()), userIds);
  }

  /** Dashboard figures; the "since" figures cover the last 24 hours. */
  async stats(): Promise<SessionStats & { since: Date }> {
    const now = this.clock.now();
    const since = new Date(now.getTime() - 86_400_000);
    return { ...(await this.store.sessionStats(this.activeAt(now), since)), since };
  }

  /**
   * Ends sessions past their expiry (`EXPIRED`, so they show as ended with a reason) and
   * deletes rows that ended longer than `retentionMs` ago, a batch per statement.
   */
  async sweep(retentionMs: number): Promise<SweepResult> {
    // Activity this process has not written yet would otherwise make live sessions look idle.
    await this.flushLastSeen();
    const now = this.clock.now();
    const result: SweepResult = { expired: 0, deleted: 0 };
    for (;;) {
      const ended = await this.store.endInactiveSessions(this.activeAt(now), SWEEP_BATCH_SIZE);
      for (const session of ended) this.afterSessionEnded(session);
      result.expired += ended.length;
      if (ended.length < SWEEP_BATCH_SIZE) break;
    }
    const cutoff = new Date(now.getTime() - retentionMs);
    for (;;) {
      const deleted = await this.store.deleteSessionsEndedBefore(cutoff, SWEEP_BATCH_SIZE);
      result.deleted += deleted;
      if (deleted < SWEEP_BATCH_SIZE) break;
    }
    return result;
  }

  /** Creates a user with a validated username and password. */
  async createUser(input: { username: string; password: string; role: Role }): Promise<UserRecord> {
    const username = normalizeNewUsername(input.username);
    validateNewPassword(input.password);
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.store.insertUser(
      { username: username.display, usernameKey: username.key, passwordHash, role: input.role },
      this.clock.now(),
    );
    if (!user) throw new GatehouseError('BAD_USER_INPUT', 'Username is already taken', { field: 'username' });
    return user;
  }

  /**
   * Makes sure an admin exists. With no admin yet: creates `username`/`password` when given,
   * else `admin` with a random password, which is returned so the caller can print it once.
   */
  async ensureAdmin(credentials: {
    username?: string;
    password?: string;
  }): Promise<{ user: UserRecord; generatedPassword?: string } | undefined> {
    if ((await this.store.countAdmins()) > 0) return undefined;
    if (credentials.username !== undefined && credentials.password !== undefined) {
      const user = await this.createUser({
        username: credentials.username,
        password: credentials.password,
        role: 'ADMIN',
      });
      return { user };
    }
    const generatedPassword = randomBytes(18).toString('base64url');
    const user = await this.createUser({ username: 'admin', password: generatedPassword, role: 'ADMIN' });
    return { user, generatedPassword };
  }

  /** Drops a session from this process's cache: for ends that happened on another instance. */
  evictFromCache(sessionId: string): void {
    this.cache?.evictSession(sessionId);
  }

  /** Writes the queued `lastSeenAt` values in one transaction. */
  flushLastSeen(): Promise<void> {
    // Chained so that flushes never overlap and a caller awaiting this sees its values written.
    this.flushing = this.flushing.then(async () => {
      if (this.pendingLastSeen.size === 0) return;
      const batch = this.pendingLastSeen;
      this.pendingLastSeen = new Map();
      try {
        await this.store.touchSessions(batch);
      } catch (error) {
        this.logger.warn('could not write lastSeenAt', { error, sessions: batch.size });
      }
    });
    return this.flushing;
  }

  /** Stops the flush timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastSeen();
  }

  private async endUserSessions(
    userId: string,
    reason: SessionEndReason,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]> {
    this.cache?.evictUser(userId);
    const ended = await this.store.endUserSessions(userId, reason, this.clock.now(), exceptSessionId);
    for (const session of ended) this.afterSessionEnded(session);
    return ended;
  }

  private activeAt(now: Date) {
    return { now, idleTimeoutMs: this.policy.idleTimeoutMs };
  }

  private afterSessionEnded(session: SessionRecord): void {
    this.cache?.evictSession(session.id);
    this.pendingLastSeen.delete(session.id);
    this.notify((listener) => listener.sessionEnded?.(session));
  }

  private notify(call: (listener: SessionLifecycleListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (error) {
        this.logger.error('session listener failed', { error });
      }
    }
  }
}
