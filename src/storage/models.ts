import { Model, snakeCaseMappers, type Pojo } from 'objection';
import { parseMethods, type AssuranceLevel, type AuthenticationMethod } from '../sessions/assurance.js';
import type { AuthEventRecord, AuthEventType } from '../sessions/auth-events.js';
import type { Role, SessionEndReason, SessionRecord, UserRecord } from '../sessions/types.js';

/** Columns holding epoch milliseconds in the database and `Date`s in the models. */
function parseTimestamps(json: Pojo, columns: readonly string[]): Pojo {
  for (const column of columns) {
    const value = json[column];
    if (value !== null && value !== undefined && !(value instanceof Date)) json[column] = new Date(Number(value));
  }
  return json;
}

function formatTimestamps(json: Pojo, columns: readonly string[]): Pojo {
  for (const column of columns) {
    const value = json[column];
    if (value instanceof Date) json[column] = value.getTime();
  }
  return json;
}

abstract class BaseModel extends Model {
  static override get columnNameMappers() {
    return snakeCaseMappers();
  }

  protected static readonly timestampColumns: readonly string[] = [];

  override $parseDatabaseJson(json: Pojo): Pojo {
    // Mapping runs first so that the timestamp columns carry their camelCase names here.
    return parseTimestamps(super.$parseDatabaseJson(json), (this.constructor as typeof BaseModel).timestampColumns);
  }

  override $formatDatabaseJson(json: Pojo): Pojo {
    return super.$formatDatabaseJson(formatTimestamps(json, (this.constructor as typeof BaseModel).timestampColumns));
  }
}

export class User extends BaseModel implements UserRecord {
  static override tableName = 'users';
  protected static override readonly timestampColumns = ['createdAt', 'updatedAt', 'disabledAt'];

  // `declare` keeps these type-only: real class fields would shadow what Objection assigns.
  declare id: string;
  declare username: string;
  declare usernameKey: string;
  declare passwordHash: string;
  declare role: Role;
  declare sessionLimit: number | null;
  declare disabledAt: Date | null;
  declare createdAt: Date;
  declare updatedAt: Date;
}

/** Read without `token_hash` (see SESSION_COLUMNS); it is written once, at insertion. */
export class Session extends BaseModel implements SessionRecord {
  static override tableName = 'sessions';
  protected static override readonly timestampColumns = [
    'createdAt',
    'lastSeenAt',
    'authenticatedAt',
    'expiresAt',
    'endedAt',
    'deviceBoundAt',
  ];

  declare id: string;
  declare userId: string;
  declare createdAt: Date;
  declare lastSeenAt: Date;
  declare authenticatedAt: Date;
  declare expiresAt: Date;
  declare endedAt: Date | null;
  declare endReason: SessionEndReason | null;
  declare userAgent: string | null;
  declare ipAddress: string | null;
  declare assurance: AssuranceLevel;
  declare authenticationMethods: AuthenticationMethod[];
  declare deviceBoundAt: Date | null;

  override $parseDatabaseJson(json: Pojo): Pojo {
    const parsed = super.$parseDatabaseJson(json);
    // Rows from before migration 04, or copied without it: the login was the last proof.
    parsed.authenticatedAt ??= parsed.createdAt;
    // Stored comma-separated (migration 12); rows from before it were password logins.
    parsed.assurance ??= 'AAL1';
    parsed.authenticationMethods = parseMethods(parsed.authenticationMethods as string | null | undefined);
    // Rows from before migration 14 were never bound.
    parsed.deviceBoundAt ??= null;
    return parsed;
  }

  override $formatDatabaseJson(json: Pojo): Pojo {
    const formatted = super.$formatDatabaseJson(json);
    const methods = formatted.authentication_methods as AuthenticationMethod[] | undefined;
    if (Array.isArray(methods)) formatted.authentication_methods = methods.join(',');
    return formatted;
  }
}

export class AuthEvent extends BaseModel implements AuthEventRecord {
  static override tableName = 'auth_events';
  protected static override readonly timestampColumns = ['createdAt'];

  declare id: string;
  declare type: AuthEventType;
  declare userId: string | null;
  declare sessionId: string | null;
  declare actorUserId: string | null;
  declare username: string | null;
  declare reason: SessionEndReason | null;
  declare factorId: string | null;
  declare method: AuthenticationMethod | null;
  declare recoveryCodesLeft: number | null;
  declare serviceTokenId: string | null;
  declare ipAddress: string | null;
  declare userAgent: string | null;
  declare createdAt: Date;
}
