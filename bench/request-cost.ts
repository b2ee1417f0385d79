/**
 * `npm run bench` (first part; bench/all.ts runs the rest): what a request costs Gatehouse, as
 * ratios to baselines measured in the same run. Each server runs in its own child process; this
 * process only generates load, over loopback, with a fixed number of requests in flight, and
 * reads each server's own CPU time, so that a busy load generator matters less.
 *
 * Scenarios, interleaved round by round (the order rotates, and runs backwards every other
 * round) after one untimed warm-up pass, so that drift on a noisy machine hits them all alike;
 * each reports the median over the rounds:
 *   A floor      Gatehouse, anonymous `{ __typename }`: every protection, no session
 *   B anonymous  `{ me { id } }` with no credentials: the context factory finds nothing
 *   C cookie     `{ me { id username } }` with a valid session cookie: the hot path (cache)
 *   D bearer     the same with `Authorization: Bearer <token>`
 *   E unknown    a well-formed token that matches no session, a different one each time: a
 *                database lookup every time
 *   V verify     `GET /auth/verify` with the cookie: what a reverse proxy asks
 *   Y bare Yoga  graphql-yoga with its defaults and no plugins answering C's shape
 *                (bench/baselines/yoga.ts): the floor C is held to
 *   Z bare Yoga, its body limit off: Y without the one default that costs much (a stream
 *                pipeline per POST body); Gatehouse bounds bodies itself, so this is the
 *                stricter floor
 *   X express    express-session + connect-sqlite3 `GET /me` with its cookie
 *                (bench/baselines/express-session.ts): what V is compared with
 *
 * Knobs (environment): BENCH_CONCURRENCY (50), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (5000),
 * BENCH_ROUNDS (3), BENCH_SCENARIOS (ABCDEVYZX: which ones, in this order within a round; the
 * ratios need A, C with Y and Z, and V with X).
 */
import { randomBytes } from 'node:crypto';
import { ratioFigure, reportFigures, type Figure } from './summary.js';
import {
  createAgent,
  describeMachine,
  loadKnobs,
  login,
  median,
  post,
  prepare,
  prepareGet,
  print,
  runLoad,
  startBenchServer,
  table,
  type BenchServer,
  type GraphQLTarget,
  type LoadResult,
  type PreparedRequest,
} from './support.js';

const { concurrency, warmupMs, durationMs, rounds } = loadKnobs();
const selection = (process.env.BENCH_SCENARIOS ?? 'ABCDEVYZX').toUpperCase();
if (!/^[A-EVYZX]+$/.test(selection)) throw new Error(`BENCH_SCENARIOS=${selection}: expected letters from ABCDEVYZX`);

interface Scenario {
  key: string;
  name: string;
  target: GraphQLTarget;
  server: BenchServer;
  /** Sent in turn when there are several. */
  request: PreparedRequest | readonly PreparedRequest[];
  /** Checks the one response that is parsed; the load run then compares bodies byte for byte. */
  check(status: number, body: string): boolean;
  results: LoadResult[];
}

/** A GraphQL answer with `data` that passes `check`, and no errors. */
const graphQLAnswer = (check: (data: unknown) => boolean) => (status: number, body: string) => {
  const parsed = JSON.parse(body) as { data?: unknown; errors?: unknown };
  return status === 200 && parsed.errors === undefined && check(parsed.data);
};

/** Signs in to the express-session baseline: its session cookie. */
async function expressSessionCookie(target: GraphQLTarget): Promise<string> {
  const result = await post(target, { ...prepareGet('/login'), method: 'POST' });
  const cookie = result.headers['set-cookie']?.[0]?.split(';')[0];
  if (result.status !== 200 || cookie === undefined) throw new Error(`express-session login: ${result.status}`);
  return cookie;
}

/** Scenario E's tokens, sent in turn: far more than are ever in flight at once. */
const UNKNOWN_TOKENS = 4096;

