import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (table) => {
    table.string('id', 36).primary();
    table.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    // SHA-256 of the token, hex. The hot path looks sessions up by it.
    table.string('token_hash', 64).notNullable().unique('sessions_token_hash_unique');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('last_seen_at').notNullable();
    table.bigInteger('expires_at').notNullable();
    table.bigInteger('ended_at').nullable();
    table.string('end_reason', 32).nullable();
    table.string('user_agent', 512).nullable();
    table.string('ip_address', 64).nullable();
    // A user's open sessions (limits, counts, listing).
    table.index(['user_id', 'ended_at', 'created_at'], 'sessions_user_open_index');
    // Keyset pagination of all sessions, and the sweeper's scan of open sessions by expiry.
    table.index(['ended_at', 'created_at', 'id'], 'sessions_open_created_index');
    table.index(['ended_at', 'expires_at'], 'sessions_open_expiry_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sessions');
}
