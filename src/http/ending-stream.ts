import type { SessionEndHandlers, SessionEndWatcher } from '../events/session-end-watcher.js';
import type { ShutdownSignal } from './shutdown-signal.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * A subscription's results that also end from outside: when the session that opened it ends
 * (the watcher's `close`, which comes after `sessionRevoked` has delivered its event) or when
 * the server shuts down. Ending returns the source, so its own cleanup runs.
 *
 * Written by hand rather than with `Repeater.race` because an idle subscription lives as long as
 * its socket: this holds the source, two unsubscribe functions and, while the client waits, one
 * promise; the race kept a Repeater with its own closures and promises per subscription.
 */
export class EndingStream<T> implements AsyncIterableIterator<T, undefined>, SessionEndHandlers {
  private readonly source: AsyncIterator<T>;
  private finished = false;
  /** Settles the `next` in progress, if any, when the stream ends under it. */
  private settle: ((result: IteratorResult<T, undefined>) => void) | undefined;
  private readonly stopWatching: (() => void) | undefined;
  private readonly stopShutdown: () => void;

  constructor(
    source: AsyncIterable<T>,
    shutdown: ShutdownSignal,
    watch?: { watcher: SessionEndWatcher; sessionId: string },
  ) {
    this.source = source[Symbol.asyncIterator]();
    this.stopWatching = watch?.watcher.watch(watch.sessionId, this);
    this.stopShutdown = shutdown.onShutdown(() => this.close());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the stream now (the session ended, or the server is stopping). */
  close(): void {
    if (this.finish()) void this.source.return?.().catch(() => {});
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.settle = resolve;
      this.source.next().then(
        (result) => {
          this.settle = undefined;
          if (result.done) this.finish();
          resolve(result.done ? DONE : result);
        },
        (error: unknown) => {
          this.settle = undefined;
          this.finish();
          reject(error);
        },
      );
    });
  }

  /** The client unsubscribed or went away: end the source too. */
  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.finish()) await this.source.return?.();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    await this.return();
    throw error;
  }

  /** Marks the stream finished and lets go of what it watched; false if it already was. */
  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.stopWatching?.();
    this.stopShutdown();
    const settle = this.settle;
    this.settle = undefined;
    settle?.(DONE);
    return true;
  }
}
