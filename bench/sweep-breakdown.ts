/**
 * `npm run bench:sweep-breakdown`: where one sweep's time goes, statement by statement. A real
 * Gatehouse (the build, `NODE_ENV=production`, logging at `info` into /dev/null) runs in this
 * process on a fresh SQLite file, with no requests; BENCH_SESSIONS expired sessions are written into it, then one
 * `sweeper.runOnce()` ends them. Every statement's time, from Knex's `query` to its
 * `query-response` event, is summed by kind (the sweeper's batch UPDATE, its audit INSERT, the end
 * log's read-back, the rest); what the statements leave of the wall time is the event loop's
 * work between them (parsing rows, announcing, building audit events) and waiting.
 *
 * Statements on SQLite's one connection run one after another, so the kinds add up to at most the
 * wall time; `bench:sweep` is the figure with requests running, this is the anatomy behind it.
 * Knobs: BENCH_SESSIONS (100000), BENCH_SERVER_DIST (another build's `dist/`), BENCH_LOG_LEVEL
 * (`info`, as production).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type * as AppTypes from '../src/app.js';
import type * as ConfigTypes from '../src/config.js';
import type * as LoggerTypes from '../src/logger.js';
import pino from 'pino';
import { insertExpiredSessions } from './seed.js';
import { describeMachine, envNumber, print, table } from './support.js';

const SESSIONS = envNumber('BENCH_SESSIONS', 100_000, 10_000_000, { integer: true });
const dist = process.env.BENCH_SERVER_DIST || join(import.meta.dirname, '..', 'dist');
const from = (module: string) => pathToFileURL(join(dist, 'src', `${module}.js`)).href;

/** The kind of a statement, from its text. */
function kindOf(sql: string): string {
  const text = sql.toLowerCase().replace(/\s+/g, ' ');
  if (text.startsWith('update sessions set ended_at')) return "the sweeper's batch: UPDATE … RETURNING";
  if (text.startsWith('insert into auth_events')) return 'audit events: one INSERT a batch';
  if (text.includes('session_end_log') && text.startsWith('select')) return "end log read-back (this server's poll)";
  if (text.includes('server_instances')) return 'heartbeat (end log position)';
  return 'other';
}

/** Sums each statement's time by kind while `work` runs. */
async function timed(db: AppTypes.App['db'], work: () => Promise<unknown>) {
  const sent = new Map<string, number>();
  const byKind = new Map<string, { count: number; ms: number }>();
  const onQuery = (query: { __knexQueryUid: string }) => sent.set(query.__knexQueryUid, performance.now());
  const onResponse = (_: unknown, query: { __knexQueryUid: string; sql: string }) => {
    const at = sent.get(query.__knexQueryUid);
    if (at === undefined) return;
    sent.delete(query.__knexQueryUid);
    const kind = byKind.get(kindOf(query.sql)) ?? { count: 0, ms: 0 };
    byKind.set(kindOf(query.sql), { count: kind.count + 1, ms: kind.ms + performance.now() - at });
  };
  db.on('query', onQuery).on('query-response', onResponse);
  const started = performance.now();
  const loop = performance.eventLoopUtilization();
  try {
    await work();
  } finally {
    db.off('query', onQuery).off('query-response', onResponse);
  }
  return { wallMs: performance.now() - started, byKind, loopBusy: performance.eventLoopUtilization(loop).utilization };
}

async function main(): Promise<void> {
  const { buildApp } = (await import(from('app'))) as typeof AppTypes;
  const { loadConfig } = (await import(from('config'))) as typeof ConfigTypes;
  const { createLogger } = (await import(from('logger'))) as typeof LoggerTypes;
  const level = (process.env.BENCH_LOG_LEVEL || 'info') as LoggerTypes.LogLevel;
  const destination = pino.destination({ dest: '/dev/null', sync: true });
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sweep-breakdown-'));
  const env = { NODE_ENV: 'production', COOKIE_SECURE: 'off', SWEEP_INTERVAL: '1h', PORT: '0', HOST: '127.0.0.1' };
  const admin = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: randomBytes(18).toString('base64url') };
  const app = buildApp(loadConfig({ ...env, ...admin, DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` }), {
    logger: createLogger({ level, destination }),
  });
  try {
    await app.start();
    print(`# One sweep of ${SESSIONS.toLocaleString('en')} expired sessions, no requests (${describeMachine()})`);
    await insertExpiredSessions(app.db, 'swept', SESSIONS);
    const { wallMs, byKind, loopBusy } = await timed(app.db, () => app.sweeper.runOnce());
    const perRow = (ms: number) => ((ms * 1000) / SESSIONS).toFixed(1);
    const rows = [...byKind].sort((a, b) => b[1].ms - a[1].ms);
    const statementsMs = rows.reduce((sum, [, kind]) => sum + kind.ms, 0);
    print(
      table([
        ['where the time went', 'statements', 'ms', 'µs a row'],
        ...rows.map(([name, kind]) => [name, String(kind.count), kind.ms.toFixed(0), perRow(kind.ms)]),
        [
          'between statements: the event loop, waits',
          '',
          (wallMs - statementsMs).toFixed(0),
          perRow(wallMs - statementsMs),
        ],
        ['the whole sweep (wall)', '', wallMs.toFixed(0), perRow(wallMs)],
      ]),
    );
    print(`event loop busy ${(loopBusy * 100).toFixed(0)}% of the sweep`);
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
