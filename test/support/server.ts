import { buildApp, type App, type AppOverrides } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { TestClient } from './client.js';
import { ManualClock } from './clock.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestServer {
  app: App;
  url: string;
  database: TestDatabase;
  clock: ManualClock;
  /** A new client with an empty cookie jar. */
  client(headers?: Record<string, string>): TestClient;
  /** A client signed in as the admin. */
  adminClient(): Promise<TestClient>;
  /** Creates a USER (through the admin) and returns a client signed in as them. */
  userClient(username: string, password?: string): Promise<TestClient>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Settings as environment variables, e.g. `{ MAX_SESSIONS_PER_USER: '1' }`. */
  env?: Record<string, string>;
  database?: 'sqlite' | 'postgres';
  overrides?: AppOverrides;
}

const LOGIN = `mutation($username: String!, $password: String!) { login(username: $username, password: $password) { user { id } } }`;
const CREATE_USER = `mutation($username: String!, $password: String!) { createUser(username: $username, password: $password) { id } }`;

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

  const server: TestServer = {
    app,
    url,
    database,
    clock,
    client: (headers) => new TestClient(url, headers),
    async adminClient() {
      const client = new TestClient(url);
      await client.data(LOGIN, { username: ADMIN_USERNAME, password: ADMIN_PASSWORD });
      return client;
    },
    async userClient(username, password = `${username}-password`) {
      const admin = await server.adminClient();
      const existing = await admin.request(CREATE_USER, { username, password });
      if (existing.errors && existing.errors[0]?.message !== 'Username is already taken') {
        throw new Error(JSON.stringify(existing.errors));
      }
      const client = new TestClient(url);
      await client.data(LOGIN, { username, password });
      return client;
    },
    async stop() {
      await app.stop();
      await database.drop();
    },
  };
  return server;
}
