import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger, ThrottledLogger } from '../logger.js';
import type { SessionRecord } from '../sessions/types.js';
import { Trust, TRUST_DEADLINE_MS, type EndPropagation, type PropagationHandlers } from './propagation.js';
import { yieldToRequests } from '../sessions/ends.js';
import { sessionEvent } from './types.js';

/** How often a server reads the end log: how soon another process's end reaches it. */
const POLL_INTERVAL_MS = 100;
/**
 * Log rows read per query; a longer backlog is read in further queries at once, until caught up.
 * Parsing a read is one task of the event loop (2,000 ends took 4–6 ms), so reads are kept to
 * about two sweep batches (see SWEEP_BATCH_SIZE for what halving both did). The poll reads on
 * SQLite's read connection (createReadDatabase), so it does not wait behind the sweeper's
 * statements (when it read on the writer's connection, reads of 500 fell behind a sweep and the
 * proof lapsed: `{ me }` p99 17 ms against 3 idle).
 */
const POLL_BATCH = 500;
/**
 * Ends applied per turn of the event loop (cache, watchers, feeds): a read of {@link POLL_BATCH}
 * applied at once held the loop for 12 ms in bench/sweep-breakdown.ts.
 */
const APPLY_SLICE = 250;
/** How often a server refreshes its registration (a write: kept rare on SQLite's one connection). */
const HEARTBEAT_INTERVAL_MS = 2_000;
/** A server heard from within this window may be caching: ends wait for it. */
const PEER_WINDOW_MS = 3 * HEARTBEAT_INTERVAL_MS;
/** How long end log rows (and registrations of servers gone silent) are kept. */
const LOG_RETENTION_MS = 3_600_000;
const PRUNE_INTERVAL_MS = 600_000;
/** How often a waiting barrier looks at the servers' progress. */
const BARRIER_POLL_MS = 20;
/** Past this, a server that has not applied the ends has stopped trusting its cache. */
const BARRIER_DEADLINE_MS = TRUST_DEADLINE_MS + POLL_INTERVAL_MS;

/** One end from the log, with the session as it was when it ended. */
export interface LoggedEnd {
  seq: number;
  session: SessionRecord;
  /** An end, or (migration 14) a session just bound to its device. */
  type: 'ENDED' | 'BOUND';
}

/** What following the SQLite end log needs from storage (see migration 05). */
export interface EndLogStore {
  lastSeq(): Promise<number>;
  /**
   * Up to `limit` ends after `seq`, in order, and the log's last seq as the same read saw it:
   * the reader has caught up once it has applied that far.
   */
  endsAfter(seq: number, limit: number): Promise<{ ends: LoggedEnd[]; lastSeq: number }>;
  registerInstance(id: string, appliedSeq: number, now: Date): Promise<void>;
  removeInstance(id: string): Promise<void>;
  livePeers(selfId: string, heardSince: Date): Promise<Array<{ id: string; appliedSeq: number }>>;
  /** Deletes log rows, and registrations, older than `cutoff`. */
  deleteBefore(cutoff: Date): Promise<number>;
}

export interface SqlitePropagationOptions {
  store: EndLogStore;
  logger: Logger;
  throttledLog: ThrottledLogger;
  /** A server follows the log and registers; a script only waits for the servers. */
  serving: boolean;
}

/**
 * End propagation on one SQLite file shared by processes (a server, scripts, an operator's
 * SQL): every end is appended to the end log by a trigger; servers read it every
 * {@link POLL_INTERVAL_MS} and record how far they have applied it, so a process that ends
 * sessions waits until every live server has applied them. A completed read is the proof of
 * rule 1 (propagation.ts): everything committed before it began has been applied.
 */
