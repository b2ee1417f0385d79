import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, loginUsernameKey } from './credentials.js';
import type { SessionEnds } from './ends.js';
import { GatehouseError, invalidCredentials } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import type { SessionLifecycle } from './lifecycle.js';
import type { PasswordHasher } from './passwords.js';
import { sessionLimitOf, type ActiveAt, type SessionPolicy } from './policy.js';
import type { SessionStore, UserSessionsTx, UserStore } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { generateToken, hashToken } from './tokens.js';
import type { ChangeOrigin, DeviceInfo, NewSession, SessionRecord, UserRecord, Viewer } from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface LoginOptions {
  users: Pick<UserStore, 'findUserByUsernameKey'>;
  sessions: Pick<SessionStore, 'withUserLocked'>;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  lastSeen: LastSeenWriter;
  ends: SessionEnds;
  audit: AuditLog;
  lifecycle: SessionLifecycle;
  cache: ViewerCache | undefined;
}

export interface LoginResult {
  viewer: Viewer;
  /** The bearer secret: goes to the client once, is never stored. */
  token: string;
}

/** Longest typed username kept in the audit log of a failed or throttled login. */
const AUDITED_USERNAME_LENGTH = 256;

/**
 * An attempt waits for those ahead of it on the same account while they move; once none has
 * finished for this long, the one ahead is stuck on a database that does not answer (a request's
 * queries give up within 5 s), and this one answers UNAVAILABLE rather than queue behind it
 * (KeyedQueue). An attempt takes milliseconds and a hash (~25 ms, longer while a login storm
 * fills the hash threads).
 */
const LOGIN_QUEUE_STALL_MS = 3_000;

/**
 * Signing in, in three steps: reserve an attempt with the brute-force throttle, check the
 * password, start the session (applying the session limit in the same transaction as the
 * insert). Attempts on one account run one at a time, so concurrent guesses cannot all pass the
 * throttle before any of their failures is counted.
 */
export class LoginService {
  private readonly queue = new KeyedQueue({
    ms: LOGIN_QUEUE_STALL_MS,
    error: () => new GatehouseError('UNAVAILABLE', 'Earlier sign-ins to this account are waiting for the database'),
  });

  constructor(private readonly options: LoginOptions) {}

  /**
   * Signs a user in and issues a new token. `replacing` is the session the request was already
   * signed in with: it ends (SUPERSEDED), since its client now holds the new token and the old
   * one must not live on unseen (ASVS 7.2.4).
   */
  async login(username: string, password: string, device: DeviceInfo, replacing?: Viewer | null) {
    const startedAt = performance.now();
    try {
      const result = await this.attempt(username, password, device, replacing);
      this.options.lifecycle.loginFinished('succeeded', performance.now() - startedAt);
      return result;
    } catch (error) {
      const outcome = error instanceof GatehouseError ? error.code : 'error';
      this.options.lifecycle.loginFinished(outcome, performance.now() - startedAt);
      throw error;
    }
  }

  private async attempt(username: string, password: string, device: DeviceInfo, replacing?: Viewer | null) {
    checkLoginInputSize(username, password);
    const key = loginUsernameKey(username);
    const result = await this.queue.run(key, async () => {
      const attempt = { key, typedUsername: username.trim().slice(0, AUDITED_USERNAME_LENGTH), device };
      await this.reserveAttempt(attempt);
      const user = await this.checkPassword(attempt, password);
      return this.startSession(user, attempt);
    });
    if (replacing && replacing.session.id !== result.viewer.session.id) {
      const origin = { actorUserId: result.viewer.user.id, device };
      await this.options.ends.endSession(replacing.session.id, 'SUPERSEDED', origin);
    }
    return result;
  }

