/**
 * Live: every client is told the moment its session ends, over WebSocket (graphql-ws) and SSE,
 * and whatever the session opened is closed. Real server, real sockets, real event streams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ChangePasswordDocument,
  CurrentSessionDocument,
  DeleteUserDocument,
  DisableUserDocument,
  ResetPasswordDocument,
  ResetSecondFactorsDocument,
  KickSessionDocument,
  LogoutDocument,
  MeDocument,
  RevokeOtherSessionsDocument,
  RevokeUserSessionsDocument,
  SessionEventsDocument,
  SessionRevokedDocument,
  SessionsByUserDocument,
  TypenameDocument,
  type SessionEndReason,
  type SessionEventsSubscription,
  type SessionRevokedSubscription,
} from './generated/graphql.js';
import { listenerName } from '../src/events/postgres-propagation.js';
import { flushLastSeen, runSweeper } from './support/app.js';
import { sleep, waitFor } from './support/async.js';
import { errorCode, type TestClient } from './support/client.js';
import { createPostgresDatabase, DATABASE_KINDS, POSTGRES_URL } from './support/databases.js';
import {
  openSocket,
  rawClose,
  subscribeSse,
  subscribeWs,
  tryUpgrade,
  type LiveSocket,
  type LiveSubscription,
  type SseSubscription,
} from './support/live.js';
import { startTestServer, type TestServer } from './support/server.js';
import { createUser, passwordOf, signIn } from './support/sessions.js';

/** The contract: the event arrives within this long of the mutation being sent. */
const PUSH_DEADLINE_MS = 1_000;
/** A bound on each suite, far above what it takes (a few seconds). */
const SUITE_TIMEOUT_MS = 60_000;
/** How long "nothing arrives" is watched for, after the target's event has come and gone. */
const QUIET_MS = 150;

let userCounter = 0;
/** A username no other test on this server has used. */
const uniqueName = (prefix: string) => `${prefix}${++userCounter}`;

/** Who `client` is signed in as (`me`), or null. */
async function usernameOf(client: TestClient): Promise<string | null> {
  return (await client.data(MeDocument)).me?.username ?? null;
}

async function currentSession(client: TestClient): Promise<{ id: string; userId: string }> {
  const data = await client.data(CurrentSessionDocument);
  assert.ok(data.currentSession, 'client is not signed in');
  return { id: data.currentSession.id, userId: data.currentSession.user.id };
}

/** One session watched live: a socket with a `sessionRevoked` subscription, and an SSE stream. */
interface Watched {
  label: string;
  client: TestClient;
  sessionId: string;
  userId: string;
  socket: LiveSocket;
  ws: LiveSubscription<SessionRevokedSubscription>;
  sse: SseSubscription<SessionRevokedSubscription>;
}

/** A round trip on the socket, then a short pause: the subscriptions before it are in place. */
async function settle(sockets: LiveSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(async (socket) => {
      const probe = subscribeWs(socket.client, TypenameDocument);
      await probe.ended(2_000);
      assert.deepEqual(probe.events, [{ data: { __typename: 'Query' } }]);
    }),
  );
  await sleep(50);
}

async function watch(server: TestServer, client: TestClient, label: string): Promise<Watched> {
  const { id: sessionId, userId } = await currentSession(client);
  const socket = openSocket(server, { cookie: client.cookie });
  await socket.connected;
  const ws = subscribeWs(socket.client, SessionRevokedDocument);
  const sse = subscribeSse(server, SessionRevokedDocument, { cookie: client.cookie });
  assert.equal(await sse.opened, 200);
  return { label, client, sessionId, userId, socket, ws, sse };
}

async function watchAll(server: TestServer, clients: Array<[TestClient, string]>): Promise<Watched[]> {
  const watched = await Promise.all(clients.map(([client, label]) => watch(server, client, label)));
  await settle(watched.map((w) => w.socket));
  return watched;
}

function closeAll(watched: Watched[]): Promise<void> {
  return Promise.all(
    watched.map(async (w) => {
      w.ws.dispose();
      w.sse.dispose();
      await w.socket.dispose();
    }),
  ).then(() => undefined);
}

/**
 * Both subscribers of the session got exactly one `sessionRevoked` with `reason` within the
 * deadline, then ended; the socket was closed by the server with 4403 naming the reason; the
 * event's `at` is the session's stored `endedAt`.
 */
async function assertRevoked(
  admin: TestClient,
  w: Watched,
  reason: SessionEndReason,
  sentAt: number,
  { deadlineMs = PUSH_DEADLINE_MS, rowGone = false }: { deadlineMs?: number; rowGone?: boolean | undefined } = {},
): Promise<void> {
  const subscriptions = [
    ['WebSocket', w.ws],
    ['SSE', w.sse],
  ] as const;
  for (const [transport, subscription] of subscriptions) {
    const what = `${w.label} over ${transport}`;
    const end = await subscription.ended(deadlineMs + 1_000);
    assert.equal(end.how, 'complete', `${what} ended with ${String(end.error)}`);
    assert.equal(subscription.events.length, 1, `${what}: ${JSON.stringify(subscription.events)}`);
    const [event] = subscription.events;
    assert.equal(event?.errors, undefined, `${what}: ${JSON.stringify(event?.errors)}`);
    assert.equal(event?.data?.sessionRevoked.sessionId, w.sessionId, what);
    assert.equal(event?.data?.sessionRevoked.reason, reason, what);
    const latency = subscription.arrivals[0]! - sentAt;
    assert.ok(latency < deadlineMs, `${what}: event arrived ${latency.toFixed(0)} ms after the mutation was sent`);
    assert.ok(subscription.endedAt! >= subscription.arrivals[0]!, `${what} ended before its event`);
  }
  const close = await w.socket.closedWithin(deadlineMs);
  assert.deepEqual(close, { code: 4403, reason: `Session ended: ${reason}` }, `${w.label}'s socket`);

  if (rowGone) {
    const gone = await admin.request(SessionsByUserDocument, { userId: w.userId, includeEnded: true });
    assert.equal(errorCode(gone), 'NOT_FOUND', `${w.label}: the user is gone`);
    return;
  }
  const { sessionsByUser } = await admin.data(SessionsByUserDocument, { userId: w.userId, includeEnded: true });
  const row = sessionsByUser.find((session) => session.id === w.sessionId);
  assert.equal(row?.endReason, reason, `${w.label}'s stored end reason`);
  assert.equal(w.ws.events[0]?.data?.sessionRevoked.at, row?.endedAt, `${w.label}: event time is the stored endedAt`);
}

