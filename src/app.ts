import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Config } from './config.js';
import { schema } from './graphql/schema.js';
import { SessionCookie } from './http/cookies.js';
import { createEventBus } from './events/bus.js';
import { SessionEndWatcher } from './events/session-end-watcher.js';
import { toSessionEventMessage } from './events/types.js';
import { Metrics } from './http/metrics.js';
import { createHttpServer } from './http/server.js';
import { ShutdownSignal } from './http/shutdown-signal.js';
import { attachWebSocketServer } from './http/websocket.js';
import { createViewerResolver } from './http/viewer.js';
import { createGatehouseYoga, type GatehouseYoga } from './http/yoga.js';
import { consoleLogger, type Logger } from './logger.js';
import { systemClock, type Clock } from './sessions/clock.js';
import { createArgon2Hasher, type PasswordHasher } from './sessions/passwords.js';
import { SessionService } from './sessions/service.js';
import { Sweeper } from './sessions/sweeper.js';
import { ViewerCache } from './sessions/viewer-cache.js';
import { createDatabase, databaseKind, migrateToLatest } from './storage/database.js';
import { KnexSessionStore } from './storage/knex-store.js';

export interface AppOverrides {
  /** Time source for expiry rules. Default: the system clock. */
  clock?: Clock;
  /** Default: JSON lines on stderr. */
  logger?: Logger;
  /** Default: argon2id at OWASP's parameters. */
  hasher?: PasswordHasher;
}

export interface App {
  config: Config;
  yoga: GatehouseYoga;
  server: Server;
  db: Knex;
  sessions: SessionService;
  sweeper: Sweeper;
  /** Migrates, makes sure an admin exists, listens. Resolves with the URL it listens on. */
  start(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, flushes and closes the database. */
  stop(): Promise<void>;
}

/** Validated sessions kept per process; enough for a busy instance, bounded for memory. */
const VIEWER_CACHE_ENTRIES = 50_000;
/** How long stop() waits for requests in flight before cutting their connections. */
const STOP_GRACE_MS = 5_000;

export function buildApp(config: Config, overrides: AppOverrides = {}): App {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? consoleLogger;
  const db = createDatabase(config.databaseUrl);
  const store = new KnexSessionStore(db, config.databaseUrl);
  // The cache is only safe where every end of a session reaches this process at once. With
  // SQLite, this process is the only writer. PostgreSQL may be shared by several instances,
  // whose ends arrive over the event bus, so there the cache waits for REDIS_URL.
  const cacheIsSafe = databaseKind(config.databaseUrl) === 'sqlite' || config.redisUrl !== undefined;
  const sessions = new SessionService({
    store,
    hasher: overrides.hasher ?? createArgon2Hasher(),
    clock,
    logger,
    policy: {
      maxAgeMs: config.sessionMaxAgeMs,
      idleTimeoutMs: config.sessionIdleTimeoutMs,
      maxSessionsPerUser: config.maxSessionsPerUser,
      limitStrategy: config.sessionLimitStrategy,
    },
    ...(cacheIsSafe ? { cache: new ViewerCache(VIEWER_CACHE_ENTRIES) } : {}),
  });
  const shutdown = new ShutdownSignal();
  const bus = createEventBus({ redisUrl: config.redisUrl, channelPrefix: config.redisChannelPrefix, logger });
  sessions.addListener({
    sessionStarted: (session) => bus.publish(toSessionEventMessage('STARTED', session)),
    sessionEnded: (session) => bus.publish(toSessionEventMessage('ENDED', session)),
  });
  const watcher = new SessionEndWatcher(bus, logger);
  // Ends on other instances arrive here; ends in this process were already evicted, twice is harmless.
  watcher.onAnyEnded((event) => sessions.evictFromCache(event.session.id));
  bus.onConnectionChange((connected) => {
    // While ends from other instances cannot arrive, the cache could serve one: it is bypassed.
    sessions.setCacheEnabled(connected);
    if (connected) {
      watcher
        .recheckWatched((id) => sessions.findSession(id))
        .catch((error: unknown) => logger.error('re-check after reconnect failed', { error }));
    }
  });
  const cookie = new SessionCookie({ name: config.cookieName, secure: config.cookieSecure });
  const resolveViewer = createViewerResolver(sessions, cookie);
  const yoga = createGatehouseYoga({
    schema,
    sessions,
    resolveViewer,
    cookie,
    clock,
    logger,
    pubsub: bus.pubsub,
    watcher,
    shutdown,
    trustProxy: config.trustProxy,
    production: config.nodeEnv === 'production',
    graphiql: config.graphiql,
    introspection: config.introspection,
    allowedOrigins: config.allowedOrigins,
  });
  const metrics = new Metrics(sessions);
  sessions.addListener({ authEvent: (event) => metrics.countAuthEvent(event) });
  const server = createHttpServer({ yoga, store, resolveViewer, logger, metrics });
  const webSockets = attachWebSocketServer({
    server,
    yoga,
    resolveViewer,
    watcher,
    sessions,
    metrics,
    logger,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
  });
  const sweeper = new Sweeper({
    sessions,
    intervalMs: config.sweepIntervalMs,
    sessionRetentionMs: config.sessionRetentionMs,
    authEventRetentionMs: config.authEventRetentionMs,
    logger,
  });

  async function start(): Promise<string> {
    await migrateToLatest(db);
    const admin = await sessions.ensureAdmin({ username: config.adminUsername, password: config.adminPassword });
    if (admin?.generatedPassword) {
      // Printed once, on stdout, so an operator can sign in; it is never stored in clear.
      process.stdout.write(
        `No admin existed: created user "${admin.user.username}" with password: ${admin.generatedPassword}\n`,
      );
    } else if (admin) {
      logger.info('created admin', { username: admin.user.username });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    sweeper.start();
    const { address, port } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}`;
  }

  async function stop(): Promise<void> {
    // close() stops accepting and waits for in-flight requests; idle keep-alive sockets would
    // hold it open forever, so those are closed now.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // close() drops only the connections idle right now; a keep-alive connection busy with a
    // request would be kept for the next one. Sweep again as they finish their responses.
    const idleSweep = setInterval(() => server.closeIdleConnections(), 25);
    server.closeIdleConnections();
    // Streams never finish by themselves: end every subscription (SSE responses then complete)
    // and close the sockets, then wait for ordinary requests in flight.
    shutdown.trigger();
    await webSockets.close();
    const forceClose = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    await closed;
    clearTimeout(forceClose);
    clearInterval(idleSweep);
    await watcher.close();
    await sweeper.stop();
    await sessions.close();
    await bus.close();
    await db.destroy();
  }

  return { config, yoga, server, db, sessions, sweeper, start, stop };
}
