import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PubSub } from '@graphql-yoga/subscription';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { SessionTopics } from '../events/bus.js';
import type { SessionEndWatcher } from '../events/session-end-watcher.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../sessions/clock.js';
import { GatehouseError } from '../sessions/errors.js';
import type { SessionService } from '../sessions/service.js';
import type { DeviceInfo } from '../sessions/types.js';
import { clientIp } from './client-ip.js';
import { useEndSubscriptions } from './end-subscriptions.js';
import type { SessionCookie } from './cookies.js';
import type { ShutdownSignal } from './shutdown-signal.js';
import { documentProtections, useJsonOnlyPosts, withBadUserInputCode } from './protections.js';
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
  sessions: SessionService;
  resolveViewer: ViewerResolver;
  cookie: SessionCookie;
  clock: Clock;
  logger: Logger;
  pubsub: PubSub<SessionTopics>;
  watcher: SessionEndWatcher;
  /** Resolves when the server begins to stop: every subscription then ends. */
  shutdown: ShutdownSignal;
  trustProxy: boolean;
  production: boolean;
  graphiql: boolean;
  introspection: boolean;
  /** Browser origins allowed cross-origin (CORS, with credentials). */
  allowedOrigins: readonly string[];
}

/**
 * graphql-js's own errors (validation, variable coercion) are GraphQLErrors all the way down
 * their `originalError` chain; a thrown Error anywhere in it means something unexpected.
 */
function isRequestError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError === undefined || error.originalError === null || isRequestError(error.originalError);
}

/**
 * Expected failures (GatehouseError) reach the client with their `extensions.code`; anything
 * else is logged and masked, so no stack trace or SQL ever leaks.
 */
function createErrorMasker(logger: Logger, production: boolean) {
  // Yoga's own masker adds the original message and stack when NODE_ENV=development; Gatehouse
  // never does (DESIGN: unexpected errors are masked), so `isDev` is deliberately ignored.
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof GatehouseError) {
      const graphQLError = error instanceof GraphQLError ? error : undefined;
      return new GraphQLError(original.message, {
        nodes: graphQLError?.nodes,
        path: graphQLError?.path,
        extensions: { code: original.code, ...original.details },
      });
    }
    // Errors of the request itself (bad variables, unknown fields) carry no code from graphql-js.
    if (isRequestError(error)) return withBadUserInputCode(error, production);
    logger.error('unexpected error', { error: original });
    return maskError(error, message, false);
  };
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

export function createGatehouseYoga(options: YogaOptions): GatehouseYoga {
  const pendingCookies = new WeakMap<Request, string[]>();
  const queueCookie = (request: Request, value: string) => {
    const list = pendingCookies.get(request);
    if (list) list.push(value);
    else pendingCookies.set(request, [value]);
  };

  return createYoga<ServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: options.graphiql,
    logging: false,
    batching: false,
    // Yoga's default reflects any Origin; with cookies that would let any site read responses.
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !options.allowedOrigins.includes(origin)) return false;
      return {
        origin: [origin],
        credentials: true,
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', 'accept'],
        maxAge: 600,
      };
    },
    maskedErrors: { maskError: createErrorMasker(options.logger, options.production) },
    plugins: [
      useJsonOnlyPosts(),
      ...documentProtections({ introspection: options.introspection, blockFieldSuggestions: options.production }),
      useSessionResponseHeaders(pendingCookies),
      useEndSubscriptions(options.watcher, options.sessions, options.shutdown),
    ],
    // The one context factory: HTTP, SSE and WebSocket operations all authenticate here.
    context: async ({ request, req, transport }): Promise<GraphQLContext> => {
      const shared = { sessions: options.sessions, pubsub: options.pubsub, watcher: options.watcher };
      if (transport) {
        return {
          ...shared,
          viewer: await options.resolveViewer(transport.credentials),
          device: transport.device,
          setSessionCookie: noop,
          clearSessionCookie: noop,
        };
      }
      return {
        ...shared,
        viewer: await options.resolveViewer({
          cookie: request.headers.get('cookie'),
          authorization: request.headers.get('authorization'),
        }),
        device: {
          userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? null,
          ipAddress: clientIp(req, options.trustProxy),
        },
        setSessionCookie: (token, expiresAt) =>
          queueCookie(request, options.cookie.serialize(token, expiresAt, options.clock.now())),
        clearSessionCookie: () => queueCookie(request, options.cookie.clear()),
      };
    },
  });
}
