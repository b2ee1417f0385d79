/**
 * The revocation guarantee under faults, against real processes: an ended session is over
 * everywhere once the call that ended it returns, and a stale cache serves it for at most the
 * trust bound (1 s) while the path that carries ends is down or hung. Also: a database outage
 * answers 503 UNAVAILABLE, never 200 or 500, and the service resumes by itself.
 *
 * Servers, databases and Redis that a test stops or freezes are its own, on free ports.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import knex, { type Knex } from 'knex';
import { hashToken, generateToken } from '../src/sessions/tokens.js';
import { CreateUserDocument, KickSessionDocument, LoginDocument } from './generated/graphql.js';
import { TestClient } from './support/client.js';
import { createPostgresDatabase, POSTGRES_URL, type TestDatabase } from './support/databases.js';
import { openSocket, subscribeWs } from './support/live.js';
import { OwnPostgres, OwnRedis } from './support/own-services.js';
import { sleep } from './support/async.js';
import { GatehouseProcess, killAllGatehouseProcesses, runScript } from './support/process.js';

const ADMIN = { username: 'ops', password: 'ops-password-for-fault-tests' };
const SETTINGS = { ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, SWEEP_INTERVAL: '1h' };
/** The revocation guarantee's bound (docs/production.md): the longest a stale cache serves an ended session. */
const TRUST_BOUND_MS = 1_000;
const COOKIE = 'gatehouse_session';
const ME = '{ me { id } }';

/** `{ me }` with a cookie, straight over HTTP: the status, the body and its code. */
async function me(url: string, token: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `${COOKIE}=${token}` },
    body: JSON.stringify({ query: ME }),
  });
  const body = (await response.json()) as {
    data?: { me: { id: string } | null };
    errors?: Array<{ extensions?: { code?: string } }>;
  };
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body,
    code: body.errors?.[0]?.extensions?.code,
  };
}

async function signedInAdmin(proc: { url: string }): Promise<TestClient> {
  const client = new TestClient(proc.url);
  await client.data(LoginDocument, ADMIN);
  return client;
}

interface Seeded {
  id: string;
  token: string;
}

