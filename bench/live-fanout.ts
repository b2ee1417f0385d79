/**
 * `npm run bench:live`: 1,000 WebSocket subscribers of `sessionRevoked` on one server process,
 * then their sessions are ended (kickSession one at a time, kickSession with several in flight,
 * revokeUserSessions for every user) and each subscriber's push latency is measured from the
 * moment the mutation that ended its session was sent to the moment its event arrived. Also the
 * server's memory per open socket, and a baseline from the same run: the round trip of a plain
 * cookie-authenticated `{ me { id } }` over HTTP.
 *
 * The server is this same file run as a child process (LIVE_FANOUT_ROLE=server, with
 * --expose-gc) over a SQLite file in a temp folder: it answers `memory` messages on the IPC
 * channel with `process.memoryUsage()` after a full GC. Subscribers are raw `ws` sockets that
 * speak graphql-transport-ws themselves, so the load generator's own overhead stays small.
 * Loopback only; every wait is bounded; the child and the temp folder go away however it ends.
 *
 * Knobs (environment): BENCH_LIVE_USERS (250), BENCH_LIVE_SESSIONS_PER_USER (4),
 * BENCH_LIVE_SEQUENTIAL_KICKS (100), BENCH_LIVE_CONCURRENT_KICKS (150), BENCH_LIVE_IN_FLIGHT (16).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROLE_SERVER = 'server';

interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** TCP connections the HTTP server holds (upgraded sockets included). */
  connections: number;
}

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

// ---------------------------------------------------------------------------------------------
// The server child
// ---------------------------------------------------------------------------------------------

async function runServer(): Promise<void> {
  const { buildApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { silentLogger } = await import('../src/logger.js');
  const config = loadConfig({
    NODE_ENV: 'production',
    COOKIE_SECURE: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: process.env.DATABASE_URL ?? '',
    ADMIN_USERNAME: process.env.ADMIN_USERNAME ?? '',
    ADMIN_PASSWORD: process.env.ADMIN_PASSWORD ?? '',
  });
  const app = buildApp(config, { logger: silentLogger });
  const url = await app.start();
  process.stdout.write(JSON.stringify({ url }) + '\n');

  const gc = (globalThis as { gc?: () => void }).gc;
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 5_000).unref();
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  process.on('message', (message) => {
    if (message !== 'memory') return;
    // Twice: the first pass may only queue finalizers that free more on the second.
    gc?.();
    gc?.();
    app.server.getConnections((error, connections) => {
      const usage = process.memoryUsage();
      const sample: MemorySample = {
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        connections: error ? -1 : connections,
      };
      process.send?.(sample);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The load generator
// ---------------------------------------------------------------------------------------------

function envNumber(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new Error(`${name}=${raw}: expected a whole number from 1 to ${max}`);
  }
  return value;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `jobs` with at most `inFlight` at a time. */
async function pool<T>(items: T[], inFlight: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await job(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

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

interface ServerHandle {
  url: string;
  memory(): Promise<MemorySample>;
  stop(): Promise<void>;
}

async function startServer(adminUsername: string, adminPassword: string): Promise<ServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-live-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LIVE_FANOUT_ROLE: ROLE_SERVER,
        DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
        ADMIN_USERNAME: adminUsername,
        ADMIN_PASSWORD: adminPassword,
      },
    },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const onExit = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await within(
      new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (line) => {
          if (line.startsWith('{')) resolve((JSON.parse(line) as { url: string }).url);
        });
        void exit.then(() => reject(new Error(`server exited with code ${child.exitCode}`)));
      }),
      60_000,
      'the server to start',
    );
    const memory = () =>
      within(
        new Promise<MemorySample>((resolve) => {
          child.once('message', (message) => resolve(message as MemorySample));
          child.send('memory');
        }),
        10_000,
        'the server to report its memory',
      );
    return { url, memory, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  cookie?: string,
): Promise<{ data: T; setCookie: string | undefined }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as GraphQLAnswer<T>;
  if (!body.data || body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return { data: body.data, setCookie: response.headers.getSetCookie()[0]?.split(';', 1)[0] };
}

const LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { session { id } user { id } } }';

async function login(url: string, username: string, password: string) {
  const { data, setCookie } = await graphql<{ login: { session: { id: string }; user: { id: string } } }>(url, LOGIN, {
    u: username,
    p: password,
  });
  if (!setCookie) throw new Error('login set no cookie');
  return { cookie: setCookie, sessionId: data.login.session.id, userId: data.login.user.id };
}

/** One subscriber: a raw socket speaking graphql-transport-ws, subscribed to `sessionRevoked`. */
interface Subscriber {
  userIndex: number;
  sessionId: string;
  cookie: string;
  socket?: WebSocket;
  /** Every `next` for the sessionRevoked operation. */
  events: Array<{ sessionId: string; reason: string }>;
  /** performance.now() of the first event. */
  arrivedAt?: number;
  completed: boolean;
  close?: { code: number; reason: string };
  /** performance.now() when the mutation that ended this session was sent. */
  sentAt?: number;
  /** performance.now() when that mutation's HTTP answer arrived. */
  answeredAt?: number;
  phase?: string;
}

const REVOKED_ID = 'revoked';
const PROBE_ID = 'probe';

function connectSubscriber(wsUrl: string, subscriber: Subscriber): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { cookie: subscriber.cookie } });
      subscriber.socket = socket;
      socket.once('error', reject);
      socket.on('error', () => {});
      socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.on('message', (raw: Buffer) => {
        const now = performance.now();
        const message = JSON.parse(raw.toString()) as {
          type: string;
          id?: string;
          payload?: { data?: { sessionRevoked?: { sessionId: string; reason: string } }; errors?: unknown };
        };
        if (message.type === 'connection_ack') {
          socket.send(
            JSON.stringify({
              id: REVOKED_ID,
              type: 'subscribe',
              payload: { query: 'subscription { sessionRevoked { sessionId reason at } }' },
            }),
          );
          // A query behind the subscription: its answer means the subscription was taken in.
          socket.send(JSON.stringify({ id: PROBE_ID, type: 'subscribe', payload: { query: '{ __typename }' } }));
        } else if (message.id === PROBE_ID && message.type === 'complete') {
          resolve();
        } else if (message.id === REVOKED_ID && message.type === 'next') {
          const event = message.payload?.data?.sessionRevoked;
          if (!event) {
            reject(new Error(`sessionRevoked answered ${JSON.stringify(message.payload)}`));
            return;
          }
          subscriber.arrivedAt ??= now;
          subscriber.events.push(event);
        } else if (message.id === REVOKED_ID && message.type === 'complete') {
          subscriber.completed = true;
        } else if (message.type === 'error') {
          reject(new Error(`subscription error ${JSON.stringify(message.payload)}`));
        }
      });
      socket.on('close', (code: number, reason: Buffer) => {
        subscriber.close = { code, reason: reason.toString() };
        reject(new Error(`closed before it was ready: ${code}`));
      });
    }),
    30_000,
    'a subscriber to connect',
  );
}

