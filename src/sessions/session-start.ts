/**
 * Starting a session once the user has proved who they are: after a password (login.ts), a
 * second step (second-step.ts), an enrollment under REQUIRE_SECOND_FACTOR, or a passkey. Every
 * login becomes a session here, so limits, single login, events and webhooks treat them alike.
 *
 * Safety rules: a new token every time (no fixation); the account's state, the session limit,
 * the insert, LOGIN_SUCCEEDED, the deletion of the pending login it finishes and the use of the
 * second step's proof (proof-use.ts) commit in one transaction under the user's row lock, so
 * concurrent logins cannot overshoot the limit, a login racing a disable leaves no session, one
 * pending login makes at most one session, and a start that fails leaves the proof unused.
 */
import { randomUUID } from 'node:crypto';
import { assuranceOf, type AuthenticationMethod } from './assurance.js';
import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import type { Clock } from './clock.js';
import type { IssuedChallenge } from './dbsc.js';
import type { SessionEnds } from './ends.js';
import { GatehouseError, invalidCredentials } from './errors.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import type { SessionLifecycle } from './lifecycle.js';
import { sessionLimitOf, type ActiveAt, type SessionPolicy } from './policy.js';
import type { ProofUse } from './proof-use.js';
import type { SessionStore, UserSessionsTx } from './store.js';
import type { LoginThrottle } from './throttle.js';
import { generateToken, hashToken } from './tokens.js';
import {
  anonymousOrigin,
  type DeviceInfo,
  type NewSession,
  type PendingLogin,
  type SessionRecord,
  type UserRecord,
  type Viewer,
} from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface SessionStartOptions {
  sessions: Pick<SessionStore, 'withUserLocked'>;
  throttle: LoginThrottle;
  clock: Clock;
  policy: SessionPolicy;
  lastSeen: LastSeenWriter;
  ends: SessionEnds;
  audit: AuditLog;
  lifecycle: SessionLifecycle;
  cache: ViewerCache | undefined;
  /** DBSC: the registration challenge each new session is offered (stored hashed in its row); none when off. */
  offerDeviceBinding?: () => IssuedChallenge | undefined;
}

/** A session started: its viewer, and its token. */
export interface LoginResult {
  viewer: Viewer;
  /** The bearer secret: goes to the client once, is never stored. */
  token: string;
  /** DBSC: the challenge to offer the browser for binding the session (see dbsc.ts); absent when off. */
  dbscChallenge?: string;
}

/** A user proved, by `methods`: what {@link SessionStart.start} makes a session of. */
export interface ProvenLogin {
  user: UserRecord;
  /** In the order proved; the session's assurance follows from them (assurance.ts). */
  methods: AuthenticationMethod[];
  device: DeviceInfo;
  /** The pending login this finishes: deleted in the session's transaction, or the start fails (UNAUTHENTICATED). */
  pending?: PendingLogin | undefined;
  /** A password login's throttle key: the success is written in the session's transaction. */
  throttleKey?: string | undefined;
  /** What using the second step's proof writes (a code's, a passkey's): in the session's transaction, first. */
  use?: ProofUse | undefined;
}

export class SessionStart {
  constructor(private readonly options: SessionStartOptions) {}

  /**
   * A new session for `proven`: inserted within the limit with its LOGIN_SUCCEEDED (which names
   * the second factor or passkey that completed it), then what follows a start: superseded
   * sessions announced, the live feed told (webhooks follow the insert by their trigger).
   */
  async start(proven: ProvenLogin): Promise<LoginResult> {
    const { clock, policy, audit, ends, lifecycle } = this.options;
    const { user, device } = proven;
    const token = generateToken();
    const session = newSession(user, proven.methods, device, clock.now(), policy.maxAgeMs);
    const method = proven.methods.find((each) => each !== 'PASSWORD');
    const fields = { userId: user.id, sessionId: session.id, ...(method ? { method } : {}) };
    const succeeded = audit.event('LOGIN_SUCCEEDED', anonymousOrigin(device), fields);
    const offer = this.options.offerDeviceBinding?.();
    const started = {
      ...session,
      tokenHash: hashToken(token),
      ...(offer ? { dbscChallengeHash: offer.hash, dbscChallengeExpiresAt: offer.expiresAt } : {}),
    };
    const { superseded, events } = await this.insertWithinLimit(started, user, proven, succeeded);
    await ends.announce(superseded, { actorUserId: user.id, device });
    audit.committed(events);
    lifecycle.started(session, user);
    return { viewer: { user, session }, token, ...(offer ? { dbscChallenge: offer.challenge } : {}) };
  }

