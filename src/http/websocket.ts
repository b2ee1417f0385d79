import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import type { OperationResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { Logger } from '../logger.js';
import type { Metrics } from './metrics.js';
import type { SessionService } from '../sessions/service.js';
import type { Viewer } from '../sessions/types.js';
import { clientIp } from './client-ip.js';
import type { CredentialHeaders, ViewerResolver } from './viewer.js';
import type { GatehouseYoga, TransportContext } from './yoga.js';

/** Close code when the session behind a socket ends: 4403, like HTTP 403, with the reason in the close frame. */
export const SESSION_ENDED_CLOSE_CODE = 4403;

export interface WebSocketOptions {
  server: Server;
  yoga: GatehouseYoga;
  resolveViewer: ViewerResolver;
  watcher: SessionEndWatcher;
  sessions: SessionService;
  metrics: Metrics;
  logger: Logger;
  allowedOrigins: readonly string[];
  trustProxy: boolean;
  /** Largest message accepted, in bytes. */
  maxPayloadBytes?: number;
  /** A socket that sends no `connection_init` within this time is closed. */
  connectionInitWaitTimeoutMs?: number;
}

/**
 * A browser always sends `Origin` on a WebSocket upgrade, and cookies ride along even
 * cross-site; so an upgrade from a foreign page is refused (cross-site WebSocket hijacking).
 * Non-browser clients send no Origin and are allowed: they have no ambient cookies to abuse.
 */
function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  const host = req.headers.host;
  return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
}

function reject(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Credentials of a socket: the upgrade request's cookie, or a bearer token in `connectionParams`. */
function socketCredentials(
  request: IncomingMessage,
  connectionParams: Record<string, unknown> | undefined,
): CredentialHeaders {
  const param = connectionParams?.authorization ?? connectionParams?.Authorization;
  const token = connectionParams?.token;
  const authorization = typeof param === 'string' ? param : typeof token === 'string' ? `Bearer ${token}` : undefined;
  return { cookie: request.headers.cookie, authorization };
}

/** How long a socket whose session ended may take to answer operations already under way. */
const CLOSE_GRACE_MS = 1_000;

interface SocketState {
  viewer: Viewer | null;
  stopWatching?: () => void;
  /** Operations started and not yet completed. */
  operations: Set<string>;
  /** Set when the session ended: the socket closes once {@link operations} is empty. */
  pendingClose?: () => void;
}

/**
 * Closes the socket once every operation it started has answered (a `logout` sent over this
 * very socket gets its `true`), or after {@link CLOSE_GRACE_MS} at the latest.
 */
function closeWhenIdle(socket: WebSocket, state: SocketState, code: number, reason: string): void {
  const grace = setTimeout(() => socket.close(code, reason), CLOSE_GRACE_MS);
  grace.unref();
  state.pendingClose = () => {
    clearTimeout(grace);
    // graphql-ws sends `complete` right after onComplete returns: close on the next turn.
    setImmediate(() => socket.close(code, reason));
  };
  if (state.operations.size === 0) state.pendingClose();
}

function operationFinished(state: SocketState | undefined, id: string): void {
  if (!state) return;
  state.operations.delete(id);
  if (state.operations.size === 0) state.pendingClose?.();
}

/**
 * GraphQL over WebSocket (`graphql-transport-ws`) on the HTTP server's `/graphql` path, run
 * through Yoga's envelop so schema, context factory, error masking and plugins are the same as
 * for HTTP. A socket signed in by a session is closed with 4403 when that session ends.
 */
export function attachWebSocketServer(options: WebSocketOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 64 * 1024 });
  const states = new WeakMap<WebSocket, SocketState>();

  options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = req.url?.split('?', 1)[0];
    if (path !== '/graphql') return reject(socket, 404, 'Not Found');
    if (!originAllowed(req, options.allowedOrigins)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      options.metrics.openWebSockets++;
      ws.once('close', () => options.metrics.openWebSockets--);
      wss.emit('connection', ws, req);
    });
  });

  const disposable = useServer(
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3_000,
      execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const viewer = await options.resolveViewer(socketCredentials(request, ctx.connectionParams));
        const state: SocketState = { viewer, operations: new Set() };
        if (viewer) {
          const stopWatching = options.watcher.watch(viewer.session.id, {
            close: (event) =>
              closeWhenIdle(socket, state, SESSION_ENDED_CLOSE_CODE, `Session ended: ${event.reason ?? 'ENDED'}`),
          });
          const stopExpiryWatch = options.sessions.watchExpiry(viewer.session.id);
          state.stopWatching = () => {
            stopWatching();
            stopExpiryWatch();
          };
        }
        states.set(socket, state);
        return true;
      },
      onClose: (ctx) => {
        states.get(ctx.extra.socket)?.stopWatching?.();
      },
      onComplete: (ctx, id) => operationFinished(states.get(ctx.extra.socket), id),
      onError: (ctx, id) => operationFinished(states.get(ctx.extra.socket), id),
      onSubscribe: async (ctx, id, payload) => {
        const { request } = ctx.extra;
        states.get(ctx.extra.socket)?.operations.add(id);
        const transport: TransportContext = {
          credentials: socketCredentials(request, ctx.connectionParams),
          device: {
            userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
            ipAddress: clientIp(request, options.trustProxy),
          },
        };
        const { schema, execute, subscribe, contextFactory, parse, validate } = options.yoga.getEnveloped({
          transport,
          req: request,
          params: payload,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  return {
    async close() {
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Yoga's enveloped execute/subscribe, handed through `rootValue` as Yoga's guide does. */
interface EnvelopedRoot {
  execute(args: ExecutionArgs): OperationResult;
  subscribe(args: ExecutionArgs): OperationResult;
}
