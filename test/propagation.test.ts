/**
 * Unit tests of the revocation protocol's pure parts (src/events/peer-barriers.ts and the Trust
 * bookkeeping of propagation.ts), over a simulated channel with one total order, as PostgreSQL
 * NOTIFY delivers. The fault tests prove the same against real processes.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { before, describe, it } from 'node:test';
import { PeerBarriers, type ControlMessage } from '../src/events/peer-barriers.js';
import { Trust, TRUST_DEADLINE_MS } from '../src/events/propagation.js';
import { silentLogger } from '../src/logger.js';
import { sleep } from './support/async.js';

const log = () => {};

/** Every message reaches every member in the order it was sent, a turn of the event loop later. */
class OrderedChannel {
  private readonly members: Array<(message: ControlMessage) => void> = [];
  /** Members whose delivery is cut (a hung listener): they hear nothing. */
  readonly deaf = new Set<(message: ControlMessage) => void>();

  join(receive: (message: ControlMessage) => void): void {
    this.members.push(receive);
  }

  async send(message: ControlMessage): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    for (const receive of this.members) if (!this.deaf.has(receive)) receive(message);
  }
}

/** An instance on the channel; `heartbeat()` shows the others it is alive. */
function member(channel: OrderedChannel, id: string) {
  const barriers = new PeerBarriers(id, (message) => channel.send(message), log);
  const receive = (message: ControlMessage) => barriers.receive(message);
  channel.join(receive);
  barriers.listening();
  return { id, barriers, receive, heartbeat: () => channel.send({ k: 'hb', from: id, t: performance.now() }) };
}

async function timed(promise: Promise<void>): Promise<number> {
  const startedAt = performance.now();
  await promise;
  return performance.now() - startedAt;
}

describe('PeerBarriers', () => {
  const channel = new OrderedChannel();
  const a = member(channel, 'a');
  const b = member(channel, 'b');
  const c = member(channel, 'c');

  before(async () => {
    // A member decides whom to wait for only once it has listened for a whole peer window.
    await sleep(TRUST_DEADLINE_MS + 600);
  });

  it('a barrier with every peer answering resolves in a few turns, not at its deadline', async () => {
    await Promise.all([b.heartbeat(), c.heartbeat()]);
    assert.ok((await timed(a.barriers.barrier())) < 100);
  });

  it('waits for a peer that heartbeats but cannot hear (a hung listener) until the trust deadline, not longer', async () => {
    channel.deaf.add(c.receive);
    try {
      await Promise.all([b.heartbeat(), c.heartbeat()]);
      const ms = await timed(a.barriers.barrier());
      assert.ok(ms >= TRUST_DEADLINE_MS, `resolved after ${ms.toFixed(0)} ms, before c stopped trusting its cache`);
      assert.ok(ms < TRUST_DEADLINE_MS + 300, `resolved after ${ms.toFixed(0)} ms`);
    } finally {
      channel.deaf.delete(c.receive);
    }
  });

  it('stops waiting for a peer that leaves', async () => {
    channel.deaf.add(c.receive);
    try {
      await Promise.all([b.heartbeat(), c.heartbeat()]);
      const barrier = timed(a.barriers.barrier());
      await sleep(50);
      await channel.send({ k: 'leave', from: 'c' });
      assert.ok((await barrier) < 300);
    } finally {
      channel.deaf.delete(c.receive);
    }
  });

  it('a barrier that cannot be sent ends at its deadline', async () => {
    const lonely = new PeerBarriers('d', () => Promise.reject(new Error('down')), log);
    lonely.listening();
    const ms = await timed(lonely.barrier());
    assert.ok(ms >= TRUST_DEADLINE_MS && ms < TRUST_DEADLINE_MS + 300, `${ms.toFixed(0)} ms`);
  });

  it('close() ends pending barriers at once (shutdown)', async () => {
    const closing = new PeerBarriers('e', () => new Promise<void>(() => {}), log);
    const barrier = timed(closing.barrier());
    closing.close();
    assert.ok((await barrier) < 50);
  });
});

describe('Trust', () => {
  it('is lost once the latest proof is older than the deadline, and told once each way', async () => {
    const changes: boolean[] = [];
    const trust = new Trust(silentLogger, (trusted) => changes.push(trusted));
    assert.equal(trust.trusted, false, 'no proof yet');
    trust.proven(performance.now());
    assert.equal(trust.trusted, true);
    trust.proven(performance.now() - TRUST_DEADLINE_MS - 10);
    assert.equal(trust.trusted, true, 'an older proof does not replace a newer one');
    const staleTrust = new Trust(silentLogger, () => {});
    staleTrust.proven(performance.now() - TRUST_DEADLINE_MS - 1);
    assert.equal(staleTrust.trusted, false);
    trust.check();
    trust.check();
    assert.deepEqual(changes, [true]);
  });
});
