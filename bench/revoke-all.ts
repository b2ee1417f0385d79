/**
 * `npm run bench:revoke-all`: `revokeAllSessions` over 100,000 active sessions (ASVS 7.4.5 at
 * scale), on the production code path (bench/server.ts, a SQLite file: one connection, the
 * hardest case for other requests). Measured in the same run:
 * - how long the revocation takes, and how many sessions it ends;
 * - the longest any concurrent `{ me }` waited while it ran, next to the longest wait of the same
 *   closed loop just before it (the baseline);
 * - that each of 1,000 live WebSocket clients among the sessions is told ALL_SESSIONS_REVOKED.
 *
 * Sessions are written straight into the server's file from this process (test setup, not the
 * thing measured). Knobs: BENCH_SESSIONS (100000), BENCH_USERS (1000), BENCH_SUBSCRIBERS (1000),
 * BENCH_BASELINE_MS (5000).
 */
import { performance } from 'node:perf_hooks';
import { connectSubscriber, pool, type Subscriber } from './subscribers.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  login,
  meLoop,
  print,
  startBenchServer,
  table,
  type BenchServer,
} from './support.js';
import { inServerDatabase, insertOpenSessions, insertUsers } from './seed.js';

const SESSIONS = envNumber('BENCH_SESSIONS', 100_000, 1_000_000, { integer: true });
const USERS = envNumber('BENCH_USERS', 1_000, 100_000, { integer: true });
const SUBSCRIBERS = envNumber('BENCH_SUBSCRIBERS', 1_000, 10_000, { integer: true });
const BASELINE_MS = envNumber('BENCH_BASELINE_MS', 5_000, 60_000, { integer: true });

/** How long the revocation may take before the run gives up. */
const REVOKE_TIMEOUT_MS = 300_000;

/** Users and sessions written in one transaction, as the server would have them after logins. */
function seed(databasePath: string): Promise<Array<{ id: string; token: string }>> {
  return inServerDatabase(databasePath, async (trx) =>
    insertOpenSessions(trx, await insertUsers(trx, 'user', USERS), SESSIONS),
  );
}

/** A live subscriber on each of the first SUBSCRIBERS sessions. */
async function subscribe(server: BenchServer, sessions: Array<{ id: string; token: string }>) {
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
  const subscribers: Subscriber[] = sessions.slice(0, SUBSCRIBERS).map(({ id, token }, userIndex) => ({
    ...{ userIndex, sessionId: id, cookie: `gatehouse_session=${token}` },
    ...{ events: [], completed: false },
  }));
  await pool(subscribers, 50, (subscriber) => connectSubscriber(wsUrl, subscriber));
  return subscribers;
}

/** `{ me }` idle for BASELINE_MS, then `{ me }` while revokeAllSessions runs. */
async function revokeUnderLoad(server: BenchServer, cookie: string) {
  const baseline = meLoop({ port: server.port, agent: createAgent(1) }, cookie);
  await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
  const idle = await baseline.stop();
  const during = meLoop({ port: server.port, agent: createAgent(1) }, cookie);
  const startedAt = performance.now();
  // A fresh connection: one idle past the server's keep-alive timeout may be closed under it.
  const { revokeAllSessions } = await graphql<{ revokeAllSessions: number }>(
    { port: server.port, agent: createAgent(1) },
    'mutation { revokeAllSessions }',
    undefined,
    { cookie },
    REVOKE_TIMEOUT_MS,
  );
  const totalMs = performance.now() - startedAt;
  const busy = await during.stop();
  return { idle, busy, revoked: revokeAllSessions, totalMs };
}

async function main(): Promise<void> {
  print(`# revokeAllSessions over ${SESSIONS.toLocaleString('en')} sessions (${describeMachine()})`);
  const server = await startBenchServer();
  try {
    const target = { port: server.port, agent: createAgent(4) };
    const seedStarted = performance.now();
    const sessions = await seed(server.databasePath);
    print(
      `seeded ${SESSIONS} sessions of ${USERS} users in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
    );
    const subscribers = await subscribe(server, sessions);
    const { cookie } = await login(target, server.adminUsername, server.adminPassword);
    const { idle, busy, revoked, totalMs } = await revokeUnderLoad(server, cookie);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const told = subscribers.filter((s) => s.events.length === 1 && s.events[0]?.reason === 'ALL_SESSIONS_REVOKED');

    print();
    print(
      table([
        ['revokeAllSessions', 'value'],
        ['sessions ended', revoked.toLocaleString('en')],
        ['total', `${(totalMs / 1000).toFixed(2)} s`],
        ['sessions per second', Math.round(revoked / (totalMs / 1000)).toLocaleString('en')],
        ['live clients told ALL_SESSIONS_REVOKED', `${told.length}/${SUBSCRIBERS}`],
      ]),
    );
    print();
    const row = (name: string, r: typeof idle) => [
      name,
      String(r.count),
      ...[r.p50, r.p99, r.max].map((v) => v.toFixed(2)),
    ];
    print(
      table([
        ['{ me } in a closed loop', 'requests', 'p50 ms', 'p99 ms', 'longest ms'],
        row(`idle, ${BASELINE_MS / 1000} s before`, idle),
        row('during revokeAllSessions', busy),
      ]),
    );
    if (revoked !== SESSIONS || told.length !== SUBSCRIBERS) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

await main();
