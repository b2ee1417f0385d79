/**
 * Registering a passkey: creation options for the browser, then verifying what it made of them.
 *
 * Rules: only a session with a recent proof (step-up) may add a way to sign in to its account,
 * at both steps. The authenticator must verify the user (PIN or biometrics) and keep the
 * credential itself (a discoverable credential, so it can sign in without a username), and its
 * key must be ES256 or RS256. Attestation is `none`: Gatehouse does not judge makes of
 * authenticator. A credential id is stored once, across all users. A refusal stores nothing.
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
  PASSKEY_NAME_MAX_LENGTH,
  type PasskeyRecord,
  type PasskeyStore,
  type WebauthnSite,
} from './passkey-records.js';
import type { StepUp } from './step-up.js';
import { originOf, type DeviceInfo, type Viewer } from './types.js';
import { CHALLENGE_TTL_MS, type WebauthnChallenges } from './webauthn-challenges.js';
import { parseRegistrationResponse, type ParsedRegistration } from './webauthn-responses.js';

export interface PasskeyRegistrationOptions {
  passkeys: PasskeyStore;
  challenges: WebauthnChallenges;
  stepUp: Pick<StepUp, 'require'>;
  clock: Clock;
  audit: AuditLog;
}

/** What browsers show as the site in their passkey dialogs. */
const RP_NAME = 'Gatehouse';

/** The label of a new passkey: trimmed, at most the column's length, no control characters. */
export function passkeyName(name: string | null | undefined): string {
  const trimmed = name?.trim() ?? '';
  if (trimmed === '') return DEFAULT_PASSKEY_NAME;
  if ([...trimmed].length > PASSKEY_NAME_MAX_LENGTH) {
    throw badUserInput(`A passkey's name is at most ${PASSKEY_NAME_MAX_LENGTH} characters`, 'name');
  }
  if (/\p{Cc}/u.test(trimmed)) throw badUserInput("A passkey's name may not contain control characters", 'name');
  return trimmed;
}

export class PasskeyRegistration {
  constructor(private readonly options: PasskeyRegistrationOptions) {}

  /** Creation options for `navigator.credentials.create` (via @simplewebauthn/browser's startRegistration). */
  async start(viewer: Viewer, site: WebauthnSite): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { stepUp, challenges } = this.options;
    await stepUp.require(viewer);
    const registered = await this.roomForOneMore(viewer.user.id);
    const challenge = await challenges.issue('REGISTRATION', { userId: viewer.user.id });
    return generateRegistrationOptions({
      ...{ rpName: RP_NAME, rpID: site.rpId, challenge: Buffer.from(challenge, 'base64url') },
      // The user handle is the user id: what a passwordless login's userHandle must name.
      ...{ userID: Buffer.from(viewer.user.id), userName: viewer.user.username, userDisplayName: viewer.user.username },
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: registered.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
    });
  }

  /** Verifies the browser's answer to {@link start}'s options and stores the passkey. */
  async finish(
    viewer: Viewer,
    site: WebauthnSite,
    response: unknown,
    name: string | null | undefined,
    device: DeviceInfo,
  ): Promise<PasskeyRecord> {
    const { stepUp, passkeys, clock, audit } = this.options;
    await stepUp.require(viewer);
    const label = passkeyName(name);
    const parsed = parseRegistrationResponse(response);
    await this.roomForOneMore(viewer.user.id);
    const { credential } = await this.verified(parsed, site, viewer);
    const passkey: PasskeyRecord = {
      ...{ id: randomUUID(), userId: viewer.user.id, name: label, createdAt: clock.now(), lastUsedAt: null },
      ...{ credentialId: parsed.credentialId, publicKey: credential.publicKey },
      ...{ signCount: credential.counter, transports: parsed.transports },
    };
    if (!(await passkeys.insertPasskey(passkey))) throw badUserInput('This passkey is registered already', 'response');
    const fields = { userId: viewer.user.id, sessionId: viewer.session.id };
    await audit.record('PASSKEY_ADDED', originOf(viewer, device), fields);
    return passkey;
  }

  /** Uses up the response's challenge, then verifies the response; INVALID_SECOND_FACTOR unless it holds. */
  private async verified(parsed: ParsedRegistration, site: WebauthnSite, viewer: Viewer) {
    const challenge = await this.options.challenges.take(parsed.clientData.challenge, 'REGISTRATION');
    if (challenge.userId !== viewer.user.id) throw invalidSecondFactor('The challenge was issued to another user');
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

  /** The user's passkeys, or BAD_USER_INPUT when there is no room for another. */
  private async roomForOneMore(userId: string): Promise<PasskeyRecord[]> {
    const registered = await this.options.passkeys.listPasskeys(userId);
    if (registered.length >= MAX_PASSKEYS_PER_USER) {
      throw badUserInput(`At most ${MAX_PASSKEYS_PER_USER} passkeys per user: remove one first`);
    }
    return registered;
  }
}
