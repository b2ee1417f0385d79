import { randomUUID } from 'node:crypto';
import type { ThrottledLogger } from '../logger.js';
import { TRUST_DEADLINE_MS } from './propagation.js';

/** The protocol's own messages: on the ordered channel of the session events, or (acks) to the barrier's sender. */
export type ControlMessage =
  | { k: 'hb'; from: string; t: number }
  | { k: 'barrier'; from: string; id: string }
  | { k: 'ack'; from: string; id: string }
  | { k: 'leave'; from: string };

/**
 * A server whose heartbeat the database committed within this window may be trusting its cache,
 * so a barrier waits for it. Longer than the trust deadline: a server whose latest heartbeat is
 * older has stopped trusting. The margin covers the database clock's own drift (both ends of
 * the window are read from it).
 */
export const MEMBER_WINDOW_MS = TRUST_DEADLINE_MS + 500;
/** Past this, a member that has not acknowledged has stopped trusting its cache (rule 1). */
const BARRIER_DEADLINE_MS = TRUST_DEADLINE_MS + 50;

/** What barriers need from the channel (postgres-propagation.ts). */
export interface BarrierChannel {
  /**
   * Sends barrier `id`, ordered after every end committed so far, and returns the members (other
   * than this process) as the same statement saw them: the servers with a heartbeat committed
   * within {@link MEMBER_WINDOW_MS}.
   */
  sendBarrier(id: string): Promise<readonly string[]>;
  /** Tells `to` that this server has received its barrier `id`. */
  acknowledge(to: string, id: string): Promise<void>;
}

interface PendingBarrier {
  /** Who has acknowledged or left so far: answers can arrive before the membership does. */
  answered: Set<string>;
  /** The members still to answer, once the barrier's statement has returned them. */
  waitingFor: Set<string> | undefined;
  timer: NodeJS.Timeout;
  finish(): void;
}

/**
 * Rule 2 of propagation.ts over a channel with one total order (PostgreSQL NOTIFY). A barrier
 * is sent after the ends it covers, so each server that receives it has applied them, and
 * answers its sender. The sender waits for the members the barrier's own statement read, and
 * for nobody else; any member still silent at {@link BARRIER_DEADLINE_MS} has stopped trusting
 * its cache. Why a non-member cannot be trusting a stale cache: postgres-propagation.ts.
 */
export class PeerBarriers {
  private readonly pending = new Map<string, PendingBarrier>();

  constructor(
    private readonly selfId: string,
    private readonly channel: BarrierChannel,
    private readonly log: ThrottledLogger,
  ) {}

  barrier(): Promise<void> {
    const id = randomUUID();
    return new Promise<void>((resolve) => {
      const barrier: PendingBarrier = {
        answered: new Set(),
        waitingFor: undefined,
        timer: setTimeout(() => this.expire(id), BARRIER_DEADLINE_MS),
        finish: () => {
          clearTimeout(barrier.timer);
          this.pending.delete(id);
          resolve();
        },
      };
      this.pending.set(id, barrier);
      // A barrier that cannot be sent still ends at its deadline, when rule 1 covers every member.
      this.channel.sendBarrier(id).then(
        (members) => {
          barrier.waitingFor = new Set(members.filter((member) => member !== this.selfId));
          this.settle(barrier);
        },
        (error: unknown) => this.log('warn', 'barrier-send', 'could not send a session-ends barrier', { error }),
      );
    });
  }

  receive(message: ControlMessage): void {
    if (message.from === this.selfId) return;
    if (message.k === 'barrier') {
      this.channel.acknowledge(message.from, message.id).catch(() => undefined);
    } else if (message.k === 'ack') {
      this.answered(message.from, this.pending.get(message.id));
    } else if (message.k === 'leave') {
      for (const barrier of [...this.pending.values()]) this.answered(message.from, barrier);
    }
  }

  /** Ends every pending barrier now (shutting down). */
  close(): void {
    for (const barrier of [...this.pending.values()]) barrier.finish();
  }

  private answered(member: string, barrier: PendingBarrier | undefined): void {
    if (!barrier) return;
    barrier.answered.add(member);
    this.settle(barrier);
  }

  private settle(barrier: PendingBarrier): void {
    if (!barrier.waitingFor) return;
    for (const member of barrier.answered) barrier.waitingFor.delete(member);
    if (barrier.waitingFor.size === 0) barrier.finish();
  }

  private expire(id: string): void {
    const barrier = this.pending.get(id);
    if (!barrier) return;
    this.log(
      'warn',
      'barrier',
      'session ends not acknowledged in time: silent instances have stopped trusting their caches',
      {
        membersKnown: barrier.waitingFor !== undefined,
        silentInstances: [...(barrier.waitingFor ?? [])],
      },
    );
    barrier.finish();
  }
}
