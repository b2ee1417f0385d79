import type { Knex } from 'knex';

/**
 * Every start and end of a session is announced by the database itself, whoever writes it (any
 * instance, a script, an operator's SQL), in the transaction that writes it: an end that
 * commits is an end that other instances hear of.
 * - PostgreSQL: triggers NOTIFY the channel `gatehouse_session_events` with the row (never the
 *   token hash); listeners receive it once the transaction commits, in commit order.
 * - SQLite: a trigger appends each end to `session_end_log`, which running servers follow; they
 *   register in `server_instances` with how far they have applied it, so an ending process can
 *   wait for them.
 */
export const SESSION_EVENTS_CHANNEL = 'gatehouse_session_events';

/** The event type a trigger announces: an insert starts a session, an update ends it. */
export const ANNOUNCED_TYPE = `CASE WHEN TG_OP = 'INSERT' THEN 'STARTED' ELSE 'ENDED' END`;

/**
 * The PostgreSQL function that announces a session row, with `extra` key/value pairs of SQL
 * beside the row's columns (migration 12 adds the session's assurance), and the event type as
 * `type` makes it (migration 14 adds BOUND).
 */
export function announceFunction(extra = '', type = ANNOUNCED_TYPE): string {
  return `
CREATE OR REPLACE FUNCTION gatehouse_announce_session_event() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('${SESSION_EVENTS_CHANNEL}', json_build_object(
    'type', ${type},
    'session', json_build_object(
      'id', NEW.id, 'userId', NEW.user_id, 'createdAt', NEW.created_at, 'lastSeenAt', NEW.last_seen_at,
      'authenticatedAt', NEW.authenticated_at, 'expiresAt', NEW.expires_at, 'endedAt', NEW.ended_at,
      'endReason', NEW.end_reason, 'userAgent', NEW.user_agent, 'ipAddress', NEW.ip_address${extra}))::text);
  RETURN NULL;
END $$ LANGUAGE plpgsql`;
}

/** The columns of a session that the SQLite end log copies, in its order (migration 12 adds two). */
export const END_LOG_COLUMNS = [
  'user_id',
  'created_at',
  'last_seen_at',
  'authenticated_at',
  'expires_at',
  'ended_at',
  'end_reason',
  'user_agent',
  'ip_address',
];

/**
 * The SQLite trigger that appends each end to the log, copying `columns` of the row; `values`
 * replaces a column's `NEW.<column>` (migration 14 logs bindings with it).
 */
export function endLogTrigger(
  columns: readonly string[] = END_LOG_COLUMNS,
  { name = 'sessions_log_ended', on = 'ended_at', values = {} as Record<string, string> } = {},
): string {
  return `CREATE TRIGGER ${name} AFTER UPDATE OF ${on} ON sessions
    WHEN OLD.${on} IS NULL AND NEW.${on} IS NOT NULL
    BEGIN
      INSERT INTO session_end_log (session_id, ${columns.join(', ')})
      VALUES (NEW.id, ${columns.map((column) => values[column] ?? `NEW.${column}`).join(', ')});
    END`;
}

async function upPostgres(knex: Knex): Promise<void> {
  await knex.raw(announceFunction());
  await knex.raw(`CREATE TRIGGER sessions_announce_started AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION gatehouse_announce_session_event()`);
  await knex.raw(`CREATE TRIGGER sessions_announce_ended AFTER UPDATE OF ended_at ON sessions
    FOR EACH ROW WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION gatehouse_announce_session_event()`);
}

async function upSqlite(knex: Knex): Promise<void> {
  await knex.schema.createTable('session_end_log', (table) => {
    // AUTOINCREMENT: a sequence never reused, so "applied up to" means the same to every reader.
    table.increments('seq');
    // A copy of the ended row (no token hash): it outlives the row, which deleting a user removes.
    table.string('session_id', 36).notNullable();
    table.string('user_id', 36).notNullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('last_seen_at').notNullable();
    table.bigInteger('authenticated_at').nullable();
    table.bigInteger('expires_at').notNullable();
    table.bigInteger('ended_at').notNullable();
    table.string('end_reason', 32).nullable();
    table.string('user_agent', 512).nullable();
    table.string('ip_address', 64).nullable();
  });
  await knex.schema.createTable('server_instances', (table) => {
    table.string('id', 36).primary();
    table.bigInteger('heartbeat_at').notNullable();
    // The last session_end_log seq this server has applied (evicted, told its live clients).
    table.bigInteger('applied_seq').notNullable();
  });
  await knex.raw(endLogTrigger());
}

export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') await upPostgres(knex);
  else await upSqlite(knex);
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw('DROP TRIGGER sessions_announce_ended ON sessions');
    await knex.raw('DROP TRIGGER sessions_announce_started ON sessions');
    await knex.raw('DROP FUNCTION gatehouse_announce_session_event()');
  } else {
    await knex.raw('DROP TRIGGER sessions_log_ended');
    await knex.schema.dropTable('server_instances');
    await knex.schema.dropTable('session_end_log');
  }
}
