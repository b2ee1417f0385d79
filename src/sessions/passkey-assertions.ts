/**
 * Passkey assertions: request options for the browser, then verifying what it signed. What the
 * proof is then used for (a passwordless login, a second step, a step-up) is passkey-login.ts's.
 *
 * Rules:
 * - Options without a username are discoverable (the browser offers every passkey of the site);
 *   with one, they list that user's credentials, and a username with no passkeys (or no
 *   account) gets a decoy credential derived from it, by the same queries: the answer cannot
 *   tell whether an account exists. For a known user (a second step, a step-up), their own.
 * - An assertion is refused (INVALID_SECOND_FACTOR, nothing changes but its challenge being used
 *   up) unless: its challenge was outstanding for authentication; the origin and RP ID are
 *   this site's; the user was verified; the credential is stored and the signature verifies with
 *   its key; its owner is the user the challenge was issued to, the user the caller expects, and
 *   the user its `userHandle` names (required when the caller expects no one); and the signature
 *   counter went up (or the authenticator keeps none: both 0). A counter that did not is audited
 *   as PASSKEY_COUNTER_REGRESSED (a cloned authenticator may be in use) and the stored counter is
 *   left as it was. Until the signature has verified, no refusal depends on whether the
 *   credential exists (decoys must not be told from real ones).
 * - The counter is moved on (conditionally, so two uses with one counter cannot both pass) where
 *   the passkey is used (proof-use.ts): in the transaction that starts the session, with the
 *   IP's attempt given back.
 * - Attempts are counted per client IP by the login throttle, as failed passwords are, and every
 *   failure is audited (SECOND_FACTOR_FAILED, method PASSKEY). The right passkey of a disabled
 *   account is ACCOUNT_DISABLED, told only after its signature verified.
 */
import { createHmac } from 'node:crypto';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { AuditLog } from './audit-log.js';
import type { AuthEventType } from './auth-events.js';
import type { Clock } from './clock.js';
import { loginUsernameKey } from './credentials.js';
import { badUserInput, GatehouseError, invalidSecondFactor, rateLimited } from './errors.js';
import { checkCeremony, NOT_VERIFIED, verifiedBy } from './passkey-ceremony.js';
import type { WebauthnSite } from './passkey-policy.js';
import { writeProofUse, type ProofUse } from './proof-use.js';
import type { SessionStore, UserStore } from './store.js';
import type { PasskeyFactor, PasskeyStore } from './factor-store.js';
import type { LoginThrottle } from './throttle.js';
import {
  anonymousOrigin,
  originOf,
  type ChangeOrigin,
  type DeviceInfo,
  type UserRecord,
  type Viewer,
} from './types.js';
import {
  CHALLENGE_TTL_MS,
  clientNetworkOf,
  type ChallengeHolder,
  type WebauthnChallenges,
} from './webauthn-challenges.js';
import { parseAuthenticationResponse, type ParsedAssertion } from './webauthn-responses.js';

export interface PasskeyAssertionsOptions {
  users: Pick<UserStore, 'findUserById' | 'findUserByUsernameKey'>;
  passkeys: Pick<PasskeyStore, 'listPasskeys' | 'findPasskeyByCredentialId'>;
  /** Where a passkey proved alone (a step-up) is used: the session's start uses one in its own transaction. */
  sessions: Pick<SessionStore, 'withUserLocked'>;
  challenges: WebauthnChallenges;
  throttle: LoginThrottle;
  clock: Clock;
  audit: AuditLog;
  /** Keys the decoy credential ids of usernames without passkeys (HMAC-SHA-256). */
  decoyKey: Buffer;
}

/** Who asks for request options: a known user (a second step, a step-up), or someone signing in. */
export type PasskeyAsker = { userId: string } | { username?: string | null; ipAddress: string | null };

/** Who a verification is for. */
export interface AssertionContext {
  device: DeviceInfo;
  /** The session asking, when signed in: the audit log's actor. */
  viewer?: Viewer | null;
  /** The only user whose passkey may answer (a second step, a step-up); absent: whoever's it is. */
  expectedUserId?: string;
}

/** A verified assertion: the user it signs in, and what using it writes (proof-use.ts). */
export interface CheckedPasskey {
  user: UserRecord;
  use: ProofUse;
}

const DECOY_ID_BYTES = 16;
/** Looked up for a username without an account, so that both take the same queries. */
const NO_USER_ID = '00000000-0000-0000-0000-000000000000';

/** A refusal that knows whose passkey it concerned and how the audit log calls it (neither goes to the client). */
class PasskeyRefusal extends GatehouseError {
  constructor(
    message: string,
    readonly userId: string | null,
    readonly event: AuthEventType = 'SECOND_FACTOR_FAILED',
  ) {
    super('INVALID_SECOND_FACTOR', message);
  }
}

