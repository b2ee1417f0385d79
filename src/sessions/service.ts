import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, normalizeNewUsername, usernameKey, validateNewPassword } from './credentials.js';
import { GatehouseError, invalidCredentials } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionStore } from './store.js';
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
    this.flushTimer = setInterval(() => void this.flushLastSeen(), options.lastSeenFlushIntervalMs ?? 1000);
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

    // The limit is checked and applied under the user's row lock, in the same transaction as the
    // insert: concurrent logins cannot both see room for one more.
    const superseded = await this.store.withUserLocked(user.id, async (tx) => {
      let ended: SessionRecord[] = [];
      if (limit > 0) {
        const open = await tx.listOpenSessions(now, this.policy.idleTimeoutMs);
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
