/**
 * The server side of the benchmarks, run as a child process so that the load generator does not
 * share its event loop. A real Gatehouse (production code path, silent logger) on a free loopback
 * port over the SQLite file the parent names in DATABASE_URL. Prints one JSON line `{"url": …}`
 * on stdout once it listens; on the IPC channel it answers `stats` with its CPU time and
 * event-loop use, so the parent can tell what a request costs the server itself, and `memory`
 * with `process.memoryUsage()` and its open connections, taken after a full GC when it runs with
 * --expose-gc; stops on SIGTERM/SIGINT or when the parent goes away.
 */
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import type { ServerMemory, ServerStats } from './support.js';

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

/** Defined when the process runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    const loop = performance.eventLoopUtilization();
    const stats: ServerStats = { cpuMicros: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle };
    process.send?.(stats);
  } else if (message === 'memory') {
    // Twice: the first pass may only queue finalizers that free more on the second.
    gc?.();
    gc?.();
    app.server.getConnections((error, connections) => {
      const usage = process.memoryUsage();
      const memory: ServerMemory = {
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        connections: error ? -1 : connections,
        afterGc: gc !== undefined,
      };
      process.send?.(memory);
    });
  }
});
