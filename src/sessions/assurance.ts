/**
 * How sure a session is of its user (DESIGN.md, "Second factors and passkeys"): the methods
 * proved on it, and the assurance level they add up to (NIST SP 800-63B's AAL1 and AAL2).
 *
 * Rules: AAL2 takes two different kinds of factor (the password, and something the user has:
 * an authenticator app's code, a recovery code, a passkey), or a passkey alone, because
 * Gatehouse asks every passkey for user verification (a PIN or biometric on the device: the
 * second factor is in the device). Anything less is AAL1. Assurance never drops while a session
 * lives: a later, weaker proof (a password step-up) adds its method and keeps the level.
 */

export const AUTHENTICATION_METHODS = ['PASSWORD', 'TOTP', 'PASSKEY', 'RECOVERY_CODE'] as const;
export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];

export const ASSURANCE_LEVELS = ['AAL1', 'AAL2'] as const;
export type AssuranceLevel = (typeof ASSURANCE_LEVELS)[number];

/** What a login asks of the client next: nothing, a second factor, or to enroll one. */
export const LOGIN_STEPS = ['DONE', 'SECOND_FACTOR', 'ENROLL_SECOND_FACTOR'] as const;
export type LoginStep = (typeof LOGIN_STEPS)[number];
/** The steps a pending login waits for. */
export type PendingStep = Exclude<LoginStep, 'DONE'>;

export const SECOND_FACTOR_KINDS = ['TOTP', 'PASSKEY'] as const;
export type SecondFactorKind = (typeof SECOND_FACTOR_KINDS)[number];

/** Methods that prove something the user has, beside the password they know. */
const POSSESSION_METHODS: ReadonlySet<AuthenticationMethod> = new Set(['TOTP', 'PASSKEY', 'RECOVERY_CODE']);

/** The level that `methods`, all proved on one session, add up to. */
export function assuranceOf(methods: readonly AuthenticationMethod[]): AssuranceLevel {
  if (methods.includes('PASSKEY')) return 'AAL2';
  return methods.includes('PASSWORD') && methods.some((method) => POSSESSION_METHODS.has(method)) ? 'AAL2' : 'AAL1';
}

/** What a session proved before, with `proved` added: each method once, in the order first proved. */
export function withMethods(
  before: readonly AuthenticationMethod[],
  proved: readonly AuthenticationMethod[],
): AuthenticationMethod[] {
  const methods = [...before];
  for (const method of proved) if (!methods.includes(method)) methods.push(method);
  return methods;
}

/** How sure a session is of its user: the level, and the methods behind it. */
export interface SessionAssurance {
  assurance: AssuranceLevel;
  authenticationMethods: AuthenticationMethod[];
}

/** A session's assurance after a further proof of `proved` on it (see the rules above). */
export function afterProof(before: SessionAssurance, proved: readonly AuthenticationMethod[]): SessionAssurance {
  const authenticationMethods = withMethods(before.authenticationMethods, proved);
  // The union holds every method of `proved`, so its level is at least the proof's own.
  const assurance = before.assurance === 'AAL2' ? 'AAL2' : assuranceOf(authenticationMethods);
  return { assurance, authenticationMethods };
}

/** Methods as the `sessions.authentication_methods` column stores them: comma-separated. */
export function parseMethods(stored: string | null | undefined): AuthenticationMethod[] {
  if (!stored) return ['PASSWORD'];
  return stored.split(',') as AuthenticationMethod[];
}