/** Gatehouse's scenarios, A–E and V, against one signed-in admin. */
async function gatehouseScenarios(server: BenchServer, target: GraphQLTarget): Promise<Scenario[]> {
  const session = await login(target, server.adminUsername, server.adminPassword);
  const unknownTokens = Array.from({ length: UNKNOWN_TOKENS }, () => randomBytes(32).toString('base64url'));
  const cookieName = session.cookie.slice(0, session.cookie.indexOf('='));
  const meQuery = '{ me { id username } }';
  const isBenchUser = graphQLAnswer(
    (data) => (data as { me?: { username?: string } }).me?.username === server.adminUsername,
  );
  const isAnonymous = graphQLAnswer((data) => (data as { me?: unknown }).me === null);
  const scenario = (key: string, name: string, request: Scenario['request'], check: Scenario['check']): Scenario => ({
    ...{ key, name, target, server, request, check },
    results: [],
  });
  return [
    scenario(
      'A',
      'floor: anonymous { __typename }',
      prepare('{ __typename }'),
      graphQLAnswer((data) => (data as { __typename?: string }).__typename === 'Query'),
    ),
    scenario('B', 'anonymous { me { id } }', prepare('{ me { id } }'), isAnonymous),
    scenario(
      'C',
      'cookie { me { id username } }',
      prepare(meQuery, undefined, { cookie: session.cookie }),
      isBenchUser,
    ),
    scenario(
      'D',
      'bearer { me { id username } }',
      prepare(meQuery, undefined, { authorization: `Bearer ${session.token}` }),
      isBenchUser,
    ),
    scenario(
      'E',
      'unknown token cookie (DB lookup)',
      // A different token each time: requests for one token in flight at once share a lookup.
      unknownTokens.map((token) => prepare(meQuery, undefined, { cookie: `${cookieName}=${token}` })),
      isAnonymous,
    ),
    scenario(
      'V',
      'GET /auth/verify, cookie',
      prepareGet('/auth/verify', { cookie: session.cookie }),
      (status) => status === 200,
    ),
  ];
}

const yogaScenario = (key: string, name: string, server: BenchServer): Scenario => ({
  ...{ key, name, server, target: { port: server.port, agent: createAgent(concurrency) } },
  request: prepare('{ me { id username } }'),
  check: graphQLAnswer((data) => (data as { me?: { username?: string } }).me?.username === 'bench'),
  results: [],
});

/** The baselines that run: bare Yoga answering C's shape (as it comes, and without its body limit), and express-session's `GET /me`. */
async function baselineScenarios(yoga?: BenchServer, yogaUnlimited?: BenchServer, express?: BenchServer) {
  const scenarios: Scenario[] = [];
  if (yoga) scenarios.push(yogaScenario('Y', 'baseline: bare Yoga { me { id username } }', yoga));
  if (yogaUnlimited) {
    scenarios.push(yogaScenario('Z', 'baseline: bare Yoga, body limit off', yogaUnlimited));
  }
  if (express) {
    const target = { port: express.port, agent: createAgent(concurrency) };
    scenarios.push({
      key: 'X',
      name: 'baseline: express-session GET /me, cookie',
      target,
      server: express,
      request: prepareGet('/me', { cookie: await expressSessionCookie(target) }),
      check: (status, body) => status === 200 && body.includes('"bench"'),
      results: [],
    });
  }
  return scenarios;
}

/** Each scenario must answer what it claims before it is timed; its body is then the reference. */
async function referenceBodies(scenarios: Scenario[]): Promise<Map<Scenario, string>> {
  const bodies = new Map<Scenario, string>();
  for (const scenario of scenarios) {
    const result = await post(scenario.target, [scenario.request].flat()[0]!);
    if (!scenario.check(result.status, result.body)) {
      throw new Error(`scenario ${scenario.key} answered ${result.status} ${result.body}`);
    }
    bodies.set(scenario, result.body);
  }
  return bodies;
}

