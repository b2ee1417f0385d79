/**
 * A user's second factors: enrolling an authenticator app, listing and removing factors,
 * recovery codes. (Passkeys are registered by their own module; they are listed and removed
 * here like any factor.)
 *
 * Rules:
 * - Enrolling and removing need step-up (StepUp.require: for a user with a factor, an AAL2
 *   proof), except on a pending login held to enroll (REQUIRE_SECOND_FACTOR), whose password
 *   was just proved and which can do nothing else.
 * - An app's secret is shown once, at the start of its enrollment, and stored only sealed
 *   (secrets-box.ts); a new start replaces an enrollment still waiting. The enrollment becomes a
 *   factor only with a right code from the app, which shows the app holds the secret.
 * - The first factor comes with 10 recovery codes, shown once; a user who still has unused ones
 *   keeps them. Without SECRETS_KEY (production, PostgreSQL) no app can be enrolled.
 * - A user whom REQUIRE_SECOND_FACTOR covers cannot remove their last factor; removing anyone's
 *   last factor removes their recovery codes, which nothing would ask for any more.
 * - Added and removed factors are audited in the transaction of the change, so their webhooks
 *   (a trigger on the audit row) commit with it.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { badUserInput, GatehouseError, invalidSecondFactor, notFound, secondFactorRequired } from './errors.js';
import { readCode } from './factor-codes.js';
import { displayName } from './names.js';
import { mustHaveSecondFactor, type SessionPolicy } from './policy.js';
import { hashRecoveryCodes, newRecoveryCodes, RECOVERY_CODE_COUNT } from './recovery-codes.js';
import type { LoginResult } from './session-start.js';
import type { SecondStep } from './second-step.js';
import { SecretsBoxError, type SecretsBox } from './secrets-box.js';
import type { StepUp } from './step-up.js';
import type { SessionStore } from './store.js';
import type { SecondFactorRecord, SecondFactorStore, TotpFactor } from './factor-store.js';
import { matchTotpStep, newTotpSecret, totpUri } from './totp.js';
import {
  originOf,
  type ChangeOrigin,
  type DeviceInfo,
  type PendingLogin,
  type UserRecord,
  type Viewer,
} from './types.js';

export interface SecondFactorsOptions {
  store: SecondFactorStore;
  sessions: Pick<SessionStore, 'withUserLocked'>;
  box: SecretsBox;
  stepUp: StepUp;
  secondStep: SecondStep;
  audit: AuditLog;
  clock: Clock;
  policy: SessionPolicy;
}

/** Who enrolls: a signed-in user, or a pending login held to enroll. */
export type Enrolling = { viewer: Viewer; device: DeviceInfo } | { pending: PendingLogin; device: DeviceInfo };

/** What starting an app's enrollment shows, once: the secret, and the URI its QR code holds. */
export interface TotpEnrollment {
  secret: string;
  otpauthUri: string;
}

/** A factor just added, the recovery codes that came with it, and the session a pending login became. */
export interface AddedFactor {
  factor: SecondFactorRecord;
  /** Shown once; empty when the user still had unused ones. */
  recoveryCodes: string[];
  /** For a pending login held to enroll: the session it became (its token for the cookie). */
  login?: LoginResult;
}

/** What a factor is called when its user gives no name. */
const DEFAULT_TOTP_NAME = 'Authenticator app';
const NAME_MAX_LENGTH = 64;

/** A factor's name as given (names.ts: trimmed, NFC, one visible line), at most 64 characters; the default when empty or absent. */
export function factorName(name: string | null | undefined, fallback: string): string {
  return displayName(name ?? '', NAME_MAX_LENGTH) || fallback;
}

export class SecondFactors {
  constructor(private readonly options: SecondFactorsOptions) {}

  /** The confirmed factors of each user, oldest first, in one query; users without one are absent. */
  listOfUsers(userIds: readonly string[]): Promise<Map<string, SecondFactorRecord[]>> {
    return this.options.store.listFactors(userIds);
  }

