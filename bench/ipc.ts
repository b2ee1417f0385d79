/**
 * The child side of the benchmarks' IPC channel: answers `stats` with the process's CPU time and
 * event-loop use, and `memory` with `process.memoryUsage()` and the open connections (after a
 * full GC when the process runs with --expose-gc), so the parent can tell what a request costs
 * the server itself, and `sweeps` with the sweeper runs since the last question (Gatehouse only).
 * Gatehouse (bench/server.ts) and the baselines (bench/baselines/) share it.
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import type { ServerMemory, ServerStats, SweepRun } from './support.js';

/** Defined when the process runs with --expose-gc. */
const gc = (globalThis as { gc?: () => void }).gc;

/** What only some servers can answer: Gatehouse reports its sweeper's runs (`sweeps`). */
export interface BenchExtras {
  /** The sweeper runs that ended sessions since the last call. */
  sweeps?: () => SweepRun[];
}

/** The longest event-loop delay and the garbage collections since the last `loop-delay` question. */
function loopDelayMonitor() {
  const delays = monitorEventLoopDelay({ resolution: 5 });
  delays.enable();
  // The collections in the same window tell a GC pause from other stalls.
  const collections = { count: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      collections.count++;
      collections.maxMs = Math.max(collections.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const answer = { maxMs: delays.max / 1e6, p99Ms: delays.percentile(99) / 1e6 };
    const gcs = { gcCount: collections.count, gcMaxMs: collections.maxMs };
    delays.reset();
    Object.assign(collections, { count: 0, maxMs: 0 });
    return { ...answer, ...gcs };
  };
}

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  return { cpuMicros: cpu.user + cpu.system, loopActiveMs: loop.active, loopIdleMs: loop.idle };
}

function sendMemory(server: Server): void {
  // Twice: the first pass may only queue finalizers that free more on the second.
  gc?.();
  gc?.();
  server.getConnections((error, connections) => {
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const memory: ServerMemory = {
      ...{ rss, heapUsed, heapTotal, external, arrayBuffers },
      ...{ connections: error ? -1 : connections, afterGc: gc !== undefined },
    };
    process.send?.(memory);
  });
}

export function answerBenchQuestions(server: Server, extras: BenchExtras = {}): void {
  const loopDelay = loopDelayMonitor();
  process.on('message', (message) => {
    if (message === 'loop-delay') process.send?.(loopDelay());
    else if (message === 'sweeps') process.send?.(extras.sweeps?.() ?? []);
    else if (message === 'stats') process.send?.(stats());
    else if (message === 'memory') sendMemory(server);
    else if (message === 'heap-snapshot') {
      // Into the run's temp folder (removed with it); V8 collects garbage before it writes.
      const dir = process.env.BENCH_DIR ?? '.';
      process.send?.({ path: writeHeapSnapshot(join(dir, `server-${Date.now()}.heapsnapshot`)) });
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
