import type { Knex } from 'knex';

/**
 * The audit log is read filtered by event type and by who brought the event about (the
 * console's filters, `authEvents(types:, actorUserId:)`), newest first in keyset pages: each
 * filter gets an index in that order, so that a page of a rare type reads its rows and no more.
 *
 * Both are partial, to cost the writes that matter nothing. The sweeper writes SESSION_ENDED
 * events by the hundred thousand, with no actor: a full type index added about a third to the
 * CPU of that insert. SESSION_ENDED is left out of it (half the log or so: a page of them is
 * found by walking `auth_events_created_index`), and events without a signed-in actor (logins,
 * expiry, the sweeper) out of the actor's. A query uses a partial index only when its WHERE
 * says the index's condition itself (see auth-event-store.ts).
 */
const INDEXES: Array<[name: string, columns: string, where: string]> = [
  ['auth_events_type_index', 'type, created_at, id', "type <> 'SESSION_ENDED'"],
  ['auth_events_actor_index', 'actor_user_id, created_at, id', 'actor_user_id IS NOT NULL'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [name, columns, where] of INDEXES) {
    await knex.raw(`CREATE INDEX ${name} ON auth_events (${columns}) WHERE ${where}`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of INDEXES) await knex.raw(`DROP INDEX ${name}`);
}
