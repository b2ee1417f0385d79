import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Knex } from 'knex';
import pg from 'pg';
import { systemClock } from '../src/sessions/clock.js';
import { SWEEP_BATCH_SIZE } from '../src/sessions/sweeper.js';
import { silentLogger } from '../src/logger.js';
import { createDatabase } from '../src/storage/database.js';
import {
  CurrentSessionDocument,
  KickSessionDocument,
  LogoutDocument,
  RevokeUserSessionsDocument,
  SessionRevokedDocument,
  SessionsByUserDocument,
  TypenameDocument,
} from './generated/graphql.js';
import { flushLastSeen } from './support/app.js';
import type { TestClient } from './support/client.js';
import { sleep, waitFor, within } from './support/async.js';
import { DAY, HOUR, MINUTE } from './support/clock.js';
import { DATABASE_KINDS, POSTGRES_URL } from './support/databases.js';
import { LIVE_TIMEOUT_MS, openSocket, subscribeWs, type LiveSocket } from './support/live.js';
import { childEnv, REPO_ROOT } from './support/process.js';
import { ADMIN_PASSWORD, ADMIN_USERNAME, QUIET_SWEEPER, startTestServer, type TestServer } from './support/server.js';
import {
  createUser,
  findSessionRow,
  insertSessionRows,
  rawSession,
  sessionRow,
  signedInAs as me,
  signIn,
  sweep,
  type SignedIn,
} from './support/sessions.js';

/** More than two of the sweeper's batches, so that it takes at least three. */
const EXPIRED_ROWS = 2 * SWEEP_BATCH_SIZE + 200;

/** A round trip on the socket: the subscriptions opened before it are in place. */
async function settle(socket: LiveSocket): Promise<void> {
  const probe = subscribeWs(socket.client, TypenameDocument);
  await probe.ended(LIVE_TIMEOUT_MS);
  assert.deepEqual(probe.events, [{ data: { __typename: 'Query' } }]);
}

