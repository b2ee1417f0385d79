/**
 * The sweeper's hot statements, in raw SQL with rows passed as JSON text. A batch is thousands
 * of rows, and on the `sqlite3` driver the per-row work on the event loop dominated: binding 10
 * parameters per row cost ~6.5 µs and turning a 10-column result row into an object ~2.7 µs,
 * against ~1.5 and ~0.6 µs for the same rows as one JSON text (measured on this 2-core machine,
 * 100,000 rows in batches of 2,000). Objection's models and Knex's compiler came on top (in a
 * CPU profile of a 100,000-row sweep, Knex 2.2 s and Objection 0.9 s of 6 s on the event loop).
 */
import type { Knex } from 'knex';
import { parseMethods, type AssuranceLevel } from '../sessions/assurance.js';
import type { ActiveAt } from '../sessions/policy.js';
import type { SessionEndReason, SessionRecord } from '../sessions/types.js';
import type { DatabaseKind } from './database-kind.js';
import { rowsOf, SESSION_COLUMNS } from './sql.js';

/** A session as JSON text makes it: SESSION_COLUMNS' values, in that order. */
export type SessionTuple = [
  id: string,
  userId: string,
  createdAt: number,
  lastSeenAt: number,
  authenticatedAt: number | null,
  expiresAt: number,
  endedAt: number | null,
  endReason: SessionEndReason | null,
  userAgent: string | null,
  ipAddress: string | null,
  assurance: AssuranceLevel | null,
  authenticationMethods: string | null,
  deviceBoundAt: number | null,
];

/** SQL for one session as a JSON array (see {@link SessionTuple}); `prefix` qualifies the columns. */
export function sessionJson(kind: DatabaseKind, prefix = ''): string {
  const columns = SESSION_COLUMNS.map((column) => prefix + column).join(', ');
  return kind === 'sqlite' ? `json_array(${columns})` : `json_build_array(${columns})::text`;
}

/**
 * What `Session.fromDatabaseJson` makes of a row, at a fraction of its cost (no model instance).
 * Values after the session's are ignored (the end log puts its seq there).
 */
export function toSessionRecord(tuple: readonly [...SessionTuple, ...unknown[]]): SessionRecord {
  const [id, userId, createdAtMs, lastSeenAt, authenticatedAt, expiresAt, endedAt, endReason, userAgent, ipAddress] =
    tuple;
  const [assurance, methods, deviceBoundAt] = [tuple[10], tuple[11], tuple[12]];
  const createdAt = new Date(createdAtMs);
  return {
    id,
    userId,
    createdAt,
    lastSeenAt: new Date(lastSeenAt),
    // Rows from before migration 04: the login was the last proof (as the model does).
    authenticatedAt: authenticatedAt === null ? createdAt : new Date(authenticatedAt),
    expiresAt: new Date(expiresAt),
    endedAt: endedAt === null ? null : new Date(endedAt),
    endReason,
    userAgent,
    ipAddress,
    assurance: assurance ?? 'AAL1',
    authenticationMethods: parseMethods(methods),
    deviceBoundAt: deviceBoundAt === null ? null : new Date(deviceBoundAt),
  };
}

/** Rows that each hold one JSON text column `j`, parsed in one go. */
export function parseJsonColumn<T>(rows: ReadonlyArray<{ j: string }>): T[] {
  if (rows.length === 0) return [];
  let text = '[';
  for (let i = 0; i < rows.length; i++) text += (i === 0 ? '' : ',') + rows[i]!.j;
  return JSON.parse(text + ']') as T[];
}

/**
 * Ends (EXPIRED) up to `limit` open sessions of anyone that are past their absolute expiry or
 * idle at `activeAt`, in one statement (so one short transaction), and returns them.
 *
 * The batch is chosen through the partial indexes of open sessions by expiry and by last use
 * (`sessions_open_expiry_index`, `sessions_open_idle_index`, migration 08), one per half of the
 * OR; each half repeats `ended_at IS NULL` because SQLite plans the arms of an OR one at a time,
 * and an arm that does not say it cannot use a partial index (the batch then scanned every open
 * session). It is then ended by key:
 * - SQLite: by `rowid`, the table's own key. Going by `id` looks every row up in the id index
 *   first, where random UUIDs put each row of a batch on a different page (2,000 rows of
 *   300,000: 21 ms by id, 15 by rowid). Rows found in expiry order are mostly neighbours in
 *   rowid (insertion) order.
 *   `+ended_at` keeps the planner off the indexes of open sessions for the re-check (see sql.ts).
 * - PostgreSQL: by `id`, its primary key. The re-check of `ended_at` makes an end that raced in
 *   from another instance count once, for whoever committed first.
 */
export async function endInactiveBatch(
  db: Knex,
  kind: DatabaseKind,
  { now, idleTimeoutMs }: ActiveAt,
  limit: number,
): Promise<SessionRecord[]> {
  const key = kind === 'sqlite' ? 'rowid' : 'id';
  const recheck = kind === 'sqlite' ? '+ended_at IS NULL' : 'ended_at IS NULL';
  const at = now.getTime();
  const result: unknown = await db.raw(
    `UPDATE sessions SET ended_at = ?, end_reason = 'EXPIRED'
      WHERE ${key} IN (SELECT ${key} FROM sessions
        WHERE (ended_at IS NULL AND expires_at <= ?) OR (ended_at IS NULL AND last_seen_at <= ?) LIMIT ?)
      AND ${recheck}
      RETURNING ${sessionJson(kind)} AS j`,
    [at, at, at - idleTimeoutMs, limit],
  );
  return parseJsonColumn<SessionTuple>(rowsOf<{ j: string }>(result)).map(toSessionRecord);
}
