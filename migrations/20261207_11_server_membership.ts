import type { Knex } from 'knex';

/**
 * PostgreSQL: the servers that may be trusting their session caches, read at once by a process
 * that ends sessions (src/events/postgres-propagation.ts). A server writes its row in the same
 * statement as its heartbeat's NOTIFY, so a heartbeat it receives back (the proof that lets it
 * trust its cache) is one whose row was committed with it; it deletes the row when it stops.
 * Rows of servers that died are ignored once older than the window and deleted later.
 *
 * SQLite has had the same table since migration 05 (with how far each server has applied the
 * end log); `heartbeat_at` is the database's own clock here (`now()`), so that the ages a
 * barrier compares come from one clock.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  // Rewritten four times a second by every server: room on each page keeps updates HOT.
  await knex.raw(`CREATE TABLE server_instances (
    id varchar(36) PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL
  ) WITH (fillfactor = 50)`);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.schema.dropTable('server_instances');
}
