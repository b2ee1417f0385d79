import type { VerifiedSession } from './types.js';

/** A cached answer is checked with Gatehouse again after this, so its use reaches Gatehouse (idle timeout). */
export const RECHECK_AFTER_MS = 60_000;

/**
 * One verified session as cached: the answer, and when it stops holding. Every time is the
 * service's `performance.now()`: Gatehouse's times are turned into durations against its own
 * clock ({@link cacheTimes}), so the service's wall clock, right or wrong, plays no part.
 */
export interface CachedSession {
  readonly verified: VerifiedSession;
  /** Before this the session is surely neither past its absolute end nor idle: served from memory. */
  readonly askAfter: number;
  /** From this the session is surely past its absolute end: refused without asking. In between, Gatehouse is asked. */
  readonly expiredAfter: number;
  /** When Gatehouse answered. */
  readonly verifiedAt: number;
}

/** What {@link cacheTimes} needs of one remote answer. */
export interface AnswerTimes {
  /** `performance.now()` just before the question was sent, and when its answer arrived. */
  sentAt: number;
  arrivedAt: number;
  /** Gatehouse's clock when it answered, from the answer's `Date` header (whole seconds); NaN without one. */
  gatehouseNowMs: number;
  /** The session's absolute end and its idle end, by Gatehouse's clock. */
  expiresAtMs: number;
  idleExpiresAtMs: number;
}

/**
 * When a cached answer stops holding, on the service's monotonic clock. Gatehouse answered at
 * some moment `T` of its clock between `sentAt` and `arrivedAt` here; its `Date` header says
 * `T` to the second below, so `T` is in `[date, date + 1000)`. Both bounds are taken on the
 * safe side: the session may be past an end from `sentAt + (end − date − 1000)` (ask Gatehouse
 * then), and is surely past its absolute end from `arrivedAt + (expiresAt − date)` (refuse it
 * then). Without a `Date` nothing is known of Gatehouse's clock: undefined, the answer is not cached.
 */
export function cacheTimes(answer: AnswerTimes): Pick<CachedSession, 'askAfter' | 'expiredAfter'> | undefined {
  const { sentAt, arrivedAt, gatehouseNowMs, expiresAtMs, idleExpiresAtMs } = answer;
  if (!Number.isFinite(gatehouseNowMs)) return undefined;
  return {
    askAfter: sentAt + Math.min(expiresAtMs, idleExpiresAtMs) - (gatehouseNowMs + DATE_PRECISION_MS),
    expiredAfter: arrivedAt + expiresAtMs - gatehouseNowMs,
  };
}

/** An HTTP `Date` is whole seconds. */
const DATE_PRECISION_MS = 1_000;

/** What the cache says of a key: serve it, it is over, ask Gatehouse (and maybe serve meanwhile), or nothing. */
export type Lookup =
  | { kind: 'fresh'; verified: VerifiedSession }
  | { kind: 'expired' }
  | { kind: 'recheck'; verified: VerifiedSession }
  | { kind: 'miss' };

const MISS: Lookup = { kind: 'miss' };
const EXPIRED: Lookup = { kind: 'expired' };

/**
 * Verified sessions by key (the token, and the bound cookie sent with it), least recently used
 * first, with an index from session id to its keys so that an `ENDED` evicts at once.
 *
 * Safety rests on rules the verifier keeps around it: it reads the cache only while the feed's
 * trust holds, empties it whenever that trust lapses, and stores an answer only when no end can
 * have slipped past it (see verifier.ts). The cache itself honours the session's absolute end
 * and its idle end, measured as durations from Gatehouse's answer ({@link cacheTimes}): surely
 * past `expiresAt` a session is over; possibly past either end only Gatehouse knows.
 */
export class SessionCache {
  private readonly byKey = new Map<string, CachedSession>();
  private readonly keysBySessionId = new Map<string, Set<string>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** `now` is `performance.now()`. */
  lookup(key: string, now: number): Lookup {
    const cached = this.byKey.get(key);
    if (cached === undefined) return MISS;
    if (now >= cached.expiredAfter) {
      this.remove(key, cached);
      return EXPIRED;
    }
    if (now >= cached.askAfter) {
      this.remove(key, cached);
      return MISS;
    }
    // Maps iterate in insertion order: moving a hit to the end keeps the oldest first.
    this.byKey.delete(key);
    this.byKey.set(key, cached);
    if (now - cached.verifiedAt >= RECHECK_AFTER_MS) return { kind: 'recheck', verified: cached.verified };
    return { kind: 'fresh', verified: cached.verified };
  }

  set(key: string, cached: CachedSession): void {
    if (this.maxEntries === 0) return;
    const previous = this.byKey.get(key);
    if (previous !== undefined) this.remove(key, previous);
    else if (this.byKey.size >= this.maxEntries) {
      const oldest = this.byKey.entries().next();
      if (!oldest.done) this.remove(oldest.value[0], oldest.value[1]);
    }
    this.byKey.set(key, cached);
    const sessionId = cached.verified.session.id;
    let keys = this.keysBySessionId.get(sessionId);
    if (keys === undefined) this.keysBySessionId.set(sessionId, (keys = new Set()));
    keys.add(key);
  }

  delete(key: string): void {
    const cached = this.byKey.get(key);
    if (cached !== undefined) this.remove(key, cached);
  }

  /** Every key of the session (its token with each bound cookie it was seen with). */
  evictSession(sessionId: string): void {
    const keys = this.keysBySessionId.get(sessionId);
    if (keys === undefined) return;
    this.keysBySessionId.delete(sessionId);
    for (const key of keys) this.byKey.delete(key);
  }

  evictAll(): void {
    this.byKey.clear();
    this.keysBySessionId.clear();
  }

  private remove(key: string, cached: CachedSession): void {
    this.byKey.delete(key);
    const sessionId = cached.verified.session.id;
    const keys = this.keysBySessionId.get(sessionId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysBySessionId.delete(sessionId);
  }
}

/**
 * Sessions the feed said ended, kept for `keepMs`: a remote answer that left Gatehouse before an
 * end and arrives after it must be neither cached nor served. `keepMs` must outlast the longest
 * remote check plus the trust deadline (an answer from an instance whose own cache was up to
 * that stale).
 */
export class RecentEnds {
  /** Session id → `performance.now()` when its end arrived; oldest first. */
  private readonly endedAt = new Map<string, number>();

  constructor(private readonly keepMs: number) {}

  add(sessionId: string, now: number): void {
    this.endedAt.delete(sessionId);
    this.endedAt.set(sessionId, now);
    for (const [id, at] of this.endedAt) {
      if (now - at < this.keepMs) break;
      this.endedAt.delete(id);
    }
  }

  has(sessionId: string, now: number): boolean {
    const at = this.endedAt.get(sessionId);
    return at !== undefined && now - at < this.keepMs;
  }
}
