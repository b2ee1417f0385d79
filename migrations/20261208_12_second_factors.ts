import type { Knex } from 'knex';
import { announceFunction, END_LOG_COLUMNS, endLogTrigger } from './20261130_05_announce_session_events.js';
import {
  createTrigger,
  dropTrigger,
  envelope,
  EVENTS,
  sessionData,
  sqlite,
  type Dialect,
  type WebhookEvent,
} from './20261201_06_webhooks.js';

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
 * - `auth_events` gains what the factor events say: which factor (`factor_id`), which method
 *   (`method`: the factor's kind, or what a failed code was meant as), and the recovery codes left.
 * - What announces a session (migration 05: PostgreSQL's NOTIFY, SQLite's end log) and what sends
 *   it to webhooks (migration 06's triggers) carry its assurance too; and factor events become
 *   webhook deliveries as every other one does, by a trigger: on their audit rows, which are
 *   written in the transaction of the change they record.
 *
 * Times are epoch milliseconds, as in every other table.
 */
const isPostgres = (knex: Knex) => knex.client.config.client === 'pg';

/** The session columns that migration 05's announcements gain. */
export const ASSURANCE_COLUMNS = ['assurance', 'authentication_methods'];

/** The methods column (comma-separated names, none holding a quote) as a JSON array. */
const methodsJson = (d: Dialect) =>
  d === sqlite
    ? `json('["' || replace(NEW.authentication_methods, ',', '","') || '"]')`
    : `to_json(string_to_array(NEW.authentication_methods, ','))`;

/** Migration 06's session events, with the session's assurance in their data. */
const SESSION_EVENTS: WebhookEvent[] = EVENTS.filter((event) => event.type.startsWith('SESSION_')).map((event) => ({
  ...event,
  body: (d) => {
    const ended = event.type === 'SESSION_ENDED';
    return envelope(d, ended ? 'session.ended' : 'session.started', ended ? 'NEW.ended_at' : 'NEW.created_at', [
      ...sessionData(ended),
      ['assurance', 'NEW.assurance'],
      ['authenticationMethods', methodsJson(d)],
    ]);
  },
}));

const USERNAME = '(SELECT username FROM users WHERE users.id = NEW.user_id)';

/** A factor event's webhook, sent from its audit row. */
function factorEvent(type: string, name: string, data: Array<[string, string]>): WebhookEvent {
  return {
    type,
    trigger: `webhooks_${type.toLowerCase()}`,
    on: 'AFTER INSERT ON auth_events',
    when: `NEW.type = '${type}'`,
    body: (d) => envelope(d, name, 'NEW.created_at', [['userId', 'NEW.user_id'], ['username', USERNAME], ...data]),
  };
}

/**
 * Failures are audited and sent only behind the second-step throttle (a few free, then waits
 * that double), so a flood of wrong codes cannot flood the receivers.
 */
const FACTOR_EVENTS: WebhookEvent[] = [
  factorEvent('SECOND_FACTOR_ADDED', 'second_factor.added', [
    ['factorId', 'NEW.factor_id'],
    ['kind', 'NEW.method'],
  ]),
  factorEvent('SECOND_FACTOR_REMOVED', 'second_factor.removed', [
    ['factorId', 'NEW.factor_id'],
    ['kind', 'NEW.method'],
  ]),
  factorEvent('SECOND_FACTOR_FAILED', 'second_factor.failed', [
    ['method', 'NEW.method'],
    ['ipAddress', 'NEW.ip_address'],
  ]),
  factorEvent('SECOND_FACTORS_RESET', 'second_factors.reset', []),
];

/** Session announcements (migration 05) with the assurance columns, or without them. */
/** Migration 12's addition to the announced row (PostgreSQL). */
export const ASSURANCE_EXTRA = `,
      'assurance', NEW.assurance, 'authenticationMethods', NEW.authentication_methods`;

async function announceAssurance(knex: Knex, on: boolean): Promise<void> {
  if (isPostgres(knex)) {
    const extra = ASSURANCE_EXTRA;
    await knex.raw(announceFunction(on ? extra : ''));
    return;
  }
  await knex.raw('DROP TRIGGER sessions_log_ended');
  await knex.raw(endLogTrigger(on ? [...END_LOG_COLUMNS, ...ASSURANCE_COLUMNS] : END_LOG_COLUMNS));
}

async function upAnnouncements(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) {
    await knex.schema.alterTable('session_end_log', (table) => {
      table.string('assurance', 4).notNullable().defaultTo('AAL1');
      table.string('authentication_methods', 64).notNullable().defaultTo('PASSWORD');
    });
  }
  await announceAssurance(knex, true);
  for (const event of SESSION_EVENTS) await createTrigger(knex, event, { replace: true });
  for (const event of FACTOR_EVENTS) await createTrigger(knex, event);
}

async function downAnnouncements(knex: Knex): Promise<void> {
  for (const event of FACTOR_EVENTS) await dropTrigger(knex, event);
  for (const event of EVENTS.filter((each) => each.type.startsWith('SESSION_'))) {
    await createTrigger(knex, event, { replace: true });
  }
  await announceAssurance(knex, false);
  if (!isPostgres(knex)) await dropColumns(knex, 'session_end_log', ASSURANCE_COLUMNS);
}

/** Native DROP COLUMN (SQLite ≥ 3.35): Knex's copy of a SQLite table would lose the triggers on it. */
async function dropColumns(knex: Knex, table: string, columns: readonly string[]): Promise<void> {
  for (const column of columns) await knex.raw(`ALTER TABLE ${table} DROP COLUMN ${column}`);
}

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
  await knex.schema.alterTable('auth_events', (table) => {
    table.string('factor_id', 36).nullable();
    // An AuthenticationMethod: the factor's kind (TOTP, PASSKEY), or what a failed code was meant as.
    table.string('method', 16).nullable();
    table.integer('recovery_codes_left').nullable();
  });
  await upAnnouncements(knex);
}

export async function down(knex: Knex): Promise<void> {
  await downAnnouncements(knex);
  await dropColumns(knex, 'auth_events', ['recovery_codes_left', 'method', 'factor_id']);
  await knex.schema.dropTable('webauthn_challenges');
  await knex.schema.dropTable('pending_logins');
  await knex.schema.dropTable('recovery_codes');
  await knex.schema.dropTable('second_factors');
  await dropColumns(knex, 'sessions', ASSURANCE_COLUMNS);
}