/** A counter that did not go up, unless the authenticator keeps none (both 0). */
const counterWentBack = (counter: number, stored: number) => (counter > 0 || stored > 0) && counter <= stored;

export class PasskeyAssertions {
  constructor(private readonly options: PasskeyAssertionsOptions) {}

  /** Request options for `navigator.credentials.get` (via @simplewebauthn/browser's startAuthentication). */
  async start(asker: PasskeyAsker, site: WebauthnSite): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { allowCredentials, holder } = await this.credentialsFor(asker);
    const challenge = await this.options.challenges.issue('AUTHENTICATION', holder);
    return generateAuthenticationOptions({
      ...{ rpID: site.rpId, challenge: Buffer.from(challenge, 'base64url'), allowCredentials },
      ...{ timeout: CHALLENGE_TTL_MS, userVerification: 'required' },
    });
  }

  private async credentialsFor(asker: PasskeyAsker) {
    const { users, passkeys } = this.options;
    if ('userId' in asker) {
      const own = await passkeys.listPasskeys(asker.userId);
      if (own.length === 0) throw badUserInput('No passkey is registered for this account');
      const allowCredentials = own.map(({ credentialId, transports }) => ({ id: credentialId, transports }));
      return { allowCredentials, holder: asker as ChallengeHolder };
    }
    const holder = { clientNetwork: clientNetworkOf(asker.ipAddress) };
    if (asker.username === undefined || asker.username === null) return { allowCredentials: [], holder };
    const key = loginUsernameKey(asker.username);
    const user = await users.findUserByUsernameKey(key);
    const found = await passkeys.listPasskeys(user?.id ?? NO_USER_ID);
    // No transports, which a decoy could not have: the two answers look alike.
    const ids = found.length > 0 ? found.map((passkey) => passkey.credentialId) : [this.decoyCredentialId(key)];
    return { allowCredentials: ids.map((id) => ({ id })), holder };
  }

  /**
   * The same for the same username, unrelated to any real credential, unguessable without the
   * key; 16 bytes, the length of the ids of the commonest passkey providers.
   */
  private decoyCredentialId(usernameKey: string): string {
    const mac = createHmac('sha256', this.options.decoyKey).update(`passkey-decoy:${usernameKey}`).digest();
    return mac.subarray(0, DECOY_ID_BYTES).toString('base64url');
  }

  /**
   * Verifies an assertion against options from {@link start}, and leaves its use to the caller's
   * transaction; BAD_USER_INPUT when it is not one, RATE_LIMITED when the client IP has failed
   * too often, INVALID_SECOND_FACTOR when it does not prove what it claims (see the rules above).
   */
  async check(response: unknown, site: WebauthnSite, context: AssertionContext): Promise<CheckedPasskey> {
    const { throttle, clock, audit } = this.options;
    const parsed = parseAuthenticationResponse(response);
    const { device } = context;
    const origin = originOfAssertion(context);
    const refused = await throttle.reserveAddress(device.ipAddress, clock.now());
    if (refused) {
      await audit.record('LOGIN_RATE_LIMITED', origin, { userId: context.expectedUserId ?? null });
      throw rateLimited('failed attempts', refused.retryAfterSeconds);
    }
    try {
      return await this.verified(parsed, site, context, origin);
    } catch (error) {
      if (error instanceof PasskeyRefusal) {
        await this.audited(error, context, origin);
      } else if (error instanceof GatehouseError && error.code === 'ACCOUNT_DISABLED') {
        // Refused with the right passkey: like the right password, it counts no failure.
        await throttle.addressSucceeded(device.ipAddress);
      }
      throw error;
    }
  }

  /** {@link check}, then the passkey used at once, in a transaction of its own (a step-up). */
  async verify(response: unknown, site: WebauthnSite, context: AssertionContext): Promise<void> {
    const { user, use } = await this.check(response, site, context);
    await writeProofUse(this.options.sessions, this.options.audit, user.id, use);
  }

  private async verified(
    parsed: ParsedAssertion,
    site: WebauthnSite,
    context: AssertionContext,
    origin: ChangeOrigin,
  ): Promise<CheckedPasskey> {
    const { passkey, challenge } = await this.signedBy(parsed, site, context);
    checkOwner(passkey, challenge.userId, parsed.userHandle, context.expectedUserId);
    const counter = parsed.authenticator.counter;
    if (counterWentBack(counter, passkey.signCount)) throw counterRegressed(passkey);
    const user = await this.enabledOwner(passkey, origin);
    const at = this.options.clock.now();
    const use = this.useOf(passkey, counter, at, context, origin);
    return { user, use };
  }

  /**
   * The counter moved on, if still below `counter` (else another use got there first: refused
   * as a regressed counter), and the IP's attempt given back. A passkey used in a transaction
   * that rolled back was right: the IP gets its attempt back, as for a right password.
   */
  private useOf(
    passkey: PasskeyFactor,
    counter: number,
    at: Date,
    context: AssertionContext,
    origin: ChangeOrigin,
  ): ProofUse {
    const { throttle } = this.options;
    const { ipAddress } = context.device;
    let accepted = false;
    return {
      write: async (tx) => {
        if (!(await tx.factors.recordPasskeyUse(passkey.id, counter, at))) throw counterRegressed(passkey);
        accepted = true;
        await throttle.addressSucceeded(ipAddress, tx.loginThrottles);
        return [];
      },
      rolledBack: async (error) => {
        if (error instanceof PasskeyRefusal) await this.audited(error, context, origin);
        else if (accepted) await throttle.addressSucceeded(ipAddress);
      },
    };
  }

  private audited(refusal: PasskeyRefusal, context: AssertionContext, origin: ChangeOrigin): Promise<void> {
    return this.options.audit.record(refusal.event, origin, {
      ...{ userId: refusal.userId, sessionId: context.viewer?.session.id ?? null, method: 'PASSKEY' },
    });
  }

  /**
   * The stored passkey whose key signed the response, and the response's challenge, used up.
   * The passkey is looked up before anything is checked, and until its signature has verified
   * every refusal says what it would say for an unknown credential: a decoy's id must not be
   * told from a real one by the answer it gets. A failure is audited against the credential's
   * owner, as a wrong password is against the typed username's.
   */
  private async signedBy(parsed: ParsedAssertion, site: WebauthnSite, context: AssertionContext) {
    const passkey = await this.options.passkeys.findPasskeyByCredentialId(parsed.credentialId);
    try {
      const challenge = await this.options.challenges.take(parsed.clientData.challenge, 'AUTHENTICATION');
      checkCeremony(parsed, site, 'webauthn.get');
      if (!passkey) throw invalidSecondFactor(NOT_VERIFIED);
      await verifiedBy(() =>
        verifyAuthenticationResponse({
          ...{ response: parsed.json, expectedChallenge: parsed.clientData.challenge },
          ...{ expectedOrigin: parsed.clientData.origin, expectedRPID: site.rpId, requireUserVerification: true },
          // The counter is checked by the caller once the signature has verified: an unsigned
          // counter must not raise a clone alarm.
          credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: 0 },
        }),
      );
      return { passkey, challenge };
    } catch (error) {
      throw concerning(passkey?.userId ?? context.expectedUserId ?? null, error);
    }
  }

  /** The passkey's user; ACCOUNT_DISABLED (audited as a login would be) when an admin disabled it. */
  private async enabledOwner(passkey: PasskeyFactor, origin: ChangeOrigin): Promise<UserRecord> {
    const user = await this.options.users.findUserById(passkey.userId);
    // A passkey goes with its user (ON DELETE CASCADE): a user gone meanwhile is refused like an unknown passkey.
    if (!user) throw new PasskeyRefusal(NOT_VERIFIED, null);
    if (!user.disabledAt) return user;
    await this.options.audit.record('LOGIN_REFUSED_DISABLED', origin, { userId: user.id });
    throw new GatehouseError('ACCOUNT_DISABLED', 'This account is disabled');
  }
}

