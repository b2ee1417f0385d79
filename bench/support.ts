/**
 * Shared by the benchmarks: the server child process, a keep-alive HTTP client (node:http, no
 * extra dependency), a closed-loop load generator, and the knobs, percentiles and tables they
 * print. Loopback only; everything is bounded in time and count, and the child and its temp
 * folder are removed however the run ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}

export function describeMachine(): string {
  const model = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
  return `${new Date().toISOString()} · Node ${process.version} · ${availableParallelism()} × ${model} · load ${load}`;
}

/** Rejects with `timed out after <ms> ms: <what>` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Cumulative counters of the server process (see bench/server.ts). */
export interface ServerStats {
  cpuMicros: number;
  loopActiveMs: number;
  loopIdleMs: number;
}

/** The server process's memory (see bench/server.ts), in bytes. */
export interface ServerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** TCP connections the HTTP server holds (upgraded sockets included); -1 if it could not tell. */
  connections: number;
  /** Whether a full GC ran first (only when the server was started with --expose-gc). */
  afterGc: boolean;
}

/** See {@link BenchServer.loopDelay}. */
export interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  gcCount: number;
  gcMaxMs: number;
}

/** One run of the server's sweeper that ended sessions (see bench/server.ts). */
export interface SweepRun {
  /** Sessions it ended (EXPIRED). */
  expired: number;
  durationMs: number;
}

/** How the server process ended (see {@link BenchServer.terminate}). */
export interface ServerExit {
  code: number | null;
  signal: string | null;
  /** From the signal to the exit. */
  ms: number;
}

export interface BenchServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  adminUsername: string;
  adminPassword: string;
  /** The server's SQLite file, for a benchmark that plants rows in it (from another process, as WAL allows). */
  databasePath: string;
  /** The server's CPU time and event-loop counters so far. */
  stats(): Promise<ServerStats>;
  /** The server's memory now (after a full GC if it was started with `nodeFlags: ['--expose-gc']`). */
  memory(): Promise<ServerMemory>;
  /**
   * The longest (and p99) event-loop delay of the server since the last time this was asked, and
   * its garbage collections in that time (how many, the longest).
   */
  loopDelay(): Promise<LoopDelay>;
  /** Writes a V8 heap snapshot of the server (after a full GC) and returns its path (in the temp folder). */
  heapSnapshot(): Promise<string>;
  /** The sweeper runs that ended sessions since the last time this was asked. */
  sweeps(): Promise<SweepRun[]>;
  /** Sends SIGTERM and waits for the exit, leaving the files for inspection (stop() removes them). */
  terminate(): Promise<ServerExit>;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  /** Settings added to the child's environment (e.g. NODE_ENV); the database and admin are set here. */
  env?: Record<string, string>;
  /** Flags for the child's `node`, before the script (e.g. `--expose-gc`). */
  nodeFlags?: string[];
  /** The server to run, relative to bench/: Gatehouse (`server.ts`, the default) or a baseline. */
  script?: string;
  /**
   * The build bench/server.ts runs: another checkout's `dist/` (BENCH_LIVE_COMPARE) instead of
   * this one's. Default: BENCH_SERVER_DIST when set, else this checkout's `dist/`.
   */
  dist?: string;
}

/** Ctrl-C or SIGTERM ends the run through process.exit, so the 'exit' cleanup above runs. */
let signalsHandled = false;
function exitOnSignals(): void {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
}

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const STATS_TIMEOUT_MS = 5_000;
/** Two full GCs with thousands of sockets open take a while. */
const MEMORY_TIMEOUT_MS = 10_000;
/** A heap snapshot of a server holding thousands of sockets takes a while to write. */
const SNAPSHOT_TIMEOUT_MS = 120_000;

type Question = 'stats' | 'memory' | 'loop-delay' | 'heap-snapshot' | 'sweeps';

/** Asks the child over IPC, one question at a time, so that each answer goes to the one who asked. */
function questioner(child: ChildProcess) {
  let lastQuestion: Promise<unknown> = Promise.resolve();
  return <T>(question: Question, timeoutMs: number): Promise<T> => {
    const answer = lastQuestion.then(() => {
      let listener: ((message: unknown) => void) | undefined;
      const answered = new Promise<T>((resolve) => {
        listener = (message) => resolve(message as T);
        child.once('message', listener);
        child.send(question);
      });
      return within(answered, timeoutMs, `the bench server to answer ${question}`).finally(() =>
        child.off('message', listener!),
      );
    });
    lastQuestion = answer.catch(() => undefined);
    return answer;
  };
}

