/**
 * The core: database, stores, session rules, end propagation, session feed and sweeper —
 * everything but the transports. The server (`app.ts`) stands on it; scripts and the command
 * line build only this, so closing it ends every handle it opened and the process exits.
 */
import { hkdfSync } from 'node:crypto';
import type { Knex } from 'knex';
import type { Config } from './config.js';
import { PostgresPropagation } from './events/postgres-propagation.js';
import type { EndPropagation } from './events/propagation.js';
import { SessionEndWatcher } from './events/session-end-watcher.js';
import { SessionEndFeeds } from './events/session-end-feeds.js';
import { SessionEventFeed } from './events/session-feed.js';
import { SqlitePropagation } from './events/sqlite-propagation.js';
import { createSessionPubSub, type SessionPubSub } from './events/topics.js';
import { sessionEvent } from './events/types.js';
import { consoleLogger, throttledLogger, type Logger } from './logger.js';
import type { AuthEventRecord, AuthEventType } from './sessions/auth-events.js';
import { systemClock, type Clock } from './sessions/clock.js';
import { createArgon2Hasher, type PasswordHasher } from './sessions/passwords.js';
import type { SessionPolicy } from './sessions/policy.js';
import { createSessionServices, type SessionServices } from './sessions/services.js';
import { Sweeper } from './sessions/sweeper.js';
import { ViewerCache } from './sessions/viewer-cache.js';
import { createDatabase, createReadDatabase, createStores } from './storage/database.js';
import { migrateToLatest } from './storage/migrate.js';
import { databaseKind } from './storage/database-kind.js';
import { KnexEndLogStore } from './storage/end-log-store.js';
import { secretsKeySource } from './storage/secrets-key.js';
import { KnexWebhookStore } from './storage/webhook-store.js';
import { createWebhooks, type Webhooks } from './webhooks/wiring.js';

export interface CoreOptions {
  /** A server caches sessions and serves live clients; a script only ends sessions. Default: false. */
  serving?: boolean;
  /** Time source for expiry rules. Default: the system clock. */
  clock?: Clock;
  /** Default: JSON lines on stderr. */
  logger?: Logger;
  /** Default: argon2id at OWASP's parameters, on hash threads. The core closes it when it closes. */
  hasher?: PasswordHasher;
}

export interface Core {
  config: Config;
  clock: Clock;
  logger: Logger;
  db: Knex;
  /** Where session lookups and the end log's poll read: SQLite's read connection, else `db` (see createReadDatabase). */
  reads: Knex;
  services: SessionServices;
  /** Every session start and end from any process, dispatched once in this one. */
  feed: SessionEventFeed;
  /** Other services' feeds of every end this instance applies, with heartbeats (`sessionEndFeed`). */
  endFeeds: SessionEndFeeds;
  /** The in-process topics subscriptions read. */
  pubsub: SessionPubSub;
  /** What depends on which session in this process. */
  watcher: SessionEndWatcher;
  propagation: EndPropagation;
  sweeper: Sweeper;
  /** The admin's controls, and in a server the outbox worker (started with the sweeper). */
  webhooks: Webhooks;
  /** Brings the schema up to date and starts following session ends from other processes. */
  start(): Promise<void>;
  /** Stops the sweeper and timers, writes what is pending, closes the database. */
  close(): Promise<void>;
}

/** Validated sessions kept per process; enough for a busy instance, bounded for memory. */
const VIEWER_CACHE_ENTRIES = 50_000;

function createPropagation(config: Config, db: Knex, reads: Knex, logger: Logger, serving: boolean): EndPropagation {
  const throttledLog = throttledLogger(logger);
  if (databaseKind(config.databaseUrl) === 'postgres') {
    return new PostgresPropagation({ databaseUrl: config.databaseUrl, db, logger, throttledLog, serving });
  }
  return new SqlitePropagation({ store: new KnexEndLogStore(db, reads), logger, throttledLog, serving });
}

function sessionPolicyOf(config: Config): SessionPolicy {
  return {
    maxAgeMs: config.sessionMaxAgeMs,
    idleTimeoutMs: config.sessionIdleTimeoutMs,
    maxSessionsPerUser: config.maxSessionsPerUser,
    limitStrategy: config.sessionLimitStrategy,
    reauthWindowMs: config.reauthWindowMs,
    secondFactorTimeoutMs: config.secondFactorTimeoutMs,
    requireSecondFactor: config.requireSecondFactor,
  };
}

/**
 * The key of passkey decoys (see PasskeyLogin), derived from SECRETS_KEY so that every instance
 * shows the same decoy for a username, and no other use of the key can be mistaken for it.
 */
function passkeyDecoyKeyOf(secretsKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretsKey, Buffer.alloc(0), 'gatehouse passkey decoys', 32));
}

