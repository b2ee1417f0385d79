import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { yieldToRequests, type SessionEnds } from './ends.js';
import type { AuthEventStore, LoginThrottleStore, PendingLoginStore, SessionStore } from './store.js';
import { THROTTLE_WINDOW_MS } from './throttle-rules.js';
import type { WebauthnChallengeStore } from './webauthn-challenges.js';

/**
 * Default rows per batch: one statement ends (or deletes) this many rows, and then they are
 * announced (in slices, see SessionEnds.announceExpired) and their audit events written in
 * one more. What one result costs the event loop to take in (parse, convert, evict) is one
 * task, so it grows with the batch. bench/sweep.ts, 300,000 rows, alternated pairs:
 * - 500 a batch (the end log read 1,000 at a time, the first announce slice in a turn of its own)
 *   against 1,000 (2,000 a read), five pairs: `{ me }` p99 during the sweep 4.4 against 6.1 ms,
 *   the longest event-loop block 13.9 against 16.3 ms, 7% fewer rows a second;
 * - 250 (500 a read) against 500, four pairs on a machine half as fast: p99 5.0 against 6.6 ms,
 *   the longest block 11.7–18.6 against 13.4–29.2 ms (the goal is 20), 7.5% fewer rows a second.
 * The per-row work dominates the rate; a statement's own cost is small.
 */
export const SWEEP_BATCH_SIZE = 250;

export interface SweeperOptions {
  sessions: Pick<SessionStore, 'deleteSessionsEndedBefore'>;
  authEvents: Pick<AuthEventStore, 'deleteAuthEventsBefore'>;
  loginThrottles: Pick<LoginThrottleStore, 'deleteLoginThrottlesBefore'>;
  webauthnChallenges: Pick<WebauthnChallengeStore, 'deleteChallengesExpiredBefore'>;
  /** Pending logins go as soon as they expire: nothing reads them after. */
  pendingLogins: Pick<PendingLoginStore, 'deletePendingLoginsExpiredBefore'>;
  /** Webhook deliveries that are DELIVERED or FAILED go after `authEventRetentionMs`, like audit events. */
  webhookDeliveries: { deleteDeliveriesFinishedBefore(cutoff: Date, limit: number): Promise<number> };
  ends: SessionEnds;
  clock: Clock;
  logger: Logger;
  /** Time between the end of one run and the start of the next, in ms. No default (`SWEEP_INTERVAL`). */
  intervalMs: number;
  /** How long ended session rows are kept, in ms. No default (`SESSION_RETENTION`). */
  sessionRetentionMs: number;
  /** How long audit events are kept, in ms. No default (`AUTH_EVENT_RETENTION`). */
  authEventRetentionMs: number;
  /** Rows ended or deleted per statement. Default {@link SWEEP_BATCH_SIZE}. */
  batchSize?: number;
}

export interface SweepResult {
  /** Sessions found past their expiry and ended with `EXPIRED`. */
  expired: number;
  /** Rows deleted because they ended longer ago than the retention period. */
  deleted: number;
  /** Audit events deleted because they are older than their retention period. */
  deletedAuthEvents: number;
  /** Finished webhook deliveries deleted, on the audit events' retention period. */
  deletedDeliveries: number;
  /** Pending logins (waiting for a second step) deleted because they expired. */
  deletedPendingLogins: number;
  /** WebAuthn challenges deleted because they expired unanswered. */
  deletedChallenges: number;
}

