/**
 * The session end feeds' own rules, where the transports cannot reach them: a consumer that falls
 * behind is ended rather than thinned, queued heartbeats replace one another, a lapse ends only
 * the feeds that vouched for something, and the shared timer runs only while a feed is open.
 * Propagation is a plain object here (its trust and proof age set by the test): the real ones
 * are exercised end to end in session-end-feed.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionEndFeedEvent, SessionEndFeedStream } from '../src/events/session-end-feed-stream.js';
import { SessionEndFeeds } from '../src/events/session-end-feeds.js';
import { sessionEvent, type SessionEvent } from '../src/events/types.js';
import { silentLogger } from '../src/logger.js';
import type { ServiceTokenWatch } from '../src/sessions/service-tokens.js';
import type { SessionRecord } from '../src/sessions/types.js';
import { sleep, waitFor } from './support/async.js';

const HEARTBEAT_MS = 20;

function setup(options: { trusted?: boolean; proofAgeMs?: number; heartbeatIntervalMs?: number } = {}) {
  const state = { trusted: options.trusted ?? true, proofAgeMs: options.proofAgeMs ?? 42.2 };
  const propagation = { trusted: () => state.trusted, proofAgeMs: () => state.proofAgeMs };
  // Each token's watches, as the service tokens keep them; the test tells them.
  const watches = new Map<string, Set<ServiceTokenWatch>>();
  const serviceTokens = {
    watch(tokenId: string, watch: ServiceTokenWatch) {
      const set = watches.get(tokenId) ?? new Set();
      watches.set(tokenId, set.add(watch));
      return () => void set.delete(watch);
    },
  };
  const tell = (tokenId: string, what: keyof ServiceTokenWatch) => {
    for (const watch of [...(watches.get(tokenId) ?? [])]) watch[what]();
  };
  const feeds = new SessionEndFeeds({
    ...{ propagation, serviceTokens, logger: silentLogger },
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_MS,
  });
  return { state, feeds, tell, watches };
}

let sessionCounter = 0;
function endOf(): SessionEvent {
  const at = new Date();
  const session: SessionRecord = {
    ...{ id: `session-${++sessionCounter}`, userId: 'user-1', createdAt: at, lastSeenAt: at, authenticatedAt: at },
    ...{ expiresAt: new Date(at.getTime() + 60_000), endedAt: at, endReason: 'KICKED', userAgent: null },
    ...{ ipAddress: null, assurance: 'AAL1', authenticationMethods: ['PASSWORD'], deviceBoundAt: null },
  };
  return sessionEvent('ENDED', session);
}

type Drain = () => Promise<{ events: SessionEndFeedEvent[]; done: boolean }>;

/**
 * A reader of `stream`: each call returns what has arrived since the last (waiting a few ms for
 * more) and whether it has ended. One `next()` stays pending between calls, as a consumer's does.
 */
function readerOf(stream: SessionEndFeedStream): Drain {
  let pending: Promise<IteratorResult<SessionEndFeedEvent, undefined>> | undefined;
  return async () => {
    const events: SessionEndFeedEvent[] = [];
    for (;;) {
      pending ??= stream.next();
      const next = await Promise.race([pending, sleep(5).then(() => 'waiting' as const)]);
      if (next === 'waiting') return { events, done: false };
      pending = undefined;
      if (next.done) return { events, done: true };
      events.push(next.value);
    }
  };
}

