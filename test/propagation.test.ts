/**
 * Unit tests of the revocation protocol's pure parts (src/events/peer-barriers.ts and the Trust
 * bookkeeping of propagation.ts), over a simulated channel with one total order, as PostgreSQL
 * NOTIFY delivers, and a membership table as `server_instances` keeps it. The fault tests and
 * test/cli-kick.test.ts prove the same against real processes.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MEMBER_WINDOW_MS, PeerBarriers, type ControlMessage } from '../src/events/peer-barriers.js';
import { PostgresPropagation } from '../src/events/postgres-propagation.js';
import { Trust, TRUST_DEADLINE_MS } from '../src/events/propagation.js';
import { silentLogger } from '../src/logger.js';
import { sleep, waitFor } from './support/async.js';
import { openMigratedDatabase, POSTGRES_URL, type MigratedDatabase } from './support/databases.js';

const log = () => {};

/**
 * Every broadcast reaches every listening member in the order it was sent, a turn of the event
 * loop later; an acknowledgement reaches only the barrier's sender. Heartbeats write the
 * membership table with the channel's clock, and a barrier reads it as it is sent.
 */
class OrderedChannel {
  private readonly members = new Map<string, (message: ControlMessage) => void>();
  readonly heartbeatAt = new Map<string, number>();
  /** Members whose delivery is cut (a hung listener): they hear nothing. */
  readonly deaf = new Set<string>();

  join(id: string, receive: (message: ControlMessage) => void): void {
    this.members.set(id, receive);
  }

  async broadcast(message: ControlMessage): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    for (const [id, receive] of this.members) if (!this.deaf.has(id)) receive(message);
  }

  async sendTo(to: string, message: ControlMessage): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (!this.deaf.has(to)) this.members.get(to)?.(message);
  }

  async heartbeat(id: string, at = performance.now()): Promise<void> {
    this.heartbeatAt.set(id, Math.max(this.heartbeatAt.get(id) ?? at, at));
    await this.broadcast({ k: 'hb', from: id, t: at });
  }

  membersNow(): string[] {
    const since = performance.now() - MEMBER_WINDOW_MS;
    return [...this.heartbeatAt].filter(([, at]) => at > since).map(([id]) => id);
  }
}

/** A process on the channel: a server, or (never heartbeating) the command line. */
function member(channel: OrderedChannel, id: string) {
  const barriers = new PeerBarriers(
    id,
    {
      sendBarrier: async (barrierId) => {
        const members = channel.membersNow();
        await channel.broadcast({ k: 'barrier', from: id, id: barrierId });
        return members;
      },
      acknowledge: (to, barrierId) => channel.sendTo(to, { k: 'ack', from: id, id: barrierId }),
    },
    log,
  );
  channel.join(id, (message) => barriers.receive(message));
  return { id, barriers, heartbeat: () => channel.heartbeat(id) };
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

  it("a process that has just started (the command line) waits for the members' answers only, not for a window", async () => {
    await Promise.all([a.heartbeat(), b.heartbeat(), c.heartbeat()]);
    const cli = member(channel, 'cli');
    const ms = await timed(cli.barriers.barrier());
    assert.ok(ms < 100, `resolved after ${ms.toFixed(0)} ms`);
  });

  it('a barrier with every member answering resolves in a few turns, not at its deadline', async () => {
    await Promise.all([b.heartbeat(), c.heartbeat()]);
    assert.ok((await timed(a.barriers.barrier())) < 100);
  });

  it('waits for a member that heartbeats but cannot hear (a hung listener) until the trust deadline, not longer', async () => {
    channel.deaf.add('c');
    try {
      await Promise.all([b.heartbeat(), c.heartbeat()]);
      const ms = await timed(a.barriers.barrier());
      assert.ok(ms >= TRUST_DEADLINE_MS, `resolved after ${ms.toFixed(0)} ms, before c stopped trusting its cache`);
      assert.ok(ms < TRUST_DEADLINE_MS + 300, `resolved after ${ms.toFixed(0)} ms`);
    } finally {
      channel.deaf.delete('c');
    }
  });

  it('does not wait for a server whose latest heartbeat is older than the window (cut off, or dead)', async () => {
    member(channel, 'cut-off');
    await channel.heartbeat('cut-off', performance.now() - MEMBER_WINDOW_MS - 1);
    channel.deaf.add('cut-off');
    try {
      await Promise.all([b.heartbeat(), c.heartbeat()]);
      assert.ok((await timed(a.barriers.barrier())) < 100);
    } finally {
      channel.deaf.delete('cut-off');
      channel.heartbeatAt.delete('cut-off');
    }
  });

  it('stops waiting for a member that leaves, before or after the membership is known', async () => {
    channel.deaf.add('c');
    try {
      await Promise.all([b.heartbeat(), c.heartbeat()]);
      const barrier = timed(a.barriers.barrier());
      await sleep(50);
      await channel.broadcast({ k: 'leave', from: 'c' });
      assert.ok((await barrier) < 300);
      // The leave can overtake the statement's answer (the listener and the pool are two connections).
      const early = new PeerBarriers(
        'e',
        { sendBarrier: () => sleep(50).then(() => ['c']), acknowledge: async () => {} },
        log,
      );
      const pending = timed(early.barrier());
      early.receive({ k: 'leave', from: 'c' });
      assert.ok((await pending) < 300);
    } finally {
      channel.deaf.delete('c');
    }
  });

  it('counts an acknowledgement that arrives before the membership does', async () => {
    const early = new PeerBarriers(
      'f',
      {
        sendBarrier: async (id) => {
          early.receive({ k: 'ack', from: 'b', id });
          return ['b'];
        },
        acknowledge: async () => {},
      },
      log,
    );
    assert.ok((await timed(early.barrier())) < 100);
  });

  it('a barrier that cannot be sent ends at its deadline', async () => {
    const lonely = new PeerBarriers(
      'd',
      { sendBarrier: () => Promise.reject(new Error('down')), acknowledge: () => Promise.reject(new Error('down')) },
      log,
    );
    const ms = await timed(lonely.barrier());
    assert.ok(ms >= TRUST_DEADLINE_MS && ms < TRUST_DEADLINE_MS + 300, `${ms.toFixed(0)} ms`);
  });

  it('close() ends pending barriers at once (shutdown)', async () => {
    const closing = new PeerBarriers(
      'e',
      { sendBarrier: () => new Promise<string[]>(() => {}), acknowledge: async () => {} },
      log,
    );
    const barrier = timed(closing.barrier());
    closing.close();
    assert.ok((await barrier) < 50);
  });
});

