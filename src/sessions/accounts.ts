import type { AuditLog } from './audit-log.js';
import type { AuthEventRecord } from './auth-events.js';
import type { Clock } from './clock.js';
import type { SessionEnds } from './ends.js';
import { GatehouseError, notFound } from './errors.js';
import type { LastSeenWriter } from './last-seen-writer.js';
import { checkNewPassword } from './password-rules.js';
import type { PasswordHasher } from './passwords.js';
import type { StepUp } from './step-up.js';
import type { ActiveAt } from './policy.js';
import type { SessionStore, UserSessionsTx, UserStore } from './store.js';
import {
  originOfActor,
  type Actor,
  type ChangeOrigin,
  type SessionEndReason,
  type SessionRecord,
  type UserRecord,
} from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface AccountControlsOptions {
  sessions: Pick<SessionStore, 'withUserLocked'>;
  users: Pick<UserStore, 'findUserById'>;
  hasher: PasswordHasher;
  clock: Clock;
  lastSeen: LastSeenWriter;
  ends: SessionEnds;
  audit: AuditLog;
  stepUp: StepUp;
  cache: ViewerCache | undefined;
}

type AccountEventType = 'USER_DISABLED' | 'USER_ENABLED' | 'USER_DELETED' | 'PASSWORD_RESET' | 'SECOND_FACTORS_RESET';

/** What one locked account change did: the user after it, and the sessions it ended. */
interface AccountChange {
  user: UserRecord;
  ended: SessionRecord[];
  /** Its audit event, when written in the change's transaction (one that webhooks follow). */
  recorded?: AuthEventRecord;
}

/** What {@link AccountControls.resetSecondFactors} did. */
export interface SecondFactorsReset {
  user: UserRecord;
  /** Confirmed factors (apps and passkeys) removed. */
  factorsRemoved: number;
  /** Active sessions it ended (those found expired are recorded as such, and not counted). */
  sessionsEnded: number;
}

/**
 * An admin's emergency controls over an account: disable and enable it, delete it, reset its
 * password or its second factors. Each change and the end of the account's sessions commit in one transaction, under
 * the user's row lock, so a login racing it never leaves a session behind (ASVS 7.4.2).
 *
 * Rules: the last admin who can sign in cannot be disabled or deleted (FORBIDDEN with
 * `reason: LAST_ADMIN`), whoever asks; there is no way to demote an admin. Deleting removes the
 * user and its session rows, and writes its username on its audit events, which stay.
 */
export class AccountControls {
  constructor(private readonly options: AccountControlsOptions) {}

  /** Disables the account and ends its sessions (USER_DISABLED). Disabling twice changes nothing. */
  async disable(actor: Actor, userId: string): Promise<UserRecord> {
    await this.options.stepUp.require(actor);
    const now = this.options.clock.now();
    const change = await this.change(userId, 'USER_DISABLED', async (tx, user, activeAt) => {
      if (user.disabledAt) return { user, ended: [] };
      await keepAnAdmin(tx, user, 'disabled');
      return { ended: await tx.endOpenSessions('USER_DISABLED', activeAt), user: await tx.setDisabledAt(now, now) };
    });
    await this.announce('USER_DISABLED', change, originOfActor(actor));
    return change.user;
  }

  /** Lets the account sign in again. Its ended sessions stay ended. */
  async enable(actor: Actor, userId: string): Promise<UserRecord> {
    const now = this.options.clock.now();
    const change = await this.change(userId, undefined, async (tx, user) =>
      user.disabledAt ? { user: await tx.setDisabledAt(null, now), ended: [] } : { user, ended: [] },
    );
    await this.announce('USER_ENABLED', change, originOfActor(actor));
    return change.user;
  }

  /** Ends the account's sessions (USER_DELETED) and deletes it; its audit events stay. */
  async delete(actor: Actor, userId: string): Promise<void> {
    await this.options.stepUp.require(actor);
    const change = await this.change(userId, 'USER_DELETED', async (tx, user, activeAt) => {
      await keepAnAdmin(tx, user, 'deleted');
      const ended = await tx.endOpenSessions('USER_DELETED', activeAt);
      await tx.deleteUser();
      return { user, ended };
    });
    await this.announce('USER_DELETED', change, originOfActor(actor));
  }

