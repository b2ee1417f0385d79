import { afterProof, type AuthenticationMethod } from './assurance.js';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, loginUsernameKey } from './credentials.js';
import { badUserInput, GatehouseError, invalidCredentials, rateLimited } from './errors.js';
import { readCode, type FactorCodes } from './factor-codes.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionPolicy } from './policy.js';
import type { SessionStore, UserStore } from './store.js';
import type { SecondFactorStore } from './factor-store.js';
import type { LoginThrottle } from './throttle.js';
import { originOf, type Actor, type DeviceInfo, type SessionRecord, type Viewer } from './types.js';

export interface StepUpOptions {
  users: Pick<UserStore, 'findUserById'>;
  sessions: Pick<SessionStore, 'findSessionById' | 'recordProof'>;
  factors: Pick<SecondFactorStore, 'hasConfirmedFactor'>;
  codes: FactorCodes;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  audit: AuditLog;
}

/** What `reauthenticate` was sent: the password, and a code when the account has a second factor. */
export interface ReauthenticationProof {
  password?: string | null | undefined;
  code?: string | null | undefined;
}

/**
 * Step-up (ASVS 7.5.2): operations that end sessions, change who can sign in or what an admin
 * can do ask for a proof younger than `REAUTH_WINDOW` on the session making the request. A login
 * is such a proof; `reauthenticate` gives a new one without a new session.
 *
 * Rules: the proof is per session, so a stolen cookie alone cannot end the owner's other
 * sessions or change the password; a re-authentication goes through the same brute-force
 * throttles as a login, so it cannot be used to guess the password or a code. For a user with a
 * second factor the proof must be AAL2 (the password with a code, or a passkey): a session that
 * began before the factor was added re-proves with it; the password alone is refused
 * (SECOND_FACTOR_REQUIRED) before it is even checked.
 */
export class StepUp {
  constructor(private readonly options: StepUpOptions) {}

  /**
   * Throws REAUTHENTICATION_REQUIRED (with `secondFactor: true` when the proof must include one)
   * unless the viewer's session proved the user recently enough. The operator at the command
   * line has no session and needs none.
   */
  async require(actor: Viewer | Actor): Promise<void> {
    if ('operator' in actor) return;
    const viewer = 'viewer' in actor ? actor.viewer : actor;
    const { session } = viewer;
    if (this.isRecent(session) && session.assurance === 'AAL2') return;
    const secondFactor = await this.options.factors.hasConfirmedFactor(viewer.user.id);
    if (this.satisfies(session, secondFactor)) return;
    // A cached copy may predate a proof made through another instance.
    const stored = await this.options.sessions.findSessionById(session.id);
    if (stored && stored.authenticatedAt > session.authenticatedAt) {
      applyProof(viewer, stored);
      if (this.satisfies(session, secondFactor)) return;
    }
    const windowSeconds = Math.round(this.options.policy.reauthWindowMs / 1000);
    const message = secondFactor
      ? 'Enter your password and a code from your authenticator app (or use a passkey) to do this'
      : 'Enter your password again to do this';
    throw new GatehouseError('REAUTHENTICATION_REQUIRED', message, {
      reauthWindowSeconds: windowSeconds,
      authenticatedAt: session.authenticatedAt.toISOString(),
      secondFactor,
    });
  }

  /**
   * Checks the viewer's password (throttled like a login), and the code when the account has a
   * second factor (throttled like a second step), and records a fresh proof on the current
   * session, which it returns.
   */
  async reauthenticate(viewer: Viewer, proof: ReauthenticationProof, device: DeviceInfo): Promise<SessionRecord> {
    const { password, code } = proof;
    if (!password && !code) throw badUserInput('Send the password (with a code if the account has a second factor)');
    const secondFactor = await this.options.factors.hasConfirmedFactor(viewer.user.id);
    if (secondFactor && !code) {
      throw new GatehouseError(
        'SECOND_FACTOR_REQUIRED',
        'This account has a second factor: send a code from the authenticator app (or a recovery code) with the password, or use a passkey',
        { secondFactor: true },
      );
    }
    if (!secondFactor && code) throw badUserInput('This account has no second factor: send the password alone', 'code');
    if (!password) throw badUserInput('Send the password with the code', 'password');
    // A malformed code is refused before the password is counted.
    if (code) readCode(code);
    await this.checkPassword(viewer, password, device);
    const proved = code ? await this.options.codes.prove(viewer.user, code, originOf(viewer, device)) : undefined;
    return this.recordProof(viewer, proved ? ['PASSWORD', proved.method] : ['PASSWORD'], device);
  }

