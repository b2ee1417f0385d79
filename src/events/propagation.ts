/**
 * End propagation: how an end committed anywhere reaches every instance, and the proof that it
 * does. It carries the revocation guarantee (DESIGN.md), on two rules:
 *
 * 1. Bounded trust. An instance trusts its validated-session cache only while it has proof,
 *    younger than {@link TRUST_DEADLINE_MS}, that every end announced before the proof was
 *    taken has been applied here. PostgreSQL: a heartbeat this instance sent and received back
 *    through the same channel, whose delivery is in commit order. SQLite: a completed poll of
 *    the end log. Past the deadline the cache is emptied and bypassed (every request reads the
 *    database) until proof returns. So a session ended anywhere is served from a stale cache
 *    for at most the deadline, under any single fault: the channel hung or down, an instance
 *    cut off.
 * 2. Acknowledged ends. A call that ends sessions returns only after {@link barrier}: every
 *    live instance has applied the ends committed before it, or has stopped trusting its cache
 *    by rule 1 (the barrier's deadline is the trust deadline).
 *
 * The ends themselves are announced by the database in the committing transaction (migration
 * 05), so no crash or fault between commit and announcement can lose one.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';
import type { AnnouncedEventType, SessionEvent } from './types.js';

/** The longest an instance trusts its cache without fresh proof: the bound of rule 1. */
export const TRUST_DEADLINE_MS = 1_000;

export interface PropagationHandlers {
  /** Session events announced by the database (this process's own among them), bindings included. */
  events(events: readonly SessionEvent<AnnouncedEventType>[]): void;
  /** Announcements may have been lost (a connection dropped): the cache must start afresh. */
  missed(): void;
  /** Trust lapsed (false) or was proven again (true). */
  trustChanged(trusted: boolean): void;
}

export interface EndPropagation {
  /** This instance's id among its peers. */
  readonly instanceId: string;
  /** True while this instance may serve from its cache (rule 1). Cheap: called per request. */
  trusted(): boolean;
  /**
   * Milliseconds since this instance last proved it has applied every end announced anywhere
   * before the proof (rule 1): trusted while at most {@link TRUST_DEADLINE_MS}; infinite before
   * the first proof and once closing. The session end feed's heartbeats carry it.
   */
  proofAgeMs(): number;
  /** Resolves once every live instance has applied the ends committed so far (rule 2). Never rejects. */
  barrier(): Promise<void>;
  start(handlers: PropagationHandlers): Promise<void>;
  close(): Promise<void>;
}

/** Rule 1's bookkeeping: the latest proof, and one log line per lapse and per recovery. */
export class Trust {
  private lastProofAt = Number.NEGATIVE_INFINITY;
  private state = false;
  private lapsed = false;

  constructor(
    private readonly logger: Logger,
    private readonly changed: (trusted: boolean) => void,
  ) {}

  /** Everything announced before `takenAt` (`performance.now()` here) has been applied. */
  proven(takenAt: number): void {
    if (takenAt > this.lastProofAt) this.lastProofAt = takenAt;
    this.update();
  }

  get trusted(): boolean {
    return performance.now() - this.lastProofAt <= TRUST_DEADLINE_MS;
  }

  /** Milliseconds since the latest proof. */
  get proofAgeMs(): number {
    return performance.now() - this.lastProofAt;
  }

  /** Notices a lapse without waiting for a request to find it (called on a timer). */
  check(): void {
    this.update();
  }

  private update(): void {
    const trusted = this.trusted;
    if (trusted === this.state) return;
    this.state = trusted;
    if (!trusted) {
      this.lapsed = true;
      this.logger.warn('session ends are not proven to reach this instance: bypassing the session cache', {
        deadlineMs: TRUST_DEADLINE_MS,
      });
    } else if (this.lapsed) {
      this.logger.info('session ends reach this instance again: cache back on, watched sessions re-checked');
    }
    this.changed(trusted);
  }
}
