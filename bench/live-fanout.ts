/**
 * `npm run bench:live`: 1,000 WebSocket subscribers of `sessionRevoked` on one server process,
 * then their sessions are ended (kickSession one at a time, kickSession with several in flight,
 * revokeUserSessions for every user) and each subscriber's push latency is measured from the
 * moment the mutation that ended its session was sent to the moment its event arrived. Also the
 * server's memory per open socket, and a baseline from the same run: the round trip of a plain
 * cookie-authenticated `{ me { id } }` over HTTP.
 *
 * The server is bench/server.ts in a child process (started by startBenchServer with
 * --expose-gc) over a SQLite file in a temp folder: it answers `memory` messages on the IPC
 * channel with `process.memoryUsage()` after a full GC. Subscribers are raw `ws` sockets that
 * speak graphql-transport-ws themselves, so the load generator's own overhead stays small.
 * Loopback only; every wait is bounded; the child and the temp folder go away however it ends.
 *
 * Knobs (environment): BENCH_LIVE_USERS (250), BENCH_LIVE_SESSIONS_PER_USER (4),
 * BENCH_LIVE_SEQUENTIAL_KICKS (100), BENCH_LIVE_CONCURRENT_KICKS (150), BENCH_LIVE_IN_FLIGHT (16).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connectSubscriber, pool, type Subscriber } from './subscribers.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  login,
  percentile,
  print,
  startBenchServer,
  table,
  type GraphQLTarget,
  type ServerMemory,
} from './support.js';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Requests in flight while users and sessions are made. */
const SETUP_IN_FLIGHT = 8;

