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
 * same stream, ahead of it; so the cache is trusted until `receivedAt + (1000 − proofAgeMs)` of
 * the newest heartbeat. `performance.now()` only: a wall clock that jumps must not extend trust.
 *
 * Every lapse (the deadline passed, the feed ended) empties the cache through `lapsed`, since
 * ends may have been missed, and moves {@link epoch}; so does every recovery, so that an answer
 * fetched across either is never cached. One log line per lapse and one per recovery.
 */
export class FeedTrust {
  private trustedUntil = Number.NEGATIVE_INFINITY;
  private state: TrustState = 'starting';
  private transitions = 0;

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

  heartbeat(proofAgeMs: number): void {
    // A lapse since the previous heartbeat counts, even if this one would cover the gap.
    const now = this.now();
    if (this.state === 'trusted' && now >= this.trustedUntil) this.lapse('no fresh heartbeat');
    this.trustedUntil = Math.max(this.trustedUntil, now + TRUST_DEADLINE_MS - Math.max(0, proofAgeMs));
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
    this.trustedUntil = Number.NEGATIVE_INFINITY;
    if (this.state !== 'lapsed') this.lapse(reason);
  }

  /** Stops without a lapse to report (the verifier is closing). */
  stop(): void {
    this.trustedUntil = Number.NEGATIVE_INFINITY;
    if (this.state === 'trusted') this.transitions++;
    this.state = 'lapsed';
    this.lapsed();
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
