/**
 * Passkeys (WebAuthn, DESIGN.md "Second factors and passkeys"): registration and assertions,
 * each a ceremony of two requests, with the challenge between them kept server-side. The rules
 * are in passkey-registration.ts and passkey-login.ts; what a verified assertion then does (a
 * passwordless login, a second step, a step-up) is decided by the caller.
 */
import { randomBytes } from 'node:crypto';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { PasskeyLogin } from './passkey-login.js';
import type { PasskeyStore } from './passkey-records.js';
import { PasskeyRegistration } from './passkey-registration.js';
import type { StepUp } from './step-up.js';
import type { UserStore } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { WebauthnChallenges, type WebauthnChallengeStore } from './webauthn-challenges.js';

export interface PasskeysOptions {
  users: Pick<UserStore, 'findUserById' | 'findUserByUsernameKey'>;
  passkeys: PasskeyStore;
  challenges: WebauthnChallengeStore;
  throttle: LoginThrottle;
  stepUp: Pick<StepUp, 'require'>;
  clock: Clock;
  audit: AuditLog;
  /**
   * Keys the decoy credential ids shown for usernames without passkeys. Default: random per
   * process, so decoys change at a restart (and differ between instances); give a stable key
   * (derived from SECRETS_KEY) to keep them alike everywhere.
   */
  decoyKey?: Buffer | undefined;
}

/** The two ceremonies, each a service of its own. */
export interface Passkeys {
  /** Creation options, then the new credential verified and stored; both need step-up. */
  registration: PasskeyRegistration;
  /** Request options (discoverable, for a typed username, or for a known user), then assertions verified. */
  login: PasskeyLogin;
}

export function createPasskeys(options: PasskeysOptions): Passkeys {
  const challenges = new WebauthnChallenges(options.challenges, options.clock);
  return {
    registration: new PasskeyRegistration({ ...options, challenges }),
    login: new PasskeyLogin({ ...options, challenges, decoyKey: options.decoyKey ?? randomBytes(32) }),
  };
}
