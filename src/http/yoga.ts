import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../sessions/clock.js';
import { GatehouseError } from '../sessions/errors.js';
import type { SessionService } from '../sessions/service.js';
import { clientIp } from './client-ip.js';
import type { SessionCookie } from './cookies.js';
import type { ViewerResolver } from './viewer.js';

export interface NodeServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

export type GatehouseYoga = YogaServerInstance<NodeServerContext, GraphQLContext>;

export interface YogaOptions {
  schema: GraphQLSchema;
  sessions: SessionService;
  resolveViewer: ViewerResolver;
  cookie: SessionCookie;
  clock: Clock;
  logger: Logger;
  trustProxy: boolean;
  production: boolean;
}

/**
 * Expected failures (GatehouseError) reach the client with their `extensions.code`; anything
 * else is logged and masked, so no stack trace or SQL ever leaks.
 */
function createErrorMasker(logger: Logger) {
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
    if (error instanceof GraphQLError && !error.originalError) return error;
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

export function createGatehouseYoga(options: YogaOptions): GatehouseYoga {
  const pendingCookies = new WeakMap<Request, string[]>();
  const queueCookie = (request: Request, value: string) => {
    const list = pendingCookies.get(request);
    if (list) list.push(value);
    else pendingCookies.set(request, [value]);
  };

  return createYoga<NodeServerContext, GraphQLContext>({
    schema: options.schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: !options.production,
    logging: false,
    maskedErrors: { maskError: createErrorMasker(options.logger) },
    plugins: [useSessionResponseHeaders(pendingCookies)],
    context: async ({ request, req }): Promise<GraphQLContext> => ({
      viewer: await options.resolveViewer({
        cookie: request.headers.get('cookie'),
        authorization: request.headers.get('authorization'),
      }),
      sessions: options.sessions,
      device: {
        userAgent: request.headers.get('user-agent')?.slice(0, 512) ?? null,
        ipAddress: clientIp(req, options.trustProxy),
      },
      setSessionCookie: (token, expiresAt) =>
        queueCookie(request, options.cookie.serialize(token, expiresAt, options.clock.now())),
      clearSessionCookie: () => queueCookie(request, options.cookie.clear()),
    }),
  });
}
