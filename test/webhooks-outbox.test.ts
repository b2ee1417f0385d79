/**
 * The outbox: an acknowledged change survives `kill -9` and is delivered after a restart (a real
 * process); two servers on one PostgreSQL attempt each delivery once; a backlog of 10,000 is
 * read a few rows at a time.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Knex } from 'knex';
import { CreateUserDocument, KickSessionDocument } from './generated/graphql.js';
import { sleep, waitFor } from './support/async.js';
import { ManualClock } from './support/clock.js';
import { createPostgresDatabase, POSTGRES_URL } from './support/databases.js';
import { freePort, GatehouseProcess, killAllGatehouseProcesses } from './support/process.js';
import { Receiver } from './support/receiver.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startAppOn, startTestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';
import { createWebhook, verified } from './support/webhooks.js';
import { TestClient } from './support/client.js';

/** Delivery rows as a script's SQL would leave them: due now, for `webhookId`. */
async function plantDeliveries(db: Knex, webhookId: string, count: number): Promise<void> {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    ...{ id: randomUUID(), webhook_id: webhookId, event_type: 'USER_CREATED', status: 'PENDING', attempts: 0 },
    ...{
      payload: JSON.stringify({ type: 'user.created', data: { planted: i } }),
      next_attempt_at: now,
      created_at: now,
    },
  }));
  await db.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += 500) await trx('webhook_deliveries').insert(rows.slice(i, i + 500));
  });
}