/**
 * BENCH_SERVER_NODE_FLAGS: more Node flags for every bench server, space-separated, for looking
 * inside a run (`--cpu-prof --cpu-prof-dir=/tmp/prof`). Default none.
 */
const extraServerFlags = () => (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** The child bench server, its end, and the temp folder that goes with it. */
function spawnServer(options: BenchServerOptions, dir: string, admin: { username: string; password: string }) {
  const { env = {}, nodeFlags = [], script = 'server.ts', dist = process.env.BENCH_SERVER_DIST || undefined } = options;
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeFlags, ...extraServerFlags(), '--import', 'tsx', join(repoRoot, 'bench', script)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: {
        // Only what the child needs: no DATABASE_URL, REDIS_URL, … leaking in from the shell.
        ...{ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', COOKIE_SECURE: 'off' },
        ...env,
        ...(dist === undefined ? {} : { BENCH_SERVER_DIST: dist }),
        ...(process.env.BENCH_SERVER_LOG ? { BENCH_SERVER_LOG: process.env.BENCH_SERVER_LOG } : {}),
        ...{ DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, BENCH_DIR: dir },
        ...{ ADMIN_USERNAME: admin.username, ADMIN_PASSWORD: admin.password },
      },
    },
  );
  let exited = child.exitCode !== null;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve(void (exited = true))));
  // If this process ends abruptly (an exception, Ctrl-C), take the child and the files with it.
  const onExit = () => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  exitOnSignals();
  /** Sends SIGTERM (SIGKILL after STOP_TIMEOUT_MS) and waits for the exit; how long it took. */
  const terminate = async (): Promise<ServerExit> => {
    const startedAt = performance.now();
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exitPromise;
    clearTimeout(timer);
    return { code: child.exitCode, signal: child.signalCode, ms: performance.now() - startedAt };
  };
  const stop = async (): Promise<void> => {
    await terminate();
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  };
  return { child, exitPromise, terminate, stop };
}

/** The URL the child prints once it listens. */
function listeningUrl(child: ChildProcess, exitPromise: Promise<void>): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('{')) resolve((JSON.parse(line) as { url: string }).url);
      });
      void exitPromise.then(() => reject(new Error(`bench server exited with code ${child.exitCode}`)));
    }),
    START_TIMEOUT_MS,
    'the bench server to start',
  );
}

/**
 * Starts bench/server.ts in a child process on a fresh SQLite file in a temp folder, with an
 * admin whose password only this process knows.
 */
export async function startBenchServer(options: BenchServerOptions = {}): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const admin = { username: 'bench', password: randomBytes(18).toString('base64url') };
  const { child, exitPromise, terminate, stop } = spawnServer(options, dir, admin);
  const ask = questioner(child);
  try {
    const url = await listeningUrl(child, exitPromise);
    return {
      ...{ url, port: Number(new URL(url).port), adminUsername: admin.username, adminPassword: admin.password },
      databasePath: join(dir, 'gatehouse.db'),
      stats: () => ask<ServerStats>('stats', STATS_TIMEOUT_MS),
      memory: () => ask<ServerMemory>('memory', MEMORY_TIMEOUT_MS),
      loopDelay: () => ask<LoopDelay>('loop-delay', STATS_TIMEOUT_MS),
      heapSnapshot: async () => (await ask<{ path: string }>('heap-snapshot', SNAPSHOT_TIMEOUT_MS)).path,
      sweeps: () => ask<SweepRun[]>('sweeps', STATS_TIMEOUT_MS),
      ...{ terminate, stop },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface GraphQLTarget {
  port: number;
  agent: Agent;
}

/** A keep-alive agent with exactly `sockets` connections: one per request in flight. */
export function createAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One prepared POST /graphql: the body and headers are built once, outside the timed loop. */
export interface PreparedRequest {
  /** `POST /graphql` unless said otherwise. */
  method?: 'GET' | 'POST';
  path?: string;
  payload: Buffer;
  headers: OutgoingHttpHeaders;
}

export function prepare(query: string, variables?: Record<string, unknown>, extraHeaders = {}): PreparedRequest {
  const payload = Buffer.from(JSON.stringify(variables ? { query, variables } : { query }));
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': payload.length,
      ...extraHeaders,
    },
  };
}

