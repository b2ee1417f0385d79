/**
 * What a verified passkey assertion does: a passwordless login, the second step of a password
 * login, or a step-up on a signed-in session.
 *
 * Rules:
 * - On a pending login (the password was right, a second factor is owed), the assertion must be
 *   by that user's passkey; it finishes the login (PASSWORD and PASSKEY: AAL2) with a new token.
 * - Without one, the passkey's user signs in without a password (PASSKEY: AAL2, since every
 *   passkey verified its user), and a session the request had is replaced, as `login` does. The
 *   session limit, the account's state and a login's events apply, as to any login.
 * - A step-up must be by the viewer's own passkey, and makes the session AAL2.
 */
import { secondFactorRequired } from './errors.js';
import type { LoginService } from './login.js';
import type { AssertionContext, PasskeyAssertions } from './passkey-assertions.js';
import type { WebauthnSite } from './passkey-policy.js';
import type { LoginResult } from './session-start.js';
import type { SecondStep } from './second-step.js';
import type { StepUp } from './step-up.js';
import type { DeviceInfo, PendingLogin, SessionRecord, Viewer } from './types.js';

export interface PasskeyLoginOptions {
  assertions: Pick<PasskeyAssertions, 'check' | 'verify'>;
  logins: Pick<LoginService, 'startProvenSession'>;
  secondStep: Pick<SecondStep, 'finish'>;
  stepUp: Pick<StepUp, 'recordSecondFactorProof'>;
}

/** Who finishes a login with a passkey: the pending login or session the request carries, if any. */
export interface PasskeyLoginRequest {
  pending: PendingLogin | null;
  viewer: Viewer | null;
  device: DeviceInfo;
}

export class PasskeyLogin {
  constructor(private readonly options: PasskeyLoginOptions) {}

  /** `finishPasskeyLogin`: the second step of a pending login, or a passwordless login. */
  async finish(request: PasskeyLoginRequest, response: unknown, site: WebauthnSite): Promise<LoginResult> {
    const { assertions, logins, secondStep } = this.options;
    const { pending, viewer, device } = request;
    if (pending) {
      // Before the assertion is looked at: a login held to enroll has no passkey to prove.
      if (pending.nextStep !== 'SECOND_FACTOR') throw secondFactorRequired(pending.nextStep);
      const { use } = await assertions.check(response, site, { device, expectedUserId: pending.user.id });
      return secondStep.finish(pending, 'PASSKEY', device, use);
    }
    const { user, use } = await assertions.check(response, site, { device });
    return logins.startProvenSession(user, ['PASSKEY'], device, viewer, use);
  }

  /** `reauthenticate(passkeyResponse)`: a fresh AAL2 proof on the viewer's session, by its own passkey. */
  async reauthenticate(
    viewer: Viewer,
    response: unknown,
    site: WebauthnSite,
    device: DeviceInfo,
  ): Promise<SessionRecord> {
    const context: AssertionContext = { device, viewer, expectedUserId: viewer.user.id };
    await this.options.assertions.verify(response, site, context);
    return this.options.stepUp.recordSecondFactorProof(viewer, 'PASSKEY', device);
  }
}
