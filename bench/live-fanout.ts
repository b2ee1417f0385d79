/**
 * `npm run bench:live` (also part of `npm run bench`): how fast a kick reaches every live client
 * of the session, and what an idle live client costs the server.
 *
 * For each size (default 50 sessions × 20 sockets = 1,000, then 500 × 20 = 10,000) a fresh server
 * (bench/server.ts in a child process, SQLite temp file, `NODE_ENV=production`, `--expose-gc`):
 * 1. users and sessions through the public API (`createUser`, `login`), then the baseline: a
 *    cookie-authenticated `{ me { id } }` round trip over HTTP, one at a time;
 * 2. every socket opened (raw `ws` in this process, speaking graphql-transport-ws, the session's
 *    cookie on the upgrade, one `sessionRevoked` subscription each), and the server's memory
 *    after a full GC before and after: RSS per idle socket;
 * 3. every session kicked, one at a time: each kick waits until all its subscribers have their
 *    event (or 5 s), and every subscriber's latency is taken from the moment the mutation was sent;
 * 4. the floor under it: one SQLite commit alone, and one fsync alone, on the same disk.
 *
 * Knobs (environment):
 * - BENCH_LIVE_SIZES (`50,500`): sessions per round, comma-separated;
 * - BENCH_LIVE_SOCKETS_PER_SESSION (20);
 * - BENCH_LIVE_COMMITS (200): commits and fsyncs timed alone;
 * - BENCH_LIVE_HEAP_DIFF (off): `1` also prints what the server's heap grew by per socket, by
 *   kind of object, from two heap snapshots (slow and memory-hungry at 10,000 sockets);
 * - BENCH_LIVE_COMPARE (unset): another checkout (e.g. `/work/main`, built) whose `dist/` is
 *   benched the same way first, each round, for a side-by-side reading.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timeCommits, timeFsyncs } from './commit-cost.js';
import { heapCensus, heapGrowth } from './heap-diff.js';
import { openSubscribers, runKicks, settleCloses, type KickRecord } from './live-kicks.js';
import { reportFigures, type Figure } from './summary.js';
import type { Subscriber } from './subscribers.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  percentile,
  print,
  startBenchServer,
  table,
  type BenchServer,
  type GraphQLTarget,
  type LoopDelay,
  type ServerMemory,
} from './support.js';
import { setUpSessions } from './live-setup.js';

const count = { integer: true };
const perSession = envNumber('BENCH_LIVE_SOCKETS_PER_SESSION', 20, 100, count);
const commitCount = envNumber('BENCH_LIVE_COMMITS', 200, 10_000, count);
const heapDiff = process.env.BENCH_LIVE_HEAP_DIFF === '1';
const compareWith = process.env.BENCH_LIVE_COMPARE || undefined;
const sizes = (process.env.BENCH_LIVE_SIZES || '50,500').split(',').map((raw) => {
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < 1 || value > 2_000) {
    throw new Error(`BENCH_LIVE_SIZES: ${raw} is not a whole number of sessions from 1 to 2000`);
  }
  return value;
});
/** The goals of the issue: kick → every subscriber, p99, by socket count. */
const PUSH_P99_GOAL_MS = (sockets: number) => (sockets <= 1_000 ? 25 : 100);
const KIB_PER_SOCKET_GOAL = 24;

/** What one round measured, on one server build. */
interface RoundResult {
  build: string;
  sessions: number;
  sockets: number;
  /** The first kick, on the fresh server: not among {@link kicks}. */
  warmUp: KickRecord;
  kicks: KickRecord[];
  subscribers: Subscriber[];
  me: number[];
  meWithSockets: number[];
  memory: { before: ServerMemory; opened: ServerMemory; closed: ServerMemory };
  commits: number[];
  fsyncs: number[];
  openSeconds: number;
  /** The server's event-loop delay over the kicks: a stall there shows in every latency. */
  loopDelay: LoopDelay;
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const p = (values: number[], fraction: number) => percentile(sorted(values), fraction);
const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(value < 10 ? 2 : 1));
const kib = (bytes: number) => (bytes / 1024).toFixed(1);

