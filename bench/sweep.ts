/**
 * `npm run bench:sweep`: the scheduled sweeper over BENCH_SESSIONS expired sessions on SQLite (the
 * production code path, bench/server.ts running dist/, SWEEP_INTERVAL=1s), while a closed loop
 * of cookie-authenticated `{ me }` runs:
 * - how fast it ends them: the server reports each sweeper run and its duration over the IPC
 *   channel; the time for 1,000,000 rows is projected from the rate when BENCH_SESSIONS is smaller;
 * - the longest the server's event loop was blocked during the sweep (monitorEventLoopDelay in
 *   the server), and `{ me }` p50/p99/max during the sweep next to the same loop just before it;
 * - the server's RSS before and after (after a full GC);
 * - a SIGTERM in the middle of a second sweep: the exit code, how long the exit took, and that
 *   the batch in flight was finished (every ended session has its audit event, some are left).
 *
 * Rows are written straight into the server's file from this process (one INSERT … SELECT over
 * a recursive CTE, a single transaction, so the sweeper sees all of them or none): sessions
 * created 1 ms apart, as logins arrive, a day past their idle timeout and expiry.
 *
 * Knobs: BENCH_SESSIONS (1000000), BENCH_USERS (1: whose sessions they are, round robin),
 * BENCH_BASELINE_MS (5000).
 */
import { performance } from 'node:perf_hooks';
import knex, { type Knex } from 'knex';
import { insertExpiredSessions } from './seed.js';
import { boundFigure, floorFigure, ratioFigure, reportFigures } from './summary.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  login,
  meLoop,
  print,
  startBenchServer,
  table,
  type BenchServer,
  type LoopLatencies,
} from './support.js';

const SESSIONS = envNumber('BENCH_SESSIONS', 1_000_000, 10_000_000, { integer: true });
const USERS = envNumber('BENCH_USERS', 1, 1_000_000, { integer: true });
const BASELINE_MS = envNumber('BENCH_BASELINE_MS', 5_000, 60_000, { integer: true });
/** The goal is stated for a million rows. */
const GOAL_ROWS = 1_000_000;
/** Generous: the sweeper before issue 13 ended ~870 rows/s. */
const SWEEP_TIMEOUT_MS = 60_000 + SESSIONS * 2;