/** Nothing has arrived on either transport, nothing ended, the socket is open. */
function assertQuiet(w: Watched): void {
  assert.deepEqual(w.ws.events, [], `${w.label} over WebSocket got events`);
  assert.deepEqual(w.sse.events, [], `${w.label} over SSE got events`);
  assert.equal(w.ws.end, undefined, `${w.label} over WebSocket ended`);
  assert.equal(w.sse.end, undefined, `${w.label} over SSE ended`);
  assert.equal(w.socket.closeInfo, undefined, `${w.label}'s socket closed`);
}

/**
 * The bystanders got nothing while the target's session ended; then each is kicked, and gets
 * exactly its own event: they were listening all along, so the silence meant something.
 */
async function assertBystanders(admin: TestClient, bystanders: Watched[]): Promise<void> {
  await sleep(QUIET_MS);
  for (const w of bystanders) assertQuiet(w);
  for (const w of bystanders) {
    const sentAt = performance.now();
    await admin.data(KickSessionDocument, { sessionId: w.sessionId });
    await assertRevoked(admin, w, 'KICKED', sentAt);
  }
}

/** What a refused subscription received: one payload whose first error has this code, then the end. */
async function assertRefused(subscription: LiveSubscription, code: string, what: string): Promise<void> {
  const end = await subscription.ended(3_000);
  assert.equal(end.how, 'complete', `${what} ended with ${String(end.error)}`);
  assert.equal(subscription.events.length, 1, `${what}: ${JSON.stringify(subscription.events)}`);
  assert.equal(subscription.events[0]?.data ?? null, null, `${what} returned data`);
  assert.equal(
    subscription.events[0]?.errors?.[0]?.extensions?.code,
    code,
    `${what}: ${JSON.stringify(subscription.events)}`,
  );
}

/** The servers the end reasons need: SUPERSEDED a session limit, EXPIRED an idle timeout. */
const END_SERVERS = {
  plain: {},
  // The limit binds the admin too: the users are created without signing anyone else in.
  'one session per user': { MAX_SESSIONS_PER_USER: '1' },
  // The scheduled sweep stays out of the way (real time): only the test ends sessions.
  'idle timeout of 1h': { SESSION_IDLE_TIMEOUT: '1h', SWEEP_INTERVAL: '1h' },
} satisfies Record<string, Record<string, string>>;
const IDLE_MS = 3_600_000;

interface EndContext {
  server: TestServer;
  /** Signed in as the admin (again, after the clock moved). */
  admin: TestClient;
  /** The user whose sessions are watched (its password is `passwordOf(username)`). */
  username: string;
  /** The user's sessions the step must end, and those it must leave alone. */
  ended: Watched[];
  kept: Watched[];
}

/**
 * One way a session ends. Every case has the same shape: a user's sessions (those the step ends,
 * those it must leave alone) and another user's session are watched over WebSocket and SSE; the
 * step runs; each ended session's subscribers get exactly one `sessionRevoked` with `reason` in
 * time and its socket closes with 4403; the others hear nothing, until each is kicked in turn and
 * gets exactly its own event.
 */
interface EndCase {
  title: string;
  reason: SessionEndReason;
  server: keyof typeof END_SERVERS;
  /** Labels of the user's sessions that the step ends, in sign-in order. */
  ended: string[];
  /** Labels of the user's sessions it must leave alone, signed in after those. */
  kept?: string[];
  /**
   * The clock moves past the idle timeout once the ended sessions are watched; the kept and the
   * other user's sessions sign in afterwards, so they have not idled. Nothing touches an ended
   * session after that: what ends it is the step under test.
   */
  idleFirst?: boolean;
  /** The step; the deadline is counted from just before it. */
  end(ctx: EndContext): Promise<void>;
  /** The step deletes the user, and its session rows with it. */
  deletesRows?: boolean;
}

