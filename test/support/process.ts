import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { settingNames } from '../../src/config.js';
import { waitFor, within } from './async.js';
import { TestClient } from './client.js';

/** The repository root: the real process runs from here, as `npm start` would. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SETTINGS = settingNames();

/**
 * The environment for a child process: this one's, without any Gatehouse setting a developer may
 * have exported, plus `settings`. The child sees exactly the settings the test gives it.
 */
export function childEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SETTINGS) delete env[name];
  return Object.assign(env, settings);
}

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

export interface ScriptRun {
  exit: Exit;
  stdout: string;
  stderr: string;
}

/** Runs `node <nodeArgs>` from the repository to its exit, `stdin` piped in, with its output collected. */
async function runToExit(
  nodeArgs: string[],
  settings: Record<string, string>,
  { stdin = '', timeoutMs = 30_000 }: { stdin?: string; timeoutMs?: number },
): Promise<ScriptRun> {
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env: childEnv(settings), stdio: 'pipe' });
  child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  try {
    return { exit: await within(exited, timeoutMs, `node ${nodeArgs.join(' ')} to exit`), stdout, stderr };
  } finally {
    child.kill('SIGKILL');
  }
}

/** Runs a script of the repository (a test fixture) to its exit. */
export function runScript(
  script: string,
  settings: Record<string, string>,
  { args = [], timeoutMs }: { args?: string[]; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  return runToExit(['--import', 'tsx', script, ...args], settings, timeoutMs === undefined ? {} : { timeoutMs });
}

/** `gatehouse <args>` (bin/gatehouse.js) with `settings` as its environment and `stdin` piped in. */
export function runCli(
  args: string[],
  settings: Record<string, string>,
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<ScriptRun> {
  return runToExit(['bin/gatehouse.js', ...args], settings, options);
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
    const host = settings.HOST ?? '127.0.0.1';
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...settings }),
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

  /** A new client with an empty cookie jar (and `headers` on every request). */
  client(headers?: Record<string, string>): TestClient {
    return new TestClient(this.url, headers);
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  async waitUntilHealthy(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      () => `gatehouse to be healthy:\n${this.stderr}`,
      async () => {
        if (!this.running) {
          throw new Error(`gatehouse exited (${JSON.stringify(this.exit)}) before it was healthy:\n${this.stderr}`);
        }
        try {
          const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
          return response.ok;
        } catch {
          return false; // not listening yet
        }
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  waitForExit(timeoutMs = 15_000): Promise<Exit> {
    return within(this.exited, timeoutMs, `gatehouse on port ${this.port} to exit`);
  }

  /** Waits until stdout matches `pattern`; returns the match. */
  waitForStdout(pattern: RegExp, timeoutMs = 5_000): Promise<RegExpExecArray> {
    return waitFor(
      () => `stdout to match ${pattern}:\n${this.stdout}`,
      () => pattern.exec(this.stdout) ?? undefined,
      { timeoutMs },
    );
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
