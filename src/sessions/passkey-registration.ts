/**
 * Registering a passkey: creation options for the browser, then verifying what it made of them.
 *
 * Rules: only a session with a recent proof (step-up: with the second factor, for a user who has
 * one) may add a way to sign in to its account, at both steps; or a pending login held to enroll
 * a factor (REQUIRE_SECOND_FACTOR), which then becomes a session. The authenticator must verify
 * the user (PIN or biometrics) and keep the credential itself (a discoverable credential, so it
 * can sign in without a username), and its key must be ES256 or RS256. Attestation is `none`:
 * Gatehouse does not judge makes of authenticator. A credential id is stored once, across all
 * users. The first factor comes with 10 recovery codes. A refusal stores nothing.
 */
import { randomUUID } from 'node:crypto';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
} from '@simplewebauthn/server';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { badUserInput, invalidSecondFactor } from './errors.js';
import { checkCeremony, verifiedBy } from './passkey-ceremony.js';
import {
  DEFAULT_PASSKEY_NAME,
  MAX_PASSKEYS_PER_USER,
  PASSKEY_ALGORITHMS,
  type WebauthnSite,
} from './passkey-policy.js';
import { hashRecoveryCodes, newRecoveryCodes } from './recovery-codes.js';
import type { SecondStep } from './second-step.js';
import { enrollingUser, factorName, originOfEnrolling, type AddedFactor, type Enrolling } from './second-factors.js';
import type { StepUp } from './step-up.js';
import type { PasskeyFactor, PasskeyStore } from './factor-store.js';
import type { UserRecord } from './types.js';
import { CHALLENGE_TTL_MS, type WebauthnChallenges } from './webauthn-challenges.js';
import { parseRegistrationResponse, type ParsedRegistration } from './webauthn-responses.js';

export interface PasskeyRegistrationOptions {
  passkeys: PasskeyStore;
  challenges: WebauthnChallenges;
  stepUp: Pick<StepUp, 'require' | 'recordSecondFactorProof'>;
  secondStep: Pick<SecondStep, 'finishEnrollment'>;
  clock: Clock;
  audit: AuditLog;
}

/** What browsers show as the site in their passkey dialogs. */
const RP_NAME = 'Gatehouse';

export class PasskeyRegistration {
  constructor(private readonly options: PasskeyRegistrationOptions) {}

  /** Creation options for `navigator.credentials.create` (via @simplewebauthn/browser's startRegistration). */
  async start(enrolling: Enrolling, site: WebauthnSite): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await enrollingUser(enrolling, this.options.stepUp);
    const registered = await this.roomForOneMore(user.id);
    const challenge = await this.options.challenges.issue('REGISTRATION', { userId: user.id });
    return generateRegistrationOptions({
      ...{ rpName: RP_NAME, rpID: site.rpId, challenge: Buffer.from(challenge, 'base64url') },
      // The user handle is the user id: what a passwordless login's userHandle must name.
      ...{ userID: Buffer.from(user.id), userName: user.username, userDisplayName: user.username },
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: registered.map(({ credentialId, transports }) => ({ id: credentialId, transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    });
  }

  /**
   * Verifies the browser's answer to {@link start}'s options and stores the passkey, with
   * recovery codes if the user has none. The session that added it proved it just now (AAL2); a
   * pending login held to enroll becomes a session.
   */
  async finish(
    enrolling: Enrolling,
    site: WebauthnSite,
    response: unknown,
    name: string | null | undefined,
  ): Promise<AddedFactor> {
    const { stepUp, secondStep } = this.options;
    const user = await enrollingUser(enrolling, stepUp);
    const label = factorName(name, DEFAULT_PASSKEY_NAME);
    const parsed = parseRegistrationResponse(response);
    await this.roomForOneMore(user.id);
    const { credential } = await this.verified(parsed, site, user);
    const { factor, recoveryCodes } = await this.store(enrolling, user, label, {
      ...{ credentialId: parsed.credentialId, publicKey: credential.publicKey },
      ...{ signCount: credential.counter, transports: parsed.transports },
    });
    const { device } = enrolling;
    if ('pending' in enrolling) {
      const login = await secondStep.finishEnrollment(enrolling.pending, 'PASSKEY', device);
      return { factor, recoveryCodes, login };
    }
    await stepUp.recordSecondFactorProof(enrolling.viewer, 'PASSKEY', device, { audit: false });
    return { factor, recoveryCodes };
  }

  /** Uses up the response's challenge, then verifies the response; INVALID_SECOND_FACTOR unless it holds. */
  private async verified(parsed: ParsedRegistration, site: WebauthnSite, user: UserRecord) {
    const challenge = await this.options.challenges.take(parsed.clientData.challenge, 'REGISTRATION');
    if (challenge.userId !== user.id) throw invalidSecondFactor('The challenge was issued to another user');
    checkCeremony(parsed, site, 'webauthn.create');
    if (!PASSKEY_ALGORITHMS.includes(parsed.algorithm as number)) {
      throw invalidSecondFactor('The passkey uses a key algorithm not offered (ES256 or RS256)');
    }
    const { registrationInfo } = await verifiedBy(() =>
      verifyRegistrationResponse({
        ...{ response: parsed.json, expectedChallenge: parsed.clientData.challenge },
        ...{ expectedOrigin: parsed.clientData.origin, expectedRPID: site.rpId },
        ...{ requireUserVerification: true, supportedAlgorithmIDs: PASSKEY_ALGORITHMS },
      }),
    );
    return registrationInfo;
  }

  /** Stores the verified passkey with its SECOND_FACTOR_ADDED event and, for a first factor, recovery codes. */
  private async store(
    enrolling: Enrolling,
    user: UserRecord,
    name: string,
    key: Pick<PasskeyFactor, 'credentialId' | 'publicKey' | 'signCount' | 'transports'>,
  ) {
    const { passkeys, clock, audit } = this.options;
    const now = clock.now();
    const passkey: PasskeyFactor = {
      ...{ id: randomUUID(), userId: user.id, kind: 'PASSKEY', name },
      ...{ createdAt: now, confirmedAt: now, lastUsedAt: null, ...key },
    };
    const recoveryCodes = newRecoveryCodes();
    const added = audit.event('SECOND_FACTOR_ADDED', originOfEnrolling(enrolling, user), {
      ...{ userId: user.id, factorId: passkey.id, method: 'PASSKEY' },
    });
    const stored = await passkeys.insertPasskey({
      ...{ passkey, recoveryCodeHashes: hashRecoveryCodes(recoveryCodes), events: [added] },
    });
    if (!stored) throw badUserInput('This passkey is registered already', 'response');
    audit.committed([added]);
    return { factor: passkey, recoveryCodes: stored.recoveryCodesStored ? recoveryCodes : [] };
  }

  /** The user's passkeys, or BAD_USER_INPUT when there is no room for another. */
  private async roomForOneMore(userId: string): Promise<PasskeyFactor[]> {
    const registered = await this.options.passkeys.listPasskeys(userId);
    if (registered.length >= MAX_PASSKEYS_PER_USER) {
      throw badUserInput(`At most ${MAX_PASSKEYS_PER_USER} passkeys per user: remove one first`);
    }
    return registered;
  }
}
