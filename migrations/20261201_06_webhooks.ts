import type { Knex } from 'knex';

/**
 * Webhooks and their outbox. Like the session announcements of migration 05, the delivery rows
 * are written by the database itself, in the transaction that makes the change, whoever makes
 * it (any instance, a script, an operator's SQL): an acknowledged kick has its delivery row
 * committed with it, so it is sent even if the process dies the next instant.
 *
 * Each trigger inserts one PENDING row per enabled webhook subscribed to the event, holding the
 * exact JSON body to send. The body is self-contained (the username is copied in) because
 * deleting a user deletes its user and session rows in the same transaction.
 */

/** The SQL both dialects need, spelled for one of them. */
export interface Dialect {
  /** A JSON object from alternating key and value expressions. */
  json(pairs: Array<[string, string]>): string;
  /** Epoch milliseconds (a column) as ISO-8601 with milliseconds, in UTC. */
  iso(ms: string): string;
  /** The database's clock, in epoch milliseconds. */
  nowMs: string;
  /** A random UUID as text. */
  uuid: string;
  /** The JSON value as the text column stores it. */
  text(json: string): string;
}

export const sqlite: Dialect = {
  json: (pairs) => `json_object(${pairs.map(([key, value]) => `'${key}', ${value}`).join(', ')})`,
  iso: (ms) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${ms} / 1000.0, 'unixepoch')`,
  nowMs: `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
  // A version 4 UUID from random bytes: SQLite has no UUID function.
  uuid: `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
    || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`,
  text: (json) => json,
};