export function createCore(config: Config, options: CoreOptions = {}): Core {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? consoleLogger;
  const serving = options.serving ?? false;
  const db = createDatabase(config.databaseUrl, logger);
  const reader = createReadDatabase(config.databaseUrl, logger);
  const reads = reader ?? db;
  const stores = createStores(db, config.databaseUrl, reads);
  const propagation = createPropagation(config, db, reads, logger, serving);
  const cache = serving ? new ViewerCache(VIEWER_CACHE_ENTRIES, () => propagation.trusted()) : undefined;
  const hasher = options.hasher ?? createArgon2Hasher();
  const secretsKey = secretsKeySource(config, logger);
  const services = createSessionServices({
    ...{ stores, clock, logger, cache, hasher, secretsKey },
    policy: sessionPolicyOf(config),
    awaitEverywhere: () => propagation.barrier(),
    passkeyDecoyKey: config.secretsKey && passkeyDecoyKeyOf(config.secretsKey),
    dbsc: { enabled: config.dbsc, boundCookieTtlMs: config.dbscBoundCookieTtlMs },
  });
  const pubsub = createSessionPubSub();
  const watcher = new SessionEndWatcher(services.expiry);
  const feed = new SessionEventFeed(pubsub, watcher, cache, logger);
  const endFeeds = new SessionEndFeeds({ propagation, logger, serviceTokens: services.serviceTokens });
  feed.onEnded((event) => endFeeds.ended(event));
  services.lifecycle.addListener({
    sessionStarted: (session) => feed.local(sessionEvent('STARTED', session)),
    sessionEnded: (session) => feed.local(sessionEvent('ENDED', session)),
    authEvent: (event) => logAuthEvent(logger, event),
  });
  const webhookStore = new KnexWebhookStore(db, databaseKind(config.databaseUrl));
  const webhooks = createWebhooks({ config, store: webhookStore, services, logger, serving });
  const sweeper = new Sweeper({
    ...{ ...stores, webhookDeliveries: webhookStore, ends: services.ends, clock, logger },
    intervalMs: config.sweepIntervalMs,
    sessionRetentionMs: config.sessionRetentionMs,
    authEventRetentionMs: config.authEventRetentionMs,
  });
  const core: Core = {
    ...{ config, clock, logger, db, reads, services, feed, endFeeds, pubsub, watcher, propagation, sweeper, webhooks },
    async start() {
      if (config.redisUrl) logger.warn('REDIS_URL is set but not needed: session events travel through the database');
      await migrateToLatest(db, logger);
      // A server must open the secrets it checks codes against; the command line (resetting a
      // user's factors, say) must work without them.
      if (serving) await services.secondFactors.checkSecretsKey(secretsKey.description);
      await propagation.start(propagationHandlers(core));
    },
    async close() {
      endFeeds.close();
      await sweeper.stop();
      await webhooks.worker?.stop();
      await services.close();
      await hasher.close();
      await propagation.close();
      await reader?.destroy();
      await db.destroy();
    },
  };
  return core;
}

/**
 * Audit events worth a warning: someone may be guessing passwords or codes, or holds a copy of a
 * passkey.
 */
const WARNING_EVENTS = new Set<AuthEventType>([
  'LOGIN_RATE_LIMITED',
  'REAUTHENTICATION_FAILED',
  'SECOND_FACTOR_FAILED',
  'PASSKEY_COUNTER_REGRESSED',
]);

/**
 * Every audit event (logins, failures, throttling, ends with their reason, account changes) is
 * also a log line, with public ids only: never a token, and not the username typed at a failed
 * login, which is sometimes a password typed in the wrong field.
 *
 * An expiry is a `debug` line: nobody did anything, time passed. At `info`, a sweep of a million
 * expired sessions wrote a million lines, and with the production logger (even into /dev/null)
 * those lines doubled the sweep's time in bench/sweep-breakdown.ts (57 → 116 µs a row, nearly
 * all of it on the event loop). The sweeper's own line (`swept sessions`, with counts) says it at
 * `info`, and the audit log keeps each one.
 */
function logAuthEvent(logger: Logger, event: AuthEventRecord): void {
  const level = WARNING_EVENTS.has(event.type) ? 'warn' : event.reason === 'EXPIRED' ? 'debug' : 'info';
  const log = logger[level];
  if (!log) return;
  const fields = {
    event: event.type,
    ...(event.userId ? { userId: event.userId } : {}),
    ...(event.sessionId ? { sessionId: event.sessionId } : {}),
    ...(event.actorUserId ? { actorUserId: event.actorUserId } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
    ...(event.method ? { method: event.method } : {}),
    ...(event.factorId ? { factorId: event.factorId } : {}),
    ...(event.serviceTokenId ? { serviceTokenId: event.serviceTokenId } : {}),
    ...(event.ipAddress ? { ip: event.ipAddress } : {}),
  };
  log.call(logger, event.type.toLowerCase().replaceAll('_', ' '), fields);
}

/**
 * While ends cannot be proven to arrive, the cache is emptied and bypassed; once they can, or
 * after announcements may have been lost, the sessions live clients depend on are re-read, so a
 * missed end still reaches them. Other services' end feeds end in either case (their caches go too).
 */
function propagationHandlers({ feed, endFeeds, watcher, services, logger }: Core) {
  const recheckWatched = () =>
    watcher
      .findMissedEnds((id) => services.sessions.find(id))
      .then((ends) => feed.recovered(ends))
      .catch((error: unknown) => logger.error('re-check of watched sessions failed', { error }));
  return {
    events: (events: Parameters<SessionEventFeed['remote']>[0]) => feed.remote(events),
    missed: () => {
      endFeeds.missed();
      services.cache?.evictAll();
      void recheckWatched();
    },
    trustChanged: (trusted: boolean) => {
      if (!trusted) endFeeds.trustLapsed();
      services.cache?.setEnabled(trusted);
      if (trusted) void recheckWatched();
    },
  };
}
