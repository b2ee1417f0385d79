import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { ServiceTokens } from '../sessions/service-tokens.js';
import { TRUST_DEADLINE_MS, type EndPropagation } from './propagation.js';
import { SessionEndFeedStream, type FeedOwner, type SessionEndFeedEvent } from './session-end-feed-stream.js';
import type { SessionEvent } from './types.js';

/** How often every open feed gets a heartbeat. */
export const FEED_HEARTBEAT_INTERVAL_MS = 250;
/**
 * Events a consumer may fall behind by before its feed is ended: about four minutes of
 * heartbeats alone (they replace one another in the queue), or a burst of ends a verifier
 * cannot keep up with, which it recovers from by dropping its cache.
 */
const MAX_QUEUED_EVENTS = 4_096;

export interface SessionEndFeedsOptions {
  /** This instance's end propagation: whether it is trusted, and the age of its proof. */
  propagation: Pick<EndPropagation, 'trusted' | 'proofAgeMs'>;
  /** Where feeds ending and trust lapsing are logged. */
  logger: Logger;
  /**
   * Watched for each feed's token: a feed ends when its token is revoked or stops being proven
   * unrevoked. Default: none (tests of the feeds alone).
   */
  serviceTokens?: Pick<ServiceTokens, 'watch'>;
  /** Default {@link FEED_HEARTBEAT_INTERVAL_MS}. */
  heartbeatIntervalMs?: number;
}

/**
 * The open session end feeds of this instance (`sessionEndFeed`, for other services that cache
 * sessions): every end this instance applies, in the order it applies them, and a heartbeat
 * every {@link FEED_HEARTBEAT_INTERVAL_MS} carrying the age of propagation's proof.
 *
 * Safety rules, so that a verifier may trust its cache until `s + (1000 − proofAgeMs)` after a
 * heartbeat, where `s` is when it sent the newest ping answered before that heartbeat (a
 * one-way message proves nothing about its own delay), as this instance trusts its own
 * (propagation.ts, rule 1):
 * - Every end is pushed to every open feed synchronously as it is applied here, before anything
 *   else runs: a heartbeat taken after it is queued behind it on the same stream.
 * - A heartbeat is sent only while propagation is trusted, and carries the proof's age as it
 *   leaves its queue (session-end-feed-stream.ts): every end announced anywhere more than
 *   `proofAgeMs` before was already on its way ahead of it.
 * - When ends may have been missed (a lost listening connection), every feed ends. When trust
 *   lapses, every feed that has vouched for anything ends; one opened while untrusted stays
 *   open and quiet, and heartbeats once trust returns (it has heard every end since it opened).
 * - A revoked service token's feeds end at once, and so do those of a token no read has proven
 *   unrevoked for a second (another instance may have revoked it): the service subscribes
 *   again, which authenticates it again.
 *
 * Cheap when idle: one interval for all feeds, and none while no feed is open.
 */
export class SessionEndFeeds implements FeedOwner {
  private readonly streams = new Set<SessionEndFeedStream>();
  private readonly unwatch = new Map<SessionEndFeedStream, () => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;

  constructor(private readonly options: SessionEndFeedsOptions) {
    this.intervalMs = options.heartbeatIntervalMs ?? FEED_HEARTBEAT_INTERVAL_MS;
  }

  /** Feeds open now (metrics, tests). */
  get size(): number {
    return this.streams.size;
  }

  /** A new feed for the service token `tokenId`, with a heartbeat at once when trusted. */
  open(tokenId: string): SessionEndFeedStream {
    const stream = new SessionEndFeedStream(this, tokenId, MAX_QUEUED_EVENTS);
    this.streams.add(stream);
    const end = () => stream.end();
    const unwatch = this.options.serviceTokens?.watch(tokenId, { revoked: end, unproven: end });
    if (unwatch) this.unwatch.set(stream, unwatch);
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(), this.intervalMs);
      this.timer.unref();
    }
    const heartbeat = this.heartbeat();
    if (heartbeat) stream.push(heartbeat);
    return stream;
  }

  forget(stream: SessionEndFeedStream): void {
    this.streams.delete(stream);
    this.unwatch.get(stream)?.();
    this.unwatch.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** An end applied by this instance (from the session event feed, once per end). */
  ended(event: SessionEvent): void {
    if (this.streams.size === 0) return;
    const { session, reason, at } = event;
    const ended: SessionEndFeedEvent = { type: 'ENDED', sessionId: session.id, userId: session.userId, reason, at };
    for (const stream of this.streams) stream.push(ended);
  }

  /** Ends may have been missed: every feed ends, its subscriber drops its cache. */
  missed(): void {
    this.endAll('session ends may have been missed', () => true);
  }

  /** Trust lapsed: every feed that has vouched for anything ends. */
  trustLapsed(): void {
    this.endAll('session ends are not proven to reach this instance', (stream) => stream.heartbeatSent);
  }

  /** Ends every feed (the server is stopping). */
  close(): void {
    for (const stream of [...this.streams]) stream.end();
  }

  private beat(): void {
    if (!this.options.propagation.trusted()) return this.trustLapsed();
    const heartbeat = this.heartbeat();
    if (heartbeat) for (const stream of this.streams) stream.push(heartbeat);
  }

  /** A heartbeat as of now, or undefined unless propagation is trusted with a proof under the deadline. */
  private heartbeat(): SessionEndFeedEvent | undefined {
    const { propagation } = this.options;
    // Rounded up: a verifier that reads it as older trusts for less, never for more.
    const proofAgeMs = Math.ceil(propagation.proofAgeMs());
    if (!propagation.trusted() || !(proofAgeMs < TRUST_DEADLINE_MS)) return undefined;
    return { type: 'HEARTBEAT', at: new Date(), proofAgeMs, queuedAt: performance.now() };
  }

  private endAll(why: string, which: (stream: SessionEndFeedStream) => boolean): void {
    const ending = [...this.streams].filter(which);
    if (ending.length === 0) return;
    this.options.logger.warn(`${why}: ending the session end feeds of other services`, { feeds: ending.length });
    for (const stream of ending) stream.end();
  }
}
