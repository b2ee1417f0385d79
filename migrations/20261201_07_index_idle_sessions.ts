import type { Knex } from 'knex';

/**
 * The sweeper's batch finds open sessions that are past their absolute expiry *or* idle too
 * long. Migration 02 indexed only the first half, (ended_at, expires_at); with this index for the
 * second half both databases answer the OR from two index ranges (SQLite's MULTI-INDEX OR,
 * PostgreSQL's BitmapOr), so a batch costs what it returns. Without it SQLite walks every open
 * session (in expiry order) looking for idle ones: a sweep of a database with many live
 * sessions and a few idle ones read all of them on every batch.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    table.index(['ended_at', 'last_seen_at'], 'sessions_open_idle_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    table.dropIndex(['ended_at', 'last_seen_at'], 'sessions_open_idle_index');
  });
}
