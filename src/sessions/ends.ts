import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import type { Clock } from './clock.js';
import { notFound } from './errors.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import type { SessionLifecycle } from './lifecycle.js';
import { hasExpired, type SessionPolicy } from './policy.js';
import type { StepUp } from './step-up.js';
import type { SessionStore, UserStore } from './store.js';
import {
  originOf,
  originOfActor,
  SYSTEM_ORIGIN,
  type Actor,
  type ChangeOrigin,
  type DeviceInfo,
  type SessionEndReason,
  type SessionRecord,
  type Viewer,
} from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface SessionEndsOptions {
  sessions: SessionStore;
  users: Pick<UserStore, 'findUserById'>;
  clock: Clock;
  policy: SessionPolicy;
  lastSeen: LastSeenWriter;
  audit: AuditLog;
  lifecycle: SessionLifecycle;
  /** Validated-session cache, when there is one: every end evicts from it. */
  cache: ViewerCache | undefined;
  /** Step-up: ending one's own other sessions, or anyone's in bulk, needs a recent password proof. */
  stepUp: StepUp;
  /**
   * Resolves once every live instance has applied the ends committed so far (the server's
   * `events/propagation.ts`). Default: at once, as for a single process.
   */
  awaitEverywhere?: () => Promise<void>;
}

/**
 * Sessions `revokeAll` ends per statement. On SQLite's one connection a batch (one UPDATE …
 * RETURNING with its trigger rows, then its audit rows) took 4 ms at the median and 20 ms at
 * p99 for 50 rows on a loaded 2-core machine, against 28 and 123 ms for 200 rows, for about the
 * same total time (bench/revoke-all.ts): other requests wait little between batches.
 */
export const REVOKE_ALL_BATCH = 50;

/**
 * Sessions the sweeper announces per turn of the event loop: ~1 ms of work (cache, listeners,
 * live clients, audit event) on these machines, so a request waits at most about that long.
 */
const ANNOUNCE_SLICE = 250;

/** Lets requests that arrived during a batch run before the next one. */
export const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Every way a session ends: logout, kick, revocation, expiry. Ending keeps the row (with
 * `endedAt` and `endReason`), is idempotent, and is followed by the same steps whatever the
 * reason ({@link announce}).
 *
 * Safety rules: the cache is evicted before the write as well as after, so no request is served
 * from it while an end is in flight; and an end is acknowledged only when it holds everywhere,
 * so no call that ends sessions returns before every live instance has applied the end.
 */
export class SessionEnds {
  constructor(private readonly options: SessionEndsOptions) {}

  /**
   * Ends one session with `reason`. Returns the ended session, or undefined when it was already
   * ended (or never existed).
   */
  async endSession(sessionId: string, reason: SessionEndReason, origin: ChangeOrigin) {
    this.options.cache?.evictSession(sessionId);
    const ended = await this.options.sessions.endSession(sessionId, reason, this.options.clock.now());
    if (ended) await this.announce([ended], origin);
    return ended;
  }

  /**
   * Ends every active session of the user but `exceptSessionId`. Sessions that had already
   * expired are recorded as EXPIRED, not with `reason`, and are not counted.
   */
  async endUserSessions(
    userId: string,
    reason: SessionEndReason,
    origin: ChangeOrigin,
    exceptSessionId?: string,
  ): Promise<SessionRecord[]> {
    this.options.cache?.evictUser(userId);
    const activeAt = await this.options.lastSeen.activeAt();
    const expired = await this.options.sessions.endInactiveSessions(activeAt, Number.MAX_SAFE_INTEGER, userId);
    await this.announce(expired, SYSTEM_ORIGIN);
    const ended = await this.options.sessions.endUserSessions(userId, reason, activeAt, exceptSessionId);
    await this.announce(ended, origin);
    return ended;
  }

  /**
   * Ends (EXPIRED) up to `limit` sessions that are open but no longer active: the sweeper's
   * batch, in one statement. The cache forgets them at once (a request would find them expired
   * anyway); the rest of what follows an end is {@link announceExpired}'s, which the caller must
   * run on what this returns.
   */
  async expireInactive(limit: number): Promise<SessionRecord[]> {
    // activeAt() flushes queued lastSeenAt writes first, so a session in use is never taken for idle.
    const ended = await this.options.sessions.endInactiveSessions(await this.options.lastSeen.activeAt(), limit);
    for (const session of ended) this.options.cache?.evictSession(session.id);
    return ended;
  }

  /**
   * {@link announce} for a batch of {@link expireInactive}, in slices of {@link ANNOUNCE_SLICE},
   * each its own turn of the event loop so that requests run between them; the batch's audit
   * events are written in one statement once all are announced. Not acknowledged: the sweeper
   * calls {@link acknowledge} once per run, as `revokeAll` does, since waiting for every instance
   * after each batch would cost a barrier (a poll interval on SQLite) per batch.
   */
  async announceExpired(ended: readonly SessionRecord[]): Promise<void> {
    const at = this.options.clock.now();
    const events: AuthEventRecord[] = [];
    for (let from = 0; from < ended.length; from += ANNOUNCE_SLICE) {
      // The first slice too: taking the batch in (parsing, converting) was a task of its own.
      await yieldToRequests();
      const slice = ended.slice(from, from + ANNOUNCE_SLICE);
      this.announceHere(slice);
      for (const event of this.options.audit.endEvents(slice, SYSTEM_ORIGIN, at)) events.push(event);
    }
    await this.options.audit.insert(events);
  }