export class SqlitePropagation implements EndPropagation {
  readonly instanceId = randomUUID();
  private readonly trust: Trust;
  private handlers: PropagationHandlers | undefined;
  private appliedSeq = 0;
  private lastHeartbeatAt = 0;
  private lastPrunedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: SqlitePropagationOptions) {
    this.trust = new Trust(options.logger, (trusted) => this.handlers?.trustChanged(trusted));
  }

  trusted(): boolean {
    return this.trust.trusted;
  }

  proofAgeMs(): number {
    return this.trust.proofAgeMs;
  }

  async start(handlers: PropagationHandlers): Promise<void> {
    this.handlers = handlers;
    if (!this.options.serving) return;
    this.appliedSeq = await this.options.store.lastSeq();
    await this.heartbeat();
    this.trust.proven(performance.now());
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.polling = this.poll().finally(() => this.closed || schedule());
      }, POLL_INTERVAL_MS);
      this.timer.unref();
    };
    schedule();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.polling;
    if (this.options.serving) await this.options.store.removeInstance(this.instanceId).catch(() => undefined);
  }

  async barrier(): Promise<void> {
    const { store, throttledLog } = this.options;
    const deadline = performance.now() + BARRIER_DEADLINE_MS;
    try {
      const heardSince = () => new Date(Date.now() - PEER_WINDOW_MS);
      let peers = await store.livePeers(this.instanceId, heardSince());
      if (peers.length === 0) return;
      const target = await store.lastSeq();
      while (peers.some((peer) => peer.appliedSeq < target)) {
        if (performance.now() > deadline) {
          throttledLog(
            'warn',
            'barrier',
            'session ends not applied in time by every server: they have stopped trusting their caches',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, BARRIER_POLL_MS));
        peers = await store.livePeers(this.instanceId, heardSince());
      }
    } catch (error) {
      throttledLog('warn', 'barrier', 'could not check that every server applied the ends', { error });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())));
    }
  }

  /** Applies what the log holds past what this server has applied; a completed read is proof. */
  private async poll(): Promise<void> {
    const startedAt = performance.now();
    try {
      const before = this.appliedSeq;
      // Until caught up with the log as the last read saw it. (Not "until a read returns less
      // than a full batch": while a sweep appends thousands of ends a second, every read could
      // return a full one, and the proof, hence the cache, would lapse for the whole sweep.)
      let read: { ends: LoggedEnd[]; lastSeq: number };
      do {
        read = await this.options.store.endsAfter(this.appliedSeq, POLL_BATCH);
        await this.apply(read.ends);
      } while (read.ends.length > 0 && this.appliedSeq < read.lastSeq);
      this.trust.proven(startedAt);
      // Applying is acknowledged at once: a process waiting in its barrier sees it.
      if (this.appliedSeq > before || Date.now() - this.lastHeartbeatAt >= HEARTBEAT_INTERVAL_MS)
        await this.heartbeat();
    } catch (error) {
      this.options.throttledLog('warn', 'end-log', 'could not read the session end log', { error });
    }
    this.trust.check();
  }

  /**
   * Applies a read in slices of {@link APPLY_SLICE}, requests running between them. The proof
   * of this poll is taken only once all are applied, and an end waiting in a later slice is one
   * the previous proof never covered: serving it meanwhile is within rule 1's bound.
   */
  private async apply(ends: readonly LoggedEnd[]): Promise<void> {
    for (let from = 0; from < ends.length; from += APPLY_SLICE) {
      if (from > 0) await yieldToRequests();
      const slice = ends.slice(from, from + APPLY_SLICE);
      this.handlers?.events(slice.map(({ session, type }) => sessionEvent(type, session)));
      this.appliedSeq = slice[slice.length - 1]!.seq;
    }
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    this.lastHeartbeatAt = now;
    await this.options.store.registerInstance(this.instanceId, this.appliedSeq, new Date(now));
    if (now - this.lastPrunedAt >= PRUNE_INTERVAL_MS) {
      this.lastPrunedAt = now;
      await this.options.store.deleteBefore(new Date(now - LOG_RETENTION_MS));
    }
  }
}
