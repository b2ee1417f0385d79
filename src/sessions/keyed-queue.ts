/**
 * Runs jobs with the same key one after another (different keys run freely). Logins of one
 * account go through it, so that concurrent guesses cannot all pass the throttle check before
 * any of their failures is counted.
 *
 * With a `maxWait`, a job whose turn has not come within it is never run: it fails at once with
 * the error given. Without one, a job stuck on a hung database would hold every later job of its
 * key, and each would wait for all those ahead of it: with a login a second on one account and
 * each failing only after its own timeout, answers came later and later, then not at all.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly maxWait?: { ms: number; error: () => Error }) {}

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = this.turn(previous).then(job);
    // A job that gave up waiting still lets the next one start only after the job it waited for.
    const tail = Promise.allSettled([previous, result]);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when the jobs ahead have finished; rejects once `maxWait` has passed first. */
  private turn(previous: Promise<unknown>): Promise<void> {
    const limit = this.maxWait;
    if (!limit) return previous.then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const tooLong = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(limit.error()), limit.ms);
    });
    return Promise.race([previous.then(() => undefined), tooLong]).finally(() => clearTimeout(timer));
  }
}
