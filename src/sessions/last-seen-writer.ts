import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { ActiveAt, SessionPolicy } from './policy.js';
import type { SessionStore } from './store.js';
import type { SessionRecord } from './types.js';

/** `lastSeenAt` is written at most this often per session (DESIGN: once a minute). */
const LAST_SEEN_WRITE_INTERVAL_MS = 60_000;

/**
 * The write-behind for `lastSeenAt`: a request records its use of a session here, and the
 * values are written in batches, one transaction each, instead of an fsync per request.
 *
 * The rule that makes this safe: **flush before any query that filters on `last_seen_at`**.
 * Activity this process has seen but not written would otherwise make a live session look
 * idle, so a revocation could miss it or a list leave it out. The rule is kept by construction:
 * every such query takes an {@link ActiveAt}, and {@link activeAt} (which flushes first) is
 * the only place that makes one. Reads of a single row apply the unwritten value instead
 * ({@link applyUnwritten}).
 */
export class LastSeenWriter {
  /**
   * How old a stored `lastSeenAt` may get before a use writes it again. With a short idle
   * timeout, once a minute would let an active session idle out, so it shrinks to a quarter of
   * the timeout.
   */
  readonly writeIntervalMs: number;
  private pending = new Map<string, Date>();
  /** The batch being written: still the freshest truth until its transaction commits. */
  private writing: ReadonlyMap<string, Date> = new Map();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: Pick<SessionStore, 'touchSessions'>,
    private readonly clock: Clock,
    private readonly policy: SessionPolicy,
    private readonly logger: Logger,
  ) {
    this.writeIntervalMs = Math.min(LAST_SEEN_WRITE_INTERVAL_MS, Math.floor(policy.idleTimeoutMs / 4));
    // Flushing well within the write interval keeps the stored value (which other instances
    // and SQL counts see) close to what this process knows.
    const flushIntervalMs = Math.max(50, Math.min(1000, Math.floor(this.writeIntervalMs / 2)));
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Records a use of `session` at `now`. The record itself is updated, since a cached copy is
   * shared and the next request must see it; a write is queued once the stored value is older
   * than {@link writeIntervalMs}.
   */
  touch(session: SessionRecord, now: Date): void {
    if (now.getTime() - session.lastSeenAt.getTime() < this.writeIntervalMs) return;
    session.lastSeenAt = now;
    this.pending.set(session.id, now);
  }

  /**
   * Raises `session.lastSeenAt` to activity this process has seen but not yet committed, which
   * is newer than the row: a request between queueing and commit must not find it idle.
   */
  applyUnwritten(session: SessionRecord): void {
    for (const unwritten of [this.pending.get(session.id), this.writing.get(session.id)]) {
      if (unwritten && unwritten > session.lastSeenAt) session.lastSeenAt = unwritten;
    }
  }

  /** Drops the queued write of a session that has ended. */
  forget(sessionId: string): void {
    this.pending.delete(sessionId);
  }

  /** Writes what is queued, then says what "active" means at `now` (default: after the write). */
  async activeAt(now?: Date): Promise<ActiveAt> {
    await this.flush();
    return { now: now ?? this.clock.now(), idleTimeoutMs: this.policy.idleTimeoutMs };
  }

  /** Writes the queued values in one transaction; resolves once they are written. */
  flush(): Promise<void> {
    // Chained so that flushes never overlap and a caller awaiting this sees its values written.
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      this.writing = batch;
      try {
        await this.store.touchSessions(batch);
      } catch (error) {
        this.logger.warn('could not write lastSeenAt', { error, sessions: batch.size });
      } finally {
        this.writing = new Map();
      }
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is queued. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
