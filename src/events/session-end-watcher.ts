import type { SessionRecord } from '../sessions/types.js';
import { sessionEvent, type SessionEvent } from './types.js';

/** Watches a session's expiry while someone depends on it (see `ExpiryWatch`). */
export interface ExpiryWatcher {
  /** Returns a function that stops watching. */
  watch(sessionId: string): () => void;
}

export interface SessionEndHandlers {
  /** Called at once when the session ends: deliver the news (e.g. a `sessionRevoked` event). */
  ended?(event: SessionEvent): void;
  /**
   * Called once everything `ended` set in motion has been written out: close what the session
   * opened (subscriptions, sockets). Deferred to the next turn of the event loop so the
   * `sessionRevoked` event always reaches the client before its stream or socket closes.
   */
  close?(event: SessionEvent): void;
}

interface Watch {
  handlers: SessionEndHandlers;
  stopExpiryWatch: () => void;
}

/**
 * What in this process depends on which session (live subscriptions, sockets), so that the
 * session feed can tell them the moment it ends, whichever instance ended it: a map lookup per
 * end.
 *
 * Watching a session also watches its expiry, so whatever a live client holds open ends the
 * moment the session expires, not at the next sweep: one call does both.
 */
export class SessionEndWatcher {
  private readonly watchers = new Map<string, Set<Watch>>();

  constructor(private readonly expiry: ExpiryWatcher) {}

  /** Watches one session (and its expiry) until it ends or the returned function is called. */
  watch(sessionId: string, handlers: SessionEndHandlers): () => void {
    let set = this.watchers.get(sessionId);
    if (!set) this.watchers.set(sessionId, (set = new Set()));
    const watch: Watch = { handlers, stopExpiryWatch: this.expiry.watch(sessionId) };
    set.add(watch);
    return () => {
      watch.stopExpiryWatch();
      const current = this.watchers.get(sessionId);
      current?.delete(watch);
      if (current?.size === 0) this.watchers.delete(sessionId);
    };
  }

  /** How many watches `sessionId` has now: its sockets and subscriptions (tests read it). */
  watchCount(sessionId: string): number {
    return this.watchers.get(sessionId)?.size ?? 0;
  }

  /** Whether something in this process watches the session now. */
  isWatching(sessionId: string): boolean {
    return this.watchers.has(sessionId);
  }

  /** Sessions watched now. */
  get watchedSessionIds(): string[] {
    return [...this.watchers.keys()];
  }

  /**
   * The ends among the watched sessions, read from storage: for when ends may have been missed
   * (the path that carries them was down).
   */
  async findMissedEnds(findSession: (id: string) => Promise<SessionRecord | undefined>): Promise<SessionEvent[]> {
    const missed: SessionEvent[] = [];
    for (const sessionId of this.watchedSessionIds) {
      const session = await findSession(sessionId);
      if (session?.endedAt) missed.push(sessionEvent('ENDED', session));
    }
    return missed;
  }

  /** Tells everything watching the session that it ended (the session feed calls this); returns how many. */
  dispatch(event: SessionEvent): number {
    const watches = this.watchers.get(event.session.id);
    if (!watches) return 0;
    this.watchers.delete(event.session.id);
    for (const { handlers, stopExpiryWatch } of watches) {
      stopExpiryWatch();
      handlers.ended?.(event);
    }
    setImmediate(() => {
      for (const { handlers } of watches) handlers.close?.(event);
    });
    return watches.size;
  }
}
