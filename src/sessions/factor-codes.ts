/**
 * Checking what a user types as their second factor: an authenticator app's code or a recovery
 * code, in the same field (the second step of a login, a step-up, confirming an enrollment).
 *
 * Rules:
 * - What cannot be either (letters in a short code, a wrong length) is BAD_USER_INPUT, checked
 *   before anything else and counted as no guess. Spaces and hyphens inside are ignored.
 * - Every well-formed code is counted by the throttle before it is checked (the user's
 *   `second-factor:` counter and the client IP's, with the password's rules), and a right one
 *   gives the attempt back; a wrong one is INVALID_SECOND_FACTOR and audited as
 *   SECOND_FACTOR_FAILED (which also makes a webhook: bounded by the throttle).
 * - A code is accepted once: an app's code only for a time step after the last one accepted (a
 *   conditional UPDATE, so two requests with one code cannot both pass), a recovery code marked
 *   used in the same statement that checks it is unused.
 */
import type { AuthenticationMethod } from './assurance.js';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { badUserInput, GatehouseError, invalidSecondFactor } from './errors.js';
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import type { SecretsBox } from './secrets-box.js';
import type { SecondFactorStore } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { matchTotpStep, TOTP_DIGITS } from './totp.js';
import type { ChangeOrigin, UserRecord } from './types.js';

export interface FactorCodesOptions {
  factors: Pick<SecondFactorStore, 'findTotpFactors' | 'acceptTotpStep' | 'useRecoveryCode'>;
  box: SecretsBox;
  throttle: LoginThrottle;
  audit: AuditLog;
  clock: Clock;
}

/** Longer than any code could be with spaces: refused before it is even normalised. */
const MAX_TYPED_LENGTH = 64;
const TOTP_CODE = new RegExp(`^\\d{${TOTP_DIGITS}}$`);

/** What a typed code is: an app's code or a recovery code, normalised. */
export type TypedCode = { method: 'TOTP'; code: string } | { method: 'RECOVERY_CODE'; code: string };

/** Reads a typed code, or refuses it (BAD_USER_INPUT) when it cannot be one. */
export function readCode(typed: string, field = 'code'): TypedCode {
  if (typed.length > MAX_TYPED_LENGTH) throw badUserInput('The code is too long', field);
  const digits = typed.replace(/[\s-]/g, '');
  if (TOTP_CODE.test(digits)) return { method: 'TOTP', code: digits };
  const recovery = normalizeRecoveryCode(typed);
  if (recovery) return { method: 'RECOVERY_CODE', code: recovery };
  throw badUserInput(
    `Enter the ${TOTP_DIGITS}-digit code from your authenticator app, or a recovery code (24 letters and digits)`,
    field,
  );
}

/** What a right code proved: the method, and the factor it came from (for an app's code). */
export interface CodeProof {
  method: Extract<AuthenticationMethod, 'TOTP' | 'RECOVERY_CODE'>;
  factorId: string | null;
}

export class FactorCodes {
  constructor(private readonly options: FactorCodesOptions) {}

  /**
   * Checks `typed` as `user`'s second factor, throttled and audited (see the rules above);
   * returns what it proved, or throws BAD_USER_INPUT, RATE_LIMITED or INVALID_SECOND_FACTOR.
   */
  async prove(user: UserRecord, typed: string, origin: ChangeOrigin): Promise<CodeProof> {
    const { throttle, audit, clock } = this.options;
    const code = readCode(typed);
    const { ipAddress } = origin.device;
    const refused = await throttle.reserveSecondFactor(user.id, ipAddress, clock.now());
    if (refused) {
      await audit.record('LOGIN_RATE_LIMITED', origin, { userId: user.id, method: code.method });
      const { retryAfterSeconds } = refused;
      throw new GatehouseError('RATE_LIMITED', `Too many wrong codes; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
    const proof =
      code.method === 'TOTP'
        ? await this.checkTotp(user, code.code)
        : await this.checkRecovery(user, code.code, origin);
    if (!proof) {
      await audit.record('SECOND_FACTOR_FAILED', origin, { userId: user.id, method: code.method });
      throw invalidSecondFactor('The code is wrong, expired, or was used already');
    }
    await throttle.secondFactorSucceeded(user.id, ipAddress);
    return proof;
  }

  /** Checks an app's code against each of the user's apps; accepts it once (see the rules). */
  async checkTotp(user: UserRecord, code: string): Promise<CodeProof | undefined> {
    const { factors, box, clock } = this.options;
    const now = clock.now();
    for (const factor of await factors.findTotpFactors(user.id, true)) {
      const step = matchTotpStep(box.open(factor.sealedSecret, factor.id), code, now, factor.lastStep);
      if (step !== undefined && (await factors.acceptTotpStep(factor.id, step, now))) {
        return { method: 'TOTP', factorId: factor.id };
      }
    }
    return undefined;
  }

  private async checkRecovery(user: UserRecord, code: string, origin: ChangeOrigin): Promise<CodeProof | undefined> {
    const { factors, audit, clock } = this.options;
    const left = await factors.useRecoveryCode(user.id, hashRecoveryCode(code), clock.now());
    if (left === undefined) return undefined;
    await audit.record('RECOVERY_CODE_USED', origin, {
      userId: user.id,
      method: 'RECOVERY_CODE',
      recoveryCodesLeft: left,
    });
    return { method: 'RECOVERY_CODE', factorId: null };
  }
}
