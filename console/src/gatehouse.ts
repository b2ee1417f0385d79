/**
 * How a browser app talks to Gatehouse: the console's own client, written to be read as the
 * example for front ends. It is not a file to drop in unchanged: it imports two things that
 * codegen makes from this project's `schema.graphql` and `operations.ts` (console/src/gql/), the
 * `SessionRevoked` and `CurrentSession` documents and the `SessionEndReason` type. A front end
 * that copies it keeps those imports pointing at its own: the same two operations in its own
 * documents, typed by its own codegen run on Gatehouse's `schema.graphql` (or written as plain
 * strings, and the reason as a `string`). Its packages: `@urql/core` and `graphql-ws`.
 *
 * The rules it follows:
 * - The session is an HttpOnly cookie: no script ever sees the token, so there is nothing to
 *   store. Every HTTP request sends the cookie (`credentials: 'include'`, which a cross-origin
 *   app needs; on Gatehouse's own origin `same-origin` would do), and the WebSocket upgrade
 *   carries it by itself. A socket is signed in (or not) when it opens: open it after login.
 * - The cookie is `SameSite=Lax`: a page on another *site* never sends it on `fetch`. Serve the
 *   app and Gatehouse from one site (same registrable domain, e.g. app.example.com and
 *   auth.example.com; `localhost` and `127.0.0.1` are two different sites) and list the app's
 *   exact origin in `ALLOWED_ORIGINS`. With `COOKIE_SECURE` (on in production) the cookie is
 *   `Secure`, and a browser keeps it only from HTTPS (or localhost). A login the browser kept no
 *   cookie of still answers with its user: {@link checkCookieKept} tells, and says why.
 * - When the session ends, Gatehouse sends one `sessionRevoked` event, completes every
 *   subscription of the session, and then closes the socket with 4403. The socket client here is
 *   lazy (graphql-ws's default), so with no subscription left it does not reconnect. A client
 *   with `lazy: false` would: graphql-ws retries a 4403 close (it may mean "forbidden for now"),
 *   and the new socket would be anonymous. `shouldRetry` refuses 4403 all the same, for a
 *   subscription made as the close arrives, and the app disposes the client
 *   (docs/front-ends.md, "graphql-ws: what happens after 4403").
 */
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient, type Client as SocketClient } from 'graphql-ws';
import { CurrentSessionDocument, SessionRevokedDocument } from './operations.js';
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

/**
 * Why a browser refused the session cookie of a login that succeeded:
 * - `PLAIN_HTTP`: Gatehouse was reached over plain HTTP off loopback, and its cookie is `Secure`
 *   (COOKIE_SECURE): HTTPS is needed.
 * - `OTHER_SITE`: Gatehouse is on another site than the page, so the `SameSite=Lax` cookie is
 *   not sent with the page's requests.
 * - `BLOCKED`: neither; the browser's settings or an extension block cookies for that site.
 */
export type CookieRefusal = 'PLAIN_HTTP' | 'OTHER_SITE' | 'BLOCKED';

/** Hosts a browser treats as secure even over plain HTTP, keeping `Secure` cookies from them. */
const LOOPBACK_HOST = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * A URL's site, as SameSite counts it: the scheme and the registrable domain. Without the
 * public suffix list this takes the last two labels, which misjudges hosts under suffixes such
 * as co.uk (two sites there look like one, and their refusal reads as `BLOCKED`).
 */
function siteOf(url: URL): string {
  const host = url.hostname;
  const isAddress = /^[\d.]+$/.test(host) || host.startsWith('[');
  return `${url.protocol}//${isAddress ? host : host.split('.').slice(-2).join('.')}`;
}

/** Why a cookie from `url` (the GraphQL endpoint) would be refused on this page; see {@link CookieRefusal}. */
export function cookieRefusal(url: URL): CookieRefusal {
  if (url.protocol === 'http:' && !LOOPBACK_HOST.test(url.hostname)) return 'PLAIN_HTTP';
  if (siteOf(url) !== siteOf(new URL(location.href))) return 'OTHER_SITE';
  return 'BLOCKED';
}

/**
 * Call right after a `login` that succeeded with the session it returned: undefined when the
 * browser kept the cookie (the next request is that session), else why it did not. Without this
 * check the app goes on as signed in and meets the missing cookie later, as a session that ended.
 */
export async function checkCookieKept(
  client: Client,
  sessionId: string,
  url = '/graphql',
): Promise<CookieRefusal | undefined> {
  const result = await client.query(CurrentSessionDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  if (result.error) throw result.error;
  return result.data?.currentSession?.id === sessionId ? undefined : cookieRefusal(new URL(url, location.href));
}