for (const kind of DATABASE_KINDS) {
  describe(`expiry with a manual clock: SESSION_IDLE_TIMEOUT=30m, SESSION_MAX_AGE=2h (${kind})`, () => {
    let server: TestServer;
    let adminClient: TestClient;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '30m', SESSION_MAX_AGE: '2h' },
      });
      adminClient = (await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD)).client;
      for (const username of ['idle', 'busy', 'racer', 'lapsed']) await createUser(adminClient, username);
    });
    after(() => server.stop());

    it('activity within the idle window keeps a session alive and moves lastSeenAt; 31 idle minutes end it with EXPIRED', async () => {
      const { client, user, session } = await signIn(server, 'idle');
      const bearer = server.client({ authorization: `Bearer ${client.token}` });
      const loginAt = server.clock.now().getTime();
      assert.equal(await me(client), user.id);

      server.clock.advance(29 * MINUTE);
      assert.equal(await me(client), user.id, 'after 29 idle minutes');
      const firstUse = server.clock.now().getTime();
      await flushLastSeen(server);
      assert.equal((await sessionRow(server, session.id)).lastSeenAt, firstUse);

      // 58 minutes after the login, 29 after the last use.
      server.clock.advance(29 * MINUTE);
      assert.equal(await me(bearer), user.id, 'after another 29 idle minutes');
      const secondUse = server.clock.now().getTime();
      await flushLastSeen(server);
      assert.equal((await sessionRow(server, session.id)).lastSeenAt, secondUse);
      assert.equal(secondUse - loginAt, 58 * MINUTE);

      server.clock.advance(31 * MINUTE);
      assert.deepEqual(await client.data(CurrentSessionDocument), { currentSession: null });
      assert.equal(await me(bearer), null);
      const row = await sessionRow(server, session.id);
      assert.deepEqual(
        { endedAt: row.endedAt, endReason: row.endReason, lastSeenAt: row.lastSeenAt },
        { endedAt: server.clock.now().getTime(), endReason: 'EXPIRED', lastSeenAt: secondUse },
      );
      // It stays ended.
      server.clock.advance(MINUTE);
      assert.equal(await me(client), null);
      assert.equal((await sessionRow(server, session.id)).endedAt, row.endedAt);
    });

    it('a session in constant use still ends at SESSION_MAX_AGE (EXPIRED)', async () => {
      const { client, user, session } = await signIn(server, 'busy');
      const loginAt = Date.parse(session.createdAt);
      assert.equal(Date.parse(session.expiresAt) - loginAt, 2 * HOUR);
      // Each use is queued and written within a second of real time; the manual clock skips that
      // second, so the test writes it.
      for (let minutes = 20; minutes <= 100; minutes += 20) {
        server.clock.advance(20 * MINUTE);
        assert.equal(await me(client), user.id, `after ${minutes} minutes`);
        await flushLastSeen(server);
      }
      server.clock.advance(19 * MINUTE + 59_999);
      assert.equal(await me(client), user.id, 'a millisecond before the absolute expiry');
      await flushLastSeen(server);
      server.clock.advance(1);
      assert.equal(await me(client), null, 'at the absolute expiry');
      const row = await sessionRow(server, session.id);
      assert.deepEqual([row.endReason, row.endedAt], ['EXPIRED', loginAt + 2 * HOUR]);
      assert.equal(row.lastSeenAt, loginAt + 2 * HOUR - 1, 'it was in use until the end');
    });

    it('ending a user’s sessions treats one that already idled out as EXPIRED: not revoked, not counted, not kicked', async () => {
      const lapsed = await signIn(server, 'lapsed');
      const alsoLapsed = await signIn(server, 'lapsed');
      server.clock.advance(31 * MINUTE);
      const live = await signIn(server, 'lapsed');
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const listed = await admin.client.data(SessionsByUserDocument, { userId: live.user.id });
      assert.deepEqual(
        listed.sessionsByUser.map((s) => s.id),
        [live.session.id],
        'the admin sees one active session',
      );

      const kicked = await admin.client.data(KickSessionDocument, { sessionId: alsoLapsed.session.id });
      assert.equal(kicked.kickSession.endReason, 'EXPIRED', 'kicking a session that had already expired');
      const revoked = await admin.client.data(RevokeUserSessionsDocument, { userId: live.user.id });
      assert.equal(revoked.revokeUserSessions, 1, 'revoked: the one active session');
      assert.equal((await sessionRow(server, lapsed.session.id)).endReason, 'EXPIRED');
      assert.equal((await sessionRow(server, live.session.id)).endReason, 'USER_SESSIONS_REVOKED');
    });

    it(
      'a session used within the idle window is not expired while its lastSeenAt write is still in flight',
      {
        skip: kind === 'sqlite' ? 'SQLite has one connection: a read waits for the write in flight' : false,
      },
      async () => {
        assert.ok(POSTGRES_URL);
        const { client, user, session } = await signIn(server, 'racer');
        // A slow write, made deterministic: another connection holds the session's row lock, so
        // the flush of lastSeenAt blocks the way a busy database would make it slow.
        const blocker = new pg.Client({ connectionString: new URL(server.database.url).toString() });
        await blocker.connect();
        let released = false;
        const release = async () => {
          if (released) return;
          released = true;
          await blocker.query('COMMIT');
          await blocker.end();
        };
        try {
          await blocker.query('BEGIN');
          await blocker.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [session.id]);

          server.clock.advance(29 * MINUTE);
          assert.equal(await me(client), user.id, 'used 29 minutes after login');
          const flushing = flushLastSeen(server);
          await waitForLockWaiters(server, 1);

          // 31 minutes after the login, but only 2 after the last use: well within the window.
          server.clock.advance(2 * MINUTE);
          const request = me(client);
          const timer = setTimeout(() => void release(), 1000);
          const seen = await request;
          clearTimeout(timer);
          await release();
          await flushing;
          assert.equal(seen, user.id, 'signed out 2 minutes after a use, with a 30-minute idle timeout');
          const row = await sessionRow(server, session.id);
          assert.deepEqual([row.endedAt, row.endReason], [null, null]);
        } finally {
          await release();
        }
      },
    );
  });

  describe(`expiry in real time: SESSION_IDLE_TIMEOUT=2s, SESSION_MAX_AGE=4s (${kind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '2s', SESSION_MAX_AGE: '4s' },
        overrides: { clock: systemClock },
      });
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      for (const username of ['steady', 'pauser']) await createUser(admin.client, username);
    });
    after(() => server.stop());

    it('requests every 500 ms keep a session past the 2 s idle timeout; 2 s without one end it; 4 s end it regardless', async () => {
      const steady = await signIn(server, 'steady');
      const pauser = await signIn(server, 'pauser');
      const t0 = Date.parse(steady.session.createdAt);
      const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
      assert.equal(Date.parse(steady.session.expiresAt) - t0, 4000);

      // Both in use every 500 ms for the first second; then only `steady`.
      for (let ms = 500; ms <= 3000; ms += 500) {
        await at(ms);
        assert.equal(await me(steady.client), steady.user.id, `steady at ${ms} ms`);
        if (ms <= 1000) assert.equal(await me(pauser.client), pauser.user.id, `pauser at ${ms} ms`);
      }
      assert.ok(Date.now() - t0 > 2000, 'steady outlived the idle timeout');

      // 2.3 s after pauser's last request (and before anyone's 4 s): idle, so ended.
      await at(3300);
      assert.equal(await me(pauser.client), null, 'pauser after 2.3 s without a request');
      const pauserRow = await sessionRow(server, pauser.session.id);
      assert.equal(pauserRow.endReason, 'EXPIRED');
      assert.ok(pauserRow.endedAt !== null && pauserRow.endedAt < pauserRow.expiresAt, 'ended by idleness');

      await at(3500);
      assert.equal(await me(steady.client), steady.user.id, 'steady at 3.5 s');
      await at(3750);
      assert.equal(await me(steady.client), steady.user.id, 'steady at 3.75 s');
      await at(4300);
      assert.equal(await me(steady.client), null, 'steady at 4.3 s, in use but past SESSION_MAX_AGE');
      const steadyRow = await sessionRow(server, steady.session.id);
      assert.equal(steadyRow.endReason, 'EXPIRED');
      assert.ok(steadyRow.endedAt !== null && steadyRow.endedAt >= steadyRow.expiresAt, 'ended at the absolute expiry');
      assert.ok(steadyRow.lastSeenAt >= t0 + 2500, 'lastSeenAt moved with the requests');
    });
  });

  describe(`sweeper: SESSION_IDLE_TIMEOUT=1h, SESSION_RETENTION=1d (${kind})`, () => {
    let server: TestServer;
    let admin: SignedIn;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '1h', SESSION_RETENTION: '1d' },
      });
      admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      for (const username of ['napper', 'leaver', 'worker']) await createUser(admin.client, username);
    });
    after(() => server.stop());

    it('ends sessions that expired without a request (EXPIRED), and deletes rows once they ended longer ago than the retention', async () => {
      assert.deepEqual(await sweep(server), { expired: 0, deleted: 0 });
      const t0 = server.clock.now().getTime();
      const napper = await signIn(server, 'napper');
      const leaver = await signIn(server, 'leaver');
      await leaver.client.data(LogoutDocument);
      const worker = await signIn(server, 'worker');

      // Two hours, with the worker and the admin in use every 50 minutes: only napper idles out.
      for (const step of [50 * MINUTE, 50 * MINUTE, 20 * MINUTE]) {
        server.clock.advance(step);
        assert.ok(await me(worker.client));
        assert.ok(await me(admin.client));
      }
      assert.equal((await sessionRow(server, napper.session.id)).endedAt, null, 'expired, but not ended yet');
      assert.deepEqual(await sweep(server), { expired: 1, deleted: 0 });
      const sweptAt = t0 + 2 * HOUR;
      const swept = await admin.client.data(SessionsByUserDocument, {
        userId: napper.user.id,
        includeEnded: true,
      });
      assert.deepEqual(
        swept.sessionsByUser.map((s) => [s.id, s.endReason, s.endedAt, s.active]),
        [[napper.session.id, 'EXPIRED', new Date(sweptAt).toISOString(), false]],
      );
      assert.equal((await sessionRow(server, leaver.session.id)).endReason, 'LOGOUT', 'ended rows are left alone');
      assert.equal((await sessionRow(server, worker.session.id)).endedAt, null, 'active rows are left alone');
      assert.deepEqual(await sweep(server), { expired: 0, deleted: 0 }, 'a second run has nothing to do');

      // leaver's row ended at t0: kept until exactly one day later, deleted after.
      server.clock.advance(t0 + DAY - server.clock.now().getTime());
      await sweep(server);
      assert.ok(await findSessionRow(server, leaver.session.id), 'not older than the retention yet');
      server.clock.advance(1);
      await sweep(server);
      assert.equal(await findSessionRow(server, leaver.session.id), undefined, 'deleted after the retention');
      assert.ok(await findSessionRow(server, napper.session.id), 'ended 2 h after leaver: still kept');
      // The idle worker was ended by that run, not deleted.
      assert.equal((await sessionRow(server, worker.session.id)).endReason, 'EXPIRED');

      server.clock.advance(2 * HOUR);
      await sweep(server);
      assert.equal(await findSessionRow(server, napper.session.id), undefined);
    });
  });

  describe(`sweeper in batches: ${EXPIRED_ROWS.toLocaleString('en')} expired rows and a watched session (${kind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({
        database: kind,
        env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '1h', SESSION_RETENTION: '1d' },
      });
    });
    after(() => server.stop());

    it('ends them all with EXPIRED and an audit event each, tells the live client, and later deletes them all the same way', async () => {
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const userId = await createUser(admin.client, 'bulk');
      await admin.client.data(LogoutDocument);
      // A real session with a live client, idle for two hours like the planted rows.
      const watched = await signIn(server, 'bulk');
      const socket = openSocket(server, { cookie: watched.client.cookie });
      await socket.connected;
      const revoked = subscribeWs(socket.client, SessionRevokedDocument);
      await settle(socket);
      // The rows are planted first and the clock moved just before the sweep: any request or
      // re-check that meets the idle session in between would end it first (EXPIRED all the
      // same, but not by the sweeper).
      const now = server.clock.now().getTime() + 2 * HOUR;
      const expired = Array.from({ length: EXPIRED_ROWS }, (_, i) =>
        rawSession(userId, {
          createdAt: now - 3 * HOUR - i,
          // Half past the absolute expiry, half idle for two hours: both halves of the batch query.
          expiresAt: i % 2 === 0 ? now - 1 : now + DAY,
          lastSeenAt: now - 2 * HOUR,
        }),
      );
      const live = Array.from({ length: 5 }, () =>
        rawSession(userId, { createdAt: now - MINUTE, lastSeenAt: now, expiresAt: now + DAY }),
      );
      await insertSessionRows(server, [...expired, ...live], 500);

      server.clock.advance(now - server.clock.now().getTime());
      const batches = await recordBatches(server, () => sweep(server));
      assert.deepEqual(batches.result, { expired: EXPIRED_ROWS + 1, deleted: 0 });
      assert.ok(batches.ended.length >= 3, `ended in ${batches.ended.length} statements`);
      assert.ok(Math.max(...batches.ended) <= SWEEP_BATCH_SIZE, `batches: ${batches.ended.join(', ')}`);
      assert.equal(
        batches.ended.reduce((sum, n) => sum + n, 0),
        EXPIRED_ROWS + 1,
      );

      const byReason = (await server
        .db('sessions')
        .where({ user_id: userId })
        .select('end_reason', 'ended_at')
        .count({ count: '*' })
        .groupBy('end_reason', 'ended_at')) as Array<{
        end_reason: string | null;
        ended_at: number | string | null;
        count: number | string;
      }>;
      assert.deepEqual(
        byReason
          .map((row) => [row.end_reason, row.ended_at === null ? null : Number(row.ended_at), Number(row.count)])
          .sort((a, b) => Number(b[2]) - Number(a[2])),
        [
          ['EXPIRED', now, EXPIRED_ROWS + 1],
          [null, null, 5],
        ],
      );
      // One SESSION_ENDED (EXPIRED, by the system) per ended session, none twice.
      const audited = (await server
        .db('auth_events')
        .where({ user_id: userId, type: 'SESSION_ENDED' })
        .select('session_id', 'reason', 'actor_user_id', 'created_at')) as Array<{
        session_id: string;
        reason: string;
        actor_user_id: string | null;
        created_at: number | string;
      }>;
      assert.equal(audited.length, EXPIRED_ROWS + 1);
      assert.equal(new Set(audited.map((event) => event.session_id)).size, EXPIRED_ROWS + 1);
      assert.ok(audited.every((event) => event.reason === 'EXPIRED' && event.actor_user_id === null));
      assert.ok(audited.some((event) => event.session_id === watched.session.id));
      assert.ok(audited.every((event) => Number(event.created_at) === now));

      const end = await revoked.ended(LIVE_TIMEOUT_MS);
      assert.equal(end.how, 'complete', String(end.error));
      assert.deepEqual(
        revoked.events.map((event) => [event.data?.sessionRevoked.sessionId, event.data?.sessionRevoked.reason]),
        [[watched.session.id, 'EXPIRED']],
      );
      assert.deepEqual(await socket.closedWithin(LIVE_TIMEOUT_MS), { code: 4403, reason: 'Session ended: EXPIRED' });
      await socket.dispose();

      // A day and a millisecond later: those rows and the admin's logout row go, in batches; the
      // five live rows (idle by now) are ended, not deleted.
      server.clock.advance(DAY + 1);
      const later = await recordBatches(server, () => sweep(server));
      assert.deepEqual(later.result, { expired: 5, deleted: EXPIRED_ROWS + 2 });
      assert.ok(
        later.deleted.length >= 3 && Math.max(...later.deleted) <= SWEEP_BATCH_SIZE,
        `batches: ${later.deleted.join(', ')}`,
      );
      const left = await server.db('sessions').where({ user_id: userId }).select('id', 'end_reason');
      assert.deepEqual(left.map((row) => row.id).sort(), live.map((row) => row.id).sort());
      for (const row of left) assert.equal(row.end_reason, 'EXPIRED');
    });
  });

  describe(`sweeper stopped during a sweep (${kind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ database: kind, env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '1h' } });
    });
    after(() => server.stop());

    it('finishes the batch in flight (ended, audited, announced), ends no more, and returns', async () => {
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const userId = await createUser(admin.client, 'many');
      const now = server.clock.now().getTime();
      const rows = Array.from({ length: 3 * SWEEP_BATCH_SIZE }, (_, i) =>
        rawSession(userId, { createdAt: now - 3 * HOUR - i, lastSeenAt: now - 2 * HOUR, expiresAt: now - 1 }),
      );
      await insertSessionRows(server, rows, 500);

      // stop() is called the moment the first batch's statement answers, as a SIGTERM might.
      let stopping: Promise<void> | undefined;
      const batches = await recordBatches(
        server,
        () => sweep(server),
        () => (stopping ??= server.app.sweeper.stop()),
      );
      await stopping;
      assert.deepEqual(batches.ended, [SWEEP_BATCH_SIZE], 'one batch, whole');
      assert.deepEqual(batches.result, { expired: SWEEP_BATCH_SIZE, deleted: 0 });
      const count = async (query: Knex.QueryBuilder) =>
        Number(((await query.count({ n: '*' })) as Array<{ n: unknown }>)[0]?.n);
      assert.equal(
        await count(server.db('sessions').where({ user_id: userId, end_reason: 'EXPIRED' })),
        SWEEP_BATCH_SIZE,
      );
      assert.equal(
        await count(server.db('sessions').where({ user_id: userId }).whereNull('ended_at')),
        2 * SWEEP_BATCH_SIZE,
      );
      assert.equal(
        await count(server.db('auth_events').where({ user_id: userId, type: 'SESSION_ENDED', reason: 'EXPIRED' })),
        SWEEP_BATCH_SIZE,
        'every ended session of the batch has its audit event',
      );
    });
  });

  describe(`sweeper on its schedule: SWEEP_INTERVAL=100ms (${kind})`, () => {
    it('ends expired sessions by itself, and stops with the server', async () => {
      const server = await startTestServer({
        database: kind,
        env: { SWEEP_INTERVAL: '100ms', SESSION_IDLE_TIMEOUT: '1h' },
      });
      let stopped = false;
      try {
        const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
        await createUser(admin.client, 'dozer');
        const dozer = await signIn(server, 'dozer');
        server.clock.advance(2 * HOUR);
        const row = await waitFor(
          'a scheduled sweep to end the session',
          async () => {
            const row = await sessionRow(server, dozer.session.id);
            return row.endedAt !== null && row;
          },
          { timeoutMs: 3000, intervalMs: 50 },
        );
        assert.equal(row.endReason, 'EXPIRED');
        assert.equal(row.endedAt, server.clock.now().getTime());

        const stopping = server.stop();
        stopped = true;
        await within(stopping, 5000, 'the server to stop');
      } finally {
        if (!stopped) await server.stop();
      }
    });
  });
}

describe('log lines of expiry: SESSION_IDLE_TIMEOUT=1h (sqlite)', () => {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const capture =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ env: { ...QUIET_SWEEPER, SESSION_IDLE_TIMEOUT: '1h' }, overrides: { logger } });
  });
  after(() => server.stop());

  it('an expiry is a debug line and the sweep one info line with its count; a logout stays an info line', async () => {
    const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
    await createUser(admin.client, 'dozer');
    const dozer = await signIn(server, 'dozer');
    const leaver = await signIn(server, 'dozer');
    await leaver.client.data(LogoutDocument);
    const logout = lines.filter((line) => line.message === 'session ended');
    assert.deepEqual(
      logout.map((line) => [line.level, line.fields.reason, line.fields.sessionId]),
      [['info', 'LOGOUT', leaver.session.id]],
    );
    server.clock.advance(2 * HOUR);
    lines.length = 0;
    assert.deepEqual(await sweep(server), { expired: 2, deleted: 0 }, "dozer's and the admin's sessions");

    const ended = lines.filter((line) => line.message === 'session ended');
    assert.deepEqual(
      ended.map((line) => [line.level, line.fields.reason]),
      [
        ['debug', 'EXPIRED'],
        ['debug', 'EXPIRED'],
      ],
    );
    assert.ok(ended.some((line) => line.fields.sessionId === dozer.session.id));
    const swept = lines.filter((line) => line.message === 'swept sessions');
    assert.deepEqual(
      swept.map((line) => [line.level, line.fields.expired]),
      [['info', 2]],
    );
    assert.ok(
      lines.every((line) => line.level === 'debug' || line.message === 'swept sessions'),
      'nothing else at info',
    );
  });
});

describe('sweep command: npm run sweep (sqlite file)', () => {
  it('ends expired sessions and deletes old rows once, on the database of DATABASE_URL, and prints what it did', async () => {
    const server = await startTestServer({ database: 'sqlite' });
    const url = server.database.url;
    try {
      const admin = await signIn(server, ADMIN_USERNAME, ADMIN_PASSWORD);
      const userId = await createUser(admin.client, 'cli');
      // The command runs on the system clock.
      const now = Date.now();
      const expired = rawSession(userId, { createdAt: now - 8 * DAY, lastSeenAt: now - HOUR, expiresAt: now - DAY });
      const old = rawSession(
        userId,
        { createdAt: now - 40 * DAY, expiresAt: now - 33 * DAY, endedAt: now - 31 * DAY },
        'LOGOUT',
      );
      const live = rawSession(userId, { createdAt: now - HOUR, lastSeenAt: now, expiresAt: now + DAY });
      await insertSessionRows(server, [expired, old, live]);
      await server.stopApp();

      const run = await runSweep({ DATABASE_URL: url });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /expired 1 session, deleted 1 old row and/);

      const db = createDatabase(url, silentLogger);
      try {
        const rows = (await db('sessions').where({ user_id: userId }).select('id', 'end_reason', 'ended_at')) as Array<{
          id: string;
          end_reason: string | null;
          ended_at: number | null;
        }>;
        const byId = new Map(rows.map((row) => [row.id, row]));
        assert.equal(byId.get(expired.id)?.end_reason, 'EXPIRED');
        assert.ok((byId.get(expired.id)?.ended_at ?? 0) >= now);
        assert.equal(byId.has(old.id), false, 'the row ended 31 days ago is deleted');
        assert.equal(byId.get(live.id)?.ended_at, null);
      } finally {
        await db.destroy();
      }
    } finally {
      await server.stop();
    }
  });
});

function runSweep(settings: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '--silent', 'sweep'], {
    cwd: REPO_ROOT,
    env: childEnv(settings),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run sweep did not finish within 30 s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs `work` and records, from the database client's own events, how many rows each statement
 * of the sweeper ended (UPDATE … end_reason … RETURNING) or deleted; `onEndBatch` is called as
 * each ending statement answers, before the sweeper goes on.
 */
async function recordBatches<T>(server: TestServer, work: () => Promise<T>, onEndBatch?: () => void) {
  const ended: number[] = [];
  const deleted: number[] = [];
  // Rows as the driver answered: an array (SQLite, RETURNING), a pg result, or a count.
  const rows = (response: unknown) => {
    if (Array.isArray(response)) return response.length;
    const pgRows = (response as { rows?: unknown } | null)?.rows;
    return Array.isArray(pgRows) ? pgRows.length : Number(response);
  };
  const onResponse = (response: unknown, query: { sql?: string }) => {
    const sql = query.sql?.toLowerCase() ?? '';
    if (!sql.includes('sessions')) return;
    if (sql.startsWith('update') && sql.includes('end_reason')) {
      ended.push(rows(response));
      onEndBatch?.();
    } else if (sql.startsWith('delete')) {
      deleted.push(rows(response));
    }
  };
  server.db.on('query-response', onResponse);
  try {
    const result = await work();
    return { result, ended, deleted };
  } finally {
    server.db.off('query-response', onResponse);
  }
}

/** Waits until `count` statements on the server's PostgreSQL database are waiting for a lock. */
async function waitForLockWaiters(server: TestServer, count: number): Promise<void> {
  const name = new URL(server.database.url).pathname.slice(1);
  await waitFor(`${count} lock waiter(s)`, async () => {
    const result = await server.db.raw(
      "select count(*)::int as waiting from pg_stat_activity where datname = ? and wait_event_type = 'Lock'",
      [name],
    );
    return (result.rows[0]?.waiting ?? 0) >= count;
  });
}