/**
 * Ends sessions past their expiry (`EXPIRED`, so they show as ended with a reason) and deletes
 * what is older than its retention: ended sessions, audit events, finished webhook deliveries,
 * expired pending logins and WebAuthn challenges, spent throttle counters. Each step goes in batches of {@link SweeperOptions.batchSize} rows,
 * one short statement each, yielding to the event loop between batches so that requests
 * interleave with a long sweep. Runs on a schedule; runs never overlap (the next is scheduled
 * when one finishes). {@link stop} makes a run in progress stop after its current batch, so a
 * graceful shutdown is not held up by a million expired rows: the next run picks up the rest.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = true;
  /** Set by {@link stop}: the run in progress ends after its current batch. */
  private halting = false;
  private readonly batchSize: number;
  private readonly sweptListeners: Array<(result: SweepResult, durationMs: number) => void> = [];

  constructor(private readonly options: SweeperOptions) {
    this.batchSize = options.batchSize ?? SWEEP_BATCH_SIZE;
  }

  start(): void {
    this.stopped = false;
    this.halting = false;
    this.schedule();
  }

  /** Told after every run, with what it did and how long it took (metrics). */
  onSwept(listener: (result: SweepResult, durationMs: number) => void): void {
    this.sweptListeners.push(listener);
  }

  /** One sweep now; returns what it did. Safe to call while the schedule runs. */
  async runOnce(): Promise<SweepResult> {
    while (this.running) await this.running.catch(() => undefined);
    const startedAt = performance.now();
    this.running = this.sweep().finally(() => (this.running = undefined));
    const result = await this.running;
    for (const listener of this.sweptListeners) listener(result, performance.now() - startedAt);
    if (Object.values(result).some((count) => count > 0)) {
      this.options.logger.info('swept sessions', { ...result });
    }
    return result;
  }

  /**
   * Stops the schedule; a run in progress finishes the batch it is in (so no batch is left half
   * announced), has its ends acknowledged, and returns early. Resolves when it has.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halting = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async sweep(): Promise<SweepResult> {
    const { sessions, authEvents, loginThrottles, webhookDeliveries, pendingLogins, webauthnChallenges } = this.options;
    const { ends, clock } = this.options;
    const { sessionRetentionMs, authEventRetentionMs } = this.options;
    let expired: number;
    try {
      // Not pipelined (the next batch's statement sent while this one is announced): that kept
      // SQLite's writing connection busy without a break, so every write (a login, a kick) waited
      // behind every batch; `{ me }` p99 went from 8 to 58 ms in bench/sweep.ts, when the end
      // log's poll still read on that connection, for no gain in rows/s.
      expired = await this.inBatches(async (limit) => {
        const ended = await ends.expireInactive(limit);
        await ends.announceExpired(ended);
        return ended.length;
      });
    } finally {
      // One barrier for the whole run, also when a batch failed after others committed.
      await ends.acknowledge();
    }
    const now = clock.now().getTime();
    const deleted = await this.inBatches((limit) =>
      sessions.deleteSessionsEndedBefore(new Date(now - sessionRetentionMs), limit),
    );
    const deletedAuthEvents = await this.inBatches((limit) =>
      authEvents.deleteAuthEventsBefore(new Date(now - authEventRetentionMs), limit),
    );
    const deletedDeliveries = await this.inBatches((limit) =>
      webhookDeliveries.deleteDeliveriesFinishedBefore(new Date(now - authEventRetentionMs), limit),
    );
    const deletedPendingLogins = await this.inBatches((limit) =>
      pendingLogins.deletePendingLoginsExpiredBefore(new Date(now), limit),
    );
    const deletedChallenges = await this.inBatches((limit) =>
      webauthnChallenges.deleteChallengesExpiredBefore(new Date(now), limit),
    );
    if (!this.halting) await loginThrottles.deleteLoginThrottlesBefore(new Date(now - THROTTLE_WINDOW_MS));
    return { expired, deleted, deletedAuthEvents, deletedDeliveries, deletedPendingLogins, deletedChallenges };
  }

  /**
   * Runs `batch` until it handles fewer rows than asked for, or {@link stop} was called; returns
   * the total. Checked between batches, never within one: a batch is committed and announced
   * whole. Once halted, later steps of the run do nothing.
   */
  private async inBatches(batch: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    while (!this.halting) {
      const handled = await batch(this.batchSize);
      total += handled;
      if (handled < this.batchSize) break;
      await yieldToRequests();
    }
    return total;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.runOnce()
        .catch((error: unknown) => this.options.logger.error('sweep failed', { error }))
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
