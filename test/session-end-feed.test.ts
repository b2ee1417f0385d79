/**
 * `sessionEndFeed`, the feed other services cache sessions on: one ENDED per session end from
 * anywhere, in the order the instance applied them, and a HEARTBEAT every 250 ms, sent only
 * while the instance is proven to hear every end, behind the ends it vouches for. It completes
 * when ends may have been missed or the proof lapses, and ends when its service token is
 * revoked (the socket closes with 4403). Real servers, real sockets and event streams, both
 * databases; the faults are real ones (the end log unreadable, the listening connection
 * terminated or hung behind a proxy).
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { listenerName } from '../src/events/postgres-propagation.js';
import {
  DisableUserDocument,
  KickSessionDocument,
  LogoutDocument,
  RevokeAllSessionsDocument,
} from './generated/graphql.js';
import { runSweeper } from './support/app.js';
import { sleep, waitFor } from './support/async.js';
import type { TestClient } from './support/client.js';
import { HOUR } from './support/clock.js';
import { createPostgresDatabase, DATABASE_KINDS, POSTGRES_URL, type TestDatabase } from './support/databases.js';
import {
  closeFeeds,
  createServiceToken,
  endsOf,
  feedEvents,
  openFeeds,
  withFeeds,
  revokeServiceToken,
  SESSION_END_FEED,
  waitForEnds,
  type FeedData,
  type FeedSubscription,
  type OpenFeeds,
  type ServiceToken,
} from './support/end-feed.js';
import { HangingProxy } from './support/hanging-proxy.js';
import { openSocket, subscribeSse, subscribeWs, type LiveSubscription } from './support/live.js';
import { QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import { createUser, signIn } from './support/sessions.js';

const SUITE_TIMEOUT_MS = 90_000;
/** The contract's bound: an end reaches every feed, and a revocation closes them, within this. */
const DEADLINE_MS = 1_000;
/** How long a feed is watched for anything more after what it should get has come. */
const QUIET_MS = 300;
const HEARTBEAT_MS = 250;
/** A fault's proof lapses after the trust deadline; the next heartbeat tick ends the feeds (plus slack). */
const LAPSE_BOUND_MS = 1_000 + 2 * HEARTBEAT_MS + 500;
/** A token's proof lasts 900 ms; the next recheck tick (250 ms) ends its feeds (plus slack). */
const TOKEN_LAPSE_BOUND_MS = 900 + 250 + 500;

let userCounter = 0;
const uniqueName = (prefix: string) => `${prefix}${++userCounter}`;

/** A new user signed in `count` times: the user id and each session's client and id. */
async function userWithSessions(server: TestServer, admin: TestClient, count: number) {
  const username = uniqueName('feed');
  const userId = await createUser(admin, username);
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const { client, session } = await signIn(server, username);
    sessions.push({ client, id: session.id });
  }
  return { userId, sessions };
}

/**
 * On both transports: exactly one ENDED for each session, with its user and `reason`; and every
 * heartbeat sent after `endedBy` (wall clock, when the call that ended them returned) comes
 * after all of those ENDED in the stream.
 */
async function assertEnded(
  feeds: OpenFeeds,
  ended: Array<{ id: string; userId: string }>,
  reason: string,
  endedBy: number,
): Promise<void> {
  for (const [, feed] of feeds.both) {
    await waitForEnds(
      feed,
      ended.map((session) => session.id),
      DEADLINE_MS + 1_000,
    );
  }
  await sleep(QUIET_MS);
  for (const [transport, feed] of feeds.both) {
    const events = feedEvents(feed);
    for (const session of ended) {
      const ends = endsOf(feed, session.id);
      assert.equal(ends.length, 1, `${transport}: ENDED events for one session: ${JSON.stringify(ends)}`);
      assert.equal(ends[0]!.userId, session.userId, transport);
      assert.equal(ends[0]!.reason, reason, transport);
      assert.equal(ends[0]!.proofAgeMs, null, transport);
      const lastEnd = events.indexOf(ends[0]!);
      const laterHeartbeat = events.findIndex((e) => e.type === 'HEARTBEAT' && Date.parse(e.at) > endedBy);
      assert.ok(
        laterHeartbeat === -1 || laterHeartbeat > lastEnd,
        `${transport}: a heartbeat vouched ahead of its end`,
      );
    }
    assert.equal(feed.end, undefined, `${transport}: the feed ended`);
  }
}

