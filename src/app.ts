/**
 * The server: the core (`core.ts`) with HTTP, SSE and WebSocket on top, and the lifecycle that
 * starts and stops them in order.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createCore, type Core, type CoreOverrides } from './core.js';
import { schema } from './graphql/schema.js';
import { SessionCookie } from './http/cookies.js';
import { Metrics } from './http/metrics.js';
import { createHttpServer } from './http/server.js';
import { ShutdownSignal } from './http/shutdown-signal.js';
import { attachWebSocketServer } from './http/websocket.js';
import { createViewerResolver } from './http/viewer.js';
import { createGatehouseYoga, type GatehouseYoga } from './http/yoga.js';
import { pingDatabase } from './storage/database.js';

export type AppOverrides = CoreOverrides;

export interface App extends Pick<Core, 'config' | 'db' | 'services' | 'sweeper'> {
  core: Core;
  yoga: GatehouseYoga;
  server: Server;
  /** Migrates, makes sure an admin exists, listens. Resolves with the URL it listens on. */
  start(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish, flushes and closes the database. */
  stop(): Promise<void>;
}

/** How long stop() waits for requests in flight before cutting their connections. */
const STOP_GRACE_MS = 5_000;
/** How often stop() closes keep-alive connections that have finished their request. */
const IDLE_SWEEP_MS = 25;

/** The transports on top of a core: Yoga over HTTP and SSE, graphql-ws, forward auth, metrics. */
function buildTransports(core: Core, shutdown: ShutdownSignal) {
  const { config, services } = core;
  const cookie = new SessionCookie({ name: config.cookieName, secure: config.cookieSecure });
  const resolveViewer = createViewerResolver(services.authenticator, cookie);
  const yoga = createGatehouseYoga({
    ...{ schema, services, resolveViewer, cookie, shutdown },
    ...{ clock: core.clock, logger: core.logger, pubsub: core.bus.pubsub, watcher: core.watcher },
    trustProxy: config.trustProxy,
    production: config.nodeEnv === 'production',
    graphiql: config.graphiql,
    introspection: config.introspection,
    allowedOrigins: config.allowedOrigins,
  });
  const metrics = new Metrics(services);
  services.lifecycle.addListener({ authEvent: (event) => metrics.countAuthEvent(event) });
  const isReady = () => pingDatabase(core.db);
  const server = createHttpServer({ yoga, resolveViewer, isReady, logger: core.logger, metrics });
  const { allowedOrigins, trustProxy } = config;
  const webSockets = attachWebSocketServer({
    server,
    yoga,
    resolveViewer,
    watcher: core.watcher,
    metrics,
    allowedOrigins,
    trustProxy,
  });
  return { yoga, server, webSockets };
}

/** Creates the configured admin, or `admin` with a random password printed once, when none exists. */
async function ensureAdmin(core: Core): Promise<void> {
  const { adminUsername: username, adminPassword: password } = core.config;
  const admin = await core.services.users.ensureAdmin({ username, password });
  if (admin?.generatedPassword) {
    // Printed once, on stdout, so an operator can sign in; it is never stored in clear.
    process.stdout.write(
      `No admin existed: created user "${admin.user.username}" with password: ${admin.generatedPassword}\n`,
    );
  } else if (admin) {
    core.logger.info('created admin', { username: admin.user.username });
  }
}

function listen(server: Server, port: number, host: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const { address, port: bound } = server.address() as AddressInfo;
      resolve(`http://${address.includes(':') ? `[${address}]` : address}:${bound}`);
    });
  });
}

export function buildApp(config: Config, overrides: AppOverrides = {}): App {
  const core = createCore(config, overrides);
  const shutdown = new ShutdownSignal();
  const { yoga, server, webSockets } = buildTransports(core, shutdown);

  async function start(): Promise<string> {
    await core.migrate();
    await ensureAdmin(core);
    const url = await listen(server, config.port, config.host);
    core.sweeper.start();
    return url;
  }

  async function stop(): Promise<void> {
    // close() stops accepting and waits for in-flight requests, dropping the connections idle
    // right now; a keep-alive connection busy with a request would be kept for the next one,
    // so idle ones are closed again as they finish their responses.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const idleSweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    server.closeIdleConnections();
    // Streams never finish by themselves: end every subscription (SSE responses then complete)
    // and close the sockets, then wait for ordinary requests in flight.
    shutdown.trigger();
    await webSockets.close();
    const forceClose = setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS);
    await closed;
    clearTimeout(forceClose);
    clearInterval(idleSweep);
    await core.close();
  }

  const { db, services, sweeper } = core;
  return { config, core, db, services, sweeper, yoga, server, start, stop };
}