function latencyRow(name: string, values: number[]): string[] {
  return [name, String(values.length), ms(p(values, 0.5)), ms(p(values, 0.99)), ms(p(values, 1))];
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

/** `count` cookie `{ me { id } }` round trips, one at a time, in ms. */
async function meRoundTrips(target: GraphQLTarget, cookie: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await graphql(target, '{ me { id } }', undefined, { cookie });
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * The first kick on a fresh server, not counted: it compiles the mutation's document and takes
 * the kick and push paths through V8 for the first time (25–45 ms here, against 5–25 ms for the
 * kicks after it), and with 50 kicks a round the p99 is the slowest one. Its own session and
 * sockets, opened after the memory was weighed; printed on its own line.
 */
async function warmUpKick(server: BenchServer, target: GraphQLTarget, adminCookie: string, group: Subscriber[]) {
  await openSubscribers(`${server.url.replace(/^http/, 'ws')}/graphql`, group);
  const [kick] = await runKicks(target, adminCookie, group, group.length);
  return kick!;
}

/** Opens the sockets and takes the server's memory around it (and heap snapshots if asked). */
async function openAndWeigh(server: BenchServer, subscribers: Subscriber[]) {
  const before = await server.memory();
  if (!before.afterGc) throw new Error('the server ran without --expose-gc: its memory would not be after GC');
  const snapshotBefore = heapDiff ? await server.heapSnapshot() : undefined;
  const openStart = performance.now();
  await openSubscribers(`${server.url.replace(/^http/, 'ws')}/graphql`, subscribers);
  const openSeconds = (performance.now() - openStart) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 500));
  const opened = await server.memory();
  if (snapshotBefore !== undefined) {
    const growth = heapGrowth(heapCensus(snapshotBefore), heapCensus(await server.heapSnapshot()), subscribers.length);
    print(table(growth.map((row, i) => (i === 0 ? [row[0]!, row[1]!, 'per socket', row[3]!, 'per socket'] : row))));
  }
  return { before, opened, openSeconds };
}

async function runRound(sessions: number, dist: string | undefined): Promise<RoundResult> {
  const build = dist ?? 'this checkout';
  const server = await startBenchServer({ nodeFlags: ['--expose-gc'], dist });
  const target: GraphQLTarget = { port: server.port, agent: createAgent(8) };
  let subscribers: Subscriber[] = [];
  let warmUpGroup: Subscriber[] = [];
  try {
    // One more session than measured: its kick warms the server first (see warmUp).
    const setup = await setUpSessions(target, server, sessions + 1, perSession);
    warmUpGroup = setup.subscribers.slice(0, perSession);
    subscribers = setup.subscribers.slice(perSession);
    const me = await meRoundTrips(target, setup.adminCookie, 600);
    const { before, opened, openSeconds } = await openAndWeigh(server, subscribers);
    // The server closes keep-alive connections idle for 5 s, which opening the sockets may take:
    // a request sent on one as it closes would fail (ECONNRESET). Fresh connections, then.
    target.agent.destroy();
    target.agent = createAgent(8);
    print(`  ${build}: ${subscribers.length} sockets open in ${openSeconds.toFixed(1)} s · ${describeMachine()}`);
    const meWithSockets = await meRoundTrips(target, setup.adminCookie, 500);
    const warmUp = await warmUpKick(server, target, setup.adminCookie, warmUpGroup);
    await server.loopDelay(); // resets the server's record: what follows is the kicks' alone
    const kicks = await runKicks(target, setup.adminCookie, subscribers, perSession);
    const loopDelay = await server.loopDelay();
    await settleCloses(subscribers);
    const closed = await server.memory();
    const commits = await timeCommits(server.databasePath, commitCount);
    const fsyncs = timeFsyncs(server.databasePath, commitCount);
    return {
      ...{ build, sessions, sockets: subscribers.length, warmUp, kicks, subscribers, me: me.slice(100), meWithSockets },
      ...{ memory: { before, opened, closed }, commits, fsyncs, openSeconds, loopDelay },
    };
  } finally {
    for (const subscriber of [...warmUpGroup, ...subscribers]) subscriber.socket?.terminate();
    target.agent.destroy();
    await server.stop();
  }
}

/** Every subscriber's event, its reason and its close, as the contract has them. */
function correctness(round: RoundResult) {
  const missed = round.subscribers.filter((s) => s.arrivedAt === undefined).length;
  const right = round.subscribers.filter(
    (s) =>
      s.events.length === 1 &&
      s.events[0]!.sessionId === s.sessionId &&
      s.events[0]!.reason === 'KICKED' &&
      s.completed &&
      s.close?.code === 4403 &&
      s.close.reason === 'Session ended: KICKED',
  ).length;
  return { missed, right };
}