  /**
   * Records a second factor proved on the viewer's session just now (a passkey's assertion, a
   * code): with a passkey alone, or with the password proved in the same request for the other
   * methods, the session is at AAL2 with a fresh `authenticatedAt`. Audited as REAUTHENTICATED
   * unless `audit` is false (the proof came with a change audited on its own).
   */
  recordSecondFactorProof(
    viewer: Viewer,
    method: AuthenticationMethod,
    device: DeviceInfo,
    { audit = true }: { audit?: boolean } = {},
  ): Promise<SessionRecord> {
    return this.recordProof(viewer, method === 'PASSKEY' ? ['PASSKEY'] : ['PASSWORD', method], device, audit);
  }

  private async checkPassword(viewer: Viewer, password: string, device: DeviceInfo): Promise<void> {
    const { throttle, users, hasher, clock, audit } = this.options;
    checkLoginInputSize(viewer.user.username, password);
    const key = loginUsernameKey(viewer.user.username);
    const origin = originOf(viewer, device);
    const fields = { userId: viewer.user.id, sessionId: viewer.session.id };
    const refused = await throttle.reserve(key, device.ipAddress, clock.now());
    if (refused) {
      await audit.record('LOGIN_RATE_LIMITED', origin, fields);
      throw rateLimited('failed attempts', refused.retryAfterSeconds);
    }
    const user = await users.findUserById(viewer.user.id);
    if (!user || !(await hasher.verify(user.passwordHash, password))) {
      await audit.record('REAUTHENTICATION_FAILED', origin, fields);
      throw invalidCredentials();
    }
    await throttle.succeeded(key, device.ipAddress);
  }

  /** A fresh proof of `proved` on the viewer's session; the viewer (and a cached copy of it) sees it at once. */
  private async recordProof(
    viewer: Viewer,
    proved: AuthenticationMethod[],
    device: DeviceInfo,
    audited = true,
  ): Promise<SessionRecord> {
    const { clock, audit, sessions } = this.options;
    const updated = await sessions.recordProof(viewer.session.id, {
      authenticatedAt: clock.now(),
      ...afterProof(viewer.session, proved),
    });
    if (!updated) throw new GatehouseError('UNAUTHENTICATED', 'This session has ended');
    applyProof(viewer, updated);
    const method = proved.find((each) => each !== 'PASSWORD');
    const fields = { userId: viewer.user.id, sessionId: viewer.session.id, ...(method ? { method } : {}) };
    if (audited) await audit.record('REAUTHENTICATED', originOf(viewer, device), fields);
    return updated;
  }

  /** Whether the session's last proof is recent enough, and strong enough for a user with a second factor. */
  private satisfies(session: SessionRecord, secondFactor: boolean): boolean {
    return this.isRecent(session) && (!secondFactor || session.assurance === 'AAL2');
  }

  private isRecent(session: SessionRecord): boolean {
    return this.options.clock.now().getTime() - session.authenticatedAt.getTime() <= this.options.policy.reauthWindowMs;
  }
}

/** Copies a proof onto the viewer's session object (which a cache may share). */
function applyProof(viewer: Viewer, proved: SessionRecord): void {
  viewer.session.authenticatedAt = proved.authenticatedAt;
  viewer.session.assurance = proved.assurance;
  viewer.session.authenticationMethods = proved.authenticationMethods;
}
