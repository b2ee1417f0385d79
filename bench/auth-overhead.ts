/**
 * `npm run bench`: what authentication costs a GraphQL request, as ratios to Yoga's own floor
 * measured in the same run. The server runs in a child process (bench/server.ts); this process
 * only generates load, over loopback, with a fixed number of requests in flight.
 *
 * Scenarios, interleaved round by round (A B C D E, then A E D C B, then C D E A B, …: the order
 * rotates, and runs backwards every other round) after one untimed warm-up pass, so that drift on a noisy machine hits them all alike; each reports
 * the median over the rounds:
 *   A floor      anonymous `{ __typename }`: Yoga, no resolver touches a session
 *   B anonymous  `{ me { id } }` with no credentials: the context factory finds nothing
 *   C cookie     `{ me { id username } }` with a valid session cookie: the hot path (cache)
 *   D bearer     the same with `Authorization: Bearer <token>`
 *   E unknown    a well-formed token that matches no session: a database lookup every time
 *
 * Knobs (environment): BENCH_CONCURRENCY (32), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (5000),
 * BENCH_ROUNDS (3), BENCH_SCENARIOS (ABCDE: which ones, in this order within a round; ratios
 * need A).
 */
import { randomBytes } from 'node:crypto';
import {
  createAgent,
  describeMachine,
  envNumber,
  login,
  median,
  post,
  prepare,
  print,
  runLoad,
  startBenchServer,
  table,
  type GraphQLTarget,
  type LoadResult,
  type PreparedRequest,
} from './support.js';

const concurrency = envNumber('BENCH_CONCURRENCY', 32, 1024);
const warmupMs = envNumber('BENCH_WARMUP_MS', 1000, 60_000);
const durationMs = envNumber('BENCH_DURATION_MS', 5000, 120_000);
const rounds = envNumber('BENCH_ROUNDS', 3, 20);
const selection = (process.env.BENCH_SCENARIOS ?? 'ABCDE').toUpperCase();
if (!/^[A-E]+$/.test(selection)) throw new Error(`BENCH_SCENARIOS=${selection}: expected letters from ABCDE`);

interface Scenario {
  key: string;
  name: string;
  request: PreparedRequest;
  /** Checks the one response that is parsed; the load run then compares bodies byte for byte. */
  check(data: unknown): boolean;
  results: LoadResult[];
}

const server = await startBenchServer();
const agent = createAgent(concurrency);
const target: GraphQLTarget = { port: server.port, agent };

