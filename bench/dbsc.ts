/**
 * `npm run bench:dbsc`: what device-bound sessions (DBSC, issue 23) cost the server.
 *
 * - Server CPU per `POST /dbsc/register` (the proof verified against its header key, one UPDATE)
 *   and per `POST /dbsc/refresh` (verified against the stored key, one rotating UPDATE; with the
 *   early challenge each refresh is one POST): sessions signed in beforehand, proofs signed
 *   beforehand where they can be, the server's own CPU time over the operations.
 * - The `{ me { id username } }` hot path with a session cookie, for an unbound session (U) and a
 *   bound one (B: both cookies, the bound-cookie check on every request), interleaved round by
 *   round as in bench/request-cost.ts; B's cost over U's is the check's.
 *
 * Knobs (environment): BENCH_CONCURRENCY (50), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (5000),
 * BENCH_ROUNDS (3), BENCH_DBSC_OPERATIONS (200: registrations, and refreshes).
 */
import { boundFigure, ratioFigure, reportFigures } from './summary.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  loadKnobs,
  median,
  post,
  prepare,
  print,
  runLoad,
  startBenchServer,
  table,
  type BenchServer,
  type LoadResult,
} from './support.js';
import { buildProof, challengeOf, DbscClient } from '../test/support/dbsc-client.js';

const { concurrency, warmupMs, durationMs, rounds } = loadKnobs();
const operations = envNumber('BENCH_DBSC_OPERATIONS', 200, 5000, { integer: true });
/** Refreshing sessions at once (each refreshes one after another: a proof signs the last answer's challenge). */
const REFRESHERS = 10;

/** Server CPU (µs) per operation over `count` runs of `work`. */
async function cpuPer(server: BenchServer, count: number, work: () => Promise<void>): Promise<number> {
  const before = await server.stats();
  await work();
  const after = await server.stats();
  return (after.cpuMicros - before.cpuMicros) / count;
}

async function registrationCost(server: BenchServer): Promise<number> {
  const clients: Array<{ client: DbscClient; jwt: string }> = [];
  for (let i = 0; i < operations; i++) {
    const client = await DbscClient.signIn(server.url, server.adminUsername, server.adminPassword, { bind: false });
    const jti = challengeOf(client.registration);
    if (!jti) throw new Error('the login offered no registration: is DBSC on?');
    clients.push({ client, jwt: await buildProof(client.key!, { jti, withJwk: true }) });
  }
  return cpuPer(server, operations, async () => {
    for (let i = 0; i < clients.length; i += REFRESHERS) {
      await Promise.all(
        clients.slice(i, i + REFRESHERS).map(async ({ client, jwt }) => {
          const answer = await client.register({ jwt });
          if (answer.status !== 200) throw new Error(`registration answered ${answer.status}`);
        }),
      );
    }
  });
}

async function refreshCost(server: BenchServer): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: REFRESHERS }, () => DbscClient.signIn(server.url, server.adminUsername, server.adminPassword)),
  );
  const each = Math.ceil(operations / REFRESHERS);
  return cpuPer(server, each * REFRESHERS, async () => {
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < each; i++) {
          // Early challenge: one POST, the proof over the challenge the last answer carried.
          const answer = await client.refresh({ followChallenge: false });
          if (answer.status !== 200) throw new Error(`refresh answered ${answer.status}`);
        }
      }),
    );
  });
}

interface Scenario {
  key: string;
  name: string;
  cookie: string;
  results: LoadResult[];
}

