/**
 * The server side of the benchmarks, run as a child process so that the load generator does not
 * share its event loop. A real Gatehouse (production code path, silent logger) on a free loopback
 * port over the SQLite file the parent names in DATABASE_URL. Prints one JSON line `{"url": …}`
 * on stdout once it listens; answers `stats` messages on the IPC channel with its CPU time and
 * event-loop use, so the parent can tell what a request costs the server itself; stops on
 * SIGTERM/SIGINT or when the parent goes away.
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';

const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
if (!config.databaseUrl.startsWith('sqlite:') || config.adminUsername === undefined) {
  process.stderr.write('bench/server.ts: the parent must set DATABASE_URL=sqlite:<temp file> and ADMIN_*\n');
  process.exit(2);
}

const app = buildApp(config, { logger: silentLogger });
const url = await app.start();
process.stdout.write(JSON.stringify({ url }) + '\n');

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 5_000).unref();
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
process.on('message', (message) => {
  if (message !== 'stats') return;
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  process.send?.({ cpuMicros: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle });
});