const END_CASES: EndCase[] = [
  {
    title: 'LOGOUT',
    reason: 'LOGOUT',
    server: 'plain',
    ended: ['the logged-out session'],
    kept: ['another session of the same user'],
    async end({ ended: [target] }) {
      assert.deepEqual(await target!.client.data(LogoutDocument), { logout: true });
    },
  },
  {
    title: 'KICKED by an admin',
    reason: 'KICKED',
    server: 'plain',
    ended: ['the kicked session'],
    kept: ['another session of the same user'],
    async end({ admin, ended: [target] }) {
      await admin.data(KickSessionDocument, { sessionId: target!.sessionId });
    },
  },
  {
    title: 'KICKED by the session owner from another session',
    reason: 'KICKED',
    server: 'plain',
    ended: ['the session kicked by its owner'],
    kept: ['the session that kicked it'],
    async end({ ended: [target], kept: [kicker] }) {
      await kicker!.client.data(KickSessionDocument, { sessionId: target!.sessionId });
    },
  },
  {
    title: 'PASSWORD_CHANGED (changed from another session of the same user)',
    reason: 'PASSWORD_CHANGED',
    server: 'plain',
    ended: ['the session signed out by the password change'],
    kept: ['the session that changed the password'],
    async end({ username, kept: [changer] }) {
      const result = await changer!.client.data(ChangePasswordDocument, {
        currentPassword: passwordOf(username),
        newPassword: 'a-brand-new-passphrase-42',
      });
      assert.deepEqual(result, { changePassword: true });
    },
  },
  {
    title: "USER_SESSIONS_REVOKED by an admin (revokeUserSessions): each of the user's sessions gets its own event",
    reason: 'USER_SESSIONS_REVOKED',
    server: 'plain',
    ended: ["the user's first session", "the user's second session"],
    async end({ admin, ended: [first] }) {
      const result = await admin.data(RevokeUserSessionsDocument, { userId: first!.userId });
      assert.equal(result.revokeUserSessions, 2);
    },
  },
  {
    title: "USER_SESSIONS_REVOKED by the user (revokeOtherSessions): not the caller's own session",
    reason: 'USER_SESSIONS_REVOKED',
    server: 'plain',
    ended: ['the revoked session'],
    kept: ['the session that revoked the others'],
    async end({ kept: [caller] }) {
      assert.deepEqual(await caller!.client.data(RevokeOtherSessionsDocument), { revokeOtherSessions: 1 });
    },
  },
  {
    title: 'USER_DISABLED: disabling the account ends each of its sessions',
    reason: 'USER_DISABLED',
    server: 'plain',
    ended: ["the user's first session", "the user's second session"],
    async end({ admin, ended: [first] }) {
      const { disableUser } = await admin.data(DisableUserDocument, { userId: first!.userId });
      assert.equal(disableUser.disabled, true);
    },
  },
  {
    title: 'USER_DELETED: deleting the account ends each of its sessions',
    reason: 'USER_DELETED',
    server: 'plain',
    ended: ["the user's first session", "the user's second session"],
    deletesRows: true,
    async end({ admin, ended: [first] }) {
      assert.deepEqual(await admin.data(DeleteUserDocument, { userId: first!.userId }), { deleteUser: true });
    },
  },
  {
    title: "PASSWORD_CHANGED by an admin's resetPassword: every session of the account ends",
    reason: 'PASSWORD_CHANGED',
    server: 'plain',
    ended: ["the user's first session", "the user's second session"],
    async end({ admin, ended: [first] }) {
      await admin.data(ResetPasswordDocument, { userId: first!.userId, newPassword: 'reset-by-an-admin-42' });
    },
  },
  {
    title: "SECOND_FACTORS_RESET by an admin's resetSecondFactors: every session of the account ends",
    reason: 'SECOND_FACTORS_RESET',
    server: 'plain',
    ended: ["the user's first session", "the user's second session"],
    async end({ admin, ended: [first] }) {
      const { resetSecondFactors } = await admin.data(ResetSecondFactorsDocument, { userId: first!.userId });
      assert.equal(resetSecondFactors.id, first!.userId);
    },
  },
  {
    title: 'SUPERSEDED with MAX_SESSIONS_PER_USER=1: a second login ends the first session',
    reason: 'SUPERSEDED',
    server: 'one session per user',
    ended: ['the superseded session'],
    async end({ server, username }) {
      const second = await signIn(server, username);
      const { currentSession: now } = await second.client.data(CurrentSessionDocument);
      assert.equal(now?.user.username, username, 'the new session works');
    },
  },
  {
    title: 'EXPIRED, found by the sweeper',
    reason: 'EXPIRED',
    server: 'idle timeout of 1h',
    ended: ['the idle session'],
    kept: ['a fresh session of the same user'],
    idleFirst: true,
    async end({ server }) {
      const result = await runSweeper(server);
      assert.ok(result.expired >= 1, `sweeper expired ${result.expired}`);
    },
  },
  {
    title: 'EXPIRED, found by a request with the expired cookie',
    reason: 'EXPIRED',
    server: 'idle timeout of 1h',
    ended: ['the idle session'],
    kept: ['a fresh session of the same user'],
    idleFirst: true,
    async end({ ended: [target] }) {
      assert.equal((await target!.client.data(MeDocument)).me, null);
    },
  },
];

/** Signs `username` in once per label (one after the other), then watches every session. */
async function watchNew(server: TestServer, username: string, labels: readonly string[]): Promise<Watched[]> {
  const signedIn: Array<[TestClient, string]> = [];
  for (const label of labels) signedIn.push([(await signIn(server, username)).client, label]);
  return Promise.all(signedIn.map(([client, label]) => watch(server, client, label)));
}