async function runRounds(scenarios: Scenario[], bodies: Map<Scenario, string>): Promise<void> {
  // One untimed pass first, so that the first timed scenario does not pay for V8's JIT and the
  // first use of each code path.
  for (const scenario of scenarios) {
    const options = { concurrency, warmupMs: 0, durationMs: warmupMs, expectedBody: bodies.get(scenario)! };
    await runLoad(scenario.target, scenario.request, options);
  }
  for (let round = 1; round <= rounds; round++) {
    // The order rotates by one each round and runs backwards every other round, so no scenario
    // always runs first, or right after the same one.
    const shift = (round - 1) % scenarios.length;
    const rotated = [...scenarios.slice(shift), ...scenarios.slice(0, shift)];
    for (const scenario of round % 2 === 0 ? rotated.reverse() : rotated) {
      const options = { concurrency, warmupMs, durationMs, expectedBody: bodies.get(scenario)! };
      const result = await runLoad(scenario.target, scenario.request, options, scenario.server);
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
}

const medianOf = (scenario: Scenario | undefined, pick: (result: LoadResult) => number) =>
  scenario && scenario.results.length > 0 ? median(scenario.results.map(pick)) : NaN;
const rps = (result: LoadResult) => result.requestsPerSecond;
const cpu = (result: LoadResult) => result.serverCpuMicrosPerRequest;

function printTable(scenarios: Scenario[]): void {
  const byKey = (key: string) => scenarios.find((scenario) => scenario.key === key);
  const ratio = (value: number, base: number) => (Number.isNaN(value / base) ? '-' : (value / base).toFixed(2));
  const header = ['scenario', 'req/s', 'vs A', 'vs Y', 'p50 ms', 'p99 ms', 'server µs/req', 'vs A', 'vs Y', 'vs Z'];
  const rows = [[...header, 'failures']];
  for (const scenario of scenarios) {
    const [ownRps, ownCpu] = [medianOf(scenario, rps), medianOf(scenario, cpu)];
    rows.push([
      `${scenario.key} ${scenario.name}`,
      ownRps.toFixed(0),
      ratio(ownRps, medianOf(byKey('A'), rps)),
      ratio(ownRps, medianOf(byKey('Y'), rps)),
      medianOf(scenario, (r) => r.p50Ms).toFixed(2),
      medianOf(scenario, (r) => r.p99Ms).toFixed(2),
      ownCpu.toFixed(0),
      ratio(ownCpu, medianOf(byKey('A'), cpu)),
      ratio(ownCpu, medianOf(byKey('Y'), cpu)),
      ratio(ownCpu, medianOf(byKey('Z'), cpu)),
      String(scenario.results.reduce((sum, r) => sum + r.failures, 0)),
    ]);
  }
  print();
  print(
    `median of ${rounds} rounds. "vs A" / "vs Y" / "vs Z": req/s over the floor's (higher is better), and server ` +
      `CPU per request over the floor's (lower is better), both from this run`,
  );
  print(table(rows));
}

/** The issue's goals: C next to bare Yoga, V next to express-session. */
function headlineFigures(scenarios: Scenario[]): Figure[] {
  const byKey = (key: string) => scenarios.find((scenario) => scenario.key === key);
  const [c, v, y, z, x] = [byKey('C'), byKey('V'), byKey('Y'), byKey('Z'), byKey('X')];
  const figures: Figure[] = [];
  if (c && y) {
    figures.push(
      ratioFigure(
        'cookie { me } throughput',
        'req/s',
        medianOf(c, rps),
        { name: 'bare Yoga', value: medianOf(y, rps) },
        { atLeast: 0.9 },
      ),
      ratioFigure(
        'cookie { me } server CPU/request',
        'µs',
        medianOf(c, cpu),
        { name: 'bare Yoga', value: medianOf(y, cpu) },
        { atMost: 1.1 },
      ),
    );
  }
  if (c && z) {
    figures.push(
      ratioFigure(
        'cookie { me } server CPU/request',
        'µs',
        medianOf(c, cpu),
        { name: 'Yoga, body limit off', value: medianOf(z, cpu) },
        { atMost: 1.1 },
      ),
    );
  }
  if (v && x) {
    figures.push(
      ratioFigure(
        'GET /auth/verify throughput',
        'req/s',
        medianOf(v, rps),
        { name: 'express-session', value: medianOf(x, rps) },
        { atLeast: 1 },
      ),
    );
  }
  return figures;
}

const gatehouse = await startBenchServer();
const yoga = selection.includes('Y') ? await startBenchServer({ script: 'baselines/yoga.ts' }) : undefined;
const yogaUnlimited = selection.includes('Z')
  ? await startBenchServer({ script: 'baselines/yoga.ts', env: { BENCH_YOGA_BODY_LIMIT: 'off' } })
  : undefined;
const express = selection.includes('X')
  ? await startBenchServer({ script: 'baselines/express-session.ts' })
  : undefined;
const target: GraphQLTarget = { port: gatehouse.port, agent: createAgent(concurrency) };
const scenarios: Scenario[] = [];
try {
  print(`gatehouse bench: request cost · ${describeMachine()}`);
  print(
    `servers: Gatehouse ${gatehouse.url}${yoga ? `, bare Yoga ${yoga.url}` : ''}` +
      `${yogaUnlimited ? `, bare Yoga without body limit ${yogaUnlimited.url}` : ''}` +
      `${express ? `, express-session ${express.url}` : ''} ` +
      `(child processes, NODE_ENV=production) · ${concurrency} in flight · ` +
      `${warmupMs} ms warm-up + ${durationMs} ms per scenario · ${rounds} rounds`,
  );
  const all = [
    ...(await gatehouseScenarios(gatehouse, target)),
    ...(await baselineScenarios(yoga, yogaUnlimited, express)),
  ];
  scenarios.push(...[...selection].map((key) => all.find((scenario) => scenario.key === key)!));
  await runRounds(scenarios, await referenceBodies(scenarios));
  printTable([...new Set(scenarios)]);
  reportFigures('request cost against the baselines', headlineFigures([...new Set(scenarios)]));
  if (scenarios.some((scenario) => scenario.results.some((r) => r.failures > 0))) process.exitCode = 1;
} finally {
  for (const agent of new Set([target.agent, ...scenarios.map((scenario) => scenario.target.agent)])) agent.destroy();
  await Promise.all([gatehouse.stop(), yoga?.stop(), yogaUnlimited?.stop(), express?.stop()]);
}