  /** Whether the user has a confirmed factor. */
  has(userId: string): Promise<boolean> {
    return this.options.store.hasConfirmedFactor(userId);
  }

  /** Confirmed factors per user (users without one are absent). */
  countByUser(userIds: readonly string[]): Promise<Map<string, number>> {
    return this.options.store.countFactorsByUser(userIds);
  }

  /** Starts enrolling an authenticator app: a new secret, sealed, waiting for its first code. */
  async startTotp(enrolling: Enrolling): Promise<TotpEnrollment> {
    const { box, store, clock } = this.options;
    const user = await enrollingUser(enrolling, this.options.stepUp);
    if (!box.canSeal()) {
      throw new GatehouseError(
        'FORBIDDEN',
        'Authenticator apps need SECRETS_KEY: set it to 32 random bytes, base64 (openssl rand -base64 32), the same on every instance',
        { reason: 'SECRETS_KEY_UNSET' },
      );
    }
    const secret = newTotpSecret();
    const id = randomUUID();
    await store.replaceTotpEnrollment({
      ...{ id, userId: user.id, kind: 'TOTP', name: DEFAULT_TOTP_NAME, createdAt: clock.now() },
      ...{ confirmedAt: null, lastUsedAt: null, sealedSecret: box.seal(secret, id), lastStep: null },
    });
    return { secret, otpauthUri: totpUri(secret, user.username) };
  }

  /**
   * Confirms the waiting enrollment with a code from the app: it becomes a factor (with recovery
   * codes if the user has none), and the session proved both factors just now (AAL2); a pending
   * login held to enroll becomes a session.
   */
  async confirmTotp(enrolling: Enrolling, code: string, name: string | null | undefined): Promise<AddedFactor> {
    const { store, box, clock, audit } = this.options;
    const user = await enrollingUser(enrolling, this.options.stepUp);
    const typed = readCode(code);
    if (typed.method !== 'TOTP') throw badUserInput('Enter the 6-digit code the authenticator app shows', 'code');
    const label = factorName(name, DEFAULT_TOTP_NAME);
    const [enrollment] = await store.findTotpFactors(user.id, false);
    if (!enrollment) throw noEnrollment();
    const now = clock.now();
    const step = matchTotpStep(box.open(enrollment.sealedSecret, enrollment.id), typed.code, now, null);
    if (step === undefined) throw invalidSecondFactor('The code is wrong or expired');
    const recoveryCodes = newRecoveryCodes();
    const added = audit.event('SECOND_FACTOR_ADDED', originOfEnrolling(enrolling, user), {
      ...{ userId: user.id, factorId: enrollment.id, method: 'TOTP' },
    });
    const confirmed = await store.confirmTotp({
      ...{ userId: user.id, id: enrollment.id, name: label, step, at: now, events: [added] },
      recoveryCodeHashes: hashRecoveryCodes(recoveryCodes),
    });
    if (!confirmed) throw noEnrollment();
    audit.committed([added]);
    const factor = confirmedFactor(enrollment, label, now);
    const shown = confirmed.recoveryCodesStored ? recoveryCodes : [];
    if ('pending' in enrolling) {
      const login = await this.options.secondStep.finishEnrollment(enrolling.pending, 'TOTP', enrolling.device);
      return { factor, recoveryCodes: shown, login };
    }
    await this.options.stepUp.recordSecondFactorProof(enrolling.viewer, 'TOTP', enrolling.device, { audit: false });
    return { factor, recoveryCodes: shown };
  }

  /** Removes one of the viewer's own factors (step-up). Another user's is NOT_FOUND. */
  async remove(viewer: Viewer, id: string, device: DeviceInfo): Promise<void> {
    const { sessions, audit, policy } = this.options;
    await this.options.stepUp.require(viewer);
    const user = viewer.user;
    const removed = audit.event('SECOND_FACTOR_REMOVED', originOf(viewer, device), { userId: user.id, factorId: id });
    const factor = await sessions.withUserLocked(user.id, async (tx) => {
      const deleted = await tx.factors.delete(id);
      if (!deleted) throw notFound('second factor');
      if (deleted.confirmedAt === null) return deleted;
      if ((await tx.factors.count()) === 0) {
        if (tx.user && mustHaveSecondFactor(tx.user, policy)) throw lastFactor();
        await tx.factors.deleteRecoveryCodes();
      }
      await tx.insertAuthEvents([{ ...removed, method: deleted.kind }]);
      return deleted;
    });
    if (factor.confirmedAt !== null) audit.committed([{ ...removed, method: factor.kind }]);
  }

