/**
 * The one graphql-ws socket of one signed-in session: its subscriptions, and the
 * `sessionRevoked` watch that tells the client the session ended.
 *
 * The rules (docs/front-ends.md, "graphql-ws: open the socket after login" and "what happens
 * after 4403"), and how this keeps them:
 * - A socket is signed in once, when it opens, by the cookie on the upgrade. So a
 *   SessionSocket is made only once a login is done, serves that session only, and is disposed
 *   when it ends; the next login makes a new one.
 * - One socket per client: every subscription of the session shares this graphql-ws client,
 *   which is lazy (graphql-ws's default): it connects for the first subscription and closes
 *   after the last one.
 * - The cookie is asked about over HTTP before the socket connects: before it first opens (the
 *   state may be old), before each of graphql-ws's retries, and before reopening after it closed
 *   or the watch gave up. If it no longer holds the session,
 *   that is the end (reason null: an ended session's cookie cannot say why), and no socket opens.
 * - Never retried after 4403: the session is over, and a new socket would be anonymous.
 *   `shouldRetry` refuses that close, and the end disposes the client, releasing every
 *   subscription first so that a retry still waiting is refused too. Other closes (a network
 *   blip) are retried 3 times; when they fail, the watch is taken up again after a back-off
 *   (the cookie asked first), for as long as something holds the socket.
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

/**
 * graphql-ws's dispose awaits the connection under way, and rejects when that attempt fails:
 * nothing is left to close then, and an unhandled rejection would end a Node process.
 */
const disposeQuietly = (client: SocketClient) => void Promise.resolve(client.dispose()).catch(() => {});

/** Whether the cookie still holds this socket's session; rejects when Gatehouse cannot be reached. */
export type SessionCheck = () => Promise<boolean>;

/** graphql-ws's own wait before retry `n` (0, 1, 2): 2^n s and 0.3–3 s at random. */
const retryDelayMs = (retries: number) => 2 ** retries * 1_000 + 300 + Math.random() * 2_700;

/** The wait before taking the watch up again after graphql-ws gave up: doubling from 2 s to 1 min. */
const rewatchDelayMs = (attempt: number) => Math.min(60_000, 2 ** (attempt + 1) * 1_000);

export class SessionSocket {
  /** Replaced when graphql-ws gives up: a client that gave up retries no more (its count never resets). */
  private socket: SocketClient;
  private users = 0;
  private stopWatch: (() => void) | undefined;
  /**
   * Every graphql-ws subscription still running (the watch's too): its release, called when
   * disposed, and what tells its caller of the end.
   */
  private readonly running = new Map<() => void, (() => void) | undefined>();
  /**
   * True from an answer that the cookie holds the session until the socket closes: the socket
   * may open without asking again. False at first too: a signed-in state may be old (the session
   * ended while nothing held a socket), and a socket on an ended session's cookie is anonymous.
   */
  private checked = false;
  private checking: Promise<boolean> | undefined;
  private rewatchTimer: ReturnType<typeof setTimeout> | undefined;
  private rewatchAttempts = 0;
  private ended = false;

  constructor(
    /** The `ws:`/`wss:` URL of /graphql. */
    private readonly url: string,
    private readonly webSocketImpl: unknown,
    private readonly stillSignedIn: SessionCheck,
    private readonly onEnded: EndListener,
  ) {
    this.socket = this.socketClient();
  }

