/**
 * Start-up work on a database that other processes may be starting on at the same moment (two
 * replicas of a first rollout, a server and `gatehouse migrate`): the migrations, and the first
 * admin (app.ts). Unguarded, both processes found no `knex_migrations` table and created it (one
 * died on a duplicate `pg_type` key; on SQLite, on "table already exists"), and both found no
 * admin and created one (one died on "Username is already taken").
 *
 * PostgreSQL: the work runs under a session-level advisory lock, held on a connection of its own
 * for as long as the work takes. SQLite has no such lock between processes: the migrations run
 * in one transaction, so a process that loses the race rolls back whole and tries again, and
 * finds them done; the first admin is safe by itself (UserService.ensureAdmin).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import knex, { type Knex } from 'knex';
import { migrationSource } from '../../migrations/index.js';
import { consoleLogger, type Logger } from '../logger.js';
import { MIGRATION_QUERY_TIMEOUT_MS } from './postgres-connections.js';

/** Any fixed number (session-store.ts has another): the advisory lock of start-up work. */
const STARTUP_LOCK = 7_404_001;
/** How long a process waits for another's start-up work before it gives up, naming why. */
const STARTUP_WAIT_MS = 5 * 60_000;
const STARTUP_POLL_MS = 100;
/** While waiting, one log line this often. */
const STARTUP_LOG_EVERY_MS = 5_000;

/** A pooled connection as Knex hands it out: only passed back to Knex here. */
type Connection = unknown;

const isPostgres = (db: Knex) => db.client.config.client === 'pg';

/** Brings the schema up to date; run at every start, by any number of processes at once. */
export async function migrateToLatest(db: Knex, logger: Logger = consoleLogger): Promise<void> {
  if (isPostgres(db)) await withStartupLock(db, logger, () => migratePostgres(db));
  else await migrateSqlite(db, logger);
}

/** Runs `work` while no other process runs start-up work on this database (PostgreSQL; SQLite: at once). */
export async function withStartupLock<T>(db: Knex, logger: Logger, work: () => Promise<T>): Promise<T> {
  if (!isPostgres(db)) return work();
  const client = db.client as Knex.Client;
  const connection = (await client.acquireConnection()) as Connection;
  const on = (sql: string) => db.raw(sql, [STARTUP_LOCK]).connection(connection);
  try {
    const wait = new StartupWait(logger);
    for (;;) {
      const { rows } = (await on('SELECT pg_try_advisory_lock(?) AS locked')) as { rows: Array<{ locked: boolean }> };
      if (rows[0]?.locked) break;
      await wait.next(() => lockHolder(db, connection));
    }
    try {
      return await work();
    } finally {
      // A connection lost meanwhile took the lock with it: nothing to release then.
      await on('SELECT pg_advisory_unlock(?)').catch(() => undefined);
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

/** Who holds the start-up lock now, for the log line of a process waiting for it. */
async function lockHolder(db: Knex, connection: Connection) {
  const { rows } = (await db
    .raw(
      `SELECT l.pid, a.application_name AS "applicationName", a.client_addr AS "clientAddress"
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.objid = ? AND l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [STARTUP_LOCK],
    )
    .connection(connection)) as { rows: unknown[] };
  return { heldBy: rows[0] ?? 'nobody (just released)' };
}

/**
 * On a Knex of its own: the pool's query timeout is meant for requests, and an index built over
 * a large table takes minutes (postgres-connections.ts).
 */
async function migratePostgres(db: Knex): Promise<void> {
  const config = db.client.config as Knex.Config;
  const connection = config.connection as Knex.PgConnectionConfig;
  const migrator = knex({
    ...config,
    connection: { ...connection, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as Knex.PgConnectionConfig,
    pool: { min: 0, max: 2 },
  });
  try {
    await migrator.migrate.latest({ migrationSource });
  } finally {
    await migrator.destroy();
  }
}

/**
 * In one transaction: SQLite serialises writers, and a writer whose reads are older than
 * another's commit fails (SQLITE_BUSY) instead of acting on them, so the loser's tables and
 * knex's lock row never half exist beside the winner's.
 */
async function migrateSqlite(db: Knex, logger: Logger): Promise<void> {
  // knex takes its lock (a write) before it looks: beside a busy server, that write waits for
  // the server's and knex logs a warning of its own each time. Nothing to do needs no write.
  if (await isUpToDate(db)) return;
  const wait = new StartupWait(logger);
  for (;;) {
    try {
      await db.transaction((trx) => trx.migrate.latest({ migrationSource }));
      return;
    } catch (error) {
      if (!isAnotherProcessMigrating(error)) throw error;
      await wait.next(() => ({ error: (error as Error).message }));
    }
  }
}

/** Whether every migration is recorded as run, read without a write (false when unsure). */
async function isUpToDate(db: Knex): Promise<boolean> {
  try {
    const rows: Array<{ name: string }> = await db('knex_migrations').select('name');
    const done = new Set(rows.map((row) => row.name));
    const all = await migrationSource.getMigrations([]);
    return all.every((name) => done.has(migrationSource.getMigrationName(name)));
  } catch {
    return false;
  }
}

/**
 * SQLite's write lock held by another process, knex's migration lock taken by one, or knex's
 * own tables created by one after this process looked for them (its first write comes after
 * that look; every later step runs under knex's lock, in this transaction).
 */
function isAnotherProcessMigrating(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return true;
  return (
    error instanceof Error &&
    (error.name === 'MigrationLocked' || /table `?knex_migrations(_lock)?`? already exists/.test(error.message))
  );
}

/** Waiting for another process's start-up work: polled, logged every few seconds, bounded. */
class StartupWait {
  private readonly startedAt = performance.now();
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly logger: Logger) {}

  /** Sleeps before the next try; throws once the wait has lasted {@link STARTUP_WAIT_MS}. */
  async next(details: () => Promise<Record<string, unknown>> | Record<string, unknown>): Promise<void> {
    const waitedMs = Math.round(performance.now() - this.startedAt);
    if (waitedMs >= STARTUP_WAIT_MS || performance.now() - this.loggedAt >= STARTUP_LOG_EVERY_MS) {
      const fields = { waitedMs, ...(await details()) };
      if (waitedMs >= STARTUP_WAIT_MS) {
        throw new Error(
          `gave up after ${waitedMs} ms waiting for another process's start-up work (migrations, the first admin) ` +
            `on this database: ${JSON.stringify(fields)}`,
        );
      }
      this.logger.info('waiting for another process to finish its start-up work on this database', fields);
      this.loggedAt = performance.now();
    }
    await sleep(STARTUP_POLL_MS);
  }
}
