import type { Clock } from './clock.js';
import { checkBoundCookie, type DeviceBinding } from './dbsc.js';
import type { SessionEnds } from './ends.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import { hasExpired, type SessionPolicy } from './policy.js';
import type { SessionStore } from './store.js';
import { hashIfWellFormed } from './tokens.js';
import { SYSTEM_ORIGIN, type Viewer } from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface AuthenticatorOptions {
  sessions: Pick<SessionStore, 'findViewerByTokenHash' | 'findSessionById'>;
  clock: Clock;
  policy: SessionPolicy;
  lastSeen: LastSeenWriter;
  ends: SessionEnds;
  /** Validated-session cache; undefined where ends on other instances cannot reach this one. */
  cache: ViewerCache | undefined;
  /** DBSC: when enabled, a bound session is served only with its bound cookie. Default: none. */
  deviceBinding?: DeviceBinding;
}

/**
 * Reads a bound session's short cookie from what the request carries (http/cookies.ts): asked
 * only for a bound session, so an unbound one's request never scans for it.
 */
export interface BoundTokenReader {
  read(carrier: string | null | undefined): string | undefined;
}

/**
 * Turns a token into the viewer it belongs to: the hot path of every signed-in request. A cache
 * hit costs no query; expiry is checked on every request, hit or miss.
 */
export class Authenticator {
  /**
   * Storage lookups under way, by token hash, with the cache generation they started at. Many
   * sockets of one session connect at once (a page with several tabs, a reconnect after a
   * restart): they share one lookup instead of each reading the same row.
   */
  private readonly inFlight = new Map<string, { generation: number; lookup: Promise<Viewer | undefined> }>();

  /** Whether bound sessions need their bound cookie (DBSC on). */
  private readonly bindingEnforced: boolean;

  constructor(private readonly options: AuthenticatorOptions) {
    this.bindingEnforced = options.deviceBinding?.enabled ?? false;
  }

  /**
   * The viewer, or null. Garbage, unknown, ended and expired tokens are all simply null; an
   * expired session found here is ended with `EXPIRED`.
   *
   * Synchronous when the cache answers and the session is plainly alive, which is nearly every
   * signed-in request: no promise, no microtask turn. Anything that needs I/O (a miss, a copy
   * that looks idle or expired) returns a promise.
   *
   * A device-bound session (DBSC) also needs its bound cookie, read from `carrier` by `bound`
   * whatever carried the token (a bearer token too): else null for this request, never an end.
   * Except for `provenSessionId`, a session whose device its transport proved at connection (a
   * WebSocket): it only has to be alive.
   */
  authenticate(
    token: string | undefined,
    carrier?: string | null,
    bound?: BoundTokenReader,
    provenSessionId?: string,
  ): Viewer | null | Promise<Viewer | null> {
    const tokenHash = hashIfWellFormed(token);
    if (tokenHash === undefined) return null;
    const cached = this.options.cache?.get(tokenHash);
    if (cached) return this.admit(cached, true, tokenHash, carrier, bound, provenSessionId);
    return this.lookUpShared(tokenHash).then((viewer) =>
      viewer ? this.admit(viewer, false, tokenHash, carrier, bound, provenSessionId) : null,
    );
  }

  /**
   * {@link authenticate}, read from storage rather than the cache: for an answer that outlives
   * the request, which another service caches until it hears of the session's end. A cached
   * copy may be up to the trust deadline behind an end committed on another instance, and that
   * end may already have passed the other service's feed: cached there, the session would live
   * on. A row read now has every end committed before it.
   */
  async authenticateFresh(token: string | undefined, carrier?: string | null, bound?: BoundTokenReader) {
    const tokenHash = hashIfWellFormed(token);
    if (tokenHash === undefined) return null;
    const viewer = await this.lookUp(tokenHash);
    return viewer ? this.admit(viewer, false, tokenHash, carrier, bound) : null;
  }

  /** Whether `viewer` may act now; synchronous unless its session looks expired (or rotated elsewhere). */
  private admit(
    viewer: Viewer,
    cached: boolean,
    tokenHash: string,
    carrier?: string | null,
    bound?: BoundTokenReader,
    provenSessionId?: string,
  ): Viewer | null | Promise<Viewer | null> {
    // A disabled user's sessions are ended with the disable; the check is a second lock on the door.
    if (viewer.session.endedAt !== null || viewer.user.disabledAt !== null) return null;
    // Unbound: this one check, nothing else.
    if (viewer.deviceBinding !== undefined && this.bindingEnforced && viewer.session.id !== provenSessionId) {
      return this.admitBound(viewer, cached, tokenHash, carrier, bound);
    }
    return this.admitOpen(viewer, cached);
  }

