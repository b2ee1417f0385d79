/**
 * Brute-force throttling of logins, per account and per client IP. After a few free failures
 * each further attempt must wait twice as long as the last (1 s, 2 s, 4 s … up to 15 min), and
 * no account takes more than 100 failures an hour (ASVS 6.3.1). The window ends on its own and
 * a successful login clears the account's counter, so an attacker cannot lock a user out for
 * good.
 */
import type { LoginThrottleStore, LoginThrottleSuccess } from './store.js';
import {
  ACCOUNT_THROTTLE,
  accountThrottleKey,
  IP_THROTTLE,
  ipThrottleKey,
  retryAfterMs,
  secondFactorThrottleKey,
  type ThrottleRule,
  type ThrottleState,
} from './throttle-rules.js';

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
  reserve(usernameKey: string, ipAddress: string | null, now: Date): Promise<ThrottleRefusal | undefined> {
    return this.reserveFor(accountThrottleKey(usernameKey), ipAddress, now);
  }

  /** {@link reserve} for a second-step code of the user: its own counter, the same rule, the same IP's. */
  reserveSecondFactor(userId: string, ipAddress: string | null, now: Date): Promise<ThrottleRefusal | undefined> {
    return this.reserveFor(secondFactorThrottleKey(userId), ipAddress, now);
  }

  private async reserveFor(accountKey: string, ipAddress: string | null, now: Date) {
    const account = { key: accountKey, rule: ACCOUNT_THROTTLE };
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
   * Counts an attempt that names no account before it is checked (a passkey's signature names
   * its account only once verified) against the client IP alone, or says why it is refused.
   */
  async reserveAddress(ipAddress: string | null, now: Date): Promise<ThrottleRefusal | undefined> {
    if (!ipAddress) return undefined;
    const key = ipThrottleKey(ipAddress);
    const state = (await this.store.reserveLoginAttempts([{ key, rule: IP_THROTTLE }], now)).get(key);
    return state && refusal(state, IP_THROTTLE, now);
  }

  /** An attempt counted by {@link reserveAddress} succeeded: the IP gets it back (in `store`'s transaction, if given). */
  async addressSucceeded(ipAddress: string | null, store: LoginThrottleSuccess = this.store): Promise<void> {
    if (ipAddress) await store.releaseLoginAttempt(ipThrottleKey(ipAddress));
  }

  /**
   * The password was right: the account starts afresh and the IP gets its attempt back. `store`
   * is the transaction's, where the success is written with what it led to (the login's session).
   */
  succeeded(usernameKey: string, ipAddress: string | null, store: LoginThrottleSuccess = this.store): Promise<void> {
    return this.succeededFor(accountThrottleKey(usernameKey), ipAddress, store);
  }

  /** {@link succeeded} for a right second-step code. */
  secondFactorSucceeded(
    userId: string,
    ipAddress: string | null,
    store: LoginThrottleSuccess = this.store,
  ): Promise<void> {
    return this.succeededFor(secondFactorThrottleKey(userId), ipAddress, store);
  }

  private async succeededFor(accountKey: string, ipAddress: string | null, store: LoginThrottleSuccess) {
    await store.clearLoginThrottle(accountKey);
    if (ipAddress) await store.releaseLoginAttempt(ipThrottleKey(ipAddress));
  }
}

function refusal(state: ThrottleState, rule: ThrottleRule, now: Date): ThrottleRefusal {
  return { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs(state, rule, now) / 1000)) };
}
