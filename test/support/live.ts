/**
 * Live clients for the subscription tests: a graphql-ws client over a real `ws` socket (cookie on
 * the upgrade, or a bearer token in `connectionParams`) and an SSE reader over `fetch`. They
 * record what arrives, when, and how the transport ended, so tests can assert "exactly one event
 * within a second, then the end" and "nothing at all". Every wait is bounded.
 */
import { performance } from 'node:perf_hooks';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode, type FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { within } from './async.js';

/** Default bound for any wait in these helpers. */
export const LIVE_TIMEOUT_MS = 5_000;

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface SocketOptions {
  /** `name=value` sent as the Cookie header of the upgrade request. */
  cookie?: string | undefined;
  /** Sent as `connectionParams: { authorization: 'Bearer <token>' }`. */
  token?: string | undefined;
  /** Sent as the Origin header of the upgrade request; none by default (a non-browser client). */
  origin?: string | undefined;
  /** Replaces the connection params built from `token`. */
  connectionParams?: Record<string, unknown>;
}

export interface LiveSocket {
  client: Client;
  /** Resolves when the server acknowledges `connection_init`; rejects if the socket closes first. */
  connected: Promise<void>;
  /** How the (first) socket closed, whoever closed it. */
  closed: Promise<CloseInfo>;
  /** The close once it has happened; undefined while the socket is open. */
  readonly closeInfo: CloseInfo | undefined;
  /** The close, or a rejection after `ms`. */
  closedWithin(ms?: number): Promise<CloseInfo>;
  /** Closes from the client side (if still open) and waits for the close. */
  dispose(): Promise<void>;
}

/** The `ws` URL of the server's GraphQL endpoint. */
export function webSocketUrl(server: { url: string }): string {
  return `${server.url.replace(/^http/, 'ws')}/graphql`;
}

/**
 * A graphql-ws client on one real socket (`lazy: false`, no retries: a server close is final and
 * observable). Authenticated by the cookie on the upgrade and/or a bearer token in
 * `connectionParams`.
 */
export function openSocket(server: { url: string }, options: SocketOptions = {}): LiveSocket {
  let resolveClosed!: (info: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((resolve) => (resolveClosed = resolve));
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.origin) headers.origin = options.origin;

  class AuthenticatedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
      this.once('close', (code: number, reason: Buffer) => resolveClosed({ code, reason: reason.toString('utf8') }));
      // Upgrade refusals surface as 'error' then 'close' (1006); the close is what tests read.
      this.on('error', () => {});
    }
  }

  const connectionParams =
    options.connectionParams ?? (options.token ? { authorization: `Bearer ${options.token}` } : undefined);
  let resolveConnected!: () => void;
  let rejectConnected!: (error: Error) => void;
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  connected.catch(() => {}); // tests that expect a refusal need not await it
  void closed.then((info) =>
    rejectConnected(new Error(`socket closed before connection_ack: ${info.code} ${info.reason}`)),
  );

  const client = createClient({
    url: webSocketUrl(server),
    webSocketImpl: AuthenticatedWebSocket,
    ...(connectionParams ? { connectionParams } : {}),
    lazy: false,
    retryAttempts: 0,
    // A fatal close is reported through `closed`; graphql-ws would otherwise print it.
    onNonLazyError: () => {},
    on: { connected: () => resolveConnected() },
  });

  let closeInfo: CloseInfo | undefined;
  void closed.then((info) => (closeInfo = info));
  return {
    client,
    connected,
    closed,
    get closeInfo() {
      return closeInfo;
    },
    closedWithin: (ms = LIVE_TIMEOUT_MS) => within(closed, ms, 'the socket to close'),
    async dispose() {
      await client.dispose();
      await within(closed, LIVE_TIMEOUT_MS, 'the socket to close after dispose').catch(() => {});
    },
  };
}

/** How a subscription ended. */
export interface SubscriptionEnd {
  /** `complete` (WebSocket complete message, or SSE `complete` event/end of stream) or `error`. */
  how: 'complete' | 'error';
  /** For `error`: what the transport reported (GraphQL errors, a close event, a network error). */
  error?: unknown;
}