/**
 * Whoever the challenge, the caller and the user handle name must be the passkey's owner. Checked
 * once its signature verified: only the key's holder learns which part names someone else.
 */
function checkOwner(passkey: PasskeyFactor, holder: string | null, userHandle: string | null, expected?: string) {
  const owner = passkey.userId;
  if (holder !== null && holder !== owner) {
    throw new PasskeyRefusal('The challenge was issued to another account than this passkey’s', owner);
  }
  if (expected !== undefined && expected !== owner) {
    throw new PasskeyRefusal('This passkey belongs to another account', expected);
  }
  if (userHandle === null ? expected === undefined : userHandle !== owner) {
    throw new PasskeyRefusal('The user handle does not name this passkey’s owner', owner);
  }
}

function counterRegressed(passkey: PasskeyFactor): PasskeyRefusal {
  return new PasskeyRefusal(
    'The passkey’s signature counter did not increase: the authenticator may have been copied',
    passkey.userId,
    'PASSKEY_COUNTER_REGRESSED',
  );
}

/** A refusal from the challenge, the ceremony or the library, as one concerning `userId`. */
function concerning(userId: string | null, error: unknown): unknown {
  if (!(error instanceof GatehouseError) || error instanceof PasskeyRefusal) return error;
  return error.code === 'INVALID_SECOND_FACTOR' ? new PasskeyRefusal(error.message, userId) : error;
}

function originOfAssertion({ viewer, device }: AssertionContext): ChangeOrigin {
  return viewer ? originOf(viewer, device) : anonymousOrigin(device);
}