  /** Resolves once every live instance has applied the ends committed so far (see `awaitEverywhere`). */
  async acknowledge(): Promise<void> {
    await this.options.awaitEverywhere?.();
  }

  /** Ends the viewer's own session (`LOGOUT`). */
  async logout(viewer: Viewer, device: DeviceInfo): Promise<void> {
    await this.endSession(viewer.session.id, 'LOGOUT', originOf(viewer, device));
  }

  /**
   * Ends one session on behalf of `actor`: an ADMIN may end any, a user only their own. Someone
   * else's session is reported as not found, so ids cannot be probed. An already-ended session
   * is returned unchanged; one that has already expired is recorded as such, not as kicked.
   */
  async kick(actor: Actor, sessionId: string): Promise<SessionRecord> {
    const { sessions, clock, policy, lastSeen, stepUp } = this.options;
    const session = await sessions.findSessionById(sessionId);
    const viewer = 'viewer' in actor ? actor.viewer : undefined;
    if (!session || (viewer && viewer.user.role !== 'ADMIN' && session.userId !== viewer.user.id)) {
      throw notFound('session');
    }
    if (session.endedAt !== null) return session;
    // Ending one's own other session needs a recent proof: a stolen cookie must not lock the owner out.
    if (viewer && session.userId === viewer.user.id && session.id !== viewer.session.id) await stepUp.require(actor);
    lastSeen.applyUnwritten(session);
    const reason = hasExpired(session, clock.now(), policy) ? 'EXPIRED' : 'KICKED';
    const ended = await this.endSession(sessionId, reason, originOfActor(actor));
    // Undefined only if something else ended it in between: show that end as it is.
    return ended ?? (await sessions.findSessionById(sessionId)) ?? session;
  }

  /** Ends all of the viewer's sessions but the current one. Returns how many ended. */
  async revokeOthers(viewer: Viewer, device: DeviceInfo): Promise<number> {
    await this.options.stepUp.require(viewer);
    const origin = originOf(viewer, device);
    return (await this.endUserSessions(viewer.user.id, 'USER_SESSIONS_REVOKED', origin, viewer.session.id)).length;
  }

  /** Ends all of a user's sessions (an admin action). Returns how many ended. */
  async revokeUser(actor: Actor, userId: string): Promise<number> {
    await this.options.stepUp.require(actor);
    if (!(await this.options.users.findUserById(userId))) throw notFound('user');
    return (await this.endUserSessions(userId, 'USER_SESSIONS_REVOKED', originOfActor(actor))).length;
  }

  /**
   * Ends every active session but the caller's (ALL_SESSIONS_REVOKED): an admin's answer to a
   * breach (ASVS 7.4.5). In batches of {@link REVOKE_ALL_BATCH}, letting other requests run
   * between them; each live client is told as its batch ends; returns once every instance has
   * applied all of it, with how many ended.
   */
  async revokeAll(actor: Actor): Promise<number> {
    const { stepUp, cache, audit, lastSeen, sessions } = this.options;
    await stepUp.require(actor);
    const origin = originOfActor(actor);
    const kept = 'viewer' in actor ? actor.viewer.session.id : undefined;
    // Every session is going; the caller's own is simply read again.
    cache?.evictAll();
    const fields = { userId: origin.actorUserId, sessionId: kept ?? null, reason: 'ALL_SESSIONS_REVOKED' as const };
    await audit.record('ALL_SESSIONS_REVOKED', origin, fields);
    let total = 0;
    for (;;) {
      const activeAt = await lastSeen.activeAt();
      const batch = { reason: 'ALL_SESSIONS_REVOKED' as const, activeAt, limit: REVOKE_ALL_BATCH };
      const ended = await sessions.endActiveSessions({ ...batch, ...(kept ? { exceptSessionId: kept } : {}) });
      await this.announce(ended, origin, { awaitEverywhere: false });
      total += ended.length;
      if (ended.length < REVOKE_ALL_BATCH) break;
      await yieldToRequests();
    }
    await this.options.awaitEverywhere?.();
    return total;
  }

  /**
   * What follows every committed end, here or in a transaction elsewhere (a login over the
   * session limit, an account change): the cache forgets the sessions, their pending last-seen
   * writes are dropped, listeners hear of them, the audit log records them (with `username`
   * when the user row is going), and every live instance has applied them before this resolves.
   */
  async announce(
    sessions: readonly SessionRecord[],
    origin: ChangeOrigin,
    { username, awaitEverywhere = true }: { username?: string | undefined; awaitEverywhere?: boolean } = {},
  ): Promise<void> {
    if (sessions.length === 0) return;
    this.announceHere(sessions);
    await this.options.audit.recordEnds(sessions, origin, username);
    if (awaitEverywhere) await this.options.awaitEverywhere?.();
  }

  /** The in-process half of {@link announce}: cache, pending last-seen writes, listeners. */
  private announceHere(sessions: readonly SessionRecord[]): void {
    for (const session of sessions) {
      this.options.cache?.evictSession(session.id);
      this.options.lastSeen.forget(session.id);
      this.options.lifecycle.ended(session);
    }
  }
}