/** What a live subscription has received so far, and how it ended. */
export interface LiveSubscription<TData = Record<string, unknown>> {
  /** Every `next` payload, in order. */
  events: Array<FormattedExecutionResult<TData, unknown>>;
  /** `performance.now()` at each event's arrival. */
  arrivals: number[];
  /** Undefined while running. */
  end: SubscriptionEnd | undefined;
  /** `performance.now()` at the end. */
  endedAt: number | undefined;
  /** Resolves with the end; rejects when it has not come within `ms`. */
  ended(ms?: number): Promise<SubscriptionEnd>;
  /** Resolves once `count` events have arrived (or rejects after `ms`). */
  received(count: number, ms?: number): Promise<Array<FormattedExecutionResult<TData, unknown>>>;
  /** Stops it from the client side. */
  dispose(): void;
}

/** The bookkeeping shared by both transports. */
function recorder<TData>(dispose: () => void) {
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const until = <T>(check: () => T | undefined, ms: number, what: string): Promise<T> => {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    let waiter!: () => void;
    const promise = new Promise<T>((resolve) => {
      waiter = () => {
        const value = check();
        if (value !== undefined) resolve(value);
      };
      waiters.add(waiter);
    });
    return within(promise, ms, what).finally(() => waiters.delete(waiter));
  };
  const subscription: LiveSubscription<TData> = {
    events: [],
    arrivals: [],
    end: undefined,
    endedAt: undefined,
    ended: (ms = LIVE_TIMEOUT_MS) => until(() => subscription.end, ms, 'the subscription to end'),
    received: (count, ms = LIVE_TIMEOUT_MS) =>
      until(
        () => (subscription.events.length >= count ? subscription.events : undefined),
        ms,
        `${count} event(s) (have ${subscription.events.length})`,
      ),
    dispose,
  };
  return {
    subscription,
    next(payload: FormattedExecutionResult<TData, unknown>) {
      if (subscription.end) return;
      subscription.events.push(payload);
      subscription.arrivals.push(performance.now());
      notify();
    },
    finish(end: SubscriptionEnd) {
      if (subscription.end) return;
      subscription.end = end;
      subscription.endedAt = performance.now();
      notify();
    },
  };
}

/**
 * A generated document (its data type comes with it), or a hand-written query string (data type
 * given, or a loose record).
 */
export type LiveDocument<TData, TVariables> = TypedDocumentNode<TData, TVariables> | string;

const queryText = (document: DocumentNode | string) => (typeof document === 'string' ? document : print(document));

/** Subscribes (or queries) over the socket and records every event until complete or error. */
export function subscribeWs<TData = Record<string, unknown>, TVariables = Record<string, unknown>>(
  client: Client,
  document: LiveDocument<TData, TVariables>,
  variables?: TVariables,
): LiveSubscription<TData> {
  let unsubscribe = () => {};
  const record = recorder<TData>(() => unsubscribe());
  unsubscribe = client.subscribe<TData>(
    { query: queryText(document), ...(variables ? { variables: variables as Record<string, unknown> } : {}) },
    {
      next: (payload) => record.next(payload),
      error: (error) => record.finish({ how: 'error', error }),
      complete: () => record.finish({ how: 'complete' }),
    },
  );
  return record.subscription;
}

export interface SseOptions<TVariables = Record<string, unknown>> {
  cookie?: string | undefined;
  token?: string | undefined;
  variables?: TVariables;
  /** POST (default) sends a JSON body; GET puts the operation in the query string. */
  method?: 'GET' | 'POST';
}

export interface SseSubscription<TData = Record<string, unknown>> extends LiveSubscription<TData> {
  /** Resolves with the HTTP status once the response headers arrive and the stream has begun. */
  opened: Promise<number>;
  /** The response's Content-Type, once known. */
  contentType: string | undefined;
}

