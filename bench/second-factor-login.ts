/**
 * `npm run bench:second-factor` (also part of `npm run bench`): what a second step adds to a
 * login, next to the plain password login measured in the same run.
 *
 * Ways of signing in, each timed whole (every round trip, every answer checked):
 * - password: `login` of a user without a second factor (the baseline);
 * - password + app code: `login` (a pending login), then `verifySecondFactor` with the TOTP code
 *   computed here from the secret the enrollment showed;
 * - password + recovery code: the same with one of the enrollment's recovery codes;
 * - passkey, no password: `startPasskeyLogin` (discoverable), the software authenticator's
 *   assertion, `finishPasskeyLogin`;
 * - password + passkey: `login`, then the same on the pending login.
 * For each: latency p50/p99 and sign-ins per second with 1 and with 8 in flight (8 accounts), and
 * the server's CPU per sign-in (the child's, all threads). Then each second step alone (on
 * pending logins made beforehand, untimed) next to one argon2id verify.
 *
 * Rounds alternate the ways in a rotating order (one at a time, the ways take turns sign-in by
 * sign-in), so that drift on these shared machines weighs on all alike. Accounts are made and enrolled through the API before anything is timed
 * (bench/second-factor-accounts.ts: an app's code is good once, so one account per sign-in).
 *
 * Knobs (environment): BENCH_SECOND_FACTOR_ROUNDS (3), BENCH_SECOND_FACTOR_SIGN_INS (one at a
 * time, per way and round, 40), BENCH_SECOND_FACTOR_CONCURRENT (8 in flight, per way and round,
 * 64), BENCH_SECOND_FACTOR_STEPS (second steps alone, per kind and round, 30).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import {
  AccountPool,
  enrollAll,
  enrollTotp,
  nextRecoveryCode,
  nextTotpCode,
  passkeyEnroller,
  type FactorAccount,
  type PasskeyAccount,
} from './second-factor-accounts.js';
import { passkeyStep, passwordStep, verifySecondFactor } from './sign-in-steps.js';
import { ratioFigure, reportFigures } from './summary.js';
import {
  createAccounts,
  createAgent,
  describeMachine,
  envNumber,
  login,
  median,
  percentile,
  print,
  startBenchServer,
  table,
  type BenchAccount,
  type BenchServer,
  type GraphQLTarget,
} from './support.js';

const rounds = envNumber('BENCH_SECOND_FACTOR_ROUNDS', 3, 20, { integer: true });
const oneAtATime = envNumber('BENCH_SECOND_FACTOR_SIGN_INS', 40, 1000, { integer: true });
const concurrent = envNumber('BENCH_SECOND_FACTOR_CONCURRENT', 64, 2000, { integer: true });
const stepsAlone = envNumber('BENCH_SECOND_FACTOR_STEPS', 30, 1000, { integer: true });
/** Sign-ins in flight at once, each on an account of its own. */
const IN_FLIGHT = 8;
/** Untimed sign-ins of each way before the first round, so that every path runs compiled. */
const WARMUP_SIGN_INS = 2 * IN_FLIGHT;
/** The parameters src/sessions/passwords.ts uses (OWASP's argon2id floor); 2 is Argon2id. */
const ARGON2ID = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** One way of signing in, timed whole. */
interface SignInWay {
  name: string;
  roundTrips: number;
  signIn(): Promise<void>;
}

/** A second step timed alone: `pending` signs in with the password (untimed) and returns the step to time. */
interface SecondStep {
  name: string;
  pending(): Promise<() => Promise<void>>;
}

interface Batch {
  count: number;
  wallMs: number;
  latencies: number[];
  /**
   * CPU time of the whole batch, µs: the server's, or this process's for the argon2id verifies;
   * NaN when not measured (one at a time, where the ways take turns).
   */
  cpuMicros: number;
}

const thisProcessCpu = async () => {
  const { user, system } = process.cpuUsage();
  return { cpuMicros: user + system };
};

/** Runs `count` operations with `inFlight` at a time; each one's latency, and the CPU they took. */
async function timeBatch(
  cpu: () => Promise<{ cpuMicros: number }>,
  count: number,
  inFlight: number,
  operation: (index: number) => Promise<unknown>,
): Promise<Batch> {
  const latencies: number[] = [];
  const before = await cpu();
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const t0 = performance.now();
      await operation(next++);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  const wallMs = performance.now() - startedAt;
  const after = await cpu();
  return { count, wallMs, latencies, cpuMicros: after.cpuMicros - before.cpuMicros };
}

/** `use` with an account of `pool`'s that no other sign-in in flight holds. */
function withAccount<A>(pool: AccountPool<A>, use: (account: A) => Promise<unknown>) {
  return async () => {
    const account = pool.take();
    try {
      await use(account);
    } finally {
      pool.give(account);
    }
  };
}