  /** Counts the attempt against the account and the IP, or refuses it (RATE_LIMITED). */
  private async reserveAttempt(attempt: LoginAttempt): Promise<void> {
    const { throttle, users, audit, clock } = this.options;
    const refused = await throttle.reserve(attempt.key, attempt.device.ipAddress, clock.now());
    if (!refused) return;
    const user = await users.findUserByUsernameKey(attempt.key);
    await audit.record('LOGIN_RATE_LIMITED', anonymous(attempt.device), {
      userId: user?.id ?? null,
      username: attempt.typedUsername,
    });
    const { retryAfterSeconds } = refused;
    throw new GatehouseError('RATE_LIMITED', `Too many failed logins; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }

  /**
   * Always one verification, against a dummy hash for unknown users: a wrong username and a
   * wrong password take the same time and give the same error. A right password is given back
   * to the throttle by {@link startSession}, in the session's transaction.
   */
  private async checkPassword(attempt: LoginAttempt, password: string): Promise<UserRecord> {
    const { users, hasher, audit } = this.options;
    const user = await users.findUserByUsernameKey(attempt.key);
    const matches = await hasher.verify(user?.passwordHash, password);
    if (!user || !matches) {
      await audit.record('LOGIN_FAILED', anonymous(attempt.device), {
        userId: user?.id ?? null,
        username: attempt.typedUsername,
      });
      throw invalidCredentials();
    }
    // The right password for a disabled account: said as such (only the password's owner can
    // learn it), but still counted by the throttle, so it cannot be used to test guesses.
    if (user.disabledAt) throw await this.refuseDisabled(user, attempt.device);
    return user;
  }

  private async refuseDisabled(user: UserRecord, device: DeviceInfo): Promise<GatehouseError> {
    await this.options.audit.record('LOGIN_REFUSED_DISABLED', anonymous(device), { userId: user.id });
    return new GatehouseError('ACCOUNT_DISABLED', 'This account is disabled');
  }

  private async startSession(user: UserRecord, attempt: LoginAttempt): Promise<LoginResult> {
    const { clock, policy, audit, ends, lifecycle } = this.options;
    const { device } = attempt;
    const token = generateToken();
    const session = newSession(user, device, clock.now(), policy.maxAgeMs);
    const succeeded = audit.event('LOGIN_SUCCEEDED', anonymous(device), { userId: user.id, sessionId: session.id });
    const started = { ...session, tokenHash: hashToken(token) };
    const superseded = await this.insertWithinLimit(started, user, attempt, succeeded);
    await ends.announce(superseded, { actorUserId: user.id, device });
    audit.committed([succeeded]);
    lifecycle.started(session, user);
    return { viewer: { user, session }, token };
  }

  /**
   * Inserts the session under the user's row lock, in the same transaction that checks the
   * account may still sign in (a disable may have just committed) and applies the session limit,
   * so concurrent logins cannot both see room for one more. Returns the sessions it ended to
   * make room (SUPERSEDED).
   *
   * The throttle's success and the `succeeded` audit event are written in that transaction too:
   * a session never exists without its LOGIN_SUCCEEDED, and the login commits once instead of
   * four times (each commit is an fsync, and its CPU competes with the hash threads).
   */
  private async insertWithinLimit(
    session: NewSession,
    user: UserRecord,
    attempt: LoginAttempt,
    succeeded: AuthEventRecord,
  ) {
    const { sessions, cache, lastSeen, audit, policy, throttle } = this.options;
    const origin = { actorUserId: user.id, device: attempt.device };
    // The login may supersede sessions whose ids are not known yet, cached or not.
    if (sessionLimitOf(user, policy) > 0) cache?.evictUser(user.id);
    // The count reads last_seen_at (see LastSeenWriter); asked for before the transaction,
    // which on SQLite holds the only connection.
    const activeAt = await lastSeen.activeAt(session.createdAt);
    try {
      return await sessions.withUserLocked(user.id, async (tx) => {
        if (!tx.user) throw invalidCredentials();
        if (tx.user.disabledAt) throw new GatehouseError('ACCOUNT_DISABLED', 'This account is disabled');
        const superseded = await this.makeRoom(tx, sessionLimitOf(tx.user, policy), activeAt, session.createdAt);
        await tx.insertSession(session);
        await throttle.succeeded(attempt.key, attempt.device.ipAddress, tx.loginThrottles);
        await tx.insertAuthEvents([succeeded]);
        return superseded;
      });
    } catch (error) {
      // Refused with the right password: the throttle counts no failure, as for a login that started.
      if (error instanceof GatehouseError) await throttle.succeeded(attempt.key, attempt.device.ipAddress);
      if (error instanceof GatehouseError && error.code === 'SESSION_LIMIT') {
        await audit.record('SESSION_LIMIT_REACHED', origin, { userId: user.id });
      } else if (error instanceof GatehouseError && error.code === 'ACCOUNT_DISABLED') {
        await audit.record('LOGIN_REFUSED_DISABLED', origin, { userId: user.id });
      }
      throw error;
    }
  }

  /** Room for one more session under `limit` (0: none): refused, or the oldest ended (SUPERSEDED). */
  private async makeRoom(tx: UserSessionsTx, limit: number, activeAt: ActiveAt, at: Date): Promise<SessionRecord[]> {
    if (limit === 0) return [];
    const open = await tx.listActiveSessions(activeAt);
    if (open.length < limit) return [];
    if (this.options.policy.limitStrategy === 'deny-new') {
      throw new GatehouseError('SESSION_LIMIT', `Session limit reached (${limit} active)`, { limit });
    }
    const oldest = open.slice(0, open.length - limit + 1).map((s) => s.id);
    return tx.endSessions(oldest, 'SUPERSEDED', at);
  }
}

interface LoginAttempt {
  /** The normalised username the attempt is counted and looked up by. */
  key: string;
  /** As typed, trimmed and bounded: what the audit log shows of a failed attempt. */
  typedUsername: string;
  device: DeviceInfo;
}

/** Login events are the system's doing until someone is signed in. */
const anonymous = (device: DeviceInfo): ChangeOrigin => ({ actorUserId: null, device });

function newSession(user: UserRecord, device: DeviceInfo, now: Date, maxAgeMs: number): SessionRecord {
  return {
    id: randomUUID(),
    userId: user.id,
    createdAt: now,
    lastSeenAt: now,
    authenticatedAt: now,
    expiresAt: new Date(now.getTime() + maxAgeMs),
    endedAt: null,
    endReason: null,
    userAgent: device.userAgent,
    ipAddress: device.ipAddress,
  };
}