export function post(
  target: GraphQLTarget,
  prepared: PreparedRequest,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent: target.agent,
        host: '127.0.0.1',
        port: target.port,
        path: prepared.path ?? '/graphql',
        method: prepared.method ?? 'POST',
        headers: prepared.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(prepared.method === 'GET' ? undefined : prepared.payload);
  });
}

/** A `GET` of `path` with `headers` (forward auth, a baseline's REST route). */
export function prepareGet(path: string, headers: OutgoingHttpHeaders = {}): PreparedRequest {
  return { method: 'GET', path, payload: Buffer.alloc(0), headers };
}

/** The `data` of a GraphQL answer; throws unless it is a 200 with data and no errors. */
export function dataOf<T>(result: HttpResult, what: string): T {
  const parsed = result.status === 200 ? (JSON.parse(result.body) as { data?: T; errors?: unknown }) : undefined;
  if (!parsed?.data || parsed.errors !== undefined) throw new Error(`${what} failed: ${result.status} ${result.body}`);
  return parsed.data;
}

/** Sends one GraphQL operation and returns its `data`; throws on an error or a status other than 200. */
export async function graphql<T>(
  target: GraphQLTarget,
  query: string,
  variables?: Record<string, unknown>,
  extraHeaders: OutgoingHttpHeaders = {},
  timeoutMs?: number,
): Promise<T> {
  return dataOf<T>(await post(target, prepare(query, variables, extraHeaders), timeoutMs), query.slice(0, 40) + '…');
}

/**
 * Signs in over HTTP and returns the session cookie (`name=value`), the bare token, and the
 * mutation's `data`, whose `login` payload holds `selection` (`user { id }` unless given).
 */
export async function login<T = { login: { user: { id: string } } }>(
  target: GraphQLTarget,
  username: string,
  password: string,
  selection = 'user { id }',
): Promise<{ cookie: string; token: string; data: T }> {
  const result = await post(
    target,
    prepare(`mutation($u: String!, $p: String!) { login(username: $u, password: $p) { ${selection} } }`, {
      u: username,
      p: password,
    }),
  );
  const data = dataOf<T>(result, 'login');
  return { ...sessionCookieOf(result, 'login'), data };
}

/** The session cookie an answer sets (`name=value`) and its bare token; throws when it sets none. */
export function sessionCookieOf(result: HttpResult, what: string): { cookie: string; token: string } {
  const setCookie = result.headers['set-cookie']?.[0];
  const cookie = setCookie?.split(';', 1)[0];
  const token = cookie?.slice(cookie.indexOf('=') + 1);
  if (!cookie || !token) throw new Error(`${what} set no cookie: ${result.status} ${result.body}`);
  return { cookie, token };
}

/** An account made by {@link createAccounts}: its password only this process knows. */
export interface BenchAccount {
  username: string;
  password: string;
}

/**
 * `count` accounts named `<prefix>-1`, `<prefix>-2`, … made through the API with `cookie` (an
 * admin's), as an admin would, `inFlight` at a time (each costs the server a password hash).
 */
export async function createAccounts(
  target: GraphQLTarget,
  cookie: string,
  prefix: string,
  count: number,
  inFlight = 1,
): Promise<BenchAccount[]> {
  const accounts = Array.from({ length: count }, (_, i) => ({
    username: `${prefix}-${i + 1}`,
    password: randomBytes(18).toString('base64url'),
  }));
  const createUser = 'mutation($u: String!, $p: String!) { createUser(username: $u, password: $p) { id } }';
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const { username, password } = accounts[next++]!;
      await graphql(target, createUser, { u: username, p: password }, { cookie });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return accounts;
}

export interface LoopLatencies {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * Cookie-authenticated `{ me { id } }` in a closed loop (one request in flight) until `stop()`,
 * which returns the latencies. The caller's session must stay valid throughout: a `null` `me`
 * throws, so a benchmark that ends sessions cannot silently time anonymous requests.
 */
export function meLoop(target: GraphQLTarget, cookie: string): { stop(): Promise<LoopLatencies> } {
  const latencies: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const startedAt = performance.now();
      const { me } = await graphql<{ me: { id: string } | null }>(target, '{ me { id } }', undefined, { cookie });
      if (!me) throw new Error("the caller's own session ended");
      latencies.push(performance.now() - startedAt);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        count: sorted.length,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        max: sorted.at(-1) ?? NaN,
      };
    },
  };
}

export interface LoadOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Every response must be 200 with exactly this body; anything else counts as a failure. */
  expectedBody: string;
}