/** min–median–max of `values`, in whole ms. */
function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(0);
  return sorted.length === 0 ? 'none' : `${at(0)}–${at(0.5)}–${at(1)} ms (${sorted.length})`;
}

/** The heartbeats of a feed: integer proof ages under the deadline, HEARTBEAT fields only. */
function heartbeatsOf(feed: FeedSubscription) {
  const heartbeats = feedEvents(feed).filter((event) => event.type === 'HEARTBEAT');
  for (const heartbeat of heartbeats) {
    assert.ok(Number.isInteger(heartbeat.proofAgeMs), JSON.stringify(heartbeat));
    assert.ok(heartbeat.proofAgeMs! >= 0 && heartbeat.proofAgeMs! < 1_000, JSON.stringify(heartbeat));
    assert.equal(heartbeat.sessionId, null);
    assert.equal(heartbeat.reason, null);
  }
  return heartbeats;
}

/**
 * Every heartbeat the feed got vouched only for what was proven before `faultAt`: its arrival
 * less its proof age (a bound on when its proof was taken) is not later, give or take delivery.
 */
function assertProvenBefore(feed: FeedSubscription, faultAt: number, transport: string): void {
  const events = feedEvents(feed);
  for (const heartbeat of heartbeatsOf(feed)) {
    const provenBy = feed.arrivals[events.indexOf(heartbeat)]! - heartbeat.proofAgeMs!;
    assert.ok(
      provenBy < faultAt + 100,
      `${transport}: a heartbeat proven ${(provenBy - faultAt).toFixed(0)} ms after the fault`,
    );
  }
}

/** The feed completed (not an error) within `ms`. */
async function assertCompleted(feed: LiveSubscription, what: string, ms = 3_000): Promise<void> {
  const end = await feed.ended(ms);
  assert.equal(end.how, 'complete', `${what} ended with ${JSON.stringify(end.error)}`);
}

