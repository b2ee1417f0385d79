import type { Knex } from 'knex';
import { buildApp, type App, type AppOverrides } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { TestClient } from './client.js';
import { ManualClock } from './clock.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { createUser, signIn } from './sessions.js';

export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = 'admin-password-for-tests';

/** The scheduled sweeper must not run in the middle of a test that moves the clock. */
export const QUIET_SWEEPER = { SWEEP_INTERVAL: '1h' };

export interface TestServer {
  app: App;
  url: string;
  database: TestDatabase;
  clock: ManualClock;
  /** The app's own database handle: for reading (and planting) rows the API does not show. */
  readonly db: Knex;
  /** A new client with an empty cookie jar. */
  client(headers?: Record<string, string>): TestClient;
  /** A client signed in as the admin. */
  adminClient(): Promise<TestClient>;
  /** Creates a USER (through a new admin session) unless it exists, and returns a client signed in as them. */
  userClient(username: string, password?: string): Promise<TestClient>;
  /** Stops the app and keeps its database, for what a stopped server leaves behind. */
  stopApp(): Promise<void>;
  /** Stops the app (unless {@link stopApp} did) and drops the database. */
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Settings as environment variables, e.g. `{ MAX_SESSIONS_PER_USER: '1' }`. */
  env?: Record<string, string>;
  database?: 'sqlite' | 'postgres';
  overrides?: AppOverrides;
}

/**
 * A Gatehouse on a free loopback port over an existing `database` (several may share one), with
 * the test admin and `clock`. If it cannot start, it is stopped again before the error is thrown.
 */
export async function startAppOn(
  database: TestDatabase,
  clock: ManualClock,
  env: Record<string, string> = {},
  overrides: AppOverrides = {},
): Promise<{ app: App; url: string }> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    ADMIN_USERNAME,
    ADMIN_PASSWORD,
    ...env,
  });
  const app = buildApp(config, { clock, logger: silentLogger, ...overrides });
  try {
    return { app, url: await app.start() };
  } catch (error) {
    await app.stop().catch(() => undefined);
    throw error;
  }
}

/**
 * A real Gatehouse on a free loopback port, over a fresh database, with a clock the test
 * controls. Everything else (HTTP, SQL, hashing) is the production code path.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = await createTestDatabase(options.database ?? 'sqlite');
  const clock = new ManualClock();
  const { app, url } = await startAppOn(database, clock, options.env, options.overrides);

  let appStopped: Promise<void> | undefined;
  const server: TestServer = {
    app,
    url,
    database,
    clock,
    get db() {
      return app.db;
    },
    client: (headers) => new TestClient(url, headers),
    async adminClient() {
      return (await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD)).client;
    },
    async userClient(username, password) {
      const admin = await server.adminClient();
      try {
        await createUser(admin, username, password);
      } catch (error) {
        if (!String(error).includes('Username is already taken')) throw error;
      }
      return (await signIn(server, username, password)).client;
    },
    stopApp() {
      appStopped ??= app.stop();
      return appStopped;
    },
    async stop() {
      await server.stopApp();
      await database.drop();
    },
  };
  return server;
}
