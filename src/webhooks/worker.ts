/**
 * The outbox worker: one per server process, never in scripts. It claims due deliveries, sends
 * them, and writes each result on its row.
 *
 * Rules:
 * - Never in a request's way: the rows are written by the database in the request's own
 *   transaction, and a request only {@link wake}s the worker, which never holds a transaction
 *   open while it sends.
 * - Bounded: at most {@link PER_WEBHOOK_CONCURRENCY} attempts in flight per webhook and
 *   {@link TOTAL_CONCURRENCY} in all, and it claims only as many rows as it can start at once,
 *   so a slow or dead receiver delays only its own deliveries, and a backlog of any size is
 *   read from the database a few rows at a time.
 * - One attempt at a time per delivery across instances: a claim counts the attempt and leases
 *   the row for longer than an attempt may take ({@link leaseMs}); a result is written only if
 *   the row is still at that attempt. A worker that dies loses its leases, and the rows come back.
 * - Delivery times are wall-clock (`Date.now`): they measure the network, not session rules, so
 *   a test's manual clock does not hold them back.
 */
import { setMaxListeners } from 'node:events';
import { throttledLogger, type Logger } from '../logger.js';
import { outcomeOf } from './outcome.js';
import { ResultWriter } from './results.js';
import { sendWebhook, type AttemptResult, type SendRequest } from './sender.js';
import { signatureHeaders } from './signing.js';
import type { ClaimedDelivery, WebhookStore, WebhookTarget } from './store.js';

export const PER_WEBHOOK_CONCURRENCY = 4;
export const TOTAL_CONCURRENCY = 64;
/** Deliveries written by other processes (or due for a retry) are found within this. */
export const POLL_INTERVAL_MS = 500;
/** Between passes when wakes keep coming (a login storm): the worker takes turns with requests. */
const MIN_PASS_GAP_MS = 25;
const DISABLED_ERROR = 'not sent: the webhook is disabled';

/** An attempt's lease: its timeout twice over and a margin for writing its result. */
export const leaseMs = (timeoutMs: number) => 2 * timeoutMs + 5_000;

export interface DeliveryWorkerOptions {
  store: Pick<WebhookStore, 'listTargets' | 'claimDue' | 'recordAttempts' | 'failDue' | 'updateWebhook'>;
  logger: Logger;
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  allowPrivate: boolean;
  /** Default: {@link sendWebhook}. */
  send?: (request: SendRequest) => Promise<AttemptResult>;
  now?: () => number;
}

/** What one finished attempt did to its delivery (metrics): interrupted attempts are not told. */
export interface AttemptReport {
  status: 'DELIVERED' | 'PENDING' | 'FAILED';
  durationMs: number;
}

export class DeliveryWorker {
  /** Attempts in flight (or being claimed) per webhook, and in all. */
  private readonly inFlight = new Map<string, number>();
  private total = 0;
  /** The webhooks as a pass last read them, and when (wall clock, ms). */
  private targets = new Map<string, WebhookTarget>();
  private targetsReadAt = -Infinity;
  private readonly attempts = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly log: ReturnType<typeof throttledLogger>;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private rotation = 0;
  private readonly results: ResultWriter;
  private readonly attemptListeners: Array<(report: AttemptReport) => void> = [];

