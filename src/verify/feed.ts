import { performance } from 'node:perf_hooks';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlUrl } from './remote.js';
import { TRUST_DEADLINE_MS, type FeedTrust } from './trust.js';
import type { VerifierLogger } from './types.js';

const SESSION_END_FEED = 'subscription { sessionEndFeed { type sessionId userId reason at proofAgeMs } }';

/** A new connection has this long to deliver its first heartbeat (handshake and authentication included). */
export const CONNECT_TIMEOUT_MS = 3_000;
/** Reconnection backoff: the first delay, doubled per failure up to the last. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 5_000;
/** After the service token is refused (revoked: 4403; unknown: 4401), retries are this slow: a new token is needed. */
export const REFUSED_RETRY_MS = 30_000;
/**
 * A ping goes this long after the previous pong: a heartbeat counts from the send time of the
 * newest answered ping (trust.ts), so this, plus a round trip, is trust given up per heartbeat.
 * Half of Gatehouse's heartbeat interval (250 ms) leaves room for a proof age of a few hundred ms.
 */
export const PING_INTERVAL_MS = 125;
/** How graphql-ws writes a ping (a `{ type: 'ping' }` message with no payload). */
const PING_MESSAGE = '{"type":"ping"}';
/** graphql-ws close codes of a refused service token: unknown (4401) or revoked (4403). */
const REFUSED_CLOSE_CODES: ReadonlySet<number | undefined> = new Set([4401, 4403]);

interface FeedEvent {
  type: 'ENDED' | 'HEARTBEAT';
  sessionId: string | null;
  proofAgeMs: number | null;
}

/** What the feed tells the cache: a session ended. Heartbeats and failures go to the trust. */
export type EndListener = (sessionId: string) => void;

/** The WebSocket of one connection attempt, so that a hung one can be dropped on the spot. */
type SocketHolder = { socket?: WebSocket };

/**
 * `sessionEndFeed` over graphql-ws, kept open for as long as the verifier lives. Its rules:
 * - every message is handled in arrival order, synchronously: an `ENDED` reaches the cache before
 *   the heartbeat that proves it, and a pong reaches the trust before the heartbeats behind it;
 * - a ping goes on connecting and then every {@link PING_INTERVAL_MS} on the same socket, its time
 *   taken before it is written: heartbeats count from it, not from their arrival (trust.ts);
 * - a connection that is silent past its deadline (the trust deadline once proven, a connect
 *   timeout before) is dropped at once and replaced: a proxy that stops forwarding without closing
 *   must not leave the verifier waiting on a dead socket (a closing handshake would wait on it
 *   too, so the socket is terminated, not closed);
 * - any end of a connection (closed, failed, completed, silent) ends trust first, then reconnects
 *   with backoff; a refused service token (4401, 4403) retries only every {@link REFUSED_RETRY_MS};
 * - callbacks of a connection already given up are ignored ({@link attempt}).
 */
export class EndFeed {
  private readonly url: string;
  /** Moves with every connection attempt and every give-up: a callback of another attempt is stale. */
  private attempt = 0;
  private failures = 0;
  private refusalLogged = false;
  private timer: NodeJS.Timeout | undefined;
  private client: Client | undefined;
  private holder: SocketHolder = {};
  /** `performance.now()` of the latest heartbeat, or of the attempt's start before its first. */
  private lastHeartbeatAt = 0;
  private proven = false;
  private closed = false;

