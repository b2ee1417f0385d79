import type { Logger } from '../logger.js';
import { AccountControls } from './accounts.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import type { Clock } from './clock.js';
import { SessionEnds } from './ends.js';
import { ExpiryWatch } from './expiry-watch.js';
import { LastSeenWriter } from './last-seen-writer.js';
import { SessionLifecycle } from './lifecycle.js';
import { LoginService } from './login.js';
import { createPasskeys, type Passkeys } from './passkeys.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionPolicy } from './policy.js';
import { SessionQueries } from './queries.js';
import { StepUp } from './step-up.js';
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
  /** Keys the decoys of passkey login options (see PasskeysOptions.decoyKey). Default: random per process. */
  passkeyDecoyKey?: Buffer | undefined;
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
  /** An admin's controls over accounts: disable, enable, delete, reset the password. */
  accounts: AccountControls;
  /** Step-up: recent password proofs for sensitive operations, and `reauthenticate`. */
  stepUp: StepUp;
  /** Passkeys: registering them, and verifying their assertions. */
  passkeys: Passkeys;
  audit: AuditLog;
  cache: ViewerCache | undefined;
  /** Stops the timers and writes what is pending. */
  close(): Promise<void>;
}

export function createSessionServices(options: SessionServicesOptions): SessionServices {
  const { stores, hasher, clock, policy, logger, cache, awaitEverywhere, passkeyDecoyKey } = options;
  const { users, sessions } = stores;
  const lifecycle = new SessionLifecycle(logger);
  const lastSeen = new LastSeenWriter(sessions, clock, policy, logger);
  const audit = new AuditLog(stores.authEvents, clock, lifecycle, logger);
  const throttle = new LoginThrottle(stores.loginThrottles);
  const stepUp = new StepUp({ users, sessions, throttle, hasher, clock, policy, audit });
  const shared = { sessions, users, clock, policy, lastSeen, audit, lifecycle, cache, hasher, stepUp };
  const ends = new SessionEnds({ ...shared, ...(awaitEverywhere ? { awaitEverywhere } : {}) });
  const expiry = new ExpiryWatch({ ...shared, ends, logger });
  const passkeys = createPasskeys({
    ...{ users, passkeys: stores.passkeys, challenges: stores.webauthnChallenges },
    ...{ throttle, stepUp, clock, audit, decoyKey: passkeyDecoyKey },
  });
  return {
    ...{ policy, lifecycle, lastSeen, ends, expiry, audit, cache, stepUp, passkeys },
    authenticator: new Authenticator({ ...shared, ends }),
    logins: new LoginService({ ...shared, throttle, ends }),
    sessions: new SessionQueries(sessions, clock, policy, lastSeen),
    users: new UserService({ ...shared, ends }),
    accounts: new AccountControls({ ...shared, ends }),
    async close() {
      expiry.close();
      await lastSeen.close();
    },
  };
}
