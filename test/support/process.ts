import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../../src/config.js';

/** The repository root: the real process runs from here, as `npm start` would. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SETTINGS = settingNames();

/** Rejects with `message` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${message}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port that was free a moment ago: the OS picks it, we release it for the child. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const running = new Set<GatehouseProcess>();

/** The environment a child gets: the tests' own settings cleared, then `settings` on top. */
function childEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SETTINGS) delete env[name];
  return Object.assign(env, settings);
}

export interface ScriptRun {
  exit: Exit;
  stdout: string;
  stderr: string;
}

/** Runs a script of the repository (`scripts/sweep.ts`) to its exit, as `npm run` would. */
export async function runScript(
  script: string,
  settings: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env: childEnvironment(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  try {
    return { exit: await withTimeout(exited, timeoutMs, `${script} to exit`), stdout, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

/** `node --import tsx src/main.ts`: the real process, with its stdout and stderr collected. */
export class GatehouseProcess {
  readonly child: ChildProcess;
  readonly url: string;
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  private readonly exited: Promise<Exit>;

  private constructor(
    readonly port: number,
    settings: Record<string, string>,
  ) {
    const env = childEnvironment({ HOST: '127.0.0.1', PORT: String(port), ...settings });
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise<Exit>((resolve) => {
      // 'close' comes after 'exit' and after stdout/stderr are drained.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve(this.exit);
      });
    });
    running.add(this);
  }

  /** Spawns the process on a free port; `settings` are added to a cleaned environment. */
  static async spawn(settings: Record<string, string>): Promise<GatehouseProcess> {
    return new GatehouseProcess(await freePort(), settings);
  }

  /** Spawns and waits for `/healthz`. */
  static async start(settings: Record<string, string>): Promise<GatehouseProcess> {
    const proc = await GatehouseProcess.spawn(settings);
    await proc.waitUntilHealthy();
    return proc;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`gatehouse exited (${JSON.stringify(this.exit)}) before it was healthy:\n${this.stderr}`);
      }
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`gatehouse was not healthy within ${timeoutMs} ms:\n${this.stderr}`);
  }

  waitForExit(timeoutMs = 15_000): Promise<Exit> {
    return withTimeout(this.exited, timeoutMs, `gatehouse on port ${this.port} to exit`);
  }

  /** Waits until stdout matches `pattern`; returns the match. */
  async waitForStdout(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (Date.now() > deadline)
        throw new Error(`stdout did not match ${pattern} within ${timeoutMs} ms:\n${this.stdout}`);
      await sleep(20);
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

/** SIGKILLs every child still running and waits for them: for `after` hooks, so nothing leaks. */
export async function killAllGatehouseProcesses(): Promise<void> {
  const procs = [...running];
  for (const proc of procs) proc.kill('SIGKILL');
  await Promise.all(procs.map((proc) => proc.waitForExit(5_000).catch(() => undefined)));
}