for (const kind of DATABASE_KINDS) {
  describe(`sessionEndFeed on ${kind}`, { timeout: SUITE_TIMEOUT_MS }, () => {
    let server: TestServer;
    let admin: TestClient;
    let service: ServiceToken;
    let feeds: OpenFeeds | undefined;
    before(async () => {
      server = await startTestServer({ database: kind, env: QUIET_SWEEPER });
      admin = await server.adminClient();
      service = await createServiceToken(server, ['VERIFY_SESSIONS']);
    });
    after(async () => {
      await closeFeeds(feeds);
      await server?.stop();
    });

    it('sends a heartbeat at once, then every 250 ms on both transports, each with its proof age', async (t) => {
      feeds = await openFeeds(server, service.token);
      const openedAt = performance.now();
      for (const [, feed] of feeds.both) await feed.received(9, 5_000);
      const elapsed = performance.now() - openedAt;
      for (const [transport, feed] of feeds.both) {
        const heartbeats = heartbeatsOf(feed);
        // One at once, then one per interval at most: never more, however fast the machine.
        const most = 2 + Math.ceil(elapsed / HEARTBEAT_MS);
        assert.ok(heartbeats.length <= most, `${transport}: ${heartbeats.length} heartbeats in ${elapsed} ms`);
        assert.equal(heartbeats.length, feed.events.length, `${transport}: only heartbeats while nothing ends`);
        const gaps = feed.arrivals.slice(2).map((at, i) => at - feed.arrivals[i + 1]!);
        const ages = heartbeats.map((heartbeat) => heartbeat.proofAgeMs!);
        t.diagnostic(`${transport}: gaps ${summary(gaps)}; proofAgeMs ${summary(ages)}`);
      }
      assert.equal(server.app.core.endFeeds.size, 2, 'one feed per subscription');
    });

    it('one ENDED for a logout, a kick and a disabled user (each of its sessions), with who and why', async () => {
      feeds ??= await openFeeds(server, service.token);
      const { userId, sessions } = await userWithSessions(server, admin, 4);
      const [loggedOut, kicked] = sessions;

      await loggedOut!.client.data(LogoutDocument);
      await assertEnded(feeds, [{ id: loggedOut!.id, userId }], 'LOGOUT', Date.now());

      await admin.data(KickSessionDocument, { sessionId: kicked!.id });
      await assertEnded(feeds, [{ id: kicked!.id, userId }], 'KICKED', Date.now());

      await admin.data(DisableUserDocument, { userId });
      const rest = sessions.slice(2).map((session) => ({ id: session.id, userId }));
      await assertEnded(feeds, rest, 'USER_DISABLED', Date.now());
    });

    it('revokeAllSessions: one ENDED for each session it ended', async () => {
      feeds ??= await openFeeds(server, service.token);
      const open = feeds;
      const one = await userWithSessions(server, admin, 2);
      const two = await userWithSessions(server, admin, 1);
      const seen = new Map(open.both.map(([transport, feed]) => [transport, feed.events.length]));
      const { revokeAllSessions } = await admin.data(RevokeAllSessionsDocument);
      const ended = [one, two].flatMap(({ userId, sessions }) => sessions.map(({ id }) => ({ id, userId })));
      await assertEnded(open, ended, 'ALL_SESSIONS_REVOKED', Date.now());
      assert.ok(revokeAllSessions >= ended.length, `revoked ${revokeAllSessions}`);
      for (const [transport, feed] of open.both) {
        const newEnds = feedEvents(feed)
          .slice(seen.get(transport))
          .filter((event) => event.type === 'ENDED');
        assert.equal(newEnds.length, revokeAllSessions, `${transport}: one ENDED per session revoked`);
        assert.equal(new Set(newEnds.map((event) => event.sessionId)).size, newEnds.length, transport);
      }
    });

    it("an expiry the sweeper finds: one ENDED per expired session, EXPIRED (moves the server's clock: last)", async () => {
      feeds ??= await openFeeds(server, service.token);
      const { userId, sessions } = await userWithSessions(server, admin, 2);
      server.clock.advance(25 * HOUR);
      const { expired } = await runSweeper(server);
      assert.ok(expired >= 2, `swept ${expired}`);
      const ended = sessions.map((session) => ({ id: session.id, userId }));
      await assertEnded(feeds, ended, 'EXPIRED', Date.now());
    });
  });
}

