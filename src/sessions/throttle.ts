/**
 * Brute-force throttling of logins, per account and per client IP. After a few free failures
 * each further attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to 15 min), and
 * no account takes more than 100 failures an hour (ASVS 6.3.1). The window ends on its own and
 * a successful login clears the account's counter, so an attacker cannot lock a user out for
 * good.
 */
import type { LoginThrottleStore, LoginThrottleSuccess } from './store.js';

export interface ThrottleState {
  failures: number;
  windowStartedAt: Date;
  lastFailureAt: Date;
}

export interface ThrottleRule {
  /** Failures allowed in a window before delays begin. */
  freeFailures: number;
  /** The first delay; each further failure doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Past this many failures in a window, no attempt until the window ends. */
  maxFailuresPerWindow: number;
}

/** One counter an attempt is counted against, and the rule it answers to. */
export interface ThrottleCounter {
  key: string;
  rule: ThrottleRule;
}

export const THROTTLE_WINDOW_MS = 3_600_000;

export const ACCOUNT_THROTTLE: ThrottleRule = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxFailuresPerWindow: 100,
};

/** Looser per IP: many users can share one address (offices, carrier NAT). */
export const IP_THROTTLE: ThrottleRule = {
  freeFailures: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxFailuresPerWindow: 1_000,
};

export const accountThrottleKey = (usernameKey: string) => `account:${usernameKey}`;
export const ipThrottleKey = (ipAddress: string) => `ip:${ipAddress}`;

/** How long until an attempt is allowed (0: now). */
export function retryAfterMs(state: ThrottleState | undefined, rule: ThrottleRule, now: Date): number {
  if (!state) return 0;
  const nowMs = now.getTime();
  const windowEndsAt = state.windowStartedAt.getTime() + THROTTLE_WINDOW_MS;
  if (nowMs >= windowEndsAt) return 0;
  if (state.failures >= rule.maxFailuresPerWindow) return windowEndsAt - nowMs;
  if (state.failures < rule.freeFailures) return 0;
  const delay = Math.min(rule.baseDelayMs * 2 ** (state.failures - rule.freeFailures), rule.maxDelayMs);
  return Math.max(0, state.lastFailureAt.getTime() + delay - nowMs);
}

/** Why a login attempt was refused before its password was checked. */
export interface ThrottleRefusal {
  /** Whole seconds until an attempt may be allowed (at least 1). */
  retryAfterSeconds: number;
}

/**
 * Both counters of one login attempt: the account's and the client IP's. Each attempt is
 * counted as a failure before the password is checked, atomically in the database, so that
 * concurrent attempts (on any instance) cannot all slip under the limit; a success gives it back.
 */
export class LoginThrottle {
  constructor(private readonly store: LoginThrottleStore) {}

  /** Counts the attempt, or says why it is refused (and counts nothing). */
  async reserve(usernameKey: string, ipAddress: string | null, now: Date): Promise<ThrottleRefusal | undefined> {
    const account = { key: accountThrottleKey(usernameKey), rule: ACCOUNT_THROTTLE };
    const counters = ipAddress ? [account, { key: ipThrottleKey(ipAddress), rule: IP_THROTTLE }] : [account];
    const refusedBy = await this.store.reserveLoginAttempts(counters, now);
    // The account's refusal is the one told when both refuse.
    const refusing = counters.find(({ key }) => refusedBy.has(key));
    if (!refusing) return undefined;
    // Refused by one counter, the attempt counts against none: the others give theirs back (their
    // last attempt stays this one, so a delay they are past the free failures for starts anew).
    for (const { key } of counters) if (!refusedBy.has(key)) await this.store.releaseLoginAttempt(key);
    return refusal(refusedBy.get(refusing.key)!, refusing.rule, now);
  }

  /**
   * The password was right: the account starts afresh and the IP gets its attempt back. `store`
   * is the transaction's, where the success is written with what it led to (the login's session).
   */
  async succeeded(
    usernameKey: string,
    ipAddress: string | null,
    store: LoginThrottleSuccess = this.store,
  ): Promise<void> {
    await store.clearLoginThrottle(accountThrottleKey(usernameKey));
    if (ipAddress) await store.releaseLoginAttempt(ipThrottleKey(ipAddress));
  }
}

function refusal(state: ThrottleState, rule: ThrottleRule, now: Date): ThrottleRefusal {
  return { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs(state, rule, now) / 1000)) };
}
