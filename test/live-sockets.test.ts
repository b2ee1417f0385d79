/**
 * Live sockets at scale and over time, against the WebSocket adapter (src/http/graphql-ws-adapter.ts)
 * and the hand-written streams: many sockets of one session, keep-alive, and what a socket leaves
 * behind. Real server in this process, real sockets, real SQLite; no timed assertions (every wait
 * is bounded, generously).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { CurrentSessionDocument, KickSessionDocument, SessionRevokedDocument } from './generated/graphql.js';
import { waitFor } from './support/async.js';
import { countLiveObjects } from './support/heap.js';
import { openSocket, rawClose, subscribeWs, webSocketUrl, type LiveSocket } from './support/live.js';
import { startTestServer, type TestServer } from './support/server.js';
import type { TestClient } from './support/client.js';

const SUITE_TIMEOUT_MS = 120_000;
/** Far above what a push takes; a bound on waiting, not a measurement. */
const WAIT_MS = 10_000;

async function sessionIdOf(client: TestClient): Promise<string> {
  const data = await client.data(CurrentSessionDocument);
  assert.ok(data.currentSession, 'client is not signed in');
  return data.currentSession.id;
}

/** `count` sockets signed in by `cookie`, each with a sessionRevoked subscription the server has taken in. */
async function openSubscribed(server: TestServer, cookie: string, sessionId: string, count: number) {
  const sockets = Array.from({ length: count }, () => openSocket(server, { cookie }));
  await Promise.all(sockets.map((socket) => socket.connected));
  const subscriptions = sockets.map((socket) => subscribeWs(socket.client, SessionRevokedDocument));
  // Each socket watches its session once, and each sessionRevoked twice (its stream, and the end of the operation).
  const { watcher } = server.app.core;
  await waitFor('every subscription to be taken in', () => watcher.watchCount(sessionId) >= 3 * count, {
    timeoutMs: WAIT_MS,
  });
  return { sockets, subscriptions };
}

const disposeAll = (sockets: LiveSocket[]) => Promise.all(sockets.map((socket) => socket.dispose()));

describe('live sockets: many sockets of one session (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  let admin: TestClient;
  before(async () => {
    server = await startTestServer();
    admin = await server.adminClient();
  });
  after(() => server.stop());

  it('all 40 sockets get their one event, then complete, then close with 4403 KICKED', async () => {
    const user = await server.userClient('many-sockets');
    const sessionId = await sessionIdOf(user);
    const { sockets, subscriptions } = await openSubscribed(server, user.cookie!, sessionId, 40);
    try {
      await admin.data(KickSessionDocument, { sessionId });
      const closes = await Promise.all(sockets.map((socket) => socket.closedWithin(WAIT_MS)));
      for (const [i, subscription] of subscriptions.entries()) {
        await subscription.ended(WAIT_MS);
        assert.deepEqual(
          subscription.events.map((event) => [event.data?.sessionRevoked.sessionId, event.data?.sessionRevoked.reason]),
          [[sessionId, 'KICKED']],
          `socket ${i}`,
        );
        assert.equal(subscription.end?.how, 'complete', `socket ${i}`);
        assert.deepEqual(closes[i], { code: 4403, reason: 'Session ended: KICKED' }, `socket ${i}`);
      }
      assert.equal(server.app.core.watcher.watchCount(sessionId), 0, 'watches left on the ended session');
    } finally {
      await disposeAll(sockets);
    }
  });

  it('sockets of one session connecting at once read its row once', async () => {
    const user = await server.userClient('many-at-once');
    // Nothing cached: the first socket must read the row; the others join it or find it cached.
    server.app.services.cache?.evictAll();
    let lookups = 0;
    const count = (query: { sql: string }) => {
      if (/token_hash/.test(query.sql) && /join/i.test(query.sql)) lookups++;
    };
    // Session lookups read on SQLite's read connection (src/storage/database.ts).
    server.app.core.reads.on('query', count);
    const sockets = Array.from({ length: 20 }, () => openSocket(server, { cookie: user.cookie }));
    try {
      await Promise.all(sockets.map((socket) => socket.connected));
      assert.equal(lookups, 1, 'storage lookups of the token for 20 sockets');
    } finally {
      server.app.core.reads.off('query', count);
      await disposeAll(sockets);
    }
  });
});

describe('live sockets: keep-alive (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ overrides: { webSocketKeepAliveMs: 100 } });
  });
  after(() => server.stop());

  /** A raw graphql-transport-ws socket, acknowledged; `autoPong: false` makes a peer that never answers pings. */
  async function acknowledged(autoPong: boolean): Promise<{ socket: WebSocket; pings: () => number }> {
    const socket = new WebSocket(webSocketUrl(server), 'graphql-transport-ws', { autoPong });
    let pings = 0;
    socket.on('ping', () => pings++);
    socket.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
      socket.once('message', () => resolve());
      socket.once('close', () => reject(new Error('closed before connection_ack')));
    });
    return { socket, pings: () => pings };
  }

  it('pings every socket; keeps one that answers, drops one that does not', async () => {
    const alive = await acknowledged(true);
    const dead = await acknowledged(false);
    try {
      const deadClose = rawClose(dead.socket);
      await waitFor('the silent peer to be dropped', () => dead.socket.readyState === WebSocket.CLOSED, {
        timeoutMs: WAIT_MS,
      });
      assert.equal((await deadClose).code, 1006, 'terminated, not closed politely');
      assert.ok(dead.pings() >= 1, 'the silent peer was pinged');
      await waitFor('the answering peer to be pinged a few times', () => alive.pings() >= 4, { timeoutMs: WAIT_MS });
      assert.equal(alive.socket.readyState, WebSocket.OPEN, 'the answering peer was dropped');
    } finally {
      alive.socket.terminate();
      dead.socket.terminate();
    }
  });
});

describe('live sockets: memory (sqlite)', { timeout: SUITE_TIMEOUT_MS }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  const KINDS = ['Transport', 'SessionRevokedStream', 'EndingStream', 'RequestCache'] as const;

  it('an idle socket keeps no scope cache, and a closed one leaves none of its objects behind', async () => {
    const base = await countLiveObjects(KINDS);
    const user = await server.userClient('memory');
    const { sockets } = await openSubscribed(server, user.cookie!, await sessionIdOf(user), 30);
    const open = await countLiveObjects(KINDS);
    assert.ok(open.Transport! - base.Transport! >= 30, `Transport: ${JSON.stringify(open)}`);
    assert.ok(open.SessionRevokedStream! - base.SessionRevokedStream! >= 30, `streams: ${JSON.stringify(open)}`);
    // Built for each subscription's scope check, then released: none is kept per idle socket.
    assert.ok(open.RequestCache! - base.RequestCache! < 5, `RequestCache: ${JSON.stringify(open)}`);

    await disposeAll(sockets);
    // The server learns of the closes asynchronously: wait (bounded) for the counts to fall back.
    const closed = await waitFor(
      'the closed sockets to be collected',
      async () => {
        const counts = await countLiveObjects(KINDS);
        return KINDS.every((kind) => counts[kind]! <= base[kind]!) && counts;
      },
      { timeoutMs: WAIT_MS * 3, intervalMs: 200 },
    );
    assert.deepEqual(closed, base);
  });
});