for (const kind of DATABASE_KINDS) {
  describe(
    `live: every end reason reaches the session's subscribers and only them (${kind})`,
    { timeout: SUITE_TIMEOUT_MS },
    () => {
      const servers: Partial<Record<keyof typeof END_SERVERS, TestServer>> = {};
      before(async () => {
        await Promise.all(
          Object.entries(END_SERVERS).map(async ([name, env]) => {
            servers[name as keyof typeof END_SERVERS] = await startTestServer({ database: kind, env });
          }),
        );
      });
      after(() => Promise.all(Object.values(servers).map((server) => server.stop())));

      for (const c of END_CASES) {
        it(c.title, async () => {
          const server = servers[c.server]!;
          let admin = await server.adminClient();
          const username = uniqueName('alice');
          const bystander = uniqueName('bob');
          await createUser(admin, username);
          await createUser(admin, bystander);

          const ended = await watchNew(server, username, c.ended);
          const watched = [...ended];
          try {
            if (c.idleFirst) {
              await settle(ended.map((w) => w.socket));
              server.clock.advance(IDLE_MS + 1_000);
              admin = await server.adminClient(); // the first admin session idled out too
            }
            const kept = await watchNew(server, username, c.kept ?? []);
            watched.push(...kept);
            const others = await watchNew(server, bystander, ["another user's session"]);
            watched.push(...others);
            await settle((c.idleFirst ? [...kept, ...others] : watched).map((w) => w.socket));
            for (const w of ended) assertQuiet(w);

            const sentAt = performance.now();
            await c.end({ server, admin, username, ended, kept });
            for (const w of ended) await assertRevoked(admin, w, c.reason, sentAt, { rowGone: c.deletesRows });
            await assertBystanders(admin, [...kept, ...others]);
          } finally {
            await closeAll(watched);
          }
        });
      }
    },
  );
}

describe('live: sockets and subscriptions of an ended session (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let admin: TestClient;
  before(async () => {
    server = await startTestServer();
    admin = await server.adminClient();
  });
  after(() => server.stop());

  it('every socket of a kicked session is closed with 4403 naming KICKED; its cookie then opens nothing', async () => {
    const user = await server.userClient(uniqueName('carol'));
    const bystander = await server.userClient(uniqueName('dan'));
    const { id } = await currentSession(user);
    // No subscription at all on these: the socket itself is what gets closed.
    const socket = openSocket(server, { cookie: user.cookie });
    const second = openSocket(server, { token: user.token });
    const unrelated = openSocket(server, { cookie: bystander.cookie });
    try {
      await Promise.all([socket.connected, second.connected, unrelated.connected]);
      const me = subscribeWs(socket.client, MeDocument);
      await me.ended();
      assert.ok(me.events[0]?.data?.me?.username, 'the socket is signed in by the cookie');

      await admin.data(KickSessionDocument, { sessionId: id });
      for (const closing of [socket, second]) {
        const close = await closing.closedWithin(PUSH_DEADLINE_MS);
        assert.equal(close.code, 4403);
        assert.match(close.reason, /KICKED/);
      }
      await sleep(QUIET_MS);
      assert.equal(unrelated.closeInfo, undefined, "another user's socket was closed");
    } finally {
      await Promise.all([socket.dispose(), second.dispose(), unrelated.dispose()]);
    }

    // A new socket with the same cookie is signed in as no one: subscriptions are refused.
    const again = openSocket(server, { cookie: user.cookie });
    try {
      await again.connected;
      await assertRefused(
        subscribeWs(again.client, SessionRevokedDocument),
        'UNAUTHENTICATED',
        'sessionRevoked over a new socket',
      );
      const meAgain = subscribeWs(again.client, MeDocument);
      await meAgain.ended();
      assert.deepEqual(meAgain.events, [{ data: { me: null } }]);
    } finally {
      await again.dispose();
    }
    // The same token as a bearer in connectionParams, and over SSE (POST and GET).
    const bearer = openSocket(server, { token: user.token });
    try {
      await bearer.connected;
      await assertRefused(
        subscribeWs(bearer.client, SessionRevokedDocument),
        'UNAUTHENTICATED',
        'sessionRevoked by bearer',
      );
    } finally {
      await bearer.dispose();
    }
    await assertRefused(
      subscribeSse(server, SessionRevokedDocument, { cookie: user.cookie }),
      'UNAUTHENTICATED',
      'SSE POST',
    );
    await assertRefused(
      subscribeSse(server, SessionRevokedDocument, { cookie: user.cookie, method: 'GET' }),
      'UNAUTHENTICATED',
      'SSE GET',
    );
  });

  it('a logout sent over the socket itself is answered, then the socket closes with 4403 LOGOUT', async () => {
    const user = await server.userClient(uniqueName('carol'));
    const socket = openSocket(server, { cookie: user.cookie });
    await socket.connected;
    const revoked = subscribeWs(socket.client, SessionRevokedDocument);
    await settle([socket]);
    const logout = subscribeWs(socket.client, LogoutDocument);
    const end = await logout.ended();
    assert.equal(end.how, 'complete', String(end.error));
    assert.deepEqual(logout.events, [{ data: { logout: true } }]);
    await revoked.ended();
    assert.equal(revoked.events[0]?.data?.sessionRevoked.reason, 'LOGOUT');
    assert.deepEqual(await socket.closedWithin(PUSH_DEADLINE_MS), { code: 4403, reason: 'Session ended: LOGOUT' });
    assert.equal((await user.data(MeDocument)).me, null);
  });

  it('GET with Accept: text/event-stream streams sessionRevoked too', async () => {
    const user = await server.userClient(uniqueName('carol'));
    const { id } = await currentSession(user);
    const sse = subscribeSse(server, SessionRevokedDocument, { cookie: user.cookie, method: 'GET' });
    assert.equal(await sse.opened, 200);
    assert.match(sse.contentType ?? '', /^text\/event-stream/);
    await sleep(50);
    const sentAt = performance.now();
    await admin.data(KickSessionDocument, { sessionId: id });
    assert.equal((await sse.ended(2_000)).how, 'complete');
    assert.equal(sse.events.length, 1);
    assert.deepEqual(
      { ...sse.events[0]?.data?.sessionRevoked, at: undefined },
      { sessionId: id, reason: 'KICKED', at: undefined },
    );
    assert.ok(sse.arrivals[0]! - sentAt < PUSH_DEADLINE_MS);
  });

  it('a bearer token in connectionParams signs in a socket that has no cookie', async () => {
    const name = uniqueName('carol');
    const user = await server.userClient(name);
    const { id } = await currentSession(user);
    for (const connectionParams of [{ authorization: `Bearer ${user.token}` }, { token: user.token }]) {
      const anonymous = openSocket(server, { connectionParams: { authorization: 'Bearer not-a-real-token' } });
      const socket = openSocket(server, { connectionParams });
      try {
        await Promise.all([socket.connected, anonymous.connected]);
        const me = subscribeWs(socket.client, MeDocument);
        const nobody = subscribeWs(anonymous.client, MeDocument);
        await Promise.all([me.ended(), nobody.ended()]);
        assert.equal(me.events[0]?.data?.me?.username, name);
        assert.deepEqual(nobody.events, [{ data: { me: null } }], 'a wrong token signs in no one');
      } finally {
        await Promise.all([socket.dispose(), anonymous.dispose()]);
      }
    }
    // And that socket is closed when its session ends, after its event.
    const socket = openSocket(server, { token: user.token });
    await socket.connected;
    const revoked = subscribeWs(socket.client, SessionRevokedDocument);
    await settle([socket]);
    const sentAt = performance.now();
    await admin.data(KickSessionDocument, { sessionId: id });
    assert.equal((await revoked.ended()).how, 'complete');
    assert.equal(revoked.events.length, 1);
    assert.equal(revoked.events[0]?.data?.sessionRevoked.sessionId, id);
    assert.ok(revoked.arrivals[0]! - sentAt < PUSH_DEADLINE_MS);
    assert.deepEqual(await socket.closedWithin(), { code: 4403, reason: 'Session ended: KICKED' });
  });

  it('an anonymous client cannot subscribe to sessionRevoked or sessionEvents (both transports)', async () => {
    const socket = openSocket(server);
    try {
      await socket.connected;
      await assertRefused(
        subscribeWs(socket.client, SessionRevokedDocument),
        'UNAUTHENTICATED',
        'sessionRevoked over WebSocket',
      );
      await assertRefused(
        subscribeWs(socket.client, SessionEventsDocument),
        'UNAUTHENTICATED',
        'sessionEvents over WebSocket',
      );
    } finally {
      await socket.dispose();
    }
    await assertRefused(subscribeSse(server, SessionRevokedDocument), 'UNAUTHENTICATED', 'sessionRevoked over SSE');
    await assertRefused(
      subscribeSse(server, SessionRevokedDocument, { method: 'GET' }),
      'UNAUTHENTICATED',
      'over SSE GET',
    );
    await assertRefused(subscribeSse(server, SessionEventsDocument), 'UNAUTHENTICATED', 'sessionEvents over SSE');
  });
});