  private socketClient(): SocketClient {
    const { url, webSocketImpl } = this;
    return createClient({
      url,
      ...(webSocketImpl === undefined ? {} : { webSocketImpl }),
      lazy: true,
      retryAttempts: 3,
      retryWait: async (retries) => {
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries)));
        // Gatehouse unreachable over HTTP too: let the socket try (and count as a retry).
        await this.check().catch(() => {});
      },
      shouldRetry: (event) => !isSessionEnd(event),
      on: {
        connected: () => (this.rewatchAttempts = 0),
        closed: (event) => {
          this.checked = false;
          if (isSessionEnd(event)) this.end(reasonOfClose(event), null);
        },
      },
    });
  }

  /**
   * Holds the socket open with the watch on it until the returned function is called (each
   * subscription holds it, and the client while it has `onSessionEnded` listeners).
   */
  use(): () => void {
    if (this.ended) return () => {};
    this.users++;
    this.stopWatch ??= this.whenChecked(() => this.watch());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.users > 0) return;
      this.stopWatch?.();
      this.stopWatch = undefined;
      clearTimeout(this.rewatchTimer);
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
    // Told once: the end below, or graphql-ws's own error or completion, whichever comes first.
    let finished = false;
    const finish = (tell: () => void) => {
      if (finished) return;
      finished = true;
      release();
      tell();
    };
    const unsubscribe = this.whenChecked(() =>
      this.track(
        this.socket.subscribe<Data>(
          { query: String(document), variables: (variables ?? {}) as Record<string, unknown> },
          {
            next: ({ data, errors }) =>
              errors?.length ? sink.error?.(GatehouseError.fromErrors(errors)) : sink.next(data as Data),
            error: (error) => finish(() => sink.error?.(socketError(error))),
            complete: () => finish(() => sink.complete?.()),
          },
        ),
        () => finish(() => sink.error?.(new GatehouseError('SESSION_ENDED', 'The session ended'))),
      ),
    );
    return () => {
      finished = true;
      unsubscribe();
      release();
    };
  }

  /** Closes the socket for good without reporting an end (a logout, or a login that replaces this session). */
  dispose(): void {
    this.ended = true;
    clearTimeout(this.rewatchTimer);
    // Released first: a retry waiting in graphql-ws finds no subscription left and does not connect.
    for (const release of [...this.running.keys()]) release();
    disposeQuietly(this.socket);
  }

  /**
   * Runs `start` (a graphql-ws subscription) now if the cookie is known to hold the session,
   * else once it is found to; the session found gone is the end. Returns the stop, which also
   * cancels a start still waiting.
   */
  private whenChecked(start: () => () => void): () => void {
    if (this.checked) return start();
    let stop: (() => void) | undefined;
    let cancelled = false;
    this.check().then(
      (held) => {
        if (held && !cancelled && !this.ended) stop = start();
      },
      // Unreachable: start anyway, and graphql-ws's retries (each asking again) take it from there.
      () => {
        if (!cancelled && !this.ended) stop = start();
      },
    );
    return () => {
      cancelled = true;
      stop?.();
    };
  }

  /** Asks once at a time whether the cookie still holds the session; found gone, that is the end. */
  private check(): Promise<boolean> {
    this.checking ??= this.stillSignedIn()
      .then((held) => {
        if (held) this.checked = true;
        else this.end(null, null);
        return held;
      })
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** Keeps `unsubscribe` among those {@link dispose} releases (and `tellEnd` for {@link end}); returns it, untracking itself. */
  private track(unsubscribe: () => void, tellEnd?: () => void): () => void {
    const release = () => {
      this.running.delete(release);
      unsubscribe();
    };
    this.running.set(release, tellEnd);
    return release;
  }

  private watch(): () => void {
    return this.track(
      this.socket.subscribe(
        { query: String(SESSION_REVOKED) },
        {
          next: ({ data, errors }) => {
            const event = (data as { sessionRevoked?: { reason: SessionEndReason; at: string } } | null)
              ?.sessionRevoked;
            if (event) this.end(event.reason, event.at);
            // Refused as anonymous: the session ended between the check and the upgrade.
            else if (errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) this.end(null, null);
          },
          error: (error) => {
            if (isSessionEnd(error)) this.end(reasonOfClose(error), null);
            else this.watchAgainLater();
          },
          complete: () => {},
        },
      ),
    );
  }

  /** graphql-ws gave up on the network: take the watch up again after a back-off, while still used. */
  private watchAgainLater(): void {
    this.stopWatch = undefined;
    this.checked = false;
    // Every subscription on it has had this error: nothing is left on the client that gave up.
    disposeQuietly(this.socket);
    this.socket = this.socketClient();
    clearTimeout(this.rewatchTimer);
    this.rewatchTimer = setTimeout(() => {
      if (this.ended || this.users === 0 || this.stopWatch) return;
      this.rewatchAttempts++;
      this.stopWatch = this.whenChecked(() => this.watch());
    }, rewatchDelayMs(this.rewatchAttempts));
  }

  private end(reason: SessionEndReason | null, at: string | null): void {
    if (this.ended) return;
    const tellEnds = [...this.running.values()];
    this.dispose();
    for (const tellEnd of tellEnds) tellEnd?.();
    this.onEnded(reason, at);
  }
}
