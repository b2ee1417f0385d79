/**
 * PostgreSQL and Redis servers of a test's own, on free loopback ports, for tests that stop,
 * freeze or kill them: the shared ones on the standard ports are never touched. Each is started
 * once per suite and always removed afterwards.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { sleep } from './async.js';
import { freePort } from './process.js';

const run = promisify(execFile);

/** PostgreSQL's server programs (Debian keeps them out of PATH). */
function postgresBin(program: string): string {
  const versions = readdirSync('/usr/lib/postgresql').sort();
  const latest = versions[versions.length - 1];
  if (!latest) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return join('/usr/lib/postgresql', latest, 'bin', program);
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user. */
function asPostgres(program: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0
    ? ['runuser', ['-u', 'postgres', '--', postgresBin(program), ...args]]
    : [postgresBin(program), args];
}

export class OwnPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** A connection URL to database `name` (`postgres` exists from the start). */
  url(name = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  /** initdb into a fresh folder, then start on a free port. */
  static async create(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
    if (userInfo().uid === 0)
      chownSync(
        dir,
        Number((await run('id', ['-u', 'postgres'])).stdout),
        Number((await run('id', ['-g', 'postgres'])).stdout),
      );
    const [initdb, args] = asPostgres('initdb', [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await run(initdb, args);
    const server = new OwnPostgres(dir, await freePort());
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    const [pgCtl, args] = asPostgres('pg_ctl', [
      'start',
      '-D',
      join(this.dir, 'data'),
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
    ]);
    await run(pgCtl, args);
  }

  /** Stops it (`fast`: sessions are cut, as in a crash or a failover). */
  async stop(): Promise<void> {
    const [pgCtl, args] = asPostgres('pg_ctl', ['stop', '-D', join(this.dir, 'data'), '-m', 'fast', '-w']);
    await run(pgCtl, args).catch(() => undefined);
  }

  async createDatabase(name: string): Promise<string> {
    await this.query(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url(database) });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    for (let i = 0; i < 100; i++) {
      const ping = await run('redis-cli', ['-p', String(this.port), 'ping']).catch(() => undefined);
      if (ping?.stdout.includes('PONG')) return;
      await sleep(50);
    }
    throw new Error('own redis-server did not answer');
  }

  /** SIGSTOP: connections stay open and nothing answers. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
