/**
 * The one graphql-ws socket of one signed-in session: its subscriptions, and the
 * `sessionRevoked` watch that tells the client the session ended.
 *
 * The rules (docs/front-ends.md, "graphql-ws: open the socket after login" and "what happens
 * after 4403"), and how this keeps them:
 * - A socket is signed in once, when it opens, by the cookie on the upgrade. So a
 *   SessionSocket is made only once a login is done, serves that session only, and is disposed
 *   when it ends; the next login makes a new one. No socket is ever opened without a session.
 * - One socket per client: every subscription of the session shares this graphql-ws client,
 *   which is lazy (graphql-ws's default): it connects for the first subscription and closes
 *   after the last one.
 * - Never retried after 4403: the session is over, and a new socket would be anonymous.
 *   `shouldRetry` refuses that close, and the end disposes the client, so nothing is left that
 *   could reconnect. Other closes (a network blip) are retried a few times with the cookie,
 *   which still holds the session; if the session ended meanwhile, the watch is refused as
 *   UNAUTHENTICATED on the new socket, and that too is taken as the end.
 * - While anything uses the socket, it also carries the `sessionRevoked` watch, so the client
 *   hears of the end whatever else is subscribed. The event says why; a 4403 close says it too
 *   (`Session ended: KICKED`) when it arrives first. Either way the end is reported once.
 */
import { createClient, type Client as SocketClient } from 'graphql-ws/client';
import { GatehouseError, type GraphQLErrorBody } from './errors.js';
import type { SessionEndReason } from './generated.js';
import type { TypedDocument } from './http.js';
import { SESSION_REVOKED } from './operations.js';

/** The close code of a socket whose session ended; the reason reads `Session ended: <REASON>`. */
export const SESSION_ENDED_CLOSE_CODE = 4403;

/** What a subscription's caller gets: each result's data, then an error or the end. */
export interface Sink<Data> {
  next(data: Data): void;
  /** A {@link GatehouseError}: Gatehouse's code, `SESSION_ENDED`, or `NETWORK_ERROR`. */
  error?(error: GatehouseError): void;
  complete?(): void;
}

/** How the session ended, as far as the socket learnt: the reason (null when unknown) and when. */
export type EndListener = (reason: SessionEndReason | null, at: string | null) => void;

interface CloseLike {
  code: number;
  reason: string;
}

const isClose = (value: unknown): value is CloseLike =>
  typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;

const isSessionEnd = (value: unknown): value is CloseLike => isClose(value) && value.code === SESSION_ENDED_CLOSE_CODE;

const reasonOfClose = (close: CloseLike) =>
  (/^Session ended: ([A-Z_]+)$/.exec(close.reason)?.[1] as SessionEndReason | undefined) ?? null;

/** A transport failure as the client reports it. */
function socketError(error: unknown): GatehouseError {
  if (Array.isArray(error)) return GatehouseError.fromErrors(error as GraphQLErrorBody[]);
  if (isSessionEnd(error)) return new GatehouseError('SESSION_ENDED', `The session ended: ${error.reason}`);
  const detail = isClose(error) ? `closed ${error.code} ${error.reason}` : String(error);
  return new GatehouseError('NETWORK_ERROR', `The socket to Gatehouse failed: ${detail}`);
}

export class SessionSocket {
  private readonly socket: SocketClient;
  private users = 0;
  private stopWatch: (() => void) | undefined;
  private ended = false;

  constructor(
    /** The `ws:`/`wss:` URL of /graphql. */
    url: string,
    webSocketImpl: unknown,
    private readonly onEnded: EndListener,
  ) {
    this.socket = createClient({
      url,
      ...(webSocketImpl === undefined ? {} : { webSocketImpl }),
      lazy: true,
      retryAttempts: 3,
      shouldRetry: (event) => !isSessionEnd(event),
      on: { closed: (event) => isSessionEnd(event) && this.end(reasonOfClose(event), null) },
    });
  }

  /**
   * Holds the socket open with the watch on it until the returned function is called (each
   * subscription holds it, and the client while it has `onSessionEnded` listeners).
   */
  use(): () => void {
    if (this.ended) return () => {};
    this.users++;
    this.stopWatch ??= this.watch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.users > 0) return;
      this.stopWatch?.();
      this.stopWatch = undefined;
    };
  }

  /** Subscribes on this session's socket; returns the unsubscribe. */
  subscribe<Data, Variables>(
    document: TypedDocument<Data, Variables>,
    variables: Variables | undefined,
    sink: Sink<Data>,
  ): () => void {
    if (this.ended) {
      sink.error?.(new GatehouseError('SESSION_ENDED', 'The session ended'));
      return () => {};
    }
    const release = this.use();
    const unsubscribe = this.socket.subscribe<Data>(
      { query: String(document), variables: (variables ?? {}) as Record<string, unknown> },
      {
        next: ({ data, errors }) =>
          errors?.length ? sink.error?.(GatehouseError.fromErrors(errors)) : sink.next(data as Data),
        error: (error) => {
          release();
          sink.error?.(socketError(error));
        },
        complete: () => {
          release();
          sink.complete?.();
        },
      },
    );
    return () => {
      unsubscribe();
      release();
    };
  }

  /** Closes the socket for good without reporting an end (a logout, or a login that replaces this session). */
  dispose(): void {
    this.ended = true;
    // graphql-ws's dispose awaits the connection under way, and rejects when that attempt fails:
    // nothing is left to close then, and an unhandled rejection would end a Node process.
    void Promise.resolve(this.socket.dispose()).catch(() => {});
  }

  private watch(): () => void {
    return this.socket.subscribe(
      { query: String(SESSION_REVOKED) },
      {
        next: ({ data, errors }) => {
          const event = (data as { sessionRevoked?: { reason: SessionEndReason; at: string } } | null)?.sessionRevoked;
          if (event) this.end(event.reason, event.at);
          // Refused as anonymous: the socket reconnected after the session had already ended.
          else if (errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) this.end(null, null);
        },
        error: (error) => {
          if (isSessionEnd(error)) this.end(reasonOfClose(error), null);
          // Gave up on the network: watch again with the next use.
          else this.stopWatch = undefined;
        },
        complete: () => {},
      },
    );
  }

  private end(reason: SessionEndReason | null, at: string | null): void {
    if (this.ended) return;
    this.dispose();
    this.onEnded(reason, at);
  }
}
