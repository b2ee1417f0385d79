/**
 * Device-bound sessions (DBSC; DESIGN.md "Device-bound sessions", docs/dbsc/plan.md): the rules
 * of registration, refresh and the bound-cookie check. Nothing here knows HTTP: the routes
 * (http/dbsc.ts) parse headers and write answers.
 *
 * Safety rules: DBSC never locks a user out (a refused registration leaves the session unbound
 * and working; a missing bound cookie refuses one request, never ends the session); only a
 * well-formed proof signed by another key, sent with the session's own cookie, ends it
 * (`DEVICE_MISMATCH`); without that cookie nothing changes (no oracle, no denial of service by
 * guessing ids), and such requests are throttled per client address, never per session.
 */
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import {
  DbscProofError,
  verifyRefreshProof,
  verifyRegistrationProof,
  type DbscAlgorithm,
  type DbscPublicKey,
} from './dbsc-proof.js';
import type { SessionEnds } from './ends.js';
import { hasExpired, type SessionPolicy } from './policy.js';
import type { DbscChallenge, SessionStore } from './store.js';
import { generateToken, hashIfWellFormed, hashToken } from './tokens.js';
import type { BoundCookieState, DeviceInfo } from './types.js';
import type { ViewerCache } from './viewer-cache.js';

/** How long a challenge (registration or refresh) may be signed. */
const DBSC_CHALLENGE_TTL_MS = 120_000;
/** How long the challenge before the newest stays valid: two requests that raced. */
const PREVIOUS_CHALLENGE_MS = 30_000;
/** How long the bound cookie before a rotation is still served: requests already in flight with it. */
export const BOUND_COOKIE_GRACE_MS = 10_000;
/** After binding, until the bound cookie is first seen: a page's requests while its browser registers. */
export const BINDING_WINDOW_MS = 10_000;
/**
 * How long the window stays open once the bound cookie has been seen (within BINDING_WINDOW_MS
 * still): requests the page sent before its browser stored the cookie. Measured in Chromium 150:
 * a WebSocket sent with the session cookie alone, its `connection_init` read 16 ms after a fetch
 * with the bound cookie; closing the window on that fetch signed the page's live feed out.
 */
export const FIRST_SEEN_GRACE_MS = 3_000;

/** Cookie-less refreshes one client address may send per window before it is answered 503. */
const STRANGER_REFRESHES = 30;
const STRANGER_WINDOW_MS = 60_000;

export interface DeviceBindingOptions {
  sessions: Pick<
    SessionStore,
    | 'findViewerByTokenHash'
    | 'findDbscSession'
    | 'bindDevice'
    | 'rotateBoundCookie'
    | 'issueDbscChallenge'
    | 'markBoundCookieSeen'
  >;
  clock: Clock;
  policy: SessionPolicy;
  ends: SessionEnds;
  audit: AuditLog;
  cache: ViewerCache | undefined;
  /** `DBSC`: when off, nothing is offered and bound sessions are served with their session cookie alone. */
  enabled: boolean;
  /** `DBSC_BOUND_COOKIE_TTL`. */
  boundCookieTtlMs: number;
}

/** A challenge as the client gets it, with what is stored of it. */
export interface IssuedChallenge extends DbscChallenge {
  challenge: string;
}

/** A new bound cookie, for the client, and the challenge to sign next. */
export interface BoundCookieIssue {
  sessionId: string;
  boundToken: string;
  boundExpiresAt: Date;
  nextChallenge: string;
}

export type RegistrationRefusal = 'NO_PROOF' | 'NO_SESSION' | 'ALREADY_BOUND' | 'INVALID_PROOF' | 'UNKNOWN_CHALLENGE';

export type RegistrationOutcome =
  ({ result: 'bound' } & BoundCookieIssue) | { result: 'refused'; reason: RegistrationRefusal; message: string };

export type RefreshOutcome =
  | ({ result: 'rotated' } & BoundCookieIssue)
  /** 403 with a new challenge: no proof, not a proof, or a proof over a spent challenge. */
  | { result: 'challenge'; sessionId: string; challenge: string }
  /** `{"continue": false}`; `clearSession`: the request's session cookie is of an ended session (clear it too). */
  | { result: 'continue-false'; clearSession: boolean }
  /** Another key's proof with the session's own cookie: the session is ended. */
  | { result: 'mismatch' }
  /** Too many refreshes without their session's cookie from this address: 503. */
  | { result: 'throttled'; retryAfterSeconds: number };