describe(
  'PostgresPropagation membership, on a real database: whom a barrier waits for',
  { skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set' },
  () => {
    let database: MigratedDatabase;
    const started: PostgresPropagation[] = [];
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const handlers = { events() {}, missed() {}, trustChanged() {} };
    /** A server (heartbeats, answers barriers) or, not serving, the command line. */
    async function start(
      serving: boolean,
      onWarning = (message: string, fields: Record<string, unknown>) => {
        warnings.push({ message, fields });
      },
    ) {
      const logger = { ...silentLogger, warn: onWarning };
      const propagation = new PostgresPropagation({
        ...{ databaseUrl: database.url, db: database.db, logger, serving },
        throttledLog: (_level, _kind, message, fields = {}) => onWarning(message, fields),
      });
      await propagation.start(handlers);
      started.push(propagation);
      return propagation;
    }
    const members = async () =>
      ((await database.db('server_instances').select('id')) as Array<{ id: string }>).map((row) => row.id).sort();
    const write = (id: string, agoMs: number) =>
      database.db.raw(
        `INSERT INTO server_instances (id, heartbeat_at) VALUES (?, now() - ? * interval '1 ms')
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
        [id, agoMs],
      );

    let server: PostgresPropagation;
    before(async () => {
      database = await openMigratedDatabase('postgres');
      server = await start(true);
      await waitFor('the server to prove its channel', () => server.trusted());
    });
    after(async () => {
      for (const propagation of started) await propagation.close();
      await database?.close();
    });

    it("a server's heartbeat writes its row; a process that has just started waits for its answer only, at once", async () => {
      assert.deepEqual(await members(), [server.instanceId]);
      warnings.length = 0;
      const cli = await start(false);
      const ms = await timed(cli.barrier());
      assert.ok(ms < 500, `the barrier took ${ms.toFixed(0)} ms`);
      assert.deepEqual(warnings, []);
      assert.deepEqual(await members(), [server.instanceId], 'the command line is no member');
    });

    it('waits for a member that never answers until the deadline and names it; ignores a row older than the window', async () => {
      const silent = randomUUID();
      const dead = randomUUID();
      await write(silent, 0);
      await write(dead, MEMBER_WINDOW_MS + 100);
      warnings.length = 0;
      const cli = await start(false);
      const ms = await timed(cli.barrier());
      assert.ok(ms >= TRUST_DEADLINE_MS && ms < TRUST_DEADLINE_MS + 500, `the barrier took ${ms.toFixed(0)} ms`);
      assert.deepEqual(
        warnings.map(({ fields }) => fields.silentInstances),
        [[silent]],
      );
      await database.db('server_instances').whereIn('id', [silent, dead]).delete();
    });

    it('a server that stops deletes its row and stops trusting its cache: a barrier does not wait for it', async () => {
      const leaving = await start(true);
      await waitFor('the second server to prove its channel', () => leaving.trusted());
      assert.deepEqual(await members(), [server.instanceId, leaving.instanceId].sort());
      await leaving.close();
      assert.equal(leaving.trusted(), false);
      assert.deepEqual(await members(), [server.instanceId]);
      const ms = await timed(server.barrier());
      assert.ok(ms < 500, `the barrier took ${ms.toFixed(0)} ms`);
    });
  },
);

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
