import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Password hashing on threads of its own, below the event loop's CPU priority.
 *
 * argon2id is built to eat CPU and memory (m=19 MiB, t=2: about 10 ms a hash here). Run on
 * libuv's pool at the loop's priority, a login storm takes every core from the event loop, and
 * signed-in requests that need no hash queue behind the hashes; the database driver, which uses
 * the same pool, waits too. So the rules are:
 *
 * - Each hash thread lowers its own scheduling priority (Linux `nice`, per thread): the loop
 *   always runs first, and hashes get every cycle it leaves, so a storm costs throughput only
 *   where requests need the CPU.
 * - One job per thread at a time; the rest wait in arrival order. One thread per core.
 * - Threads start when first needed, never keep the process alive, and end with {@link close}.
 *   A thread that dies fails the job it held (a wrong answer is never given) and is replaced.
 */
export class HashThreads {
  private readonly threads: HashThread[];
  private readonly idle: HashThread[];
  private readonly waiting: Array<(thread: HashThread) => void> = [];

  constructor(size: number, data: HashThreadData) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('size must be a positive integer');
    this.threads = Array.from({ length: size }, () => new HashThread(data));
    this.idle = [...this.threads];
  }

  async run(job: HashJob): Promise<string | boolean> {
    const thread = this.idle.pop() ?? (await new Promise<HashThread>((resolve) => this.waiting.push(resolve)));
    try {
      return await thread.run(job);
    } finally {
      // Straight to the next in line, so that a newcomer cannot jump the queue.
      const next = this.waiting.shift();
      if (next) next(thread);
      else this.idle.push(thread);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }
}

/** What a hash thread is started with. */
export interface HashThreadData {
  /** argon2 options, as @node-rs/argon2 takes them. */
  options: Record<string, number>;
  /** The thread's `nice` value: 0 is the loop's own, 19 the lowest. */
  niceness: number;
}

export type HashJob = { kind: 'hash'; password: string } | { kind: 'verify'; password: string; passwordHash: string };
export type HashReply = { value: string | boolean } | { error: string };

/**
 * The body of a hash thread, as plain JavaScript: the same code from the sources and from the
 * build, with no TypeScript loader in the thread. It lowers its own priority (`nice` is per
 * thread on Linux only; elsewhere the call would lower the whole process), then answers one job
 * at a time with @node-rs/argon2's synchronous calls.
 */
const THREAD_BODY = `
const { parentPort, workerData } = require('node:worker_threads');
const { hashSync, verifySync } = require(workerData.argon2);
if (process.platform === 'linux') {
  try { require('node:os').setPriority(workerData.niceness); } catch {}
}
parentPort.on('message', (job) => {
  let reply;
  try {
    reply = { value: job.kind === 'hash' ? hashSync(job.password, workerData.options) : verifySync(job.passwordHash, job.password) };
  } catch (error) {
    reply = { error: String(error && error.message ? error.message : error) };
  }
  parentPort.postMessage(reply);
});
`;

/** Where the thread finds argon2: resolved here, since an eval'd thread has no module of its own to resolve from. */
const ARGON2_MODULE = createRequire(import.meta.url).resolve('@node-rs/argon2');

class HashThread {
  private worker: Worker | undefined;
  private pending: { resolve(value: string | boolean): void; reject(error: Error): void } | undefined;

  constructor(private readonly data: HashThreadData) {}

  run(job: HashJob): Promise<string | boolean> {
    const worker = (this.worker ??= this.start());
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.ref();
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(THREAD_BODY, { eval: true, workerData: { ...this.data, argon2: ARGON2_MODULE } });
    worker.unref();
    worker.on('message', (reply: HashReply) => {
      worker.unref();
      const pending = this.pending;
      this.pending = undefined;
      if ('error' in reply) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply.value);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.pending?.reject(error);
      this.pending = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash thread exited (code ${code})`)));
    return worker;
  }
}
