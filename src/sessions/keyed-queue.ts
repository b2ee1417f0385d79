import { performance } from 'node:perf_hooks';

/**
 * Runs jobs with the same key one after another (different keys run freely). Logins of one
 * account go through it, so that concurrent guesses cannot all pass the throttle check before
 * any of their failures is counted.
 *
 * With a `stall` limit, a job waits only while its key's queue moves: once no job of the key
 * has finished for `stall.ms`, the job ahead is stuck (on a database that does not answer), and
 * waiting jobs fail with `stall.error()` instead of running. Without it, every later job of the
 * key waited for all those ahead: with a login a second on one account during a hang, each
 * failing only after its own timeout, answers came later and later, then not at all. A burst of
 * quick jobs never stalls, however long the line.
 */
export class KeyedQueue {
  private readonly queues = new Map<string, { tail: Promise<unknown>; movedAt: number }>();

  constructor(private readonly stall?: { ms: number; error: () => Error }) {}

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { tail: Promise.resolve(), movedAt: performance.now() }));
    const state = queue;
    const previous = state.tail;
    const result = this.turn(state, previous).then(async () => {
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
    const stall = this.stall;
    if (!stall) return void (await previous);
    let finished = false;
    void previous.then(() => (finished = true));
    while (!finished) {
      const left = state.movedAt + stall.ms - performance.now();
      if (left <= 0) throw stall.error();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([previous, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
      clearTimeout(timer);
    }
  }
}
