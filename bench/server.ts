/**
 * The server side of the benchmarks, run as a child process so that the load generator does not
 * share its event loop. A real Gatehouse (production code path; it logs as production does, JSON
 * lines at `info`, written synchronously, but into /dev/null) on a free loopback
 * port over the SQLite file the parent names in DATABASE_URL. Prints one JSON line `{"url": …}`
 * on stdout once it listens; on the IPC channel it answers `stats` with its CPU time and
 * event-loop use, so the parent can tell what a request costs the server itself, and `memory`
 * with `process.memoryUsage()` and its open connections, taken after a full GC when it runs with
 * --expose-gc, and `sweeps` with its sweeper's runs; stops on SIGTERM/SIGINT or when the parent goes away.
 *
 * It runs the build (`dist/`, what `npm start` runs) when there is one, as production does:
 * the sources through tsx would carry its per-function wrappers into every request.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as AppTypes from '../src/app.js';
import type * as ConfigTypes from '../src/config.js';
import type * as LoggerTypes from '../src/logger.js';
import pino from 'pino';
import { answerBenchQuestions, stopWith } from './ipc.js';

type AppModule = typeof AppTypes;
type ConfigModule = typeof ConfigTypes;
type LoggerModule = typeof LoggerTypes;
// BENCH_SERVER_DIST: another checkout's build (bench:live's BENCH_LIVE_COMPARE), served the same way.
const otherDist = process.env.BENCH_SERVER_DIST;
const built = existsSync(new URL('../dist/src/app.js', import.meta.url));
const from = (module: string) =>
  otherDist !== undefined
    ? pathToFileURL(join(otherDist, 'src', `${module}.js`)).href
    : built
      ? `../dist/src/${module}.js`
      : `../src/${module}.js`;
const { buildApp } = (await import(from('app'))) as AppModule;
const { loadConfig } = (await import(from('config'))) as ConfigModule;
const { createLogger } = (await import(from('logger'))) as LoggerModule;

const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
if (!config.databaseUrl.startsWith('sqlite:') || config.adminUsername === undefined) {
  process.stderr.write('bench/server.ts: the parent must set DATABASE_URL=sqlite:<temp file> and ADMIN_*\n');
  process.exit(2);
}

// Log lines cost what they cost in production (a sweep's per-session lines once doubled its time);
// only the terminal is spared. BENCH_SERVER_LOG names a file to keep them in, for a look afterwards.
const logFile = process.env.BENCH_SERVER_LOG || '/dev/null';
const logger = createLogger({ level: 'info', destination: pino.destination({ dest: logFile, sync: true }) });
const app = buildApp(config, { logger });
const url = await app.start();
process.stdout.write(JSON.stringify({ url }) + '\n');

// Each run of the sweeper that ended sessions, for bench/sweep.ts: how many, and how long it took.
const sweeps: Array<{ expired: number; durationMs: number }> = [];
app.sweeper.onSwept(({ expired }, durationMs) => {
  if (expired > 0) sweeps.push({ expired, durationMs });
});

stopWith(() => app.stop());
answerBenchQuestions(app.server, { sweeps: () => sweeps.splice(0) });