/** Accounts enough for every sign-in of the run; made and enrolled through the API, 8 at a time. */
async function prepareAccounts(target: GraphQLTarget, server: BenchServer) {
  const { cookie } = await login(target, server.adminUsername, server.adminPassword);
  const make = (prefix: string, count: number) => createAccounts(target, cookie, prefix, count, IN_FLIGHT);
  const signIns = WARMUP_SIGN_INS + rounds * (oneAtATime + concurrent + stepsAlone);
  // Enough accounts free for 8 in flight, or for a batch of second steps held pending at once.
  const held = Math.max(IN_FLIGHT, stepsAlone);
  const withApp = await enrollAll(target, await make('totp', signIns), IN_FLIGHT, enrollTotp);
  const tenCodesEach = Math.ceil(signIns / 10) + held;
  const withCodes = await enrollAll(target, await make('recovery', tenCodesEach), IN_FLIGHT, enrollTotp);
  const enrollPasskey = passkeyEnroller(server.url);
  const passwordless = await enrollAll(target, await make('passkey', IN_FLIGHT), IN_FLIGHT, enrollPasskey);
  const secondPasskey = await enrollAll(target, await make('password-passkey', held), IN_FLIGHT, enrollPasskey);
  const always = () => true;
  return {
    password: new AccountPool('password', await make('password', IN_FLIGHT), always),
    totp: new AccountPool('app code', withApp, () => false),
    recovery: new AccountPool('recovery code', withCodes, (account) => account.recoveryCodes.length > 0),
    passwordless: new AccountPool('passkey', passwordless, always),
    passkey: new AccountPool('password + passkey', secondPasskey, always),
  };
}

type Pools = Awaited<ReturnType<typeof prepareAccounts>>;

/** The second step of `account` on the pending login in `cookie`. */
type Step<A> = (account: A, cookie: string) => Promise<void>;

function signInWays(target: GraphQLTarget, pools: Pools): SignInWay[] {
  const twoSteps = <A extends BenchAccount>(pool: AccountPool<A>, step: Step<A>) =>
    withAccount(pool, async (account) => step(account, await passwordStep(target, account, 'SECOND_FACTOR')));
  const [app, recovery, passkey] = stepsOf(target);
  return [
    {
      name: 'password (no second factor)',
      roundTrips: 1,
      signIn: withAccount(pools.password, (account) => passwordStep(target, account, 'DONE')),
    },
    { name: 'password + app code (TOTP)', roundTrips: 2, signIn: twoSteps(pools.totp, app) },
    { name: 'password + recovery code', roundTrips: 2, signIn: twoSteps(pools.recovery, recovery) },
    {
      name: 'passkey, no password',
      roundTrips: 2,
      signIn: withAccount(pools.passwordless, (account) => passkeyStep(target, account.authenticator)),
    },
    { name: 'password + passkey', roundTrips: 3, signIn: twoSteps(pools.passkey, passkey) },
  ];
}

/** The second steps: an app's code, a recovery code, a passkey (options, then the assertion). */
function stepsOf(target: GraphQLTarget) {
  const app: Step<FactorAccount> = (account, cookie) => verifySecondFactor(target, cookie, nextTotpCode(account));
  const recovery: Step<FactorAccount> = (account, cookie) =>
    verifySecondFactor(target, cookie, nextRecoveryCode(account));
  const passkey: Step<PasskeyAccount> = (account, cookie) => passkeyStep(target, account.authenticator, cookie);
  return [app, recovery, passkey] as const;
}

function secondSteps(target: GraphQLTarget, pools: Pools): SecondStep[] {
  const stepOf = <A extends BenchAccount>(name: string, pool: AccountPool<A>, step: Step<A>): SecondStep => ({
    name,
    async pending() {
      const account = pool.take();
      const cookie = await passwordStep(target, account, 'SECOND_FACTOR');
      return async () => {
        try {
          await step(account, cookie);
        } finally {
          pool.give(account);
        }
      };
    },
  });
  const [app, recovery, passkey] = stepsOf(target);
  return [
    stepOf('verifySecondFactor, app code', pools.totp, app),
    stepOf('verifySecondFactor, recovery code', pools.recovery, recovery),
    stepOf('start + finishPasskeyLogin (2 requests)', pools.passkey, passkey),
  ];
}

/** A way's batches, one per round: one sign-in at a time (taking turns), and {@link IN_FLIGHT} at a time. */
interface WayResult {
  way: SignInWay;
  one: Batch[];
  eight: Batch[];
}

