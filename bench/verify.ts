/**
 * `npm run bench:verify`: what a session check costs another service with `gatehouse/verify`,
 * beside what it costs over HTTP, and how soon a kick reaches it.
 *
 * - Cached `verify()` in this process (the verifier of the build, as a service installs it):
 *   checks per second, one after another, over BENCH_VERIFY_SESSIONS sessions in turn, the event
 *   loop let through every 1,000 checks as a server's would be (the feed's heartbeats must get in:
 *   a run whose cache stopped being trusted is void and says so). µs per check.
 * - Baseline, same run, same machine: `GET /auth/verify` with the session cookie over HTTP to a
 *   Gatehouse in a child process (BENCH_CONCURRENCY in flight, keep-alive): checks per second,
 *   and µs per check as the machine's throughput (1 s / rate) and as one request's p50 latency.
 * - Kick → refusal in an app: an Express app run from this checkout's build (`gatehouse/verify`
 *   through the package's exports) in a child process; BENCH_VERIFY_KICKS rounds of a session
 *   served twice, kicked, then asked for until the app answers 401 (p50/p99).
 *
 * Knobs (environment): BENCH_CONCURRENCY (50), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (5000),
 * BENCH_ROUNDS (3), BENCH_VERIFY_SESSIONS (100), BENCH_VERIFY_KICKS (50).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type * as VerifyTypes from '../src/verify/index.js';
import { waitFor } from '../test/support/async.js';
import { kickRounds, startServiceApp } from '../test/support/service-apps.js';
import { boundFigure, ratioFigure, reportFigures } from './summary.js';
import {
  createAgent,
  describeMachine,
  envNumber,
  graphql,
  loadKnobs,
  login,
  median,
  percentile,
  prepareGet,
  print,
  runLoad,
  startBenchServer,
  table,
  type BenchServer,
  type GraphQLTarget,
} from './support.js';

const { concurrency, warmupMs, durationMs, rounds } = loadKnobs();
const sessions = envNumber('BENCH_VERIFY_SESSIONS', 100, 10_000, { integer: true });
const kicks = envNumber('BENCH_VERIFY_KICKS', 50, 1000, { integer: true });
/** Checks between two turns of the event loop. */
const CHECKS_PER_TURN = 1_000;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
// The build, as a service runs it; the sources through tsx only when there is none.
const built = existsSync(join(repoRoot, 'dist/src/verify/index.js'));
const { createVerifier } = (await import(
  built ? '../dist/src/verify/index.js' : '../src/verify/index.js'
)) as typeof VerifyTypes;

const CREATE_SERVICE_TOKEN = `mutation($name: String!) {
  createServiceToken(name: $name, scopes: [VERIFY_SESSIONS]) { token }
}`;

async function serviceToken(target: GraphQLTarget, cookie: string, name: string): Promise<string> {
  type Created = { createServiceToken: { token: string } };
  return (await graphql<Created>(target, CREATE_SERVICE_TOKEN, { name }, { cookie })).createServiceToken.token;
}