/** The soft limit on open files of this process (Linux), or undefined. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const value = line?.split(/\s{2,}/)[1];
    return value === undefined || value === 'unlimited' ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(value < 10 ? 2 : 1));
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function latencyRow(name: string, values: number[]): string[] {
  const sorted = [...values].sort((a, b) => a - b);
  return [
    name,
    String(sorted.length),
    ms(percentile(sorted, 0.5)),
    ms(percentile(sorted, 0.99)),
    ms(sorted[sorted.length - 1] ?? NaN),
  ];
}

async function runBench(): Promise<void> {
  const count = { integer: true };
  const users = envNumber('BENCH_LIVE_USERS', 250, 2_000, count);
  const perUser = envNumber('BENCH_LIVE_SESSIONS_PER_USER', 4, 20, count);
  const sequentialKicks = envNumber('BENCH_LIVE_SEQUENTIAL_KICKS', 100, 10_000, count);
  const concurrentKicks = envNumber('BENCH_LIVE_CONCURRENT_KICKS', 150, 10_000, count);
  const inFlight = envNumber('BENCH_LIVE_IN_FLIGHT', 16, 256, count);
  const total = users * perUser;
  if (sequentialKicks + concurrentKicks > users) {
    throw new Error('BENCH_LIVE_SEQUENTIAL_KICKS + BENCH_LIVE_CONCURRENT_KICKS must not exceed BENCH_LIVE_USERS');
  }
  const limit = openFileLimit();
  // This process holds one descriptor per socket (the server child has its own limit, the same).
  if (limit !== undefined && limit < total + 200) {
    throw new Error(`ulimit -n is ${limit}: ${total} sockets need about ${total + 200}; raise it or lower the knobs`);
  }

  // Everything below must finish within this bound, or the run fails (and still cleans up).
  const deadline = setTimeout(() => {
    print('live-fanout: gave up after 10 minutes');
    process.exit(1);
  }, 600_000);
  deadline.unref();

  print(`gatehouse bench: live fan-out · ${describeMachine()}`);
  const server = await startBenchServer({ nodeFlags: ['--expose-gc'] });
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  // One socket per request in flight (the set-up runs 8 at a time, the kicks `inFlight`).
  const agent = createAgent(Math.max(inFlight, SETUP_IN_FLIGHT));
  const target: GraphQLTarget = { port: server.port, agent };
  const subscribers: Subscriber[] = [];
  try {
    print(
      `server ${server.url} (child process, SQLite temp file, NODE_ENV=production) · ${users} users × ${perUser} ` +
        `sessions = ${total} WebSocket subscribers · open files limit ${limit ?? 'unknown'}`,
    );

    // Users and sessions, through the public API: createUser, then logins (argon2 dominates).
    const admin = await login(target, server.adminUsername, server.adminPassword);
    const asAdmin = { cookie: admin.cookie };
    const setupStart = performance.now();
    const userPasswords = Array.from({ length: users }, (_, i) => ({
      username: `live-user-${i}`,
      password: `live-password-${i}-${randomBytes(6).toString('hex')}`,
    }));
    const userIds: string[] = new Array<string>(users);
    await pool(userPasswords, SETUP_IN_FLIGHT, async (user, i) => {
      const data = await graphql<{ createUser: { id: string } }>(
        target,
        'mutation($u: String!, $p: String!) { createUser(username: $u, password: $p) { id } }',
        { u: user.username, p: user.password },
        asAdmin,
      );
      userIds[i] = data.createUser.id;
    });
    const logins = Array.from({ length: total }, (_, i) => i);
    await pool(logins, SETUP_IN_FLIGHT, async (i) => {
      const userIndex = Math.floor(i / perUser);
      const user = userPasswords[userIndex]!;
      const session = await login<{ login: { session: { id: string } } }>(
        target,
        user.username,
        user.password,
        'session { id } user { id }',
      );
      subscribers[i] = {
        userIndex,
        sessionId: session.data.login.session.id,
        cookie: session.cookie,
        events: [],
        completed: false,
      };
    });
    print(`set-up: ${users} users and ${total} logins in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

    // Baseline in the same run: a cookie-authenticated `me` round trip over HTTP.
    const meLatencies: number[] = [];
    const meQuery = '{ me { id } }';
    for (let i = 0; i < 100; i++) await graphql(target, meQuery, undefined, asAdmin); // warm-up
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await graphql(target, meQuery, undefined, asAdmin);
      meLatencies.push(performance.now() - t0);
    }

    const before = await server.memory();
    if (!before.afterGc)
      throw new Error('the server ran without --expose-gc: its memory figures would not be after GC');
    const openStart = performance.now();
    await pool(subscribers, 64, (subscriber) => connectSubscriber(wsUrl, subscriber));
    const openSeconds = (performance.now() - openStart) / 1000;
    await delay(200);
    const opened = await server.memory();
    print(`opened ${total} sockets, each with a sessionRevoked subscription, in ${openSeconds.toFixed(1)} s`);

    // A `me` round trip again, now with every socket open.
    const meWithSockets: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await graphql(target, meQuery, undefined, asAdmin);
      meWithSockets.push(performance.now() - t0);
    }

    // Phase 1: kickSession, one at a time (the first session of the first users).
    const firstSessions = (from: number, count: number) =>
      Array.from({ length: count }, (_, k) => subscribers[(from + k) * perUser]!);
    const kick = async (subscriber: Subscriber, phase: string) => {
      subscriber.phase = phase;
      subscriber.sentAt = performance.now();
      await graphql(
        target,
        'mutation($id: ID!) { kickSession(sessionId: $id) { id } }',
        { id: subscriber.sessionId },
        asAdmin,
      );
      subscriber.answeredAt = performance.now();
    };
    const waitForEvents = async (group: Subscriber[]) => {
      const until = performance.now() + 10_000;
      while (performance.now() < until && group.some((s) => s.close === undefined)) await delay(10);
    };
    const sequential = firstSessions(0, sequentialKicks);
    for (const subscriber of sequential) {
      await kick(subscriber, 'sequential');
      // One at a time means the next kick waits for this push.
      const until = performance.now() + 5_000;
      while (subscriber.arrivedAt === undefined && performance.now() < until) await delay(1);
    }
    await waitForEvents(sequential);

    // Phase 2: kickSession with several in flight.
    const concurrent = firstSessions(sequentialKicks, concurrentKicks);
    await pool(concurrent, inFlight, (subscriber) => kick(subscriber, 'concurrent'));
    await waitForEvents(concurrent);

    // Phase 3: revokeUserSessions for every user (their remaining sessions).
    const remaining = subscribers.filter((s) => s.phase === undefined);
    let revokedCount = 0;
    const revokeStart = performance.now();
    await pool(userIds, inFlight, async (userId, userIndex) => {
      const mine = remaining.filter((s) => s.userIndex === userIndex);
      const sentAt = performance.now();
      for (const subscriber of mine) {
        subscriber.phase = 'revokeUser';
        subscriber.sentAt = sentAt;
      }
      const data = await graphql<{ revokeUserSessions: number }>(
        target,
        'mutation($id: ID!) { revokeUserSessions(userId: $id) }',
        { id: userId },
        asAdmin,
      );
      revokedCount += data.revokeUserSessions;
      const answeredAt = performance.now();
      for (const subscriber of mine) subscriber.answeredAt = answeredAt;
    });
    await waitForEvents(remaining);
    const revokeSeconds = (performance.now() - revokeStart) / 1000;
    await delay(200);
    const closedAll = await server.memory();

    // Results.
    const expectedReason = (s: Subscriber) => (s.phase === 'revokeUser' ? 'USER_SESSIONS_REVOKED' : 'KICKED');
    const exactlyOne = subscribers.filter(
      (s) =>
        s.events.length === 1 &&
        s.events[0]!.sessionId === s.sessionId &&
        s.events[0]!.reason === expectedReason(s) &&
        s.completed,
    ).length;
    const closed4403 = subscribers.filter(
      (s) => s.close?.code === 4403 && s.close.reason === `Session ended: ${expectedReason(s)}`,
    ).length;
    const latencies = (phase?: string) =>
      subscribers
        .filter(
          (s) => (phase === undefined || s.phase === phase) && s.arrivedAt !== undefined && s.sentAt !== undefined,
        )
        .map((s) => s.arrivedAt! - s.sentAt!);
    /** The mutations' own round trips (per subscriber, so revokeUserSessions counts once per session it ended). */
    const roundTrips = (phase: string) =>
      subscribers.filter((s) => s.phase === phase && s.answeredAt !== undefined).map((s) => s.answeredAt! - s.sentAt!);

    print();
    print(
      table([
        ['push latency: mutation sent → event received', 'events', 'p50 ms', 'p99 ms', 'max ms'],
        latencyRow(`kickSession, one at a time`, latencies('sequential')),
        latencyRow(`kickSession, ${inFlight} in flight`, latencies('concurrent')),
        latencyRow(`revokeUserSessions × ${users}, ${inFlight} in flight`, latencies('revokeUser')),
        latencyRow('all subscribers', latencies()),
        latencyRow('  kickSession answer, one at a time', roundTrips('sequential')),
        latencyRow(`  kickSession answer, ${inFlight} in flight`, roundTrips('concurrent')),
        latencyRow(`  revokeUserSessions answer, ${inFlight} in flight`, roundTrips('revokeUser')),
        latencyRow(
          '  event arrival minus answer arrival (all)',
          subscribers
            .filter((s) => s.arrivedAt !== undefined && s.answeredAt !== undefined)
            .map((s) => s.arrivedAt! - s.answeredAt!),
        ),
        latencyRow('baseline: cookie { me { id } } round trip, idle', meLatencies),
        latencyRow(`baseline: the same, ${total} sockets open`, meWithSockets),
      ]),
    );
    const p50 = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        0.5,
      );
    print(
      `one-at-a-time push p50 is ${(p50(latencies('sequential')) / p50(meWithSockets)).toFixed(2)} × ` +
        `the me round trip p50 (same run, sockets open); revokeUserSessions phase: ${revokedCount} sessions ` +
        `in ${revokeSeconds.toFixed(2)} s`,
    );
    print(
      `subscribers with exactly one event (own session, right reason) then complete: ${exactlyOne}/${total}; ` +
        `sockets closed by the server with 4403 naming the reason: ${closed4403}/${total}`,
    );
    print();
    const perSocket = (key: 'rss' | 'heapUsed' | 'external', to: ServerMemory, from: ServerMemory) =>
      (to[key] - from[key]) / total;
    print(
      table([
        ['server memory (after GC)', 'rss', 'heapUsed', 'external', 'connections'],
        [
          'before opening sockets',
          mb(before.rss),
          mb(before.heapUsed),
          mb(before.external),
          String(before.connections),
        ],
        [`${total} sockets open`, mb(opened.rss), mb(opened.heapUsed), mb(opened.external), String(opened.connections)],
        [
          'all closed by revocation',
          mb(closedAll.rss),
          mb(closedAll.heapUsed),
          mb(closedAll.external),
          String(closedAll.connections),
        ],
        [
          'per open socket (+1 subscription)',
          kb(perSocket('rss', opened, before)),
          kb(perSocket('heapUsed', opened, before)),
          kb(perSocket('external', opened, before)),
          '',
        ],
        [
          'per socket still held after close',
          kb(perSocket('rss', closedAll, before)),
          kb(perSocket('heapUsed', closedAll, before)),
          kb(perSocket('external', closedAll, before)),
          '',
        ],
      ]),
    );
    if (exactlyOne !== total || closed4403 !== total || revokedCount !== remaining.length) process.exitCode = 1;
  } finally {
    for (const subscriber of subscribers) subscriber?.socket?.terminate();
    agent.destroy();
    await server.stop();
    clearTimeout(deadline);
  }
}

await runBench();
