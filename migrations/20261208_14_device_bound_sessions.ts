import type { Knex } from 'knex';
import {
  ANNOUNCED_TYPE,
  announceFunction,
  END_LOG_COLUMNS,
  endLogTrigger,
} from './20261130_05_announce_session_events.js';
import { ASSURANCE_COLUMNS, ASSURANCE_EXTRA } from './20261208_12_second_factors.js';

/**
 * Device-bound sessions (DBSC; DESIGN.md, "Device-bound sessions"). Everything is a column of
 * `sessions`, not a table of its own: the registration challenge goes into the session's own
 * INSERT at login, every DBSC write is one conditional UPDATE of the session's row that consumes
 * a challenge and rotates the bound cookie atomically, at most two challenges per session are
 * ever valid (so a holder of the session cookie cannot fill a table), and the sweeper's deletion
 * of old rows takes everything with them.
 *
 * - `device_bound_at`: when the browser proved a key for this session; null while unbound.
 * - `dbsc_public_key`, `dbsc_alg`: the public JWK (JSON, public members only) and its algorithm
 *   (`ES256` or `RS256`), as registered; every later proof must verify under them.
 * - `bound_cookie_hash`, `bound_cookie_expires_at`: SHA-256 (hex) of the current short-lived
 *   bound cookie, never the cookie itself, and its expiry as the server enforces it (the
 *   cookie's Max-Age is only the browser's side of it).
 * - `previous_bound_cookie_hash`, `previous_bound_cookie_until`: the cookie before the last
 *   rotation, served a few seconds more for the requests already in flight.
 * - `bound_cookie_seen_at`: the first request that carried a bound cookie, which closes the
 *   short window in which the session cookie alone is still served after binding.
 * - `dbsc_challenge_hash`, `dbsc_challenge_expires_at` and the `dbsc_previous_challenge_*` pair:
 *   the outstanding challenge (registration or refresh) and the one before it, tolerated
 *   briefly for two requests that raced; SHA-256 only, single-use.
 *
 * Times are epoch milliseconds, as in every other table.
 *
 * Binding is announced like a start or an end (migration 05), as `BOUND`, so that every instance
 * evicts its cached copy of the session at once: an unbound copy would otherwise keep serving
 * the session cookie alone. PostgreSQL: a third trigger on the announce function. SQLite: the
 * end log gains an `event` column (ENDED, or BOUND with `ended_at` holding the binding time, so
 * the log's retention applies as to ends) and the session's `device_bound_at`. Rotations of the
 * bound cookie are not announced (one every few minutes per session): a cached copy that does
 * not know a cookie re-reads the row.
 */
const COLUMNS: Array<[name: string, type: 'bigint' | 'text' | 'hash' | 'alg']> = [
  ['device_bound_at', 'bigint'],
  ['dbsc_public_key', 'text'],
  ['dbsc_alg', 'alg'],
  ['bound_cookie_hash', 'hash'],
  ['bound_cookie_expires_at', 'bigint'],
  ['previous_bound_cookie_hash', 'hash'],
  ['previous_bound_cookie_until', 'bigint'],
  ['bound_cookie_seen_at', 'bigint'],
  ['dbsc_challenge_hash', 'hash'],
  ['dbsc_challenge_expires_at', 'bigint'],
  ['dbsc_previous_challenge_hash', 'hash'],
  ['dbsc_previous_challenge_until', 'bigint'],
];

const isPostgres = (knex: Knex) => knex.client.config.client === 'pg';

/** The announced row gains `deviceBoundAt`; the trigger named below announces BOUND. */
const BOUND_EXTRA = `${ASSURANCE_EXTRA}, 'deviceBoundAt', NEW.device_bound_at`;
const BOUND_TYPE = `CASE WHEN TG_NAME = 'sessions_announce_bound' THEN 'BOUND' ELSE ${ANNOUNCED_TYPE} END`;
const LOGGED_COLUMNS = [...END_LOG_COLUMNS, ...ASSURANCE_COLUMNS, 'device_bound_at'];

async function upAnnouncements(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(announceFunction(BOUND_EXTRA, BOUND_TYPE));
    await knex.raw(`CREATE TRIGGER sessions_announce_bound AFTER UPDATE OF device_bound_at ON sessions
      FOR EACH ROW WHEN (OLD.device_bound_at IS NULL AND NEW.device_bound_at IS NOT NULL)
      EXECUTE FUNCTION gatehouse_announce_session_event()`);
    return;
  }
  await knex.schema.alterTable('session_end_log', (table) => {
    table.bigInteger('device_bound_at').nullable();
    table.string('event', 8).notNullable().defaultTo('ENDED');
  });
  await knex.raw('DROP TRIGGER sessions_log_ended');
  await knex.raw(endLogTrigger(LOGGED_COLUMNS));
  await knex.raw(
    endLogTrigger([...LOGGED_COLUMNS, 'event'], {
      name: 'sessions_log_bound',
      on: 'device_bound_at',
      values: { ended_at: 'NEW.device_bound_at', end_reason: 'NULL', event: "'BOUND'" },
    }),
  );
}

async function downAnnouncements(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw('DROP TRIGGER sessions_announce_bound ON sessions');
    await knex.raw(announceFunction(ASSURANCE_EXTRA));
    return;
  }
  await knex.raw('DROP TRIGGER sessions_log_bound');
  await knex.raw('DROP TRIGGER sessions_log_ended');
  await knex('session_end_log').where('event', 'BOUND').delete();
  await knex.raw(endLogTrigger([...END_LOG_COLUMNS, ...ASSURANCE_COLUMNS]));
  for (const name of ['event', 'device_bound_at']) await knex.raw(`ALTER TABLE session_end_log DROP COLUMN ${name}`);
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    for (const [name, type] of COLUMNS) {
      if (type === 'bigint') table.bigInteger(name).nullable();
      else if (type === 'text') table.text(name).nullable();
      else if (type === 'hash') table.string(name, 64).nullable();
      else table.string(name, 8).nullable();
    }
  });
  await upAnnouncements(knex);
}

export async function down(knex: Knex): Promise<void> {
  await downAnnouncements(knex);
  // Native DROP COLUMN, one at a time: Knex's copy of a SQLite table would lose its triggers.
  for (const [name] of [...COLUMNS].reverse()) await knex.raw(`ALTER TABLE sessions DROP COLUMN ${name}`);
}