/**
 * A GraphQL subscription over Server-Sent Events, read incrementally from the fetch body: `next`
 * events are recorded as they arrive; a `complete` event or the end of the stream ends it. A
 * response that is not an event stream (an HTTP error) is recorded as one payload, then the end.
 */
export function subscribeSse<TData = Record<string, unknown>, TVariables = Record<string, unknown>>(
  server: { url: string },
  document: LiveDocument<TData, TVariables>,
  options: SseOptions<TVariables> = {},
): SseSubscription<TData> {
  const url = `${server.url}/graphql`;
  const query = queryText(document);
  const abort = new AbortController();
  const record = recorder<TData>(() => abort.abort());
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let target = url;
  let body: string | undefined;
  if (options.method === 'GET') {
    const params = new URLSearchParams({ query });
    if (options.variables) params.set('variables', JSON.stringify(options.variables));
    target = `${url}?${params.toString()}`;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ query, ...(options.variables ? { variables: options.variables } : {}) });
  }

  let resolveOpened!: (status: number) => void;
  let rejectOpened!: (error: unknown) => void;
  const opened = new Promise<number>((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  opened.catch(() => {});
  const subscription = record.subscription as SseSubscription<TData>;
  subscription.opened = opened;
  subscription.contentType = undefined;

  void (async () => {
    let completed = false;
    try {
      const response = await fetch(target, {
        method: options.method ?? 'POST',
        headers,
        ...(body === undefined ? {} : { body }),
        signal: abort.signal,
      });
      subscription.contentType = response.headers.get('content-type') ?? undefined;
      if (!subscription.contentType?.startsWith('text/event-stream') || !response.body) {
        resolveOpened(response.status);
        const text = await response.text();
        record.next(JSON.parse(text) as FormattedExecutionResult<TData, unknown>);
        record.finish({ how: 'error', error: { status: response.status, body: text } });
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let first = true;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (first) {
          // Yoga writes a comment (`:`) as soon as the stream starts.
          first = false;
          resolveOpened(response.status);
        }
        buffer += value;
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const fieldValue = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = fieldValue;
            else if (field === 'data') data.push(fieldValue);
          }
          if (event === 'next') record.next(JSON.parse(data.join('\n')) as FormattedExecutionResult<TData, unknown>);
          else if (event === 'complete') completed = true;
        }
      }
      resolveOpened(response.status);
      record.finish(
        completed ? { how: 'complete' } : { how: 'error', error: new Error('stream ended without complete') },
      );
    } catch (error) {
      rejectOpened(error);
      record.finish({ how: 'error', error });
    }
  })();
  return subscription;
}

/** The outcome of a raw WebSocket upgrade attempt. */
export type UpgradeOutcome = { accepted: true; socket: WebSocket } | { accepted: false; status: number };

/**
 * A bare upgrade to the GraphQL endpoint with the given headers (no graphql-ws client): resolves
 * with the open socket, or with the HTTP status of the refusal.
 */
export function tryUpgrade(
  server: { url: string },
  headers: Record<string, string>,
  protocol = 'graphql-transport-ws',
): Promise<UpgradeOutcome> {
  return within(
    new Promise<UpgradeOutcome>((resolve, reject) => {
      const socket = new WebSocket(webSocketUrl(server), protocol, { headers });
      socket.once('open', () => resolve({ accepted: true, socket }));
      socket.once('unexpected-response', (request, response) => {
        resolve({ accepted: false, status: response.statusCode ?? 0 });
        response.resume();
        request.destroy();
      });
      socket.once('error', reject);
      socket.on('error', () => {});
    }),
    LIVE_TIMEOUT_MS,
    'the upgrade',
  );
}

/** The close of a raw socket, with when it happened. */
export function rawClose(socket: WebSocket): Promise<CloseInfo & { at: number }> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) {
      resolve({ code: 1006, reason: 'already closed', at: performance.now() });
      return;
    }
    socket.once('close', (code: number, reason: Buffer) =>
      resolve({ code, reason: reason.toString('utf8'), at: performance.now() }),
    );
  });
}