/** The engine's `gc()`, enabled at run time (the server under test runs in this process). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('live: memory of ended subscriptions (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('a subscription that has ended leaves nothing behind on the server', async () => {
    const gc = exposeGc();
    const admin = await server.adminClient();
    const socket = openSocket(server, { cookie: admin.cookie });
    await socket.connected;
    const roundTrip = async () => {
      const probe = subscribeWs(socket.client, TypenameDocument);
      await probe.ended();
    };
    /** Opens `count` feeds over the socket, 100 at a time, and ends each from the client. */
    const churn = async (count: number) => {
      for (let done = 0; done < count; done += 100) {
        const feeds = Array.from({ length: 100 }, () => subscribeWs(socket.client, SessionEventsDocument));
        await roundTrip();
        await sleep(5);
        for (const feed of feeds) feed.dispose();
        await roundTrip();
      }
    };
    const heapAfterGc = async () => {
      await sleep(50);
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    try {
      const count = 2_000;
      await churn(500); // warm-up: caches, JIT, lazily created structures
      const base = await heapAfterGc();
      await churn(count);
      const first = await heapAfterGc();
      await churn(count);
      const second = await heapAfterGc();
      // Leaked memory grows in both rounds; noise does not: the smaller growth is the signal.
      const perSubscription = Math.min(first - base, second - first) / count;
      assert.ok(
        perSubscription < 400,
        `${perSubscription.toFixed(0)} bytes of heap kept per ended subscription (${((second - base) / 1e6).toFixed(1)} MB after ${2 * count})`,
      );
    } finally {
      await socket.dispose();
    }
  });
});