  constructor(private readonly options: DeliveryWorkerOptions) {
    this.log = throttledLogger(options.logger, 10_000);
    this.results = new ResultWriter((records) => options.store.recordAttempts(records));
    // One signal for every attempt in flight.
    setMaxListeners(TOTAL_CONCURRENCY + 1, this.abort.signal);
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Told after each attempt's result is written. */
  onAttempted(listener: (report: AttemptReport) => void): void {
    this.attemptListeners.push(listener);
  }

  /**
   * Look for due deliveries now: a change that may have written delivery rows was just committed
   * here. Skipped while the last pass found no webhook at all, or every login would cost a
   * query for nothing; the poll notices webhooks made elsewhere. Returns at once.
   */
  wake(): void {
    if (this.targets.size > 0) this.schedule(0);
  }

  /** A webhook or a delivery was changed here (made, edited, retried): look now, whatever the last pass found. */
  webhooksChanged(): void {
    this.targetsReadAt = -Infinity;
    this.schedule(0);
  }

  /** Stops claiming, interrupts the attempts in flight and writes their results. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    this.abort.abort();
    await Promise.all(this.attempts);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = this.now + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.run();
    }, delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.running) return void (this.again = true);
    this.running = this.claimAndSend().catch((error: unknown) =>
      this.log('error', 'claim', 'webhook worker: claiming deliveries failed', { error }),
    );
    await this.running;
    this.running = undefined;
    this.schedule(this.again ? MIN_PASS_GAP_MS : POLL_INTERVAL_MS);
    this.again = false;
  }

  /** One pass over the webhooks, starting with a different one each time so none waits behind the others. */
  private async claimAndSend(): Promise<void> {
    const targets = await this.currentTargets();
    const start = this.rotation++ % Math.max(targets.length, 1);
    for (const target of [...targets.slice(start), ...targets.slice(0, start)]) {
      if (this.stopped) return;
      if (target.enabled) await this.fill(target.id);
      else if (!this.inFlight.has(target.id)) await this.options.store.failDue(target.id, this.now, DISABLED_ERROR);
    }
  }

  /**
   * The webhooks, read again once a poll interval has passed (or a change here said so): the
   * passes that wakes bring, one per kick or login under load, then cost a claim and no more.
   */
  private async currentTargets(): Promise<WebhookTarget[]> {
    if (this.now - this.targetsReadAt < POLL_INTERVAL_MS) return [...this.targets.values()];
    const readAt = this.now;
    const targets = await this.options.store.listTargets();
    this.targets = new Map(targets.map((target) => [target.id, target]));
    this.targetsReadAt = readAt;
    return targets;
  }

  /**
   * Claims as many of the webhook's due deliveries as it has free slots, and starts them. The
   * slots are taken before the claim, so fills running at once never overshoot. The target is
   * the one the last pass read: a URL or secret changed elsewhere is used within two poll intervals.
   */
  private async fill(webhookId: string): Promise<void> {
    const target = this.targets.get(webhookId);
    const wanted = Math.min(
      PER_WEBHOOK_CONCURRENCY - (this.inFlight.get(webhookId) ?? 0),
      TOTAL_CONCURRENCY - this.total,
    );
    if (this.stopped || !target?.enabled || wanted <= 0) return;
    this.take(webhookId, wanted);
    let claims: ClaimedDelivery[] = [];
    try {
      const now = this.now;
      claims = await this.options.store.claimDue(webhookId, wanted, now, now + leaseMs(this.options.timeoutMs));
    } finally {
      this.release(webhookId, wanted - claims.length);
    }
    for (const claim of claims) {
      const attempt = this.attempt(target, claim);
      this.attempts.add(attempt);
      void attempt.finally(() => {
        this.attempts.delete(attempt);
        this.release(webhookId, 1);
        // More of this webhook's deliveries may be due: claimed once half its slots are free, a
        // few rows per claim rather than one (a commit each); the poll fills the rest.
        if ((this.inFlight.get(webhookId) ?? 0) > PER_WEBHOOK_CONCURRENCY / 2) return;
        this.fill(webhookId).catch((error: unknown) =>
          this.log('error', 'claim', 'webhook worker: claiming deliveries failed', { error }),
        );
      });
    }
  }

  private take(webhookId: string, slots: number): void {
    this.inFlight.set(webhookId, (this.inFlight.get(webhookId) ?? 0) + slots);
    this.total += slots;
  }

  private release(webhookId: string, slots: number): void {
    const left = (this.inFlight.get(webhookId) ?? 0) - slots;
    this.total -= slots;
    if (left > 0) this.inFlight.set(webhookId, left);
    else this.inFlight.delete(webhookId);
  }

  private async attempt(target: WebhookTarget, claim: ClaimedDelivery): Promise<void> {
    const { retryScheduleMs, timeoutMs, allowPrivate, logger } = this.options;
    const body = compactJson(claim.payload);
    const attemptedAt = this.now;
    const send = this.options.send ?? sendWebhook;
    const result =
      body === undefined
        ? { error: 'not sent: the stored payload is not JSON', durationMs: 0 }
        : await send({
            ...{ url: target.url, body, timeoutMs, allowPrivate, signal: this.abort.signal },
            headers: signatureHeaders(target.secret, claim.id, Math.floor(attemptedAt / 1000), body),
          });
    // Interrupted by a stop: due again at once, for the next instance or the restart. A body
    // that is not JSON (written by hand) would fail every attempt: it fails now.
    const outcome = this.abort.signal.aborted
      ? { status: 'PENDING' as const, nextAttemptAt: this.now, disableWebhook: false }
      : body === undefined
        ? { status: 'FAILED' as const, nextAttemptAt: null, disableWebhook: false }
        : outcomeOf(result, claim.attempt, retryScheduleMs, this.now);
    try {
      await this.results.record({
        ...{ id: claim.id, attempt: claim.attempt, attemptedAt, durationMs: result.durationMs },
        ...{ status: outcome.status, nextAttemptAt: outcome.nextAttemptAt },
        ...{ statusCode: result.statusCode ?? null, error: result.error ?? null },
      });
      if (!this.abort.signal.aborted) {
        for (const listener of this.attemptListeners)
          listener({ status: outcome.status, durationMs: result.durationMs });
      }
      if (outcome.disableWebhook) {
        await this.options.store.updateWebhook(target.id, { enabled: false }, this.now);
        logger.warn('webhook disabled: the receiver answered 410 Gone', { webhookId: target.id });
      }
      if (outcome.nextAttemptAt !== null) this.schedule(Math.max(0, outcome.nextAttemptAt - this.now));
    } catch (error) {
      // The lease brings the row back: at least once, never lost.
      this.log('error', 'record', 'webhook worker: recording an attempt failed', { error, deliveryId: claim.id });
    }
  }
}

/** Stored as each database prints JSON; sent compact, the same bytes on every attempt. */
function compactJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}
