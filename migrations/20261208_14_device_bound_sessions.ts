import type { Knex } from 'knex';

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

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (table) => {
    for (const [name, type] of COLUMNS) {
      if (type === 'bigint') table.bigInteger(name).nullable();
      else if (type === 'text') table.text(name).nullable();
      else if (type === 'hash') table.string(name, 64).nullable();
      else table.string(name, 8).nullable();
    }
  });
}

export async function down(knex: Knex): Promise<void> {
  // Native DROP COLUMN, one at a time: Knex's copy of a SQLite table would lose its triggers.
  for (const [name] of [...COLUMNS].reverse()) await knex.raw(`ALTER TABLE sessions DROP COLUMN ${name}`);
}