describe('live: the admin feed (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let admin: TestClient;
  before(async () => {
    server = await startTestServer();
    admin = await server.adminClient();
  });
  after(() => server.stop());

  it('shows STARTED and ENDED with the session and reason; sessionEvents(userId) only that user', async () => {
    const carol = uniqueName('carol');
    const dave = uniqueName('dave');
    const carolId = await createUser(admin, carol);
    const daveId = await createUser(admin, dave);
    const socket = openSocket(server, { cookie: admin.cookie });
    await socket.connected;
    const all = subscribeWs(socket.client, SessionEventsDocument);
    const allSse = subscribeSse(server, SessionEventsDocument, { cookie: admin.cookie });
    const carolOnly = subscribeWs(socket.client, SessionEventsDocument, { userId: carolId });
    const carolOnlySse = subscribeSse(server, SessionEventsDocument, {
      cookie: admin.cookie,
      variables: { userId: carolId },
    });
    try {
      await Promise.all([allSse.opened, carolOnlySse.opened]);
      await settle([socket]);

      const carolLogin = await signIn(server, carol, passwordOf(carol), { 'user-agent': 'carol-browser/1.0' });
      const daveClient = (await signIn(server, dave)).client;
      await carolLogin.client.data(LogoutDocument);
      await daveClient.data(LogoutDocument);
      const carolSession = carolLogin.session.id;

      const expectedAll = [
        ['STARTED', carol, null],
        ['STARTED', dave, null],
        ['ENDED', carol, 'LOGOUT'],
        ['ENDED', dave, 'LOGOUT'],
      ];
      const summary = (events: Array<{ data?: SessionEventsSubscription | null }>) =>
        events.map((e) => [
          e.data?.sessionEvents.type,
          e.data?.sessionEvents.session.user.username,
          e.data?.sessionEvents.reason,
        ]);
      for (const [transport, feed] of [
        ['WebSocket', all],
        ['SSE', allSse],
      ] as const) {
        await feed.received(4, 2_000);
        await sleep(QUIET_MS);
        assert.deepEqual(summary(feed.events), expectedAll, `full feed over ${transport}`);
        const [started, , ended] = feed.events.map((e) => e.data!.sessionEvents);
        assert.equal(started?.session.id, carolSession);
        assert.equal(started?.session.active, true);
        assert.equal(started?.session.userAgent, 'carol-browser/1.0');
        assert.equal(started?.session.user.id, carolId);
        assert.equal(started?.session.endedAt, null);
        assert.equal(feed.events[1]?.data?.sessionEvents.session.user.id, daveId);
        assert.equal(ended?.session.id, carolSession);
        assert.equal(ended?.session.active, false);
        assert.equal(ended?.session.endReason, 'LOGOUT');
        assert.equal(ended?.at, ended?.session.endedAt);
        assert.ok(Date.parse(ended!.at) >= Date.parse(started!.at));
      }
      for (const [transport, feed] of [
        ['WebSocket', carolOnly],
        ['SSE', carolOnlySse],
      ] as const) {
        await feed.received(2, 2_000);
        await sleep(QUIET_MS);
        assert.deepEqual(
          summary(feed.events),
          [
            ['STARTED', carol, null],
            ['ENDED', carol, 'LOGOUT'],
          ],
          `sessionEvents(userId) over ${transport}`,
        );
        assert.equal(feed.end, undefined);
      }
    } finally {
      for (const feed of [all, allSse, carolOnly, carolOnlySse]) feed.dispose();
      await socket.dispose();
    }
  });

  it('a USER gets FORBIDDEN (both transports)', async () => {
    const user = await server.userClient(uniqueName('erin'));
    const socket = openSocket(server, { cookie: user.cookie });
    try {
      await socket.connected;
      await assertRefused(
        subscribeWs(socket.client, SessionEventsDocument),
        'FORBIDDEN',
        'sessionEvents over WebSocket',
      );
      await assertRefused(
        subscribeWs(socket.client, SessionEventsDocument, { userId: 'x' }),
        'FORBIDDEN',
        'sessionEvents(userId)',
      );
    } finally {
      await socket.dispose();
    }
    await assertRefused(
      subscribeSse(server, SessionEventsDocument, { cookie: user.cookie }),
      'FORBIDDEN',
      'sessionEvents over SSE',
    );
  });

  it('closes when the admin session that opened it is kicked', async () => {
    const watcher = await server.adminClient();
    const { id } = await currentSession(watcher);
    const socket = openSocket(server, { cookie: watcher.cookie });
    await socket.connected;
    const feed = subscribeWs(socket.client, SessionEventsDocument);
    const feedSse = subscribeSse(server, SessionEventsDocument, { cookie: watcher.cookie });
    try {
      await feedSse.opened;
      await settle([socket]);
      const sentAt = performance.now();
      await admin.data(KickSessionDocument, { sessionId: id });
      const [wsEnd, sseEnd] = await Promise.all([feed.ended(2_000), feedSse.ended(2_000)]);
      assert.ok(feed.endedAt! - sentAt < PUSH_DEADLINE_MS, 'WebSocket feed ended late');
      assert.ok(feedSse.endedAt! - sentAt < PUSH_DEADLINE_MS, 'SSE feed ended late');
      assert.equal(sseEnd.how, 'complete', String(sseEnd.error));
      void wsEnd; // the socket closes with the feed: graphql-ws reports that as an error or a complete
      assert.deepEqual(await socket.closedWithin(), { code: 4403, reason: 'Session ended: KICKED' });
      // Whatever the feeds delivered before closing is about this very session's end.
      for (const event of [...feed.events, ...feedSse.events]) {
        assert.equal(event.data?.sessionEvents.session.id, id);
        assert.equal(event.data?.sessionEvents.reason, 'KICKED');
      }
      await assertRefused(
        subscribeSse(server, SessionEventsDocument, { cookie: watcher.cookie }),
        'UNAUTHENTICATED',
        'reopening the feed with the kicked cookie',
      );
    } finally {
      feed.dispose();
      feedSse.dispose();
      await socket.dispose();
    }
  });
});