  /** Sets a new password chosen by an admin and ends all the account's sessions (PASSWORD_CHANGED). */
  async resetPassword(actor: Actor, userId: string, newPassword: string): Promise<UserRecord> {
    await this.options.stepUp.require(actor);
    const target = await this.options.users.findUserById(userId);
    if (!target) throw notFound('user');
    await checkNewPassword(newPassword, target.username, 'newPassword');
    const passwordHash = await this.options.hasher.hash(newPassword);
    const now = this.options.clock.now();
    const change = await this.change(userId, 'PASSWORD_CHANGED', async (tx, user, activeAt) => {
      await tx.setPasswordHash(passwordHash, now);
      return { user: { ...user, passwordHash }, ended: await tx.endOpenSessions('PASSWORD_CHANGED', activeAt) };
    });
    await this.announce('PASSWORD_RESET', change, originOfActor(actor));
    return change.user;
  }

  /**
   * Removes all of the account's second factors (apps and passkeys), recovery codes and pending
   * logins, and ends all its sessions (SECOND_FACTORS_RESET), in one transaction: the way back
   * for a user who lost their factors, or the answer to a factor that may be in the wrong hands.
   * Under REQUIRE_SECOND_FACTOR the user enrolls a new one at their next login.
   */
  async resetSecondFactors(actor: Actor, userId: string): Promise<SecondFactorsReset> {
    await this.options.stepUp.require(actor);
    const origin = originOfActor(actor);
    let factorsRemoved = 0;
    const change = await this.change(userId, 'SECOND_FACTORS_RESET', async (tx, user, activeAt) => {
      factorsRemoved = await tx.factors.deleteAll();
      const recorded = this.options.audit.event('SECOND_FACTORS_RESET', origin, { userId });
      await tx.insertAuthEvents([recorded]);
      return { user, ended: await tx.endOpenSessions('SECOND_FACTORS_RESET', activeAt), recorded };
    });
    await this.announce('SECOND_FACTORS_RESET', change, origin);
    const sessionsEnded = change.ended.filter((session) => session.endReason === 'SECOND_FACTORS_RESET').length;
    return { user: change.user, factorsRemoved, sessionsEnded };
  }

  /**
   * Runs `work` under the user's row lock (serialised with other account changes). The cache
   * forgets the user's sessions before and after: their ids are known only once they end.
   */
  private async change(
    userId: string,
    reason: SessionEndReason | undefined,
    work: (tx: UserSessionsTx, user: UserRecord, activeAt: ActiveAt) => Promise<AccountChange>,
  ): Promise<AccountChange> {
    const { sessions, cache, lastSeen } = this.options;
    if (reason) cache?.evictUser(userId);
    // Taken before the transaction: on SQLite its flush needs the one connection the transaction holds.
    const activeAt = await lastSeen.activeAt();
    const change = await sessions.withUserLocked(
      userId,
      async (tx) => {
        if (!tx.user) throw notFound('user');
        return work(tx, tx.user, activeAt);
      },
      { accountChange: true },
    );
    cache?.evictUser(userId);
    return change;
  }

  /** The audit event of the change (unless its transaction wrote it), then everything that follows the ends it made. */
  private async announce(type: AccountEventType, change: AccountChange, origin: ChangeOrigin): Promise<void> {
    const { user, ended, recorded } = change;
    const username = type === 'USER_DELETED' ? user.username : undefined;
    if (recorded) this.options.audit.committed([recorded]);
    else await this.options.audit.record(type, origin, { userId: user.id, ...(username ? { username } : {}) });
    await this.options.ends.announce(ended, origin, { username });
  }
}

/** Refuses to leave no admin who can sign in. */
async function keepAnAdmin(tx: UserSessionsTx, user: UserRecord, verb: 'disabled' | 'deleted'): Promise<void> {
  if (user.role !== 'ADMIN' || user.disabledAt !== null) return;
  if ((await tx.countEnabledAdmins()) > 1) return;
  throw new GatehouseError('FORBIDDEN', `The last admin cannot be ${verb}`, { reason: 'LAST_ADMIN' });
}
