/**
 * The second step of a login: a pending login (the password was right) finished by a second
 * factor, or under REQUIRE_SECOND_FACTOR by enrolling one. Either way the login becomes a
 * session as every login does (session-start.ts), with a new token, and the pending login's row
 * deleted and the second factor's use written (proof-use.ts) in the same transaction.
 */
import type { AuthenticationMethod } from './assurance.js';
import { GatehouseError, secondFactorRequired } from './errors.js';
import type { FactorCodes } from './factor-codes.js';
import type { ProofUse } from './proof-use.js';
import type { LoginResult, SessionStart } from './session-start.js';
import { anonymousOrigin, type DeviceInfo, type PendingLogin, type Viewer } from './types.js';

export interface SecondStepOptions {
  starts: SessionStart;
  codes: FactorCodes;
}

export class SecondStep {
  constructor(private readonly options: SecondStepOptions) {}

  /**
   * `verifySecondFactor`: an authenticator app's code or a recovery code finishes the pending
   * login. Without one: UNAUTHENTICATED when signed out (or it expired), FORBIDDEN (reason
   * NOT_PENDING) for a session that is already signed in.
   */
  async verify(pending: PendingLogin | null, viewer: Viewer | null, code: string, device: DeviceInfo) {
    if (!pending) {
      if (!viewer)
        throw new GatehouseError('UNAUTHENTICATED', 'No sign-in is waiting for a second step: sign in first');
      throw new GatehouseError('FORBIDDEN', 'This session is signed in already: no second step is waiting', {
        reason: 'NOT_PENDING',
      });
    }
    requireStep(pending, 'SECOND_FACTOR');
    const { method, use } = await this.options.codes.check(pending.user, code, anonymousOrigin(device));
    return this.finish(pending, method, device, use);
  }

  /** Finishes a pending login waiting for a second factor, which `method` has just proved; `use` is written with the session. */
  finish(pending: PendingLogin, method: AuthenticationMethod, device: DeviceInfo, use: ProofUse): Promise<LoginResult> {
    requireStep(pending, 'SECOND_FACTOR');
    return this.start(pending, method, device, use);
  }

  /** Finishes a pending login held to enroll a factor (REQUIRE_SECOND_FACTOR), now that `method` is enrolled. */
  finishEnrollment(pending: PendingLogin, method: AuthenticationMethod, device: DeviceInfo): Promise<LoginResult> {
    requireStep(pending, 'ENROLL_SECOND_FACTOR');
    return this.start(pending, method, device);
  }

  private start(
    pending: PendingLogin,
    method: AuthenticationMethod,
    device: DeviceInfo,
    use?: ProofUse,
  ): Promise<LoginResult> {
    if (method === 'PASSWORD') throw new Error('A second step needs a second factor, not the password again');
    return this.options.starts.start({ user: pending.user, methods: ['PASSWORD', method], device, pending, use });
  }
}

/** SECOND_FACTOR_REQUIRED (with the step it waits for) when the pending login waits for another step. */
function requireStep(pending: PendingLogin, step: PendingLogin['nextStep']): void {
  if (pending.nextStep !== step) throw secondFactorRequired(pending.nextStep);
}
