/**
 * `npm run bench:sweep`: the scheduled sweeper over 1,000,000 expired sessions on SQLite (the
 * production code path, bench/server.ts, SWEEP_INTERVAL=1s), while a closed loop of
 * cookie-authenticated `{ me }` runs: how long until every row is ended, how long the server's
 * event loop was blocked at most, and `{ me }` latency during the sweep next to the same loop
 * just before it (the baseline). Rows are written straight into the server's file from this
 * process first (setup, not measured).
 *
 * Knobs: BENCH_SESSIONS (1000000), BENCH_BASELINE_MS (5000).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import knex, { type Knex } from 'knex';
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
} from './support.js';

const SESSIONS = envNumber('BENCH_SESSIONS', 1_000_000, 10_000_000, { integer: true });
const BASELINE_MS = envNumber('BENCH_BASELINE_MS', 5_000, 60_000, { integer: true });
/** Rows per INSERT: knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms. */
const SEED_CHUNK = 500;

async function seedExpired(db: Knex): Promise<void> {
  const now = Date.now();
  const userId = randomUUID();
  await db('users').insert({
    id: userId,
    username: 'expired',
    username_key: 'expired',
    password_hash: 'x',
    role: 'USER',
    created_at: now,
    updated_at: now,
  });
  await db.transaction(async (trx) => {
    for (let i = 0; i < SESSIONS; i += SEED_CHUNK) {
      const rows = Array.from({ length: Math.min(SEED_CHUNK, SESSIONS - i) }, (_, j) => ({
        id: randomUUID(),
        user_id: userId,
        token_hash: `seed-${i + j}`,
        created_at: now - 10_000,
        last_seen_at: now - 10_000,
        authenticated_at: now - 10_000,
        expires_at: now - 1_000,
      }));
      await trx('sessions').insert(rows);
    }
  });
}

const openExpired = async (db: Knex) =>
  Number(
    (
      (await db('sessions').whereNull('ended_at').where('expires_at', '<=', Date.now()).count({ n: '*' }).first()) as {
        n: unknown;
      }
    ).n,
  );

function meLoop(port: number, cookie: string) {
  const target = { port, agent: createAgent(1) };
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const startedAt = performance.now();
      await graphql(target, '{ me { id } }', undefined, { cookie });
      latencies.push(performance.now() - startedAt);
    }
  })();
  return async () => {
    running = false;
    await done;
    const sorted = latencies.sort((a, b) => a - b);
    return {
      count: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.at(-1) ?? NaN,
    };
  };
}

async function main(): Promise<void> {
  print(`# The sweeper over ${SESSIONS.toLocaleString('en')} expired sessions (${describeMachine()})`);
  // The first scheduled sweep comes an hour after start: the baseline runs undisturbed, then a
  // sweep is asked for by the server's own schedule restarted with a short interval.
  const server = await startBenchServer({ env: { SWEEP_INTERVAL: '1s' } });
  const db = knex({ client: 'sqlite3', connection: { filename: server.databasePath }, useNullAsDefault: true });
  try {
    const target = { port: server.port, agent: createAgent(1) };
    const { cookie } = await login(target, server.adminUsername, server.adminPassword);
    const idleLoop = meLoop(server.port, cookie);
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const idle = await idleLoop();
    const idleDelay = await server.loopDelay();

    const seedStarted = performance.now();
    await seedExpired(db);
    print(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
    await server.loopDelay(); // forget what the seeding did to the server
    const busyLoop = meLoop(server.port, cookie);
    const startedAt = performance.now();
    while ((await openExpired(db)) > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    const sweptMs = performance.now() - startedAt;
    const busy = await busyLoop();
    const busyDelay = await server.loopDelay();
    print(
      `${SESSIONS.toLocaleString('en')} expired sessions ended within ${(sweptMs / 1000).toFixed(1)} s of being written (sweeps every 1 s)`,
    );
    print();
    const row = (name: string, r: typeof idle, delay: { maxMs: number }) => [
      name,
      String(r.count),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      r.max.toFixed(1),
      delay.maxMs.toFixed(1),
    ];
    print(
      table([
        ['{ me } in a closed loop', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'server loop blocked, max ms'],
        ['idle (before)', ...row('', idle, idleDelay).slice(1)],
        ['during the sweep', ...row('', busy, busyDelay).slice(1)],
        ['ratio', '', (busy.p50 / idle.p50).toFixed(2), (busy.p99 / idle.p99).toFixed(2), '', ''],
      ]),
    );
  } finally {
    await db.destroy();
    await server.stop();
  }
}

await main();
