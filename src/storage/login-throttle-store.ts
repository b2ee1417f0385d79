import type { Knex } from 'knex';
import type { LoginThrottleStore } from '../sessions/store.js';
import { THROTTLE_WINDOW_MS, type ThrottleRule, type ThrottleState } from '../sessions/throttle.js';
import { rowsOf } from './sql.js';

interface ThrottleRow {
  key: string;
  failures: number;
  window_started_at: number;
  last_failure_at: number;
}

function toThrottleState(row: ThrottleRow): ThrottleState {
  return {
    failures: Number(row.failures),
    windowStartedAt: new Date(Number(row.window_started_at)),
    lastFailureAt: new Date(Number(row.last_failure_at)),
  };
}

/**
 * The throttle rule of `retryAfterMs` (src/sessions/throttle.ts) as one SQL upsert: insert or
 * count, but only where the rule allows an attempt now. The row lock the upsert takes makes
 * check and count one step for concurrent attempts, on any instance.
 */
function reserveStatement(rule: ThrottleRule): string {
  // The delay after n failures: base · 2^(n − free), capped.
  const doublings = Math.ceil(Math.log2(rule.maxDelayMs / rule.baseDelayMs));
  const delay = `CASE WHEN login_throttles.failures - ${rule.freeFailures} >= ${doublings} THEN ${rule.maxDelayMs}
      ELSE ${rule.baseDelayMs} * (1 << (login_throttles.failures - ${rule.freeFailures})) END`;
  return `INSERT INTO login_throttles ("key", failures, window_started_at, last_failure_at) VALUES (:key, 1, :now, :now)
    ON CONFLICT ("key") DO UPDATE SET
      failures = CASE WHEN login_throttles.window_started_at <= :windowOver THEN 1 ELSE login_throttles.failures + 1 END,
      window_started_at = CASE WHEN login_throttles.window_started_at <= :windowOver THEN :now
        ELSE login_throttles.window_started_at END,
      last_failure_at = :now
    WHERE login_throttles.window_started_at <= :windowOver
       OR login_throttles.failures < :freeFailures
       OR (login_throttles.failures < :maxFailures AND login_throttles.last_failure_at + ${delay} <= :now)
    RETURNING *`;
}

/** Failed-login counters, kept in the database so that restarts and other instances see them. */
export class KnexLoginThrottleStore implements LoginThrottleStore {
  constructor(private readonly db: Knex) {}

  async reserveLoginAttempt(key: string, rule: ThrottleRule, now: Date): Promise<ThrottleState | undefined> {
    const nowMs = now.getTime();
    const result: unknown = await this.db.raw(reserveStatement(rule), {
      key,
      now: nowMs,
      windowOver: nowMs - THROTTLE_WINDOW_MS,
      freeFailures: rule.freeFailures,
      maxFailures: rule.maxFailuresPerWindow,
    });
    const counted = rowsOf<ThrottleRow>(result);
    if (counted.length > 0) return undefined;
    const refusing: ThrottleRow | undefined = await this.db('login_throttles').where({ key }).first();
    return refusing ? toThrottleState(refusing) : undefined;
  }

  async releaseLoginAttempt(key: string): Promise<void> {
    await this.db('login_throttles').where({ key }).where('failures', '>', 0).decrement('failures', 1);
  }

  async clearLoginThrottle(key: string): Promise<void> {
    await this.db('login_throttles').where({ key }).delete();
  }

  async deleteLoginThrottlesBefore(cutoff: Date): Promise<number> {
    return this.db('login_throttles').where('window_started_at', '<', cutoff.getTime()).delete();
  }
}
