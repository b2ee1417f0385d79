import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaInitialContext, type YogaServerInstance } from 'graphql-yoga';
import type { SessionPubSub } from '../events/topics.js';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { Clock } from '../sessions/clock.js';
import type { SessionServices } from '../sessions/services.js';
import type { DeviceInfo } from '../sessions/types.js';
import type { SessionCookie } from './cookies.js';
import type { Access } from '../config.js';
import { clientIp, deviceOf } from './device.js';
import { useEndSubscriptions } from './end-subscriptions.js';
import type { WireErrors } from './errors.js';
import type { OriginCheck } from './origins.js';
import { documentProtections, useJsonOnlyPosts } from './protections.js';
import type { ShutdownSignal } from './shutdown-signal.js';
import type { CredentialHeaders, ViewerResolver } from './viewer.js';

/** What a non-HTTP transport (the WebSocket server) hands the context factory instead of a Request. */
export interface TransportContext {
  credentials: CredentialHeaders;
  device: DeviceInfo;
}

export interface ServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
  /** Set by the WebSocket server; absent for HTTP and SSE. */
  transport?: TransportContext;
}

export type GatehouseYoga = YogaServerInstance<ServerContext, GraphQLContext>;

export interface YogaOptions {
  schema: GraphQLSchema;
  services: SessionServices;
  resolveViewer: ViewerResolver;
  cookie: SessionCookie;
  clock: Clock;
  /** How failures reach clients: the error masker. */
  errors: WireErrors;
  pubsub: SessionPubSub;
  watcher: SessionEndWatcher;
  /** Resolves when the server begins to stop: every subscription then ends. */
  shutdown: ShutdownSignal;
  trustProxy: boolean;
  production: boolean;
  /** Who gets introspection answered (`GRAPHQL_INTROSPECTION`). */
  introspection: Access;
  /** Browser origins allowed cross-origin (CORS, with credentials). */
  allowedOrigins: readonly string[];
  /** Logs the refusal of any other foreign origin. */
  checkOrigin: OriginCheck;
}

/**
 * Responses built by resolvers need headers set (the cookie). Pending Set-Cookie values are
 * kept per request and written by the response hook.
 */
function useSessionResponseHeaders(pendingCookies: WeakMap<Request, string[]>): Plugin {
  return {
    onResponse({ request, response }) {
      // GraphQL responses carry session data; no cache may keep them.
      response.headers.set('Cache-Control', 'no-store');
      for (const cookie of pendingCookies.get(request) ?? []) response.headers.append('Set-Cookie', cookie);
    },
  };
}

const noop = () => {};

/**
 * The one context factory: HTTP, SSE and WebSocket operations all authenticate here. Cookies a
 * resolver sets are queued in `pendingCookies` for {@link useSessionResponseHeaders}.
 */
function createContextFactory(options: YogaOptions, pendingCookies: WeakMap<Request, string[]>) {
  const { services, pubsub, watcher, cookie, clock } = options;
  const queueCookie = (request: Request, value: string) => {
    const list = pendingCookies.get(request);
    if (list) list.push(value);
    else pendingCookies.set(request, [value]);
  };
  return async ({ request, req, transport }: YogaInitialContext & ServerContext): Promise<GraphQLContext> => {
    if (transport) {
      const viewer = await options.resolveViewer(transport.credentials);
      const { device } = transport;
      return { services, pubsub, watcher, viewer, device, setSessionCookie: noop, clearSessionCookie: noop };
    }
    const headers = request.headers;
    return {
      services,
      pubsub,
      watcher,
      viewer: await options.resolveViewer({
        cookie: headers.get('cookie'),
        authorization: headers.get('authorization'),
      }),
      device: deviceOf(req, options.trustProxy),
      setSessionCookie: (token, expiresAt) => queueCookie(request, cookie.serialize(token, expiresAt, clock.now())),
      clearSessionCookie: () => queueCookie(request, cookie.clear()),
    };
  };
}

/**
 * Yoga's default reflects any Origin; with cookies that would let any site read responses.
 * Only listed origins get CORS answers; the server's own needs none.
 */
function corsFor({ allowedOrigins, checkOrigin, trustProxy }: YogaOptions) {
  return (request: Request, server?: unknown) => {
    const origin = request.headers.get('origin');
    if (origin === null) return false;
    if (!allowedOrigins.includes(origin)) {
      const req = (server as ServerContext | undefined)?.req;
      const ip = req ? clientIp(req, trustProxy) : null;
      checkOrigin({ origin, host: request.headers.get('host'), ip }, 'cors');
      return false;
    }
    return {
      origin: [origin],
      credentials: true,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'authorization', 'accept'],
      maxAge: 600,
    };
  };
}

export function createGatehouseYoga(options: YogaOptions): GatehouseYoga {
  const pendingCookies = new WeakMap<Request, string[]>();
  return createYoga<ServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // Served by Gatehouse itself, from its own build and under its policy (console.ts).
    graphiql: false,
    logging: false,
    batching: false,
    cors: corsFor(options),
    maskedErrors: { maskError: options.errors.maskError },
    plugins: [
      useJsonOnlyPosts(),
      ...documentProtections({ introspection: options.introspection, blockFieldSuggestions: options.production }),
      useSessionResponseHeaders(pendingCookies),
      useEndSubscriptions(options.watcher, options.shutdown),
    ],
    context: createContextFactory(options, pendingCookies),
  });
}