describe('sessionEndFeed: who may open it, and a revoked token', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let admin: TestClient;
  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
    admin = await server.adminClient();
  });
  after(() => server?.stop());

  /** Refused over both transports with `code`, then the end. */
  async function assertRefused(options: { token?: string; cookie?: string }, code: string, what: string) {
    const socket = openSocket(server, options);
    try {
      await socket.connected;
      const ws = subscribeWs(socket.client, SESSION_END_FEED);
      const sse = subscribeSse(server, SESSION_END_FEED, options);
      for (const [transport, feed] of [
        ['WebSocket', ws],
        ['SSE', sse],
      ] as const) {
        await feed.ended(3_000);
        assert.equal(feed.events.length, 1, `${what} over ${transport}: ${JSON.stringify(feed.events)}`);
        assert.equal(feed.events[0]?.data ?? null, null, `${what} over ${transport}: data`);
        assert.equal(feed.events[0]?.errors?.[0]?.extensions?.code, code, `${what} over ${transport}`);
      }
    } finally {
      await socket.dispose();
    }
  }

  it('a READ_SESSIONS token, a session (even an admin’s) and no one at all are refused', async () => {
    const reader = await createServiceToken(server, ['READ_SESSIONS']);
    await assertRefused({ token: reader.token }, 'FORBIDDEN', 'a READ_SESSIONS token');
    await assertRefused({ cookie: admin.cookie! }, 'FORBIDDEN', "an admin's session");
    await assertRefused({}, 'UNAUTHENTICATED', 'anonymous');
    assert.equal(server.app.core.endFeeds.size, 0, 'no feed was opened');
  });

  it('revoking the token closes its socket (4403) and ends its SSE stream at once; other tokens’ feeds go on', async (t) => {
    const revoked = await createServiceToken(server, ['VERIFY_SESSIONS']);
    const kept = await createServiceToken(server, ['VERIFY_SESSIONS', 'READ_SESSIONS']);
    const doomed = await openFeeds(server, revoked.token);
    const other = await openFeeds(server, kept.token);
    try {
      const sentAt = performance.now();
      // Through the admin API, as an operator would.
      await admin.data('mutation($id: ID!) { revokeServiceToken(id: $id) { id } }', { id: revoked.id });
      const close = await doomed.socket.closedWithin(DEADLINE_MS);
      assert.deepEqual(close, { code: 4403, reason: 'Service token revoked' });
      await assertCompleted(doomed.sse, 'the SSE feed', DEADLINE_MS);
      const took = performance.now() - sentAt;
      t.diagnostic(`socket closed and SSE ended ${took.toFixed(0)} ms after the revocation was sent`);
      assert.ok(took < DEADLINE_MS, `both closed ${took.toFixed(0)} ms after the revocation was sent`);

      const heartbeats = other.ws.events.length;
      await sleep(2 * HEARTBEAT_MS + 100);
      assert.ok(other.ws.events.length > heartbeats, 'the other token’s feed still beats');
      assert.equal(other.sse.end, undefined);
      assert.equal(other.socket.closeInfo, undefined);

      const again = subscribeSse(server, SESSION_END_FEED, { token: revoked.token });
      await again.ended(3_000);
      assert.equal(again.events[0]?.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'the revoked token again');
    } finally {
      await closeFeeds(doomed);
      await closeFeeds(other);
    }
    await waitFor('every feed forgotten (and the heartbeat timer stopped)', () => server.app.core.endFeeds.size === 0);
  });
});

describe('sessionEndFeed on SQLite when the end log cannot be read', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let service: ServiceToken;
  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
    service = await createServiceToken(server, ['VERIFY_SESSIONS']);
  });
  after(() => server?.stop());

  it('heartbeats stop once the proof lapses and the feed completes; a new feed beats once reads work again', async (t) => {
    const feeds = await openFeeds(server, service.token);
    try {
      // A real fault: every read of the end log fails from now on (no mock).
      await server.db.raw('ALTER TABLE session_end_log RENAME TO session_end_log_away');
      const brokenAt = performance.now();
      for (const [transport, feed] of feeds.both) {
        await assertCompleted(feed, transport, 4_000);
        assertProvenBefore(feed, brokenAt, transport);
        const took = feed.endedAt! - brokenAt;
        t.diagnostic(`${transport} feed completed ${took.toFixed(0)} ms after the end log broke`);
        assert.ok(took < LAPSE_BOUND_MS, `${transport} completed ${took.toFixed(0)} ms after the break`);
      }
      assert.equal(server.app.core.propagation.trusted(), false);
      // While unproven, a new feed is open but silent.
      const waiting = subscribeSse<FeedData>(server, SESSION_END_FEED, { token: service.token });
      await sleep(3 * HEARTBEAT_MS);
      assert.deepEqual(waiting.events, [], 'a heartbeat without proof');
      assert.equal(waiting.end, undefined, 'the feed opened while unproven ended');

      await server.db.raw('ALTER TABLE session_end_log_away RENAME TO session_end_log');
      await waiting.received(1, 3_000);
      assert.equal(heartbeatsOf(waiting).length, waiting.events.length);
      waiting.dispose();
    } finally {
      await closeFeeds(feeds);
    }
  });
});

