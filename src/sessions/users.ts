import { randomBytes } from 'node:crypto';
import type { AuditLog } from './audit-log.js';
import type { Clock } from './clock.js';
import { checkLoginInputSize, normalizeNewUsername, usernameKey, type NormalizedUsername } from './credentials.js';
import { readPage, type Page, type PageQuery } from './page.js';
import type { SessionEnds } from './ends.js';
import { badUserInput, GatehouseError, notFound } from './errors.js';
import { checkNewPassword } from './password-rules.js';
import type { PasswordHasher } from './passwords.js';
import type { StepUp } from './step-up.js';
import { MAX_SESSION_LIMIT } from './policy.js';
import type { UserStore } from './store.js';
import {
  originOf,
  originOfActor,
  SYSTEM_ORIGIN,
  type Actor,
  type DeviceInfo,
  type Role,
  type UserRecord,
  type Viewer,
} from './types.js';
import type { ViewerCache } from './viewer-cache.js';

export interface UserServiceOptions {
  users: UserStore;
  hasher: PasswordHasher;
  clock: Clock;
  ends: SessionEnds;
  audit: AuditLog;
  cache: ViewerCache | undefined;
  stepUp: StepUp;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bytes of the password generated for the first admin when none is configured. */
const GENERATED_PASSWORD_BYTES = 18;

const USERNAME_TAKEN = { field: 'username', reason: 'USERNAME_TAKEN' };

/** The first admin's, from ADMIN_USERNAME and ADMIN_PASSWORD (either may be unset). */
type AdminCredentials = { username?: string | undefined; password?: string | undefined };

/** The refusal {@link UserService.create} gives for a username (taken, among others). */
const isUsernameRefused = (error: unknown) =>
  error instanceof GatehouseError && error.code === 'BAD_USER_INPUT' && error.details.field === 'username';

/** Accounts: creating them, their passwords and their own session limits. */
export class UserService {
  constructor(private readonly options: UserServiceOptions) {}

  /** A user by id, or by username (compared as at login); NOT_FOUND otherwise. */
  async find(idOrUsername: string): Promise<UserRecord> {
    const { users } = this.options;
    const byId = UUID_PATTERN.test(idOrUsername) ? await users.findUserById(idOrUsername) : undefined;
    const user = byId ?? (await users.findUserByUsernameKey(usernameKey(idOrUsername.trim())));
    if (!user) throw notFound('user');
    return user;
  }

  async require(userId: string): Promise<UserRecord> {
    const user = await this.options.users.findUserById(userId);
    if (!user) throw notFound('user');
    return user;
  }

  findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    return this.options.users.findUsersByIds(ids);
  }

  /** Every user, newest first; with `usernameContains`, those whose (normalised) username contains it. */
  list(query: PageQuery & { usernameContains?: string }): Promise<Page<UserRecord>> {
    const search = query.usernameContains === undefined ? undefined : usernameKey(query.usernameContains.trim());
    const filter = search ? { usernameContains: search } : {};
    return readPage(
      query,
      (limit) => this.options.users.listUsers({ ...query, ...filter, limit }),
      () => this.options.users.countUsers(search),
    );
  }

  /**
   * Creates a user with a validated username and password. `by` is the admin who asks (none for
   * the first admin at start); making another admin needs their recent password proof. A name
   * that is taken, or looks like a taken one (see username-skeleton.ts), is BAD_USER_INPUT.
   */
  async create(input: { username: string; password: string; role: Role }, by?: Actor) {
    if (by && input.role === 'ADMIN') await this.options.stepUp.require(by);
    const username = await checkNewAccount(input, by);
    const passwordHash = await this.options.hasher.hash(input.password);
    const { display, key, skeleton } = username;
    const user = await this.options.users.insertUser(
      { username: display, usernameKey: key, usernameSkeleton: skeleton, passwordHash, role: input.role },
      this.options.clock.now(),
    );
    if (!user) throw await this.nameTaken(username);
    const origin = by ? originOfActor(by) : SYSTEM_ORIGIN;
    await this.options.audit.record('USER_CREATED', origin, { userId: user.id });
    return user;
  }

