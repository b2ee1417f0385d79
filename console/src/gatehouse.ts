/**
 * How a browser app talks to Gatehouse: the console's own client, written to be read as the
 * example the README's "Browser clients" section points to. Copy it into a front end as is.
 *
 * The rules it follows:
 * - The session is an HttpOnly cookie: no script ever sees the token, so there is nothing to
 *   store. Every HTTP request sends the cookie (`credentials: 'include'`, which a cross-origin
 *   app needs; on Gatehouse's own origin `same-origin` would do), and the WebSocket upgrade
 *   carries it by itself.
 * - The cookie is `SameSite=Lax`: a page on another *site* never sends it on `fetch`. Serve the
 *   app and Gatehouse from one site (same registrable domain, e.g. app.example.com and
 *   auth.example.com; `localhost` and `127.0.0.1` are two different sites) and list the app's
 *   exact origin in `ALLOWED_ORIGINS`.
 * - When the session ends, Gatehouse sends one `sessionRevoked` event and then closes the socket
 *   with 4403. graphql-ws's client retries 4403 by default (it may mean "forbidden for now"), so
 *   it would reconnect anonymously: `shouldRetry` stops on it, and the app disposes the client.
 */
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient, type Client as SocketClient } from 'graphql-ws';
import { SessionRevokedDocument } from './operations.js';
import type { SessionEndReason } from './gql/graphql.js';

/** The close code of a socket whose session ended (and the reason `Session ended: <REASON>`). */
export const SESSION_ENDED_CLOSE_CODE = 4403;

const isCloseEvent = (value: unknown): value is CloseEvent =>
  typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;

export interface Connection {
  /** Queries and mutations over HTTP, subscriptions over the socket. */
  client: Client;
  /** Closes the socket for good. A new session needs a new connection: the socket was signed in at connect. */
  close(): void;
}

export interface ConnectOptions {
  /** The GraphQL endpoint. Default: `/graphql` on the page's own origin. */
  url?: string;
  /** Called when the server closes the socket because its session ended, with the reason it gave. */
  onSessionEnded?(reason: SessionEndReason | undefined): void;
}

function socketFor(url: URL, onSessionEnded: ConnectOptions['onSessionEnded']): SocketClient {
  return createClient({
    url: url.href.replace(/^http/, 'ws'),
    retryAttempts: 5,
    // The one close that must not be retried: the session is over, a new socket would be anonymous.
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === SESSION_ENDED_CLOSE_CODE),
    on: {
      closed: (event) => {
        if (!isCloseEvent(event) || event.code !== SESSION_ENDED_CLOSE_CODE) return;
        const reason = /^Session ended: ([A-Z_]+)$/.exec(event.reason)?.[1] as SessionEndReason | undefined;
        onSessionEnded?.(reason);
      },
    },
  });
}

/** One client for one signed-in session (or for signing in). */
export function connect(options: ConnectOptions = {}): Connection {
  const url = new URL(options.url ?? '/graphql', location.href);
  const socket = socketFor(url, options.onSessionEnded);
  const client = new Client({
    url: url.href,
    // POST JSON only: Gatehouse refuses other bodies (CSRF), and GET would put variables in URLs.
    preferGetMethod: false,
    fetchOptions: { credentials: 'include' },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: socket.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { client, close: () => void socket.dispose() };
}

/**
 * Calls `onEnded` once when this session ends, whatever ended it: an admin's kick, a sign-out
 * elsewhere, expiry, a password change. Returns a function that stops watching.
 */
export function watchSession(client: Client, onEnded: (reason: SessionEndReason | undefined) => void): () => void {
  const { unsubscribe } = client.subscription(SessionRevokedDocument, {}).subscribe((result) => {
    if (result.data) onEnded(result.data.sessionRevoked.reason);
    // Ended before the socket was signed in: the subscription is refused as anonymous.
    else if (result.error?.graphQLErrors.some((error) => error.extensions.code === 'UNAUTHENTICATED'))
      onEnded(undefined);
  });
  return unsubscribe;
}
