/**
 * What the revocation guarantee costs, and what would carry ends fastest, measured side by side
 * in one run (DESIGN.md, "The revocation guarantee"; src/events/propagation.ts):
 *
 * 1. The channel: a message's round trip through PostgreSQL NOTIFY (what Gatehouse uses) and
 *    through Redis PUBLISH (what it used before), alternated, on loopback.
 * 2. A kick: `kickSession` on instance A alone, and on A with a second instance B, where the
 *    kick returns only once B has acknowledged; then a request with the kicked cookie on B.
 *    Counts any served after the kick returned (must be 0).
 *
 * Two real Gatehouse servers in this process (production code path) on a temporary PostgreSQL
 * database. Knobs: BENCH_POSTGRES_URL (else TEST_POSTGRES_URL, else the local `test` database),
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379; skipped when it does not answer),
 * BENCH_MESSAGES (1000), BENCH_KICKS (300 per round, 2 rounds).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  login,
  percentile,
  print,
  table,
  type GraphQLTarget,
} from './support.js';
import { insertOpenSessions } from './seed.js';

const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MESSAGES = envNumber('BENCH_MESSAGES', 1_000, 100_000, { integer: true });
const KICKS = envNumber('BENCH_KICKS', 300, 10_000, { integer: true });
const ADMIN = { ADMIN_USERNAME: 'bench', ADMIN_PASSWORD: 'bench-password-revocation' };

const ms = (value: number) => value.toFixed(2);
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
};

/** A Redis client of a few lines: RESP arrays out, pushed `message` payloads in. */
class MiniRedis {
  private buffer = '';
  onMessage: (payload: string) => void = () => {};

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
  }

  static open(url: string): Promise<MiniRedis> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port || 6379), hostname, () => resolve(new MiniRedis(socket)));
      socket.once('error', reject);
    });
  }

  command(...args: string[]): void {
    this.socket.write(`*${args.length}\r\n` + args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join(''));
  }

  close(): void {
    this.socket.destroy();
  }

  /** Payloads are short ASCII here, so a `message` push is found by its shape. */
  private read(chunk: string): void {
    this.buffer += chunk;
    const push = /\*3\r\n\$7\r\nmessage\r\n\$\d+\r\n[^\r]*\r\n\$(\d+)\r\n/;
    for (let match = push.exec(this.buffer); match; match = push.exec(this.buffer)) {
      const start = match.index + match[0].length;
      const length = Number(match[1]);
      if (this.buffer.length < start + length + 2) return;
      this.onMessage(this.buffer.slice(start, start + length));
      this.buffer = this.buffer.slice(start + length + 2);
    }
  }
}

/** Sequential round trips: send one, wait for it to come back, send the next. */
async function roundTrips(send: (payload: string) => void, listen: (onPayload: (payload: string) => void) => void) {
  const times: number[] = [];
  let waiting: ((payload: string) => void) | undefined;
  listen((payload) => waiting?.(payload));
  for (let i = 0; i < MESSAGES; i++) {
    const payload = String(i);
    const startedAt = performance.now();
    await new Promise<void>((resolve) => {
      waiting = (received) => received === payload && resolve();
      send(payload);
    });
    times.push(performance.now() - startedAt);
  }
  return times;
}

async function notifyRoundTrips(url: string): Promise<number[]> {
  const [listener, sender] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await Promise.all([listener.connect(), sender.connect()]);
  await listener.query('LISTEN bench_round_trip');
  try {
    return await roundTrips(
      (payload) => void sender.query('SELECT pg_notify($1, $2)', ['bench_round_trip', payload]).catch(() => undefined),
      (onPayload) => listener.on('notification', (n) => onPayload(n.payload ?? '')),
    );
  } finally {
    await Promise.all([listener.end(), sender.end()]);
  }
}

async function redisRoundTrips(): Promise<number[] | undefined> {
  const [subscriber, publisher] = await Promise.all([MiniRedis.open(REDIS_URL), MiniRedis.open(REDIS_URL)]).catch(
    () => [],
  );
  if (!subscriber || !publisher) return undefined;
  subscriber.command('SUBSCRIBE', 'bench_round_trip');
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    return await roundTrips(
      (payload) => publisher.command('PUBLISH', 'bench_round_trip', payload),
      (onPayload) => (subscriber.onMessage = onPayload),
    );
  } finally {
    subscriber.close();
    publisher.close();
  }
}

