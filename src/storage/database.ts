import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../../migrations/index.js';
import { throttledLogger, type Logger } from '../logger.js';
import type { Stores } from '../sessions/store.js';
import { KnexAuthEventStore } from './auth-event-store.js';
import { KnexLoginThrottleStore } from './login-throttle-store.js';
import { KnexSessionStore } from './session-store.js';
import { SqliteClientKeepingStatements } from './sqlite-statements.js';
import { KnexUserStore } from './user-store.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(databaseUrl: string): DatabaseKind {
  return databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres';
}

/**
 * Every SQLite connection: WAL so readers never wait for the writer; synchronous=FULL so an
 * acknowledged logout survives a power cut; foreign keys on (off by default in SQLite); and a
 * busy timeout instead of failing at once if another process holds the write lock.
 */
const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA synchronous = FULL',
  'PRAGMA foreign_keys = ON',
  'PRAGMA busy_timeout = 5000',
].join('; ');

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
/** A connection attempt to an unresponsive PostgreSQL gives up after this long. */
const CONNECT_TIMEOUT_MS = 3_000;

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

/** Opens the database named by `DATABASE_URL` (see config). Does not migrate. */
export function createDatabase(databaseUrl: string, logger: Logger): Knex {
  if (databaseKind(databaseUrl) === 'postgres') {
    return knex({
      client: 'pg',
      connection: {
        connectionString: databaseUrl,
        types: pgTypes,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      } as Knex.PgConnectionConfig,
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: ACQUIRE_CONNECTION_TIMEOUT_MS,
      log: driverLog(logger),
    });
  }
  const filename = databaseUrl.slice('sqlite:'.length);
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return knex({
    client: SqliteClientKeepingStatements as unknown as typeof Knex.Client,
    connection: { filename },
    useNullAsDefault: true,
    acquireConnectionTimeout: ACQUIRE_CONNECTION_TIMEOUT_MS,
    log: driverLog(logger),
    // One connection: SQLite has one writer anyway, and a single connection makes every
    // transaction (a login applying the session limit) run alone without SQLITE_BUSY retries.
    pool: {
      min: 1,
      max: 1,
      afterCreate(
        connection: { exec(sql: string, done: (error: Error | null) => void): void },
        done: (error: Error | null, connection: unknown) => void,
      ) {
        connection.exec(SQLITE_PRAGMAS, (error) => done(error, connection));
      },
    },
  });
}

/** Brings the schema up to date; run at every start. */
export async function migrateToLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** Every store the session rules need, over one Knex instance. */
export function createStores(db: Knex, databaseUrl: string): Stores {
  return {
    users: new KnexUserStore(db),
    sessions: new KnexSessionStore(db, databaseKind(databaseUrl)),
    loginThrottles: new KnexLoginThrottleStore(db),
    authEvents: new KnexAuthEventStore(db, databaseKind(databaseUrl)),
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
