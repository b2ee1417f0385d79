import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import {
  CloseCode,
  makeServer,
  type ConnectionInitMessage,
  type Context,
  type OperationResult,
  type SubscribePayload,
} from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { ServicePrincipal, ServiceTokens } from '../sessions/service-tokens.js';
import type { DeviceInfo, Viewer } from '../sessions/types.js';
import { clientIp, deviceOf } from './device.js';
import { codeForStatus, rawErrorResponse, type WireErrors } from './errors.js';
import { serveGraphQLWs } from './graphql-ws-adapter.js';
import type { Metrics } from './metrics.js';
import type { OriginCheck } from './origins.js';
import { serviceTokenOf, type CredentialHeaders, type ViewerResolver } from './viewer.js';
import { siteRequestOf, type SiteRequest } from './webauthn-site.js';
import type { GatehouseYoga } from './yoga.js';

/** The close when the session behind a socket ends: like HTTP 403, with the reason in the frame. */
export const SESSION_ENDED_CLOSE_CODE = CloseCode.Forbidden;
/** The close when the service token behind a socket is revoked: as for an ended session. */
const SERVICE_TOKEN_REVOKED_CLOSE_CODE = CloseCode.Forbidden;
/** graphql-ws's "Unauthorized" (fatal to its clients: no retry): a service token it does not know. */
const UNKNOWN_SERVICE_TOKEN_CLOSE_CODE = CloseCode.Unauthorized;
/** WebSocket's own "going away" (RFC 6455): the server is shutting down. */
const GOING_AWAY_CLOSE_CODE = 1001;
/** WebSocket's own "try again later" (RFC 6455): the database cannot be reached. */
const TRY_AGAIN_LATER_CLOSE_CODE = 1013;
/** Largest message accepted, in bytes; GraphQL documents are small. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** A socket that sends no `connection_init` within this time is closed (4408). */
const CONNECTION_INIT_WAIT_TIMEOUT_MS = 3_000;
/** How long a socket whose session ended may take to answer operations already under way. */
const CLOSE_GRACE_MS = 1_000;

export interface WebSocketOptions {
  server: Server;
  yoga: GatehouseYoga;
  resolveViewer: ViewerResolver;
  /** Authenticates a socket whose `connectionParams` carry a service token, and tells of its revocation. */
  serviceTokens: Pick<ServiceTokens, 'authenticate' | 'watch'>;
  watcher: SessionEndWatcher;
  /** Undefined where metrics are not collected (production without METRICS_TOKEN). */
  metrics: Metrics | undefined;
  errors: WireErrors;
  /** Whether a browser's Origin may open a socket (logs refusals). */
  checkOrigin: OriginCheck;
  trustProxy: boolean;
  /**
   * How often every socket is pinged; one that has not answered by the next ping is dropped.
   * Default 12 000 ms (graphql-ws's own); tests shorten it.
   */
  keepAliveMs?: number;
}

/**
 * A browser always sends `Origin` on a WebSocket upgrade, and cookies ride along even
 * cross-site; so an upgrade from a foreign page is refused (cross-site WebSocket hijacking).
 * Non-browser clients send no Origin and are allowed: they have no ambient cookies to abuse.
 */
function originAllowed(req: IncomingMessage, options: WebSocketOptions): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return options.checkOrigin({ origin, host: req.headers.host, ip: clientIp(req, options.trustProxy) }, 'websocket');
}

/** Answers an upgrade it will not make with the JSON error body of every refusal, and closes. */
function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorResponse(status, codeForStatus(status), message, headers));
}

/**
 * `ws` refuses a malformed handshake (another method, no key, an unknown version) with a
 * text/html body; given a `wsClientError` listener it leaves the answer to us. Its messages
 * say which: the statuses and headers are the ones it would have sent.
 */