async function startInstance(databaseUrl: string): Promise<{ app: App; target: GraphQLTarget }> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    SWEEP_INTERVAL: '1h',
    ...ADMIN,
  });
  const app = buildApp(config, { logger: silentLogger });
  const url = await app.start();
  return { app, target: { port: Number(new URL(url).port), agent: createAgent(4) } };
}

const ME = '{ me { id } }';
const KICK = 'mutation($id: ID!) { kickSession(sessionId: $id) { id } }';

/** Kicks `count` sessions on `a`, each checked on `b` before (cached) and after (must be refused). */
async function kicks(a: GraphQLTarget, b: GraphQLTarget, adminCookie: string, app: App, userId: string) {
  const sessions = await insertOpenSessions(app.db, [userId], KICKS);
  const kickMs: number[] = [];
  const refusalMs: number[] = [];
  let served = 0;
  for (const { id, token } of sessions) {
    const cookie = { cookie: `gatehouse_session=${token}` };
    await graphql(b, ME, undefined, cookie);
    const startedAt = performance.now();
    await graphql(a, KICK, { id }, { cookie: adminCookie });
    kickMs.push(performance.now() - startedAt);
    const after = await graphql<{ me: { id: string } | null }>(b, ME, undefined, cookie);
    refusalMs.push(performance.now() - startedAt);
    if (after.me !== null) served++;
  }
  return { kick: summary(kickMs), refusal: summary(refusalMs), served };
}

/** NOTIFY and PUBLISH round trips, two rounds each, side by side. */
async function channelTable(databaseUrl: string): Promise<string> {
  const notify: number[] = [];
  const redis: number[] = [];
  for (let round = 0; round < 2; round++) {
    notify.push(...(await notifyRoundTrips(databaseUrl)));
    redis.push(...((await redisRoundTrips()) ?? []));
  }
  const rows = [['channel round trip', 'p50 ms', 'p99 ms']];
  const n = summary(notify);
  rows.push(['PostgreSQL NOTIFY', ms(n.p50), ms(n.p99)]);
  if (redis.length > 0) {
    const r = summary(redis);
    rows.push(
      ['Redis PUBLISH', ms(r.p50), ms(r.p99)],
      ['NOTIFY ÷ PUBLISH', (n.p50 / r.p50).toFixed(2), (n.p99 / r.p99).toFixed(2)],
    );
  } else rows.push(['Redis PUBLISH', 'n/a', 'n/a']);
  return table(rows);
}

type KickResult = Awaited<ReturnType<typeof kicks>>;
const kickRow = (label: string, k: KickResult) => [
  label,
  ...[k.kick.p50, k.kick.p99, k.refusal.p50, k.refusal.p99].map(ms),
  String(k.served),
];

/** Kicks on A checked on A alone, then on a second instance B, two rounds; every instance goes into `instances`. */
async function kickTable(databaseUrl: string, instances: App[]): Promise<string> {
  const a = await startInstance(databaseUrl);
  instances.push(a.app);
  const { cookie: adminCookie } = await login(a.target, ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
  const { createUser } = await graphql<{ createUser: { id: string } }>(
    a.target,
    'mutation { createUser(username: "probe", password: "probe-password") { id } }',
    undefined,
    { cookie: adminCookie },
  );
  const results = [['kick', 'kick p50', 'kick p99', 'refusal p50', 'refusal p99', 'served after']];
  for (let round = 0; round < 2; round++) {
    const alone = await kicks(a.target, a.target, adminCookie, a.app, createUser.id);
    results.push(kickRow(`A alone (round ${round + 1})`, alone));
    const b = await startInstance(databaseUrl);
    instances.push(b.app);
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // A learns of B (heartbeats)
    const pair = await kicks(a.target, b.target, adminCookie, a.app, createUser.id);
    results.push(kickRow(`A, refused on B (round ${round + 1})`, pair));
    await b.app.stop();
    instances.splice(instances.indexOf(b.app), 1);
  }
  return table(results);
}

async function main(): Promise<void> {
  print(`# Revocation: channel round trips and kick → refusal (${describeMachine()})`);
  const name = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const instances: App[] = [];
  try {
    print(await channelTable(url.toString()));
    print();
    print(await kickTable(url.toString(), instances));
  } finally {
    await Promise.all(instances.map((app) => app.stop()));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

await main();
