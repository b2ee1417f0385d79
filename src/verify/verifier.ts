import { performance } from 'node:perf_hooks';
import { EndFeed } from './feed.js';
import { RemoteVerifier } from './remote.js';
import {
  CredentialReader,
  expressMiddleware,
  fastifyPlugin,
  fetchCheck,
  requestCheck,
  type RequestCheck,
} from './requests.js';
import { cacheTimes, RecentEnds, SessionCache } from './session-cache.js';
import { FeedTrust, TRUST_DEADLINE_MS } from './trust.js';
import type { FastifyPluginAsync, RequestHandler, VerifiedSession, Verifier, VerifierOptions } from './types.js';

const DEFAULT_COOKIE_NAME = 'gatehouse_session';
const DEFAULT_MAX_CACHED_SESSIONS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 2_000;
/** The longest timer Node keeps (2^31 − 1 ms): a longer timeout is not one. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A session token's shape (src/sessions/tokens.ts): anything else is refused without asking Gatehouse. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** A bound cookie is a short printable value (Gatehouse refuses one over 512 characters); anything else cannot be one. */
const BOUND_COOKIE = /^[\x21-\x7e]{1,512}$/;

/**
 * A verifier of Gatehouse sessions for another service: see {@link Verifier}. It starts its
 * session-end feed at once; `close()` it when the service stops.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  return new SessionVerifier(options);
}

/**
 * Checks sessions from memory while that is safe, else with Gatehouse. Safety rests on four rules:
 * - the cache is read only while {@link FeedTrust} holds (a fresh heartbeat), and emptied on every
 *   lapse; every `ENDED` evicts its session's keys the moment it arrives;
 * - a remote answer is cached only if trust held from before it was asked until it arrived, on the
 *   same stream ({@link FeedTrust.epoch}): an end in a gap between feeds cannot be behind it;
 * - a remote answer for a session whose `ENDED` arrived in the last seconds ({@link RecentEnds}) is
 *   neither cached nor served: it left Gatehouse before the end; one for a device-bound session
 *   asked without its bound cookie is not cached (Gatehouse admits it only while binding);
 * - Gatehouse's silence is never taken for an answer: it is {@link GatehouseUnavailableError} (503).
 */
class SessionVerifier implements Verifier {
  private readonly cache: SessionCache;
  private readonly recentEnds: RecentEnds;
  private readonly trust: FeedTrust;
  private readonly feed: EndFeed;
  private readonly remote: RemoteVerifier;
  private readonly check: RequestCheck;
  /**
   * One remote check per key at a time, shared by the requests that need it, with when it was
   * sent. A request joins only a check sent less than {@link TRUST_DEADLINE_MS} before it: an
   * older one may have been answered before an end that the request must see.
   */
  private readonly inFlight = new Map<string, InFlightCheck>();

  constructor(options: VerifierOptions) {
    const { url, serviceToken, logger = console } = options;
    if (!/^https?:\/\//.test(url ?? '')) throw new TypeError('gatehouse/verify: url must be an http(s) URL');
    if (!serviceToken) throw new TypeError('gatehouse/verify: serviceToken is required (ghs_…)');
    const { requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, maxCachedSessions = DEFAULT_MAX_CACHED_SESSIONS } = options;
    // AbortSignal.timeout throws on anything else (a 500 per request, not a 503), and a NaN size bounds nothing.
    if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0 || requestTimeoutMs > MAX_TIMEOUT_MS) {
      throw new TypeError(
        `gatehouse/verify: requestTimeoutMs must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`,
      );
    }
    if (!Number.isInteger(maxCachedSessions) || maxCachedSessions < 0) {
      throw new TypeError('gatehouse/verify: maxCachedSessions must be a whole number, 0 or more');
    }
    this.cache = new SessionCache(maxCachedSessions);
    this.recentEnds = new RecentEnds(Math.max(10_000, requestTimeoutMs + 2 * TRUST_DEADLINE_MS));
    this.trust = new FeedTrust(logger, () => this.cache.evictAll());
    this.remote = new RemoteVerifier(url, serviceToken, requestTimeoutMs, logger);
    this.feed = new EndFeed(url, serviceToken, this.trust, (sessionId) => this.ended(sessionId), logger);
    this.check = requestCheck(new CredentialReader(options.cookieName ?? DEFAULT_COOKIE_NAME), (token, bound) =>
      this.verify(token, bound),
    );
    this.feed.start();
  }

