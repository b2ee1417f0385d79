import type { Knex } from 'knex';

/**
 * Accounts an admin can disable, and sessions that remember when their user last proved the
 * password (a login or a re-authentication), for step-up before sensitive operations.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    // Null while the account may sign in.
    table.bigInteger('disabled_at').nullable();
  });
  await knex.schema.alterTable('sessions', (table) => {
    // Null only on rows older than this migration, where the login is the last proof.
    table.bigInteger('authenticated_at').nullable();
  });
  await knex('sessions').update({ authenticated_at: knex.ref('created_at') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => table.dropColumn('authenticated_at'));
  await knex.schema.alterTable('users', (table) => table.dropColumn('disabled_at'));
}
