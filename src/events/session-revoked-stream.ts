import type { SessionEndHandlers, SessionEndWatcher } from './session-end-watcher.js';
import type { SessionEvent } from './types.js';

type Waiter = {
  resolve(result: IteratorResult<SessionEvent, undefined>): void;
  reject(error: unknown): void;
};

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * One `sessionRevoked` subscriber's stream: at most one event (its session's end), then done.
 *
 * Written by hand rather than with a Repeater because it lives as long as its socket, and there
 * are thousands of idle ones: this is one object (it is its own watcher's handler, so no closure),
 * plus one promise while the client waits; a Repeater keeps several closures, promises and a
 * buffer per subscriber for its whole life.
 */
export class SessionRevokedStream implements AsyncIterableIterator<SessionEvent, undefined>, SessionEndHandlers {
  private event: SessionEvent | undefined;
  private error: unknown;
  private failed = false;
  private finished = false;
  private waiter: Waiter | undefined;
  private readonly stopWatching: () => void;

  constructor(watcher: SessionEndWatcher, sessionId: string) {
    this.stopWatching = watcher.watch(sessionId, this);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The session ended (the watcher calls this, and so may a check of the stored row). Once only. */
  ended(event: SessionEvent): void {
    if (this.finished || this.event !== undefined) return;
    this.stopWatching();
    const waiter = this.take();
    if (!waiter) this.event = event;
    else {
      this.finished = true;
      waiter.resolve({ value: event, done: false });
    }
  }

  /** Ends the stream with `error` (the check of the stored row failed). */
  fail(error: unknown): void {
    if (this.finished) return;
    this.stopWatching();
    const waiter = this.take();
    this.finished = true;
    if (waiter) waiter.reject(error);
    else [this.failed, this.error] = [true, error];
  }

  next(): Promise<IteratorResult<SessionEvent, undefined>> {
    if (this.event !== undefined) {
      const value = this.event;
      this.event = undefined;
      this.finished = true;
      return Promise.resolve({ value, done: false });
    }
    if (this.failed) {
      this.failed = false;
      return Promise.reject(this.error);
    }
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** The client unsubscribed or the socket closed: stop watching, let a waiting `next` finish. */
  return(): Promise<IteratorResult<SessionEvent, undefined>> {
    if (!this.finished) this.stopWatching();
    this.finished = true;
    this.event = undefined;
    this.take()?.resolve(DONE);
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<SessionEvent, undefined>> {
    void this.return();
    return Promise.reject(error);
  }

  private take(): Waiter | undefined {
    const waiter = this.waiter;
    this.waiter = undefined;
    return waiter;
  }
}
