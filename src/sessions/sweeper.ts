import type { Logger } from '../logger.js';
import type { SessionService, SweepResult } from './service.js';

export interface SweeperOptions {
  sessions: SessionService;
  /** Time between the end of one run and the start of the next, in ms. */
  intervalMs: number;
  /** How long ended session rows are kept, in ms. */
  sessionRetentionMs: number;
  /** How long audit events are kept, in ms. */
  authEventRetentionMs: number;
  logger: Logger;
}

/**
 * Runs {@link SessionService.sweep} on a schedule. Runs never overlap (the next is scheduled
 * when one finishes), and {@link stop} waits for a run in progress.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: SweeperOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** One sweep now; returns what it did. Safe to call while the schedule runs. */
  async runOnce(): Promise<SweepResult> {
    while (this.running) await this.running;
    let result: SweepResult = { expired: 0, deleted: 0, deletedAuthEvents: 0 };
    this.running = (async () => {
      result = await this.options.sessions.sweep({
        sessionsMs: this.options.sessionRetentionMs,
        authEventsMs: this.options.authEventRetentionMs,
      });
      if (result.expired > 0 || result.deleted > 0 || result.deletedAuthEvents > 0) {
        this.options.logger.info('swept sessions', { ...result });
      }
    })().finally(() => {
      this.running = undefined;
    });
    await this.running;
    return result;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
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
