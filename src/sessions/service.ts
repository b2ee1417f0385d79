import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { AuthEventRecord, AuthEventType } from './audit.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, loginUsernameKey, normalizeNewUsername, validateNewPassword } from './credentials.js';
import { badUserInput, GatehouseError, invalidCredentials } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import type { PageCursor, SessionStats, SessionStore } from './store.js';
import { generateToken, hashToken, isWellFormedToken } from './tokens.js';
import type { DeviceInfo, Role, SessionEndReason, SessionRecord, UserRecord, Viewer } from './types.js';
import { KeyedQueue } from './keyed-queue.js';
import {
  ACCOUNT_THROTTLE,
  accountThrottleKey,
  IP_THROTTLE,
  ipThrottleKey,
  retryAfterMs,
  THROTTLE_WINDOW_MS,
} from './throttle.js';
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
  /** Every audit event, as it is written (metrics count them). */
  authEvent?(event: AuthEventRecord): void;
}

export interface SessionServiceOptions {
  store: SessionStore;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  logger: Logger;
  /** Validated-session cache; omit it where ends on other instances cannot reach this one. */
  cache?: ViewerCache;
  /** How often throttled `lastSeenAt` values are written, batched. Default: half the throttle interval, between 50 and 1000 ms. */
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
  /** Audit events deleted because they are older than their retention period. */
  deletedAuthEvents: number;
}

/** Where a change came from, for the audit log: who asked, from which address and client. */
export interface ChangeOrigin {
  /** The signed-in user who asked; null for the system (sweeper, expiry). */
  actorUserId: string | null;
  device: DeviceInfo;
}

const SYSTEM: ChangeOrigin = { actorUserId: null, device: { userAgent: null, ipAddress: null } };

/**
 * The session rules: sign in, authenticate a token, end sessions. Knows nothing of GraphQL,
 * HTTP or SQL; storage, hashing, time and notification are handed in.
 */
async function deleteInBatches(deleteBatch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(SWEEP_BATCH_SIZE);
    total += deleted;
    if (deleted < SWEEP_BATCH_SIZE) return total;
  }
}

export class SessionService {
  private readonly store: SessionStore;
  private readonly hasher: PasswordHasher;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly cache: ViewerCache | undefined;
  private readonly listeners: SessionLifecycleListener[] = [];
  readonly policy: SessionPolicy;
  /**
   * Throttle for `lastSeenAt` writes. With a short idle timeout, once a minute would let an
   * active session idle out, so the interval shrinks to a quarter of the timeout.
   */
  private readonly lastSeenWriteIntervalMs: number;
  private pendingLastSeen = new Map<string, Date>();
  /** The batch being written: still the freshest truth until its transaction commits. */
  private writingLastSeen: ReadonlyMap<string, Date> = new Map();
  private flushing: Promise<void> = Promise.resolve();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly loginQueue = new KeyedQueue();
  /** Expiry timers for sessions someone is listening to, with how many listen. */
  private readonly expiryWatches = new Map<string, { timer: NodeJS.Timeout | undefined; listeners: number }>();

