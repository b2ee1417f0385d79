import type { Logger } from '../logger.js';
import { AccountControls } from './accounts.js';
import { AuditLog } from './audit-log.js';
import { Authenticator } from './authenticator.js';
import type { Clock } from './clock.js';
import { DeviceBinding } from './dbsc.js';
import { SessionEnds } from './ends.js';
import { ExpiryWatch } from './expiry-watch.js';
import { FactorCodes } from './factor-codes.js';
import { LastSeenWriter } from './last-seen-writer.js';
import { SessionLifecycle } from './lifecycle.js';
import { LoginService } from './login.js';
import { createPasskeys, type Passkeys } from './passkeys.js';
import type { PasswordHasher } from './passwords.js';
import { PendingLogins } from './pending-logins.js';
import type { SessionPolicy } from './policy.js';
import { SessionQueries } from './queries.js';
import { SecondFactors } from './second-factors.js';
import { SecondStep } from './second-step.js';
import { SecretsBox, type SecretsKeySource } from './secrets-box.js';
import { ServiceTokens } from './service-tokens.js';
import { SessionStart } from './session-start.js';
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
  /** SECRETS_KEY, or where to make one (see `storage/secrets-key.ts`). Default: none. */
  secretsKey?: SecretsKeySource;
  /** Keys the decoys of passkey login options (see PasskeysOptions.decoyKey). Default: random per process. */
  passkeyDecoyKey?: Buffer | undefined;
  /** Device-bound sessions (`DBSC`, `DBSC_BOUND_COOKIE_TTL`). Default: off. */
  dbsc?: { enabled: boolean; boundCookieTtlMs: number };
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
  /** Step-up: recent proofs (AAL2 for a user with a factor) for sensitive operations, and `reauthenticate`. */
  stepUp: StepUp;
  /** Passkeys: registering them, their assertions, and logins and step-ups by them. */
  passkeys: Passkeys;
  /** A user's authenticator apps, factors and recovery codes. */
  secondFactors: SecondFactors;
  /** Pending logins: a right password waiting for its second step. */
  pendingLogins: PendingLogins;
  /** The second step that turns a pending login into a session. */
  secondStep: SecondStep;
  /** Secrets at rest under SECRETS_KEY. */
  secretsBox: SecretsBox;
  /** Device-bound sessions (DBSC): registration, refresh, the bound-cookie rules. */
  deviceBinding: DeviceBinding;
  audit: AuditLog;
  /** Other services' credentials: creating, listing, revoking and authenticating them. */
  serviceTokens: ServiceTokens;
  cache: ViewerCache | undefined;
  /** Stops the timers and writes what is pending. */
  close(): Promise<void>;
}

export function createSessionServices(options: SessionServicesOptions): SessionServices {
  const { stores, hasher, clock, policy, logger, cache, awaitEverywhere, passkeyDecoyKey } = options;
  const { users, sessions, secondFactors: factorStore } = stores;
  const lifecycle = new SessionLifecycle(logger);
  const lastSeen = new LastSeenWriter(sessions, clock, policy, logger);
  const audit = new AuditLog(stores.authEvents, clock, lifecycle, logger);
  const throttle = new LoginThrottle(stores.loginThrottles);
  const secretsBox = new SecretsBox(options.secretsKey ?? { key: () => undefined });
  const codes = new FactorCodes({ factors: factorStore, sessions, box: secretsBox, throttle, audit, clock });
  const stepUp = new StepUp({ users, sessions, factors: factorStore, codes, throttle, hasher, clock, policy, audit });
  const shared = { sessions, users, clock, policy, lastSeen, audit, lifecycle, cache, hasher, stepUp };
  const ends = new SessionEnds({ ...shared, ...(awaitEverywhere ? { awaitEverywhere } : {}) });
  const expiry = new ExpiryWatch({ ...shared, ends, logger });
  const dbsc = options.dbsc ?? { enabled: false, boundCookieTtlMs: 600_000 };
  const deviceBinding = new DeviceBinding({ ...shared, ends, ...dbsc });
  const starts = new SessionStart({
    ...shared,
    throttle,
    ends,
    offerDeviceBinding: () => deviceBinding.offerChallenge(),
  });
  const pendingLogins = new PendingLogins({ store: stores.pendingLogins, clock, policy });
  const secondStep = new SecondStep({ starts, codes });
  const factorDeps = { store: factorStore, box: secretsBox, secondStep };
  const serviceTokens = new ServiceTokens({ store: stores.serviceTokens, clock, audit, logger });
  const logins = new LoginService({ ...shared, throttle, ends, starts, factors: factorStore, pendingLogins });
  const passkeys = createPasskeys({
    ...{ users, sessions, passkeys: stores.passkeys, challenges: stores.webauthnChallenges },
    ...{ throttle, stepUp, secondStep, logins, clock, audit, decoyKey: passkeyDecoyKey },
  });
  return {
    ...{ policy, lifecycle, lastSeen, ends, expiry, audit, cache, stepUp, pendingLogins, secondStep, secretsBox },
    ...{ logins, passkeys, deviceBinding, serviceTokens },
    authenticator: new Authenticator({ ...shared, ends, deviceBinding }),
    sessions: new SessionQueries(sessions, clock, policy, lastSeen),
    users: new UserService({ ...shared, ends }),
    accounts: new AccountControls({ ...shared, ends }),
    secondFactors: new SecondFactors({ ...shared, ...factorDeps }),
    async close() {
      expiry.close();
      await lastSeen.close();
      await serviceTokens.close();
    },
  };
}