  constructor(
    baseUrl: string,
    private readonly serviceToken: string,
    private readonly trust: FeedTrust,
    private readonly onEnded: EndListener,
    private readonly logger: VerifierLogger,
  ) {
    const url = graphqlUrl(baseUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = url.toString();
  }

  start(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    this.giveUp();
    this.trust.stop();
  }

  private open(): void {
    const attempt = ++this.attempt;
    const holder: SocketHolder = (this.holder = {});
    this.lastHeartbeatAt = performance.now();
    this.proven = false;
    const current = () => attempt === this.attempt;
    this.client = createClient({
      url: this.url,
      webSocketImpl: pingTimingSocket(holder, () => current() && this.trust.pingSent()),
      connectionParams: { authorization: `Bearer ${this.serviceToken}` },
      retryAttempts: 0,
      keepAlive: PING_INTERVAL_MS,
      on: {
        closed: (event) => current() && this.failed(describeClose(event), closeCode(event)),
        // A ping at once, ahead of the subscription: its pong comes before the first heartbeat, which then counts.
        connected: (socket) => current() && (socket as WebSocket).send(PING_MESSAGE),
        pong: (received) => received && current() && this.trust.pongReceived(),
      },
    });
    this.client.subscribe<{ sessionEndFeed: FeedEvent }>(
      { query: SESSION_END_FEED },
      {
        next: (result) => current() && this.receive(result),
        error: (error) => current() && this.failed(describeClose(error), closeCode(error)),
        complete: () => current() && this.failed('Gatehouse ended the feed'),
      },
    );
    this.arm(CONNECT_TIMEOUT_MS);
  }

  private receive(result: FormattedExecutionResult<{ sessionEndFeed: FeedEvent }, unknown>): void {
    const event = result.data?.sessionEndFeed;
    if (result.errors?.length || !event) {
      return this.failed(`the feed answered an error: ${result.errors?.[0]?.message ?? 'no event'}`);
    }
    if (event.type === 'ENDED' && event.sessionId) return this.onEnded(event.sessionId);
    if (event.type !== 'HEARTBEAT' || typeof event.proofAgeMs !== 'number') return;
    this.trust.heartbeat(event.proofAgeMs);
    this.lastHeartbeatAt = performance.now();
    this.proven = true;
    this.failures = 0;
    this.refusalLogged = false;
    this.arm(Math.min(TRUST_DEADLINE_MS, this.trust.remainingMs));
  }

  /** Wakes up when trust would lapse or the connection would be silent too long, whichever is first. */
  private arm(ms: number): void {
    clearTimeout(this.timer);
    const attempt = this.attempt;
    this.timer = setTimeout(() => attempt === this.attempt && this.watch(), Math.max(0, ms));
    this.timer.unref();
  }

  private watch(): void {
    // Notices a lapse now (one log line, the cache emptied) rather than at the next request.
    const trusted = this.trust.check();
    const silentMs = performance.now() - this.lastHeartbeatAt;
    const limit = this.proven ? TRUST_DEADLINE_MS : CONNECT_TIMEOUT_MS;
    if (silentMs >= limit) return this.failed(`no heartbeat for ${Math.round(silentMs)} ms`);
    this.arm(trusted ? Math.min(limit - silentMs, this.trust.remainingMs) : limit - silentMs);
  }

  private failed(reason: string, code?: number): void {
    this.giveUp();
    this.trust.end(reason);
    if (this.closed) return;
    let delayMs: number;
    if (REFUSED_CLOSE_CODES.has(code)) {
      if (!this.refusalLogged) {
        this.logger.error(
          `gatehouse/verify: Gatehouse refused the service token on the session-end feed (${reason}): ` +
            `retrying every ${REFUSED_RETRY_MS / 1000} s; checks fail (503) until a valid token is configured`,
        );
      }
      this.refusalLogged = true;
      delayMs = REFUSED_RETRY_MS;
    } else {
      delayMs = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.failures++);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delayMs);
    this.timer.unref();
  }

  /** Drops the current connection at once; whatever it still reports is ignored. */
  private giveUp(): void {
    this.attempt++;
    clearTimeout(this.timer);
    this.holder.socket?.terminate();
    void Promise.resolve(this.client?.dispose()).catch(() => undefined);
    this.client = undefined;
  }
}

/**
 * The WebSocket class graphql-ws opens: it keeps each socket in `holder` (to drop a hung one at
 * once) and calls `pinging` just before a ping is written, so that its time precedes its arrival.
 */
function pingTimingSocket(holder: SocketHolder, pinging: () => void) {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      holder.socket = this;
    }

    override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
      if (data === PING_MESSAGE) pinging();
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  };
}

function closeCode(event: unknown): number | undefined {
  const code = (event as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function describeClose(event: unknown): string {
  const code = closeCode(event);
  if (code !== undefined) {
    const reason = (event as { reason?: unknown }).reason;
    return `the feed closed with ${code}${typeof reason === 'string' && reason !== '' ? ` ${reason}` : ''}`;
  }
  return `the feed failed: ${event instanceof Error ? event.message : String(event)}`;
}