  /**
   * A bound session: served with its current bound cookie (the previous one briefly after a
   * rotation), or in the short window after binding before the first is seen. A cached copy
   * that does not know the cookie re-reads the row once: it may have rotated on another instance.
   */
  private admitBound(
    viewer: Viewer,
    cached: boolean,
    tokenHash: string,
    carrier?: string | null,
    bound?: BoundTokenReader,
  ): Viewer | null | Promise<Viewer | null> {
    const state = viewer.deviceBinding!;
    const boundHash = hashIfWellFormed(bound?.read(carrier));
    const now = this.options.clock.now().getTime();
    const check = checkBoundCookie(state, viewer.session.deviceBoundAt!.getTime(), boundHash, now, cached);
    if (check === 'refused') return null;
    if (check === 'stale') {
      return this.lookUp(tokenHash).then((fresh) =>
        fresh ? this.admit(fresh, false, tokenHash, carrier, bound) : null,
      );
    }
    if (check === 'first-use') {
      // Once per binding, and awaited so that a copy read next (not cached, another instance)
      // sees the window closed. Lost, the window only lapses by time (BINDING_WINDOW_MS).
      return this.options
        .deviceBinding!.markSeen(viewer.session.id, state, now)
        .catch(() => {})
        .then(() => this.admitOpen(viewer, cached));
    }
    return this.admitOpen(viewer, cached);
  }

  /** {@link admit} past the end and binding checks. */
  private admitOpen(viewer: Viewer, cached: boolean): Viewer | null | Promise<Viewer | null> {
    const { session } = viewer;
    const now = this.options.clock.now();
    this.options.lastSeen.applyUnwritten(session);
    if (!hasExpired(session, now, this.options.policy)) {
      this.options.lastSeen.touch(session, now);
      return viewer;
    }
    return this.admitExpiredLooking(viewer, cached, now);
  }

  /**
   * A cached copy that looks idle may have been used through another instance since it was
   * cached: the stored last-seen time decides. One that is expired is ended with `EXPIRED`.
   */
  private async admitExpiredLooking(viewer: Viewer, cached: boolean, now: Date): Promise<Viewer | null> {
    const { session } = viewer;
    if (cached && now < session.expiresAt && !(await this.refreshIdleCopy(viewer))) return null;
    if (hasExpired(session, now, this.options.policy)) {
      await this.options.ends.endSession(session.id, 'EXPIRED', SYSTEM_ORIGIN);
      return null;
    }
    this.options.lastSeen.touch(session, now);
    return viewer;
  }

  /**
   * Joins the lookup of the same token already under way, if no session has been evicted since
   * it started: a lookup older than an end may have read the row before that end, and a caller
   * that arrives after the end must not be answered from it (the revocation guarantee). Without
   * a cache there is no eviction to tell by, so nothing is shared.
   */
  private lookUpShared(tokenHash: string): Promise<Viewer | undefined> {
    const { cache } = this.options;
    if (!cache) return this.lookUp(tokenHash);
    const pending = this.inFlight.get(tokenHash);
    if (pending && pending.generation === cache.generation) return pending.lookup;
    const entry = { generation: cache.generation, lookup: this.lookUp(tokenHash) };
    this.inFlight.set(tokenHash, entry);
    const forget = () => {
      if (this.inFlight.get(tokenHash) === entry) this.inFlight.delete(tokenHash);
    };
    entry.lookup.then(forget, forget);
    return entry.lookup;
  }

  /** A storage lookup; an open session is cached unless an eviction raced with the read. */
  private async lookUp(tokenHash: string): Promise<Viewer | undefined> {
    const { cache, sessions } = this.options;
    const generation = cache?.generation ?? 0;
    const viewer = await sessions.findViewerByTokenHash(tokenHash);
    if (viewer && viewer.session.endedAt === null) cache?.setIfUnchanged(tokenHash, viewer, generation);
    return viewer;
  }

  /**
   * A cached copy looks idle, but the session may have been used through another instance
   * since it was cached: the stored last-seen time decides. False when it has ended meanwhile.
   */
  private async refreshIdleCopy(viewer: Viewer): Promise<boolean> {
    const stored = await this.options.sessions.findSessionById(viewer.session.id);
    if (stored?.endedAt) {
      this.options.cache?.evictSession(viewer.session.id);
      return false;
    }
    if (stored && stored.lastSeenAt > viewer.session.lastSeenAt) viewer.session.lastSeenAt = stored.lastSeenAt;
    return true;
  }
}
