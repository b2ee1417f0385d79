/**
 * `npm run bench:webhooks`: what a webhook costs the sessions it reports on. Two servers side by
 * side (bench/server.ts, production, SQLite), the same sessions in each, one with a webhook
 * subscribed to SESSION_ENDED pointing at a receiver in this process, one with none. The same
 * number of `kickSession` mutations goes to each, in alternating rounds with several in flight:
 * - kicks per second with the webhook against without it (the outbox row is written by a trigger
 *   in the kick's own transaction; the delivery happens after, off the request path);
 * - delivery lag: from the moment a kick was acknowledged to the moment its `session.ended`
 *   reached the receiver (at least once: duplicates are counted by `webhook-id`, and every kick
 *   must arrive), while the kicks saturate the server, and then for kicks sent one at a time.
 *
 * Sessions are written straight into each server's file from this process (setup, not measured).
 * Knobs: BENCH_KICKS (10000), BENCH_KICK_ROUNDS (5), BENCH_IN_FLIGHT (8), BENCH_LONE_KICKS (200).
 */
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { boundFigure, ratioFigure, reportFigures } from './summary.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  login,
  median,
  percentile,
  print,
  startBenchServer,
  table,
  type BenchServer,
  type GraphQLTarget,
} from './support.js';
import { inServerDatabase, insertOpenSessions, insertUsers } from './seed.js';

const KICKS = envNumber('BENCH_KICKS', 10_000, 1_000_000, { integer: true });
const ROUNDS = envNumber('BENCH_KICK_ROUNDS', 5, 100, { integer: true });
const IN_FLIGHT = envNumber('BENCH_IN_FLIGHT', 8, 256, { integer: true });
const LONE_KICKS = envNumber('BENCH_LONE_KICKS', 200, 10_000, { integer: true });
/** How long the last deliveries may take to arrive once every kick is acknowledged. */
const DRAIN_TIMEOUT_MS = 60_000;
const KICK = 'mutation($id: ID!) { kickSession(sessionId: $id) { id } }';

/** A receiver that answers 204 at once and notes when each session's end arrived. */
async function startReceiver() {
  const arrivedAt = new Map<string, number>();
  const seenIds = new Set<string>();
  let duplicates = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = performance.now();
      const id = String(req.headers['webhook-id']);
      if (seenIds.has(id)) duplicates++;
      seenIds.add(id);
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { sessionId?: string } };
      if (event.data.sessionId && !arrivedAt.has(event.data.sessionId)) arrivedAt.set(event.data.sessionId, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/gatehouse`,
    arrivedAt,
    duplicates: () => duplicates,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Side {
  name: string;
  server: BenchServer;
  target: GraphQLTarget;
  cookie: string;
  sessions: string[];
  kicksPerSecond: number[];
  /** When each kick was acknowledged (its mutation answered), by session id. */
  acknowledgedAt: Map<string, number>;
}

async function startSide(name: string): Promise<Side> {
  const server = await startBenchServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'on' } });
  const target = { port: server.port, agent: createAgent(IN_FLIGHT) };
  const sessions = await inServerDatabase(server.databasePath, async (trx) => {
    const seeded = await insertOpenSessions(trx, await insertUsers(trx, 'kicked', 1), KICKS + LONE_KICKS);
    return seeded.map((session) => session.id);
  });
  const { cookie } = await login(target, server.adminUsername, server.adminPassword);
  return { name, server, target, cookie, sessions, kicksPerSecond: [], acknowledgedAt: new Map() };
}

/** Kicks `ids` with `inFlight` at a time; kicks per second. */
async function kickAll(side: Side, ids: string[], inFlight = IN_FLIGHT): Promise<number> {
  let next = 0;
  const startedAt = performance.now();
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      await graphql(side.target, KICK, { id }, { cookie: side.cookie });
      side.acknowledgedAt.set(id, performance.now());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (ids.length / (performance.now() - startedAt)) * 1000;
}

/** Waits until `arrived()` says so, or the drain timeout passes. */
async function drain(arrived: () => boolean): Promise<void> {
  const until = performance.now() + DRAIN_TIMEOUT_MS;
  while (!arrived() && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function lags(side: Side, arrivedAt: Map<string, number>, ids: string[]): number[] {
  const lag: number[] = [];
  for (const id of ids) {
    const acknowledged = side.acknowledgedAt.get(id);
    const arrived = arrivedAt.get(id);
    if (acknowledged === undefined) continue;
    if (arrived !== undefined) lag.push(arrived - acknowledged);
  }
  return lag.sort((a, b) => a - b);
}

const lagColumns = (sorted: number[]) =>
  [percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.at(-1) ?? NaN].map((ms) => ms.toFixed(1));

print(`gatehouse bench: webhooks · ${describeMachine()}`);
const receiver = await startReceiver();
const sides: Side[] = [];
try {
  sides.push(await startSide('one webhook'), await startSide('no webhook'));
  const [hooked, plain] = sides as [Side, Side];
  await graphql(
    hooked.target,
    'mutation($url: String!) { createWebhook(url: $url, events: [SESSION_ENDED]) { secret } }',
    { url: receiver.url },
    { cookie: hooked.cookie },
  );
  print(
    `${KICKS} kicks on each server, ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds; receiver ${receiver.url}`,
  );
  const perRound = Math.ceil(KICKS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const batch = side.sessions.slice(round * perRound, (round + 1) * perRound);
      side.kicksPerSecond.push(await kickAll(side, batch));
    }
  }
  await drain(() => receiver.arrivedAt.size >= KICKS);
  const lag = lags(hooked, receiver.arrivedAt, hooked.sessions.slice(0, KICKS));
  const lone = hooked.sessions.slice(KICKS);
  for (const id of lone) {
    await kickAll(hooked, [id], 1);
    await drain(() => receiver.arrivedAt.has(id));
  }
  const loneLag = lags(hooked, receiver.arrivedAt, lone);
  const missing = KICKS + LONE_KICKS - receiver.arrivedAt.size;

  print();
  print(
    table([
      ['', 'kicks/s (median of rounds)', 'per round'],
      ...sides.map((side) => [
        side.name,
        median(side.kicksPerSecond).toFixed(0),
        side.kicksPerSecond.map((rate) => rate.toFixed(0)).join(' '),
      ]),
    ]),
  );
  print();
  print(
    table([
      ['delivery lag, kick acknowledged → received', 'p50 ms', 'p99 ms', 'longest ms'],
      [`kicks saturating the server (${IN_FLIGHT} in flight)`, ...lagColumns(lag)],
      [`kicks one at a time (${LONE_KICKS})`, ...lagColumns(loneLag)],
    ]),
  );
  print(
    table([
      ['deliveries', ''],
      ['delivered / kicks', `${receiver.arrivedAt.size} / ${KICKS + LONE_KICKS}`],
      ['duplicate deliveries (same webhook-id)', String(receiver.duplicates())],
    ]),
  );
  reportFigures('webhooks', [
    ratioFigure(
      'kicks/s with one webhook',
      '/s',
      median(hooked.kicksPerSecond),
      { name: 'no webhook', value: median(plain.kicksPerSecond) },
      { atLeast: 0.9 },
    ),
    boundFigure('delivery lag p99, kicks one at a time', 'ms', percentile(loneLag, 0.99), 100),
    boundFigure('delivery lag p99, kicks saturating', 'ms', percentile(lag, 0.99), 1000),
    boundFigure('kicks never delivered', '', missing, 0),
  ]);
  if (missing > 0) process.exitCode = 1;
} finally {
  for (const side of sides) {
    side.target.agent.destroy();
    await side.server.stop();
  }
  await receiver.close();
}
