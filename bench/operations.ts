/**
 * `npm run bench:operations`: what operations cost, measured side by side in one run.
 *
 * 1. The request histogram: cookie-authenticated `{ me { id username } }` against two servers
 *    in production, one collecting metrics (METRICS_TOKEN set: every request timed into
 *    `gatehouse_http_request_duration_seconds`) and one without (no token: nothing collected).
 *    Alternated over rounds; throughput and the server's CPU per request, as ratios.
 * 2. The command line: `gatehouse sessions kick <id>` against a running server's SQLite file,
 *    then at once `{ me }` with the kicked cookie. The command's wall time (a Node process
 *    starting, the kick, and the wait until the server has applied it), p50/p99, and how many
 *    answers were still served after it returned (must be 0).
 *
 * Knobs: BENCH_CONCURRENCY (32), BENCH_DURATION_MS (4000), BENCH_WARMUP_MS (1000),
 * BENCH_ROUNDS (3), BENCH_KICKS (20).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  login,
  median,
  percentile,
  prepare,
  print,
  runLoad,
  startBenchServer,
  table,
  type BenchServer,
  type LoadResult,
} from './support.js';

const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 32, 1024, { integer: true });
const DURATION_MS = envNumber('BENCH_DURATION_MS', 4_000, 60_000, { integer: true });
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 1_000, 60_000, { integer: true });
const ROUNDS = envNumber('BENCH_ROUNDS', 3, 20, { integer: true });
const KICKS = envNumber('BENCH_KICKS', 20, 1_000, { integer: true });
const CLI = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const ME = '{ me { id username } }';

async function meLoad(server: BenchServer): Promise<LoadResult> {
  const target = { port: server.port, agent: createAgent(CONCURRENCY) };
  const { cookie } = await login(target, server.adminUsername, server.adminPassword);
  const prepared = prepare(ME, undefined, { cookie });
  const expectedBody = JSON.stringify(await graphql(target, ME, undefined, { cookie }).then((data) => ({ data })));
  return runLoad(
    target,
    prepared,
    { concurrency: CONCURRENCY, warmupMs: WARMUP_MS, durationMs: DURATION_MS, expectedBody },
    server,
  );
}

async function histogramRatio(): Promise<void> {
  const on = await startBenchServer({ env: { METRICS_TOKEN: 'bench-metrics-token-0123456789' } });
  const off = await startBenchServer();
  try {
    const results: Record<'on' | 'off', LoadResult[]> = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        results[which].push(await meLoad(which === 'on' ? on : off));
      }
    }
    const rate = (which: 'on' | 'off') => median(results[which].map((r) => r.requestsPerSecond));
    const cpu = (which: 'on' | 'off') => median(results[which].map((r) => r.serverCpuMicrosPerRequest));
    const failures = [...results.on, ...results.off].reduce((sum, r) => sum + r.failures, 0);
    print(
      table([
        ['{ me } (cookie), production', 'req/s', 'vs off', 'server µs CPU/req', 'vs off'],
        ['metrics off (no METRICS_TOKEN)', rate('off').toFixed(0), '1.00', cpu('off').toFixed(0), '1.00'],
        [
          'metrics on (request histogram)',
          rate('on').toFixed(0),
          (rate('on') / rate('off')).toFixed(2),
          cpu('on').toFixed(0),
          (cpu('on') / cpu('off')).toFixed(2),
        ],
      ]),
    );
    print(`median of ${ROUNDS} rounds, ${CONCURRENCY} in flight; failures: ${failures}`);
  } finally {
    await Promise.all([on.stop(), off.stop()]);
  }
}

function runKick(databasePath: string, sessionId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'sessions', 'kick', sessionId], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: `sqlite:${databasePath}` },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function cliKicks(): Promise<void> {
  const server = await startBenchServer();
  try {
    const target = { port: server.port, agent: createAgent(1) };
    const times: number[] = [];
    let served = 0;
    for (let i = 0; i < KICKS; i++) {
      const { cookie, data } = await login<{ login: { session: { id: string } } }>(
        target,
        server.adminUsername,
        server.adminPassword,
        'session { id }',
      );
      await graphql(target, ME, undefined, { cookie });
      const startedAt = performance.now();
      if ((await runKick(server.databasePath, data.login.session.id)) !== 0)
        throw new Error('gatehouse sessions kick failed');
      times.push(performance.now() - startedAt);
      const after = await graphql<{ me: unknown }>(target, ME, undefined, { cookie });
      if (after.me !== null) served++;
    }
    const sorted = [...times].sort((a, b) => a - b);
    print(
      table([
        ['gatehouse sessions kick, then { me } on the server', 'p50 ms', 'p99 ms', 'served after'],
        [
          `${KICKS} kicks (process start included)`,
          percentile(sorted, 0.5).toFixed(0),
          percentile(sorted, 0.99).toFixed(0),
          String(served),
        ],
      ]),
    );
    if (served > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

print(`# Operations: the request histogram and the command line (${describeMachine()})`);
await histogramRatio();
print();
await cliKicks();