/** Waits until the server's sweeper runs have ended `count` sessions; returns those runs. */
async function sweptRuns(server: BenchServer, count: number) {
  const runs: Array<{ expired: number; durationMs: number }> = [];
  const deadline = performance.now() + SWEEP_TIMEOUT_MS;
  while (runs.reduce((sum, run) => sum + run.expired, 0) < count) {
    if (performance.now() > deadline) throw new Error(`the sweep did not end ${count} sessions in time`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    runs.push(...(await server.sweeps()));
  }
  return runs;
}

const counted = async (db: Knex, sql: string, tag: string) =>
  Number(((await db.raw(sql, [`${tag}-%`])) as Array<{ n: number }>)[0]?.n ?? NaN);

/**
 * A second sweep of `SESSIONS` rows, stopped by SIGTERM once its first batch is in: the exit,
 * and what the stop left (read from the file once the server is gone).
 */
async function sigtermMidSweep(server: BenchServer, db: Knex) {
  await insertExpiredSessions(db, 'term', SESSIONS, USERS);
  const deadline = performance.now() + SWEEP_TIMEOUT_MS;
  for (;;) {
    const [row] = (await db.raw(
      "SELECT 1 AS found FROM sessions WHERE user_id = 'term-0' AND ended_at IS NOT NULL LIMIT 1",
    )) as unknown[];
    if (row) break;
    if (performance.now() > deadline) throw new Error('the second sweep did not start');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const exit = await server.terminate();
  const ended = await counted(
    db,
    'SELECT count(*) AS n FROM sessions WHERE user_id LIKE ? AND ended_at IS NOT NULL',
    'term',
  );
  const audited = await counted(
    db,
    "SELECT count(*) AS n FROM auth_events WHERE user_id LIKE ? AND type = 'SESSION_ENDED' AND reason = 'EXPIRED'",
    'term',
  );
  return { exit, ended, audited };
}

function latencyRows(idle: LoopLatencies, busy: LoopLatencies, idleDelay: number, busyDelay: number) {
  const row = (name: string, r: LoopLatencies, delay: number) => [
    name,
    String(r.count),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.max.toFixed(1),
    delay.toFixed(1),
  ];
  return table([
    ['{ me } in a closed loop', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'server loop blocked, max ms'],
    row('idle (before)', idle, idleDelay),
    row('during the sweep', busy, busyDelay),
    ['ratio', '', (busy.p50 / idle.p50).toFixed(2), (busy.p99 / idle.p99).toFixed(2), '', ''],
  ]);
}

/** `{ me }` idle, then the seeding, then `{ me }` while the sweeper ends every seeded row. */
async function sweepUnderLoad(server: BenchServer, db: Knex) {
  const target = { port: server.port, agent: createAgent(1) };
  const { cookie } = await login(target, server.adminUsername, server.adminPassword);
  const rssBefore = (await server.memory()).rss;
  await server.loopDelay();
  const idleLoop = meLoop(target, cookie);
  await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
  const idle = await idleLoop.stop();
  const idleDelay = await server.loopDelay();

  const seedStarted = performance.now();
  await insertExpiredSessions(db, 'swept', SESSIONS, USERS);
  print(`seeded in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  await server.loopDelay(); // forget what the seeding did to the server
  const busyLoop = meLoop(target, cookie);
  const runs = await sweptRuns(server, SESSIONS);
  const busy = await busyLoop.stop();
  const busyDelay = await server.loopDelay();
  const rssAfter = (await server.memory()).rss;
  return { idle, idleDelay, busy, busyDelay, runs, rssBefore, rssAfter };
}

async function main(): Promise<void> {
  print(
    `# The sweeper over ${SESSIONS.toLocaleString('en')} expired sessions of ${USERS} user(s) (${describeMachine()})`,
  );
  const server = await startBenchServer({ env: { SWEEP_INTERVAL: '1s' }, nodeFlags: ['--expose-gc'] });
  const db = knex({ client: 'sqlite3', connection: { filename: server.databasePath }, useNullAsDefault: true });
  try {
    const { idle, idleDelay, busy, busyDelay, runs, rssBefore, rssAfter } = await sweepUnderLoad(server, db);

    const sweptMs = runs.reduce((sum, run) => sum + run.durationMs, 0);
    const rate = (SESSIONS / sweptMs) * 1000;
    const runList = runs.map((run) => `${run.expired} in ${(run.durationMs / 1000).toFixed(2)} s`).join(', ');
    print(
      `${SESSIONS.toLocaleString('en')} expired sessions ended in ${(sweptMs / 1000).toFixed(2)} s of sweeping (${runList})`,
    );
    print(`${rate.toFixed(0)} rows/s; RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MB`);
    print();
    print(latencyRows(idle, busy, idleDelay.maxMs, busyDelay.maxMs));

    const term = await sigtermMidSweep(server, db);
    const stoppedMidSweep = term.ended < SESSIONS;
    print();
    print(
      `SIGTERM during a second sweep: exit code ${term.exit.code ?? term.exit.signal} after ${term.exit.ms.toFixed(0)} ms; ` +
        `${term.ended} of ${SESSIONS} ended, ${term.audited} audit events` +
        (stoppedMidSweep ? '' : ' (the sweep was over before the signal: run with more BENCH_SESSIONS)'),
    );

    const projected = SESSIONS === GOAL_ROWS ? '' : ` (projected from ${SESSIONS.toLocaleString('en')})`;
    reportFigures(`Sweeper (${SESSIONS.toLocaleString('en')} expired sessions)`, [
      floorFigure('sweep rate', 'rows/s', rate, GOAL_ROWS / 10),
      boundFigure(`time to sweep 1,000,000 expired rows${projected}`, 's', GOAL_ROWS / rate, 10),
      boundFigure('server event loop blocked during the sweep, max', 'ms', busyDelay.maxMs, 20),
      ratioFigure('{ me } p99 during the sweep', 'ms', busy.p99, { name: 'idle', value: idle.p99 }, { atMost: 1.2 }),
      boundFigure('server RSS growth over the sweep', 'MB', (rssAfter - rssBefore) / 2 ** 20, 64),
      boundFigure('exit code of a SIGTERM mid-sweep', '', term.exit.code ?? 128, 0),
      boundFigure('ended sessions missing their audit event after it', 'rows', term.ended - term.audited, 0),
    ]);
  } finally {
    await db.destroy();
    await server.stop();
  }
}

await main();
