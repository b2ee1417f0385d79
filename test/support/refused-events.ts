/** Makes the database refuse to write audit events of one type, as a full disk or a bad constraint would. */
import type { Knex } from 'knex';

/** The trigger's message: never shown to a client. */
export const REFUSAL = 'the test refuses this audit event';

export async function refuseEvents(db: Knex, kind: 'sqlite' | 'postgres', type: string): Promise<void> {
  if (kind === 'sqlite') {
    await db.raw(`CREATE TRIGGER test_refuse_events BEFORE INSERT ON auth_events
      WHEN NEW.type = '${type}' BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    return;
  }
  await db.raw(`CREATE FUNCTION test_refuse_events() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '${REFUSAL}'; END $$ LANGUAGE plpgsql`);
  await db.raw(`CREATE TRIGGER test_refuse_events BEFORE INSERT ON auth_events
    FOR EACH ROW WHEN (NEW.type = '${type}') EXECUTE FUNCTION test_refuse_events()`);
}

export async function allowEvents(db: Knex, kind: 'sqlite' | 'postgres'): Promise<void> {
  if (kind === 'sqlite') return void (await db.raw('DROP TRIGGER test_refuse_events'));
  await db.raw('DROP TRIGGER test_refuse_events ON auth_events');
  await db.raw('DROP FUNCTION test_refuse_events()');
}
