import type { Knex } from 'knex';

/**
 * The indexes of open sessions hold open sessions only. Before, four indexes led with (or held)
 * `ended_at`, so ending a session moved its entry in each of them: eight B-tree writes per end,
 * and indexes that grew with every ended row kept for `SESSION_RETENTION`. As partial indexes
 * (`WHERE ended_at IS NULL`, which SQLite ≥ 3.8 and PostgreSQL both have) an end removes four
 * entries and adds one to the index of ended sessions. The sweeper's batch statement on SQLite
 * (100,000 expired rows through the store, 1,000 a statement, on a 2-core machine) went from
 * 24.7 to 17.2 µs a row. A user's sessions, ended ones included, get an index without
 * `ended_at` (listing them, and the cascade when a user is deleted), which an end does not touch.
 *
 * A query uses a partial index only when its WHERE clause says `ended_at IS NULL` itself; inside
 * an OR, each arm must say it (see `session-rows.ts`).
 */
const OLD_INDEXES: Array<[name: string, columns: string]> = [
  ['sessions_user_open_index', 'user_id, ended_at, created_at'],
  ['sessions_open_created_index', 'ended_at, created_at, id'],
  ['sessions_open_expiry_index', 'ended_at, expires_at'],
  ['sessions_open_idle_index', 'ended_at, last_seen_at'],
];

const NEW_INDEXES: Array<[name: string, columns: string, where: string]> = [
  // A user's sessions, ended included (sessionsByUser with includeEnded).
  ['sessions_user_index', 'user_id, created_at, id', ''],
  // A user's open sessions: the login's session limit, counts, listing.
  ['sessions_user_open_index', 'user_id, created_at, id', 'ended_at IS NULL'],
  // Keyset pages of everyone's open sessions (activeSessions).
  ['sessions_open_created_index', 'created_at, id', 'ended_at IS NULL'],
  // The sweeper: open sessions past their absolute expiry, or idle too long.
  ['sessions_open_expiry_index', 'expires_at', 'ended_at IS NULL'],
  ['sessions_open_idle_index', 'last_seen_at', 'ended_at IS NULL'],
  // Ends since a time (statistics) and ended rows past their retention (the sweeper).
  ['sessions_ended_index', 'ended_at', 'ended_at IS NOT NULL'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name] of OLD_INDEXES) await knex.raw(`DROP INDEX ${name}`);
  for (const [name, columns, where] of NEW_INDEXES) {
    await knex.raw(`CREATE INDEX ${name} ON sessions (${columns})${where ? ` WHERE ${where}` : ''}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of NEW_INDEXES) await knex.raw(`DROP INDEX ${name}`);
  for (const [name, columns] of OLD_INDEXES) await knex.raw(`CREATE INDEX ${name} ON sessions (${columns})`);
}