function refuseMalformedUpgrade(error: Error, socket: Duplex): void {
  if (error.message === 'Invalid HTTP method') {
    return refuseUpgrade(socket, 405, 'A WebSocket upgrade is a GET', { Allow: 'GET' });
  }
  const version: Record<string, string> = error.message.includes('Sec-WebSocket-Version')
    ? { 'Sec-WebSocket-Version': '13, 8' }
    : {};
  refuseUpgrade(socket, 400, `Not a valid WebSocket upgrade: ${error.message}`, version);
}

/**
 * What a socket keeps of its upgrade request, for as long as it is open: the cookie, the device
 * and the site it was sent to (for passkeys), not the request itself (its headers, buffers and
 * stream state).
 */
interface SocketExtra {
  socket: WebSocket;
  cookie: string | undefined;
  device: DeviceInfo;
  site: SiteRequest;
}

/** Credentials of a socket: the upgrade request's cookie, or a bearer token in `connectionParams`. */
function socketCredentials(
  extra: SocketExtra,
  connectionParams: Record<string, unknown> | undefined,
): CredentialHeaders {
  const param = connectionParams?.authorization ?? connectionParams?.Authorization;
  const token = connectionParams?.token;
  const authorization = typeof param === 'string' ? param : typeof token === 'string' ? `Bearer ${token}` : undefined;
  return { cookie: extra.cookie, authorization };
}

