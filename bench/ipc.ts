/**
 * The child side of the benchmarks' IPC channel: answers `stats` with the process's CPU time and
 * event-loop use, and `memory` with `process.memoryUsage()` and the open connections (after a
 * full GC when the process runs with --expose-gc), so the parent can tell what a request costs
 * the server itself. Gatehouse (bench/server.ts) and the baselines (bench/baselines/) share it.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { ServerMemory, ServerStats } from './support.js';

/** Defined when the process runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc;

export function answerBenchQuestions(server: Server): void {
  // The longest the event loop was blocked since the last `loop-delay` question.
  const delays = monitorEventLoopDelay({ resolution: 5 });
  delays.enable();
  // And the garbage collections in the same window, to tell a GC pause from other stalls.
  const collections = { count: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      collections.count++;
      collections.maxMs = Math.max(collections.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message) => {
    if (message === 'loop-delay') {
      const { count, maxMs } = collections;
      process.send?.({ maxMs: delays.max / 1e6, p99Ms: delays.percentile(99) / 1e6, gcCount: count, gcMaxMs: maxMs });
      delays.reset();
      Object.assign(collections, { count: 0, maxMs: 0 });
      return;
    }
    if (message === 'heap-snapshot') {
      // Into the run's temp folder (removed with it); V8 collects garbage before it writes.
      const dir = process.env.BENCH_DIR ?? '.';
      process.send?.({ path: writeHeapSnapshot(join(dir, `server-${Date.now()}.heapsnapshot`)) });
      return;
    }
    if (message === 'stats') {
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      const stats: ServerStats = { cpuMicros: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle };
      process.send?.(stats);
    } else if (message === 'memory') {
      // Twice: the first pass may only queue finalizers that free more on the second.
      gc?.();
      gc?.();
      server.getConnections((error, connections) => {
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
}

/** Stops on SIGTERM/SIGINT or when the parent goes away. */
export function stopWith(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 5_000).unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('disconnect', onSignal);
}
