import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ThrottledLogger } from '../logger.js';
import { TRUST_DEADLINE_MS } from './propagation.js';

/** The protocol's own messages, on the same ordered channel as the session events. */
export type ControlMessage =
  | { k: 'hb'; from: string; t: number }
  | { k: 'barrier'; from: string; id: string }
  | { k: 'ack'; from: string; to: string; id: string }
  | { k: 'leave'; from: string };

/**
 * A peer heard from within this window may be trusting its cache, so a barrier waits for it.
 * Longer than the trust deadline: a peer whose last heartbeat is older has stopped trusting.
 */
const PEER_WINDOW_MS = TRUST_DEADLINE_MS + 500;
/** Past this, a peer that has not acknowledged has stopped trusting its cache (rule 1). */
const BARRIER_DEADLINE_MS = TRUST_DEADLINE_MS + 50;

interface PendingBarrier {
  echoed: boolean;
  acked: Set<string>;
  /** Set once the barrier came back and the membership it must wait for is known. */
  waitingFor: Set<string> | undefined;
  timer: NodeJS.Timeout;
  finish(): void;
}

/**
 * Rule 2 of propagation.ts over a channel with one total order (PostgreSQL NOTIFY). A barrier
 * is sent after the ends it covers; each peer that receives it has applied them, and answers.
 * The barrier's own echo tells who must answer: every peer heard from before it, within
 * {@link PEER_WINDOW_MS} (a peer whose heartbeats came after the barrier applied it before
 * them). A process that has just begun listening first listens for a whole window, so that it
 * knows its peers.
 */
export class PeerBarriers {
  private readonly peers = new Map<string, number>();
  private listeningSince: number | undefined;
  private readonly pending = new Map<string, PendingBarrier>();

  constructor(
    private readonly selfId: string,
    private readonly send: (message: ControlMessage) => Promise<void>,
    private readonly log: ThrottledLogger,
  ) {}

  /** The channel is open: peers are heard from here on. */
  listening(): void {
    this.listeningSince = performance.now();
  }

  /** The channel dropped: what was heard before no longer tells who is alive. */
  deaf(): void {
    this.listeningSince = undefined;
    this.peers.clear();
  }

  barrier(): Promise<void> {
    const id = randomUUID();
    return new Promise<void>((resolve) => {
      const barrier: PendingBarrier = {
        echoed: false,
        acked: new Set(),
        waitingFor: undefined,
        timer: setTimeout(() => this.expire(id), BARRIER_DEADLINE_MS),
        finish: () => {
          clearTimeout(barrier.timer);
          this.pending.delete(id);
          resolve();
        },
      };
      this.pending.set(id, barrier);
      // A barrier that cannot be sent still ends at its deadline, when rule 1 covers every peer.
      this.send({ k: 'barrier', from: this.selfId, id }).catch(() => undefined);
    });
  }

  receive(message: ControlMessage): void {
    if (message.from === this.selfId) {
      if (message.k === 'barrier') this.echoed(message.id);
      return;
    }
    if (message.k === 'leave') return this.forget(message.from);
    this.peers.set(message.from, performance.now());
    if (message.k === 'barrier') {
      this.send({ k: 'ack', from: this.selfId, to: message.from, id: message.id }).catch(() => undefined);
    } else if (message.k === 'ack' && message.to === this.selfId) {
      const barrier = this.pending.get(message.id);
      barrier?.acked.add(message.from);
      if (barrier) this.settle(barrier);
    }
  }

  /** Ends every pending barrier now (shutting down). */
  close(): void {
    for (const barrier of [...this.pending.values()]) barrier.finish();
  }

  private echoed(id: string): void {
    const barrier = this.pending.get(id);
    if (!barrier) return;
    barrier.echoed = true;
    this.decideWhoMustAnswer(barrier);
  }

  private decideWhoMustAnswer(barrier: PendingBarrier): void {
    if (this.listeningSince === undefined) return; // deaf: only the deadline can end it
    const listenedFor = performance.now() - this.listeningSince;
    if (listenedFor < PEER_WINDOW_MS) {
      setTimeout(() => this.decideWhoMustAnswer(barrier), PEER_WINDOW_MS - listenedFor).unref();
      return;
    }
    const heardSince = performance.now() - PEER_WINDOW_MS;
    barrier.waitingFor = new Set([...this.peers].filter(([, at]) => at >= heardSince).map(([peer]) => peer));
    this.settle(barrier);
  }

  private settle(barrier: PendingBarrier): void {
    if (!barrier.waitingFor) return;
    for (const peer of barrier.acked) barrier.waitingFor.delete(peer);
    if (barrier.waitingFor.size === 0) barrier.finish();
  }

  private forget(peer: string): void {
    this.peers.delete(peer);
    for (const barrier of [...this.pending.values()]) {
      barrier.waitingFor?.delete(peer);
      this.settle(barrier);
    }
  }

  private expire(id: string): void {
    const barrier = this.pending.get(id);
    if (!barrier) return;
    this.log(
      'warn',
      'barrier',
      'session ends not acknowledged in time: silent instances have stopped trusting their caches',
      {
        echoed: barrier.echoed,
        silentInstances: [...(barrier.waitingFor ?? [])],
      },
    );
    barrier.finish();
  }
}
