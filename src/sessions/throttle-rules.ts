/**
 * The throttle's rules as data and one pure function, shared by the service that applies them
 * (throttle.ts) and the store that writes the same rule as SQL (storage/login-throttle-store.ts).
 * After a few free failures each further attempt must wait twice as long as the last (1 s, 2 s,
 * 4 s … up to 15 min), and no account takes more than 100 failures an hour (ASVS 6.3.1).
 */
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
/** Wrong second-step codes of one user, counted like wrong passwords (ACCOUNT_THROTTLE). */
export const secondFactorThrottleKey = (userId: string) => `second-factor:${userId}`;
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