interface SocketState {
  viewer: Viewer | null;
  /** The service whose token signed the socket in; its every operation is authenticated again. */
  service: ServicePrincipal | null;
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

type SocketContext = Context<ConnectionInitMessage['payload'], SocketExtra>;

/** Yoga's enveloped execute/subscribe, handed through `rootValue` as Yoga's guide does. */
interface EnvelopedRoot {
  execute(args: ExecutionArgs): OperationResult;
  subscribe(args: ExecutionArgs): OperationResult;
}

/**
 * One operation on a socket, through Yoga's envelop: the same schema, context factory, error
 * masking and document protections as over HTTP.
 */
async function prepareOperation(
  options: WebSocketOptions,
  ctx: SocketContext,
  payload: SubscribePayload,
  state: SocketState | undefined,
) {
  const { device, site } = ctx.extra;
  const credentials = socketCredentials(ctx.extra, ctx.connectionParams);
  // The upgrade proved the session's device (DBSC) when it signed the socket in; the bound
  // cookie it carried rotates away within minutes, while the socket lives on (watched: it closes
  // when the session ends). A socket that connected anonymously proves nothing.
  credentials.deviceProvenFor = state?.viewer?.session.id;
  const transport = { credentials, device, site };
  const enveloped = options.yoga.getEnveloped({ transport, params: payload });
  let document;
  try {
    document = enveloped.parse(payload.query);
  } catch (error) {
    return [error as GraphQLError];
  }
  const errors = enveloped.validate(enveloped.schema, document);
  if (errors.length > 0) return errors;
  const rootValue: EnvelopedRoot = { execute: enveloped.execute, subscribe: enveloped.subscribe };
  let contextValue;
  try {
    contextValue = await enveloped.contextFactory();
  } catch (error) {
    return [options.errors.forSocket(error)];
  }
  return {
    schema: enveloped.schema,
    document,
    operationName: payload.operationName ?? null,
    variableValues: payload.variables ?? null,
    contextValue,
    rootValue,
  };
}

/**
 * Authenticates a new socket (cookie on the upgrade, or a bearer token in `connectionParams`)
 * and, when a session signed it in, watches that session to close the socket when it ends; when
 * a service token did, watches that token to close the socket when it is revoked.
 */
async function connectSocket(options: WebSocketOptions, states: WeakMap<WebSocket, SocketState>, ctx: SocketContext) {
  const { socket } = ctx.extra;
  const state: SocketState = { viewer: null, service: null, operations: new Set() };
  const credentials = socketCredentials(ctx.extra, ctx.connectionParams);
  try {
    const serviceToken = serviceTokenOf(credentials);
    if (serviceToken !== undefined) {
      state.service = await options.serviceTokens.authenticate(serviceToken);
      // Never taken for an anonymous socket: a service that lost its token must hear so.
      if (!state.service) {
        socket.close(UNKNOWN_SERVICE_TOKEN_CLOSE_CODE, 'Unauthorized: unknown or revoked service token');
        return false;
      }
    } else {
      state.viewer = await options.resolveViewer(credentials);
    }
  } catch (error) {
    if (!options.errors.isOutage(error)) throw error;
    socket.close(TRY_AGAIN_LATER_CLOSE_CODE, 'Service unavailable: retry shortly');
    return false;
  }
  if (state.viewer) {
    state.stopWatching = options.watcher.watch(state.viewer.session.id, {
      close: (event) =>
        closeWhenIdle(socket, state, SESSION_ENDED_CLOSE_CODE, `Session ended: ${event.reason ?? 'ENDED'}`),
    });
  } else if (state.service) {
    // Unproven: the socket's requests are not authenticated again, so the service must reconnect.
    state.stopWatching = options.serviceTokens.watch(state.service.tokenId, {
      revoked: () => closeWhenIdle(socket, state, SERVICE_TOKEN_REVOKED_CLOSE_CODE, 'Service token revoked'),
      unproven: () => closeWhenIdle(socket, state, TRY_AGAIN_LATER_CLOSE_CODE, 'Service token unproven: reconnect'),
    });
  }
  states.set(socket, state);
  return true;
}

/**
 * Counts a socket open until it closes. A function of its own so that the listener's closure
 * holds only the metrics: one made inside the upgrade handler would keep that handler's scope
 * (the upgrade request, its headers, the raw socket) alive as long as the socket.
 */
function countSocket(ws: WebSocket, metrics: Metrics): void {
  metrics.socketOpened();
  ws.once('close', () => metrics.socketClosed());
}

/**
 * GraphQL over WebSocket (`graphql-transport-ws`) on the HTTP server's `/graphql` path. A socket
 * signed in by a session is closed with {@link SESSION_ENDED_CLOSE_CODE} when that session ends.
 */
export function attachWebSocketServer(options: WebSocketOptions): { close(): Promise<void> } {
  const states = new WeakMap<WebSocket, SocketState>();
  const protocol = makeServer<ConnectionInitMessage['payload'], SocketExtra>({
    connectionInitWaitTimeout: CONNECTION_INIT_WAIT_TIMEOUT_MS,
    execute: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).execute(args),
    subscribe: (args: ExecutionArgs) => (args.rootValue as EnvelopedRoot).subscribe(args),
    onConnect: (ctx) => connectSocket(options, states, ctx),
    onClose: (ctx) => states.get(ctx.extra.socket)?.stopWatching?.(),
    onComplete: (ctx, id) => operationFinished(states.get(ctx.extra.socket), id),
    onError: (ctx, id) => operationFinished(states.get(ctx.extra.socket), id),
    onSubscribe: (ctx, id, payload) => {
      const state = states.get(ctx.extra.socket);
      state?.operations.add(id);
      return prepareOperation(options, ctx, payload, state);
    },
  });
  const { wss, close } = serveGraphQLWs(protocol, {
    maxPayload: MAX_PAYLOAD_BYTES,
    keepAliveMs: options.keepAliveMs,
    extraOf: (socket, request) => ({
      socket,
      cookie: request.headers.cookie,
      device: deviceOf(request, options.trustProxy),
      site: siteRequestOf(request, options.trustProxy),
    }),
  });
  wss.on('wsClientError', refuseMalformedUpgrade);
  options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.split('?', 1)[0] !== '/graphql') {
      return refuseUpgrade(socket, 404, 'Not found: WebSockets are at /graphql');
    }
    if (!originAllowed(req, options)) {
      return refuseUpgrade(socket, 403, 'This origin is not allowed: it is not in ALLOWED_ORIGINS');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (options.metrics) countSocket(ws, options.metrics);
      wss.emit('connection', ws, req);
    });
  });
  return { close: () => close(GOING_AWAY_CLOSE_CODE, 'Server shutting down') };
}