  /**
   * Inserts the session under the user's row lock, in the same transaction that checks the
   * account may still sign in (a disable may have just committed) and applies the session limit,
   * so concurrent logins cannot both see room for one more. Returns the sessions it ended to
   * make room (SUPERSEDED).
   *
   * The throttle's success and the `succeeded` audit event are written in that transaction too:
   * a session never exists without its LOGIN_SUCCEEDED, and the login commits once instead of
   * four times (each commit is an fsync, and its CPU competes with the hash threads). So are the
   * deletion of the pending login it finishes and the use of the second step's proof, with its
   * events: written first, so that a proof used meanwhile is refused as such.
   */
  private async insertWithinLimit(
    session: NewSession,
    user: UserRecord,
    proven: ProvenLogin,
    succeeded: AuthEventRecord,
  ): Promise<{ superseded: SessionRecord[]; events: AuthEventRecord[] }> {
    const { sessions, cache, lastSeen, policy, throttle } = this.options;
    const { device, pending, throttleKey, use } = proven;
    // The login may supersede sessions whose ids are not known yet, cached or not.
    if (sessionLimitOf(user, policy) > 0) cache?.evictUser(user.id);
    // The count reads last_seen_at (see LastSeenWriter); asked for before the transaction,
    // which on SQLite holds the only connection.
    const activeAt = await lastSeen.activeAt(session.createdAt);
    try {
      return await sessions.withUserLocked(user.id, async (tx) => {
        if (!tx.user) throw invalidCredentials();
        const events = [...(use ? await use.write(tx) : []), succeeded];
        if (pending && !(await tx.takePendingLogin(pending.id, session.createdAt))) throw pendingLoginGone();
        if (tx.user.disabledAt) throw new GatehouseError('ACCOUNT_DISABLED', 'This account is disabled');
        const superseded = await this.makeRoom(tx, sessionLimitOf(tx.user, policy), activeAt, session.createdAt);
        await tx.insertSession(session);
        if (throttleKey) await throttle.succeeded(throttleKey, device.ipAddress, tx.loginThrottles);
        await tx.insertAuthEvents(events);
        return { superseded, events };
      });
    } catch (error) {
      if (error instanceof GatehouseError) await this.refused(error, user, proven);
      throw error;
    }
  }

  /** What a start refused (and rolled back) still writes: the throttle's success after a right proof, its event. */
  private async refused(error: GatehouseError, user: UserRecord, { device, throttleKey, use }: ProvenLogin) {
    const { throttle, audit } = this.options;
    await use?.rolledBack(error);
    // Refused with the right password: the throttle counts no failure, as for a login that started.
    if (throttleKey) await throttle.succeeded(throttleKey, device.ipAddress);
    const origin = { actorUserId: user.id, device };
    if (error.code === 'SESSION_LIMIT') await audit.record('SESSION_LIMIT_REACHED', origin, { userId: user.id });
    if (error.code === 'ACCOUNT_DISABLED') await audit.record('LOGIN_REFUSED_DISABLED', origin, { userId: user.id });
  }

  /** Room for one more session under `limit` (0: none): refused, or the oldest ended (SUPERSEDED). */
  private async makeRoom(tx: UserSessionsTx, limit: number, activeAt: ActiveAt, at: Date): Promise<SessionRecord[]> {
    if (limit === 0) return [];
    const open = await tx.listActiveSessions(activeAt);
    if (open.length < limit) return [];
    if (this.options.policy.limitStrategy === 'deny-new') {
      throw new GatehouseError('SESSION_LIMIT', `Session limit reached (${limit} active)`, { limit });
    }
    const oldest = open.slice(0, open.length - limit + 1).map((s) => s.id);
    return tx.endSessions(oldest, 'SUPERSEDED', at);
  }
}

/** A pending login finished meanwhile (another second step), or expired: sign in again. */
const pendingLoginGone = () =>
  new GatehouseError('UNAUTHENTICATED', 'This sign-in has expired or was finished already: sign in again');

function newSession(
  user: UserRecord,
  methods: AuthenticationMethod[],
  device: DeviceInfo,
  now: Date,
  maxAgeMs: number,
): SessionRecord {
  return {
    id: randomUUID(),
    userId: user.id,
    createdAt: now,
    lastSeenAt: now,
    authenticatedAt: now,
    expiresAt: new Date(now.getTime() + maxAgeMs),
    endedAt: null,
    endReason: null,
    userAgent: device.userAgent,
    ipAddress: device.ipAddress,
    assurance: assuranceOf(methods),
    authenticationMethods: methods,
    deviceBoundAt: null,
  };
}