function printRound(round: RoundResult): void {
  const kickToAll = round.kicks.map((k) => k.lastMs);
  const perSubscriber = round.subscribers.filter((s) => s.arrivedAt !== undefined).map((s) => s.arrivedAt! - s.sentAt!);
  const { missed, right } = correctness(round);
  const { before, opened, closed } = round.memory;
  const perSocket = (to: ServerMemory, key: 'rss' | 'heapUsed' | 'external') => (to[key] - before[key]) / round.sockets;
  print();
  print(`${round.build} · ${round.sessions} sessions × ${perSession} sockets = ${round.sockets}`);
  print(
    table([
      ['latency (mutation sent → …)', 'count', 'p50 ms', 'p99 ms', 'max ms'],
      latencyRow('kick → every subscriber of the session has its event', kickToAll),
      latencyRow('kick → each subscriber has its event', perSubscriber),
      latencyRow(
        'kickSession answer',
        round.kicks.map((k) => k.answerMs),
      ),
      latencyRow('first kick on the fresh server (not counted above)', [round.warmUp.lastMs]),
      latencyRow('one SQLite commit alone (synchronous=FULL, WAL)', round.commits),
      latencyRow('one 4 KiB write + fdatasync alone', round.fsyncs),
      latencyRow('baseline: cookie { me { id } } round trip, no sockets', round.me),
      latencyRow(`baseline: the same, ${round.sockets} sockets open`, round.meWithSockets),
    ]),
  );
  print(`missed events: ${missed}; event, reason, complete and 4403 close all right: ${right}/${round.sockets}`);
  const { maxMs, p99Ms, gcCount, gcMaxMs } = round.loopDelay;
  print(
    `server during the kicks: event loop blocked ${ms(maxMs)} ms at most (p99 ${ms(p99Ms)} ms); ` +
      `${gcCount} garbage collections, the longest ${ms(gcMaxMs)} ms`,
  );
  print(
    table([
      ['server memory after GC', 'rss MB', 'heap MB', 'external MB', 'rss KiB/socket', 'heap KiB/socket'],
      ...(
        [
          ['before opening sockets', before],
          [`${round.sockets} sockets open, idle`, opened],
          ['all closed by the kicks', closed],
        ] as const
      ).map(([name, m]) => [
        name,
        (m.rss / 2 ** 20).toFixed(1),
        (m.heapUsed / 2 ** 20).toFixed(1),
        (m.external / 2 ** 20).toFixed(1),
        kib(perSocket(m, 'rss')),
        kib(perSocket(m, 'heapUsed')),
      ]),
    ]),
  );
}

function withBaseline(name: string, value: number, goalMs: number, me: number): Figure {
  return {
    name,
    value,
    unit: 'ms',
    baseline: { name: '{ me } p99', value: me },
    goal: `≤ ${goalMs} ms`,
    met: value <= goalMs,
  };
}

function figuresOf(rounds: RoundResult[]): Figure[] {
  const figures: Figure[] = [];
  for (const round of rounds) {
    const goal = PUSH_P99_GOAL_MS(round.sockets);
    const p99 = p(
      round.kicks.map((k) => k.lastMs),
      0.99,
    );
    figures.push(withBaseline(`kick → all subscribers p99, ${round.sockets} sockets`, p99, goal, p(round.me, 0.99)));
  }
  const missed = rounds.reduce((sum, round) => sum + correctness(round).missed, 0);
  figures.push({ name: 'missed events (all rounds)', value: missed, unit: '', goal: '≤ 0', met: missed === 0 });
  const first = rounds[0]!;
  const commitP50 = p(first.commits, 0.5);
  const info = (name: string, value: number): Figure => ({ name, value, unit: 'ms', goal: 'floor', met: true });
  figures.push(info('one SQLite commit alone, p50', commitP50), info('one fsync alone, p50', p(first.fsyncs, 0.5)));
  const kickP50 = p(
    first.kicks.map((k) => k.lastMs),
    0.5,
  );
  figures.push(info(`kick → all p50 minus commit p50, ${first.sockets} sockets`, kickP50 - commitP50));
  const largest = rounds.reduce((a, b) => (b.sockets > a.sockets ? b : a));
  const perSocketKiB = (largest.memory.opened.rss - largest.memory.before.rss) / largest.sockets / 1024;
  figures.push({
    ...{ name: `server RSS per idle socket, ${largest.sockets} sockets`, value: perSocketKiB, unit: 'KiB' },
    ...{ goal: `≤ ${KIB_PER_SOCKET_GOAL} KiB`, met: perSocketKiB <= KIB_PER_SOCKET_GOAL },
  });
  return figures;
}

async function main(): Promise<void> {
  const limit = openFileLimit();
  const most = Math.max(...sizes) * perSession;
  // This process holds one descriptor per socket; the server child has its own, the same limit.
  if (limit !== undefined && limit < most + 500) {
    throw new Error(`ulimit -n is ${limit}: ${most} sockets need about ${most + 500}; raise it or lower the knobs`);
  }
  const deadline = setTimeout(() => {
    print('live-fanout: gave up after 30 minutes');
    process.exit(1);
  }, 1_800_000);
  deadline.unref();
  print(`gatehouse bench: live fan-out · ${describeMachine()} · open files limit ${limit ?? 'unknown'}`);
  const rounds: RoundResult[] = [];
  const others: RoundResult[] = [];
  for (const sessions of sizes) {
    if (compareWith) others.push(await runRound(sessions, join(compareWith, 'dist')));
    rounds.push(await runRound(sessions, undefined));
  }
  for (const round of [...others, ...rounds]) printRound(round);
  if (others.length > 0) reportFiguresOf(`live fan-out · ${compareWith}`, others, false);
  reportFiguresOf('live fan-out', rounds, true);
  clearTimeout(deadline);
}

function reportFiguresOf(title: string, rounds: RoundResult[], summary: boolean): void {
  const figures = figuresOf(rounds);
  if (summary) reportFigures(title, figures);
  else print(`${title}: ${figures.map((f) => `${f.name} ${f.value.toFixed(2)} ${f.unit}`).join(' · ')}`);
  if (rounds.some((round) => correctness(round).right !== round.sockets)) process.exitCode = 1;
}

await main();
