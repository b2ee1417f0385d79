import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { SessionEnds } from './ends.js';
import type { AuthEventStore, LoginThrottleStore, SessionStore } from './store.js';
import { THROTTLE_WINDOW_MS } from './throttle.js';

/** Rows the sweeper ends or deletes per statement: short transactions leave room for requests. */
const SWEEP_BATCH_SIZE = 500;

export interface SweeperOptions {
  sessions: Pick<SessionStore, 'deleteSessionsEndedBefore'>;
  authEvents: Pick<AuthEventStore, 'deleteAuthEventsBefore'>;
  loginThrottles: Pick<LoginThrottleStore, 'deleteLoginThrottlesBefore'>;
  /** Webhook deliveries that are DELIVERED or FAILED go after `authEventRetentionMs`, like audit events. */
  webhookDeliveries: { deleteDeliveriesFinishedBefore(cutoff: Date, limit: number): Promise<number> };
  ends: SessionEnds;
  clock: Clock;
  logger: Logger;
  /** Time between the end of one run and the start of the next, in ms. */
  intervalMs: number;
  /** How long ended session rows are kept, in ms. */
  sessionRetentionMs: number;
  /** How long audit events are kept, in ms. */
  authEventRetentionMs: number;
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
}

/**
 * Ends sessions past their expiry (`EXPIRED`, so they show as ended with a reason) and deletes
 * what is older than its retention: ended sessions, audit events, finished webhook deliveries,
 * spent throttle counters; a
 * batch per statement. Runs on a schedule; runs never overlap (the next is scheduled when one
 * finishes), and {@link stop} waits for a run in progress.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;
  private stopped = true;
  private readonly sweptListeners: Array<(result: SweepResult, durationMs: number) => void> = [];

  constructor(private readonly options: SweeperOptions) {}

  start(): void {
    this.stopped = false;
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

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async sweep(): Promise<SweepResult> {
    const { sessions, authEvents, loginThrottles, webhookDeliveries, ends, clock } = this.options;
    const { sessionRetentionMs, authEventRetentionMs } = this.options;
    const expired = await inBatches((limit) => ends.endInactive(limit).then((ended) => ended.length));
    const now = clock.now().getTime();
    const deleted = await inBatches((limit) =>
      sessions.deleteSessionsEndedBefore(new Date(now - sessionRetentionMs), limit),
    );
    const deletedAuthEvents = await inBatches((limit) =>
      authEvents.deleteAuthEventsBefore(new Date(now - authEventRetentionMs), limit),
    );
    const deletedDeliveries = await inBatches((limit) =>
      webhookDeliveries.deleteDeliveriesFinishedBefore(new Date(now - authEventRetentionMs), limit),
    );
    await loginThrottles.deleteLoginThrottlesBefore(new Date(now - THROTTLE_WINDOW_MS));
    return { expired, deleted, deletedAuthEvents, deletedDeliveries };
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

/** Runs `batch` until it handles fewer rows than asked for; returns the total. */
async function inBatches(batch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const handled = await batch(SWEEP_BATCH_SIZE);
    total += handled;
    if (handled < SWEEP_BATCH_SIZE) return total;
  }
}
