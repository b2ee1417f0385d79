import type { Logger } from '../logger.js';
import type { EventBus } from './bus.js';
import type { SessionRecord } from '../sessions/types.js';
import { fromSessionEventMessage, type SessionEvent } from './types.js';

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
 * Dispatches session ends, from this instance or (over Redis) any other, to whatever in this
 * process depends on that session: one bus subscription per process, a map lookup per event.
 *
 * Watching a session also watches its expiry, so whatever a live client holds open ends the
 * moment the session expires, not at the next sweep: one call does both.
 */
export class SessionEndWatcher {
  private readonly watchers = new Map<string, Set<Watch>>();
  private readonly endedListeners: Array<(event: SessionEvent) => void> = [];
  private readonly subscription: ReturnType<EventBus['pubsub']['subscribe']>;
  private readonly done: Promise<void>;

  constructor(
    bus: EventBus,
    private readonly expiry: ExpiryWatcher,
    logger: Logger,
  ) {
    const subscription = bus.pubsub.subscribe('sessions');
    this.subscription = subscription;
    this.done = (async () => {
      for await (const message of subscription) {
        if (message.type !== 'ENDED') continue;
        try {
          this.dispatch(fromSessionEventMessage(message));
        } catch (error) {
          logger.error('session end handler failed', { error });
        }
      }
    })();
  }

  /** Every end, whichever session (the validated-session cache evicts through this). */
  onAnyEnded(listener: (event: SessionEvent) => void): void {
    this.endedListeners.push(listener);
  }

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

  /**
   * Re-checks every watched session against storage and dispatches the ends that were missed
   * (the bus was disconnected when they were published).
   */
  async recheckWatched(findSession: (id: string) => Promise<SessionRecord | undefined>): Promise<void> {
    for (const sessionId of [...this.watchers.keys()]) {
      const session = await findSession(sessionId);
      if (session?.endedAt) {
        this.dispatch({ type: 'ENDED', session, reason: session.endReason, at: session.endedAt });
      }
    }
  }

  async close(): Promise<void> {
    await this.subscription.return();
    await this.done;
  }

  private dispatch(event: SessionEvent): void {
    for (const listener of this.endedListeners) listener(event);
    const watches = this.watchers.get(event.session.id);
    if (!watches) return;
    this.watchers.delete(event.session.id);
    for (const { handlers, stopExpiryWatch } of watches) {
      stopExpiryWatch();
      handlers.ended?.(event);
    }
    setImmediate(() => {
      for (const { handlers } of watches) handlers.close?.(event);
    });
  }
}
