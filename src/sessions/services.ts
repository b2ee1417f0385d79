import type { Logger } from '../logger.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import type { Clock } from './clock.js';
import { SessionEnds } from './ends.js';
import { ExpiryWatch } from './expiry-watch.js';
import { LastSeenWriter } from './last-seen-writer.js';
import { SessionLifecycle } from './lifecycle.js';
import { LoginService } from './login.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionPolicy } from './policy.js';
import { SessionQueries } from './queries.js';
import type { Stores } from './store.js';
import { LoginThrottle } from './throttle.js';
import { UserService } from './users.js';
import type { ViewerCache } from './viewer-cache.js';

export interface SessionServicesOptions {
  stores: Stores;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  logger: Logger;
  /** Validated-session cache; omit it where ends on other instances cannot reach this one. */
  cache?: ViewerCache | undefined;
  /** Resolves once every live instance has applied the ends committed so far (see `SessionEnds`). */
  awaitEverywhere?: () => Promise<void>;
}

/** The session rules, each concern its own service, wired to one another. */
export interface SessionServices {
  policy: SessionPolicy;
  /** Committed starts, ends and audit events, for whoever listens (the bus, metrics). */
  lifecycle: SessionLifecycle;
  lastSeen: LastSeenWriter;
  authenticator: Authenticator;
  logins: LoginService;
  ends: SessionEnds;
  expiry: ExpiryWatch;
  sessions: SessionQueries;
  users: UserService;
  audit: AuditLog;
  cache: ViewerCache | undefined;
  /** Stops the timers and writes what is pending. */
  close(): Promise<void>;
}

export function createSessionServices(options: SessionServicesOptions): SessionServices {
  const { stores, hasher, clock, policy, logger, cache, awaitEverywhere } = options;
  const { users, sessions } = stores;
  const lifecycle = new SessionLifecycle(logger);
  const lastSeen = new LastSeenWriter(sessions, clock, policy, logger);
  const audit = new AuditLog(stores.authEvents, clock, lifecycle, logger);
  const ends = new SessionEnds({ sessions, users, clock, policy, lastSeen, audit, lifecycle, cache, awaitEverywhere });
  const throttle = new LoginThrottle(stores.loginThrottles);
  const expiry = new ExpiryWatch({ sessions, clock, policy, lastSeen, ends, logger });
  return {
    policy,
    lifecycle,
    lastSeen,
    authenticator: new Authenticator({ sessions, clock, policy, lastSeen, ends, cache }),
    logins: new LoginService({
      users,
      sessions,
      throttle,
      hasher,
      clock,
      policy,
      lastSeen,
      ends,
      audit,
      lifecycle,
      cache,
    }),
    ends,
    expiry,
    sessions: new SessionQueries(sessions, clock, policy, lastSeen),
    users: new UserService({ users, hasher, clock, ends, audit, cache }),
    audit,
    cache,
    async close() {
      expiry.close();
      await lastSeen.close();
    },
  };
}
