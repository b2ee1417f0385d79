import { performance } from 'node:perf_hooks';

/**
 * Runs jobs with the same key one after another (different keys run freely). Logins of one
 * account go through it, so that concurrent guesses cannot all pass the throttle check before
 * any of their failures is counted.
 *
 * A job waits only while its key's queue moves: once no job of the key has finished for
 * `stall.ms`, the job ahead is stuck (on a database that does not answer), and waiting jobs fail
 * with `stall.error()` instead of running. Without that limit, every later job of the key waited
 * for all those ahead: with a login a second on one account during a hang, each failing only
 * after its own timeout, answers came later and later, then not at all. A burst of quick jobs
 * never stalls, however long the line.
 */
export class KeyedQueue {
  private readonly queues = new Map<string, { tail: Promise<unknown>; movedAt: number }>();

  constructor(private readonly stall: { ms: number; error: () => Error }) {}

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const waiting = this.queues.get(key);
    const state = waiting ?? { tail: Promise.resolve(), movedAt: performance.now() };
    if (!waiting) this.queues.set(key, state);
    const previous = state.tail;
    // Nothing ahead (the usual login): no turn to wait for, and no timer to set.
    const turn = waiting ? this.turn(state, previous) : Promise.resolve();
    const result = turn.then(async () => {
      try {
        return await job();
      } finally {
        state.movedAt = performance.now();
      }
    });
    // A job that gave up still lets the next one start only after the job it waited for.
    const tail = Promise.allSettled([previous, result]);
    state.tail = tail;
    void tail.then(() => {
      if (state.tail === tail) this.queues.delete(key);
    });
    return result;
  }

  /** Resolves when the jobs ahead have finished; rejects once the queue has not moved for `stall.ms`. */
  private async turn(state: { movedAt: number }, previous: Promise<unknown>): Promise<void> {
    let finished = false;
    void previous.then(() => (finished = true));
    while (!finished) {
      const left = state.movedAt + this.stall.ms - performance.now();
      if (left <= 0) throw this.stall.error();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([previous, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  }
}
