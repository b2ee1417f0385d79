import type { IncomingMessage } from 'node:http';
import {
  CloseCode,
  handleProtocols,
  type Server as ProtocolServer,
  type WebSocket as ProtocolSocket,
} from 'graphql-ws';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/** graphql-ws's own keep-alive: a ping every 12 s. */
export const DEFAULT_KEEP_ALIVE_MS = 12_000;

export interface GraphQLWsAdapterOptions<E> {
  /** Largest message accepted, in bytes; larger ones close the socket with 1009. Required. */
  maxPayload: number;
  /**
   * How often every socket is pinged. A socket that has not answered one ping by the next is
   * terminated, so a dead peer goes within two intervals; 0 turns keep-alive off. Default
   * {@link DEFAULT_KEEP_ALIVE_MS} (12 000 ms), graphql-ws's own.
   */
  keepAliveMs?: number;
  /**
   * What the protocol server's hooks get as `ctx.extra` for a new socket. Called once, at the
   * upgrade; keep it small, it lives as long as the socket. Required.
   */
  extraOf(socket: WebSocket, request: IncomingMessage): E;
}

export interface GraphQLWsAdapter {
  /** The `ws` server: hand it upgrades with `handleUpgrade`, then emit `connection`. */
  readonly wss: WebSocketServer;
  /** Closes every socket with `code` and `reason`, and stops the keep-alive timer. */
  close(code: number, reason: string): Promise<void>;
}

/**
 * graphql-ws's protocol core (`makeServer`) served on `ws`, like graphql-ws's own `use/ws` but
 * lighter per socket, because thousands of idle sockets are the normal load of a session
 * service: one keep-alive timer for all sockets instead of a timer (and a pong listener per ping)
 * for each, the socket's transport as one object with methods rather than closures, and nothing
 * of the upgrade request kept beyond what `extraOf` takes from it. permessage-deflate stays off:
 * messages here are small, and its zlib context would cost tens of KB per socket.
 */
export function serveGraphQLWs<E>(protocol: ProtocolServer<E>, options: GraphQLWsAdapterOptions<E>): GraphQLWsAdapter {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload,
    perMessageDeflate: false,
    handleProtocols,
  });
  const keepAlive = startKeepAlive(wss, options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.once('error', closeOnError);
    keepAlive.track(socket);
    const transport = new Transport(socket);
    const closed = protocol.opened(transport, options.extraOf(socket, request));
    socket.once('close', (code: number, reason: Buffer) => void closed(code, reason.toString()));
  });
  return {
    wss,
    async close(code, reason) {
      keepAlive.stop();
      for (const client of wss.clients) client.close(code, reason);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A socket failed underneath (a protocol violation, a reset): close it, as `use/ws` does. */
function closeOnError(this: WebSocket): void {
  this.close(CloseCode.InternalServerError, 'Internal server error');
}

/** What the protocol core sees of one socket. Methods, not closures: one object per socket. */
class Transport implements ProtocolSocket {
  constructor(private readonly socket: WebSocket) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  /** Resolves once written, so the core sends a subscription's messages in order. */
  send(data: string): Promise<void> | void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    return new Promise((resolve, reject) => this.socket.send(data, (error) => (error ? reject(error) : resolve())));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.socket.on('message', (data: RawData) => void this.receive(handle, data));
  }

  private async receive(handle: (data: string) => Promise<void>, data: RawData): Promise<void> {
    try {
      await handle(String(data));
    } catch {
      // The core throws only on a message type it does not know: the client broke the protocol.
      this.socket.close(CloseCode.InternalServerError, 'Internal server error');
    }
  }
}

/**
 * One timer pings every open socket each `intervalMs`; a socket still owing the previous pong
 * is terminated. Pongs are recorded by one shared listener.
 */
function startKeepAlive(wss: WebSocketServer, intervalMs: number) {
  const owing = new WeakSet<WebSocket>();
  function answered(this: WebSocket): void {
    owing.delete(this);
  }
  const timer =
    intervalMs > 0 && Number.isFinite(intervalMs)
      ? setInterval(() => {
          for (const socket of wss.clients) {
            if (socket.readyState !== socket.OPEN) continue;
            if (owing.has(socket)) socket.terminate();
            else {
              owing.add(socket);
              socket.ping();
            }
          }
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    track: (socket: WebSocket) => void socket.on('pong', answered),
    stop: () => clearInterval(timer),
  };
}