describe('sessionEndFeed on SQLite when its service token cannot be rechecked', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let service: ServiceToken;
  before(async () => {
    server = await startTestServer({ env: QUIET_SWEEPER });
    service = await createServiceToken(server, ['VERIFY_SESSIONS']);
  });
  after(() => server?.stop());

  it('the feeds end once the token is unproven (another instance may have revoked it); the token, not revoked, works again once reads do', async (t) => {
    const feeds = await openFeeds(server, service.token);
    try {
      // A real fault: every read of the service tokens fails, so nothing proves this one unrevoked.
      await server.db.raw('ALTER TABLE service_tokens RENAME TO service_tokens_away');
      const brokenAt = performance.now();
      const close = await feeds.socket.closedWithin(TOKEN_LAPSE_BOUND_MS);
      assert.deepEqual(close, { code: 1013, reason: 'Service token unproven: reconnect' });
      await assertCompleted(feeds.sse, 'the SSE feed', TOKEN_LAPSE_BOUND_MS);
      const took = feeds.sse.endedAt! - brokenAt;
      t.diagnostic(`the SSE feed completed ${took.toFixed(0)} ms after the service tokens became unreadable`);
      assert.ok(took < TOKEN_LAPSE_BOUND_MS, `the SSE feed completed ${took.toFixed(0)} ms after the break`);
      // Subscribing again authenticates again: the read fails (a missing table is no outage the
      // server knows, hence not SERVICE_UNAVAILABLE), so no feed opens.
      const refused = subscribeSse(server, SESSION_END_FEED, { token: service.token });
      await refused.ended(3_000);
      const code = refused.events[0]?.errors?.[0]?.extensions?.code;
      assert.equal(code, 'INTERNAL_SERVER_ERROR', JSON.stringify(refused.events));
      assert.equal(server.app.core.endFeeds.size, 0);
    } finally {
      await server.db.raw('ALTER TABLE service_tokens_away RENAME TO service_tokens');
      await closeFeeds(feeds);
    }
    await withFeeds(server, service.token, async (again) => {
      assert.equal(again.sse.end, undefined, 'the token was never revoked: it opens a feed again');
    });
  });
});

const crossInstanceSkip = POSTGRES_URL ? false : 'TEST_POSTGRES_URL is not set';