export interface LoadResult {
  requests: number;
  failures: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time (user + system) per counted request, in µs; NaN without a server to ask. */
  serverCpuMicrosPerRequest: number;
  /** Share of the window the server's event loop was busy (1 = saturated). */
  serverLoopUtilization: number;
}

/** Upper bound on recorded latencies per run (a few MB): far above what 2 cores can serve. */
const MAX_SAMPLES = 2_000_000;

/** The nearest-rank percentile of values sorted in ascending order (NaN if there are none). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Closed loop: `concurrency` workers each send the request, wait for the answer, and send it
 * again, for `warmupMs` + `durationMs`. Only requests that start after the warm-up are counted;
 * the rate is those requests over the time from the end of the warm-up to the last answer.
 * Given several requests, it sends them in turn (e.g. a different token each time).
 */
export async function runLoad(
  target: GraphQLTarget,
  prepared: PreparedRequest | readonly PreparedRequest[],
  options: LoadOptions,
  server?: Pick<BenchServer, 'stats'>,
): Promise<LoadResult> {
  const nowMs = () => performance.now();
  const measureFrom = nowMs() + options.warmupMs;
  let statsAtStart: Promise<ServerStats> | undefined;
  const statsTimer = server ? setTimeout(() => (statsAtStart = server.stats()), options.warmupMs) : undefined;
  const measureUntil = measureFrom + options.durationMs;
  const latencies = new Float64Array(MAX_SAMPLES);
  let recorded = 0;
  let failures = 0;
  const requests = Array.isArray(prepared) ? prepared : [prepared as PreparedRequest];
  let sent = 0;

  const worker = async () => {
    for (;;) {
      const startedAt = nowMs();
      if (startedAt >= measureUntil) return;
      let ok = false;
      try {
        const result = await post(target, requests[sent++ % requests.length]!);
        ok = result.status === 200 && result.body === options.expectedBody;
      } catch {
        ok = false;
      }
      if (startedAt < measureFrom) continue;
      if (!ok) failures++;
      else if (recorded < MAX_SAMPLES) latencies[recorded++] = nowMs() - startedAt;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = nowMs() - measureFrom;
  clearTimeout(statsTimer);
  const serverCost = await serverCostOver(recorded, server, statsAtStart);
  const sorted = latencies.subarray(0, recorded).sort();
  return {
    ...{ requests: recorded, failures, requestsPerSecond: (recorded / elapsedMs) * 1000 },
    ...{ p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) },
    ...serverCost,
  };
}

/** The server's CPU per request and event-loop use since `statsAtStart` (NaN without a server to ask). */
async function serverCostOver(
  requests: number,
  server: Pick<BenchServer, 'stats'> | undefined,
  statsAtStart: Promise<ServerStats> | undefined,
) {
  if (!server || !statsAtStart) return { serverCpuMicrosPerRequest: NaN, serverLoopUtilization: NaN };
  const [before, after] = [await statsAtStart, await server.stats()];
  const active = after.loopActiveMs - before.loopActiveMs;
  return {
    serverCpuMicrosPerRequest: (after.cpuMicros - before.cpuMicros) / requests,
    serverLoopUtilization: active / (active + after.loopIdleMs - before.loopIdleMs),
  };
}

/** Left-aligns the first column and right-aligns the rest. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join('  '),
    )
    .join('\n');
}

/**
 * Reads a positive number from the environment (bench knobs), or the fallback; with `integer`,
 * only a whole number (for counts).
 */
export function envNumber(name: string, fallback: number, max: number, { integer = false } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const ok = (integer ? Number.isInteger(value) : Number.isFinite(value)) && value > 0 && value <= max;
  if (!ok) {
    throw new Error(
      integer
        ? `${name}=${raw}: expected a whole number from 1 to ${max}`
        : `${name}=${raw}: expected a number above 0 and at most ${max}`,
    );
  }
  return value;
}

/**
 * The load knobs of the HTTP load benches, read once: BENCH_CONCURRENCY (requests in flight,
 * default 50), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (measured per scenario, 5000) and
 * BENCH_ROUNDS (3).
 */
export function loadKnobs() {
  return {
    concurrency: envNumber('BENCH_CONCURRENCY', 50, 1024),
    warmupMs: envNumber('BENCH_WARMUP_MS', 1000, 60_000),
    durationMs: envNumber('BENCH_DURATION_MS', 5000, 120_000),
    rounds: envNumber('BENCH_ROUNDS', 3, 20),
  };
}