interface Results {
  ways: WayResult[];
  steps: Array<{ name: string; batches: Batch[] }>;
  /** argon2id verifies in this process, one at a time, one batch per round. */
  hashes: Batch[];
}

const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length]!);

/**
 * One sign-in at a time, the ways taking turns sign-in by sign-in, so that a burst of other work
 * on the machine lands on all alike. Latencies only: the CPU of one way is read from its batches
 * with 8 in flight, where its sign-ins run alone.
 */
async function takeTurns(results: WayResult[], round: number): Promise<void> {
  const latencies = results.map((): number[] => []);
  for (let i = 0; i < oneAtATime; i++) {
    for (const index of rotate([...results.keys()], round + i)) {
      const startedAt = performance.now();
      await results[index]!.way.signIn();
      latencies[index]!.push(performance.now() - startedAt);
    }
  }
  results.forEach(({ one }, index) => {
    const wallMs = latencies[index]!.reduce((sum, latency) => sum + latency, 0);
    one.push({ count: oneAtATime, wallMs, latencies: latencies[index]!, cpuMicros: NaN });
  });
}

/** Every way and step once a round, in an order that turns each round, and the hash alone. */
async function runRounds(server: BenchServer, ways: SignInWay[], steps: SecondStep[]): Promise<Results> {
  const serverCpu = () => server.stats();
  const results: Results = {
    ways: ways.map((way) => ({ way, one: [], eight: [] })),
    steps: steps.map(({ name }) => ({ name, batches: [] })),
    hashes: [],
  };
  const reference = await hash('bench-password-123', ARGON2ID);
  const verifyHash = async () => {
    if (!(await verify(reference, 'bench-password-123'))) throw new Error('argon2 verify failed');
  };
  for (let round = 0; round < rounds; round++) {
    await takeTurns(results.ways, round);
    for (const result of rotate(results.ways, round)) {
      result.eight.push(await timeBatch(serverCpu, concurrent, IN_FLIGHT, result.way.signIn));
    }
    for (const [index, step] of rotate([...steps.entries()], round)) {
      const pending: Array<() => Promise<void>> = [];
      for (let i = 0; i < stepsAlone; i++) pending.push(await step.pending());
      results.steps[index]!.batches.push(await timeBatch(serverCpu, stepsAlone, 1, (i) => pending[i]!()));
    }
    results.hashes.push(await timeBatch(thisProcessCpu, stepsAlone, 1, verifyHash));
  }
  return results;
}

/** Latency percentiles over every round's operations; rates and CPU as the median of the rounds. */
function summarize(batches: Batch[]) {
  const latencies = batches.flatMap((batch) => batch.latencies).sort((a, b) => a - b);
  return {
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    perSecond: median(batches.map((batch) => (batch.count / batch.wallMs) * 1000)),
    cpuMs: median(batches.map((batch) => batch.cpuMicros / batch.count / 1000)),
  };
}

/** A way's figures; its CPU per sign-in from its batches with 8 in flight. */
function summarizeWay({ way, one, eight }: WayResult) {
  const atEight = summarize(eight);
  return { way, one: summarize(one), eight: atEight, cpuMs: atEight.cpuMs };
}

type WaySummary = ReturnType<typeof summarizeWay>;

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const times = (value: number, baseline: number) => `${(value / baseline).toFixed(2)}×`;

function signInTable([base, ...others]: WaySummary[]): string {
  return table([
    ['sign-in', 'trips', 'p50 ms', 'p99 ms', '/s', '×8 p50 ms', '×8 p99 ms', '×8 /s', 'CPU ms', 'p50', '×8 /s', 'CPU'],
    ...[base!, ...others].map(({ way, one, eight, cpuMs }) => [
      ...[way.name, String(way.roundTrips), ms(one.p50Ms), ms(one.p99Ms), one.perSecond.toFixed(1)],
      ...[ms(eight.p50Ms), ms(eight.p99Ms), eight.perSecond.toFixed(1), ms(cpuMs)],
      times(one.p50Ms, base!.one.p50Ms),
      times(eight.perSecond, base!.eight.perSecond),
      times(cpuMs, base!.cpuMs),
    ]),
  ]);
}

function stepTable(results: Results, password: WaySummary): string {
  const hash = summarize(results.hashes);
  const row = (name: string, count: number, timed: { p50Ms: number; p99Ms: number } | undefined, cpuMs: number) => [
    ...[name, String(count), timed ? ms(timed.p50Ms) : '-', timed ? ms(timed.p99Ms) : '-', ms(cpuMs)],
    times(cpuMs, hash.cpuMs),
  ];
  return table([
    ['one at a time', 'count', 'p50 ms', 'p99 ms', 'CPU ms', 'vs hash'],
    row('argon2id verify (this process)', rounds * stepsAlone, hash, hash.cpuMs),
    row('password login, whole (table above)', rounds * concurrent, undefined, password.cpuMs),
    ...results.steps.map(({ name, batches }) => {
      const step = summarize(batches);
      return row(name, rounds * stepsAlone, step, step.cpuMs);
    }),
  ]);
}