  get trusted(): boolean {
    return this.trust.check();
  }

  verify(token: string, boundCookie?: string): Promise<VerifiedSession | null> {
    if (typeof token !== 'string' || !SESSION_TOKEN.test(token)) return Promise.resolve(null);
    if (boundCookie === '') boundCookie = undefined;
    if (boundCookie !== undefined && !BOUND_COOKIE.test(boundCookie)) return Promise.resolve(null);
    // A space is in neither a token nor a cookie value.
    const key = boundCookie === undefined ? token : `${token} ${boundCookie}`;
    if (this.trust.check()) {
      const found = this.cache.lookup(key, performance.now());
      if (found.kind === 'fresh') return Promise.resolve(found.verified);
      if (found.kind === 'expired') return Promise.resolve(null);
      if (found.kind === 'recheck') {
        // Served meanwhile: the feed still proves it has not ended; the recheck tells Gatehouse of its use.
        if (!this.inFlight.has(key)) this.ask(key, token, boundCookie).catch(() => undefined);
        return Promise.resolve(found.verified);
      }
    }
    return this.ask(key, token, boundCookie);
  }

  express(): RequestHandler {
    return expressMiddleware(this.check);
  }

  fastify(): FastifyPluginAsync {
    return fastifyPlugin(this.check);
  }

  fetch(request: Request): Promise<VerifiedSession | Response> {
    return fetchCheck(this.check, request);
  }

  async close(): Promise<void> {
    this.feed.close();
  }

  private ended(sessionId: string): void {
    this.recentEnds.add(sessionId, performance.now());
    this.cache.evictSession(sessionId);
  }

  private ask(key: string, token: string, boundCookie: string | undefined): Promise<VerifiedSession | null> {
    const now = performance.now();
    const joined = this.inFlight.get(key);
    if (joined !== undefined && now - joined.sentAt < TRUST_DEADLINE_MS) return joined.answer;
    const check: InFlightCheck = {
      sentAt: now,
      answer: this.askGatehouse(key, token, boundCookie).finally(() => {
        if (this.inFlight.get(key) === check) this.inFlight.delete(key);
      }),
    };
    this.inFlight.set(key, check);
    return check.answer;
  }

  private async askGatehouse(key: string, token: string, boundCookie: string | undefined) {
    const trustedBefore = this.trust.check();
    const epoch = this.trust.epoch;
    const sentAt = performance.now();
    const answer = await this.remote.verify(token, boundCookie);
    const now = performance.now();
    if (answer === null || this.recentEnds.has(answer.verified.session.id, now)) {
      this.cache.delete(key);
      return null;
    }
    const verified = freeze(answer.verified);
    const times = cacheTimes({ ...answer, sentAt, arrivedAt: now, expiresAtMs: verified.session.expiresAt.getTime() });
    const fresh = times !== undefined && now < times.askAfter;
    // Gatehouse admits a device-bound session without its bound cookie only in its short binding
    // window: cached by the token alone, it would be served long after that window closed.
    const boundWithout = verified.session.deviceBound && boundCookie === undefined;
    if (trustedBefore && this.trust.check() && this.trust.epoch === epoch && fresh && !boundWithout) {
      this.cache.set(key, { verified, ...times, verifiedAt: now });
    }
    return verified;
  }
}

/** A remote check under way: its answer, and `performance.now()` when it was sent. */
interface InFlightCheck {
  readonly sentAt: number;
  readonly answer: Promise<VerifiedSession | null>;
}

/** Every caller gets the same object from the cache: none may change it for the others. */
function freeze(verified: VerifiedSession): VerifiedSession {
  Object.freeze(verified.user);
  Object.freeze(verified.session);
  return Object.freeze(verified);
}