function describeMachine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  return `${new Date().toISOString()} · Node ${process.version} · ${availableParallelism()} × ${model} · load ${load}`;
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
  const users = envNumber('BENCH_LIVE_USERS', 250, 2_000);
  const perUser = envNumber('BENCH_LIVE_SESSIONS_PER_USER', 4, 20);
  const sequentialKicks = envNumber('BENCH_LIVE_SEQUENTIAL_KICKS', 100, 10_000);
  const concurrentKicks = envNumber('BENCH_LIVE_CONCURRENT_KICKS', 150, 10_000);
  const inFlight = envNumber('BENCH_LIVE_IN_FLIGHT', 16, 256);
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
  const adminUsername = 'bench';
  const adminPassword = randomBytes(18).toString('base64url');
  const server = await startServer(adminUsername, adminPassword);
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  const subscribers: Subscriber[] = [];
  try {
    print(
      `server ${server.url} (child process, SQLite temp file, NODE_ENV=production) · ${users} users × ${perUser} ` +
        `sessions = ${total} WebSocket subscribers · open files limit ${limit ?? 'unknown'}`,
    );

    // Users and sessions, through the public API: createUser, then logins (argon2 dominates).
    const admin = await login(server.url, adminUsername, adminPassword);
    const setupStart = performance.now();
    const userPasswords = Array.from({ length: users }, (_, i) => ({
      username: `live-user-${i}`,
      password: `live-password-${i}-${randomBytes(6).toString('hex')}`,
    }));
    const userIds: string[] = new Array<string>(users);
    await pool(userPasswords, 8, async (user, i) => {
      const { data } = await graphql<{ createUser: { id: string } }>(
        server.url,
        'mutation($u: String!, $p: String!) { createUser(username: $u, password: $p) { id } }',
        { u: user.username, p: user.password },
        admin.cookie,
      );
      userIds[i] = data.createUser.id;
    });
    const logins = Array.from({ length: total }, (_, i) => i);
    await pool(logins, 8, async (i) => {
      const userIndex = Math.floor(i / perUser);
      const user = userPasswords[userIndex]!;
      const session = await login(server.url, user.username, user.password);
      subscribers[i] = {
        userIndex,
        sessionId: session.sessionId,
        cookie: session.cookie,
        events: [],
        completed: false,
      };
    });
    print(`set-up: ${users} users and ${total} logins in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

    // Baseline in the same run: a cookie-authenticated `me` round trip over HTTP.
    const meLatencies: number[] = [];
    const meQuery = '{ me { id } }';
    for (let i = 0; i < 100; i++) await graphql(server.url, meQuery, undefined, admin.cookie); // warm-up
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await graphql(server.url, meQuery, undefined, admin.cookie);
      meLatencies.push(performance.now() - t0);
    }

    const before = await server.memory();
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
      await graphql(server.url, meQuery, undefined, admin.cookie);
      meWithSockets.push(performance.now() - t0);
    }

    // Phase 1: kickSession, one at a time (the first session of the first users).
    const firstSessions = (from: number, count: number) =>
      Array.from({ length: count }, (_, k) => subscribers[(from + k) * perUser]!);
    const kick = async (subscriber: Subscriber, phase: string) => {
      subscriber.phase = phase;
      subscriber.sentAt = performance.now();
      await graphql(
        server.url,
        'mutation($id: ID!) { kickSession(sessionId: $id) { id } }',
        { id: subscriber.sessionId },
        admin.cookie,
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
      const { data } = await graphql<{ revokeUserSessions: number }>(
        server.url,
        'mutation($id: ID!) { revokeUserSessions(userId: $id) }',
        { id: userId },
        admin.cookie,
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
    const perSocket = (key: 'rss' | 'heapUsed' | 'external', to: MemorySample, from: MemorySample) =>
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
    await server.stop();
    clearTimeout(deadline);
  }
}

// Last, so that every declaration above is initialised before either role runs.
if (process.env.LIVE_FANOUT_ROLE === ROLE_SERVER) {
  await runServer();
} else {
  await runBench();
}
