/**
 * The core: database, stores, session rules, event bus and sweeper — everything but the
 * transports. The server (`app.ts`) stands on it; scripts and the command line build only this,
 * so closing it ends every handle it opened and the process exits.
 */
import type { Knex } from 'knex';
import type { Config } from './config.js';
import { createEventBus, type EventBus } from './events/bus.js';
import { SessionEndWatcher } from './events/session-end-watcher.js';
import { toSessionEventMessage } from './events/types.js';
import { consoleLogger, type Logger } from './logger.js';
import { systemClock, type Clock } from './sessions/clock.js';
import { createArgon2Hasher, type PasswordHasher } from './sessions/passwords.js';
import { createSessionServices, type SessionServices } from './sessions/services.js';
import { Sweeper } from './sessions/sweeper.js';
import { ViewerCache } from './sessions/viewer-cache.js';
import { createDatabase, createStores, databaseKind, migrateToLatest } from './storage/database.js';

export interface CoreOverrides {
  /** Time source for expiry rules. Default: the system clock. */
  clock?: Clock;
  /** Default: JSON lines on stderr. */
  logger?: Logger;
  /** Default: argon2id at OWASP's parameters. */
  hasher?: PasswordHasher;
}

export interface Core {
  config: Config;
  clock: Clock;
  logger: Logger;
  db: Knex;
  services: SessionServices;
  bus: EventBus;
  /** Session ends, from this instance or another, by session id. */
  watcher: SessionEndWatcher;
  sweeper: Sweeper;
  /** Brings the schema up to date. */
  migrate(): Promise<void>;
  /** Stops the sweeper and timers, writes what is pending, closes the bus and the database. */
  close(): Promise<void>;
}

/** Validated sessions kept per process; enough for a busy instance, bounded for memory. */
const VIEWER_CACHE_ENTRIES = 50_000;

/**
 * The cache is only safe where every end of a session reaches this process at once. With
 * SQLite, this process is the only writer. PostgreSQL may be shared by several instances,
 * whose ends arrive over the event bus, so there the cache waits for REDIS_URL.
 */
function cacheIsSafe(config: Config): boolean {
  return databaseKind(config.databaseUrl) === 'sqlite' || config.redisUrl !== undefined;
}

export function createCore(config: Config, overrides: CoreOverrides = {}): Core {
  const clock = overrides.clock ?? systemClock;
  const logger = overrides.logger ?? consoleLogger;
  const db = createDatabase(config.databaseUrl);
  const stores = createStores(db, config.databaseUrl);
  const services = createSessionServices({
    stores,
    hasher: overrides.hasher ?? createArgon2Hasher(),
    clock,
    logger,
    policy: {
      maxAgeMs: config.sessionMaxAgeMs,
      idleTimeoutMs: config.sessionIdleTimeoutMs,
      maxSessionsPerUser: config.maxSessionsPerUser,
      limitStrategy: config.sessionLimitStrategy,
    },
    cache: cacheIsSafe(config) ? new ViewerCache(VIEWER_CACHE_ENTRIES) : undefined,
  });
  const bus = createEventBus({ redisUrl: config.redisUrl, channelPrefix: config.redisChannelPrefix, logger });
  const watcher = connectBus(services, bus, logger);
  const sweeper = new Sweeper({
    ...stores,
    ends: services.ends,
    clock,
    logger,
    intervalMs: config.sweepIntervalMs,
    sessionRetentionMs: config.sessionRetentionMs,
    authEventRetentionMs: config.authEventRetentionMs,
  });
  return {
    config,
    clock,
    logger,
    db,
    services,
    bus,
    watcher,
    sweeper,
    migrate: () => migrateToLatest(db),
    async close() {
      await watcher.close();
      await sweeper.stop();
      await services.close();
      await bus.close();
      await db.destroy();
    },
  };
}

/**
 * Starts and ends go out on the bus; ends from other instances come back in and evict this
 * process's cache. While the bus is down, those ends cannot arrive, so the cache is bypassed,
 * and the sessions live clients depend on are re-checked when it returns.
 */
function connectBus(services: SessionServices, bus: EventBus, logger: Logger): SessionEndWatcher {
  services.lifecycle.addListener({
    sessionStarted: (session) => bus.publish(toSessionEventMessage('STARTED', session)),
    sessionEnded: (session) => bus.publish(toSessionEventMessage('ENDED', session)),
  });
  const watcher = new SessionEndWatcher(bus, services.expiry, logger);
  // Ends in this process were already evicted; twice is harmless.
  watcher.onAnyEnded((event) => services.cache?.evictSession(event.session.id));
  bus.onConnectionChange((connected) => {
    services.cache?.setEnabled(connected);
    if (!connected) return;
    watcher
      .recheckWatched((id) => services.sessions.find(id))
      .catch((error: unknown) => logger.error('re-check after reconnect failed', { error }));
  });
  return watcher;
}