describe('live: WebSocket safety (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  const APP_ORIGIN = 'https://app.example.com';
  let server: TestServer;
  let user: TestClient;
  before(async () => {
    server = await startTestServer({ env: { ALLOWED_ORIGINS: APP_ORIGIN } });
    user = await server.userClient('frank');
  });
  after(() => server.stop());

  /** A graphql-ws connection with this Origin and the user's cookie: who the socket is, or the refusal. */
  async function connectFrom(origin: string | undefined): Promise<string | null | { closed: number }> {
    const socket = openSocket(server, { cookie: user.cookie, origin });
    try {
      await socket.connected;
    } catch {
      return { closed: (await socket.closed).code };
    }
    try {
      const me = subscribeWs(socket.client, MeDocument);
      await me.ended();
      return me.events[0]?.data?.me?.username ?? null;
    } finally {
      await socket.dispose();
    }
  }

  it('refuses a cross-origin upgrade that carries a valid cookie (403, no connection)', async () => {
    for (const origin of ['https://evil.example', `${server.url}.evil.example`, `${APP_ORIGIN}.evil.example`, 'null']) {
      const outcome = await tryUpgrade(server, { origin, cookie: user.cookie! });
      if (outcome.accepted) outcome.socket.terminate();
      assert.deepEqual(outcome, { accepted: false, status: 403 }, `Origin: ${origin}`);
    }
    assert.deepEqual(await connectFrom('https://evil.example'), { closed: 1006 });
  });

  it('accepts its own origin, an ALLOWED_ORIGINS origin, and no Origin at all', async () => {
    assert.equal(await connectFrom(server.url), 'frank', 'same origin');
    assert.equal(await connectFrom(APP_ORIGIN), 'frank', 'ALLOWED_ORIGINS');
    assert.equal(await connectFrom(undefined), 'frank', 'no Origin (a non-browser client)');
  });

  it('closes a socket that sends no connection_init after ~3 s (4408), not one that did', async () => {
    const [silent, polite] = await Promise.all([tryUpgrade(server, {}), tryUpgrade(server, {})]);
    assert.ok(silent.accepted && polite.accepted);
    const openedAt = performance.now();
    const silentClose = rawClose(silent.socket);
    const acked = new Promise<string>((resolve) =>
      polite.socket.once('message', (data: Buffer) => resolve(data.toString())),
    );
    polite.socket.send(JSON.stringify({ type: 'connection_init' }));
    assert.deepEqual(JSON.parse(await acked), { type: 'connection_ack' });

    const close = await silentClose;
    const elapsed = close.at - openedAt;
    assert.equal(close.code, 4408);
    assert.ok(elapsed > 2_500 && elapsed < 4_500, `closed after ${elapsed.toFixed(0)} ms`);
    await sleep(100);
    assert.equal(polite.socket.readyState, polite.socket.OPEN, 'the initialised socket was closed too');
    polite.socket.close();
  });

  it('closes the socket on a message over 64 KB (1009), after accepting one just under', async () => {
    const outcome = await tryUpgrade(server, {});
    assert.ok(outcome.accepted);
    const socket = outcome.socket;
    const messages: string[] = [];
    socket.on('message', (data: Buffer) => messages.push(data.toString()));
    const closed = rawClose(socket);
    const waitForMessages = (count: number) =>
      waitFor(`${count} message(s)`, () => messages.length >= count, { timeoutMs: 2_000 });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await waitForMessages(1);
    assert.equal(JSON.parse(messages[0]!).type, 'connection_ack');
    socket.send(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(60 * 1024) } }));
    await waitForMessages(2);
    assert.equal(JSON.parse(messages[1]!).type, 'pong', 'a 60 KB message is accepted');

    socket.send(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(64 * 1024) } }));
    const close = await closed;
    assert.equal(close.code, 1009);
  });
});

const crossInstanceSkip = !POSTGRES_URL
  ? 'TEST_POSTGRES_URL is not set: two instances need a shared PostgreSQL database'
  : false;

