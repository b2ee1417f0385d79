/**
 * Other services' side of Gatehouse for tests: service tokens made as the command line makes them, and a
 * `sessionEndFeed` open over both transports at once (WebSocket and SSE), with readers for what
 * arrived on it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import type { App } from '../../src/app.js';
import type { ServiceScope } from '../../src/sessions/service-tokens.js';
import { CLI_OPERATOR } from '../../src/sessions/types.js';
import { openSocket, subscribeSse, subscribeWs, type LiveSocket, type LiveSubscription } from './live.js';

export interface ServiceToken {
  id: string;
  /** `ghs_…`. */
  token: string;
}

/** A new service token with `scopes`, made as the command line makes one. */
export async function createServiceToken(server: { app: App }, scopes: ServiceScope[]): Promise<ServiceToken> {
  const created = await server.app.services.serviceTokens.create(CLI_OPERATOR, `service ${randomUUID()}`, scopes);
  return { id: created.serviceToken.id, token: created.token };
}

/** Revokes it as the command line does, on `server`'s instance. */
export async function revokeServiceToken(server: { app: App }, id: string): Promise<void> {
  await server.app.services.serviceTokens.revoke(CLI_OPERATOR, id);
}

export const SESSION_END_FEED = 'subscription { sessionEndFeed { type sessionId userId reason at proofAgeMs } }';

export interface FeedEvent {
  type: 'ENDED' | 'HEARTBEAT';
  sessionId: string | null;
  userId: string | null;
  reason: string | null;
  at: string;
  proofAgeMs: number | null;
}

export type FeedData = { sessionEndFeed: FeedEvent };
export type FeedSubscription = LiveSubscription<FeedData>;

/** One service's feed, open over a socket of its own and over SSE. */
export interface OpenFeeds {
  socket: LiveSocket;
  ws: FeedSubscription;
  sse: FeedSubscription;
  /** Both, labelled. */
  both: Array<[transport: string, feed: FeedSubscription]>;
}

/** Opens the feed with `token` over WebSocket and SSE, and waits for a heartbeat on each. */
export async function openFeeds(server: { url: string }, token: string): Promise<OpenFeeds> {
  const socket = openSocket(server, { token });
  await socket.connected;
  const ws = subscribeWs<FeedData>(socket.client, SESSION_END_FEED);
  const sse = subscribeSse<FeedData>(server, SESSION_END_FEED, { token });
  const both: OpenFeeds['both'] = [
    ['WebSocket', ws],
    ['SSE', sse],
  ];
  for (const [transport, feed] of both) {
    await feed.received(1, 3_000).catch((error: unknown) => {
      throw new Error(`${transport} feed: ${String(error)}: ${JSON.stringify(feed.events)}`);
    });
    assert.equal(feedEvents(feed)[0]?.type, 'HEARTBEAT', `${transport}: the first event is a heartbeat`);
  }
  return { socket, ws, sse, both };
}

export async function closeFeeds(feeds: OpenFeeds | undefined): Promise<void> {
  if (!feeds) return;
  feeds.ws.dispose();
  feeds.sse.dispose();
  await feeds.socket.dispose();
}

/** Runs `use` on feeds opened with `token` on `server`, and closes them however it ends. */
export async function withFeeds(
  server: { url: string },
  token: string,
  use: (feeds: OpenFeeds) => Promise<void>,
): Promise<void> {
  const feeds = await openFeeds(server, token);
  try {
    await use(feeds);
  } finally {
    await closeFeeds(feeds);
  }
}

/** The events of a feed so far; fails on a payload with errors. */
export function feedEvents(feed: FeedSubscription): FeedEvent[] {
  return feed.events.map((payload: FormattedExecutionResult<FeedData, unknown>) => {
    assert.equal(payload.errors, undefined, JSON.stringify(payload.errors));
    assert.ok(payload.data);
    return payload.data.sessionEndFeed;
  });
}

/** The ENDED events for `sessionId` so far. */
export const endsOf = (feed: FeedSubscription, sessionId: string) =>
  feedEvents(feed).filter((event) => event.type === 'ENDED' && event.sessionId === sessionId);

/** Resolves once the feed has an ENDED for every one of `sessionIds` (bounded). */
export async function waitForEnds(feed: FeedSubscription, sessionIds: readonly string[], ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const missing = sessionIds.filter((id) => endsOf(feed, id).length === 0);
    if (missing.length === 0) return;
    if (Date.now() > deadline || feed.end) {
      throw new Error(`no ENDED for ${missing.join(', ')} (${feed.end ? 'feed ended' : 'timed out'})`);
    }
    await feed.received(feed.events.length + 1, Math.max(1, deadline - Date.now())).catch(() => undefined);
  }
}
