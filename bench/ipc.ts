/**
 * The child side of the benchmarks' IPC channel: answers `stats` with the process's CPU time and
 * event-loop use, and `memory` with `process.memoryUsage()` and the open connections (after a
 * full GC when the process runs with --expose-gc), so the parent can tell what a request costs
 * the server itself, and `sweeps` with the sweeper runs since the last question (Gatehouse only).
 * Gatehouse (bench/server.ts) and the baselines (bench/baselines/) share it.
 */
import type { Server } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ServerMemory, ServerStats, SweepRun } from './support.js';

/** Defined when the process runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc;

/** What only some servers can answer: Gatehouse reports its sweeper's runs (`sweeps`). */
export interface BenchExtras {
  /** The sweeper runs that ended sessions since the last call. */
  sweeps?: () => SweepRun[];
}

export function answerBenchQuestions(server: Server, extras: BenchExtras = {}): void {
  // The longest the event loop was blocked since the last `loop-delay` question.
  const delays = monitorEventLoopDelay({ resolution: 5 });
  delays.enable();
  process.on('message', (message) => {
    if (message === 'loop-delay') {
      process.send?.({ maxMs: delays.max / 1e6, p99Ms: delays.percentile(99) / 1e6 });
      delays.reset();
      return;
    }
    if (message === 'sweeps') {
      process.send?.(extras.sweeps?.() ?? []);
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