try {
  print(`gatehouse bench: auth overhead · ${describeMachine()}`);
  print(
    `server ${server.url} (child process, SQLite temp file, NODE_ENV=production) · ${concurrency} in flight · ` +
      `${warmupMs} ms warm-up + ${durationMs} ms per scenario · ${rounds} rounds`,
  );

  const session = await login(target, server.adminUsername, server.adminPassword);
  const unknownToken = randomBytes(32).toString('base64url');
  const cookieName = session.cookie.slice(0, session.cookie.indexOf('='));
  const meQuery = '{ me { id username } }';
  const isBenchUser = (data: unknown) => (data as { me?: { username?: string } }).me?.username === server.adminUsername;
  const isAnonymous = (data: unknown) => (data as { me?: unknown }).me === null;

  const allScenarios: Scenario[] = [
    {
      key: 'A',
      name: 'floor: anonymous { __typename }',
      request: prepare('{ __typename }'),
      check: (data) => (data as { __typename?: string }).__typename === 'Query',
      results: [],
    },
    {
      key: 'B',
      name: 'anonymous { me { id } }',
      request: prepare('{ me { id } }'),
      check: isAnonymous,
      results: [],
    },
    {
      key: 'C',
      name: 'cookie { me { id username } }',
      request: prepare(meQuery, undefined, { cookie: session.cookie }),
      check: isBenchUser,
      results: [],
    },
    {
      key: 'D',
      name: 'bearer { me { id username } }',
      request: prepare(meQuery, undefined, { authorization: `Bearer ${session.token}` }),
      check: isBenchUser,
      results: [],
    },
    {
      key: 'E',
      name: 'unknown token cookie (DB lookup)',
      request: prepare(meQuery, undefined, { cookie: `${cookieName}=${unknownToken}` }),
      check: isAnonymous,
      results: [],
    },
  ];
  const scenarios = [...selection].map((key) => allScenarios.find((scenario) => scenario.key === key)!);

  // Each scenario must answer what it claims before it is timed; its body is then the reference.
  const expectedBodies = new Map<Scenario, string>();
  for (const scenario of scenarios) {
    const result = await post(target, scenario.request);
    const parsed = JSON.parse(result.body) as { data?: unknown; errors?: unknown };
    if (result.status !== 200 || parsed.errors !== undefined || !scenario.check(parsed.data)) {
      throw new Error(`scenario ${scenario.key} answered ${result.status} ${result.body}`);
    }
    expectedBodies.set(scenario, result.body);
  }

  // One untimed pass over every scenario first, so that the first timed one does not pay for
  // the JIT and the first-use costs of the code paths.
  for (const scenario of scenarios) {
    const body = expectedBodies.get(scenario)!;
    await runLoad(target, scenario.request, { concurrency, warmupMs: 0, durationMs: warmupMs, expectedBody: body });
  }

  for (let round = 1; round <= rounds; round++) {
    // The order rotates by one each round and runs backwards every other round, so no scenario
    // always runs first, or right after the same one.
    const shift = (round - 1) % scenarios.length;
    const rotated = [...scenarios.slice(shift), ...scenarios.slice(0, shift)];
    const order = round % 2 === 0 ? rotated.reverse() : rotated;
    for (const scenario of order) {
      const result = await runLoad(
        target,
        scenario.request,
        { concurrency, warmupMs, durationMs, expectedBody: expectedBodies.get(scenario)! },
        server,
      );
      scenario.results.push(result);
      print(
        `  round ${round} ${scenario.key}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
          `server ${result.serverCpuMicrosPerRequest.toFixed(0)} µs CPU/req, ` +
          `loop ${(result.serverLoopUtilization * 100).toFixed(0)}% busy` +
          (result.failures > 0 ? `, ${result.failures} FAILED` : ''),
      );
    }
  }

  const floor = allScenarios[0]!;
  const medianOf = (scenario: Scenario, pick: (result: LoadResult) => number) =>
    scenario.results.length > 0 ? median(scenario.results.map(pick)) : NaN;
  const floorRps = medianOf(floor, (r) => r.requestsPerSecond);
  const floorCpu = medianOf(floor, (r) => r.serverCpuMicrosPerRequest);
  const ratio = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(2));
  const rows = [['scenario', 'req/s', 'vs A', 'p50 ms', 'p99 ms', 'server µs/req', 'vs A', 'failures']];
  for (const scenario of new Set(scenarios)) {
    const rps = medianOf(scenario, (r) => r.requestsPerSecond);
    const cpu = medianOf(scenario, (r) => r.serverCpuMicrosPerRequest);
    rows.push([
      `${scenario.key} ${scenario.name}`,
      rps.toFixed(0),
      ratio(rps / floorRps),
      medianOf(scenario, (r) => r.p50Ms).toFixed(2),
      medianOf(scenario, (r) => r.p99Ms).toFixed(2),
      cpu.toFixed(0),
      ratio(cpu / floorCpu),
      String(scenario.results.reduce((sum, r) => sum + r.failures, 0)),
    ]);
  }
  print();
  print(
    `median of ${rounds} rounds. "vs A": req/s over the floor's req/s (higher is better), and server CPU ` +
      `per request over the floor's (lower is better), both from this run`,
  );
  print(table(rows));

  const failed = allScenarios.some((scenario) => scenario.results.some((r) => r.failures > 0));
  if (failed) process.exitCode = 1;
} finally {
  agent.destroy();
  await server.stop();
}