async function hotPath(server: BenchServer): Promise<Scenario[]> {
  const target = { port: server.port, agent: createAgent(concurrency) };
  const unbound = await DbscClient.signIn(server.url, server.adminUsername, server.adminPassword, { bind: false });
  const bound = await DbscClient.signIn(server.url, server.adminUsername, server.adminPassword);
  if (!(await bound.me())) throw new Error('the bound session is not served');
  const scenarios: Scenario[] = [
    { key: 'U', name: 'unbound session, cookie { me }', cookie: unbound.cookieHeader(), results: [] },
    { key: 'B', name: 'bound session, both cookies { me }', cookie: bound.cookieHeader(), results: [] },
  ];
  const query = '{ me { id username } }';
  try {
    const bodies = new Map<Scenario, string>();
    for (const scenario of scenarios) {
      const result = await post(target, prepare(query, undefined, { cookie: scenario.cookie }));
      if (!result.body.includes(server.adminUsername)) throw new Error(`${scenario.key}: ${result.body}`);
      bodies.set(scenario, result.body);
      await runLoad(target, prepare(query, undefined, { cookie: scenario.cookie }), {
        ...{ concurrency, warmupMs: 0, durationMs: warmupMs, expectedBody: result.body },
      });
    }
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of round % 2 === 0 ? [...scenarios].reverse() : scenarios) {
        const options = { concurrency, warmupMs, durationMs, expectedBody: bodies.get(scenario)! };
        const result = await runLoad(target, prepare(query, undefined, { cookie: scenario.cookie }), options, server);
        scenario.results.push(result);
        print(
          `  round ${round} ${scenario.key}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
            `server ${result.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req` +
            (result.failures > 0 ? `, ${result.failures} FAILED` : ''),
        );
      }
    }
  } finally {
    target.agent.destroy();
  }
  return scenarios;
}

const medianOf = (scenario: Scenario, pick: (result: LoadResult) => number) => median(scenario.results.map(pick));

const server = await startBenchServer();
try {
  print(`gatehouse bench: DBSC · ${describeMachine()}`);
  print(
    `server ${server.url} (child process, NODE_ENV=production) · ${operations} registrations and refreshes · ` +
      `{ me }: ${concurrency} in flight, ${warmupMs} ms warm-up + ${durationMs} ms per scenario, ${rounds} rounds`,
  );
  const register = await registrationCost(server);
  const refresh = await refreshCost(server);
  print(`  server CPU per registration ${register.toFixed(0)} µs, per refresh ${refresh.toFixed(0)} µs`);
  const [unbound, bound] = await hotPath(server);
  const rows = [['scenario', 'req/s', 'server µs/req', 'failures']];
  for (const scenario of [unbound!, bound!]) {
    rows.push([
      `${scenario.key} ${scenario.name}`,
      medianOf(scenario, (r) => r.requestsPerSecond).toFixed(0),
      medianOf(scenario, (r) => r.serverCpuMicrosPerRequest).toFixed(0),
      String(scenario.results.reduce((sum, r) => sum + r.failures, 0)),
    ]);
  }
  print();
  print(`median of ${rounds} rounds`);
  print(table(rows));
  const cpuOf = (scenario: Scenario) => medianOf(scenario, (r) => r.serverCpuMicrosPerRequest);
  const rpsOf = (scenario: Scenario) => medianOf(scenario, (r) => r.requestsPerSecond);
  reportFigures('DBSC against an unbound session', [
    ratioFigure(
      'bound { me } server CPU/request',
      'µs',
      cpuOf(bound!),
      { name: 'unbound', value: cpuOf(unbound!) },
      {
        atMost: 1.05,
      },
    ),
    ratioFigure(
      'bound { me } throughput',
      'req/s',
      rpsOf(bound!),
      { name: 'unbound', value: rpsOf(unbound!) },
      {
        atLeast: 0.95,
      },
    ),
    // A refresh comes once per bound cookie lifetime (≈ TTL − 120 s, 8 min by default) per session.
    boundFigure('refresh server CPU', 'µs', refresh, 3000),
    boundFigure('registration server CPU', 'µs', register, 3000),
  ]);
  if ([unbound!, bound!].some((scenario) => scenario.results.some((r) => r.failures > 0))) process.exitCode = 1;
} finally {
  await server.stop();
}
