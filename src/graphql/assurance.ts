/** The enums of DESIGN.md's "Second factors and passkeys", shared by the types that show them. */
import type { AssuranceLevel, AuthenticationMethod, LoginStep, SecondFactorKind } from '../sessions/assurance.js';
import { builder } from './builder.js';

const AUTHENTICATION_METHODS: Record<AuthenticationMethod, { description: string }> = {
  PASSWORD: { description: 'The account password.' },
  TOTP: { description: 'A code from an authenticator app (RFC 6238).' },
  PASSKEY: { description: 'A passkey (WebAuthn), with user verification.' },
  RECOVERY_CODE: { description: 'One of the recovery codes shown when the first second factor was added.' },
};
export const AuthenticationMethodEnum = builder.enumType('AuthenticationMethod', {
  description: 'A way a user proved who they are.',
  values: AUTHENTICATION_METHODS,
});

const ASSURANCE_LEVELS: Record<AssuranceLevel, { description: string }> = {
  AAL1: { description: 'One factor: the password alone.' },
  AAL2: { description: 'Two factors (the password and a second factor), or a passkey with user verification.' },
};
export const AssuranceLevelEnum = builder.enumType('AssuranceLevel', {
  description: 'How sure a session is of its user (NIST SP 800-63B authenticator assurance levels).',
  values: ASSURANCE_LEVELS,
});

const LOGIN_STEPS: Record<LoginStep, { description: string }> = {
  DONE: { description: 'Signed in: the session is complete.' },
  SECOND_FACTOR: {
    description:
      'The password was right: finish with `verifySecondFactor` (or a passkey) within SECOND_FACTOR_TIMEOUT.',
  },
  ENROLL_SECOND_FACTOR: {
    description:
      'The password was right, but REQUIRE_SECOND_FACTOR needs a second factor first: enroll one (`startTotpEnrollment`, then `confirmTotpEnrollment`) to finish signing in.',
  },
};
export const LoginStepEnum = builder.enumType('LoginStep', {
  description: 'What a login needs next.',
  values: LOGIN_STEPS,
});

const SECOND_FACTOR_KINDS: Record<SecondFactorKind, { description: string }> = {
  TOTP: { description: 'An authenticator app.' },
  PASSKEY: { description: 'A passkey.' },
};
export const SecondFactorKindEnum = builder.enumType('SecondFactorKind', { values: SECOND_FACTOR_KINDS });
