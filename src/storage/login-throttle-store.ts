import type { Knex } from 'knex';
import type { LoginThrottleStore } from '../sessions/store.js';
import {
  THROTTLE_WINDOW_MS,
  type ThrottleCounter,
  type ThrottleRule,
  type ThrottleState,
} from '../sessions/throttle-rules.js';
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
 * The throttle rule of `retryAfterMs` (src/sessions/throttle.ts) as one SQL upsert over every
 * counter of an attempt (the account's and the client IP's): insert or count each, but only
 * where its own rule allows an attempt now. The row locks the upsert takes make check and count
 * one step for concurrent attempts, on any instance; one statement is one commit (an fsync)
 * where a statement per counter was two, on the path of every login.
 */
function reserveStatement(rules: readonly ThrottleRule[]): string {
  const values = rules.map((_, i) => `(:key${i}, 1, :now, :now)`).join(', ');
  const allowed = rules.map((rule, i) => `(login_throttles."key" = :key${i} AND (${allowedBy(rule)}))`).join(' OR ');
  return `INSERT INTO login_throttles ("key", failures, window_started_at, last_failure_at) VALUES ${values}
    ON CONFLICT ("key") DO UPDATE SET
      failures = CASE WHEN login_throttles.window_started_at <= :windowOver THEN 1 ELSE login_throttles.failures + 1 END,
      window_started_at = CASE WHEN login_throttles.window_started_at <= :windowOver THEN :now
        ELSE login_throttles.window_started_at END,
      last_failure_at = :now
    WHERE login_throttles.window_started_at <= :windowOver OR ${allowed}
    RETURNING "key"`;
}

/** When `rule` allows another attempt within the window (`retryAfterMs` is 0). */
function allowedBy(rule: ThrottleRule): string {
  // The delay after n failures: base · 2^(n − free), capped.
  const doublings = Math.ceil(Math.log2(rule.maxDelayMs / rule.baseDelayMs));
  const delay = `CASE WHEN login_throttles.failures - ${rule.freeFailures} >= ${doublings} THEN ${rule.maxDelayMs}
      ELSE ${rule.baseDelayMs} * (1 << (login_throttles.failures - ${rule.freeFailures})) END`;
  return `login_throttles.failures < ${rule.freeFailures}
       OR (login_throttles.failures < ${rule.maxFailuresPerWindow} AND login_throttles.last_failure_at + ${delay} <= :now)`;
}

/** Failed-login counters, kept in the database so that restarts and other instances see them. */
export class KnexLoginThrottleStore implements LoginThrottleStore {
  constructor(private readonly db: Knex) {}

  async reserveLoginAttempts(counters: readonly ThrottleCounter[], now: Date): Promise<Map<string, ThrottleState>> {
    const nowMs = now.getTime();
    const bindings: Record<string, string | number> = { now: nowMs, windowOver: nowMs - THROTTLE_WINDOW_MS };
    counters.forEach(({ key }, i) => (bindings[`key${i}`] = key));
    const result: unknown = await this.db.raw(reserveStatement(counters.map(({ rule }) => rule)), bindings);
    const counted = new Set(rowsOf<{ key: string }>(result).map((row) => row.key));
    const refusing = counters.map(({ key }) => key).filter((key) => !counted.has(key));
    if (refusing.length === 0) return new Map();
    const rows: ThrottleRow[] = await this.db('login_throttles').whereIn('key', refusing);
    return new Map(rows.map((row) => [row.key, toThrottleState(row)]));
  }

  // These two run in every login's transaction: raw, since Knex's query builder cost more than they do.
  async releaseLoginAttempt(key: string): Promise<void> {
    await this.db.raw('UPDATE login_throttles SET failures = failures - 1 WHERE "key" = ? AND failures > 0', [key]);
  }

  async clearLoginThrottle(key: string): Promise<void> {
    await this.db.raw('DELETE FROM login_throttles WHERE "key" = ?', [key]);
  }

  async deleteLoginThrottlesBefore(cutoff: Date): Promise<number> {
    return this.db('login_throttles').where('window_started_at', '<', cutoff.getTime()).delete();
  }
}
