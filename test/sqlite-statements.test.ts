/**
 * Knex's SQLite client keeping prepared statements (src/storage/sqlite-statements.ts), on a real
 * SQLite file: answers are the same as stock Knex's, failures leave nothing broken behind, the
 * number kept is bounded, and the connection still closes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import knex, { type Knex } from 'knex';
import {
  KEPT_STATEMENTS,
  keptStatementCount,
  SqliteClientKeepingStatements,
} from '../src/storage/sqlite-statements.js';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-statements-'));
let fileCount = 0;

function open(): Knex {
  return knex({
    client: SqliteClientKeepingStatements as unknown as typeof Knex.Client,
    connection: { filename: join(dir, `db-${++fileCount}.sqlite`) },
    useNullAsDefault: true,
    pool: { min: 1, max: 1 },
  });
}

/** Statements kept on the pool's one connection. */
async function kept(db: Knex): Promise<number> {
  const connection = (await db.client.acquireConnection()) as object;
  try {
    return keptStatementCount(connection);
  } finally {
    await db.client.releaseConnection(connection);
  }
}

describe('SQLite client keeping prepared statements', () => {
  let db: Knex;
  before(async () => {
    db = open();
    await db.schema.createTable('items', (table) => {
      table.integer('id').primary();
      table.string('name').notNullable().unique();
    });
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a repeated statement as stock Knex does: rows, inserted ids, counts of changed rows', async () => {
    for (let id = 1; id <= 20; id++) {
      assert.deepEqual(await db('items').insert({ id, name: `item-${id}` }), [id]);
    }
    assert.equal((await db('items').where('id', 7).first())?.name, 'item-7');
    assert.equal((await db('items').where('id', 8).first())?.name, 'item-8', 'a kept statement bound afresh');
    assert.equal(
      await db('items')
        .where('id', '>', 15)
        .update({ name: db.raw("name || '!'") }),
      5,
    );
    assert.deepEqual(await db('items').where('id', 16).update({ name: 'sixteen' }, ['id', 'name']), [
      { id: 16, name: 'sixteen' },
    ]);
    assert.equal(await db('items').where('id', '>', 18).delete(), 2);
    assert.equal(await db('items').where('id', '>', 18).delete(), 0, 'the same delete again changes nothing');
    assert.deepEqual(await db.raw('select count(*) as n from items where id <= ?', [10]), [{ n: 10 }]);
  });

  it('a statement that cannot be prepared fails its query with SQLite’s error, and nothing is kept of it', async () => {
    const before = await kept(db);
    await assert.rejects(db.raw('select nope from items'), /SQLITE_ERROR: no such column: nope/);
    await assert.rejects(db.raw('selec 1'), /SQLITE_ERROR: near "selec"/);
    assert.equal(await kept(db), before);
    assert.deepEqual(await db.raw('select 1 as one'), [{ one: 1 }], 'the connection works on');
  });

  it('a statement that fails when run (a constraint) is prepared afresh next time and then works', async () => {
    const insert = (id: number, name: string) => db('items').insert({ id, name });
    await assert.rejects(insert(100, 'item-1'), /SQLITE_CONSTRAINT: UNIQUE constraint failed: items.name/);
    assert.deepEqual(await insert(100, 'item-100'), [100]);
    assert.equal((await db('items').where('id', 100).first())?.name, 'item-100');
  });

  it('a transaction that fails rolls back, with its statements kept or not', async () => {
    await assert.rejects(
      db.transaction(async (trx) => {
        await trx('items').insert({ id: 200, name: 'item-200' });
        await trx('items').insert({ id: 201, name: 'item-1' });
      }),
      /UNIQUE constraint failed/,
    );
    assert.equal(await db('items').whereIn('id', [200, 201]).first(), undefined);
    await db.transaction(async (trx) => {
      await trx('items').insert({ id: 200, name: 'item-200' });
    });
    assert.equal((await db('items').where('id', 200).first())?.name, 'item-200');
  });

  it('two queries of the same text at once on one connection each get an answer', async () => {
    await db.transaction(async (trx) => {
      const byId = (id: number) => trx('items').where('id', id).first();
      const [a, b, c] = await Promise.all([byId(1), byId(2), byId(3)]);
      assert.deepEqual([a?.name, b?.name, c?.name], ['item-1', 'item-2', 'item-3']);
    });
  });

  it(`keeps at most ${KEPT_STATEMENTS} statements, least recently used dropped first`, async () => {
    const other = open();
    try {
      for (let i = 0; i < KEPT_STATEMENTS + 50; i++) {
        assert.deepEqual(await other.raw(`select ${i} as n`), [{ n: i }]);
      }
      assert.equal(await kept(other), KEPT_STATEMENTS);
      assert.deepEqual(await other.raw('select 0 as n'), [{ n: 0 }], 'a dropped one is prepared afresh');
      assert.deepEqual(await other.raw(`select ${KEPT_STATEMENTS + 49} as n`), [{ n: KEPT_STATEMENTS + 49 }]);
      assert.equal(await kept(other), KEPT_STATEMENTS);
    } finally {
      await other.destroy();
    }
  });

  it('closes a connection with statements kept on it (SQLite refuses while any is open)', async () => {
    // Outside the pool, whose destroy swallows a failed close.
    const client = db.client as Knex.Client & {
      _query(connection: unknown, query: { sql: string; bindings: unknown[]; method: string }): Promise<unknown>;
    };
    const connection = (await client.acquireRawConnection()) as object;
    for (let i = 0; i < 5; i++)
      await client._query(connection, { sql: `select ${i} as n`, bindings: [], method: 'raw' });
    assert.equal(keptStatementCount(connection), 5);
    await client.destroyRawConnection(connection);
    assert.equal(keptStatementCount(connection), 0);
  });
});