export const postgres: Dialect = {
  json: (pairs) => `json_build_object(${pairs.map(([key, value]) => `'${key}', ${value}`).join(', ')})`,
  // Whole seconds plus an exact millisecond interval: no floating-point rounding of the milliseconds.
  iso: (ms) =>
    `to_char((to_timestamp(${ms} / 1000) + (${ms} % 1000) * interval '1 millisecond') AT TIME ZONE 'UTC',
      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  // The statement's time: the same wherever one trigger reads it.
  nowMs: `(extract(epoch from statement_timestamp()) * 1000)::bigint`,
  uuid: 'gen_random_uuid()::text',
  text: (json) => `(${json})::text`,
};

/** One event a trigger announces: which rows, and the body it sends. */
export interface WebhookEvent {
  /** `WebhookEventType`, as stored in `webhooks.events`. */
  type: string;
  trigger: string;
  /** `AFTER …` clause and optional `WHEN` condition. */
  on: string;
  when?: string;
  body(d: Dialect): string;
}

export function envelope(d: Dialect, type: string, at: string, data: Array<[string, string]>): string {
  return d.json([
    ['type', `'${type}'`],
    ['timestamp', d.iso(at)],
    ['data', d.json([...data, ['at', d.iso(at)]])],
  ]);
}

export const sessionData = (reason: boolean): Array<[string, string]> => [
  ['sessionId', 'NEW.id'],
  ['userId', 'NEW.user_id'],
  ['username', '(SELECT username FROM users WHERE users.id = NEW.user_id)'],
  ...(reason ? [['reason', 'NEW.end_reason'] as [string, string]] : []),
  ['userAgent', 'NEW.user_agent'],
  ['ipAddress', 'NEW.ip_address'],
];

const userData = (row: 'NEW' | 'OLD'): Array<[string, string]> => [
  ['userId', `${row}.id`],
  ['username', `${row}.username`],
  ['role', `${row}.role`],
];

export const EVENTS: WebhookEvent[] = [
  {
    type: 'SESSION_STARTED',
    trigger: 'webhooks_session_started',
    on: 'AFTER INSERT ON sessions',
    body: (d) => envelope(d, 'session.started', 'NEW.created_at', sessionData(false)),
  },
  {
    type: 'SESSION_ENDED',
    trigger: 'webhooks_session_ended',
    on: 'AFTER UPDATE OF ended_at ON sessions',
    when: 'OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL',
    body: (d) => envelope(d, 'session.ended', 'NEW.ended_at', sessionData(true)),
  },
  {
    type: 'USER_CREATED',
    trigger: 'webhooks_user_created',
    on: 'AFTER INSERT ON users',
    body: (d) => envelope(d, 'user.created', 'NEW.created_at', userData('NEW')),
  },
  {
    type: 'USER_DISABLED',
    trigger: 'webhooks_user_disabled',
    on: 'AFTER UPDATE OF disabled_at ON users',
    when: 'OLD.disabled_at IS NULL AND NEW.disabled_at IS NOT NULL',
    body: (d) => envelope(d, 'user.disabled', 'NEW.disabled_at', userData('NEW')),
  },
  {
    type: 'USER_DELETED',
    trigger: 'webhooks_user_deleted',
    on: 'AFTER DELETE ON users',
    // The row is gone: the deletion's time is the database's.
    body: (d) => envelope(d, 'user.deleted', d.nowMs, userData('OLD')),
  },
];

/** One delivery row per enabled webhook subscribed to `event`. */
function enqueue(d: Dialect, event: WebhookEvent): string {
  return `INSERT INTO webhook_deliveries (id, webhook_id, event_type, payload, status, attempts, next_attempt_at, created_at)
    SELECT ${d.uuid}, webhooks.id, '${event.type}', ${d.text(event.body(d))}, 'PENDING', 0, ${d.nowMs}, ${d.nowMs}
    FROM webhooks WHERE webhooks.enabled AND (',' || webhooks.events || ',') LIKE '%,${event.type},%'`;
}

async function createTables(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhooks', (table) => {
    table.string('id', 36).primary();
    table.string('url', 2048).notNullable();
    // `WebhookEventType`s, comma-separated: the triggers match them with LIKE.
    table.string('events', 256).notNullable();
    table.boolean('enabled').notNullable().defaultTo(true);
    table.string('description', 500).nullable();
    // `whsec_…`: HMAC needs the key itself, so it is stored as given (docs/security.md, gap G8).
    table.string('secret', 128).notNullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('webhook_deliveries', (table) => {
    table.string('id', 36).primary();
    table.string('webhook_id', 36).notNullable().references('id').inTable('webhooks').onDelete('CASCADE');
    table.string('event_type', 32).notNullable();
    // The exact body sent on every attempt.
    table.text('payload').notNullable();
    table.string('status', 16).notNullable();
    // Attempts started; a claim counts one, so a stale worker's result can be told apart.
    table.integer('attempts').notNullable();
    // When a PENDING row is next due; while an attempt runs, when its lease runs out.
    table.bigInteger('next_attempt_at').nullable();
    table.bigInteger('last_attempt_at').nullable();
    table.integer('last_duration_ms').nullable();
    table.integer('last_status_code').nullable();
    table.string('last_error', 500).nullable();
    table.bigInteger('created_at').notNullable();
    table.bigInteger('delivered_at').nullable();
    // When it became DELIVERED or FAILED: what retention counts from.
    table.bigInteger('finished_at').nullable();
    table.index(['webhook_id', 'status', 'next_attempt_at'], 'webhook_deliveries_due_index');
    table.index(['webhook_id', 'created_at', 'id'], 'webhook_deliveries_list_index');
    table.index(['finished_at'], 'webhook_deliveries_finished_index');
  });
}

/**
 * Creates the trigger (and on PostgreSQL its function) that enqueues `event`; with `replace`,
 * in place of the one of that name (a later migration changing the body).
 */
export async function createTrigger(knex: Knex, event: WebhookEvent, { replace = false } = {}): Promise<void> {
  const when = event.when ? `WHEN (${event.when})` : '';
  if (knex.client.config.client === 'pg') {
    await knex.raw(`CREATE ${replace ? 'OR REPLACE ' : ''}FUNCTION ${event.trigger}() RETURNS trigger AS $$
        BEGIN ${enqueue(postgres, event)}; RETURN NULL; END $$ LANGUAGE plpgsql`);
    if (!replace) {
      await knex.raw(`CREATE TRIGGER ${event.trigger} ${event.on} FOR EACH ROW
        ${when} EXECUTE FUNCTION ${event.trigger}()`);
    }
  } else {
    if (replace) await knex.raw(`DROP TRIGGER ${event.trigger}`);
    await knex.raw(`CREATE TRIGGER ${event.trigger} ${event.on}
        ${when} BEGIN ${enqueue(sqlite, event)}; END`);
  }
}

/** Drops the trigger of `event` (and on PostgreSQL its function). */
export async function dropTrigger(knex: Knex, event: WebhookEvent): Promise<void> {
  const pg = knex.client.config.client === 'pg';
  const table = event.on.split(' ').pop() as string;
  await knex.raw(pg ? `DROP TRIGGER ${event.trigger} ON ${table}` : `DROP TRIGGER ${event.trigger}`);
  if (pg) await knex.raw(`DROP FUNCTION ${event.trigger}()`);
}

export async function up(knex: Knex): Promise<void> {
  await createTables(knex);
  for (const event of EVENTS) await createTrigger(knex, event);
}

export async function down(knex: Knex): Promise<void> {
  for (const event of EVENTS) await dropTrigger(knex, event);
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhooks');
}
