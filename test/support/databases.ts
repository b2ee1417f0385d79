import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { silentLogger } from '../../src/logger.js';
import { createDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

/** A database for one test server, created empty and dropped afterwards. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  /** For SQLite, the file; tests scan it for secrets. */
  sqlitePath?: string;
  drop(): Promise<void>;
}

/** PostgreSQL suites run when this is set (`.ci/run` sets it). */
export const POSTGRES_URL = process.env.TEST_POSTGRES_URL;

export const DATABASE_KINDS: Array<'sqlite' | 'postgres'> = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export function createSqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const sqlitePath = join(dir, 'gatehouse.db');
  return {
    kind: 'sqlite',
    url: `sqlite:${sqlitePath}`,
    sqlitePath,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function createPostgresDatabase(): Promise<TestDatabase> {
  if (!POSTGRES_URL) throw new Error('TEST_POSTGRES_URL is not set');
  const name = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function createTestDatabase(kind: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  return kind === 'sqlite' ? Promise.resolve(createSqliteDatabase()) : createPostgresDatabase();
}

/** A fresh, migrated database with the app's own Knex over it: for tests of one store. */
export interface MigratedDatabase {
  db: Knex;
  url: string;
  /** Closes the Knex and drops the database. */
  close(): Promise<void>;
}

export async function openMigratedDatabase(kind: 'sqlite' | 'postgres'): Promise<MigratedDatabase> {
  const database = await createTestDatabase(kind);
  const db = createDatabase(database.url, silentLogger);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    await database.drop();
    throw error;
  }
  return {
    db,
    url: database.url,
    async close() {
      await db.destroy();
      await database.drop();
    },
  };
}