/**
 * The figures for the summary of `npm run bench`. A request that hashes no password should cost
 * the server at most half a password login (the rest of a login besides its hash is about a
 * third of it): a sign-in with an app code, a recovery code or a passkey after the password at
 * most 1.5× the password login's CPU (2× for a passkey: options, then the assertion), and its p50
 * one at a time 1.5×, its rate at 8 in flight at least 1 ÷ 1.5; a passkey without a password
 * (two requests, no hash) at most 1×; and the second step alone at most half an argon2id verify,
 * so that the hash, whose price is chosen, stays what a login costs. Past these, a step does work
 * it should not.
 */
function figures(results: Results, [password, app, recovery, passwordless, passkey]: WaySummary[]) {
  const [base, withApp, withCode, alone, withPasskey] = [password!, app!, recovery!, passwordless!, passkey!];
  type Limit = Parameters<typeof ratioFigure>[4];
  const vs = (name: string, unit: string, value: number, baseline: number, limit: Limit = { atMost: 1.5 }) =>
    ratioFigure(name, unit, value, { name: 'password', value: baseline }, limit);
  const stepCpuMs = summarize(results.steps[0]!.batches).cpuMs;
  const hash = { name: 'argon2id verify', value: summarize(results.hashes).cpuMs };
  return [
    vs('sign-in with an app code: server CPU', 'ms', withApp.cpuMs, base.cpuMs),
    vs('sign-in with an app code: p50, one at a time', 'ms', withApp.one.p50Ms, base.one.p50Ms),
    vs('sign-ins with an app code, 8 in flight', '/s', withApp.eight.perSecond, base.eight.perSecond, {
      atLeast: 0.67,
    }),
    vs('sign-in with a recovery code: server CPU', 'ms', withCode.cpuMs, base.cpuMs),
    vs('sign-in with a password and a passkey: server CPU', 'ms', withPasskey.cpuMs, base.cpuMs, { atMost: 2 }),
    vs('sign-in with a passkey, no password: server CPU', 'ms', alone.cpuMs, base.cpuMs, { atMost: 1 }),
    ratioFigure('verifySecondFactor (app code) alone: server CPU', 'ms', stepCpuMs, hash, { atMost: 0.5 }),
  ];
}

function report(results: Results): void {
  const ways = results.ways.map(summarizeWay);
  print();
  print(`sign-ins, whole (every round trip): one at a time (the ways taking turns), then ${IN_FLIGHT} in flight`);
  print(`(${IN_FLIGHT} accounts); latencies over all ${rounds} rounds; rates, and the server's CPU per sign-in (all`);
  print(`threads, at ${IN_FLIGHT} in flight), the rounds' median; last three columns: ratios to the password login`);
  print(signInTable(ways));
  // A rate that falls further than the CPU rises waits on something else than the cores.
  const busy = ways.map(({ way, eight }) => `${way.name} ${((eight.cpuMs * eight.perSecond) / 1000).toFixed(2)}`);
  print(`server CPU with ${IN_FLIGHT} in flight, in cores (of ${availableParallelism()}): ${busy.join(', ')}`);
  print();
  print('the second step alone (its password step made beforehand, untimed), CPU next to one argon2id verify');
  print(stepTable(results, ways[0]!));
  reportFigures('second-factor login', figures(results, ways));
}

print(`gatehouse bench: second-factor login · ${describeMachine()}`);
// Production needs SECRETS_KEY once any app is enrolled: a key for this run only.
const server = await startBenchServer({ env: { SECRETS_KEY: randomBytes(32).toString('base64') } });
const target: GraphQLTarget = { port: server.port, agent: createAgent(IN_FLIGHT) };
try {
  print(`server ${server.url} (child process, SQLite temp file, NODE_ENV=production)`);
  const setupStartedAt = performance.now();
  const pools = await prepareAccounts(target, server);
  const ways = signInWays(target, pools);
  for (const way of ways) await timeBatch(() => server.stats(), WARMUP_SIGN_INS, IN_FLIGHT, way.signIn);
  print(
    `accounts made and enrolled through the API, and warmed up, in ${((performance.now() - setupStartedAt) / 1000).toFixed(1)} s`,
  );
  report(await runRounds(server, ways, secondSteps(target, pools)));
} finally {
  target.agent.destroy();
  await server.stop();
}
