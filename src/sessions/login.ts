import { performance } from 'node:perf_hooks';
import type { AuthenticationMethod, PendingStep } from './assurance.js';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, loginUsernameKey } from './credentials.js';
import type { SessionEnds } from './ends.js';
import { GatehouseError, invalidCredentials, rateLimited } from './errors.js';
import { KeyedQueue } from './keyed-queue.js';
import type { SessionLifecycle } from './lifecycle.js';
import type { PasswordHasher } from './passwords.js';
import type { PendingLoginResult, PendingLogins } from './pending-logins.js';
import { mustHaveSecondFactor, type SessionPolicy } from './policy.js';
import type { ProofUse } from './proof-use.js';
import type { LoginResult, SessionStart } from './session-start.js';
import type { SessionStore, UserStore } from './store.js';
import type { SecondFactorStore } from './factor-store.js';
import type { LoginThrottle } from './throttle.js';
import {
  anonymousOrigin as anonymous,
  type DeviceInfo,
  type PendingLogin,
  type UserRecord,
  type Viewer,
} from './types.js';

export type { LoginResult } from './session-start.js';

export interface LoginOptions {
  users: Pick<UserStore, 'findUserByUsernameKey'>;
  /** Where a pending login is written, with the throttle's success and its event. */
  sessions: Pick<SessionStore, 'withUserLocked'>;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  clock: Clock;
  policy: SessionPolicy;
  ends: SessionEnds;
  audit: AuditLog;
  lifecycle: SessionLifecycle;
  /** Where every proved login becomes a session. */
  starts: SessionStart;
  /** Whether a right password needs a second step. */
  factors: Pick<SecondFactorStore, 'hasConfirmedFactor'>;
  pendingLogins: PendingLogins;
}

/** What a password login gives: a session, or a pending login waiting for its second step. */
export type LoginOutcome = LoginResult | PendingLoginResult;

export const isPendingResult = (outcome: LoginOutcome): outcome is PendingLoginResult => 'pending' in outcome;

/** What the request was signed in with before: a session, or a pending login. */
export type Replaced = Viewer | PendingLogin;

const isPendingLogin = (replaced: Replaced): replaced is PendingLogin => 'nextStep' in replaced;

/** Longest typed username kept in the audit log of a failed or throttled login. */
const AUDITED_USERNAME_LENGTH = 256;

/**
 * An attempt waits for those ahead of it on the same account while they move; once none has
 * finished for this long, the one ahead is stuck on a database that does not answer (a request's
 * queries give up within 5 s), and this one answers UNAVAILABLE rather than queue behind it
 * (KeyedQueue). An attempt takes milliseconds and a hash (~25 ms, longer while a login storm
 * fills the hash threads).
 */
const LOGIN_QUEUE_STALL_MS = 3_000;

/**
 * Signing in, in three steps: reserve an attempt with the brute-force throttle, check the
 * password, then start the session (session-start.ts) or, when the user has a second factor or
 * must enroll one, a pending login (pending-logins.ts). Attempts on one account run one at a
 * time, so concurrent guesses cannot all pass the throttle before any of their failures is
 * counted.
 */
export class LoginService {
  private readonly queue = new KeyedQueue({
    ms: LOGIN_QUEUE_STALL_MS,
    error: () => new GatehouseError('UNAVAILABLE', 'Earlier sign-ins to this account are waiting for the database'),
  });

  constructor(private readonly options: LoginOptions) {}

  /**
   * Signs a user in with a password and issues a new token: a session's, or when a second factor
   * is needed, a pending login's. `replacing` is what the request was already signed in with:
   * a session ends (SUPERSEDED), since its client now holds the new token and the old one must
   * not live on unseen (ASVS 7.2.4); a pending login is void.
   */
  async login(
    username: string,
    password: string,
    device: DeviceInfo,
    replacing?: Replaced | null,
  ): Promise<LoginOutcome> {
    const startedAt = performance.now();
    try {
      const result = await this.attempt(username, password, device);
      await this.replace(replacing, result, device);
      const outcome = isPendingResult(result) ? result.pending.nextStep.toLowerCase() : 'succeeded';
      this.options.lifecycle.loginFinished(outcome, performance.now() - startedAt);
      return result;
    } catch (error) {
      const outcome = error instanceof GatehouseError ? error.code : 'error';
      this.options.lifecycle.loginFinished(outcome, performance.now() - startedAt);
      throw error;
    }
  }

  /**
   * A session for a user proved without a password here (a passkey: `methods` says how, `use`
   * is written with the session), as a login makes one: the account must be enabled, the
   * session limit applies, and the events are a login's. `replacing` as for {@link login}.
   */
  async startProvenSession(
    user: UserRecord,
    methods: AuthenticationMethod[],
    device: DeviceInfo,
    replacing?: Replaced | null,
    use?: ProofUse,
  ): Promise<LoginResult> {
    const result = await this.options.starts.start({ user, methods, device, use });
    await this.replace(replacing, result, device);
    return result;
  }

