/**
 * The server: the core (`core.ts`) with HTTP, SSE and WebSocket on top, and the lifecycle that
 * starts and stops them in order.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createCore, type Core, type CoreOptions } from './core.js';
import { schema } from './graphql/schema.js';
import { createBrowserPages } from './http/console.js';
import { boundCookieName, SessionCookie } from './http/cookies.js';
import { createDbscRoutes } from './http/dbsc.js';
import { createWireErrors } from './http/errors.js';
import { Metrics } from './http/metrics.js';
import { createOriginCheck } from './http/origins.js';
import { createPlainHttpCookieWarning, plainHttpStartWarning } from './http/plain-http.js';
import { createHttpServer } from './http/server.js';
import { ShutdownSignal } from './http/shutdown-signal.js';
import { attachWebSocketServer } from './http/websocket.js';
import { createPendingLoginResolver, createViewerResolver } from './http/viewer.js';
import { createWebauthnSites } from './http/webauthn-site.js';
import { createGatehouseYoga, type GatehouseYoga } from './http/yoga.js';
import { pingDatabase } from './storage/database.js';
import { withStartupLock } from './storage/migrate.js';
import { isDatabaseOutage } from './storage/outage.js';

/** What tests and benchmarks may replace: the clock, the logger, the hasher, the WebSocket keep-alive. */
export type AppOverrides = Omit<CoreOptions, 'serving'> & {
  /** How often every WebSocket is pinged (a peer that misses one is dropped). Default 12 000 ms. */
  webSocketKeepAliveMs?: number;
};

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
function buildTransports(core: Core, shutdown: ShutdownSignal, keepAliveMs: number | undefined) {
  const { config, services, watcher } = core;
  const production = config.nodeEnv === 'production';
  const errors = createWireErrors({ logger: core.logger, hideSuggestions: production, isOutage: isDatabaseOutage });
  const cookie = new SessionCookie({ name: config.cookieName, secure: config.cookieSecure });
  const boundCookie = new SessionCookie({ name: boundCookieName(config.cookieName), secure: config.cookieSecure });
  const resolveViewer = createViewerResolver(services.authenticator, cookie, boundCookie);
  const resolvePendingLogin = createPendingLoginResolver(services.pendingLogins, cookie);
  const { allowedOrigins, trustProxy } = config;
  const checkOrigin = createOriginCheck(allowedOrigins, core.logger);
  const webauthnSites = createWebauthnSites({
    ...{ rpId: config.webauthnRpId, origins: config.webauthnOrigins, allowedOrigins, trustProxy },
  });
  const yoga = createGatehouseYoga({
    ...{ schema, services, resolveViewer, resolvePendingLogin, cookie, boundCookie, shutdown, errors, watcher },
    production,
    ...{ clock: core.clock, pubsub: core.pubsub, trustProxy, allowedOrigins, checkOrigin, webauthnSites },
    introspection: config.introspection,
    webhooks: core.webhooks.admin,
    onSessionCookieSet: config.cookieSecure ? createPlainHttpCookieWarning(trustProxy, core.logger) : undefined,
  });
  const metrics = createMetrics(core);
  const partsDown = async () => ((await pingDatabase(core.db)) ? [] : ['database']);
  const browserPages = createBrowserPages({ graphiql: config.graphiql, resolveViewer });
  const metricsSettings = { metricsToken: config.metricsToken, production };
  const dbsc = createDbscRoutes({
    ...{ binding: services.deviceBinding, cookie, bound: boundCookie, clock: core.clock, trustProxy },
    logger: core.logger,
    onOutcome: metrics && ((kind, result) => metrics.countDbsc(kind, result)),
  });
  const server = createHttpServer({
    ...{ yoga, resolveViewer, partsDown, errors, metrics, metricsSettings, browserPages, dbsc },
  });
  const webSockets = attachWebSocketServer({
    ...{ server, yoga, resolveViewer, watcher, metrics, errors, serviceTokens: services.serviceTokens },
    ...{ checkOrigin, trustProxy, keepAliveMs },
  });
  return { yoga, server, webSockets };
}

/**
 * Metrics, fed by the core's hooks; none at all in production without METRICS_TOKEN, where
 * nobody could read them (so requests pay nothing for them).
 */
function createMetrics(core: Core): Metrics | undefined {
  const { config, services, feed, sweeper, propagation, webhooks } = core;
  if (config.nodeEnv === 'production' && config.metricsToken === undefined) return undefined;
  const metrics = new Metrics(services, propagation);
  services.lifecycle.addListener({
    authEvent: (event) => metrics.countAuthEvent(event),
    loginFinished: (outcome, ms) => metrics.observeLogin(outcome, ms / 1000),
  });
  feed.onPush((ms) => metrics.observePush(ms / 1000));
  feed.onEnded((event) => metrics.countSessionEnd(event.reason));
  sweeper.onSwept((_result, ms) => metrics.observeSweep(ms / 1000));
  webhooks.worker?.onAttempted(({ status, durationMs }) => metrics.observeWebhookAttempt(status, durationMs / 1000));
  return metrics;
}

/**
 * Creates the configured admin, or `admin` with a random password printed once, when none
 * exists. Under the start-up lock: of two instances starting at once, one creates it and the
 * other finds it (on SQLite, where there is no such lock, ensureAdmin itself sees to that).
 */
async function ensureAdmin(core: Core): Promise<void> {
  const { adminUsername: username, adminPassword: password } = core.config;
  const admin = await withStartupLock(core.db, core.logger, () =>
    core.services.users.ensureAdmin({ username, password }),
  );
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
  const { webSocketKeepAliveMs, ...coreOverrides } = overrides;
  const core = createCore(config, { ...coreOverrides, serving: true });
  const shutdown = new ShutdownSignal();
  const { yoga, server, webSockets } = buildTransports(core, shutdown, webSocketKeepAliveMs);

  async function start(): Promise<string> {
    await core.start();
    await ensureAdmin(core);
    const url = await listen(server, config.port, config.host);
    const plainHttp = plainHttpStartWarning(config);
    if (plainHttp) core.logger.warn(plainHttp);
    core.sweeper.start();
    core.webhooks.worker?.start();
    return url;
  }

  async function stop(): Promise<void> {
    // A sweep in progress stops after its current batch while the requests drain, rather than
    // running on (a million expired rows) and keeping the process past its grace period.
    const sweeperStopped = core.sweeper.stop();
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
    await sweeperStopped;
    await core.close();
  }

  const { db, services, sweeper } = core;
  return { config, core, db, services, sweeper, yoga, server, start, stop };
}
