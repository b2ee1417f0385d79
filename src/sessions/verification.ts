import type { Authenticator, BoundTokenReader } from './authenticator.js';
import { badUserInput } from './errors.js';
import type { SessionPolicy } from './policy.js';
import type { SessionRecord, UserRecord } from './types.js';

/**
 * The longest token (or bound cookie) worth reading: real ones are 43 characters. Anything
 * longer than this is not a mistaken cookie but a caller's bug, and says so.
 */
export const MAX_VERIFIED_TOKEN_LENGTH = 512;

/** The bound cookie is handed over on its own: it is its own carrier. */
const BOUND_COOKIE_AS_GIVEN: BoundTokenReader = { read: (carrier) => carrier ?? undefined };

/** A live session as another service sees it (`verifySession`). */
export interface VerifiedSession {
  user: UserRecord;
  session: SessionRecord;
  /** When the session ends if nobody uses it: its last use plus the idle timeout, as of this answer. */
  idleExpiresAt: Date;
}

/**
 * Another service's check of a session token (and, for a device-bound session, its bound
 * cookie), on its user's behalf: the same rules as a request carrying them (expiry, idle
 * timeout, a disabled user, the device binding), and it counts as a use of the session, as a
 * request does. The answer is read from storage, never the cache (see
 * `Authenticator.authenticateFresh`): the service caches it.
 */
export class SessionVerification {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly policy: SessionPolicy,
  ) {}

  /**
   * The user and session behind `token`, or null for anything that is not a live session
   * (garbage included: a bad cookie is simply no session). BAD_USER_INPUT for a token or bound
   * cookie over {@link MAX_VERIFIED_TOKEN_LENGTH} characters.
   */
  async verify(token: string, boundCookie?: string | null): Promise<VerifiedSession | null> {
    if (token.length > MAX_VERIFIED_TOKEN_LENGTH) {
      throw badUserInput(`A session token is at most ${MAX_VERIFIED_TOKEN_LENGTH} characters`, 'token');
    }
    if (boundCookie && boundCookie.length > MAX_VERIFIED_TOKEN_LENGTH) {
      throw badUserInput(`A bound cookie is at most ${MAX_VERIFIED_TOKEN_LENGTH} characters`, 'boundCookie');
    }
    const viewer = await this.authenticator.authenticateFresh(token, boundCookie, BOUND_COOKIE_AS_GIVEN);
    if (!viewer) return null;
    const { user, session } = viewer;
    return { user, session, idleExpiresAt: new Date(session.lastSeenAt.getTime() + this.policy.idleTimeoutMs) };
  }
}