  private attempt(username: string, password: string, device: DeviceInfo): Promise<LoginOutcome> {
    checkLoginInputSize(username, password);
    const key = loginUsernameKey(username);
    return this.queue.run(key, async () => {
      const attempt = { key, typedUsername: username.trim().slice(0, AUDITED_USERNAME_LENGTH), device };
      await this.reserveAttempt(attempt);
      const user = await this.checkPassword(attempt, password);
      const nextStep = await this.secondStepFor(user);
      if (nextStep) return this.startPending(user, nextStep, attempt);
      return this.options.starts.start({ user, methods: ['PASSWORD'], device, throttleKey: key });
    });
  }

  /** What a right password still needs: a second factor, enrolling one (REQUIRE_SECOND_FACTOR), or nothing. */
  private async secondStepFor(user: UserRecord): Promise<PendingStep | undefined> {
    if (await this.options.factors.hasConfirmedFactor(user.id)) return 'SECOND_FACTOR';
    return mustHaveSecondFactor(user, this.options.policy) ? 'ENROLL_SECOND_FACTOR' : undefined;
  }

  /**
   * The password was right, and a second step is needed: a pending login, not a session. The
   * throttle forgets the password's failures (the second step has its own counter). The pending
   * login, the throttle's success and SECOND_FACTOR_REQUESTED commit together, once, as a
   * session's start does.
   */
  private async startPending(user: UserRecord, nextStep: PendingStep, attempt: LoginAttempt) {
    const { sessions, throttle, pendingLogins, audit } = this.options;
    const requested = audit.event('SECOND_FACTOR_REQUESTED', anonymous(attempt.device), { userId: user.id });
    const started = await sessions.withUserLocked(user.id, async (tx) => {
      if (!tx.user) throw invalidCredentials();
      const pending = await pendingLogins.create(user, nextStep, attempt.device, tx);
      await throttle.succeeded(attempt.key, attempt.device.ipAddress, tx.loginThrottles);
      await tx.insertAuthEvents([requested]);
      return pending;
    });
    audit.committed([requested]);
    return started;
  }

  /** Ends (or voids) what the request was signed in with, now that its client holds `result`'s token. */
  private async replace(replacing: Replaced | null | undefined, result: LoginOutcome, device: DeviceInfo) {
    if (!replacing) return;
    if (isPendingLogin(replacing)) return void (await this.options.pendingLogins.discard(replacing));
    if (!isPendingResult(result) && replacing.session.id === result.viewer.session.id) return;
    const userId = isPendingResult(result) ? result.pending.user.id : result.viewer.user.id;
    await this.options.ends.endSession(replacing.session.id, 'SUPERSEDED', { actorUserId: userId, device });
  }

  /** Counts the attempt against the account and the IP, or refuses it (RATE_LIMITED). */
  private async reserveAttempt(attempt: LoginAttempt): Promise<void> {
    const { throttle, users, audit, clock } = this.options;
    const refused = await throttle.reserve(attempt.key, attempt.device.ipAddress, clock.now());
    if (!refused) return;
    const user = await users.findUserByUsernameKey(attempt.key);
    await audit.record('LOGIN_RATE_LIMITED', anonymous(attempt.device), {
      userId: user?.id ?? null,
      username: attempt.typedUsername,
    });
    throw rateLimited('failed logins', refused.retryAfterSeconds);
  }

  /**
   * Always one verification, against a dummy hash for unknown users: a wrong username and a
   * wrong password take the same time and give the same error. A right password is given back
   * to the throttle in the session's transaction (session-start.ts), or by {@link startPending}.
   */
  private async checkPassword(attempt: LoginAttempt, password: string): Promise<UserRecord> {
    const { users, hasher, audit } = this.options;
    const user = await users.findUserByUsernameKey(attempt.key);
    const matches = await hasher.verify(user?.passwordHash, password);
    if (!user || !matches) {
      await audit.record('LOGIN_FAILED', anonymous(attempt.device), {
        userId: user?.id ?? null,
        username: attempt.typedUsername,
      });
      throw invalidCredentials();
    }
    // The right password for a disabled account: said as such (only the password's owner can
    // learn it), but still counted by the throttle, so it cannot be used to test guesses.
    if (user.disabledAt) throw await this.refuseDisabled(user, attempt.device);
    return user;
  }

  private async refuseDisabled(user: UserRecord, device: DeviceInfo): Promise<GatehouseError> {
    await this.options.audit.record('LOGIN_REFUSED_DISABLED', anonymous(device), { userId: user.id });
    return new GatehouseError('ACCOUNT_DISABLED', 'This account is disabled');
  }
}

interface LoginAttempt {
  /** The normalised username the attempt is counted and looked up by. */
  key: string;
  /** As typed, trimmed and bounded: what the audit log shows of a failed attempt. */
  typedUsername: string;
  device: DeviceInfo;
}
