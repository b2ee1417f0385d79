/**
 * `npx tsx bench/login.ts`: what a login costs (argon2id verify dominates), one at a time and
 * with 8 in flight (for one account, whose logins the server runs one after another, and for 8
 * accounts), next to what one cookie-authenticated request costs, all in the same run.
 * The server runs in a child process (bench/server.ts); everything is loopback and bounded.
 *
 * Knobs (environment): BENCH_LOGINS (sequential logins, 20), BENCH_CONCURRENT_LOGINS (64 logins
 * with 8 in flight), BENCH_ME_REQUESTS (sequential authenticated requests, 2000).
 */
import { hash, verify } from '@node-rs/argon2';
import {
  createAccounts,
  createAgent,
  describeMachine,
  envNumber,
  login,
  percentile,
  post,
  prepare,
  print,
  runLoad,
  startBenchServer,
  table,
  type BenchServer,
  type GraphQLTarget,
} from './support.js';

const sequentialLogins = envNumber('BENCH_LOGINS', 20, 1000);
const concurrentLogins = envNumber('BENCH_CONCURRENT_LOGINS', 64, 2000);
const meRequests = envNumber('BENCH_ME_REQUESTS', 2000, 100_000);
const LOGIN_CONCURRENCY = 8;
const LOAD_CONCURRENCY = 32;
/** The parameters src/sessions/passwords.ts uses (OWASP's argon2id floor); 2 is Argon2id. */
const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