/** Sessions written straight into the table (tokens we know, no password hashing): test setup only. */
async function seedSessions(db: Knex, userId: string, count: number): Promise<Seeded[]> {
  const now = Date.now();
  const seeded = Array.from({ length: count }, () => ({ id: crypto.randomUUID(), token: generateToken() }));
  const rows = seeded.map(({ id, token }) => ({
    id,
    user_id: userId,
    token_hash: hashToken(token),
    created_at: now,
    last_seen_at: now,
    expires_at: now + 3_600_000,
  }));
  for (let i = 0; i < rows.length; i += 100) await db('sessions').insert(rows.slice(i, i + 100));
  return seeded;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Two server processes on one database, and an admin on each. */
async function twoInstances(settings: Record<string, string>) {
  const a = await GatehouseProcess.start({ ...SETTINGS, ...settings });
  const b = await GatehouseProcess.start({ ...SETTINGS, ...settings });
  return { a, b, adminA: await signedInAdmin(a), adminB: await signedInAdmin(b) };
}

after(killAllGatehouseProcesses);

describe(
  'faults: two instances on PostgreSQL without Redis (cache on)',
  { skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set' },
  () => {
    let database: TestDatabase;
    let db: Knex;
    before(async () => {
      database = await createPostgresDatabase();
      db = knex({ client: 'pg', connection: database.url });
    });
    after(async () => {
      await killAllGatehouseProcesses();
      await db?.destroy();
      await database?.drop();
    });

    it('1,000 kicks on A, each followed at once by a request on B: none is served after its kick returned', async (t) => {
      const { b, adminA } = await twoInstances({ DATABASE_URL: database.url });
      const { createUser } = await adminA.data(CreateUserDocument, { username: 'probe', password: 'probe-password' });
      const sessions = await seedSessions(db, createUser.id, 1_000);
      const served: string[] = [];
      const refusalMs: number[] = [];
      const probe = async ({ id, token }: Seeded) => {
        assert.equal((await me(b.url, token)).body.data?.me?.id, createUser.id, 'B validates (and caches) it');
        const sentAt = performance.now();
        await adminA.data(KickSessionDocument, { sessionId: id });
        const onB = await me(b.url, token);
        refusalMs.push(performance.now() - sentAt);
        if (onB.body.data?.me !== null) served.push(id);
      };
      for (let i = 0; i < sessions.length; i += 4) await Promise.all(sessions.slice(i, i + 4).map(probe));
      assert.deepEqual(
        served,
        [],
        `${served.length} of 1,000 kicked sessions were served by B after the kick returned`,
      );
      t.diagnostic(
        `kick on A → refusal on B: p50 ${percentile(refusalMs, 50).toFixed(1)} ms, p99 ${percentile(refusalMs, 99).toFixed(1)} ms`,
      );
    });
  },
);

describe(
  'faults: Redis frozen and stopped (REDIS_URL set, own redis-server)',
  { skip: !POSTGRES_URL && 'TEST_POSTGRES_URL is not set' },
  () => {
    let database: TestDatabase;
    let db: Knex;
    let redis: OwnRedis;
    before(async () => {
      [database, redis] = await Promise.all([createPostgresDatabase(), OwnRedis.create()]);
      db = knex({ client: 'pg', connection: database.url });
    });
    after(async () => {
      await killAllGatehouseProcesses();
      await redis?.stop();
      await db?.destroy();
      await database?.drop();
    });

    it('with Redis frozen (SIGSTOP), then stopped, a kick on A is refused on B at once: ends travel through the database', async () => {
      const { b, adminA } = await twoInstances({ DATABASE_URL: database.url, REDIS_URL: redis.url });
      const { createUser } = await adminA.data(CreateUserDocument, { username: 'rita', password: 'rita-password' });
      const [frozen, stopped] = await seedSessions(db, createUser.id, 2);
      for (const [session, fault] of [
        [frozen!, () => redis.freeze()],
        [stopped!, () => redis.stop()],
      ] as const) {
        assert.ok((await me(b.url, session.token)).body.data?.me, 'B caches the session');
        await fault();
        await adminA.data(KickSessionDocument, { sessionId: session.id });
        assert.equal((await me(b.url, session.token)).body.data?.me, null);
      }
      redis.thaw();
    });
  },
);

describe('faults: own PostgreSQL (hung channel, outage)', () => {
  let postgres: OwnPostgres;
  before(async () => {
    postgres = await OwnPostgres.create();
  });
  after(async () => {
    await killAllGatehouseProcesses();
    await postgres?.destroy();
  });

  it("B's listening connection frozen: a kick on A returns, B refuses the cookie, and B recovers after SIGCONT", async () => {
    const url = await postgres.createDatabase('hung');
    const db = knex({ client: 'pg', connection: url });
    try {
      const { a, b, adminA } = await twoInstances({ DATABASE_URL: url });
      const { createUser } = await adminA.data(CreateUserDocument, { username: 'hugo', password: 'hugo-password' });
      const [first, second] = await seedSessions(db, createUser.id, 2);
      for (const session of [first!, second!]) assert.ok((await me(b.url, session.token)).body.data?.me);
      const listeners = await postgres.query<{ pid: number; application_name: string }>(
        "SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'gatehouse-events:%'",
      );
      const listener = listeners.find((row) => row.application_name.startsWith(`gatehouse-events:${b.child.pid}:`));
      assert.ok(listener, `B's listening connection among ${JSON.stringify(listeners)} (B is ${b.child.pid})`);
      process.kill(listener.pid, 'SIGSTOP');
      try {
        const sentAt = performance.now();
        await adminA.data(KickSessionDocument, { sessionId: first!.id });
        const kickMs = performance.now() - sentAt;
        assert.equal(
          (await me(b.url, first!.token)).body.data?.me,
          null,
          'B served a kicked session after the kick returned',
        );
        // B waited for nobody it could not hear, A for B up to the bound; then B stopped trusting its cache.
        assert.ok(kickMs < TRUST_BOUND_MS + 1_000, `the kick took ${kickMs.toFixed(0)} ms`);
        assert.ok((await me(b.url, second!.token)).body.data?.me, 'B still serves a live session (from the database)');
      } finally {
        process.kill(listener.pid, 'SIGCONT');
      }
      await sleep(TRUST_BOUND_MS);
      await adminA.data(KickSessionDocument, { sessionId: second!.id });
      assert.equal((await me(b.url, second!.token)).body.data?.me, null);
      assert.ok(a.running && b.running);
    } finally {
      await db.destroy();
      await killAllGatehouseProcesses();
    }
  });

  it('PostgreSQL stopped during load: 503 UNAVAILABLE with Retry-After, logs stay JSON, and it resumes by itself', async () => {
    const url = await postgres.createDatabase('outage');
    const server = await GatehouseProcess.start({ ...SETTINGS, DATABASE_URL: url });
    const admin = await signedInAdmin(server);
    const token = admin.token!;
    assert.ok((await me(server.url, token)).body.data?.me);
    const stderrBefore = server.stderr.length;
    await postgres.stop();
    const stoppedAt = performance.now();
    const answers: Array<{ what: string; status: number; code?: string | undefined; retryAfter: string | null }> = [];
    while (performance.now() - stoppedAt < TRUST_BOUND_MS + 2_500) {
      const elapsed = performance.now() - stoppedAt;
      const [asked, login, verify] = await Promise.all([
        me(server.url, token),
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'mutation { login(username: "ops", password: "wrong") { user { id } } }' }),
        }).then(async (r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
          code: ((await r.json()) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions
            ?.code,
        })),
        fetch(`${server.url}/auth/verify`, { headers: { cookie: `${COOKIE}=${token}` } }).then((r) => ({
          status: r.status,
          retryAfter: r.headers.get('retry-after'),
        })),
      ]);
      if (elapsed > TRUST_BOUND_MS + 300) {
        answers.push({ what: 'me', ...asked }, { what: 'login', ...login }, { what: 'verify', ...verify });
      }
      for (const answer of [asked, login, verify]) assert.notEqual(answer.status, 500, 'a 500 during the outage');
      await sleep(100);
    }
    assert.ok(answers.length >= 9);
    for (const answer of answers) {
      assert.equal(answer.status, 503, JSON.stringify(answer));
      assert.equal(answer.retryAfter, '5', JSON.stringify(answer));
      if (answer.what !== 'verify') assert.equal(answer.code, 'UNAVAILABLE', JSON.stringify(answer));
    }
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'unavailable', down: ['database'] });

    await postgres.start();
    let resumed = false;
    for (let i = 0; i < 100 && !resumed; i++) {
      resumed = (await me(server.url, token)).body.data?.me?.id !== undefined;
      if (!resumed) await sleep(100);
    }
    assert.ok(resumed, 'the service did not resume within 10 s of PostgreSQL returning');
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);

    const lines = server.stderr
      .slice(stderrBefore)
      .split('\n')
      .filter((line) => line !== '');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
    const perKindPerSecond = new Map<string, number>();
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: string; message: string; detail?: string };
      const key = `${entry.message}|${entry.detail?.split(':', 1)[0] ?? ''}|${entry.time.slice(0, 19)}`;
      perKindPerSecond.set(key, (perKindPerSecond.get(key) ?? 0) + 1);
    }
    for (const [key, count] of perKindPerSecond)
      assert.ok(count <= 2, `${count} lines of one kind in one second: ${key}`);
  });
});

