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
 *   used in the same statement that checks it is unused. Both are written where the code is
 *   used (proof-use.ts): in the transaction that starts the session, so that a sign-in commits
 *   once and a start that fails leaves the code unused; the right code's throttle success and
 *   RECOVERY_CODE_USED with them.
 */
import type { AuthenticationMethod } from './assurance.js';
import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import type { Clock } from './clock.js';
import { badUserInput, invalidSecondFactor, rateLimited } from './errors.js';
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import { writeProofUse, type ProofUse } from './proof-use.js';
import type { SecretsBox } from './secrets-box.js';
import type { SessionStore } from './store.js';
import type { LockedFactors, SecondFactorStore } from './factor-store.js';
import type { LoginThrottle } from './throttle.js';
import { matchTotpStep, TOTP_DIGITS } from './totp.js';
import type { ChangeOrigin, UserRecord } from './types.js';

export interface FactorCodesOptions {
  factors: Pick<SecondFactorStore, 'findTotpFactors'>;
  /** Where a code proved alone (a step-up) is used: the session's start uses one in its own transaction. */
  sessions: Pick<SessionStore, 'withUserLocked'>;
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

/** What a right code proved. */
export interface CodeProof {
  method: Extract<AuthenticationMethod, 'TOTP' | 'RECOVERY_CODE'>;
}

/** A code checked: what it proves once used, and what using it writes (proof-use.ts). */
export interface CheckedCode extends CodeProof {
  use: ProofUse;
}

/** A confirmed authenticator app whose code matched, at this time step. */
interface TotpMatch {
  id: string;
  step: number;
}

const WRONG_CODE = 'The code is wrong, expired, or was used already';

export class FactorCodes {
  constructor(private readonly options: FactorCodesOptions) {}

  /**
   * Checks `typed` as `user`'s second factor, throttled and audited (see the rules above), and
   * leaves its use to the caller's transaction: an app's code is accepted, and a recovery code
   * found unused, only there. Throws BAD_USER_INPUT, RATE_LIMITED or INVALID_SECOND_FACTOR.
   */
  async check(user: UserRecord, typed: string, origin: ChangeOrigin): Promise<CheckedCode> {
    const code = readCode(typed);
    await this.reserve(user, code.method, origin);
    if (code.method === 'RECOVERY_CODE') return this.recoveryCode(user, code.code, origin);
    const matches = await this.matchTotp(user, code.code);
    if (matches.length === 0) {
      await this.options.audit.record('SECOND_FACTOR_FAILED', origin, { userId: user.id, method: code.method });
      throw invalidSecondFactor(WRONG_CODE);
    }
    return this.checked(user, 'TOTP', origin, async (factors) => {
      const at = this.options.clock.now();
      for (const { id, step } of matches) if (await factors.acceptTotpStep(id, step, at)) return [];
      return undefined;
    });
  }

  /** {@link check}, then the code used at once, in a transaction of its own (a step-up). */
  async prove(user: UserRecord, typed: string, origin: ChangeOrigin): Promise<CodeProof> {
    const { method, use } = await this.check(user, typed, origin);
    await writeProofUse(this.options.sessions, this.options.audit, user.id, use);
    return { method };
  }

  /** Counts the attempt before the code is looked at, or refuses it (RATE_LIMITED). */
  private async reserve(user: UserRecord, method: CodeProof['method'], origin: ChangeOrigin): Promise<void> {
    const { throttle, audit, clock } = this.options;
    const refused = await throttle.reserveSecondFactor(user.id, origin.device.ipAddress, clock.now());
    if (!refused) return;
    await audit.record('LOGIN_RATE_LIMITED', origin, { userId: user.id, method });
    throw rateLimited('wrong codes', refused.retryAfterSeconds);
  }

  /** The user's apps whose code this is, for a time step after their last accepted one. */
  private async matchTotp(user: UserRecord, code: string): Promise<TotpMatch[]> {
    const { factors, box, clock } = this.options;
    const now = clock.now();
    const matches: TotpMatch[] = [];
    for (const factor of await factors.findTotpFactors(user.id, true)) {
      const step = matchTotpStep(box.open(factor.sealedSecret, factor.id), code, now, factor.lastStep);
      if (step !== undefined) matches.push({ id: factor.id, step });
    }
    return matches;
  }

  /** A recovery code is only found unused by the statement that marks it used: no look before. */
  private recoveryCode(user: UserRecord, code: string, origin: ChangeOrigin): CheckedCode {
    const { audit, clock } = this.options;
    return this.checked(user, 'RECOVERY_CODE', origin, async (factors) => {
      const left = await factors.useRecoveryCode(hashRecoveryCode(code), clock.now());
      if (left === undefined) return undefined;
      const fields = { userId: user.id, method: 'RECOVERY_CODE', recoveryCodesLeft: left } as const;
      return [audit.event('RECOVERY_CODE_USED', origin, fields)];
    });
  }

  /**
   * The use of a code: `accept` writes it (undefined: it was wrong, or used meanwhile), then the
   * throttle's success. A code accepted in a transaction that rolled back was right: the throttle
   * gets its attempt back, as for a right password whose login was refused.
   */
  private checked(
    user: UserRecord,
    method: CodeProof['method'],
    origin: ChangeOrigin,
    accept: (factors: LockedFactors) => Promise<AuthEventRecord[] | undefined>,
  ): CheckedCode {
    const { throttle, audit } = this.options;
    const { ipAddress } = origin.device;
    const wrong = invalidSecondFactor(WRONG_CODE);
    let accepted = false;
    const use: ProofUse = {
      write: async (tx) => {
        const events = await accept(tx.factors);
        if (!events) throw wrong;
        accepted = true;
        await throttle.secondFactorSucceeded(user.id, ipAddress, tx.loginThrottles);
        return events;
      },
      rolledBack: async (error) => {
        if (error === wrong) await audit.record('SECOND_FACTOR_FAILED', origin, { userId: user.id, method });
        else if (accepted) await throttle.secondFactorSucceeded(user.id, ipAddress);
      },
    };
    return { method, use };
  }
}
