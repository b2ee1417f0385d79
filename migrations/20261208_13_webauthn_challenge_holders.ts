import type { Knex } from 'knex';

/**
 * Who holds each outstanding WebAuthn challenge, so that one holder's count can be bounded
 * (src/sessions/webauthn-challenges.ts): a user (`user_id`, migration 12), or, for a passwordless
 * login that names no one yet, the network the request came from (`client_network`: the IPv4
 * address, or the /64 of an IPv6 one, where a single host may pick any of 2^64 addresses).
 * Without it, anyone could fill the table by asking for login options in a loop.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webauthn_challenges', (table) => {
    table.string('client_network', 64).nullable();
    table.index(['user_id', 'created_at'], 'webauthn_challenges_user_index');
    table.index(['client_network', 'created_at'], 'webauthn_challenges_network_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webauthn_challenges', (table) => {
    table.dropIndex(['client_network', 'created_at'], 'webauthn_challenges_network_index');
    table.dropIndex(['user_id', 'created_at'], 'webauthn_challenges_user_index');
    table.dropColumn('client_network');
  });
}
