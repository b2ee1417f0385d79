import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Failed-login counters, kept in the database so a restart does not reset a brute-force delay.
  await knex.schema.createTable('login_throttles', (table) => {
    // `account:<username key>` or `ip:<address>`.
    table.string('key', 300).primary();
    table.integer('failures').notNullable();
    table.bigInteger('window_started_at').notNullable();
    table.bigInteger('last_failure_at').notNullable();
    table.index(['window_started_at'], 'login_throttles_window_index');
  });

  // The audit log. Never holds a token or a password.
  await knex.schema.createTable('auth_events', (table) => {
    table.string('id', 36).primary();
    table.string('type', 40).notNullable();
    // No foreign keys: the log outlives the users and sessions it mentions.
    table.string('user_id', 36).nullable();
    table.string('session_id', 36).nullable();
    // Who did it, when not the user themself (the admin who kicked).
    table.string('actor_user_id', 36).nullable();
    // The name typed at a failed login (the account may not exist).
    table.string('username', 256).nullable();
    table.string('reason', 40).nullable();
    table.string('ip_address', 64).nullable();
    table.string('user_agent', 512).nullable();
    table.bigInteger('created_at').notNullable();
    table.index(['created_at', 'id'], 'auth_events_created_index');
    table.index(['user_id', 'created_at', 'id'], 'auth_events_user_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('auth_events');
  await knex.schema.dropTable('login_throttles');
}
