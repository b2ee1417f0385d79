/**
 * `npm run bench:login-storm` (also part of `npm run bench`): signed-in users while a storm of
 * logins keeps every password-hash slot busy.
 *
 * 1. The raw hash rate: argon2id verifies per second in this process, one per core in flight,
 *    with nothing else running: the most logins per second this machine could ever do.
 * 2. Idle: a probe of cookie-authenticated `{ me { id username } }`, one at a time and one
 *    every few milliseconds (what a signed-in user's page does, not a load of its own), and its
 *    p50 and p99.
 * 3. Storm: the same probe while logins of many accounts run with far more in flight than there
 *    are cores, so that hashing saturates: `{ me }` p99 against its idle p99, and logins per
 *    second against the raw hash rate.
 *
 * Knobs (environment): BENCH_STORM_MS (8000), BENCH_STORM_LOGINS_IN_FLIGHT (16),
 * BENCH_STORM_PROBE_GAP_MS (5: the pause between two probes).
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { boundFigure, ratioFigure, reportFigures } from './summary.js';
import {
  createAccounts,
  createAgent,
  describeMachine,
  envNumber,
  login,
  post,
  prepare,
  print,
  percentile,
  startBenchServer,
  table,
  type GraphQLTarget,
  type PreparedRequest,
  type ServerStats,
} from './support.js';

const stormMs = envNumber('BENCH_STORM_MS', 8000, 120_000);
const loginsInFlight = envNumber('BENCH_STORM_LOGINS_IN_FLIGHT', 16, 256, { integer: true });
const probeGapMs = envNumber('BENCH_STORM_PROBE_GAP_MS', 5, 1000);
/** Logins before anything is measured, so that the login path runs compiled. */
const WARMUP_MS = 2000;
/** The parameters src/sessions/passwords.ts uses (OWASP's argon2id floor); 2 is Argon2id. */
const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Runs `operation` with `inFlight` at a time until `ms` have passed; how many finished, and per second. */
async function closedLoop(inFlight: number, ms: number, operation: (index: number) => Promise<void>) {
  const until = performance.now() + ms;
  let started = 0;
  let finished = 0;
  const worker = async () => {
    while (performance.now() < until) {
      await operation(started++);
      finished++;
    }
  };
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { finished, perSecond: (finished / (performance.now() - startedAt)) * 1000 };
}

interface ProbeResult {
  count: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
}

/** One request at a time, `probeGapMs` apart, for `ms`: the latency a light user sees. */
async function probeLatency(target: GraphQLTarget, request: PreparedRequest, expectedBody: string, ms: number) {
  const latencies: number[] = [];
  let failures = 0;
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const startedAt = performance.now();
    const result = await post(target, request).catch(() => undefined);
    if (result?.status === 200 && result.body === expectedBody) latencies.push(performance.now() - startedAt);
    else failures++;
    await new Promise((resolve) => setTimeout(resolve, probeGapMs));
  }
  latencies.sort((a, b) => a - b);
  const result: ProbeResult = {
    count: latencies.length,
    failures,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
  return result;
}

/** Verifies per second with one per core in flight, and the CPU time one verify takes. */
async function rawHashRate() {
  const reference = await hash('bench-password-123', ARGON2ID);
  await verify(reference, 'bench-password-123');
  const cpuBefore = process.cpuUsage();
  const { finished, perSecond } = await closedLoop(availableParallelism(), 3000, async () => {
    if (!(await verify(reference, 'bench-password-123'))) throw new Error('argon2 verify failed');
  });
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond, cpuMsPerHash: (cpu.user + cpu.system) / 1000 / finished };
}

/**
 * Where a login's CPU goes, which bounds the storm's rate: every login is one hash plus the
 * server's own work around it (HTTP, GraphQL, SQL, cookies), and all of it shares the cores.
 */
function costTable(hashCpuMs: number, logins: number, before: ServerStats, after: ServerStats): string {
  const serverCpuMs = (after.cpuMicros - before.cpuMicros) / 1000 / logins;
  const loopMs = (after.loopActiveMs - before.loopActiveMs) / logins;
  const ceiling = hashCpuMs / serverCpuMs;
  return table([
    ['CPU per login in the storm (server process)', 'ms'],
    ['all threads', serverCpuMs.toFixed(2)],
    ['event loop busy (HTTP, GraphQL, SQL; no hashing)', loopMs.toFixed(2)],
    ['one argon2id verify, raw (this process)', hashCpuMs.toFixed(2)],
    ['ceiling of logins/s ÷ raw hash rate: hash ÷ all threads', ceiling.toFixed(2)],
  ]);
}

print(`gatehouse bench: login storm · ${describeMachine()}`);
const raw = await rawHashRate();
const server = await startBenchServer();
const meTarget: GraphQLTarget = { port: server.port, agent: createAgent(1) };
const loginTarget: GraphQLTarget = { port: server.port, agent: createAgent(loginsInFlight) };
try {
  print(`server ${server.url} (child process, SQLite temp file, NODE_ENV=production)`);
  const { cookie } = await login(meTarget, server.adminUsername, server.adminPassword);
  const accounts = await createAccounts(meTarget, cookie, 'storm', loginsInFlight);
  const me = prepare('{ me { id username } }', undefined, { cookie });
  const expectedBody = (await post(meTarget, me)).body;
  const probe = () => probeLatency(meTarget, me, expectedBody, stormMs);

  let loginFailures = 0;
  const storm = (ms: number) =>
    closedLoop(loginsInFlight, ms, async (index) => {
      const account = accounts[index % accounts.length]!;
      await login(loginTarget, account.username, account.password).catch(() => loginFailures++);
    });
  // Warm-up, untimed: both paths compiled and the hash threads started before anything counts.
  await Promise.all([probe(), storm(WARMUP_MS)]);
  loginFailures = 0;
  const idle = await probe();
  const statsBefore = await server.stats();
  const [stormed, logins] = await Promise.all([probe(), storm(stormMs)]);
  const statsAfter = await server.stats();
  const loginsPerSecond = logins.perSecond;

  print();
  print(
    table([
      ['', '{ me } p50 ms', '{ me } p99 ms', '{ me } probes', 'logins/s', 'failures'],
      ['idle', idle.p50Ms.toFixed(2), idle.p99Ms.toFixed(2), String(idle.count), '-', String(idle.failures)],
      [
        `storm (${loginsInFlight} logins in flight)`,
        stormed.p50Ms.toFixed(2),
        stormed.p99Ms.toFixed(2),
        String(stormed.count),
        loginsPerSecond.toFixed(1),
        String(stormed.failures + loginFailures),
      ],
      ['raw argon2id verifies, this process', '-', '-', '-', raw.perSecond.toFixed(1), '-'],
    ]),
  );
  print();
  print(costTable(raw.cpuMsPerHash, logins.finished, statsBefore, statsAfter));
  reportFigures('login storm', [
    ratioFigure(
      '{ me } p99 during a login storm',
      'ms',
      stormed.p99Ms,
      { name: 'idle', value: idle.p99Ms },
      { atMost: 3 },
    ),
    ratioFigure(
      'logins per second in the storm',
      '/s',
      loginsPerSecond,
      { name: 'raw hash rate', value: raw.perSecond },
      { atLeast: 0.8 },
    ),
    boundFigure('failed requests during the storm', '', stormed.failures + loginFailures, 0),
  ]);
} finally {
  meTarget.agent.destroy();
  loginTarget.agent.destroy();
  await server.stop();
}
