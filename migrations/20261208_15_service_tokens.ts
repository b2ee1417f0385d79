import type { Knex } from 'knex';

/**
 * Service tokens (DESIGN.md, "Other services"): credentials an admin gives another service, each
 * with a name and its scopes. Like session tokens, only SHA-256 (hex) of the token is kept: a
 * dump of this table lets no one in.
 *
 * - `scopes`: `ServiceScope`s, comma-separated.
 * - `name`: unique among the tokens not revoked (a partial unique index, which both databases
 *   have), so that two admins creating the same name at once cannot both succeed, while a
 *   revoked token's name can be given to its replacement.
 * - `created_by_user_id`, `revoked_by_user_id`: the admin; null from the command line, or once
 *   that admin's account is deleted (the audit log keeps who it was).
 * - `last_used_at`: written at most once a minute per token, in batches.
 *
 * Times are epoch milliseconds, as in every other table.
 *
 * - `auth_events` gains `service_token_id`: which token SERVICE_TOKEN_CREATED and
 *   SERVICE_TOKEN_REVOKED concern (no foreign key: the audit log outlives what it names).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('service_tokens', (table) => {
    table.string('id', 36).primary();
    table.string('name', 100).notNullable();
    table.string('scopes', 64).notNullable();
    table.string('token_hash', 64).notNullable().unique('service_tokens_token_hash_unique');
    table.bigInteger('created_at').notNullable();
    table.string('created_by_user_id', 36).nullable().references('id').inTable('users').onDelete('SET NULL');
    table.bigInteger('last_used_at').nullable();
    table.bigInteger('revoked_at').nullable();
    table.string('revoked_by_user_id', 36).nullable().references('id').inTable('users').onDelete('SET NULL');
    table.index(['created_at', 'id'], 'service_tokens_list_index');
  });
  await knex.raw('CREATE UNIQUE INDEX service_tokens_name_unique ON service_tokens (name) WHERE revoked_at IS NULL');
  await knex.schema.alterTable('auth_events', (table) => {
    table.string('service_token_id', 36).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  // Native DROP COLUMN (as in migration 12): Knex's copy of a SQLite table would lose its triggers.
  await knex.raw('ALTER TABLE auth_events DROP COLUMN service_token_id');
  await knex.schema.dropTable('service_tokens');
}
