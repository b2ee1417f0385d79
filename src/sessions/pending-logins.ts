/**
 * Pending logins: a right password waiting for its second step, or under REQUIRE_SECOND_FACTOR
 * for the user to enroll a factor (DESIGN.md, "Second factors and passkeys").
 *
 * Safety rules:
 * - A pending login is not a session: its row is in `pending_logins`, and its token has a shape
 *   of its own (tokens.ts), so the authenticator turns it into no viewer without a query. It is
 *   in no count, list, limit or cache; `/auth/verify` and live feeds never see it.
 * - It lives at most SECOND_FACTOR_TIMEOUT; an expired one is simply not found (the sweeper
 *   deletes the rows). A disabled account's pending login is not found either.
 * - Finishing it deletes its row in the transaction that starts the session, and the session
 *   gets a new token: one pending login makes at most one session, whatever races.
 */
import { randomUUID } from 'node:crypto';
import type { PendingStep } from './assurance.js';
import type { Clock } from './clock.js';
import type { SessionPolicy } from './policy.js';
import type { PendingLoginStore } from './store.js';
import { generatePendingToken, hashToken, isPendingToken } from './tokens.js';
import type { DeviceInfo, PendingLogin, SessionRecord, UserRecord } from './types.js';

export interface PendingLoginsOptions {
  store: PendingLoginStore;
  clock: Clock;
  policy: SessionPolicy;
}

/** A pending login as its client holds it: the login and its token. */
export interface PendingLoginResult {
  pending: PendingLogin;
  /** The bearer secret of the pending login: goes to the client once, is never stored. */
  token: string;
}

export class PendingLogins {
  constructor(private readonly options: PendingLoginsOptions) {}

  /**
   * Writes a new pending login for `user`, waiting for `nextStep`; with `store`, in its
   * transaction (the login's: with the throttle's success and SECOND_FACTOR_REQUESTED).
   */
  async create(
    user: UserRecord,
    nextStep: PendingStep,
    device: DeviceInfo,
    store: Pick<PendingLoginStore, 'insertPendingLogin'> = this.options.store,
  ): Promise<PendingLoginResult> {
    const { clock, policy } = this.options;
    const token = generatePendingToken();
    const createdAt = clock.now();
    const pending: PendingLogin = {
      ...{ id: randomUUID(), user, nextStep, createdAt },
      expiresAt: new Date(createdAt.getTime() + policy.secondFactorTimeoutMs),
      ...{ userAgent: device.userAgent, ipAddress: device.ipAddress },
    };
    await store.insertPendingLogin({
      ...{ id: pending.id, userId: user.id, tokenHash: hashToken(token), nextStep },
      ...{ createdAt, expiresAt: pending.expiresAt, userAgent: device.userAgent, ipAddress: device.ipAddress },
    });
    return { pending, token };
  }

  /**
   * The pending login behind `token`, or null. Synchronous (and without a query) for anything
   * that is not shaped like a pending token: every anonymous request asks.
   */
  resolve(token: string | undefined): PendingLogin | null | Promise<PendingLogin | null> {
    if (token === undefined || !isPendingToken(token)) return null;
    return this.options.store.findPendingLoginByTokenHash(hashToken(token)).then((pending) => {
      if (!pending || pending.user.disabledAt !== null) return null;
      return this.options.clock.now() < pending.expiresAt ? pending : null;
    });
  }

  /** Signs a pending login out: its row goes. */
  async discard(pending: PendingLogin): Promise<void> {
    await this.options.store.deletePendingLogin(pending.id);
  }

  /** Deletes up to `limit` pending logins expired at `now` (the sweeper's batch); returns how many. */
  deleteExpired(now: Date, limit: number): Promise<number> {
    return this.options.store.deletePendingLoginsExpiredBefore(now, limit);
  }
}

/**
 * A pending login as the API shows it where a session is expected (`currentSession`, the login's
 * payload): its id, times and device, proved by the password alone, current until its deadline,
 * which is its expiry. The API shows it as not active (session.ts): it is not signed in.
 */
export function pendingLoginAsSession(pending: PendingLogin): SessionRecord {
  return {
    ...{ id: pending.id, userId: pending.user.id, createdAt: pending.createdAt },
    ...{ lastSeenAt: pending.createdAt, authenticatedAt: pending.createdAt, expiresAt: pending.expiresAt },
    ...{ endedAt: null, endReason: null, userAgent: pending.userAgent, ipAddress: pending.ipAddress },
    assurance: 'AAL1',
    authenticationMethods: ['PASSWORD'],
    deviceBoundAt: null,
  };
}