/** Logs nothing but counts the lapses: a run in which the cache stopped being trusted is void. */
function quietLogger() {
  const counts = { lapses: 0 };
  return { counts, logger: { info: () => {}, warn: () => void counts.lapses++, error: () => void counts.lapses++ } };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Cached checks, one after another, for `ms`: checks per second. */
async function cachedRate(verifier: VerifyTypes.Verifier, tokens: readonly string[], ms: number): Promise<number> {
  let checks = 0;
  const startedAt = performance.now();
  const until = startedAt + ms;
  while (performance.now() < until) {
    for (let i = 0; i < CHECKS_PER_TURN; i++) {
      if ((await verifier.verify(tokens[checks++ % tokens.length]!)) === null) throw new Error('a session was refused');
    }
    await nextTurn();
  }
  return (checks / (performance.now() - startedAt)) * 1000;
}

interface Rates {
  cached: number[];
  http: number[];
  httpP50Ms: number[];
}

async function checkRates(server: BenchServer, target: GraphQLTarget, tokens: string[], cookies: string[]) {
  const { counts, logger } = quietLogger();
  const admin = await login(target, server.adminUsername, server.adminPassword);
  const verifier = createVerifier({
    url: server.url,
    serviceToken: await serviceToken(target, admin.cookie, 'bench'),
    logger,
  });
  const rates: Rates = { cached: [], http: [], httpP50Ms: [] };
  try {
    await waitFor('the end feed to prove itself', () => verifier.trusted, { timeoutMs: 10_000 });
    for (const token of tokens) if (!(await verifier.verify(token))) throw new Error('a new session was refused');
    const requests = cookies.map((cookie) => prepareGet('/auth/verify', { cookie }));
    await cachedRate(verifier, tokens, warmupMs);
    await runLoad(target, requests, { concurrency, warmupMs: 0, durationMs: warmupMs, expectedBody: '' });
    for (let round = 1; round <= rounds; round++) {
      const cached = await cachedRate(verifier, tokens, durationMs);
      const http = await runLoad(target, requests, { concurrency, warmupMs, durationMs, expectedBody: '' });
      if (http.failures > 0) throw new Error(`/auth/verify: ${http.failures} failures`);
      rates.cached.push(cached);
      rates.http.push(http.requestsPerSecond);
      rates.httpP50Ms.push(http.p50Ms);
      print(
        `  round ${round}: cached verify() ${cached.toFixed(0)} checks/s (${(1e6 / cached).toFixed(2)} µs each), ` +
          `/auth/verify ${http.requestsPerSecond.toFixed(0)} req/s (p50 ${http.p50Ms.toFixed(2)} ms)`,
      );
    }
  } finally {
    await verifier.close();
  }
  if (counts.lapses > 0) throw new Error(`the cache stopped being trusted ${counts.lapses} times: the run is void`);
  return rates;
}

async function kickLatencies(server: BenchServer, target: GraphQLTarget) {
  const admin = await login(target, server.adminUsername, server.adminPassword);
  mkdirSync(join(repoRoot, '.tmp'), { recursive: true });
  // Inside this checkout, `gatehouse/verify` resolves to the build through the package's own exports.
  const dir = mkdtempSync(join(repoRoot, '.tmp', 'bench-verify-'));
  const app = await startServiceApp(dir, 'express', {
    gatehouseUrl: server.url,
    serviceToken: await serviceToken(target, admin.cookie, 'bench app'),
    requestTimeoutMs: 2_000,
  });
  try {
    await app.waitForLog('info', /proven/, 0, 10_000);
    const signIn = async () => {
      const session = await login<{ login: { session: { id: string } } }>(
        target,
        server.adminUsername,
        server.adminPassword,
        'session { id }',
      );
      return { token: session.token, sessionId: session.data.login.session.id };
    };
    const kick = async (sessionId: string) =>
      void (await graphql(
        target,
        'mutation($id: ID!) { kickSession(sessionId: $id) { id } }',
        { id: sessionId },
        {
          cookie: admin.cookie,
        },
      ));
    return await kickRounds(app, kicks, signIn, kick);
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startBenchServer();
const target = { port: server.port, agent: createAgent(concurrency) };
try {
  print(`gatehouse bench: gatehouse/verify · ${describeMachine()}`);
  print(
    `server ${server.url} (child process, NODE_ENV=production) · verifier from ${built ? 'dist/' : 'src/ (no build)'} · ` +
      `${sessions} sessions · ${rounds} rounds of ${durationMs} ms each side · /auth/verify ${concurrency} in flight · ` +
      `${kicks} kicks`,
  );
  const signedIn = [];
  for (let i = 0; i < sessions; i++) signedIn.push(await login(target, server.adminUsername, server.adminPassword));
  const rates = await checkRates(
    server,
    target,
    signedIn.map((session) => session.token),
    signedIn.map((session) => session.cookie),
  );
  const kicked = await kickLatencies(server, target);
  const fromKick = kicked.map((round) => round.fromKickMs).sort((a, b) => a - b);
  const cached = median(rates.cached);
  const http = median(rates.http);
  print();
  print(`median of ${rates.cached.length} rounds; kick → refused over ${fromKick.length} rounds`);
  print(
    table([
      ['check', 'checks/s', 'µs per check', 'note'],
      ['cached verify() in process', cached.toFixed(0), (1e6 / cached).toFixed(2), 'one after another'],
      [
        'GET /auth/verify over HTTP',
        http.toFixed(0),
        (1e6 / http).toFixed(1),
        `${concurrency} in flight; p50 ${median(rates.httpP50Ms).toFixed(2)} ms each`,
      ],
      ['ratio', `${(cached / http).toFixed(1)}×`, '', 'aim ≥ 20×'],
    ]),
  );
  print(
    `kick → refused by an Express app: p50 ${percentile(fromKick, 0.5).toFixed(1)} ms, ` +
      `p99 ${percentile(fromKick, 0.99).toFixed(1)} ms, max ${fromKick.at(-1)!.toFixed(1)} ms`,
  );
  reportFigures('gatehouse/verify against /auth/verify', [
    ratioFigure('cached verify() rate', 'checks/s', cached, { name: '/auth/verify', value: http }, { atLeast: 20 }),
    boundFigure('cached verify() cost', 'µs', 1e6 / cached, 10),
    boundFigure('kick → refused by the app p99', 'ms', percentile(fromKick, 0.99), 1000),
  ]);
} finally {
  target.agent.destroy();
  await server.stop();
}
