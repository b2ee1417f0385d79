import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { throttledLogger, type Logger } from '../logger.js';
import type { Stores } from '../sessions/store.js';
import { KnexAuthEventStore } from './auth-event-store.js';
import { databaseKind } from './database-kind.js';
import { KnexLoginThrottleStore } from './login-throttle-store.js';
import { KnexPasskeyStore } from './passkey-store.js';
import { postgresConnectionSettings, timedOutConnectionDropper } from './postgres-connections.js';
import { KnexPendingLoginStore } from './pending-login-store.js';
import { KnexSecondFactorStore } from './second-factor-store.js';
import { KnexSessionStore } from './session-store.js';
import { SqliteClientKeepingStatements } from './sqlite-statements.js';
import { KnexServiceTokenStore } from './service-token-store.js';
import { KnexUserStore } from './user-store.js';
import { KnexWebauthnChallengeStore } from './webauthn-challenge-store.js';

/** Wait this long for a lock another process holds, instead of failing at once. */
const SQLITE_BUSY_TIMEOUT = 'PRAGMA busy_timeout = 5000';

/**
 * The writing SQLite connection: WAL so readers never wait for the writer; synchronous=FULL so
 * an acknowledged logout survives a power cut; foreign keys on (off by default in SQLite); and
 * the busy timeout.
 */
const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA synchronous = FULL',
  'PRAGMA foreign_keys = ON',
  SQLITE_BUSY_TIMEOUT,
].join('; ');

/** The read connection's: it never writes, and waits for a lock only in SQLite's rare cases. */
const SQLITE_READER_PRAGMAS = ['PRAGMA query_only = ON', SQLITE_BUSY_TIMEOUT].join('; ');

/** Timestamps are stored as epoch milliseconds in a bigint; pg returns int8 as a string by default. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * A request waits this long for a connection before failing (UNAVAILABLE, 503): during an
 * outage it must answer, not hang for Knex's default minute.
 */
const ACQUIRE_CONNECTION_TIMEOUT_MS = 5_000;

/**
 * The driver's own messages (Knex prints them with stacks on stdout) as JSON log lines, the
 * first line only, at most one a second per kind: an outage repeats them on every request.
 */
function driverLog(logger: Logger): Knex.Config['log'] {
  const log = throttledLogger(logger);
  const write = (level: 'warn' | 'error') => (message: unknown) => {
    const text = typeof message === 'string' ? message : String(message);
    const firstLine = text.split('\n', 1)[0] ?? '';
    const kind = firstLine.split(':', 1)[0] ?? firstLine;
    log(level, `driver:${kind}`, 'database driver', { detail: firstLine.slice(0, 500) });
  };
  return { warn: write('warn'), error: write('error'), deprecate: write('warn'), debug: () => {} };
}

/** A pool's `afterCreate` that runs `pragmas` on every new SQLite connection. */
function runPragmas(pragmas: string) {
  return (
    connection: { exec(sql: string, done: (error: Error | null) => void): void },
    done: (error: Error | null, connection: unknown) => void,
  ) => connection.exec(pragmas, (error) => done(error, connection));
}

/** Opens the database named by `DATABASE_URL` (see config). Does not migrate. */
export function createDatabase(databaseUrl: string, logger: Logger): Knex {
  if (databaseKind(databaseUrl) === 'postgres') return openPostgres(databaseUrl, logger);
  const filename = databaseUrl.slice('sqlite:'.length);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  // One connection: SQLite has one writer anyway, and a single connection makes every
  // transaction (a login applying the session limit) run alone without SQLITE_BUSY retries.
  return openSqlite(filename, logger, { min: 1, max: 1, afterCreate: runPragmas(SQLITE_PRAGMAS) });
}

/** PostgreSQL's pool, every wait bounded (see postgres-connections.ts). */
function openPostgres(databaseUrl: string, logger: Logger): Knex {
  const dropper = timedOutConnectionDropper();
  const db = knex({
    client: 'pg',
    connection: { ...postgresConnectionSettings(databaseUrl), types: pgTypes } as Knex.PgConnectionConfig,
    pool: { min: 0, max: 10, afterCreate: dropper.afterCreate },
    acquireConnectionTimeout: ACQUIRE_CONNECTION_TIMEOUT_MS,
    log: driverLog(logger),
  });
  db.on('query-error', dropper.queryFailed);
  return db;
}

/** A Knex over one SQLite file, keeping prepared statements, with `pool`. */
function openSqlite(filename: string, logger: Logger, pool: Knex.PoolConfig): Knex {
  return knex({
    client: SqliteClientKeepingStatements as unknown as typeof Knex.Client,
    connection: { filename },
    useNullAsDefault: true,
    acquireConnectionTimeout: ACQUIRE_CONNECTION_TIMEOUT_MS,
    log: driverLog(logger),
    pool,
  });
}

/**
 * SQLite's second connection, for the reads that must not queue behind a write: a request's
 * session lookup and the end log's poll. The writer's one connection is held by a write while
 * it waits for the lock, and another process may hold the lock for seconds (the command line, a
 * second instance, a bulk import); every read behind that write would wait too, the poll's
 * proof would lapse and the session cache with it. In WAL mode a reader never waits for a
 * writer, and a read that starts after a commit sees it. Undefined for PostgreSQL (its pool
 * already reads beside writes) and for `sqlite::memory:` (a second connection would open
 * another, empty database).
 */
export function createReadDatabase(databaseUrl: string, logger: Logger): Knex | undefined {
  const filename = databaseUrl.slice('sqlite:'.length);
  if (databaseKind(databaseUrl) === 'postgres' || filename === ':memory:') return undefined;
  return openSqlite(filename, logger, { min: 0, max: 1, afterCreate: runPragmas(SQLITE_READER_PRAGMAS) });
}

/** Every store the session rules need, over one Knex instance (and its reader, see createReadDatabase). */
export function createStores(db: Knex, databaseUrl: string, reads: Knex = db): Stores {
  return {
    users: new KnexUserStore(db),
    sessions: new KnexSessionStore(db, databaseKind(databaseUrl), reads),
    loginThrottles: new KnexLoginThrottleStore(db),
    authEvents: new KnexAuthEventStore(db, databaseKind(databaseUrl)),
    secondFactors: new KnexSecondFactorStore(db, databaseKind(databaseUrl)),
    pendingLogins: new KnexPendingLoginStore(db, reads),
    passkeys: new KnexPasskeyStore(db, databaseKind(databaseUrl)),
    webauthnChallenges: new KnexWebauthnChallengeStore(db),
    serviceTokens: new KnexServiceTokenStore(db, reads),
  };
}

/** True when the database answers a trivial query. */
export async function pingDatabase(db: Knex): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  }
}
