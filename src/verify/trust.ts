import { performance } from 'node:perf_hooks';
import type { VerifierLogger } from './types.js';

/**
 * The longest the cache is trusted without fresh proof, as between Gatehouse's own instances
 * (src/events/propagation.ts, rule 1): no ended session is served more than this after its end.
 */
export const TRUST_DEADLINE_MS = 1_000;

/** What trust is now: not yet proven since the start, proven, or lapsed since it last was. */
type TrustState = 'starting' | 'trusted' | 'lapsed';

/**
 * Gatehouse's trust rule, carried into the service. A `HEARTBEAT` on the end feed proves that
 * every end announced more than `proofAgeMs` before it was sent has already been sent on the
 * same stream, ahead of it. When it was sent is not when it arrived: a path that keeps flowing
 * but delays every frame (a buffering proxy, a busy event loop on either side) would stretch
 * trust by that delay. So the feed pings Gatehouse on the same socket, and a heartbeat counts
 * from the send time `s` of the newest ping whose pong arrived before it: Gatehouse wrote that
 * pong after receiving the ping, and the heartbeat after the pong, so after `s`. The cache is
 * trusted until `s + (1000 − proofAgeMs)`; a heartbeat with no answered ping before it on its
 * connection proves nothing. `performance.now()` only: a wall clock that jumps must not extend trust.
 *
 * Every lapse (the deadline passed, the feed ended) empties the cache through `lapsed`, since
 * ends may have been missed, and moves {@link epoch}; so does every recovery, so that an answer
 * fetched across either is never cached. One log line per lapse and one per recovery.
 */
export class FeedTrust {
  private trustedUntil = Number.NEGATIVE_INFINITY;
  private state: TrustState = 'starting';
  private transitions = 0;
  /** Send times of the current connection's pings not yet answered, oldest first (pongs come in order). */
  private readonly unansweredPings: number[] = [];
  /** Send time of the newest ping answered on the current connection: what a heartbeat counts from. */
  private answeredPingSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: VerifierLogger,
    private readonly lapsed: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Moves on every change of trust: an answer may be cached only if it did not move during the fetch. */
  get epoch(): number {
    return this.transitions;
  }

  get trusted(): boolean {
    return this.check();
  }

  /** Checked per request: noticing a lapse here empties the cache before anything is read from it. */
  check(): boolean {
    if (this.state === 'trusted' && this.now() >= this.trustedUntil) this.lapse('no fresh heartbeat');
    return this.state === 'trusted';
  }

  /** Milliseconds of trust left (0 when untrusted): when the feed must have sent another heartbeat. */
  get remainingMs(): number {
    return Math.max(0, this.trustedUntil - this.now());
  }

  /** Called before a ping is written, so that Gatehouse cannot receive it before the time taken. */
  pingSent(): void {
    this.unansweredPings.push(this.now());
  }

  /** A pong arrived: every message after it was written after its ping reached Gatehouse. */
  pongReceived(): void {
    const sentAt = this.unansweredPings.shift();
    if (sentAt !== undefined) this.answeredPingSentAt = sentAt;
  }

  heartbeat(proofAgeMs: number): void {
    // A lapse since the previous heartbeat counts, even if this one would cover the gap.
    const now = this.now();
    if (this.state === 'trusted' && now >= this.trustedUntil) this.lapse('no fresh heartbeat');
    const until = this.answeredPingSentAt + TRUST_DEADLINE_MS - Math.max(0, proofAgeMs);
    this.trustedUntil = Math.max(this.trustedUntil, until);
    if (this.state === 'trusted' || now >= this.trustedUntil) return;
    this.logger.info(
      this.state === 'starting'
        ? 'gatehouse/verify: session-end feed proven: serving checks from the cache'
        : 'gatehouse/verify: session ends reach this service again: cache back on',
    );
    this.state = 'trusted';
    this.transitions++;
  }

  /** The feed ended, failed, or could not be opened: nothing proves ends reach the cache. */
  end(reason: string): void {
    this.forgetConnection();
    if (this.state !== 'lapsed') this.lapse(reason);
  }

  /** Stops without a lapse to report (the verifier is closing). */
  stop(): void {
    this.forgetConnection();
    if (this.state === 'trusted') this.transitions++;
    this.state = 'lapsed';
    this.lapsed();
  }

  /** Pings belong to one connection: a pong on the next one answers none of them. */
  private forgetConnection(): void {
    this.trustedUntil = Number.NEGATIVE_INFINITY;
    this.unansweredPings.length = 0;
    this.answeredPingSentAt = Number.NEGATIVE_INFINITY;
  }

  private lapse(reason: string): void {
    this.logger.warn(
      `gatehouse/verify: session ends are not proven to reach this service (${reason}): ` +
        'the cache is off and every check asks Gatehouse until the feed is back',
      { deadlineMs: TRUST_DEADLINE_MS },
    );
    if (this.state === 'trusted') this.transitions++;
    this.state = 'lapsed';
    this.lapsed();
  }
}