interface RefreshRequest {
  /** `Sec-Secure-Session-Id`, parsed; undefined when missing or garbage. */
  sessionId: string | undefined;
  /** The request's session cookie (never a bearer token: browsers refresh with cookies). */
  sessionToken: string | undefined;
  /** `Secure-Session-Response`: undefined when absent, `null` when present but unparseable. */
  proof: string | null | undefined;
  device: DeviceInfo;
}

/** What the hot path makes of a bound session's request (see {@link checkBoundCookie}). */
type BoundCookieCheck = 'ok' | 'first-use' | 'window' | 'refused' | 'stale';

/**
 * Whether a request for a bound session may be served, from its bound cookie's hash (undefined
 * when it sent none). Pure. `first-use`: served, and the registration window closes
 * FIRST_SEEN_GRACE_MS later.
 * `stale`: a cached copy does not know this cookie; the row may have rotated on another instance.
 */
export function checkBoundCookie(
  state: BoundCookieState,
  boundAt: number,
  boundHash: string | undefined,
  now: number,
  cached: boolean,
): BoundCookieCheck {
  if (boundHash !== undefined) {
    if (boundHash === state.hash && now < state.expiresAt) return state.seenAt === null ? 'first-use' : 'ok';
    if (boundHash === state.previousHash && now < state.previousUntil) return 'ok';
    if (cached) return 'stale';
  }
  const windowCloses = Math.min(boundAt + BINDING_WINDOW_MS, (state.seenAt ?? Infinity) + FIRST_SEEN_GRACE_MS);
  if (now < windowCloses) return 'window';
  return 'refused';
}

/** The DBSC rules: offer, register, refresh, the bound-cookie check's bookkeeping. */
export class DeviceBinding {
  private readonly strangers = new Map<string, { since: number; count: number }>();

