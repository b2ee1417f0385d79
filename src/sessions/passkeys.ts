/**
 * Passkeys (WebAuthn, DESIGN.md "Second factors and passkeys"): registration and assertions,
 * each a ceremony of two requests, with the challenge between them kept server-side
 * (webauthn-challenges.ts). The rules are in passkey-registration.ts and passkey-assertions.ts;
 * what a verified assertion then does (a passwordless login, a second step, a step-up) in
 * passkey-login.ts.
 */
import { randomBytes } from 'node:crypto';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import type { LoginService } from './login.js';
import { PasskeyAssertions } from './passkey-assertions.js';
import { PasskeyLogin } from './passkey-login.js';
import { PasskeyRegistration } from './passkey-registration.js';
import type { SecondStep } from './second-step.js';
import type { StepUp } from './step-up.js';
import type { SessionStore, UserStore } from './store.js';
import type { PasskeyStore } from './factor-store.js';
import type { LoginThrottle } from './throttle.js';
import { WebauthnChallenges, type WebauthnChallengeStore } from './webauthn-challenges.js';

export interface PasskeysOptions {
  users: Pick<UserStore, 'findUserById' | 'findUserByUsernameKey'>;
  passkeys: PasskeyStore;
  /** Where a passkey's use is written when no session starts (a step-up). */
  sessions: Pick<SessionStore, 'withUserLocked'>;
  challenges: WebauthnChallengeStore;
  throttle: LoginThrottle;
  stepUp: Pick<StepUp, 'require' | 'recordSecondFactorProof'>;
  secondStep: Pick<SecondStep, 'finish' | 'finishEnrollment'>;
  logins: Pick<LoginService, 'startProvenSession'>;
  clock: Clock;
  audit: AuditLog;
  /**
   * Keys the decoy credential ids shown for usernames without passkeys. Default: random per
   * process, so decoys change at a restart (and differ between instances); give a stable key
   * (derived from SECRETS_KEY) to keep them alike everywhere.
   */
  decoyKey?: Buffer | undefined;
}

/** The two ceremonies, and what an assertion is then used for. */
export interface Passkeys {
  /** Creation options, then the new credential verified and stored (step-up, or a login held to enroll). */
  registration: PasskeyRegistration;
  /** Request options (discoverable, for a typed username, or for a known user), then assertions verified. */
  assertions: PasskeyAssertions;
  /** A verified assertion as a passwordless login, a second step, or a step-up. */
  login: PasskeyLogin;
}

export function createPasskeys(options: PasskeysOptions): Passkeys {
  const challenges = new WebauthnChallenges(options.challenges, options.clock);
  const decoyKey = options.decoyKey ?? randomBytes(32);
  const assertions = new PasskeyAssertions({ ...options, challenges, decoyKey });
  return {
    registration: new PasskeyRegistration({ ...options, challenges }),
    assertions,
    login: new PasskeyLogin({ ...options, assertions }),
  };
}
