import { performance } from 'node:perf_hooks';
import type { SessionEndReason } from '../sessions/types.js';
import { TRUST_DEADLINE_MS } from './propagation.js';

/** One event of a service's session end feed (`sessionEndFeed`). */
export type SessionEndFeedEvent =
  | { type: 'ENDED'; sessionId: string; userId: string; reason: SessionEndReason | null; at: Date }
  /**
   * `proofAgeMs`: see `EndPropagation.proofAgeMs`, as of when it leaves the queue; `queuedAt`
   * (`performance.now()`) is when it was taken.
   */
  | { type: 'HEARTBEAT'; at: Date; proofAgeMs: number; queuedAt: number };

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** What a stream needs from the registry that owns it. */
export interface FeedOwner {
  /** The stream has ended, whoever ended it: forget it. */
  forget(stream: SessionEndFeedStream): void;
}

/**
 * One subscriber's session end feed: the events queued for it, in the order they were pushed,
 * until it ends.
 *
 * Safety rules, for a verifier's cache that trusts this stream:
 * - An `ENDED` is never dropped. A consumer that falls {@link maxQueued} events behind has its
 *   stream ended instead (it then drops its cache and subscribes again), never silently thinned.
 * - A heartbeat is queued after every end pushed before it, so it vouches only for ends already
 *   on their way. A heartbeat still waiting in the queue is replaced by the next one (a newer
 *   proof in the same place), so a slow consumer's queue does not fill with heartbeats.
 * - A heartbeat leaves the queue aged by the time it waited there (one that reaches the deadline
 *   so is dropped): a verifier anchors its trust on a ping Gatehouse answered before the
 *   heartbeat was written, and a pong can overtake a heartbeat still queued here.
 * - An ended stream delivers nothing more, not even what was queued: whatever ended it (the
 *   token revoked, ends possibly missed) makes the queue worthless or forbidden to deliver.
 */
export class SessionEndFeedStream implements AsyncIterableIterator<SessionEndFeedEvent, undefined> {
  private readonly queue: SessionEndFeedEvent[] = [];
  private waiter: ((result: IteratorResult<SessionEndFeedEvent, undefined>) => void) | undefined;
  private finished = false;
  /** Whether a heartbeat has been pushed: until then the stream vouched for nothing. */
  heartbeatSent = false;

  constructor(
    private readonly owner: FeedOwner,
    /** The service token that opened it: its revocation ends the stream. */
    readonly tokenId: string,
    /** Events a consumer may fall behind by before its stream is ended. */
    private readonly maxQueued: number,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  get ended(): boolean {
    return this.finished;
  }

  push(event: SessionEndFeedEvent): void {
    if (this.finished) return;
    if (event.type === 'HEARTBEAT') this.heartbeatSent = true;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    const last = this.queue.length - 1;
    if (event.type === 'HEARTBEAT' && this.queue[last]?.type === 'HEARTBEAT') this.queue[last] = event;
    else if (this.queue.length >= this.maxQueued) this.end();
    else this.queue.push(event);
  }

  /** Ends the stream now: the consumer sees it complete, with nothing more delivered. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.length = 0;
    this.owner.forget(this);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(DONE);
  }

  next(): Promise<IteratorResult<SessionEndFeedEvent, undefined>> {
    let event = this.queue.shift();
    while (event?.type === 'HEARTBEAT') {
      const aged = aging(event);
      if (aged) return Promise.resolve({ value: aged, done: false });
      event = this.queue.shift();
    }
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The client unsubscribed or went away. */
  return(): Promise<IteratorResult<SessionEndFeedEvent, undefined>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<SessionEndFeedEvent, undefined>> {
    this.end();
    return Promise.reject(error);
  }
}

/** A queued heartbeat as of now, or undefined when its proof has grown too old to vouch for anything. */
function aging(heartbeat: Extract<SessionEndFeedEvent, { type: 'HEARTBEAT' }>) {
  const proofAgeMs = heartbeat.proofAgeMs + Math.ceil(performance.now() - heartbeat.queuedAt);
  return proofAgeMs < TRUST_DEADLINE_MS ? { ...heartbeat, proofAgeMs } : undefined;
}
