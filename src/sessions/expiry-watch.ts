import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { SessionEnds } from './ends.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import { expiryDue, hasExpired, type SessionPolicy } from './policy.js';
import type { SessionStore } from './store.js';
import { SYSTEM_ORIGIN } from './types.js';

/** Timers cap at ~24.8 days; a later expiry is simply checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Checked just after the due time, so the check finds it expired rather than a hair early. */
const DUE_MARGIN_MS = 5;

export interface ExpiryWatchOptions {
  sessions: Pick<SessionStore, 'findSessionById'>;
  clock: Clock;
  policy: SessionPolicy;
  lastSeen: LastSeenWriter;
  ends: SessionEnds;
  logger: Logger;
}

/**
 * Ends a session with `EXPIRED` the moment it expires (absolute or idle) for as long as someone
 * listens to it (a live subscription or socket), instead of waiting for the sweeper or the next
 * request: a live client hears of its expiry when it happens.
 *
 * One timer per watched session, however many listen. Each check re-reads the row, since a use
 * through another instance may have pushed the idle expiry back.
 */
export class ExpiryWatch {
  private readonly watches = new Map<string, { timer: NodeJS.Timeout | undefined; listeners: number }>();

  constructor(private readonly options: ExpiryWatchOptions) {}

  /** Starts watching `sessionId`; returns a function that stops (calling it twice is harmless). */
  watch(sessionId: string): () => void {
    let watch = this.watches.get(sessionId);
    if (!watch) {
      watch = { timer: undefined, listeners: 0 };
      this.watches.set(sessionId, watch);
      void this.check(sessionId);
    }
    watch.listeners++;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const current = this.watches.get(sessionId);
      if (current && --current.listeners === 0) {
        clearTimeout(current.timer);
        this.watches.delete(sessionId);
      }
    };
  }

  /** Sessions being watched (for metrics). */
  get size(): number {
    return this.watches.size;
  }

  close(): void {
    for (const watch of this.watches.values()) clearTimeout(watch.timer);
    this.watches.clear();
  }

  /** Ends the session if it has expired, else sets the timer for when it will. */
  private async check(sessionId: string): Promise<void> {
    const { sessions, clock, policy, lastSeen, ends, logger } = this.options;
    try {
      const session = await sessions.findSessionById(sessionId);
      const watch = this.watches.get(sessionId);
      if (!watch || !session || session.endedAt !== null) return;
      lastSeen.applyUnwritten(session);
      const now = clock.now();
      if (hasExpired(session, now, policy)) {
        await ends.endSession(sessionId, 'EXPIRED', SYSTEM_ORIGIN);
        return;
      }
      const delay = Math.min(Math.max(0, expiryDue(session, policy) - now.getTime()) + DUE_MARGIN_MS, MAX_TIMER_MS);
      watch.timer = setTimeout(() => void this.check(sessionId), delay);
      watch.timer.unref();
    } catch (error) {
      logger.warn('expiry check failed', { error, sessionId });
    }
  }
}