  /** New recovery codes for the viewer (step-up): the old ones stop working. Shown once. */
  async regenerateRecoveryCodes(viewer: Viewer, device: DeviceInfo): Promise<string[]> {
    const { store, audit, clock } = this.options;
    await this.options.stepUp.require(viewer);
    if (!(await store.hasConfirmedFactor(viewer.user.id))) {
      throw new GatehouseError('FORBIDDEN', 'Recovery codes come with a second factor: add one first', {
        reason: 'NO_SECOND_FACTOR',
      });
    }
    const codes = newRecoveryCodes();
    const event = audit.event('RECOVERY_CODES_REGENERATED', originOf(viewer, device), {
      ...{ userId: viewer.user.id, recoveryCodesLeft: RECOVERY_CODE_COUNT },
    });
    const hashes = hashRecoveryCodes(codes);
    await store.replaceRecoveryCodes(viewer.user.id, hashes, clock.now(), [event]);
    audit.committed([event]);
    return codes;
  }

  /**
   * At a server's start: enrolled authenticator apps need a key that opens their secrets (a
   * sample of one), else the start stops with what to fix. `keyDescription` names the key's source.
   */
  async checkSecretsKey(keyDescription: string): Promise<void> {
    const factor = await this.options.store.findAnyTotpFactor();
    if (!factor) return;
    try {
      this.options.box.open(factor.sealedSecret, factor.id);
    } catch (error) {
      if (!(error instanceof SecretsBoxError)) throw error;
      if (error.reason === 'NO_KEY') {
        throw new Error(
          `Authenticator apps are enrolled, but there is no key to open their secrets (${keyDescription}): set SECRETS_KEY to the key they were enrolled under`,
        );
      }
      throw new Error(
        `The secrets key (${keyDescription}) does not open the enrolled authenticator apps' secrets: set SECRETS_KEY to the key they were enrolled under`,
      );
    }
  }
}

/**
 * The user who enrolls a factor (an app or a passkey): a signed-in viewer after step-up, or the
 * user of a pending login held to enroll (its password was just proved).
 */
export async function enrollingUser(enrolling: Enrolling, stepUp: Pick<StepUp, 'require'>): Promise<UserRecord> {
  if ('viewer' in enrolling) {
    await stepUp.require(enrolling.viewer);
    return enrolling.viewer.user;
  }
  if (enrolling.pending.nextStep !== 'ENROLL_SECOND_FACTOR') throw secondFactorRequired(enrolling.pending.nextStep);
  return enrolling.pending.user;
}

/** Who added a factor, for the audit log: the viewer, or the pending login's user. */
export function originOfEnrolling(enrolling: Enrolling, user: UserRecord): ChangeOrigin {
  return 'viewer' in enrolling
    ? originOf(enrolling.viewer, enrolling.device)
    : { actorUserId: user.id, device: enrolling.device };
}

function confirmedFactor(enrollment: TotpFactor, name: string, at: Date): SecondFactorRecord {
  const { id, userId, kind, createdAt } = enrollment;
  return { id, userId, kind, name, createdAt, confirmedAt: at, lastUsedAt: at };
}

const noEnrollment = () =>
  new GatehouseError(
    'BAD_USER_INPUT',
    'No authenticator app is waiting for its first code: start the enrollment again',
    {
      field: 'code',
      reason: 'NO_ENROLLMENT',
    },
  );

const lastFactor = () =>
  new GatehouseError(
    'FORBIDDEN',
    'Your account must keep a second factor (REQUIRE_SECOND_FACTOR): add another before removing this one',
    { reason: 'LAST_SECOND_FACTOR' },
  );
