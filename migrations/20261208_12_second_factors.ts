import type { Knex } from 'knex';

/**
 * Second factors and passkeys (DESIGN.md, "Second factors and passkeys").
 *
 * - `sessions.assurance` and `sessions.authentication_methods`: how sure the session is of its
 *   user. Every session before this migration was a password login: AAL1, `PASSWORD`.
 * - `second_factors`: a user's authenticator apps (TOTP) and passkeys. A TOTP row whose
 *   `confirmed_at` is null is an enrollment waiting for its first code, not a factor. The TOTP
 *   secret is stored encrypted (AES-256-GCM under SECRETS_KEY), never in plain text;
 *   `totp_last_step` is the last time step accepted, so a code is accepted once. A passkey keeps
 *   its credential id (base64url, unique), its COSE public key (base64url) and its signature
 *   counter.
 * - `recovery_codes`: SHA-256 of each code (120 random bits, so a fast hash is enough: ASVS
 *   6.5.2), single-use.
 * - `pending_logins`: a right password waiting for its second step (or for the user to enroll
 *   one, under REQUIRE_SECOND_FACTOR). Not a session: it counts toward no limit, is listed
 *   nowhere and can do nearly nothing; the second step starts the session with a new token.
 * - `webauthn_challenges`: SHA-256 of each outstanding WebAuthn challenge, single-use, with who
 *   asked for it and for what; deleted when used or expired.
 *
 * Times are epoch milliseconds, as in every other table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    table.string('assurance', 4).notNullable().defaultTo('AAL1');
    // Comma-separated AuthenticationMethod names, in the order they were proved.
    table.string('authentication_methods', 64).notNullable().defaultTo('PASSWORD');
  });
  await knex.schema.createTable('second_factors', (table) => {
    table.string('id', 36).primary();
    table.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.string('kind', 8).notNullable();
    table.string('name', 64).notNullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('confirmed_at').nullable();
    table.bigInteger('last_used_at').nullable();
    table.text('totp_secret_encrypted').nullable();
    table.bigInteger('totp_last_step').nullable();
    table.string('credential_id', 1024).nullable().unique('second_factors_credential_id_unique');
    table.text('public_key').nullable();
    table.bigInteger('sign_count').nullable();
    table.string('transports', 128).nullable();
    table.index(['user_id', 'created_at'], 'second_factors_user_index');
  });
  await knex.schema.createTable('recovery_codes', (table) => {
    table.string('code_hash', 64).primary();
    table.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('used_at').nullable();
    table.index(['user_id'], 'recovery_codes_user_index');
  });
  await knex.schema.createTable('pending_logins', (table) => {
    table.string('id', 36).primary();
    table.string('token_hash', 64).notNullable().unique('pending_logins_token_hash_unique');
    table.string('user_id', 36).notNullable().references('id').inTable('users').onDelete('CASCADE');
    // SECOND_FACTOR or ENROLL_SECOND_FACTOR (LoginStep).
    table.string('next_step', 24).notNullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('expires_at').notNullable();
    table.string('user_agent', 512).nullable();
    table.string('ip_address', 64).nullable();
    table.index(['user_id'], 'pending_logins_user_index');
    table.index(['expires_at'], 'pending_logins_expiry_index');
  });
  await knex.schema.createTable('webauthn_challenges', (table) => {
    table.string('challenge_hash', 64).primary();
    // REGISTRATION or AUTHENTICATION.
    table.string('purpose', 16).notNullable();
    // Who asked: a user (registration, a second step, step-up), or no one (a passwordless login).
    table.string('user_id', 36).nullable().references('id').inTable('users').onDelete('CASCADE');
    table.bigInteger('created_at').notNullable();
    table.bigInteger('expires_at').notNullable();
    table.index(['expires_at'], 'webauthn_challenges_expiry_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webauthn_challenges');
  await knex.schema.dropTable('pending_logins');
  await knex.schema.dropTable('recovery_codes');
  await knex.schema.dropTable('second_factors');
  await knex.schema.alterTable('sessions', (table) => {
    table.dropColumn('authentication_methods');
    table.dropColumn('assurance');
  });
}