/** How many rows each claim statement on `db` returned. */
function watchClaims(db: Knex): number[] {
  const claims: number[] = [];
  db.on('query-response', (response: unknown, query: { sql: string }) => {
    if (!/set\s+[`"]?attempts[`"]?\s*=/i.test(query.sql)) return;
    // Knex answers a raw statement with the driver's result, a builder with its rows.
    const rows = Array.isArray(response) ? response : (response as { rows: unknown[] }).rows;
    claims.push(rows.length);
  });
  return claims;
}

describe('webhooks: an acknowledged kick survives kill -9', () => {
  const dirs: string[] = [];
  after(async () => {
    await killAllGatehouseProcesses();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('receiver down, kick acknowledged, kill -9 at once, restart, receiver up: the event arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-webhooks-'));
    dirs.push(dir);
    const settings = {
      DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
      ADMIN_USERNAME: 'ops',
      ADMIN_PASSWORD: 'ops-password-for-webhook-tests',
      // Retried every 100 ms for about 2 s of running time: enough to reach a receiver that
      // comes up just after the restart.
      WEBHOOK_RETRY_SCHEDULE: Array(20).fill('100ms').join(','),
      WEBHOOK_TIMEOUT: '1s',
    };
    const receiverPort = await freePort();
    const first = await GatehouseProcess.start(settings);
    const admin = (await signIn(first, 'ops', settings.ADMIN_PASSWORD)).client;
    const hook = await createWebhook(admin, `http://127.0.0.1:${receiverPort}/hook`, ['SESSION_ENDED']);
    await admin.data(CreateUserDocument, { username: 'jody', password: passwordOf('jody') });
    const jo = await signIn(first, 'jody');

    await admin.data(KickSessionDocument, { sessionId: jo.session.id });
    first.kill('SIGKILL');
    assert.equal((await first.waitForExit()).signal, 'SIGKILL');

    await GatehouseProcess.start(settings);
    const receiver = await Receiver.start(receiverPort);
    try {
      // A claim the killed process held comes back when its lease (2 × 1 s + 5 s) runs out.
      const [request] = await receiver.waitForRequests(1, 15_000);
      assert.ok(request);
      const event = verified(hook.secret, request);
      assert.equal(event.type, 'session.ended');
      assert.equal(event.data.sessionId, jo.session.id);
      assert.equal(event.data.reason, 'KICKED');
      assert.equal(event.data.username, 'jody');
    } finally {
      await receiver.close();
    }
  });
});

describe('webhooks: a backlog of 10,000 for a receiver that hangs', () => {
  it('is claimed a few rows at a time, holds no more in memory, and delays only its own webhook', async () => {
    const server = await startTestServer({ env: { WEBHOOK_TIMEOUT: '5s', ...QUIET_SWEEPER } });
    const hanging = await Receiver.start();
    const healthy = await Receiver.start();
    hanging.answer = () => 'hang';
    try {
      const admin = await server.adminClient();
      const stuck = await createWebhook(admin, hanging.url, ['USER_DISABLED']);
      await createWebhook(admin, healthy.url, ['USER_CREATED']);
      const claims = watchClaims(server.db);
      await plantDeliveries(server.db, stuck.id, 10_000);

      await createUser(admin, 'kim');
      await healthy.waitForRequests(1, 2_000);
      await hanging.waitForRequests(4);
      await sleep(300);
      process.stdout.write(`# 10,000 pending: ${claims.length} claims, ${Math.max(...claims)} rows at most\n`);
      assert.equal(hanging.requests.length, 4, 'four attempts in flight for the hanging webhook, no more');
      assert.ok(claims.length > 0 && Math.max(...claims) <= 4, `claims returned ${claims.join(',')} rows`);
      const counts = await server
        .db('webhook_deliveries')
        .where('webhook_id', stuck.id)
        .select(
          server.db.raw('sum(case when attempts > 0 then 1 else 0 end) as started'),
          server.db.raw('count(*) as total'),
        );
      assert.deepEqual(
        counts.map((row: Record<string, unknown>) => [Number(row.started), Number(row.total)]),
        [[4, 10_000]],
      );
    } finally {
      await Promise.all([hanging.close(), healthy.close()]);
      await server.stop();
    }
  });
});

describe('webhooks: rows written by hand', () => {
  it('a payload that is not JSON fails its delivery, and the worker goes on with the next', async () => {
    const server = await startTestServer({ env: QUIET_SWEEPER });
    const receiver = await Receiver.start();
    try {
      const admin = await server.adminClient();
      const hook = await createWebhook(admin, receiver.url, ['USER_CREATED']);
      const id = randomUUID();
      const now = Date.now();
      await server.db('webhook_deliveries').insert({
        ...{ id, webhook_id: hook.id, event_type: 'USER_CREATED', payload: '{not json', status: 'PENDING' },
        ...{ attempts: 0, next_attempt_at: now, created_at: now },
      });
      await createUser(admin, 'lee');
      const [request] = await receiver.waitForRequests(1);
      assert.ok(request);
      assert.equal(verified(hook.secret, request).data.username, 'lee');
      const row = await waitFor('the bad row to fail', async () => {
        const found = (await server.db('webhook_deliveries').where({ id }).first('status', 'last_error')) as
          { status: string; last_error: string } | undefined;
        return found?.status === 'FAILED' && found;
      });
      assert.equal(row.last_error, 'not sent: the stored payload is not JSON');
      assert.equal(receiver.requests.length, 1);
    } finally {
      await receiver.close();
      await server.stop();
    }
  });
});

describe(
  'webhooks: two servers on one PostgreSQL',
  { skip: POSTGRES_URL ? false : 'TEST_POSTGRES_URL is not set' },
  () => {
    it('every delivery is attempted once, not twice', async () => {
      const database = await createPostgresDatabase();
      const clock = new ManualClock();
      const env = { WEBHOOK_TIMEOUT: '5s', ...QUIET_SWEEPER };
      const servers = [await startAppOn(database, clock, env), await startAppOn(database, clock, env)];
      const receiver = await Receiver.start();
      // A little latency widens the window in which both workers look at the same rows.
      receiver.answer = () => (response) => setTimeout(() => response.writeHead(200).end(), 5);
      try {
        const claims = servers.map(({ app }) => watchClaims(app.db));
        const admins = await Promise.all(
          servers.map(({ url }) => signIn({ client: () => new TestClient(url) }, ADMIN_USERNAME, ADMIN_PASSWORD)),
        );
        const hook = await createWebhook(admins[0]!.client, receiver.url, ['USER_CREATED']);
        await plantDeliveries(servers[0]!.app.db, hook.id, 400);
        // And events made on both instances while they work through the backlog.
        await Promise.all(
          admins.flatMap(({ client }, s) => Array.from({ length: 10 }, (_, i) => createUser(client, `pg-${s}-${i}`))),
        );

        const expected = 420;
        await receiver.waitForRequests(expected, 20_000);
        await sleep(1_000);
        const ids = receiver.requests.map((request) => request.headers['webhook-id']);
        assert.equal(ids.length, expected, `${ids.length - new Set(ids).size} duplicates`);
        assert.equal(new Set(ids).size, expected);
        const rows: Array<{ status: string; attempts: number }> = await servers[0]!.app
          .db('webhook_deliveries')
          .select('status', 'attempts');
        assert.equal(rows.length, expected);
        assert.ok(rows.every((row) => row.status === 'DELIVERED' && row.attempts === 1));
        const claimed = claims.map((counts) => counts.reduce((sum, n) => sum + n, 0));
        assert.ok(
          claimed.every((n) => n > 0),
          `both instances delivered: ${claimed.join(' + ')}`,
        );
        // The trigger's body as PostgreSQL prints it is sent compact, signed as sent.
        const created = receiver.requests
          .map((request) => verified(hook.secret, request))
          .find((event) => event.data.username === 'pg-1-0');
        assert.equal(created?.type, 'user.created');
        assert.ok(receiver.requests.every((request) => request.body === JSON.stringify(JSON.parse(request.body))));
      } finally {
        await receiver.close();
        for (const { app } of servers) await app.stop();
        await database.drop();
      }
    });
  },
);
