import type { Logger } from '../logger.js';
import type { ViewerCache } from '../sessions/viewer-cache.js';
import type { SessionEndWatcher } from './session-end-watcher.js';
import type { SessionPubSub } from './topics.js';
import type { AnnouncedEventType, SessionEvent, SessionEventType } from './types.js';

/**
 * How long an event is remembered so that its echo (the database announces this instance's own
 * changes too) is not dispatched twice. Echoes arrive within milliseconds; this is generous. An
 * echo that does arrive ends the memory of its event at once (see {@link dispatchOnce}).
 */
const ECHO_WINDOW_MS = 60_000;

/**
 * Where every session start and end, from this instance or any other process, is dispatched
 * in this process, exactly once: the cache forgets an ended session, whatever watches it is
 * told (sockets close, `sessionRevoked` fires), and the admin feed hears of it.
 *
 * This instance's own changes are dispatched at once ({@link local}); the same changes come
 * back from the database ({@link remote}) and are recognised by type and session id, which
 * are unique: a session starts once and ends once.
 */
export class SessionEventFeed {
  /** Keys of dispatched events, oldest first, with when they were dispatched. */
  private readonly dispatched = new Map<string, number>();
  private readonly pushListeners: Array<(latencyMs: number) => void> = [];
  private readonly endListeners: Array<(event: SessionEvent) => void> = [];

  constructor(
    private readonly pubsub: SessionPubSub,
    private readonly watcher: SessionEndWatcher,
    private readonly cache: ViewerCache | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * Told each time live clients in this process are told of an end, with how long after the
   * end (its `endedAt`) that was (metrics).
   */
  onPush(listener: (latencyMs: number) => void): void {
    this.pushListeners.push(listener);
  }

  /** Told once of every end dispatched here: this process's, and every other's it hears of (metrics). */
  onEnded(listener: (event: SessionEvent) => void): void {
    this.endListeners.push(listener);
  }

  /** A change committed by this process. */
  local(event: SessionEvent): void {
    this.dispatchOnce(event);
  }

  /**
   * Changes announced by the database: duplicates are dropped. A binding (DBSC) only drops the
   * cached copy, which was unbound: the next request re-reads the session with its binding.
   */
  remote(events: readonly SessionEvent<AnnouncedEventType>[]): void {
    for (const event of events) {
      if (event.type === 'BOUND') this.cache?.evictSession(event.session.id);
      else this.dispatchOnce(event as SessionEvent<SessionEventType>);
    }
  }

  /**
   * Ends found by re-reading the watched sessions after announcements may have been lost. Only
   * sessions still watched are dispatched: an end that was dispatched has stopped its watch
   * (SessionEndWatcher.dispatch), so none is dispatched twice however late this comes.
   */
  recovered(events: readonly SessionEvent[]): void {
    for (const event of events) if (this.watcher.isWatching(event.session.id)) this.dispatchOnce(event);
  }

  /**
   * Dispatches an event the first time it is seen. The database announces each change once per
   * listening instance, so an event is seen at most twice here (this instance's own dispatch
   * and its echo, in either order): the second sighting ends its memory. A sweep of a million
   * ends would otherwise keep a million keys for the whole echo window.
   */
  private dispatchOnce(event: SessionEvent): void {
    const key = `${event.type}:${event.session.id}`;
    if (this.dispatched.delete(key)) return;
    const now = Date.now();
    this.dispatched.set(key, now);
    this.forgetOlderThan(now - ECHO_WINDOW_MS);
    try {
      this.dispatch(event);
    } catch (error) {
      this.logger.error('session event handler failed', { error, sessionId: event.session.id });
    }
  }

  private dispatch(event: SessionEvent): void {
    if (event.type === 'ENDED') {
      this.cache?.evictSession(event.session.id);
      for (const listener of this.endListeners) listener(event);
      if (this.watcher.dispatch(event) > 0) {
        const latencyMs = Date.now() - event.at.getTime();
        for (const listener of this.pushListeners) listener(latencyMs);
      }
    }
    this.pubsub.publish('sessions', event);
    this.pubsub.publish('user', event.session.userId, event);
  }

  private forgetOlderThan(cutoff: number): void {
    // Insertion order is dispatch order: stop at the first key young enough to keep.
    for (const [key, at] of this.dispatched) {
      if (at >= cutoff) return;
      this.dispatched.delete(key);
    }
  }
}