describe(
  'live: across instances through PostgreSQL (two servers, one database, no Redis)',
  { skip: crossInstanceSkip, timeout: SUITE_TIMEOUT_MS },
  () => {
    let serverA: TestServer;
    let serverB: TestServer;
    let dropDatabase: () => Promise<void> = async () => {};
    before(async () => {
      const database = await createPostgresDatabase();
      dropDatabase = database.drop;
      // The scheduled sweep stays out of the way (real time): only the tests end sessions.
      const env = {
        DATABASE_URL: database.url,
        SESSION_IDLE_TIMEOUT: '1h',
        SWEEP_INTERVAL: '1h',
      };
      // One after the other: the first migrates and creates the admin.
      serverA = await startTestServer({ env });
      serverB = await startTestServer({ env });
    });
    after(async () => {
      await Promise.all([serverA?.stop(), serverB?.stop()]);
      await dropDatabase();
    });

    it('a session kicked through B is revoked on A: events, 4403, and the cookie is anonymous on A', async () => {
      const name = uniqueName('gina');
      const onA = await serverA.userClient(name);
      const otherOnA = await serverA.userClient(uniqueName('hank'));
      const adminA = await serverA.adminClient();
      const adminB = await serverB.adminClient();
      // Both instances have validated (and may cache) the session.
      assert.equal(await usernameOf(onA), name);
      const onB = serverB.client();
      onB.cookie = onA.cookie;
      assert.equal(await usernameOf(onB), name);

      const [w, o] = await watchAll(serverA, [
        [onA, 'the session, watched on A'],
        [otherOnA, "another user's session on A"],
      ]);
      const feedSocket = openSocket(serverA, { cookie: adminA.cookie });
      await feedSocket.connected;
      const feed = subscribeWs(feedSocket.client, SessionEventsDocument, { userId: w!.userId });
      await settle([feedSocket]);
      try {
        const sentAt = performance.now();
        await adminB.data(KickSessionDocument, { sessionId: w!.sessionId });
        await assertRevoked(adminB, w!, 'KICKED', sentAt);
        assert.equal(await usernameOf(onA), null, 'A still serves the kicked session');
        assert.equal(await usernameOf(onB), null, 'B still serves the kicked session');
        await feed.received(1, 2_000);
        assert.equal(feed.events[0]?.data?.sessionEvents.type, 'ENDED');
        assert.equal(feed.events[0]?.data?.sessionEvents.session.id, w!.sessionId);
        assert.equal(feed.events[0]?.data?.sessionEvents.reason, 'KICKED');
        await assertBystanders(adminB, [o!]);
      } finally {
        feed.dispose();
        await feedSocket.dispose();
        await closeAll([w!, o!]);
      }
    });

    it('a session kept alive through B is not ended as EXPIRED by A (whose cached copy last saw it long ago)', async () => {
      const IDLE_MS = 3_600_000;
      // Both instances' clocks show the same time and move together.
      serverB.clock.advance(serverA.clock.now().getTime() - serverB.clock.now().getTime());
      const advanceBoth = (ms: number) => {
        serverA.clock.advance(ms);
        serverB.clock.advance(ms);
      };
      const name = uniqueName('jane');
      const onA = await serverA.userClient(name);
      assert.equal(await usernameOf(onA), name, 'A validates (and caches) the session');
      const onB = serverB.client();
      onB.cookie = onA.cookie;
      const [w] = await watchAll(serverB, [[onB, 'the session, watched on B']]);
      try {
        // Used through B two thirds into the idle timeout, and the use written down.
        advanceBoth((IDLE_MS * 2) / 3);
        assert.equal(await usernameOf(onB), name);
        await flushLastSeen(serverB);
        // Another two thirds on: idle by A's old copy, not by the database.
        advanceBoth((IDLE_MS * 2) / 3);
        assert.equal(await usernameOf(onA), name, 'A ended a session in use');
        await sleep(QUIET_MS);
        assertQuiet(w!);
      } finally {
        await closeAll([w!]);
      }
    });

    it("a session expired by B's sweeper is revoked on A, and anonymous there", async () => {
      const name = uniqueName('ivy');
      const onA = await serverA.userClient(name);
      assert.equal(await usernameOf(onA), name);
      const [w] = await watchAll(serverA, [[onA, 'the session, watched on A']]);
      try {
        // Only B's clock moves: B's sweeper finds the session idle (as it finds every session).
        serverB.clock.advance(2 * 3_600_000);
        const sentAt = performance.now();
        const result = await runSweeper(serverB);
        assert.ok(result.expired >= 1, `B's sweeper expired ${result.expired}`);
        await assertRevoked(await serverB.adminClient(), w!, 'EXPIRED', sentAt);
        assert.equal(await usernameOf(onA), null, 'A still serves the expired session');
      } finally {
        await closeAll([w!]);
      }
    });
  },
);

describe(
  "live: across instances, when one loses its session-events connection (PostgreSQL terminates A's LISTEN)",
  { skip: crossInstanceSkip, timeout: SUITE_TIMEOUT_MS },
  () => {
    let serverA: TestServer;
    let serverB: TestServer;
    let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
    before(async () => {
      database = await createPostgresDatabase();
      serverA = await startTestServer({ env: { DATABASE_URL: database.url } });
      serverB = await startTestServer({ env: { DATABASE_URL: database.url } });
    });
    after(async () => {
      await Promise.all([serverA?.stop(), serverB?.stop()]);
      await database?.drop();
    });

    /** Ends A's listening connection from the server side, as a restart or a network cut would. */
    async function dropListenerOf(server: TestServer): Promise<void> {
      const name = listenerName(server.app.core.propagation.instanceId);
      const [row] = await server.db
        .raw<{ rows: Array<{ ended: boolean }> }>(
          'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = ?',
          [name],
        )
        .then((result) => result.rows);
      assert.equal(row?.ended, true, "A's listening connection");
    }

    it('a session kicked through B while A could not hear is neither served by A nor left open there afterwards', async () => {
      const name = uniqueName('kate');
      const onA = await serverA.userClient(name);
      const adminB = await serverB.adminClient();
      assert.equal(await usernameOf(onA), name, 'A validates (and caches) the session');
      const [w] = await watchAll(serverA, [[onA, 'the session, watched on A']]);
      try {
        await dropListenerOf(serverA);
        // Returns once A acknowledged, or after the trust bound (A, deaf, has stopped trusting its cache).
        await adminB.data(KickSessionDocument, { sessionId: w!.sessionId });
        assert.equal(await usernameOf(onA), null, 'A serves a kicked session from its cache');
        // A reconnects, finds it may have missed ends, and re-checks the sessions its clients hold.
        const end = await w!.ws.ended(3_000);
        assert.equal(end.how, 'complete');
        assert.equal((await w!.socket.closedWithin(2_000)).code, 4403);
      } finally {
        await closeAll([w!]);
      }
    });
  },
);