interface Timing {
  count: number;
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time per operation, µs, all threads (the hashing runs on libuv's pool). */
  cpuMicros: number;
}

/** Where CPU time is read: the server child, or this process (for work done here). */
type CpuSource = Pick<BenchServer, 'stats'> | 'this process';

const thisProcessCpu = async () => {
  const usage = process.cpuUsage();
  return { cpuMicros: usage.user + usage.system, loopActiveMs: 0, loopIdleMs: 0 };
};

/** Runs `count` operations with `inFlight` at a time; times each one and the CPU they cost. */
async function timeOperations(
  source: CpuSource,
  count: number,
  inFlight: number,
  operation: (index: number) => Promise<unknown>,
): Promise<Timing> {
  const latencies: number[] = [];
  const stats = source === 'this process' ? thisProcessCpu : () => source.stats();
  const before = await stats();
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const t0 = performance.now();
      await operation(index);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  const wallMs = performance.now() - startedAt;
  const after = await stats();
  latencies.sort((a, b) => a - b);
  return {
    count,
    wallMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMicros: (after.cpuMicros - before.cpuMicros) / count,
  };
}

print(`gatehouse bench: login · ${describeMachine()}`);

// The hash alone, in this process: the floor under any login.
const referenceHash = await hash('bench-password-123', ARGON2ID);
await verify(referenceHash, 'bench-password-123');
const verifyTiming = await timeOperations('this process', sequentialLogins, 1, async () => {
  if (!(await verify(referenceHash, 'bench-password-123'))) throw new Error('argon2 verify failed');
});

const server = await startBenchServer();
const agent = createAgent(LOAD_CONCURRENCY);
const target: GraphQLTarget = { port: server.port, agent };
try {
  print(`server ${server.url} (child process, SQLite temp file, NODE_ENV=production)`);
  const signIn = () => login(target, server.adminUsername, server.adminPassword);
  const { cookie } = await signIn();
  await signIn();

  // Accounts for the many-accounts case, made through the API like any admin would.
  const accounts = await createAccounts(target, cookie, 'bench-user', LOGIN_CONCURRENCY);

  const sequential = await timeOperations(server, sequentialLogins, 1, signIn);
  const concurrent = await timeOperations(server, concurrentLogins, LOGIN_CONCURRENCY, signIn);
  const concurrentAccounts = await timeOperations(server, concurrentLogins, LOGIN_CONCURRENCY, (index) => {
    const account = accounts[index % accounts.length]!;
    return login(target, account.username, account.password);
  });

  const me = prepare('{ me { id username } }', undefined, { cookie });
  const expectedBody = (await post(target, me)).body;
  if (!expectedBody.includes(`"username":"${server.adminUsername}"`)) throw new Error(`me answered ${expectedBody}`);
  const meOnce = async () => {
    const result = await post(target, me);
    if (result.status !== 200 || result.body !== expectedBody) throw new Error(`me answered ${result.body}`);
  };
  await timeOperations(server, 200, 1, meOnce); // warm-up
  const meSequential = await timeOperations(server, meRequests, 1, meOnce);
  const meLoaded = await runLoad(
    target,
    me,
    { concurrency: LOAD_CONCURRENCY, warmupMs: 1000, durationMs: 3000, expectedBody },
    server,
  );

  const ms = (value: number) => value.toFixed(value < 1 ? 3 : 1);
  print();
  print(
    table([
      [
        'operation (argon2id m=19456 KiB, t=2, p=1)',
        'count',
        'in flight',
        'p50 ms',
        'p99 ms',
        'per second',
        'CPU ms/op',
      ],
      [
        'argon2id verify alone, in the bench process',
        String(verifyTiming.count),
        '1',
        ms(verifyTiming.p50Ms),
        ms(verifyTiming.p99Ms),
        ((verifyTiming.count / verifyTiming.wallMs) * 1000).toFixed(1),
        ms(verifyTiming.cpuMicros / 1000),
      ],
      [
        'login mutation',
        String(sequential.count),
        '1',
        ms(sequential.p50Ms),
        ms(sequential.p99Ms),
        ((sequential.count / sequential.wallMs) * 1000).toFixed(1),
        ms(sequential.cpuMicros / 1000),
      ],
      [
        'login mutation, one account',
        String(concurrent.count),
        String(LOGIN_CONCURRENCY),
        ms(concurrent.p50Ms),
        ms(concurrent.p99Ms),
        ((concurrent.count / concurrent.wallMs) * 1000).toFixed(1),
        ms(concurrent.cpuMicros / 1000),
      ],
      [
        `login mutation, ${accounts.length} accounts`,
        String(concurrentAccounts.count),
        String(LOGIN_CONCURRENCY),
        ms(concurrentAccounts.p50Ms),
        ms(concurrentAccounts.p99Ms),
        ((concurrentAccounts.count / concurrentAccounts.wallMs) * 1000).toFixed(1),
        ms(concurrentAccounts.cpuMicros / 1000),
      ],
      [
        'cookie { me { id username } }',
        String(meSequential.count),
        '1',
        ms(meSequential.p50Ms),
        ms(meSequential.p99Ms),
        ((meSequential.count / meSequential.wallMs) * 1000).toFixed(0),
        ms(meSequential.cpuMicros / 1000),
      ],
      [
        'cookie { me { id username } }',
        String(meLoaded.requests),
        String(LOAD_CONCURRENCY),
        ms(meLoaded.p50Ms),
        ms(meLoaded.p99Ms),
        meLoaded.requestsPerSecond.toFixed(0),
        ms(meLoaded.serverCpuMicrosPerRequest / 1000),
      ],
    ]),
  );
  print();
  print(
    `one login (sequential p50) takes as long as ${(sequential.p50Ms / meSequential.p50Ms).toFixed(0)} ` +
      `authenticated requests one after another, and as much server CPU as ` +
      `${(sequential.cpuMicros / meLoaded.serverCpuMicrosPerRequest).toFixed(0)} of them under load; ` +
      `with ${LOGIN_CONCURRENCY} in flight, logins of one account run one after another and logins of ` +
      `different accounts queue for the hash slots (one per core).`,
  );
  print(`login p50 minus a bare verify: ${ms(sequential.p50Ms - verifyTiming.p50Ms)} ms (HTTP, SQL, fsync)`);
} finally {
  agent.destroy();
  await server.stop();
}