describe('session end feeds', () => {
  it('a heartbeat at once when trusted, with the proof age rounded up; none while untrusted', async () => {
    const { feeds, state } = setup();
    const trusted = readerOf(feeds.open('token'));
    state.trusted = false;
    const untrusted = readerOf(feeds.open('token'));
    const first = (await trusted()).events;
    assert.deepEqual(
      first.map((event) => event.type),
      ['HEARTBEAT'],
    );
    // 42.2 rounded up, plus whole ms for its wait in the queue before the reader took it.
    const proofAgeMs = first[0]?.type === 'HEARTBEAT' ? first[0].proofAgeMs : NaN;
    assert.ok(Number.isInteger(proofAgeMs) && proofAgeMs >= 43 && proofAgeMs < 43 + 100, `${proofAgeMs}`);
    assert.deepEqual((await untrusted()).events, []);
    feeds.close();
  });

  it('ends are queued in the order applied, and a heartbeat after them; queued heartbeats replace one another', async () => {
    const { feeds } = setup();
    const drain = readerOf(feeds.open('token'));
    await drain();
    const ends = [endOf(), endOf()];
    for (const end of ends) feeds.ended(end);
    await sleep(3 * HEARTBEAT_MS);
    const { events } = await drain();
    // A tick may deliver one more while the reader waits for stragglers: that one came after.
    assert.deepEqual(
      events.slice(0, 3).map((event) => (event.type === 'ENDED' ? event.sessionId : event.type)),
      [ends[0]!.session.id, ends[1]!.session.id, 'HEARTBEAT'],
      'several ticks while nobody read: one heartbeat queued, after the ends',
    );
    assert.ok(events.length <= 4, JSON.stringify(events));
    feeds.close();
  });

  it('a heartbeat leaves its queue aged by its wait there, and one aged past the deadline is dropped', async () => {
    // No tick during the test: only the heartbeat each feed gets when it opens.
    const fresh = setup({ proofAgeMs: 100, heartbeatIntervalMs: 60_000 }).feeds;
    const waited = fresh.open('token');
    await sleep(60);
    const first = await waited.next();
    assert.ok(!first.done && first.value.type === 'HEARTBEAT');
    assert.ok(first.value.proofAgeMs >= 100 + 60, `aged by its wait: ${first.value.proofAgeMs} ms`);
    fresh.close();

    const old = setup({ proofAgeMs: 900, heartbeatIntervalMs: 60_000 }).feeds;
    const stream = old.open('token');
    old.ended(endOf());
    await sleep(150);
    const next = await stream.next();
    assert.ok(!next.done && next.value.type === 'ENDED', 'the heartbeat, 1,050 ms old by now, is dropped');
    old.close();
  });

  it('a consumer that falls 4096 events behind is ended, never thinned', async () => {
    const { feeds } = setup();
    const stream = feeds.open('token');
    for (let i = 0; i < 4_095; i++) feeds.ended(endOf());
    assert.equal(stream.ended, false, 'the heartbeat and 4095 ends fit');
    feeds.ended(endOf());
    assert.equal(stream.ended, true);
    assert.deepEqual(await readerOf(stream)(), { events: [], done: true }, 'nothing delivered after the end');
    assert.equal(feeds.size, 0);
  });

  it('a lapse ends the feeds that vouched for something; missed() ends them all; its token revoked or unproven ends a feed', async () => {
    const { feeds, state, tell, watches } = setup({ trusted: false });
    const silent = feeds.open('a');
    state.trusted = true;
    const vouched = feeds.open('a');
    const other = feeds.open('b');
    feeds.trustLapsed();
    assert.equal(vouched.ended, true);
    assert.equal(other.ended, true);
    assert.equal(silent.ended, false, 'it never vouched: it waits for proof');

    const again = feeds.open('b');
    tell('a', 'revoked');
    assert.equal(silent.ended, true);
    assert.equal(again.ended, false);
    const more = feeds.open('b');
    tell('b', 'unproven');
    assert.equal(again.ended, true);
    assert.equal(more.ended, true);
    const last = feeds.open('c');
    feeds.missed();
    assert.equal(last.ended, true);
    assert.equal(feeds.size, 0);
    assert.deepEqual(
      [...watches.values()].map((set) => set.size),
      [0, 0, 0],
      'every ended feed stopped watching its token',
    );
  });

  it('the shared timer beats every open feed, finds a lapse by itself, and stops with the last feed', async () => {
    const { feeds, state } = setup();
    const streams = [feeds.open('a'), feeds.open('b')];
    const readers = streams.map(readerOf);
    for (const drain of readers) await drain();
    await waitFor('another heartbeat on each', async () => {
      const counts = await Promise.all(readers.map(async (drain) => (await drain()).events.length));
      return counts.every((count) => count >= 1);
    });
    state.trusted = false;
    await waitFor('the lapse to end both', () => streams.every((stream) => stream.ended));
    assert.equal(feeds.size, 0);
    const late = feeds.open('c');
    await late.return();
    assert.equal(feeds.size, 0, 'a feed the client left is forgotten');
  });
});
