/**
 * A device-bound session (DBSC) for tests of what shows one: the console's mark, the command
 * line's `bound` column, the metrics. Every such test binds through {@link bindSession} only, so
 * that binding through the protocol itself (the Node DBSC client of issue 23) replaces this one
 * function and none of its callers.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Binds the session `sessionId` to a fresh ES256 key as a registration would, by writing its
 * binding columns (migration 14) in the server's own database, at `now` (the server's clock,
 * else real time). Refuses a session that is ended, missing or already bound, as the protocol
 * does. Returns when it was bound.
 *
 * Until the protocol is built, the bound cookie columns stay empty: this shows a bound session;
 * it does not make one that the server enforces.
 */
export async function bindSession(target: { db: Knex; clock?: { now(): Date } }, sessionId: string): Promise<Date> {
  const boundAt = target.clock?.now() ?? new Date();
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const updated = await target
    .db('sessions')
    .where({ id: sessionId })
    .whereNull('ended_at')
    .whereNull('device_bound_at')
    .update({
      device_bound_at: boundAt.getTime(),
      dbsc_public_key: JSON.stringify(publicKey.export({ format: 'jwk' })),
      dbsc_alg: 'ES256',
    });
  assert.equal(updated, 1, `session ${sessionId} is open and was not bound`);
  return boundAt;
}
