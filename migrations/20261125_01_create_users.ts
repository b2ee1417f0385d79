import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.string('id', 36).primary();
    table.string('username', 256).notNullable();
    // NFKC + lower case: makes `Alice` and `alice` one account.
    table.string('username_key', 256).notNullable().unique('users_username_key_unique');
    table.string('password_hash', 256).notNullable();
    table.string('role', 16).notNullable().defaultTo('USER');
    // Null falls back to MAX_SESSIONS_PER_USER.
    table.integer('session_limit').nullable();
    // Epoch milliseconds: one representation on SQLite and PostgreSQL.
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
    table.index(['role'], 'users_role_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