describe(
  'sessionEndFeed across instances on PostgreSQL',
  { skip: crossInstanceSkip, timeout: SUITE_TIMEOUT_MS },
  () => {
    let database: TestDatabase;
    let proxy: HangingProxy;
    /** A reaches PostgreSQL through the proxy; B directly. */
    let serverA: TestServer;
    let serverB: TestServer;
    let adminB: TestClient;
    before(async () => {
      database = await createPostgresDatabase();
      proxy = await HangingProxy.start(database.url);
      serverA = await startTestServer({ env: { ...QUIET_SWEEPER, DATABASE_URL: proxy.urlFor(database.url) } });
      serverB = await startTestServer({ env: { ...QUIET_SWEEPER, DATABASE_URL: database.url } });
      adminB = await serverB.adminClient();
    });
    after(async () => {
      await Promise.all([serverA?.stop(), serverB?.stop()]);
      await proxy?.close();
      await database?.drop();
    });

    it("an end on B reaches A's feed, ahead of every heartbeat whose proof came after it", async (t) => {
      const service = await createServiceToken(serverB, ['VERIFY_SESSIONS']);
      await withFeeds(serverA, service.token, async (feeds) => {
        const { userId, sessions } = await userWithSessions(serverB, adminB, 2);
        const sentAt = performance.now();
        await adminB.data(KickSessionDocument, { sessionId: sessions[0]!.id });
        const kickedBy = Date.now();
        await assertEnded(feeds, [{ id: sessions[0]!.id, userId }], 'KICKED', kickedBy);
        for (const [transport, feed] of feeds.both) {
          const events = feedEvents(feed);
          const [ended] = endsOf(feed, sessions[0]!.id);
          const latency = feed.arrivals[events.indexOf(ended!)]! - sentAt;
          t.diagnostic(`${transport}: ENDED on A ${latency.toFixed(0)} ms after the kick on B was sent`);
          assert.ok(latency < DEADLINE_MS, `${transport}: ${latency.toFixed(0)} ms`);
          // Every heartbeat proven after the kick returned (A had applied it: the barrier) follows it.
          const provenLater = events.findIndex(
            (e) => e.type === 'HEARTBEAT' && Date.parse(e.at) - e.proofAgeMs! > kickedBy,
          );
          assert.ok(provenLater === -1 || provenLater > events.indexOf(ended!), transport);
        }
      });
    });

    it("a token revoked on B closes A's feeds within a second", async (t) => {
      const service = await createServiceToken(serverB, ['VERIFY_SESSIONS']);
      await withFeeds(serverA, service.token, async (feeds) => {
        const sentAt = performance.now();
        await revokeServiceToken(serverB, service.id);
        const close = await feeds.socket.closedWithin(DEADLINE_MS + 1_000);
        const closedMs = performance.now() - sentAt;
        assert.deepEqual(close, { code: 4403, reason: 'Service token revoked' });
        await assertCompleted(feeds.sse, 'the SSE feed');
        const took = feeds.sse.endedAt! - sentAt;
        t.diagnostic(
          `A's socket closed ${closedMs.toFixed(0)} ms, its SSE feed ended ${took.toFixed(0)} ms after the revocation on B was sent`,
        );
        assert.ok(
          closedMs < DEADLINE_MS,
          `A's socket closed ${closedMs.toFixed(0)} ms after the revocation on B was sent`,
        );
        assert.ok(took < DEADLINE_MS, `A's SSE feed ended ${took.toFixed(0)} ms after the revocation on B was sent`);
      });
    });

    it("A's listening connection terminated (ends may be missed): A's feeds complete, and beat again once reopened", async () => {
      const service = await createServiceToken(serverB, ['VERIFY_SESSIONS']);
      await withFeeds(serverA, service.token, async (feeds) => {
        const name = listenerName(serverA.app.core.propagation.instanceId);
        const rows = await serverB.db
          .raw<{ rows: Array<{ ended: boolean }> }>(
            'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = ?',
            [name],
          )
          .then((result) => result.rows);
        assert.equal(rows[0]?.ended, true, "A's listening connection");
        for (const [transport, feed] of feeds.both) await assertCompleted(feed, transport, 5_000);
      });
      await withFeeds(serverA, service.token, () => Promise.resolve());
    });

    it("A's listening connection hangs: heartbeats stop within the trust bound and A's feeds complete", async (t) => {
      const service = await createServiceToken(serverB, ['VERIFY_SESSIONS']);
      const name = listenerName(serverA.app.core.propagation.instanceId);
      await withFeeds(serverA, service.token, async (feeds) => {
        proxy.hang({ which: (connection) => connection.applicationName === name });
        const hungAt = performance.now();
        try {
          for (const [transport, feed] of feeds.both) {
            await assertCompleted(feed, transport, 4_000);
            assertProvenBefore(feed, hungAt, transport);
            const took = feed.endedAt! - hungAt;
            t.diagnostic(`${transport} feed completed ${took.toFixed(0)} ms after A's listener hung`);
            assert.ok(took < LAPSE_BOUND_MS, `${transport} completed ${took.toFixed(0)} ms after the hang`);
          }
        } finally {
          proxy.resume();
        }
      });
      // A replaces its listener and proves its channel again: a new feed beats.
      await waitFor(
        'a feed on A to beat again',
        async () => {
          const probe = subscribeSse(serverA, SESSION_END_FEED, { token: service.token });
          const beat = await probe.received(1, 1_000).then(
            () => true,
            () => false,
          );
          probe.dispose();
          return beat;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      );
    });
  },
);
