/** Query pieces every store shares: what "active" means in SQL, keyset pages, counts. */
import type { Knex } from 'knex';
import type { QueryBuilder } from 'objection';
import type { PageCursor } from '../sessions/page.js';
import type { ActiveAt } from '../sessions/policy.js';
import type { SessionEndReason, SessionRecord, UserRecord } from '../sessions/types.js';
import { Session, User, type AuthEvent } from './models.js';

type AnyQuery =
  Knex.QueryBuilder | QueryBuilder<Session, unknown> | QueryBuilder<AuthEvent, unknown> | QueryBuilder<User, unknown>;

/** Every column of `sessions` but `token_hash`, which is only ever looked up by, never read. */
export const SESSION_COLUMNS = [
  'id',
  'user_id',
  'created_at',
  'last_seen_at',
  'authenticated_at',
  'expires_at',
  'ended_at',
  'end_reason',
  'user_agent',
  'ip_address',
  'assurance',
  'authentication_methods',
  'device_bound_at',
] as const;

const USER_COLUMNS = [
  'id',
  'username',
  'username_key',
  'password_hash',
  'role',
  'session_limit',
  'disabled_at',
  'created_at',
  'updated_at',
] as const;

/** The user columns of a join, each named with `prefix` (see {@link unprefix}). */
export const userColumnsAs = (prefix: string) => USER_COLUMNS.map((column) => `users.${column} as ${prefix}${column}`);

/** The columns of a joined row whose names start with `prefix`, without it. */
export function unprefix(row: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const columns: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith(prefix)) columns[key.slice(prefix.length)] = value;
  return columns;
}

export const NEWEST_FIRST = [
  { column: 'created_at', order: 'desc' },
  { column: 'id', order: 'desc' },
] as const;

/**
 * Keyset pagination: rows strictly older than the cursor in (created_at desc, id desc) order,
 * so rows added or removed between pages neither repeat nor shift the next page.
 */
export function whereOlderThan<Q extends AnyQuery>(query: Q, cursor: PageCursor | undefined): Q {
  if (!cursor) return query;
  const createdAt = cursor.createdAt.getTime();
  return query.where((older) =>
    older
      .where('created_at', '<', createdAt)
      .orWhere((tie) => tie.where('created_at', createdAt).where('id', '<', cursor.id)),
  ) as Q;
}

/** Restricts a sessions query to sessions active at `activeAt` (see {@link ActiveAt}). */
export function whereActive<Q extends AnyQuery>(query: Q, { now, idleTimeoutMs }: ActiveAt): Q {
  return query
    .whereNull('sessions.ended_at')
    .where('sessions.expires_at', '>', now.getTime())
    .where('sessions.last_seen_at', '>', now.getTime() - idleTimeoutMs) as Q;
}

/** Open (not ended) but no longer active: past the absolute expiry or idle too long. */
export function whereOpenButInactive<Q extends AnyQuery>(query: Q, { now, idleTimeoutMs }: ActiveAt): Q {
  return query
    .whereNull('ended_at')
    .where((expired) =>
      expired.where('expires_at', '<=', now.getTime()).orWhere('last_seen_at', '<=', now.getTime() - idleTimeoutMs),
    ) as Q;
}

/** The `count` of a `count({ count: '*' }).first()` row, whatever type the driver gave it. */
export function toCount(row: unknown): number {
  const value = (row as { count?: unknown } | undefined)?.count;
  return Number(value ?? 0);
}

/** Ends the open sessions among those `query` selects; returns exactly the sessions this call ended. */
export async function endOpenSessions(
  query: Knex.QueryBuilder,
  reason: SessionEndReason,
  at: Date,
): Promise<SessionRecord[]> {
  // RETURNING (SQLite ≥ 3.35, PostgreSQL) makes "which rows did I end" exact even when a
  // concurrent request ends some of the same sessions. The unary `+` keeps SQLite's planner off
  // the indexes of open sessions (partial on `ended_at IS NULL`) for this test: without
  // statistics it would scan every open session through one of them instead of finding the few
  // selected by id (a batch of 200 took 30 ms, not 1).
  const rows: Record<string, unknown>[] = await query
    .whereRaw('+ended_at IS NULL')
    .update({ ended_at: at.getTime(), end_reason: reason })
    .returning([...SESSION_COLUMNS]);
  return rows.map((row) => Session.fromDatabaseJson(row));
}

/** Whether a failed insert broke a unique constraint (SQLite's and PostgreSQL's wording). */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    /UNIQUE constraint failed|duplicate key value violates unique constraint/.test(error.message)
  );
}

/** The rows of a `knex.raw` result: an array on SQLite, `{ rows }` on PostgreSQL. */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/**
 * A user by one unique column, in raw SQL mapped by the model: on a login's path, Objection's
 * query builder cost more than the statement (see bench/README.md, login storm, third round).
 */
export async function findUserWhere(
  db: Knex,
  column: 'id' | 'username_key',
  value: string,
  { forUpdate = false } = {},
): Promise<UserRecord | undefined> {
  const sql = `SELECT * FROM users WHERE ${column} = ?${forUpdate ? ' FOR UPDATE' : ''}`;
  const [row] = rowsOf<Record<string, unknown>>(await db.raw(sql, [value]));
  return row && User.fromDatabaseJson(row);
}