  constructor(private readonly options: DeviceBindingOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** The registration challenge offered with a new session; undefined when DBSC is off. */
  offerChallenge(): IssuedChallenge | undefined {
    return this.options.enabled ? this.newChallenge() : undefined;
  }

  /** A new challenge, single-use, stored hashed. */
  private newChallenge(): IssuedChallenge {
    const challenge = generateToken();
    return {
      challenge,
      hash: hashToken(challenge),
      expiresAt: this.options.clock.now().getTime() + DBSC_CHALLENGE_TTL_MS,
    };
  }

  /**
   * Binds the session whose cookie `sessionToken` is to the key in `proof`. Any refusal leaves
   * the session as it was (unbound and working, or bound to its first key).
   */
  async register(
    sessionToken: string | undefined,
    proof: string | null | undefined,
    device: DeviceInfo,
  ): Promise<RegistrationOutcome> {
    const { sessions, clock, policy } = this.options;
    if (!proof) return refused('NO_PROOF', 'Secure-Session-Response is missing or not a JWS');
    const tokenHash = hashIfWellFormed(sessionToken);
    const viewer = tokenHash === undefined ? undefined : await sessions.findViewerByTokenHash(tokenHash);
    const now = clock.now();
    if (!viewer || viewer.session.endedAt !== null || hasExpired(viewer.session, now, policy)) {
      return refused('NO_SESSION', 'Registration needs the session cookie of an open session');
    }
    const { session } = viewer;
    if (session.deviceBoundAt !== null) return refused('ALREADY_BOUND', ALREADY_BOUND_MESSAGE);
    let verified;
    try {
      verified = await verifyRegistrationProof(proof);
    } catch (error) {
      if (error instanceof DbscProofError) return refused('INVALID_PROOF', `Refused: ${error.message}`);
      throw error;
    }
    const issue = this.newBoundCookie(session.id);
    const bound = await sessions.bindDevice({
      ...{ id: session.id, challengeHash: hashToken(verified.jti), now: now.getTime() },
      ...{ publicKey: JSON.stringify(verified.publicKey), alg: verified.alg },
      ...{ boundCookie: issue.stored, next: issue.next },
    });
    if (!bound) {
      const again = await sessions.findDbscSession(session.id, undefined);
      return again?.session.deviceBoundAt
        ? refused('ALREADY_BOUND', ALREADY_BOUND_MESSAGE)
        : refused('UNKNOWN_CHALLENGE', 'The proof signs no challenge outstanding for this session');
    }
    // The cached copy is unbound: the next request re-reads the row and its binding.
    this.options.cache?.evictSession(session.id);
    // After the binding, never instead of it: a failed audit write is logged, not thrown (AuditLog).
    const origin = { actorUserId: session.userId, device };
    await this.options.audit.record('DEVICE_BOUND', origin, { userId: session.userId, sessionId: session.id });
    return { result: 'bound', ...issue.client };
  }

  /** `POST /dbsc/refresh` (docs/dbsc/plan.md §5). */
  async refresh(request: RefreshRequest): Promise<RefreshOutcome> {
    const { sessions, clock, policy, ends } = this.options;
    const { sessionId, sessionToken, proof, device } = request;
    const tokenHash = hashIfWellFormed(sessionToken);
    if (tokenHash === undefined) return this.stranger(device);
    const found = sessionId === undefined ? undefined : await sessions.findDbscSession(sessionId, tokenHash);
    if (!found?.own) return this.stranger(device);
    const { session } = found;
    const now = clock.now();
    if (session.endedAt !== null) return { result: 'continue-false', clearSession: true };
    // Never bound: the browser's DBSC session is not this one's; the session itself goes on.
    if (session.deviceBoundAt === null || !found.publicKey || !found.alg) {
      return { result: 'continue-false', clearSession: false };
    }
    if (hasExpired(session, now, policy)) {
      await ends.endSession(session.id, 'EXPIRED', { actorUserId: null, device });
      return { result: 'continue-false', clearSession: true };
    }
    if (!proof) return this.challenge(session.id);
    const check = await verifyRefreshProof(
      proof,
      JSON.parse(found.publicKey) as DbscPublicKey,
      found.alg as DbscAlgorithm,
    );
    if (check.kind === 'malformed') return this.challenge(session.id);
    if (check.kind === 'wrong-key') {
      await ends.endSession(session.id, 'DEVICE_MISMATCH', { actorUserId: null, device });
      return { result: 'mismatch' };
    }
    const issue = this.newBoundCookie(session.id);
    const rotated = await sessions.rotateBoundCookie({
      ...{ id: session.id, challengeHash: hashToken(check.jti), now: now.getTime() },
      ...{ boundCookie: issue.stored, graceUntil: now.getTime() + BOUND_COOKIE_GRACE_MS, next: issue.next },
    });
    // A proof over a spent or unknown challenge is no attack: a browser resends its cached proof.
    if (!rotated) return this.challenge(session.id);
    this.options.cache?.evictSession(session.id);
    return { result: 'rotated', ...issue.client };
  }

  /** Records, once, that a bound session's cookie reached the server (see Authenticator). */
  markSeen(sessionId: string, state: BoundCookieState, now: number): Promise<void> {
    state.seenAt = now;
    return this.options.sessions.markBoundCookieSeen(sessionId, now);
  }

  /** A new outstanding challenge for the session; the current one stays valid briefly. */
  private async challenge(sessionId: string): Promise<RefreshOutcome> {
    const issued = this.newChallenge();
    const previousUntil = this.options.clock.now().getTime() + PREVIOUS_CHALLENGE_MS;
    const open = await this.options.sessions.issueDbscChallenge(sessionId, issued, previousUntil);
    return open
      ? { result: 'challenge', sessionId, challenge: issued.challenge }
      : { result: 'continue-false', clearSession: true };
  }

  /**
   * A refresh without its session's own cookie: the same answer whether the id is live, ended
   * or unknown, and nothing written; throttled per client address (never per session id, which
   * would let anyone throttle the victim's browser by sending its id).
   */
  private stranger(device: DeviceInfo): RefreshOutcome {
    const now = this.options.clock.now().getTime();
    const key = device.ipAddress ?? '';
    let window = this.strangers.get(key);
    if (!window || now - window.since >= STRANGER_WINDOW_MS) {
      if (this.strangers.size > 10_000) this.strangers.clear();
      this.strangers.set(key, (window = { since: now, count: 0 }));
    }
    if (++window.count > STRANGER_REFRESHES) {
      return { result: 'throttled', retryAfterSeconds: Math.ceil((window.since + STRANGER_WINDOW_MS - now) / 1000) };
    }
    return { result: 'continue-false', clearSession: false };
  }

  private newBoundCookie(sessionId: string) {
    const now = this.options.clock.now().getTime();
    const boundToken = generateToken();
    const expiresAt = now + this.options.boundCookieTtlMs;
    const next = this.newChallenge();
    return {
      stored: { hash: hashToken(boundToken), expiresAt },
      next: { hash: next.hash, expiresAt: next.expiresAt },
      client: { sessionId, boundToken, boundExpiresAt: new Date(expiresAt), nextChallenge: next.challenge },
    };
  }
}

const ALREADY_BOUND_MESSAGE = 'This session is bound to a device already';

const refused = (reason: RegistrationRefusal, message: string): RegistrationOutcome => ({
  result: 'refused',
  reason,
  message,
});