describe('faults: SQLite shared by processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-faults-'));
  const databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  let server: GatehouseProcess;
  let db: Knex;
  before(async () => {
    server = await GatehouseProcess.start({ ...SETTINGS, DATABASE_URL: databaseUrl });
    const admin = await signedInAdmin(server);
    await admin.data(CreateUserDocument, { username: 'sally', password: 'sally-password' });
    db = knex({
      client: 'sqlite3',
      connection: { filename: databaseUrl.slice('sqlite:'.length) },
      useNullAsDefault: true,
    });
  });
  after(async () => {
    await killAllGatehouseProcesses();
    await db?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A session signed in with a password, cached by the server and watched by a live client. */
  async function watchedSession() {
    const client = new TestClient(server.url);
    const { login } = await client.data(LoginDocument, { username: 'sally', password: 'sally-password' });
    const socket = openSocket(server, { cookie: client.cookie });
    await socket.connected;
    const revoked = subscribeWs<{ sessionRevoked: { reason: string } }>(
      socket.client,
      'subscription { sessionRevoked { reason } }',
    );
    await sleep(100);
    assert.ok((await me(server.url, client.token!)).body.data?.me);
    return { client, sessionId: login.session.id, socket, revoked };
  }

  it('another process ends a session through the core: refused, and its live client told KICKED, before that process returns', async () => {
    const { client, sessionId, socket, revoked } = await watchedSession();
    try {
      const settings = { ...SETTINGS, DATABASE_URL: databaseUrl };
      const run = await runScript('test/fixtures/end-session.ts', settings, { args: [sessionId] });
      assert.deepEqual(run.exit, { code: 0, signal: null }, run.stderr);
      assert.equal((JSON.parse(run.stdout) as { ended: boolean }).ended, true);
      assert.equal((await me(server.url, client.token!)).body.data?.me, null);
      const [event] = await revoked.received(1, 1_000);
      assert.equal(event?.data?.sessionRevoked.reason, 'KICKED');
      assert.equal((await socket.closedWithin(1_000)).code, 4403);
    } finally {
      await socket.dispose();
    }
  });

  it("an operator's SQL ends a session: within 1 s the server refuses it and tells its live client", async () => {
    const { client, sessionId, socket, revoked } = await watchedSession();
    try {
      const endedAt = performance.now();
      await db('sessions').where({ id: sessionId }).update({ ended_at: Date.now(), end_reason: 'KICKED' });
      const [event] = await revoked.received(1, 1_000);
      assert.equal(event?.data?.sessionRevoked.reason, 'KICKED');
      assert.equal((await me(server.url, client.token!)).body.data?.me, null);
      assert.ok(performance.now() - endedAt < 1_000);
    } finally {
      await socket.dispose();
    }
  });
});
