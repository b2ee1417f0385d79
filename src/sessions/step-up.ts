import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, loginUsernameKey } from './credentials.js';
import { GatehouseError, invalidCredentials } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import type { SessionPolicy } from './policy.js';
import type { SessionStore, UserStore } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { originOf, type Actor, type DeviceInfo, type SessionRecord, type Viewer } from './types.js';

export interface StepUpOptions {
  users: Pick<UserStore, 'findUserById'>;
  sessions: Pick<SessionStore, 'findSessionById' | 'setAuthenticatedAt'>;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  audit: AuditLog;
}

/**
 * Step-up (ASVS 7.5.2): operations that end sessions, change who can sign in or what an admin
 * can do ask for a password proof younger than `REAUTH_WINDOW` on the session making the
 * request. A login is such a proof; `reauthenticate` gives a new one without a new session.
 *
 * Rules: the proof is per session, so a stolen cookie alone cannot end the owner's other
 * sessions or change the password; a re-authentication goes through the same brute-force
 * throttle as a login, so it cannot be used to guess the password.
 */
export class StepUp {
  constructor(private readonly options: StepUpOptions) {}

  /**
   * Throws REAUTHENTICATION_REQUIRED unless the viewer's session proved the password recently.
   * The operator at the command line has no session and needs none.
   */
  async require(actor: Viewer | Actor): Promise<void> {
    if ('operator' in actor) return;
    const viewer = 'viewer' in actor ? actor.viewer : actor;
    if (this.isRecent(viewer.session)) return;
    // A cached copy may predate a re-authentication made through another instance.
    const stored = await this.options.sessions.findSessionById(viewer.session.id);
    if (stored && stored.authenticatedAt > viewer.session.authenticatedAt) {
      viewer.session.authenticatedAt = stored.authenticatedAt;
      if (this.isRecent(viewer.session)) return;
    }
    const windowSeconds = Math.round(this.options.policy.reauthWindowMs / 1000);
    throw new GatehouseError('REAUTHENTICATION_REQUIRED', 'Enter your password again to do this', {
      reauthWindowSeconds: windowSeconds,
      authenticatedAt: viewer.session.authenticatedAt.toISOString(),
    });
  }

  /**
   * Checks the viewer's password (throttled like a login) and records a fresh proof on the
   * current session, which it returns.
   */
  async reauthenticate(viewer: Viewer, password: string, device: DeviceInfo): Promise<SessionRecord> {
    const { throttle, users, hasher, clock, audit, sessions } = this.options;
    checkLoginInputSize(viewer.user.username, password);
    const key = loginUsernameKey(viewer.user.username);
    const origin = originOf(viewer, device);
    const refused = await throttle.reserve(key, device.ipAddress, clock.now());
    if (refused) {
      await audit.record('LOGIN_RATE_LIMITED', origin, { userId: viewer.user.id, sessionId: viewer.session.id });
      throw new GatehouseError(
        'RATE_LIMITED',
        `Too many failed attempts; try again in ${refused.retryAfterSeconds} s`,
        {
          retryAfterSeconds: refused.retryAfterSeconds,
        },
      );
    }
    const user = await users.findUserById(viewer.user.id);
    if (!user || !(await hasher.verify(user.passwordHash, password))) {
      await audit.record('REAUTHENTICATION_FAILED', origin, { userId: viewer.user.id, sessionId: viewer.session.id });
      throw invalidCredentials();
    }
    await throttle.succeeded(key, device.ipAddress);
    const updated = await sessions.setAuthenticatedAt(viewer.session.id, clock.now());
    if (!updated) throw new GatehouseError('UNAUTHENTICATED', 'This session has ended');
    // The viewer (and a cached copy of it) sees the new proof at once.
    viewer.session.authenticatedAt = updated.authenticatedAt;
    await audit.record('REAUTHENTICATED', origin, { userId: viewer.user.id, sessionId: viewer.session.id });
    return updated;
  }

  private isRecent(session: SessionRecord): boolean {
    return this.options.clock.now().getTime() - session.authenticatedAt.getTime() <= this.options.policy.reauthWindowMs;
  }
}