  /** Why a new name was refused: an account has it, or one whose name looks the same. */
  private async nameTaken(username: NormalizedUsername): Promise<GatehouseError> {
    const { users } = this.options;
    const lookalike = (await users.findUserByUsernameKey(username.key))
      ? undefined
      : await users.findUserByUsernameSkeleton(username.skeleton);
    if (!lookalike) return new GatehouseError('BAD_USER_INPUT', 'Username is already taken', USERNAME_TAKEN);
    // Only admins create accounts: naming the other one tells them nothing they could not list.
    const message = `A user whose name looks the same exists: ${lookalike.username} (${lookalike.id})`;
    return new GatehouseError('BAD_USER_INPUT', message, { ...USERNAME_TAKEN, reason: 'USERNAME_LOOKALIKE' });
  }

  /**
   * Makes sure an admin exists. With no admin yet: creates `username`/`password` when given,
   * else `admin` with a random password, which is returned so the caller can print it once.
   */
  async ensureAdmin(credentials: AdminCredentials) {
    const adminExists = async () => (await this.options.users.countAdmins()) > 0;
    if (await adminExists()) return undefined;
    try {
      return await this.createFirstAdmin(credentials);
    } catch (error) {
      // Another instance starting at the same moment made it between the count and the insert
      // (two replicas of a first rollout): the admin exists, which is all a start needs.
      if (isUsernameRefused(error) && (await adminExists())) return undefined;
      throw error;
    }
  }

  private async createFirstAdmin(credentials: AdminCredentials) {
    if (credentials.username !== undefined && credentials.password !== undefined) {
      const { username, password } = credentials;
      return { user: await this.create({ username, password, role: 'ADMIN' }) };
    }
    const generatedPassword = randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
    const user = await this.create({ username: 'admin', password: generatedPassword, role: 'ADMIN' });
    return { user, generatedPassword };
  }

  /**
   * Changes the viewer's password after checking the current one, and ends their other
   * sessions (`PASSWORD_CHANGED`): whoever knew the old password is signed out everywhere else.
   * Returns how many ended.
   */
  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string, device: DeviceInfo) {
    const { users, hasher, clock, audit, ends, stepUp } = this.options;
    await stepUp.require(viewer);
    checkLoginInputSize(viewer.user.username, currentPassword);
    await checkNewPassword(newPassword, viewer.user.username, 'newPassword');
    const user = await this.require(viewer.user.id);
    if (!(await hasher.verify(user.passwordHash, currentPassword))) {
      throw new GatehouseError('INVALID_CREDENTIALS', 'Current password is wrong');
    }
    const passwordHash = await hasher.hash(newPassword);
    await users.updatePasswordHash(user.id, passwordHash, clock.now());
    viewer.user.passwordHash = passwordHash;
    const origin = originOf(viewer, device);
    await audit.record('PASSWORD_CHANGED', origin, { userId: user.id, sessionId: viewer.session.id });
    return (await ends.endUserSessions(user.id, 'PASSWORD_CHANGED', origin, viewer.session.id)).length;
  }

  /**
   * Sets a user's own session limit (0 = unlimited for them), or null to fall back to the
   * global `MAX_SESSIONS_PER_USER`. Applies from the user's next login.
   */
  async setSessionLimit(actor: Actor, userId: string, limit: number | null) {
    if (limit !== null && (!Number.isInteger(limit) || limit < 0 || limit > MAX_SESSION_LIMIT)) {
      throw badUserInput(`Session limit must be from 0 (no limit) to ${MAX_SESSION_LIMIT}, or null`, 'limit');
    }
    const user = await this.options.users.updateSessionLimit(userId, limit, this.options.clock.now());
    if (!user) throw notFound('user');
    // Cached viewers hold the user record; the next request reloads it with the new limit.
    this.options.cache?.evictUser(userId);
    await this.options.audit.record('SESSION_LIMIT_CHANGED', originOfActor(actor), { userId });
    return user;
  }
}

/**
 * A new account's username, normalised, once it and the password pass the rules. Without `by`
 * the account is the admin configured at start: a refusal names the setting to change.
 */
async function checkNewAccount(input: { username: string; password: string }, by: Actor | undefined) {
  try {
    const username = normalizeNewUsername(input.username);
    await checkNewPassword(input.password, username.display);
    return username;
  } catch (error) {
    if (by || !(error instanceof GatehouseError)) throw error;
    const setting = error.details.field === 'username' ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD';
    throw new GatehouseError(error.code, `${setting}: ${error.message}`, error.details);
  }
}