  constructor(options: SessionServiceOptions) {
    this.store = options.store;
    this.hasher = options.hasher;
    this.clock = options.clock;
    this.logger = options.logger;
    this.cache = options.cache;
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

  /**
   * Signs a user in: checks the brute-force throttle, verifies the password, applies the
   * session limit, issues a new token. Attempts on one account run one at a time. `replacing`
   * is the session the request was already signed in with: it ends (SUPERSEDED).
   */
  async login(username: string, password: string, device: DeviceInfo, replacing?: Viewer | null): Promise<LoginResult> {
    checkLoginInputSize(username, password);
    const key = loginUsernameKey(username);
    const result = await this.loginQueue.run(key, () => this.loginInOrder(key, username.trim(), password, device));
    // The session whose token this request carried is replaced by the new one (ASVS 7.2.4):
    // its client now holds the new token, so the old one must not live on unseen.
    if (replacing && replacing.session.id !== result.viewer.session.id) {
      await this.endSession(replacing.session.id, 'SUPERSEDED', { actorUserId: result.viewer.user.id, device });
    }
    return result;
  }

  private async loginInOrder(key: string, typedUsername: string, password: string, device: DeviceInfo) {
    const origin: ChangeOrigin = { actorUserId: null, device };
    const accountKey = accountThrottleKey(key);
    const ipKey = device.ipAddress ? ipThrottleKey(device.ipAddress) : undefined;
    // Each attempt is counted as a failure before the password is checked, atomically in the
    // database, so that concurrent attempts (on any instance) cannot all slip under the limit.
    // A success gives it back.
    const now = this.clock.now();
    let refused = await this.store.reserveLoginAttempt(accountKey, ACCOUNT_THROTTLE, now);
    let refusingRule = ACCOUNT_THROTTLE;
    if (!refused && ipKey) {
      refused = await this.store.reserveLoginAttempt(ipKey, IP_THROTTLE, now);
      refusingRule = IP_THROTTLE;
      if (refused) await this.store.releaseLoginAttempt(accountKey);
    }
    if (refused) {
      const user = await this.store.findUserByUsernameKey(key);
      await this.audit('LOGIN_RATE_LIMITED', origin, {
        userId: user?.id ?? null,
        username: typedUsername.slice(0, 256),
      });
      const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs(refused, refusingRule, now) / 1000));
      throw new GatehouseError('RATE_LIMITED', `Too many failed logins; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }

    const user = await this.store.findUserByUsernameKey(key);
    // Always one verification, against a dummy hash for unknown users: same time, same error.
    const passwordMatches = await this.hasher.verify(user?.passwordHash, password);
    if (!user || !passwordMatches) {
      await this.audit('LOGIN_FAILED', origin, { userId: user?.id ?? null, username: typedUsername.slice(0, 256) });
      throw invalidCredentials();
    }
    await this.store.clearLoginThrottle(accountKey);
    if (ipKey) await this.store.releaseLoginAttempt(ipKey);

    const startedAt = this.clock.now();
    const token = generateToken();
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      tokenHash: hashToken(token),
      createdAt: startedAt,
      lastSeenAt: startedAt,
      expiresAt: new Date(startedAt.getTime() + this.policy.maxAgeMs),
      endedAt: null,
      endReason: null,
      userAgent: device.userAgent,
      ipAddress: device.ipAddress,
    };
    const limit = user.sessionLimit ?? this.policy.maxSessionsPerUser;
    if (limit > 0) {
      // The login may supersede sessions whose ids are not known yet (see endSession).
      this.cache?.evictUser(user.id);
      // The limit counts active sessions by last_seen_at: unwritten activity must be in it.
      await this.flushLastSeen();
    }

    // The limit is checked and applied under the user's row lock, in the same transaction as the
    // insert: concurrent logins cannot both see room for one more.
    let superseded: SessionRecord[];
    try {
      superseded = await this.store.withUserLocked(user.id, async (tx) => {
        let ended: SessionRecord[] = [];
        if (limit > 0) {
          const open = await tx.listActiveSessions(this.activeAt(startedAt));
          if (open.length >= limit) {
            if (this.policy.limitStrategy === 'deny-new') {
              throw new GatehouseError('SESSION_LIMIT', `Session limit reached (${limit} active)`, { limit });
            }
            const oldest = open.slice(0, open.length - limit + 1).map((s) => s.id);
            ended = await tx.endSessions(oldest, 'SUPERSEDED', startedAt);
          }
        }
        await tx.insertSession(session);
        return ended;
      });
    } catch (error) {
      if (error instanceof GatehouseError && error.code === 'SESSION_LIMIT') {
        await this.audit('SESSION_LIMIT_REACHED', { actorUserId: user.id, device }, { userId: user.id });
      }
      throw error;
    }

    await this.afterSessionsEnded(superseded, { actorUserId: user.id, device });
    await this.audit('LOGIN_SUCCEEDED', origin, { userId: user.id, sessionId: session.id });
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
    const fromCache = viewer !== undefined;
    if (!viewer) {
      const generation = this.cache?.generation ?? 0;
      viewer = await this.store.findViewerByTokenHash(tokenHash);
      if (!viewer) return null;
      if (viewer.session.endedAt === null) this.cache?.setIfUnchanged(tokenHash, viewer, generation);
    }
    const { session } = viewer;
    if (session.endedAt !== null) return null;

    const now = this.clock.now();
    this.applyUnwrittenLastSeen(session);
    if (fromCache && this.hasExpired(session, now) && now < session.expiresAt) {
      // Idle by the cached copy, but the session may have been used through another instance
      // since it was cached: the stored last-seen time decides.
      const stored = await this.store.findSessionById(session.id);
      if (stored?.endedAt) {
        this.cache?.evictSession(session.id);
        return null;
      }
      if (stored && stored.lastSeenAt > session.lastSeenAt) session.lastSeenAt = stored.lastSeenAt;
    }
    if (this.hasExpired(session, now)) {
      await this.endSession(session.id, 'EXPIRED', SYSTEM);
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

  /**
   * Ends the session with `EXPIRED` the moment it expires (absolute or idle), for as long as
   * someone listens to it (a live subscription or socket), instead of waiting for the sweeper
   * or the next request. Returns a function that stops listening.
   */
  watchExpiry(sessionId: string): () => void {
    let watch = this.expiryWatches.get(sessionId);
    if (!watch) {
      watch = { timer: undefined, listeners: 0 };
      this.expiryWatches.set(sessionId, watch);
      void this.scheduleExpiryCheck(sessionId);
    }
    watch.listeners++;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const current = this.expiryWatches.get(sessionId);
      if (current && --current.listeners === 0) {
        clearTimeout(current.timer);
        this.expiryWatches.delete(sessionId);
      }
    };
  }

  private async scheduleExpiryCheck(sessionId: string): Promise<void> {
    try {
      const session = await this.store.findSessionById(sessionId);
      const watch = this.expiryWatches.get(sessionId);
      if (!watch || !session || session.endedAt !== null) return;
      this.applyUnwrittenLastSeen(session);
      const now = this.clock.now();
      if (this.hasExpired(session, now)) {
        await this.endSession(sessionId, 'EXPIRED', SYSTEM);
        return;
      }
      const dueAt = Math.min(session.expiresAt.getTime(), session.lastSeenAt.getTime() + this.policy.idleTimeoutMs);
      // Timers cap at ~24.8 days; a later expiry is simply checked again then.
      const delay = Math.min(Math.max(0, dueAt - now.getTime()) + 5, 2 ** 31 - 1);
      watch.timer = setTimeout(() => void this.scheduleExpiryCheck(sessionId), delay);
      watch.timer.unref();
    } catch (error) {
      this.logger.warn('expiry check failed', { error, sessionId });
    }
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
  async logout(viewer: Viewer, device: DeviceInfo): Promise<void> {
    await this.endSession(viewer.session.id, 'LOGOUT', { actorUserId: viewer.user.id, device });
  }

  /**
   * Ends one session with `reason`, keeping its row. Returns the ended session, or undefined
   * when it was already ended (or never existed): ending is idempotent.
   */
  async endSession(
    sessionId: string,
    reason: SessionEndReason,
    origin: ChangeOrigin,
  ): Promise<SessionRecord | undefined> {
    // Evict before the write as well as after: no request may be served from the cache while
    // the end is in flight.
    this.cache?.evictSession(sessionId);
    const ended = await this.store.endSession(sessionId, reason, this.clock.now());
    if (ended) await this.afterSessionsEnded([ended], origin);
    return ended;
  }

  /**
   * Ends one session on behalf of `actor`: an ADMIN may end any, a user only their own. Someone
   * else's session is reported as not found, so ids cannot be probed. An already-ended session
   * is returned unchanged.
   */
  async kickSession(actor: Viewer, sessionId: string, device: DeviceInfo): Promise<SessionRecord> {
    const session = await this.store.findSessionById(sessionId);
    if (!session || (actor.user.role !== 'ADMIN' && session.userId !== actor.user.id)) {
      throw new GatehouseError('NOT_FOUND', 'No such session');
    }
    if (session.endedAt !== null) return session;
    const origin = { actorUserId: actor.user.id, device };
    this.applyUnwrittenLastSeen(session);
    // A session that has already expired is recorded as such, not as kicked.
    const reason = this.hasExpired(session, this.clock.now()) ? 'EXPIRED' : 'KICKED';
    const ended = await this.endSession(sessionId, reason, origin);
    // Undefined only if something else ended it in between: show that end as it is.
    return ended ?? (await this.store.findSessionById(sessionId)) ?? session;
  }

  /** Ends all of the viewer's sessions but the current one. Returns how many ended. */
  async revokeOtherSessions(viewer: Viewer, device: DeviceInfo): Promise<number> {
    const origin = { actorUserId: viewer.user.id, device };
    return (await this.endUserSessions(viewer.user.id, 'USER_SESSIONS_REVOKED', origin, viewer.session.id)).length;
  }

  /** Ends all of a user's sessions (an admin action). Returns how many ended. */
  async revokeUserSessions(actor: Viewer, userId: string, device: DeviceInfo): Promise<number> {
    await this.requireUser(userId);
    return (await this.endUserSessions(userId, 'USER_SESSIONS_REVOKED', { actorUserId: actor.user.id, device })).length;
  }

  /**
   * Changes the viewer's password after checking the current one, and ends their other
   * sessions (`PASSWORD_CHANGED`): whoever knew the old password is signed out everywhere else.
   */
  async changePassword(
    viewer: Viewer,
    currentPassword: string,
    newPassword: string,
    device: DeviceInfo,
  ): Promise<number> {
    checkLoginInputSize(viewer.user.username, currentPassword);
    validateNewPassword(newPassword, 'newPassword');
    const user = await this.requireUser(viewer.user.id);
    if (!(await this.hasher.verify(user.passwordHash, currentPassword))) {
      throw new GatehouseError('INVALID_CREDENTIALS', 'Current password is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.store.updatePasswordHash(user.id, passwordHash, this.clock.now());
    viewer.user.passwordHash = passwordHash;
    const origin = { actorUserId: user.id, device };
    await this.audit('PASSWORD_CHANGED', origin, { userId: user.id, sessionId: viewer.session.id });
    return (await this.endUserSessions(user.id, 'PASSWORD_CHANGED', origin, viewer.session.id)).length;
  }

  /**
   * Sets a user's own session limit (0 = unlimited for them), or null to fall back to the
   * global `MAX_SESSIONS_PER_USER`. Applies from the user's next login.
   */
  async setUserSessionLimit(
    actor: Viewer,
    userId: string,
    limit: number | null,
    device: DeviceInfo,
  ): Promise<UserRecord> {
    if (limit !== null && (!Number.isInteger(limit) || limit < 0 || limit > MAX_SESSION_LIMIT)) {
      throw badUserInput(`Session limit must be from 0 (no limit) to ${MAX_SESSION_LIMIT}, or null`, 'limit');
    }
    const user = await this.store.updateSessionLimit(userId, limit, this.clock.now());
    if (!user) throw new GatehouseError('NOT_FOUND', 'No such user');
    // Cached viewers hold the user record; the next request reloads it with the new limit.
    this.cache?.evictUser(userId);
    await this.audit('SESSION_LIMIT_CHANGED', { actorUserId: actor.user.id, device }, { userId });
    return user;
  }

  /** One page of active sessions, newest first, with the total across all pages. */
  async listActiveSessions(query: { userId?: string; first: number; after?: PageCursor }): Promise<SessionPage> {
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
  async sweep(retention: { sessionsMs: number; authEventsMs: number }): Promise<SweepResult> {
    // Activity this process has not written yet would otherwise make live sessions look idle.
    await this.flushLastSeen();
    const now = this.clock.now();
    const result: SweepResult = { expired: 0, deleted: 0, deletedAuthEvents: 0 };
    for (;;) {
      const ended = await this.store.endInactiveSessions(this.activeAt(now), SWEEP_BATCH_SIZE);
      await this.afterSessionsEnded(ended, SYSTEM);
      result.expired += ended.length;
      if (ended.length < SWEEP_BATCH_SIZE) break;
    }
    result.deleted = await deleteInBatches((limit) =>
      this.store.deleteSessionsEndedBefore(new Date(now.getTime() - retention.sessionsMs), limit),
    );
    result.deletedAuthEvents = await deleteInBatches((limit) =>
      this.store.deleteAuthEventsBefore(new Date(now.getTime() - retention.authEventsMs), limit),
    );
    await this.store.deleteLoginThrottlesBefore(new Date(now.getTime() - THROTTLE_WINDOW_MS));
    return result;
  }

  /** Creates a user with a validated username and password. */
  async createUser(
    input: { username: string; password: string; role: Role },
    origin: ChangeOrigin = SYSTEM,
  ): Promise<UserRecord> {
    const username = normalizeNewUsername(input.username);
    validateNewPassword(input.password);
    const passwordHash = await this.hasher.hash(input.password);
    const user = await this.store.insertUser(
      { username: username.display, usernameKey: username.key, passwordHash, role: input.role },
      this.clock.now(),
    );
    if (!user) throw new GatehouseError('BAD_USER_INPUT', 'Username is already taken', { field: 'username' });
    await this.audit('USER_CREATED', origin, { userId: user.id });
    return user;
  }

  /** The audit log, newest first. */
  async listAuthEvents(query: { userId?: string; first: number; after?: PageCursor }) {
    const [rows, totalCount] = await Promise.all([
      this.store.listAuthEvents({ ...query, limit: query.first + 1 }),
      this.store.countAuthEvents(query.userId),
    ]);
    return { events: rows.slice(0, query.first), hasNextPage: rows.length > query.first, totalCount };
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

  /** Validated sessions cached in this process (for metrics). */
  get cachedSessions(): number {
    return this.cache?.size ?? 0;
  }

  /** Sessions whose expiry is being watched for live clients (for metrics). */
  get watchedExpiries(): number {
    return this.expiryWatches.size;
  }

  /** Active sessions now, from the database (for metrics). */
  async countActiveSessions(): Promise<number> {
    return this.store.countActiveSessions(this.activeAt(this.clock.now()));
  }

  /**
   * Turns the validated-session cache off (emptying it) while ends from other instances cannot
   * reach this one, and back on when they can.
   */
  setCacheEnabled(enabled: boolean): void {
    this.cache?.setEnabled(enabled);
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
      this.writingLastSeen = batch;
      try {
        await this.store.touchSessions(batch);
      } catch (error) {
        this.logger.warn('could not write lastSeenAt', { error, sessions: batch.size });
      } finally {
        this.writingLastSeen = new Map();
      }
    });
    return this.flushing;
  }

  /** Stops the flush timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    for (const watch of this.expiryWatches.values()) clearTimeout(watch.timer);
    this.expiryWatches.clear();
    await this.flushLastSeen();
  }

  private async endUserSessions(
    userId: string,
    reason: SessionEndReason,
    origin: ChangeOrigin,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]> {
    this.cache?.evictUser(userId);
    // The filter below reads last_seen_at: this process's unwritten activity must be in it, or a
    // live session could look idle and escape the revocation.
    await this.flushLastSeen();
    const now = this.clock.now();
    // Sessions that had already expired are recorded as EXPIRED, not as revoked, and not counted.
    const expired = await this.store.endInactiveSessions(this.activeAt(now), Number.MAX_SAFE_INTEGER, userId);
    await this.afterSessionsEnded(expired, SYSTEM);
    const ended = await this.store.endUserSessions(userId, reason, this.activeAt(now), exceptSessionId);
    await this.afterSessionsEnded(ended, origin);
    return ended;
  }

  /**
   * Writes audit events. A failure is logged, not thrown: the change it records has already
   * happened, and a user must still be able to sign out when the log cannot be written.
   */
  private async audit(
    type: AuthEventType,
    origin: ChangeOrigin,
    fields: Partial<Pick<AuthEventRecord, 'userId' | 'sessionId' | 'username' | 'reason'>>,
  ): Promise<void> {
    await this.writeAuthEvents([this.authEvent(type, origin, fields)]);
  }

  private authEvent(
    type: AuthEventType,
    origin: ChangeOrigin,
    fields: Partial<Pick<AuthEventRecord, 'userId' | 'sessionId' | 'username' | 'reason'>>,
  ): AuthEventRecord {
    return {
      id: randomUUID(),
      type,
      userId: fields.userId ?? null,
      sessionId: fields.sessionId ?? null,
      actorUserId: origin.actorUserId,
      username: fields.username ?? null,
      reason: fields.reason ?? null,
      ipAddress: origin.device.ipAddress,
      userAgent: origin.device.userAgent,
      createdAt: this.clock.now(),
    };
  }

  private async writeAuthEvents(events: AuthEventRecord[]): Promise<void> {
    for (const event of events) this.notify((listener) => listener.authEvent?.(event));
    try {
      await this.store.insertAuthEvents(events);
    } catch (error) {
      this.logger.error('could not write audit events', { error, events: events.length });
    }
  }

  /**
   * Activity this process has seen but not yet committed is newer than the row: a request
   * between queueing and commit must not find the session idle.
   */
  private applyUnwrittenLastSeen(session: SessionRecord): void {
    for (const unwritten of [this.pendingLastSeen.get(session.id), this.writingLastSeen.get(session.id)]) {
      if (unwritten && unwritten > session.lastSeenAt) session.lastSeenAt = unwritten;
    }
  }

  private activeAt(now: Date) {
    return { now, idleTimeoutMs: this.policy.idleTimeoutMs };
  }

  /** Everything that follows an end: the cache forgets it, listeners hear of it, the log records it. */
  private async afterSessionsEnded(sessions: readonly SessionRecord[], origin: ChangeOrigin): Promise<void> {
    if (sessions.length === 0) return;
    for (const session of sessions) {
      this.cache?.evictSession(session.id);
      this.pendingLastSeen.delete(session.id);
      this.notify((listener) => listener.sessionEnded?.(session));
    }
    await this.writeAuthEvents(
      sessions.map((session) =>
        this.authEvent('SESSION_ENDED', origin, {
          userId: session.userId,
          sessionId: session.id,
          reason: session.endReason,
        }),
      ),
    );
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
